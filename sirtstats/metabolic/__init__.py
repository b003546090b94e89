"""Metabolic response on FDG-PET/CT: PERCIST 1.0 and EORTC 1999 (docs/rules/metabolic.md).

Reads the optional registry tables ``pet_assessments`` and ``pet_lesions``.
"""

from sirtstats.metabolic.endpoints import METABOLIC_ENDPOINTS, derive_metabolic_endpoints
from sirtstats.metabolic.eortc import derive_eortc_response
from sirtstats.metabolic.percist import (
    derive_best_metabolic_response,
    derive_percist_response,
    is_measurable,
)
from sirtstats.metabolic.quality import check_pet_quality
from sirtstats.metabolic.summaries import (
    derive_best_sul_change,
    derive_percist_baseline,
    summarise_metabolic_agreement,
    summarise_metabolic_distribution,
    summarise_metabolic_response_rates,
    summarise_pet_quality,
)

__all__ = [
    "METABOLIC_ENDPOINTS",
    "check_pet_quality",
    "derive_best_metabolic_response",
    "derive_best_sul_change",
    "derive_eortc_response",
    "derive_metabolic_endpoints",
    "derive_percist_baseline",
    "derive_percist_response",
    "is_measurable",
    "summarise_metabolic_agreement",
    "summarise_metabolic_distribution",
    "summarise_metabolic_response_rates",
    "summarise_pet_quality",
]
