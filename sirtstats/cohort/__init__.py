"""Cohort selection, baseline derivations and attrition (CONSORT) counts.

One row per patient: :func:`derive_first_sirt` summarises the SIRT sessions,
:func:`derive_baseline` joins patients, the baseline assessment and the first SIRT and derives
age, BSA, ALBI, Child-Pugh, MELD and tumour burden; :func:`select_cohort` applies the
eligibility filters in a fixed order and returns the included patients with a flow table in
which every registry patient ends either included or excluded with one reason.

Implements: ALBI (Johnson et al., J Clin Oncol 2015), Child-Pugh (Pugh et al., Br J Surg 1973;
INR, else French prothrombin ratio "TP"), MELD (UNOS/OPTN form, Kamath et al., Hepatology
2001), DuBois BSA (DuBois & DuBois, Arch Intern Med 1916), as in docs/rules/toxicity.md
and Appendix A; baseline imaging window of RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009,
at most 4 weeks before treatment start; R1.1 (docs/rules/response.md)).

The code lives in private submodules, one job each: ``_first_sirt`` (SIRT sessions per
patient), ``_baseline`` (baseline derivations and lab fallbacks), ``_arguments`` (validation
of the selection arguments), ``_steps`` (the eligibility steps, as data), ``_select``
(:func:`select_cohort`: the flow and one exclusion row per excluded patient), ``_result``
(:class:`CohortSelection`), ``_restrict`` (the registry restricted to the included patients)
and ``_summaries`` (report summaries). Import from ``sirtstats.cohort``.
"""

from __future__ import annotations

from sirtstats.cohort._baseline import (
    BASELINE_LAB_WINDOW_DAYS,
    LAB_FALLBACKS,
    derive_baseline,
)
from sirtstats.cohort._first_sirt import FIRST_SIRT_COLUMNS as FIRST_SIRT_COLUMNS
from sirtstats.cohort._first_sirt import derive_first_sirt
from sirtstats.cohort._result import CohortSelection
from sirtstats.cohort._select import BASELINE_IMAGING_MAX_DAYS, select_cohort
from sirtstats.cohort._summaries import summarise_exclusions, summarise_registry

__all__ = [
    "BASELINE_IMAGING_MAX_DAYS",
    "BASELINE_LAB_WINDOW_DAYS",
    "LAB_FALLBACKS",
    "CohortSelection",
    "derive_baseline",
    "derive_first_sirt",
    "select_cohort",
    "summarise_exclusions",
    "summarise_registry",
]
