"""Comparative analyses of a two-level exposure (issue #16 items 1-5).

Propensity scores (:mod:`.propensity`), IPTW / overlap weights and caliper matching
(:mod:`.weights`, :mod:`.matching`), balance (:mod:`.balance`), weighted outcomes
(:mod:`.adjusted`), the E-value (:mod:`.sensitivity`) subgroup effects with interaction
tests (:mod:`.subgroups`) and multi-centre rates, funnel limits and centre Cox
(:mod:`.centres`).
"""

from .adjusted import weighted_cox, weighted_km, weighted_km_median, weighted_rate_difference
from .analysis import (
    ESTIMATE_LABELS,
    ComparativeResult,
    balance_labels,
    comparative_frame,
    comparison_metrics,
    competing_progression,
    finegray_by_exposure,
    numbers_at_risk,
    run_comparison,
)
from .balance import balance_table, smd
from .centres import centre_cox, centre_rates, centre_summary, funnel_limits
from .matching import match_nearest
from .propensity import PropensityResult, fit_propensity
from .sensitivity import compare_estimates, estimates_table, evalue_hr
from .subgroups import subgroup_response, subgroup_survival
from .weights import compute_weights, kish_ess

__all__ = [
    "ComparativeResult",
    "ESTIMATE_LABELS",
    "PropensityResult",
    "balance_labels",
    "balance_table",
    "centre_cox",
    "centre_rates",
    "centre_summary",
    "comparative_frame",
    "compare_estimates",
    "comparison_metrics",
    "competing_progression",
    "compute_weights",
    "estimates_table",
    "finegray_by_exposure",
    "evalue_hr",
    "fit_propensity",
    "funnel_limits",
    "kish_ess",
    "match_nearest",
    "numbers_at_risk",
    "run_comparison",
    "smd",
    "subgroup_response",
    "subgroup_survival",
    "weighted_cox",
    "weighted_km",
    "weighted_km_median",
    "weighted_rate_difference",
]
