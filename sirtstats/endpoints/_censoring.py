"""Event dating and censoring of each endpoint kind (R5.2-R5.5): input preparation, per-patient
visit lookups, overall survival, progression, response and duration endpoints.

Part of :mod:`sirtstats.endpoints` (import from there); docs/rules/endpoints.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats._checks import _braced
from sirtstats._checks import require_columns as _require_columns
from sirtstats.endpoints._rules import (
    _SAME_DAY_RANK,
    ADEQUATE_RESPONSES,
    DAYS_PER_MONTH,
    RESPONSE_CODES,
    EndpointRules,
    _fmt,
    _to_dates,
)
from sirtstats.exceptions import SirtDataError

__all__: list[str] = []


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
