"""Metabolic response on FDG-PET/CT: PERCIST 1.0 and EORTC 1999 (docs/rules/metabolic.md).

Reads the optional registry tables ``pet_assessments`` and ``pet_lesions``.
"""

from sirtstats.metabolic.eortc import derive_eortc_response
from sirtstats.metabolic.percist import (
    derive_best_metabolic_response,
    derive_percist_response,
    is_measurable,
)
from sirtstats.metabolic.quality import check_pet_quality

__all__ = [
    "check_pet_quality",
    "derive_best_metabolic_response",
    "derive_eortc_response",
    "derive_percist_response",
    "is_measurable",
]
