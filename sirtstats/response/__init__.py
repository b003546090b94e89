"""Tumour response under RECIST 1.1 and mRECIST: timepoints, best overall response, rates.

Implements R1 (docs/rules/response.md) (RECIST 1.1: Eisenhauer et al., Eur J Cancer
2009;45:228-247), §2 (mRECIST: Lencioni & Llovet, Semin Liver Dis 2010;30:52-60), §4
(lesion-level response and response scopes; treatment territories from sessions, §4.3)
and §6.1/§6.7 (exact binomial CIs, agreement between criteria), with the defaults of §7.
Every function takes tidy frames and returns a new frame; inputs are never modified.
"""

from __future__ import annotations

from sirtstats.response.analysis import (
    ResponseAnalysis,
    derive_response_analysis,
    summarise_response_distribution,
)
from sirtstats.response.baseline import (
    ELIGIBILITY_COLUMNS,
    check_target_eligibility,
    derive_target_eligibility,
    derive_target_selection,
)
from sirtstats.response.bor import (
    BOR_COLUMNS,
    PR_AFTER_CR_MODES,
    check_pr_after_cr,
    derive_best_overall_response,
)
from sirtstats.response.classify import (
    compute_bidimensional_response,
    compute_overall_response,
    compute_target_response,
)
from sirtstats.response.display import (
    BEST_CHANGE_COLUMNS,
    SWIMMER_COLUMNS,
    derive_best_percent_change,
    derive_swimmer_data,
)
from sirtstats.response.lesion import (
    LESION_RESPONSE_COLUMNS,
    LESION_VISIT_COLUMNS,
    derive_lesion_response,
)
from sirtstats.response.local import (  # local response per lesion (R4.4), issue 15
    LOCAL_PROGRESSION_COLUMNS,
    LOCAL_RESPONSE_COLUMNS,
    derive_local_response,
    derive_time_to_local_progression,
)
from sirtstats.response.rates import (
    RATE_COLUMNS,
    CriteriaAgreement,
    compute_exact_ci,
    summarise_criteria_agreement,
    summarise_response_rates,
    summarise_response_rates_by_subgroup,
)
from sirtstats.response.reported import (
    DISCORDANCE_COLUMNS,
    derive_reported_timepoints,
    summarise_discordance,
)
from sirtstats.response.territory import (  # treatment territories (R4.3), issue 15
    TERRITORY_SCOPES,
    TERRITORY_TIMEPOINT_COLUMNS,
    derive_new_lesion_field,
    derive_out_of_field_progression,
    derive_scope_timepoints,
    derive_territory_lesions,
    derive_territory_response,
)
from sirtstats.response.timepoint import TIMEPOINT_COLUMNS, derive_timepoint_response

__all__ = [
    "BOR_COLUMNS",
    "PR_AFTER_CR_MODES",
    "check_pr_after_cr",
    "derive_best_overall_response",
    "ELIGIBILITY_COLUMNS",
    "check_target_eligibility",
    "derive_target_eligibility",
    "derive_target_selection",
    "LESION_RESPONSE_COLUMNS",
    "LESION_VISIT_COLUMNS",
    "TIMEPOINT_COLUMNS",
    "compute_bidimensional_response",
    "compute_overall_response",
    "compute_target_response",
    "derive_lesion_response",
    "BEST_CHANGE_COLUMNS",
    "SWIMMER_COLUMNS",
    "derive_best_percent_change",
    "derive_swimmer_data",
    "DISCORDANCE_COLUMNS",
    "RATE_COLUMNS",
    "CriteriaAgreement",
    "compute_exact_ci",
    "summarise_criteria_agreement",
    "summarise_response_rates",
    "summarise_response_rates_by_subgroup",
    "ResponseAnalysis",
    "derive_response_analysis",
    "summarise_response_distribution",
    "derive_reported_timepoints",
    "summarise_discordance",
    "derive_timepoint_response",
    "TERRITORY_SCOPES",
    "TERRITORY_TIMEPOINT_COLUMNS",
    "derive_new_lesion_field",
    "derive_out_of_field_progression",
    "derive_scope_timepoints",
    "derive_territory_lesions",
    "derive_territory_response",
    "LOCAL_PROGRESSION_COLUMNS",
    "LOCAL_RESPONSE_COLUMNS",
    "derive_local_response",
    "derive_time_to_local_progression",
]
