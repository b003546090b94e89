"""Dosimetry for hepatic radioembolization: MIRD, partition model, BSA method, lung dose, decay.

Implements the formulas of docs/rules/dosimetry.md (and the test
vectors):

* MIRD single-compartment mean absorbed dose, forward and inverse (TheraSphere package insert
  form ``D = K * A * (1 - LSF) / m``);
* the three-compartment partition model (Ho et al., Eur J Nucl Med 1996), forward (doses for an
  activity) and inverse (activity for a normal-liver or tumour target dose);
* the resin BSA method with the lung-shunt reduction table of the SIR-Spheres IFU;
* lung dose with the 30 Gy single-treatment / 50 Gy cumulative limits;
* physical decay correction between vial calibration and administration time.

The ``compute_*`` functions are vectorised: they take scalars, arrays or Series and return the
same shape (a Series keeps its index). The ``derive_*`` functions take registry tables
(``treatments``, ``workups``) and return new tidy frames; they never modify their inputs.
Impossible physical inputs (negative or zero mass, LSF outside 0-100 %, negative activity or
dose) raise :class:`~sirtstats.exceptions.SirtDataError` (a ``ValueError``) naming the argument.

Every constant is defined once (in ``_physics``) with its source; where sources disagree the
alternatives are named options (M7.1, docs/rules/dosimetry.md). The code lives in ``_physics``
(constants, decay, MIRD, lung dose), ``_partition`` (partition model), ``_bsa`` (resin BSA
method) and ``_registry`` (the per-session tables of a registry).
"""

from __future__ import annotations

from sirtstats.dosimetry._bsa import compute_bsa_activity, compute_resin_lsf_factor
from sirtstats.dosimetry._partition import compute_partition_activity, compute_partition_doses
from sirtstats.dosimetry._physics import (
    BSA_METHOD_OFFSET_GBQ,
    DEVICE_ISOTOPE,
    HALF_LIFE_H,
    HO166_GY_KG_PER_GBQ,
    LITERATURE_DOSE_THRESHOLDS,
    LUNG_DOSE_LIMIT_CUMULATIVE_GY,
    LUNG_DOSE_LIMIT_SINGLE_GY,
    LUNG_MASS_KG,
    RESIN_LSF_REDUCTION,
    TISSUE_DENSITY_G_ML,
    Y90_DOSE_FACTORS,
    Y90_GY_KG_PER_GBQ,
    compute_decay_factor,
    compute_decayed_activity,
    compute_dose_factor,
    compute_lung_dose,
    compute_max_activity_for_lung_limit,
    compute_mird_activity,
    compute_mird_dose,
    compute_tissue_mass,
    load_dose_thresholds,
)
from sirtstats.dosimetry._registry import (
    CROSSCHECK_COLUMNS,
    CROSSCHECK_RULES,
    DEVICE_SUMMARY_QUANTITIES,
    INJECTION_DOSE_COLUMNS,
    LUNG_DOSE_COLUMNS,
    derive_dose_crosscheck,
    derive_injection_doses,
    derive_lung_dose,
    derive_patient_dose,
    summarise_dose_by_device,
)

__all__ = [
    "BSA_METHOD_OFFSET_GBQ",
    "CROSSCHECK_COLUMNS",
    "CROSSCHECK_RULES",
    "DEVICE_ISOTOPE",
    "DEVICE_SUMMARY_QUANTITIES",
    "HALF_LIFE_H",
    "HO166_GY_KG_PER_GBQ",
    "INJECTION_DOSE_COLUMNS",
    "LITERATURE_DOSE_THRESHOLDS",
    "LUNG_DOSE_COLUMNS",
    "LUNG_DOSE_LIMIT_CUMULATIVE_GY",
    "LUNG_DOSE_LIMIT_SINGLE_GY",
    "LUNG_MASS_KG",
    "RESIN_LSF_REDUCTION",
    "TISSUE_DENSITY_G_ML",
    "Y90_DOSE_FACTORS",
    "Y90_GY_KG_PER_GBQ",
    "compute_bsa_activity",
    "compute_decay_factor",
    "compute_decayed_activity",
    "compute_dose_factor",
    "compute_lung_dose",
    "compute_max_activity_for_lung_limit",
    "compute_mird_activity",
    "compute_mird_dose",
    "compute_partition_activity",
    "compute_partition_doses",
    "compute_resin_lsf_factor",
    "compute_tissue_mass",
    "derive_dose_crosscheck",
    "derive_injection_doses",
    "derive_lung_dose",
    "derive_patient_dose",
    "load_dose_thresholds",
    "summarise_dose_by_device",
]
