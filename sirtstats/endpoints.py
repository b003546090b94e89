"""Time-to-event endpoints: OS, PFS, hepatic PFS, TTP, local progression, DoR, TTR.

Implements R5.1–R5.5 (docs/rules/endpoints.md): the time origin (first SIRT by default; work-up,
diagnosis with delayed entry, randomisation), the endpoint definitions of R5.2 and the FDA-style
PFS censoring and event dating of R5.3 (Clinical Trial Endpoints for the Approval of Cancer Drugs
and Biologics, FDA guidance, December 2018): last adequate assessment, the missed-assessment rule,
censoring at new anticancer therapy (R5.4), censoring at the origin without an adequate
post-baseline assessment, and administrative censoring at a data cut-off (R5.5).

Inputs are tidy frames, never the response engine's internals:

* ``df_patients``: one row per patient with ``patient_id``, ``origin_date`` and, for OS and
  deaths, ``death_date`` and ``last_contact_date`` (optional ``entry_date`` for delayed entry and
  ``origin``, the origin's name); :func:`derive_origin` builds it from a cohort frame.
* ``df_visits``: one row per patient and assessment with ``patient_id``, ``assessment_date``,
  ``overall_response`` (codes ``CR PR SD NON_CR_NON_PD PD NE``; ``ND`` is accepted and is not an
  adequate assessment). An optional ``scope`` column (``overall``, ``hepatic``, ``treated``,
  R4.2 (docs/rules/response.md)) lets one frame feed PFS, hepatic PFS and local progression.
  Filter it to one criterion before calling.
* ``df_therapies``: other anticancer therapies (``patient_id``, ``start_date``,
  ``is_planned_with_sirt``), for censoring at new anticancer therapy.
* ``df_responses`` (optional): the responders' ``patient_id`` and ``first_response_date``
  (e.g. confirmed responders from the best-overall-response derivation). Without it, duration of
  response and time to response start at the first CR/PR visit (unconfirmed response).

Two named rule sets are provided as data (:data:`CONVENTIONS`): ``"fda"`` (the sirtstats
default: R5.3 in docs/rules/endpoints.md and docs/rules/decisions.md) and ``"admiral"`` (the
pharmaverse ``admiral::derive_param_tte`` / ``admiralonco`` ADTTE template conventions: no
missed-assessment rule, no censoring at new therapy, the last assessment of any response
including NE, durations ``end − start + 1``). Every option can also be set on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import _braced
from sirtstats._checks import check_choice as _check_choice
from sirtstats._checks import require_columns as _require_columns
from sirtstats.exceptions import SirtDataError

__all__ = [
    "CONVENTIONS",
    "DAYS_PER_MONTH",
    "ENDPOINTS",
    "ORIGINS",
    "ORIGIN_LABELS",
    "EndpointRules",
    "derive_endpoints",
    "derive_origin",
    "derive_time_to_event",
    "summarise_endpoint_reasons",
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


# --------------------------------------------------------------------------------------------
# origin
# --------------------------------------------------------------------------------------------
def derive_origin(
    df: pd.DataFrame,
    *,
    origin: Literal["first_sirt", "workup", "diagnosis", "randomisation"] = "first_sirt",
    df_workups: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add the time origin (``origin``, ``origin_date``, ``entry_date``) to a patient frame.

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``patient_id`` (str) and the date column of the chosen origin:
        ``first_sirt_date``, ``workup_date``, ``diagnosis_date`` (with ``first_sirt_date`` for
        the delayed entry) or ``randomisation_date`` (datetime64).
    origin : {"first_sirt", "workup", "diagnosis", "randomisation"}, default "first_sirt"
        Time origin (R5.1). With ``"diagnosis"`` the patients enter the risk set at their
        first SIRT (delayed entry, left truncation): the time between diagnosis and SIRT is
        immortal for a SIRT cohort.
    df_workups : DataFrame, optional
        The ``workups`` table (``patient_id``, ``workup_date``): with ``origin="workup"`` and
        no ``workup_date`` column in ``df``, the patient's first work-up date is used.

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``origin`` (str), ``origin_date`` and ``entry_date``
        (datetime64; equal to ``origin_date`` unless the entry is delayed).

    Raises
    ------
    ValueError
        Unknown ``origin``.
    SirtDataError
        The origin's date column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.endpoints import derive_origin
    >>> df = pd.DataFrame({"patient_id": ["P1"],
    ...                    "diagnosis_date": pd.to_datetime(["2023-11-02"]),
    ...                    "first_sirt_date": pd.to_datetime(["2024-01-10"])})
    >>> derive_origin(df, origin="diagnosis")[["origin", "origin_date", "entry_date"]]
          origin origin_date entry_date
    0  diagnosis  2023-11-02 2024-01-10
    """
    _check_choice(origin, tuple(ORIGINS), "origin", "derive_origin")
    date_col, entry_col = ORIGINS[origin]
    if origin == "workup" and "workup_date" not in df.columns and df_workups is not None:
        _require_columns(df_workups, ["patient_id", "workup_date"], "workups", "derive_origin")
        first = df_workups.groupby("patient_id")["workup_date"].min()
        df = df.assign(workup_date=df["patient_id"].map(first))
    _require_columns(df, ["patient_id", date_col] + ([entry_col] if entry_col else []),
                     "patients", "derive_origin")
    out = df.copy()
    out["origin"] = origin
    out["origin_date"] = _to_dates(df[date_col], "patients", date_col)
    out["entry_date"] = (
        _to_dates(df[entry_col], "patients", entry_col) if entry_col else out["origin_date"]
    )
    return out


# --------------------------------------------------------------------------------------------
# input preparation
# --------------------------------------------------------------------------------------------
def _prepare_patients(df_patients: pd.DataFrame, cutoff) -> pd.DataFrame:
    _require_columns(df_patients, ["patient_id", "origin_date"], "patients", "derive_endpoints")
    p = pd.DataFrame({"patient_id": df_patients["patient_id"].astype(str).to_numpy()})
    p["origin_date"] = _to_dates(df_patients["origin_date"], "patients", "origin_date").to_numpy()
    for col in ("death_date", "last_contact_date", "entry_date"):
        if col in df_patients.columns:
            p[col] = _to_dates(df_patients[col], "patients", col).to_numpy()
        else:
            p[col] = pd.NaT
    p["entry_date"] = p["entry_date"].fillna(p["origin_date"])
    p["origin"] = (
        df_patients["origin"].astype(object).to_numpy() if "origin" in df_patients.columns
        else None
    )
    dup = p["patient_id"].duplicated(keep=False)
    if dup.any():
        rows = df_patients.loc[dup.to_numpy()]
        raise SirtDataError(
            f"patients.patient_id: {int(dup.sum())} rows violate \"patient_id is unique\"; first "
            f"keys: {', '.join(rows['patient_id'].astype(str).head(3))}.",
            table="patients", column="patient_id", rule="unique", rows=rows,
        )
    no_origin = p["origin_date"].isna()
    if no_origin.any():
        rows = df_patients.loc[no_origin.to_numpy()]
        raise SirtDataError(
            f"patients.origin_date: {int(no_origin.sum())} rows violate \"origin_date is not "
            f"missing\"; first keys: {', '.join(rows['patient_id'].astype(str).head(3))}. "
            "Select patients with an origin (derive_origin) before deriving endpoints.",
            table="patients", column="origin_date", rule="required", rows=rows,
        )
    early = p["death_date"].notna() & (p["death_date"] < p["origin_date"])
    if early.any():
        rows = df_patients.loc[early.to_numpy()]
        raise SirtDataError(
            f"patients.death_date: {int(early.sum())} rows violate \"death_date >= origin_date\"; "
            f"first keys: {', '.join(rows['patient_id'].astype(str).head(3))}.",
            table="patients", column="death_date", rule="death_date >= origin_date", rows=rows,
        )
    if cutoff is not None:
        # Nothing after the cut-off counts (R5.5.1); remember who was known alive at it.
        late_death = p["death_date"] > cutoff
        p["alive_at_cutoff"] = late_death | (p["last_contact_date"] >= cutoff)
        p.loc[late_death, "death_date"] = pd.NaT
        p.loc[p["last_contact_date"] > cutoff, "last_contact_date"] = cutoff
    else:
        p["alive_at_cutoff"] = False
    return p


def _prepare_visits(df_visits, patients, cutoff, rules) -> pd.DataFrame:
    cols = ["patient_id", "assessment_date", "overall_response"]
    if df_visits is None:
        return pd.DataFrame({"patient_id": pd.Series(dtype=object),
                             "assessment_date": pd.Series(dtype="datetime64[ns]"),
                             "overall_response": pd.Series(dtype=object),
                             "scope": pd.Series(dtype=object)})
    _require_columns(df_visits, cols, "visits", "derive_endpoints")
    if "criterion" in df_visits.columns and df_visits["criterion"].nunique(dropna=True) > 1:
        raise SirtDataError(
            "visits.criterion: the visits mix criteria "
            f"{sorted(df_visits['criterion'].dropna().unique())}; filter them to one criterion "
            "before deriving endpoints.",
            table="visits", column="criterion", rule="one criterion",
        )
    v = pd.DataFrame({
        "patient_id": df_visits["patient_id"].astype(str).to_numpy(),
        "assessment_date": _to_dates(df_visits["assessment_date"], "visits",
                                     "assessment_date").to_numpy(),
        "overall_response": df_visits["overall_response"].astype(object).to_numpy(),
        "scope": (df_visits["scope"].astype(object).to_numpy() if "scope" in df_visits.columns
                  else "overall"),
    })
    bad = ~v["overall_response"].isin(RESPONSE_CODES) | v["assessment_date"].isna()
    if bad.any():
        rows = df_visits.loc[bad.to_numpy()]
        raise SirtDataError(
            f"visits.overall_response: {int(bad.sum())} rows violate \"overall_response in "
            f"{_braced(RESPONSE_CODES)} and assessment_date present\"; first keys (patient_id, "
            "assessment_date): "
            + ", ".join(f"({r.patient_id}, {r.assessment_date})"
                        for r in rows.head(3).itertuples()) + ".",
            table="visits", column="overall_response", rule="response code", rows=rows,
        )
    v = v.merge(patients[["patient_id", "origin_date", "death_date"]], on="patient_id",
                how="inner")
    after = (v["assessment_date"] >= v["origin_date"]) if rules.include_origin_day else (
        v["assessment_date"] > v["origin_date"])
    # an assessment dated after the death is a data error: it is ignored
    keep = after & ~(v["assessment_date"] > v["death_date"])
    if cutoff is not None:
        keep &= v["assessment_date"] <= cutoff
    v = v.loc[keep, ["patient_id", "assessment_date", "overall_response", "scope"]]
    # One response per patient, scope and date: the worst (PD wins; NE only if nothing else).
    v = v.assign(_rank=v["overall_response"].map(_SAME_DAY_RANK))
    v = v.sort_values(["patient_id", "scope", "assessment_date", "_rank"], kind="mergesort")
    v = v.drop_duplicates(["patient_id", "scope", "assessment_date"], keep="last")
    return v.drop(columns="_rank").reset_index(drop=True)


def _prepare_therapies(df_therapies, patients, cutoff) -> pd.Series:
    """First new anticancer therapy start after the origin, per patient (R5.4)."""
    if df_therapies is None or len(df_therapies) == 0:
        return pd.Series(dtype="datetime64[ns]", name="therapy_date")
    _require_columns(df_therapies, ["patient_id", "start_date"], "other_therapies",
                     "derive_endpoints")
    t = pd.DataFrame({
        "patient_id": df_therapies["patient_id"].astype(str).to_numpy(),
        "start_date": _to_dates(df_therapies["start_date"], "other_therapies",
                                "start_date").to_numpy(),
    })
    if "is_planned_with_sirt" in df_therapies.columns:
        # Missing = not planned: counted as new therapy (conservative for PFS).
        planned = df_therapies["is_planned_with_sirt"].astype("boolean").fillna(False)
        t = t.loc[~planned.to_numpy()]
    t = t.merge(patients[["patient_id", "origin_date"]], on="patient_id", how="inner")
    keep = t["start_date"] > t["origin_date"]  # running at baseline is not new therapy (R5.4)
    if cutoff is not None:
        keep &= t["start_date"] <= cutoff
    return t.loc[keep].groupby("patient_id")["start_date"].min().rename("therapy_date")


# --------------------------------------------------------------------------------------------
# per-patient lookups on sorted visit frames
# --------------------------------------------------------------------------------------------
def _last_visit_before(base: pd.DataFrame, date_col: str, visits: pd.DataFrame, *,
                       inclusive: bool) -> pd.Series:
    """Latest visit date before (or on) ``base[date_col]`` per row of ``base`` (NaT if none).

    Vectorised: one sorted key per visit, ``patient code × 2^32 + day``, and a binary search.
    """
    out = pd.Series(pd.NaT, index=base.index, dtype="datetime64[ns]")
    has = base[date_col].notna().to_numpy()
    if not has.any() or visits.empty:
        return out
    cats = pd.Index(pd.unique(visits["patient_id"]))
    v_code = cats.get_indexer(visits["patient_id"]).astype(np.int64)
    v_day = visits["assessment_date"].to_numpy("datetime64[D]").astype(np.int64)
    b_code = cats.get_indexer(base["patient_id"]).astype(np.int64)
    b_day = base[date_col].to_numpy("datetime64[D]")
    ok = has & (b_code >= 0)
    shift = np.int64(1) << 32
    offset = np.int64(1) << 31
    v_key = np.sort(v_code * shift + (v_day + offset))
    b_key = b_code[ok] * shift + (b_day[ok].astype(np.int64) + offset)
    pos = np.searchsorted(v_key, b_key, side="right" if inclusive else "left") - 1
    found = pos >= 0
    hit = np.zeros(len(b_key), dtype=bool)
    hit[found] = (v_key[pos[found]] // shift) == b_code[ok][found]
    days = np.where(hit, v_key[np.clip(pos, 0, None)] % shift - offset, 0)
    res = np.full(len(b_key), np.datetime64("NaT"), dtype="datetime64[ns]")
    res[hit] = days[hit].astype("datetime64[D]").astype("datetime64[ns]")
    out.iloc[np.flatnonzero(ok)] = res
    return out


# --------------------------------------------------------------------------------------------
# endpoint kinds
# --------------------------------------------------------------------------------------------
def _finish(base: pd.DataFrame, endpoint: str, rules: EndpointRules, start_col: str,
            origin_label) -> pd.DataFrame:
    start = base[start_col]
    end = base["end_date"].where(base["end_date"] >= start, start)  # never before the start
    days = (end - start).dt.days.astype("int64") + (1 if rules.add_one_day else 0)
    entry = (base["entry_date"] - start).dt.days.fillna(0).clip(lower=0).astype("int64")
    out = pd.DataFrame({
        "patient_id": base["patient_id"].to_numpy(),
        "endpoint": endpoint,
        "origin": origin_label if origin_label is not None else base["origin"].to_numpy(),
        "origin_date": start.to_numpy(),
        "event_date": end.to_numpy(),
        "entry_days": entry.to_numpy(),
        "entry_months": entry.to_numpy() / DAYS_PER_MONTH,
        "time_days": days.to_numpy(),
        "time_months": days.to_numpy() / DAYS_PER_MONTH,
        "event": base["event"].astype("int64").to_numpy(),
        "event_type": base["event_type"].to_numpy(),
        "reason": base["reason"].to_numpy(),
        "rule": base["rule"].to_numpy(),
    })
    return out


def _os(p: pd.DataFrame, visits_any: pd.DataFrame, rules: EndpointRules, cutoff) -> pd.DataFrame:
    b = p.copy()
    last_alive = b["last_contact_date"]
    if rules.include_assessments_in_last_alive and not visits_any.empty:
        last_visit = visits_any.groupby("patient_id")["assessment_date"].max()
        lv = b["patient_id"].map(last_visit)
        last_alive = pd.concat([last_alive, lv], axis=1).max(axis=1)
    dead = b["death_date"].notna()
    at_cutoff = ~dead & b["alive_at_cutoff"].astype(bool)
    if cutoff is not None:
        at_cutoff |= ~dead & (last_alive >= cutoff)
    at_origin = ~dead & ~at_cutoff & (last_alive.isna() | (last_alive <= b["origin_date"]))
    b["event"] = dead.astype(int)
    b["event_type"] = np.where(dead, "death", "censored")
    b["end_date"] = b["death_date"]
    b.loc[at_cutoff, "end_date"] = cutoff
    other = ~dead & ~at_cutoff & ~at_origin
    b.loc[other, "end_date"] = last_alive[other]
    b.loc[at_origin, "end_date"] = b.loc[at_origin, "origin_date"]
    b["reason"] = "censored: last known alive"
    b["rule"] = "R5.5.2"
    b.loc[dead, "reason"] = "death"
    b.loc[dead, "rule"] = "R5.2"
    if cutoff is not None:
        b.loc[at_cutoff, "reason"] = f"censored: alive at data cut-off {_fmt(cutoff)}"
    b.loc[at_origin, "reason"] = "censored: at origin (not known alive after the origin)"
    return b


def _progression(p, v, therapy, rules: EndpointRules, *, death_is_event: bool,
                 start_col: str = "origin_date", kind: str = "progression") -> pd.DataFrame:
    """PFS-type (death_is_event) and TTP-type endpoints; also DoR (start_col = response)."""
    b = p.copy()
    start = b[start_col]
    adequate = v.loc[v["overall_response"].isin(ADEQUATE_RESPONSES)]
    censoring = v.loc[v["overall_response"].isin(rules.censoring_responses)]
    if start_col != "origin_date":  # DoR: only what happens on or after the response
        s = b.set_index("patient_id")[start_col]
        adequate = adequate.loc[adequate["assessment_date"] >= adequate["patient_id"].map(s)]
        censoring = censoring.loc[censoring["assessment_date"]
                                  >= censoring["patient_id"].map(s)]
    pd_visits = adequate.loc[adequate["overall_response"] == "PD"]
    first_pd = b["patient_id"].map(pd_visits.groupby("patient_id")["assessment_date"].min())
    death = b["death_date"].where(b["death_date"] >= start)
    th = b["patient_id"].map(therapy) if len(therapy) else pd.Series(pd.NaT, index=b.index)
    # DoR: only therapies started on or after the response count (earlier ones are the
    # response derivation's business)
    b["therapy_date"] = pd.to_datetime(th).where(lambda s: s >= start)

    # candidate event (PD first on a same-day tie, as admiral lists pd_event first)
    if death_is_event:
        use_death = death.notna() & (first_pd.isna() | (death < first_pd))
    else:
        use_death = pd.Series(False, index=b.index)
    ev_date = first_pd.where(~use_death, death)
    ev_type = pd.Series(np.where(use_death, "death", "progression"), index=b.index)
    has_ev = ev_date.notna()

    # last assessment used for censoring: never after a death (data error guard)
    last_any = b["patient_id"].map(censoring.groupby("patient_id")["assessment_date"].max())
    last_before_death = _last_visit_before(b.assign(_d=death), "_d", censoring, inclusive=True)
    last_cens = last_any.where(death.isna(), last_before_death)

    b["event"] = 0
    b["event_type"] = "censored"
    b["end_date"] = last_cens
    b["reason"] = "censored: last adequate assessment"
    b["rule"] = "R5.3.8"

    # no event
    no_ev = ~has_ev
    none_after = no_ev & last_cens.isna()
    b.loc[none_after, "end_date"] = start[none_after]
    b.loc[none_after, "reason"] = (
        "censored: no adequate post-baseline assessment (at origin)" if kind != "duration"
        else "censored: at response (no later assessment)")
    b.loc[none_after, "rule"] = "R5.3.2"
    ok = no_ev & ~none_after
    b.loc[ok, "reason"] = "censored: last adequate assessment " + last_cens[ok].dt.strftime(
        "%Y-%m-%d")
    if not death_is_event:
        dead_no_pd = no_ev & death.notna()
        if rules.ttp_death_censoring == "death_date":
            b.loc[dead_no_pd, "end_date"] = death[dead_no_pd]
            b.loc[dead_no_pd, "reason"] = "censored: death without progression (at death)"
        else:
            b.loc[dead_no_pd, "reason"] = (
                "censored: death without progression; "
                + ("last adequate assessment " + last_cens[dead_no_pd].dt.strftime(
                    "%Y-%m-%d")).fillna("no adequate post-baseline assessment (at origin)"))
            b.loc[dead_no_pd, "end_date"] = b.loc[dead_no_pd, "end_date"].fillna(
                start[dead_no_pd])
        b.loc[dead_no_pd, "rule"] = "R5.2 (TTP: death censored)"

    # event candidates: PD/death
    b.loc[has_ev, "end_date"] = ev_date[has_ev]
    b.loc[has_ev, "event"] = 1
    b.loc[has_ev, "event_type"] = ev_type[has_ev]
    pd_ev = has_ev & (ev_type == "progression")
    b.loc[pd_ev, "reason"] = "progression (PD " + ev_date[pd_ev].dt.strftime("%Y-%m-%d") + ")"
    b.loc[pd_ev, "rule"] = "R5.3.4"
    d_ev = has_ev & (ev_type == "death")
    b.loc[d_ev, "reason"] = "death"
    b.loc[d_ev, "rule"] = "R5.3.5"

    # missed-assessment rule (R5.3.7, R5.3.2/R5.3.3)
    if rules.missed_visit_rule:
        prev_pd = _last_visit_before(b.assign(_d=ev_date), "_d", adequate, inclusive=False)
        prev_death = _last_visit_before(b.assign(_d=ev_date), "_d", adequate, inclusive=True)
        prev = prev_pd.where(ev_type == "progression", prev_death)
        ref = prev.fillna(start)
        gap = (ev_date - ref).dt.days
        limit = np.where(prev.isna() & (ev_type == "death"),
                         rules.death_window_days if rules.death_window_days is not None
                         else rules.max_gap_days, rules.max_gap_days)
        missed = has_ev & (gap > limit)
        b.loc[missed, "event"] = 0
        b.loc[missed, "event_type"] = "censored"
        b.loc[missed, "end_date"] = ref[missed]
        what = np.where(ev_type == "death", "death ", "progression ")
        anchor = np.where(prev.isna(), "no adequate assessment before it (at origin)",
                          "last adequate assessment " + ref.dt.strftime("%Y-%m-%d"))
        b.loc[missed, "reason"] = (
            "censored: " + pd.Series(what, index=b.index)[missed]
            + ev_date[missed].dt.strftime("%Y-%m-%d") + " after >= 2 missed assessments; "
            + pd.Series(anchor, index=b.index)[missed])
        b.loc[missed, "rule"] = np.where(prev[missed].isna() & (ev_type[missed] == "death"),
                                         "R5.3.2", "R5.3.7")

    # new anticancer therapy before the event (R5.3.6): censor at the last assessment on or
    # before its start, unless the patient is already censored earlier
    if rules.censor_at_new_therapy:
        th = b["therapy_date"]
        last_on_th = _last_visit_before(b.assign(_d=th), "_d", censoring, inclusive=True)
        last_on_th = last_on_th.where(last_on_th >= start)
        cens_th = last_on_th.fillna(start)
        relevant = th.notna() & (ev_date.isna() | (th < ev_date))
        earlier = (b["event"] == 1) | b["end_date"].isna() | (cens_th < b["end_date"])
        apply = relevant & earlier
        b.loc[apply, "event"] = 0
        b.loc[apply, "event_type"] = "censored"
        b.loc[apply, "end_date"] = cens_th[apply]
        b.loc[apply, "reason"] = (
            "censored: new anticancer therapy " + th[apply].dt.strftime("%Y-%m-%d")
            + "; last adequate assessment on or before it "
            + last_on_th[apply].dt.strftime("%Y-%m-%d").fillna("none (at start)"))
        b.loc[apply, "rule"] = "R5.3.6"
    return b


def _no_baseline(b: pd.DataFrame, no_baseline: pd.Series) -> pd.DataFrame:
    """R5.3.1: no baseline tumour assessment -> censored at the origin."""
    if not no_baseline.any():
        return b
    b = b.copy()
    b.loc[no_baseline, "event"] = 0
    b.loc[no_baseline, "event_type"] = "censored"
    b.loc[no_baseline, "end_date"] = b.loc[no_baseline, "origin_date"]
    b.loc[no_baseline, "reason"] = "censored: no baseline tumour assessment (at origin)"
    b.loc[no_baseline, "rule"] = "R5.3.1"
    return b


def _response(p, v, therapy, rules: EndpointRules, df_responses) -> pd.DataFrame:
    """Time to response: event = first CR/PR; PD/death before it are competing (event 0)."""
    b = p.copy()
    adequate = v.loc[v["overall_response"].isin(ADEQUATE_RESPONSES)]
    censoring = v.loc[v["overall_response"].isin(rules.censoring_responses)]
    first_resp, resp_code = _first_response(b, v, df_responses)
    first_pd = b["patient_id"].map(adequate.loc[adequate["overall_response"] == "PD"]
                                   .groupby("patient_id")["assessment_date"].min())
    death = b["death_date"]
    last_cens = b["patient_id"].map(censoring.groupby("patient_id")["assessment_date"].max())
    th = b["patient_id"].map(therapy) if len(therapy) else pd.Series(pd.NaT, index=b.index)
    th = pd.to_datetime(th)
    b["event"] = 0
    b["event_type"] = "censored"
    b["end_date"] = last_cens.fillna(b["origin_date"])
    b["reason"] = np.where(last_cens.notna(), "censored: last adequate assessment "
                           + last_cens.dt.strftime("%Y-%m-%d").fillna(""),
                           "censored: no adequate post-baseline assessment (at origin)")
    b["rule"] = np.where(last_cens.notna(), "R5.3.8", "R5.3.2")
    competing = pd.concat([first_pd, death], axis=1).min(axis=1)
    comp_type = np.where(first_pd.notna() & (death.isna() | (first_pd <= death)), "progression",
                         "death")
    is_resp = first_resp.notna() & (competing.isna() | (first_resp < competing))
    is_comp = ~is_resp & competing.notna()
    b.loc[is_comp, "end_date"] = competing[is_comp]
    b.loc[is_comp, "event_type"] = pd.Series(comp_type, index=b.index)[is_comp]
    b.loc[is_comp, "reason"] = ("competing event: "
                                + pd.Series(comp_type, index=b.index)[is_comp]
                                + " " + competing[is_comp].dt.strftime("%Y-%m-%d"))
    b.loc[is_comp, "rule"] = "R5.2 (TTR competing)"
    b.loc[is_resp, "end_date"] = first_resp[is_resp]
    b.loc[is_resp, "event"] = 1
    b.loc[is_resp, "event_type"] = "response"
    b.loc[is_resp, "reason"] = ("response (" + resp_code[is_resp] + " "
                                + first_resp[is_resp].dt.strftime("%Y-%m-%d") + ")")
    b.loc[is_resp, "rule"] = "R5.2"
    if rules.censor_at_new_therapy:
        hit = th.notna() & (th < b["end_date"])
        last_on_th = _last_visit_before(b.assign(_d=th), "_d", censoring, inclusive=True)
        b.loc[hit, "event"] = 0
        b.loc[hit, "event_type"] = "censored"
        b.loc[hit, "end_date"] = last_on_th.fillna(b["origin_date"])[hit]
        b.loc[hit, "reason"] = ("censored: new anticancer therapy "
                                + th[hit].dt.strftime("%Y-%m-%d"))
        b.loc[hit, "rule"] = "R5.3.6"
    return b


def _first_response(b: pd.DataFrame, v: pd.DataFrame, df_responses):
    """First response date and code per row of ``b`` (from df_responses if given)."""
    if df_responses is not None:
        _require_columns(df_responses, ["patient_id", "first_response_date"], "responses",
                         "derive_endpoints")
        r = df_responses
        if "is_responder" in r.columns:
            r = r.loc[r["is_responder"].astype("boolean").fillna(False).to_numpy()]
        r = pd.DataFrame({"patient_id": r["patient_id"].astype(str).to_numpy(),
                          "d": _to_dates(r["first_response_date"], "responses",
                                         "first_response_date").to_numpy()}).dropna()
        first = b["patient_id"].map(r.groupby("patient_id")["d"].min())
        code = b["patient_id"].map(
            v.loc[v["overall_response"].isin(["CR", "PR"])]
            .set_index(["patient_id", "assessment_date"])["overall_response"]
            .groupby(level=0).first()
        ).fillna("CR/PR")
        return first, code
    resp = v.loc[v["overall_response"].isin(["CR", "PR"])].sort_values(
        ["patient_id", "assessment_date"], kind="mergesort")
    # only responses before the first PD count
    first_pd = v.loc[v["overall_response"] == "PD"].groupby("patient_id")["assessment_date"].min()
    resp = resp.loc[~(resp["assessment_date"] > resp["patient_id"].map(first_pd))]
    firsts = resp.drop_duplicates("patient_id", keep="first").set_index("patient_id")
    return (b["patient_id"].map(firsts["assessment_date"]),
            b["patient_id"].map(firsts["overall_response"]))


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
