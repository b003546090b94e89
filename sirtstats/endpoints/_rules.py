"""Endpoint rules as data: time origins, endpoint definitions (R5.2), rule sets (R5.3).

Part of :mod:`sirtstats.endpoints` (import from there); docs/rules/endpoints.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from sirtstats.exceptions import SirtDataError

__all__ = [
    "CONVENTIONS",
    "DAYS_PER_MONTH",
    "ENDPOINTS",
    "ORIGINS",
    "ORIGIN_LABELS",
    "EndpointRules",
]


#: Days per month used for ``time_months`` (365.25 / 12; R0 (docs/rules/response.md)).
DAYS_PER_MONTH = 30.4375

#: Response codes of a timepoint (R0, docs/rules/response.md). ``ND``: not done.
RESPONSE_CODES = ("CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE", "ND")

#: Evaluable ("adequate") overall responses (R5.3 definitions).
ADEQUATE_RESPONSES = ("CR", "PR", "SD", "NON_CR_NON_PD", "PD")

#: Order used to keep one response per patient and date, worst last (as admiralonco's ANL01FL:
#: NE < CR < PR < SD < NON_CR_NON_PD < PD).
_SAME_DAY_RANK = {"ND": -1, "NE": 0, "CR": 1, "PR": 2, "SD": 3, "NON_CR_NON_PD": 4, "PD": 5}

#: Time origins (R5.1): origin name -> (origin date column, entry date column or None).
ORIGINS = {
    "first_sirt": ("first_sirt_date", None),
    "workup": ("workup_date", None),
    "diagnosis": ("diagnosis_date", "first_sirt_date"),
    "randomisation": ("randomisation_date", None),
}


#: Readable names of the origins, for axis labels and footnotes.
ORIGIN_LABELS = {
    "first_sirt": "first SIRT",
    "workup": "work-up",
    "diagnosis": "diagnosis",
    "randomisation": "randomisation",
}


@dataclass(frozen=True)
class _EndpointSpec:
    kind: Literal["os", "progression", "duration", "response"]
    scope: str | None
    death_is_event: bool | None  # None: decided by an option (DoR)
    description: str


#: Endpoint definitions (R5.2) as data: kind, visit scope, whether death is an event.
ENDPOINTS: dict[str, _EndpointSpec] = {
    "OS": _EndpointSpec("os", None, True, "death from any cause"),
    "PFS": _EndpointSpec("progression", "overall", True, "first PD (overall scope) or death"),
    "hepatic_PFS": _EndpointSpec(
        "progression", "hepatic", True, "first hepatic PD (hepatic scope) or death"
    ),
    "treated_PFS": _EndpointSpec(
        "progression", "treated", True, "first PD in the treated territory or death"
    ),
    "TTP": _EndpointSpec("progression", "overall", False, "first PD; deaths censored"),
    "TTLP": _EndpointSpec(
        "progression", "treated", False, "first local (treated-territory) PD; deaths censored"
    ),
    "DoR": _EndpointSpec("duration", "overall", None, "first CR/PR to PD (or death)"),
    "TTR": _EndpointSpec("response", "overall", False, "origin to first CR/PR"),
}


@dataclass(frozen=True)
class EndpointRules:
    """Censoring and dating rules of an endpoint derivation (one named convention).

    Attributes
    ----------
    missed_visit_rule : bool
        Censor an event that follows ≥ 2 missed assessments (R5.3.7) at the last adequate
        assessment before the gap; also decides R5.3.2/R5.3.3 (deaths without an adequate
        assessment count only within the allowed gap from the origin).
    interval_days : int
        Planned imaging interval in days (R5.3.12 default 91).
    window_days : int
        Visit tolerance in days (R5.3.12 default 14). Allowed gap = 2 × interval + window.
    death_window_days : int or None
        Allowed gap between the origin and a death that has no adequate assessment before it
        (R5.3.3); None = 2 × interval + window.
    censor_at_new_therapy : bool
        Censor at the last adequate assessment on or before the start of a new anticancer
        therapy that began before the event (R5.3.6, R5.4).
    add_one_day : bool
        Durations as ``end − start + 1`` (CDISC ADaM, ``admiral::derive_vars_duration``)
        instead of ``end − start`` (R0, docs/rules/response.md, D18).
    censoring_responses : tuple of str
        Responses that make an assessment count as "last assessment" for censoring: the
        adequate ones by default; admiral's LSTA also counts NE.
    include_origin_day : bool
        Count assessments dated on the origin day as post-baseline (admiral: ``ADT >= RANDDT``).
    dor_includes_death : bool
        Death ends duration of response (D7; RECIST 1.1 itself: PD only).
    ttp_death_censoring : {"last_assessment", "death_date"}
        Where TTP and TTLP censor a death without progression (D8).
    include_assessments_in_last_alive : bool
        OS: the last date known alive is the latest of ``last_contact_date`` and the assessment
        dates (R5.5.2 "latest date in any source").
    """

    missed_visit_rule: bool = True
    interval_days: int = 91
    window_days: int = 14
    death_window_days: int | None = None
    censor_at_new_therapy: bool = True
    add_one_day: bool = False
    censoring_responses: tuple[str, ...] = ADEQUATE_RESPONSES
    include_origin_day: bool = False
    dor_includes_death: bool = True
    ttp_death_censoring: Literal["last_assessment", "death_date"] = "last_assessment"
    include_assessments_in_last_alive: bool = True

    @property
    def max_gap_days(self) -> int:
        """Allowed gap between the last adequate assessment and an event (days)."""
        return 2 * self.interval_days + self.window_days


#: Named rule sets. "fda": R5.3 (docs/rules/endpoints.md) and the defaults of
#: docs/rules/decisions.md. "admiral": the conventions of the pharmaverse ADTTE template
#: (conformance/pharmaverse/README.md §6.2).
CONVENTIONS: dict[str, EndpointRules] = {
    "fda": EndpointRules(),
    "admiral": EndpointRules(
        missed_visit_rule=False,
        censor_at_new_therapy=False,
        add_one_day=True,
        censoring_responses=("CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE"),
        include_origin_day=True,
        dor_includes_death=True,
        include_assessments_in_last_alive=False,
    ),
}

_OUTPUT_COLUMNS = [
    "patient_id",
    "endpoint",
    "origin",
    "origin_date",
    "event_date",
    "entry_days",
    "entry_months",
    "time_days",
    "time_months",
    "event",
    "event_type",
    "reason",
    "rule",
]


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------



def _to_dates(series: pd.Series, table: str, column: str) -> pd.Series:
    try:
        out = pd.to_datetime(series)
    except (ValueError, TypeError) as exc:
        raise SirtDataError(
            f"{table}.{column}: values are not dates ({exc}).", table=table, column=column,
            rule="date",
        ) from exc
    return out.dt.normalize().astype("datetime64[ns]")


def _fmt(date) -> str:
    return pd.Timestamp(date).strftime("%Y-%m-%d")
