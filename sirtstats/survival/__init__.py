"""Survival analysis with R ``survival`` conventions: the public entry point.

Everything is importable from here (``from sirtstats.survival import summarise_km``); the code
lives in ``km`` (Kaplan–Meier, median, follow-up, numbers at risk),
``logrank`` (log-rank, stratified, pairwise), ``cox`` (Cox, PH test),
``concordance`` (Harrell's C with R's standard error and pair counts),
``competing_risks`` (Aalen–Johansen, Gray's test), ``finegray`` (Fine–Gray
subdistribution hazards as R ``finegray`` + ``coxph``), ``rmst`` (restricted mean survival time) and
``landmark`` (guarantee-time bias: landmark, time-dependent Cox).

Conventions (R6 in docs/rules/statistics.md, and docs/rules/decisions.md): KM CI transform
``log-log`` by default, ``log`` (R's default) and ``plain`` selectable; R's median rule (plateau
midpoint, NA = not reached); Efron ties; PH test as R ≥ 3.0 ``cox.zph`` with the ``km``
transform; RMST with the Greenwood plug-in variance; Aalen–Johansen without jitter.

Note for test modules: ``test_logrank`` and ``test_gray`` are library functions whose names
start with ``test_``; they carry ``__test__ = False`` so pytest does not collect them.
"""

from __future__ import annotations

from sirtstats.survival.competing_risks import compute_cif_curve, summarise_cif, test_gray
from sirtstats.survival.concordance import ConcordanceResult, compute_concordance
from sirtstats.survival.cox import CoxResult, fit_cox, fit_cox_univariable
from sirtstats.survival.finegray import (
    compare_finegray_cause_specific,
    finegray_data,
    fit_finegray,
)
from sirtstats.survival.km import (
    CONF_TYPES,
    compute_km_curve,
    compute_km_metrics,
    compute_median_followup,
    compute_number_at_risk,
    summarise_km,
)
from sirtstats.survival.landmark import (
    check_guarantee_time,
    derive_counting_process,
    derive_landmark,
    fit_time_dependent_cox,
    summarise_landmark,
)
from sirtstats.survival.logrank import LogrankResult, test_logrank
from sirtstats.survival.rmst import compare_rmst, compute_rmst

__all__ = [
    "CONF_TYPES",
    "ConcordanceResult",
    "CoxResult",
    "LogrankResult",
    "check_guarantee_time",
    "compare_finegray_cause_specific",
    "compare_rmst",
    "compute_cif_curve",
    "compute_concordance",
    "compute_km_curve",
    "compute_km_metrics",
    "compute_median_followup",
    "compute_number_at_risk",
    "compute_rmst",
    "derive_counting_process",
    "derive_landmark",
    "finegray_data",
    "fit_cox",
    "fit_cox_univariable",
    "fit_finegray",
    "fit_time_dependent_cox",
    "summarise_cif",
    "summarise_km",
    "summarise_landmark",
    "test_gray",
    "test_logrank",
]
