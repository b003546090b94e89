"""The public derivations: :func:`derive_endpoints`, :func:`derive_time_to_event`,
:func:`summarise_endpoint_reasons`.

Part of :mod:`sirtstats.endpoints` (import from there); docs/rules/endpoints.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import pandas as pd

from sirtstats._checks import check_choice as _check_choice
from sirtstats._checks import require_columns as _require_columns
from sirtstats.endpoints._censoring import (
    _finish,
    _first_response,
    _no_baseline,
    _os,
    _prepare_patients,
    _prepare_therapies,
    _prepare_visits,
    _progression,
    _response,
)
from sirtstats.endpoints._rules import (
    _OUTPUT_COLUMNS,
    CONVENTIONS,
    ENDPOINTS,
    EndpointRules,
)
from sirtstats.exceptions import SirtDataError

__all__ = [
    "derive_endpoints",
    "derive_time_to_event",
    "summarise_endpoint_reasons",
]


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def _resolve_rules(convention, overrides) -> EndpointRules:
    _check_choice(convention, tuple(CONVENTIONS), "convention", "derive_endpoints")
    rules = CONVENTIONS[convention]
    given = {k: v for k, v in overrides.items() if v is not None}
    if "censoring_responses" in given:
        given["censoring_responses"] = tuple(given["censoring_responses"])
    if "ttp_death_censoring" in given:
        _check_choice(given["ttp_death_censoring"], ("last_assessment", "death_date"),
                      "ttp_death_censoring", "derive_endpoints")
    return replace(rules, **given)


def derive_time_to_event(
    df_patients: pd.DataFrame,
    df_visits: pd.DataFrame | None = None,
    df_therapies: pd.DataFrame | None = None,
    *,
    endpoint: str,
    **options,
) -> pd.DataFrame:
    """Derive one time-to-event endpoint; see :func:`derive_endpoints` for the arguments.

    Parameters
    ----------
    df_patients, df_visits, df_therapies : DataFrame
        As in :func:`derive_endpoints`.
    endpoint : str
        One key of :data:`ENDPOINTS`.
    **options
        Keyword options of :func:`derive_endpoints`.

    Returns
    -------
    DataFrame
        The rows of that endpoint (columns as :func:`derive_endpoints`).
    """
    _check_choice(endpoint, tuple(ENDPOINTS), "endpoint", "derive_time_to_event")
    return derive_endpoints(df_patients, df_visits, df_therapies, endpoints=(endpoint,),
                            **options)


def derive_endpoints(
    df_patients: pd.DataFrame,
    df_visits: pd.DataFrame | None = None,
    df_therapies: pd.DataFrame | None = None,
    *,
    endpoints: Sequence[str] = ("OS", "PFS", "TTP", "DoR"),
    df_responses: pd.DataFrame | None = None,
    cutoff_date=None,
    convention: Literal["fda", "admiral"] = "fda",
    missed_visit_rule: bool | None = None,
    interval_days: int | None = None,
    window_days: int | None = None,
    death_window_days: int | None = None,
    censor_at_new_therapy: bool | None = None,
    add_one_day: bool | None = None,
    censoring_responses: Sequence[str] | None = None,
    include_origin_day: bool | None = None,
    dor_includes_death: bool | None = None,
    ttp_death_censoring: Literal["last_assessment", "death_date"] | None = None,
    include_assessments_in_last_alive: bool | None = None,
    keep_columns: Sequence[str] = (),
    baseline_assessment_col: str | None = None,
) -> pd.DataFrame:
    """Derive time-to-event endpoints, one row per patient and endpoint.

    Parameters
    ----------
    df_patients : DataFrame
        One row per patient: ``patient_id`` (str), ``origin_date`` (datetime64), optionally
        ``death_date``, ``last_contact_date`` (datetime64; required for OS), ``entry_date``
        (delayed entry, datetime64) and ``origin`` (str, the origin's name). See
        :func:`derive_origin`.
    df_visits : DataFrame, optional
        Timepoint responses: ``patient_id``, ``assessment_date`` (datetime64),
        ``overall_response`` (``CR PR SD NON_CR_NON_PD PD NE ND``), optional ``scope``
        (``overall``/``hepatic``/``treated``; all rows are "overall" without it). One
        criterion only. Needed by every endpoint except OS.
    df_therapies : DataFrame, optional
        Other anticancer therapies: ``patient_id``, ``start_date`` (datetime64),
        ``is_planned_with_sirt`` (bool; missing = not planned). Therapies starting after the
        origin and not planned with SIRT are new anticancer therapy (R5.4).
    endpoints : sequence of str, default ("OS", "PFS", "TTP", "DoR")
        Keys of :data:`ENDPOINTS`: ``OS``, ``PFS``, ``hepatic_PFS``, ``treated_PFS``, ``TTP``,
        ``TTLP`` (time to local progression), ``DoR``, ``TTR``.
    df_responses : DataFrame, optional
        Responders with ``patient_id`` and ``first_response_date`` (and optionally
        ``is_responder``): DoR/TTR start at these dates (e.g. confirmed responses). Default:
        the first CR/PR visit before any PD (unconfirmed response).
    cutoff_date : str or Timestamp, optional
        Data cut-off: every assessment, therapy and death after it is ignored (R5.5).
    convention : {"fda", "admiral"}, default "fda"
        Named rule set (:data:`CONVENTIONS`) giving the defaults of the options below.
    missed_visit_rule, interval_days, window_days, death_window_days, censor_at_new_therapy, \
add_one_day, censoring_responses, include_origin_day, dor_includes_death, \
ttp_death_censoring, include_assessments_in_last_alive : optional
        Override single rules; see :class:`EndpointRules` (days are calendar days).
    keep_columns : sequence of str, default ()
        Columns of ``df_patients`` copied onto every output row (e.g. strata and Cox
        covariates such as ``bclc_stage``, ``albi_grade``), after the standard columns.
    baseline_assessment_col : str, optional
        Column of ``df_patients`` holding the baseline tumour assessment (e.g.
        ``baseline_imaging_date`` of the cohort table): patients with a missing value are
        censored at the origin for every progression-based endpoint (R5.3.1).

    Returns
    -------
    DataFrame
        Sorted by endpoint (in the requested order) and ``patient_id``, columns:
        ``patient_id``, ``endpoint``, ``origin`` (origin name; ``first_response`` for DoR),
        ``origin_date`` (start of the duration), ``event_date`` (event or censoring date),
        ``entry_days``/``entry_months`` (delayed entry after the origin, ≥ 0),
        ``time_days`` (int, ≥ 0), ``time_months`` (days / 30.4375), ``event`` (1 event,
        0 censored), ``event_type`` (``death``, ``progression``, ``response`` or
        ``censored``; for TTR also competing ``progression``/``death`` with event 0),
        ``reason`` (text) and ``rule`` (rule id of docs/rules/).

    Raises
    ------
    ValueError
        An unknown endpoint or option value.
    SirtDataError
        Missing columns, duplicate patients, missing origin, death before the origin, unknown
        response codes, or visits of several criteria.

    See Also
    --------
    derive_origin : build ``origin_date``/``entry_date`` from a cohort frame.
    sirtstats.survival.summarise_km : Kaplan–Meier tables of the result.

    Notes
    -----
    *OS* (R5.2, R5.5.2): death on or before the cut-off is an event; otherwise the patient is
    censored at the cut-off when known alive on or after it (a later contact or a later death),
    else at the last date known alive (``last_contact_date``, or a later assessment).

    *PFS-type* endpoints (PFS, hepatic PFS, treated PFS; TTP and TTLP without death events):
    the event is the first PD among post-baseline assessments (the assessment date) or death,
    whichever comes first. Then, in order: an event more than ``2 × interval + window`` days
    after the last adequate assessment (or after the origin when there is none) is censored
    there (R5.3.7, R5.3.2/R5.3.3); a new anticancer therapy started before the event censors
    at the last adequate assessment on or before its start (R5.3.6); without an event the
    patient is censored at the last adequate assessment, or at the origin without one
    (R5.3.2, R5.3.8). An adequate assessment has an evaluable response (not NE/ND).

    Assessments dated after a patient's death (a data error the registry validation reports)
    are ignored.

    *DoR* starts at the first response date and ends at PD or death (``dor_includes_death``),
    censored like PFS. *TTR* ends at the first response; PD or death before a response are
    competing events (event 0, ``event_type`` gives the cause) for a cumulative-incidence
    analysis (R5.2).

    Times: ``time_days = event_date − origin_date`` (+ 1 with ``add_one_day``); a censoring
    date before the start is raised to the start (``pmax`` as in admiral).

    References
    ----------
    FDA. Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics. Guidance for
    Industry, December 2018. R5.1–R5.5 (docs/rules/endpoints.md), decisions D7, D8, D18
    (docs/rules/decisions.md).
    pharmaverse admiral ``derive_param_tte`` and admiralonco ``ad_adtte.R``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.endpoints import derive_endpoints
    >>> pts = pd.DataFrame({"patient_id": ["P2", "P7"],
    ...                     "origin_date": pd.to_datetime(["2024-01-10"] * 2),
    ...                     "death_date": pd.to_datetime(["2024-06-01", None]),
    ...                     "last_contact_date": pd.to_datetime(["2024-06-01", "2024-08-01"])})
    >>> vis = pd.DataFrame({"patient_id": ["P2", "P7", "P7"],
    ...                     "assessment_date": pd.to_datetime(["2024-04-10", "2024-04-10",
    ...                                                        "2024-07-10"]),
    ...                     "overall_response": ["SD", "PR", "PD"]})
    >>> out = derive_endpoints(pts, vis, endpoints=["PFS"])
    >>> out[["patient_id", "time_days", "event", "reason"]]
      patient_id  time_days  event                       reason
    0         P2        143      1                        death
    1         P7        182      1  progression (PD 2024-07-10)
    """
    endpoints = list(endpoints)
    for ep in endpoints:
        _check_choice(ep, tuple(ENDPOINTS), "endpoints", "derive_endpoints")
    rules = _resolve_rules(convention, {
        "missed_visit_rule": missed_visit_rule, "interval_days": interval_days,
        "window_days": window_days, "death_window_days": death_window_days,
        "censor_at_new_therapy": censor_at_new_therapy, "add_one_day": add_one_day,
        "censoring_responses": censoring_responses, "include_origin_day": include_origin_day,
        "dor_includes_death": dor_includes_death, "ttp_death_censoring": ttp_death_censoring,
        "include_assessments_in_last_alive": include_assessments_in_last_alive,
    })
    cutoff = None if cutoff_date in (None, "") else pd.Timestamp(cutoff_date).normalize()
    patients = _prepare_patients(df_patients, cutoff)
    visits = _prepare_visits(df_visits, patients, cutoff, rules)
    therapy = _prepare_therapies(df_therapies, patients, cutoff)
    has_scope_col = df_visits is not None and "scope" in df_visits.columns
    no_baseline = pd.Series(False, index=patients.index)
    if baseline_assessment_col is not None:
        _require_columns(df_patients, [baseline_assessment_col], "patients", "derive_endpoints")
        no_baseline = pd.Series(df_patients[baseline_assessment_col].isna().to_numpy(),
                                index=patients.index)
    if "OS" in endpoints:
        _require_columns(df_patients, ["last_contact_date"], "patients", "derive_endpoints")

    pieces = [_endpoint_rows(ep, patients, visits, therapy, rules, cutoff=cutoff,
                             df_visits=df_visits, df_responses=df_responses,
                             has_scope_col=has_scope_col, no_baseline=no_baseline)
              for ep in endpoints]
    out = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(
        columns=_OUTPUT_COLUMNS)
    order = {ep: i for i, ep in enumerate(endpoints)}
    out = out.assign(_o=out["endpoint"].map(order)).sort_values(
        ["_o", "patient_id"], kind="mergesort").drop(columns="_o").reset_index(drop=True)
    out = out[_OUTPUT_COLUMNS]
    return _with_patient_columns(out, df_patients, keep_columns)


def _endpoint_rows(ep: str, patients, visits, therapy, rules: EndpointRules, *, cutoff,
                   df_visits, df_responses, has_scope_col: bool,
                   no_baseline: pd.Series) -> pd.DataFrame:
    """The rows of one endpoint of :func:`derive_endpoints` (before ordering)."""
    spec = ENDPOINTS[ep]
    if spec.kind == "os":
        any_scope = visits.drop_duplicates(["patient_id", "assessment_date"])
        b = _os(patients, any_scope, rules, cutoff)
        return _finish(b, ep, rules, "origin_date", None)
    if df_visits is None:
        raise SirtDataError(
            f"derive_endpoints: endpoint {ep!r} needs df_visits (timepoint responses).",
            table="visits", rule="required table",
        )
    if spec.scope != "overall" and not has_scope_col:
        raise SirtDataError(
            f"visits.scope: endpoint {ep!r} needs visits of scope {spec.scope!r}; pass "
            "df_visits with a 'scope' column (derive_timepoint_response(..., scope="
            f"{spec.scope!r})).",
            table="visits", column="scope", rule="scope present",
        )
    v = visits.loc[visits["scope"] == spec.scope]
    if spec.kind == "progression":
        b = _progression(patients, v, therapy, rules, death_is_event=spec.death_is_event)
        return _finish(_no_baseline(b, no_baseline), ep, rules, "origin_date", None)
    if spec.kind == "duration":
        first, _code = _first_response(patients, v, df_responses)
        resp = patients.assign(response_date=first.to_numpy())
        resp = resp.loc[resp["response_date"].notna()].reset_index(drop=True)
        resp["entry_date"] = resp["response_date"]
        b = _progression(resp, v, therapy, rules,
                         death_is_event=rules.dor_includes_death,
                         start_col="response_date", kind="duration")
        return _finish(b, ep, rules, "response_date", "first_response")
    b = _response(patients, v, therapy, rules, df_responses)
    return _finish(_no_baseline(b, no_baseline), ep, rules, "origin_date", None)


def _with_patient_columns(out: pd.DataFrame, df_patients: pd.DataFrame,
                          keep_columns: Sequence[str]) -> pd.DataFrame:
    """Copy the ``keep_columns`` of ``df_patients`` onto the endpoint rows (by patient)."""
    keep = [c for c in dict.fromkeys(keep_columns) if c not in _OUTPUT_COLUMNS]
    if keep:
        _require_columns(df_patients, keep, "patients", "derive_endpoints")
        extra = df_patients[keep].set_axis(df_patients["patient_id"].astype(str).to_numpy())
        for col in keep:
            out[col] = out["patient_id"].map(extra[col]).to_numpy()
    return out


def summarise_endpoint_reasons(df: pd.DataFrame) -> pd.DataFrame:
    """Count the rows of each endpoint by outcome and rule (a censoring audit table).

    Parameters
    ----------
    df : DataFrame
        Output of :func:`derive_endpoints` (``endpoint``, ``event``, ``event_type``,
        ``rule``).

    Returns
    -------
    DataFrame
        One row per endpoint, event type and rule: ``endpoint``, ``event_type``, ``event``,
        ``rule``, ``n`` and ``pct`` (% of the endpoint's rows), in endpoint order.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.endpoints import summarise_endpoint_reasons
    >>> df = pd.DataFrame({"endpoint": ["OS", "OS"], "event": [1, 0],
    ...                    "event_type": ["death", "censored"], "rule": ["R5.2", "R5.5.2"]})
    >>> summarise_endpoint_reasons(df)[["event_type", "rule", "n", "pct"]]
      event_type    rule  n   pct
    0   censored  R5.5.2  1  50.0
    1      death    R5.2  1  50.0
    """
    _require_columns(df, ["endpoint", "event", "event_type", "rule"], "endpoints",
                     "summarise_endpoint_reasons")
    order = {ep: i for i, ep in enumerate(pd.unique(df["endpoint"]))}
    out = (df.groupby(["endpoint", "event_type", "event", "rule"], sort=True).size()
           .rename("n").reset_index())
    total = out.groupby("endpoint")["n"].transform("sum")
    out["pct"] = 100 * out["n"] / total
    out = out.assign(_o=out["endpoint"].map(order)).sort_values(
        ["_o", "event_type", "rule"], kind="mergesort").drop(columns="_o")
    return out.reset_index(drop=True)
