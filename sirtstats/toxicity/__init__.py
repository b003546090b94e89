"""Adverse events after SIRT: treatment-emergent window, worst grades, incidence and shift tables,
liver function and REILD, and early mortality: the public entry point.

Everything is importable from here (``from sirtstats.toxicity import summarise_ae_table``); the
code lives in ``emergent`` (treatment-emergent window and flags), ``ae_tables`` (worst grade,
incidence tables by term / SOC / grade), ``labs`` (lab-derived adverse events, shift tables, lab
trajectories), ``liver`` (ALBI / Child-Pugh over time, REILD) and ``mortality`` (30 / 90-day
mortality).

Reported adverse events (``adverse_events`` table, graded by CTCAE v5.0) are flagged
treatment-emergent when their onset falls in a window after SIRT (default: from the first
session to 90 days after the last one; the pharmaverse/admiral ADAE convention is the same rule
with a 30-day window). Lab abnormalities graded by :mod:`sirtstats.ctcae` become lab-derived
adverse events when the worst post-baseline grade in the window is worse than the baseline grade
(T4.1, docs/rules/toxicity.md). Incidence tables count patients (not events) by worst grade, as
n (%) of the population N, by term or system organ class and by group. Early mortality is the
share of patients dying within 30 / 90 days of the first SIRT, with Clopper-Pearson exact CIs.

Criteria versions: CTCAE v5.0 (NCI 2017); treatment-emergent flag as admiral
``derive_var_trtemfl`` (``TRTSDT <= ASTDT <= TRTEDT + end_window``).
"""

from __future__ import annotations

from sirtstats.toxicity._common import ANY_AE_LABEL, NO_SOC_LABEL, TOTAL_LABEL
from sirtstats.toxicity.ae_tables import (
    CTCAE_GRADES,
    format_ae_table,
    pivot_ae_table,
    summarise_ae_grade_counts,
    summarise_ae_grade_table,
    summarise_ae_table,
    summarise_toxicity_metrics,
    summarise_worst_grade,
)
from sirtstats.toxicity.emergent import (
    DEFAULT_TE_WINDOW_DAYS,
    derive_first_worst_flag,
    derive_treatment_emergent,
    filter_treatment_emergent,
)
from sirtstats.toxicity.labs import (
    LAB_TRAJECTORY_BINS,
    filter_lab_adverse_events,
    summarise_lab_trajectories,
    summarise_lab_vs_reported,
    summarise_shift_table,
    summarise_worst_lab_grades,
)
from sirtstats.toxicity.liver import (
    CHILD_PUGH_AE_MAP,
    LIVER_TIMEPOINTS,
    REILD_ASCITES_TERMS,
    REILD_BILIARY_TERMS,
    REILD_DEFINITIONS,
    derive_liver_function_change,
    derive_liver_function_timepoints,
    derive_reild,
    filter_reild_candidates,
    summarise_liver_function_change,
)
from sirtstats.toxicity.mortality import summarise_early_mortality

__all__ = [
    "ANY_AE_LABEL",
    "CHILD_PUGH_AE_MAP",
    "CTCAE_GRADES",
    "DEFAULT_TE_WINDOW_DAYS",
    "LAB_TRAJECTORY_BINS",
    "LIVER_TIMEPOINTS",
    "NO_SOC_LABEL",
    "REILD_ASCITES_TERMS",
    "REILD_BILIARY_TERMS",
    "REILD_DEFINITIONS",
    "TOTAL_LABEL",
    "derive_first_worst_flag",
    "derive_liver_function_change",
    "derive_liver_function_timepoints",
    "derive_reild",
    "derive_treatment_emergent",
    "filter_lab_adverse_events",
    "filter_reild_candidates",
    "filter_treatment_emergent",
    "format_ae_table",
    "pivot_ae_table",
    "summarise_ae_grade_counts",
    "summarise_ae_grade_table",
    "summarise_ae_table",
    "summarise_early_mortality",
    "summarise_lab_trajectories",
    "summarise_lab_vs_reported",
    "summarise_liver_function_change",
    "summarise_shift_table",
    "summarise_toxicity_metrics",
    "summarise_worst_grade",
    "summarise_worst_lab_grades",
]
