"""Dose-response statistics: absorbed dose against tumour response or toxicity.

Lesion-level analyses have several lesions per patient, so every confidence interval here
respects that clustering: the logistic model is fitted by GEE with an exchangeable working
correlation and robust (sandwich) standard errors (Liang & Zeger, Biometrika 1986), or by
maximum likelihood with a cluster (patient) bootstrap; the ROC AUC, the Youden-optimal
threshold and above/below-threshold response rates get cluster-bootstrap percentile CIs
(Davison & Hinkley 1997, section 3.8: resampling whole clusters). Every random step takes a
``seed`` and uses its own ``numpy.random.Generator``.

Model: ``logit P(response) = b0 + b1 * dose``; the dose giving a 50 % response probability is
``D50 = -b0 / b1`` (CI by the delta method for GEE, by bootstrap percentiles otherwise); the
demo registry's truth is written ``logit P = slope * (dose - d50)``, i.e. ``b1 = slope`` and
``b0 = -slope * d50``.

Response definitions follow RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009) and mRECIST
(Lencioni & Llovet, Semin Liver Dis 2010) as derived by :mod:`sirtstats.response`; literature
thresholds (205 Gy glass HCC, DOSISPHERE-01; 100-120 Gy resin) are in
:data:`sirtstats.dosimetry.LITERATURE_DOSE_THRESHOLDS`.

Absorbed doses of different devices (Y-90 glass, Y-90 resin, Ho-166 PLLA) are not
interchangeable: :func:`summarise_dose_response_by_device` analyses each device and each
criterion on its own rows and compares a device with its own published threshold only.
"""

from __future__ import annotations

from sirtstats.dose_response._assembly import (
    LESION_DOSE_RESPONSE_COLUMNS,
    TOXICITY_OUTCOME_COLUMNS,
    derive_lesion_dose_response,
    derive_patient_dose_outcome,
    derive_toxicity_outcomes,
)
from sirtstats.dose_response._by_device import (
    DEVICE_DOSE_RESPONSE_COLUMNS,
    DEVICE_THRESHOLD_COLUMNS,
    MIN_EVENTS_PER_DEVICE,
    MIN_LESIONS_PER_DEVICE,
    derive_lesion_dose_response_by_device,
    derive_toxicity_dose_outcomes,
    select_device_thresholds,
    summarise_dose_response_by_device,
)
from sirtstats.dose_response._common import (
    DEFAULT_SEED,
    MIN_CLUSTERS,
    MIN_EVENTS,
    RESPONDER_CODES,
)
from sirtstats.dose_response._device_curves import (
    compute_dose_response_curves_by_device,
    compute_roc_curves_by_device,
    summarise_device_metrics,
)
from sirtstats.dose_response._device_survival import (
    DEVICE_LOGRANK_COLUMNS,
    DeviceDoseGroupSurvival,
    derive_patient_dose_by_device,
    summarise_survival_by_device_dose_group,
)
from sirtstats.dose_response._logistic import (
    DoseResponseFit,
    compute_dose_response_curve,
    fit_dose_response,
)
from sirtstats.dose_response._roc import (
    RocResult,
    YoudenThreshold,
    compute_roc,
    compute_youden_threshold,
)
from sirtstats.dose_response._summaries import (
    THRESHOLD_SUMMARY_COLUMNS,
    DoseGroupSurvival,
    derive_dose_group,
    summarise_response_by_threshold,
    summarise_survival_by_dose_group,
)

__all__ = [
    "DEFAULT_SEED",
    "DEVICE_DOSE_RESPONSE_COLUMNS",
    "DEVICE_LOGRANK_COLUMNS",
    "DEVICE_THRESHOLD_COLUMNS",
    "DeviceDoseGroupSurvival",
    "derive_patient_dose_by_device",
    "derive_toxicity_dose_outcomes",
    "summarise_survival_by_device_dose_group",
    "MIN_EVENTS_PER_DEVICE",
    "MIN_LESIONS_PER_DEVICE",
    "compute_dose_response_curves_by_device",
    "compute_roc_curves_by_device",
    "derive_lesion_dose_response_by_device",
    "select_device_thresholds",
    "summarise_device_metrics",
    "summarise_dose_response_by_device",
    "DoseGroupSurvival",
    "DoseResponseFit",
    "LESION_DOSE_RESPONSE_COLUMNS",
    "MIN_CLUSTERS",
    "MIN_EVENTS",
    "RESPONDER_CODES",
    "RocResult",
    "THRESHOLD_SUMMARY_COLUMNS",
    "TOXICITY_OUTCOME_COLUMNS",
    "YoudenThreshold",
    "compute_dose_response_curve",
    "compute_roc",
    "compute_youden_threshold",
    "derive_dose_group",
    "derive_lesion_dose_response",
    "derive_patient_dose_outcome",
    "derive_toxicity_outcomes",
    "fit_dose_response",
    "summarise_response_by_threshold",
    "summarise_survival_by_dose_group",
]
