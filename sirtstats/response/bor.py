"""Best overall response (BOR), unconfirmed and confirmed, from timepoint responses.

Implements RECIST 1.1 R1.9 (Eisenhauer et al., Eur J Cancer 2009;45:228-247, section 4.4 and
Table 3) with the sirtstats defaults of docs/rules/decisions.md (D4-D6), which are those of the
pharmaverse ``admiralonco`` pre-defined events ``bor_*``/``cbor_*``: confirmation at least 28
days later, at most one NE between, SD between not accepted, no PR after a CR, and an SD
minimum of 42 days from the origin (first SIRT). The same algorithm serves mRECIST (R2.3).
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.response import _borcore as core
from sirtstats.response._common import (
    CONFIRM_MIN_DAYS,
    MAX_NE_BETWEEN,
    MAX_SD_BETWEEN,
    RESPONSE_CODES,
    SD_MIN_DAYS,
    check_bool,
    check_choice,
    check_nonneg_int,
    first_keys,
    isin,
    require_columns,
    to_dates,
)
from sirtstats.response._tpcore import index_codes

__all__ = ["BOR_COLUMNS", "PR_AFTER_CR_MODES", "check_pr_after_cr",
           "derive_best_overall_response"]

#: Output columns of :func:`derive_best_overall_response`.
BOR_COLUMNS: list[str] = [
    "patient_id", "criterion", "scope", "confirmed", "origin_date", "bor", "bor_date",
    "is_responder", "is_disease_control", "first_response_date", "first_pd_date",
    "disease_control_date", "last_assessment_date", "n_assessments", "pr_after_cr_flag",
    "rule",
]

#: R1.9.5 handling of a PR after a CR (D4).
PR_AFTER_CR_MODES: tuple[str, ...] = ("flag_only", "treat_as_pd", "recode_cr_as_pr")

#: Same-day duplicates: keep the worst (admiralonco ANL01FL ranking; NE least bad).
#: ``ND`` (not done) ranks below NE; it is only kept with ``include_nd=True``.
_SAME_DAY_RANK = {"ND": 0, "NE": 1, "CR": 2, "PR": 3, "SD": 4, "NON_CR_NON_PD": 5, "PD": 6}
_BIG = np.iinfo(np.int64).max
_FN = "derive_best_overall_response"
_DAY0 = int(np.datetime64("1900-01-01", "D").astype(np.int64))


def _first_pos(mask: np.ndarray, pos: np.ndarray, gid: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group: first position where ``mask`` holds (``pos`` is ``arange``), _BIG for none."""
    return core.first_pos(mask, gid, n_groups)


def _is(rc: np.ndarray, *codes: str) -> np.ndarray:
    """Rows whose response (as its same-day rank ``rc``, -1 unknown) is one of ``codes``."""
    table = np.zeros(len(_SAME_DAY_RANK) + 1, dtype=bool)  # last slot: rank -1
    table[[_SAME_DAY_RANK[c] for c in codes]] = True
    return table[rc]


def _confirm(w: pd.DataFrame, rc: np.ndarray, code: str, *, min_days: int, max_ne: int,
             max_sd: int):
    """For every row with response ``code`` (CR or PR): position of the confirming row or -1.

    The confirming row is the first later row with CR (for a CR) or CR/PR (for a PR) dated at
    least ``min_days`` later; every row in between must be CR/NE (CR) or CR/PR/NE (PR, plus at
    most ``max_sd`` SD), with at most ``max_ne`` NE and, for a PR, no PR after a CR.
    ``rc``: the rows' responses as same-day ranks.
    """
    pos = np.arange(len(w))
    conf_pos = np.full(len(w), -1, dtype=np.int64)
    gid = w["gid"].to_numpy()
    i = np.flatnonzero(_is(rc, code))
    if not len(i):
        return conf_pos
    cand = np.flatnonzero(_is(rc, "CR") if code == "CR" else _is(rc, "CR", "PR"))
    j = core.confirming_rows(i, cand, gid, w["day"].to_numpy(np.int64), max(min_days, 1))
    if j is None:  # groups not contiguous: merge_asof
        j = _confirming_asof(w, i, cand, min_days)
    i, j = i[j >= 0], j[j >= 0]
    if not len(i):
        return conf_pos
    allowed = ["CR", "NE"] if code == "CR" else ["CR", "PR", "NE"] + (["SD"] if max_sd else [])
    cum_bad = np.cumsum(~_is(rc, *allowed))
    cum_ne = np.cumsum(_is(rc, "NE"))
    cum_sd = np.cumsum(_is(rc, "SD"))
    ok = ((cum_bad[j - 1] - cum_bad[i] == 0) & (cum_ne[j - 1] - cum_ne[i] <= max_ne)
          & (cum_sd[j - 1] - cum_sd[i] <= max_sd))
    if code == "PR":
        is_cr = _is(rc, "CR")
        nxt = np.where(is_cr, pos, _BIG)[::-1]
        nxt = np.minimum.accumulate(nxt)[::-1]  # first CR at or after each position
        next_cr = np.append(nxt[1:], _BIG)[i]  # first CR strictly after i
        cum_pr = np.cumsum(_is(rc, "PR"))
        inside = next_cr < j
        safe = np.where(inside, next_cr, 0)
        pr_after = inside & (cum_pr[j] - cum_pr[safe] > 0)
        ok &= ~pr_after
    conf_pos[i[ok]] = j[ok]
    return conf_pos


def _confirming_asof(w, i, cand, min_days) -> np.ndarray:
    """:func:`._borcore.confirming_rows` by ``pd.merge_asof`` (any row order)."""
    out = np.full(len(i), -1, dtype=np.int64)
    if not len(cand):
        return out
    left = w.iloc[i][["gid", "day"]].assign(pos_i=np.arange(len(i)))
    right = w.iloc[cand][["gid", "day"]].assign(pos_j=cand).rename(columns={"day": "day_j"})
    left["key"] = left["day"] + max(min_days, 1)
    m = pd.merge_asof(left.sort_values("key"), right.sort_values("day_j"), left_on="key",
                      right_on="day_j", by="gid", direction="forward")
    m = m.loc[m["pos_j"].notna()]
    out[m["pos_i"].to_numpy(dtype=np.int64)] = m["pos_j"].to_numpy(dtype=np.int64)
    return out


def _therapy_start(df_therapies, origin: pd.Series) -> pd.Series:
    require_columns(df_therapies, ["patient_id", "start_date"], "other_therapies", _FN)
    t = df_therapies.copy()
    t["start_date"] = to_dates(t["start_date"], "other_therapies", "start_date")
    if "is_planned_with_sirt" in t.columns:
        t = t.loc[~t["is_planned_with_sirt"].astype("boolean").fillna(False).to_numpy(bool)]
    t = t.loc[t["patient_id"].isin(origin.index)]
    t = t.loc[t["start_date"] > t["patient_id"].map(origin)]
    return t.groupby("patient_id")["start_date"].min()


def _source_pd_days(df_pd: pd.DataFrame, o_index: pd.Index) -> np.ndarray:
    """Earliest PD day (days since 1970, int64) per patient of ``o_index``; _BIG for none."""
    require_columns(df_pd, ["patient_id", "pd_date"], "source_pd", _FN)
    dates = to_dates(df_pd["pd_date"], "source_pd", "pd_date")
    first = pd.Series(dates.to_numpy(), index=df_pd["patient_id"].to_numpy()).dropna()
    first = first.groupby(level=0).min().reindex(o_index)
    out = np.full(len(o_index), _BIG, dtype=np.int64)
    has = first.notna().to_numpy()
    out[has] = first.to_numpy()[has].astype("datetime64[D]").astype(np.int64)
    return out


def derive_best_overall_response(
    df_timepoints: pd.DataFrame,
    df_origin: pd.DataFrame,
    *,
    confirm: bool,
    confirm_min_days: int = CONFIRM_MIN_DAYS,
    sd_min_days: int = SD_MIN_DAYS,
    max_ne_between: int = MAX_NE_BETWEEN,
    accept_sd_between: bool = False,
    max_sd_between: int = MAX_SD_BETWEEN,
    pr_after_cr_mode: Literal["flag_only", "treat_as_pd", "recode_cr_as_pr"] = "flag_only",
    df_therapies: pd.DataFrame | None = None,
    df_pd: pd.DataFrame | None = None,
    is_source_pd_an_assessment: bool = True,
    include_nd: bool = False,
    missing_as_ne: bool = False,
) -> pd.DataFrame:
    """Derive the best overall response of each patient, criterion and scope (R1.9).

    Parameters
    ----------
    df_timepoints : DataFrame
        Timepoint responses: ``patient_id``, ``assessment_date`` (datetime64),
        ``overall_response`` (CR, PR, SD, NON_CR_NON_PD, PD, NE; ``ND`` and missing values
        are not assessments and are ignored) and optionally ``criterion``, ``scope``,
        ``is_baseline`` (baseline rows are ignored). Output of
        :func:`derive_timepoint_response` or :func:`derive_reported_timepoints`.
    df_origin : DataFrame
        The analysis set: one row per patient with ``patient_id`` and ``origin_date`` (first
        SIRT, datetime64). Patients absent from ``df_timepoints`` get ``MISSING``; timepoints
        of patients absent from ``df_origin`` are not used.
    confirm : bool
        Require confirmation of CR/PR (R1.9.3-R1.9.4). Always state it in outputs.
    confirm_min_days : int, default 28
        Minimum days (inclusive) between a response and the assessment confirming it.
    sd_min_days : int, default 42
        Minimum days (inclusive) from the origin for an assessment to support SD or
        NON_CR_NON_PD (R1.9.1, D6).
    max_ne_between : int, default 1
        Maximum NE assessments between a response and its confirmation (D5).
    accept_sd_between : bool, default False
        Accept SD between a PR and its confirmation (D5), at most ``max_sd_between`` of them.
        Mirrors admiralonco ``derive_param_confirmed_bor(accept_sd = TRUE)``.
    max_sd_between : int, default 1
        Maximum SD assessments between a PR and its confirmation when ``accept_sd_between``
        is True (admiralonco accepts exactly one: PR, SD, PR is confirmed; PR, SD, SD, PR is
        not). Ignored when ``accept_sd_between`` is False.
    pr_after_cr_mode : {"flag_only", "treat_as_pd", "recode_cr_as_pr"}, default "flag_only"
        R1.9.5 / D4. ``flag_only``: flag, and the later PR cannot confirm the CR;
        ``treat_as_pd``: the later PR becomes PD (the CR was real); ``recode_cr_as_pr``: the
        CR becomes PR (the CR was wrong).
    df_therapies : DataFrame, optional
        ``other_therapies`` (``patient_id``, ``start_date``, ``is_planned_with_sirt``).
        Assessments after the first new anticancer therapy started after the origin (and not
        planned with SIRT) are not used (R1.9, R5.4); an assessment on the start day is used.
    df_pd : DataFrame, optional
        A separate record of progression (e.g. the investigator's PD date, or a PD from
        clinical progression without a per-visit response): ``patient_id`` and ``pd_date``
        (datetime64; missing dates ignored; the earliest per patient is used). Timepoints
        after ``pd_date`` are not used (those on the date are). Applies to every criterion
        and scope of ``df_timepoints`` (filter it first). Mirrors admiralonco ``source_pd``
        (``derive_param_bor``, ``derive_param_confirmed_bor``, ``derive_param_response``).
    is_source_pd_an_assessment : bool, default True
        With ``df_pd``: the record is also a PD timepoint on ``pd_date`` (if on or after the
        origin and not after new therapy), so the BOR is PD when nothing better qualified
        before it (R1.9.2 rule 5: progression was documented). False reproduces
        admiralonco, where ``source_pd`` only ends the assessment period (a patient whose
        only PD is the source record and who has no earlier timepoint gets MISSING).
    include_nd : bool, default False
        Keep ``ND`` (not done: a visit without assessment) timepoints as admiralonco does:
        a patient whose only used timepoints are ND gets BOR ``ND`` (below NE, above
        MISSING), and an ND between a response and its confirmation breaks it. Default:
        ND rows are not assessments and are ignored (R1.9.2 rule 7: MISSING).
    missing_as_ne : bool, default False
        Report patients without any used assessment as ``NE`` instead of ``MISSING``
        (admiralonco ``missing_as_ne = TRUE``). Either way they stay non-responders in the
        denominators (R1.10).

    Returns
    -------
    DataFrame
        One row per patient of ``df_origin`` x (criterion, scope) in ``df_timepoints``, with
        :data:`BOR_COLUMNS`: ``bor`` (CR, PR, SD, NON_CR_NON_PD, PD, NE, MISSING; ND with
        ``include_nd``),
        ``bor_date`` (the assessment that decided it; for a confirmed response the date the
        response was first met), ``is_responder`` (CR/PR), ``is_disease_control``
        (CR/PR/SD/NON_CR_NON_PD), ``first_response_date`` (first CR/PR; confirmed ones when
        ``confirm``), ``first_pd_date``, ``disease_control_date`` (earliest date qualifying
        for disease control), ``last_assessment_date`` (last assessment on/after the origin,
        after PD included; before new therapy), ``n_assessments`` (used, up to the first PD),
        ``pr_after_cr_flag`` (data query, R1.9.5) and ``rule``.

    Raises
    ------
    SirtDataError
        Missing columns, unknown response codes, duplicated or missing origins.
    ValueError
        Invalid argument values.

    See Also
    --------
    derive_timepoint_response, summarise_response_rates

    Notes
    -----
    Assessments used: on or after the origin, up to and including the first PD, before new
    therapy; same-day duplicates keep the worst. Unconfirmed (R1.9.2, first rule wins): any CR;
    any PR; any CR/PR/SD at >= ``sd_min_days``; any NON_CR_NON_PD at >= ``sd_min_days``; any
    PD; any assessment -> NE; none -> MISSING. Confirmed (R1.9.4): a CR confirmed by a later CR
    at >= ``confirm_min_days`` with only CR/NE between (<= ``max_ne_between`` NE); a PR
    confirmed by a later CR/PR with only CR/PR/NE between (plus at most ``max_sd_between`` SD
    with ``accept_sd_between``) and no PR after a CR; then the
    SD/NON_CR_NON_PD/PD/NE/MISSING rules (unconfirmed responses fall back to SD).

    References
    ----------
    RECIST 1.1: Eisenhauer EA et al., Eur J Cancer 2009;45:228-247, section 4.4.
    admiralonco (pharmaverse), ``R/response_sources.R``: events ``bor_*``, ``cbor_*``.

    Examples
    --------
    >>> import pandas as pd
    >>> tp = pd.DataFrame({"patient_id": "P1", "assessment_date": pd.to_datetime(
    ...     ["2024-03-06", "2024-04-03", "2024-05-01"]), "overall_response": ["PR", "NE", "PR"]})
    >>> origin = pd.DataFrame({"patient_id": ["P1", "P2"],
    ...                        "origin_date": pd.Timestamp("2024-01-10")})
    >>> bor = derive_best_overall_response(tp, origin, confirm=True)
    >>> bor[["patient_id", "bor", "bor_date", "is_responder"]]
      patient_id      bor   bor_date  is_responder
    0         P1       PR 2024-03-06          True
    1         P2  MISSING        NaT         False
    """
    opt = _options(confirm=confirm, confirm_min_days=confirm_min_days,
                   sd_min_days=sd_min_days, max_ne_between=max_ne_between,
                   accept_sd_between=accept_sd_between, max_sd_between=max_sd_between,
                   pr_after_cr_mode=pr_after_cr_mode,
                   is_source_pd_an_assessment=is_source_pd_an_assessment,
                   include_nd=include_nd, missing_as_ne=missing_as_ne)
    require_columns(df_timepoints, ["patient_id", "assessment_date", "overall_response"],
                    "timepoints", _FN)
    require_columns(df_origin, ["patient_id", "origin_date"], "origin", _FN)
    org = _origin_table(df_origin)
    rows = _timepoint_rows(df_timepoints, org, include_nd=opt["include_nd"])
    _cut_rows(rows, org, df_therapies, df_pd, pd_counts=opt["is_source_pd_an_assessment"])
    v, groups, last_date = _visits(rows, org)
    n_g = len(groups)
    w, flag = _used_assessments(v, opt["pr_after_cr_mode"], n_g)
    pos = _bor_positions(w, opt, n_g)
    out = _bor_frame(groups, w, pos, flag, last_date, opt)
    out.attrs["settings"] = {
        "confirm": opt["confirm"], "confirm_min_days": opt["confirm_min_days"],
        "sd_min_days": opt["sd_min_days"], "max_ne_between": opt["max_ne_between"],
        "accept_sd_between": opt["accept_sd_between"], "max_sd_between": opt["max_sd"],
        "pr_after_cr_mode": opt["pr_after_cr_mode"],
        "new_therapy_cut": df_therapies is not None,
        "source_pd": df_pd is not None,
        "is_source_pd_an_assessment": opt["is_source_pd_an_assessment"],
        "include_nd": opt["include_nd"], "missing_as_ne": opt["missing_as_ne"],
    }
    return out


def _options(**kw) -> dict:
    """Validated arguments of :func:`derive_best_overall_response`."""
    def mode(value, name, fn):
        return check_choice(value, PR_AFTER_CR_MODES, name, fn)

    checks = (("confirm", check_bool), ("confirm_min_days", check_nonneg_int),
              ("sd_min_days", check_nonneg_int), ("max_ne_between", check_nonneg_int),
              ("accept_sd_between", check_bool), ("max_sd_between", check_nonneg_int),
              ("pr_after_cr_mode", mode), ("is_source_pd_an_assessment", check_bool),
              ("include_nd", check_bool), ("missing_as_ne", check_bool))
    opt = {name: check(kw[name], name, _FN) for name, check in checks}  # in argument order
    opt["max_sd"] = opt["max_sd_between"] if opt["accept_sd_between"] else 0
    return opt


def _origin_table(df_origin: pd.DataFrame) -> dict:
    """One validated origin per patient: frame, Series by patient, index and day numbers."""
    origin = df_origin[["patient_id", "origin_date"]].copy()
    origin["origin_date"] = to_dates(origin["origin_date"], "origin", "origin_date")
    bad = origin["patient_id"].duplicated(keep=False) | origin["origin_date"].isna()
    if bad.any():
        rows = origin.loc[bad]
        raise SirtDataError(
            f"origin: {int(bad.sum())} rows have a duplicated patient_id or no origin_date; "
            f"first keys (patient_id): {first_keys(rows, ['patient_id'])}.",
            table="origin", column="origin_date", rule="one origin per patient", rows=rows)
    return {"origin": origin, "origin_s": origin.set_index("patient_id")["origin_date"],
            "o_index": pd.Index(origin["patient_id"]),
            "o_day": origin["origin_date"].to_numpy("datetime64[D]").astype(np.int64)}


def _factorize(values: np.ndarray):
    """``pd.factorize``, with a fast path for a column holding one string (the usual case)."""
    if len(values) and isinstance(values[0], str) and bool((values == values[0]).all()):
        return np.zeros(len(values), dtype=np.int64), np.array([values[0]], dtype=object)
    return pd.factorize(values)


def _combinations(tp: pd.DataFrame, settings: dict, keep: np.ndarray):
    """(criterion, scope) combinations in order of appearance, and each row's combination."""
    n_tp = len(tp)
    crit = (tp["criterion"].to_numpy(dtype=object) if "criterion" in tp.columns
            else np.full(n_tp, settings.get("criterion", "RECIST_1_1"), dtype=object))
    scope = (tp["scope"].to_numpy(dtype=object) if "scope" in tp.columns
             else np.full(n_tp, settings.get("scope", "overall"), dtype=object))
    c_code, c_uniq = _factorize(crit)
    s_code, s_uniq = _factorize(scope)
    n_s = max(len(s_uniq), 1)
    cs = c_code.astype(np.int64) * n_s + s_code
    cs_used, cs_first = np.unique(cs[keep], return_index=True)
    cs_used = cs_used[np.argsort(cs_first, kind="stable")]
    if len(cs_used):
        combos = pd.DataFrame({"criterion": c_uniq[cs_used // n_s],
                               "scope": s_uniq[cs_used % n_s]})
    else:
        combos = pd.DataFrame({"criterion": [settings.get("criterion", "RECIST_1_1")],
                               "scope": [settings.get("scope", "overall")]})
    combo_of = np.full(int(cs.max(initial=-1)) + 1, -1, dtype=np.int64)
    combo_of[cs_used] = np.arange(len(cs_used))
    return combos, combo_of[cs]


def _response_ranks(tp: pd.DataFrame, resp_all: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Same-day rank of each response code; unknown codes of used rows raise."""
    rank_all = core.same_day_ranks(resp_all, _SAME_DAY_RANK)
    bad = keep & (rank_all < 0)
    if bad.any():
        rows = tp.loc[bad].assign(resp=resp_all[bad])
        raise SirtDataError(
            f'timepoints.overall_response: {int(bad.sum())} rows violate "overall_response in '
            f'{RESPONSE_CODES}"; first keys (patient_id, assessment_date): '
            f"{first_keys(rows, ['patient_id', 'assessment_date'])}.",
            table="timepoints", column="overall_response", rule="response code", rows=rows)
    return rank_all


def _timepoint_rows(tp: pd.DataFrame, org: dict, *, include_nd: bool) -> dict:
    """Rows of the timepoints that can be used: group (patient x combination), day, code."""
    settings = tp.attrs.get("settings", {}) if isinstance(tp.attrs, dict) else {}
    keep = np.ones(len(tp), dtype=bool)
    if "is_baseline" in tp.columns:
        keep = ~tp["is_baseline"].astype("boolean").fillna(False).to_numpy(bool)
    combos, combo = _combinations(tp, settings, keep)
    resp_all = tp["overall_response"].to_numpy(dtype=object)
    keep &= ~pd.isna(resp_all)
    if not include_nd:
        keep &= resp_all != "ND"
    rank_all = _response_ranks(tp, resp_all, keep)
    p = index_codes(org["o_index"], tp["patient_id"])
    keep &= p >= 0
    day_all = to_dates(tp["assessment_date"], "timepoints", "assessment_date").to_numpy(
        "datetime64[D]").astype(np.int64)
    keep &= day_all >= org["o_day"][np.maximum(p, 0)]
    return {"combos": combos, "n_c": len(combos), "p": p, "keep": keep, "resp": resp_all,
            "rank": rank_all, "day": day_all,
            "gid": p.astype(np.int64) * len(combos) + combo}


def _cut_rows(rows: dict, org: dict, df_therapies, df_pd, *, pd_counts: bool) -> None:
    """New-therapy and source-PD cuts (R1.9, R5.4); the source PD as an assessment (in place)."""
    pp = np.maximum(rows["p"], 0)
    n_c, o_day = rows["n_c"], org["o_day"]
    s_ok = s_day = None
    if df_therapies is not None:
        start = _therapy_start(df_therapies, org["origin_s"]).reindex(org["o_index"])
        s_day = start.to_numpy("datetime64[D]").astype(np.int64)
        s_ok = ~start.isna().to_numpy()
        rows["keep"] &= ~s_ok[pp] | (rows["day"] <= s_day[pp])
    if df_pd is None:
        return
    pd_day = _source_pd_days(df_pd, org["o_index"])
    rows["keep"] &= rows["day"] <= pd_day[pp]
    if not pd_counts:
        return
    ok = (pd_day < _BIG) & (pd_day >= o_day)
    if s_ok is not None:
        ok &= ~s_ok | (pd_day <= s_day)
    pats = np.flatnonzero(ok)
    n_add = len(pats) * n_c
    rows["gid"] = np.concatenate([rows["gid"], (pats[:, None] * n_c + np.arange(n_c)).ravel()])
    rows["day"] = np.concatenate([rows["day"], np.repeat(pd_day[pats], n_c)])
    rows["resp"] = np.concatenate([rows["resp"], np.full(n_add, "PD", dtype=object)])
    rows["rank"] = np.concatenate([rows["rank"], np.full(n_add, _SAME_DAY_RANK["PD"])])
    rows["keep"] = np.concatenate([rows["keep"], np.ones(n_add, dtype=bool)])


def _visits(rows: dict, org: dict):
    """Used visits sorted by group and day (the worst of same-day duplicates), the groups
    (patient x combination) and each group's last assessment date."""
    idx = np.flatnonzero(rows["keep"])
    gid_all, day_all = rows["gid"], rows["day"]
    # sort by group, day, same-day rank; keep the worst response per group and day
    key = (gid_all[idx] * 200_000 + (day_all[idx] - _DAY0)) * 8 + rows["rank"][idx]
    order = np.argsort(key, kind="stable")
    idx, key = idx[order], key[order]
    gd = key // 8
    last = np.ones(len(idx), dtype=bool)
    last[:-1] = gd[1:] != gd[:-1]
    idx = idx[last]
    combos, n_c = rows["combos"], rows["n_c"]
    o_index, origin = org["o_index"], org["origin"]
    n_g = len(o_index) * n_c
    groups = pd.DataFrame({
        "patient_id": np.repeat(o_index.to_numpy(dtype=object), n_c),
        "origin_date": np.repeat(origin["origin_date"].to_numpy(), n_c),
        "criterion": np.tile(combos["criterion"].to_numpy(dtype=object), len(o_index)),
        "scope": np.tile(combos["scope"].to_numpy(dtype=object), len(o_index))})
    gid_v = gid_all[idx]
    v = pd.DataFrame({"gid": gid_v,
                      "assessment_date": (day_all[idx]).astype("datetime64[D]").astype(
                          "datetime64[ns]"),
                      "origin_date": np.repeat(origin["origin_date"].to_numpy(), n_c)[gid_v],
                      "resp": rows["resp"][idx]})
    last_date = np.full(n_g, np.datetime64("NaT"), dtype="datetime64[ns]")
    va = v.loc[v["resp"].to_numpy(dtype=object) != "ND"]
    if len(va):
        g_a = va["gid"].to_numpy()
        ends = np.flatnonzero(np.append(g_a[1:] != g_a[:-1], True))
        last_date[g_a[ends]] = va["assessment_date"].to_numpy()[ends]
    return v, groups, last_date


def _truncate(w: pd.DataFrame) -> pd.DataFrame:
    """Visits up to and including the first PD of each group (R1.9)."""
    is_pd = w["resp"].to_numpy(dtype=object) == "PD"
    before = core.count_before(is_pd, w["gid"].to_numpy())
    return w.loc[before == 0].reset_index(drop=True)


def _used_assessments(v: pd.DataFrame, mode: str, n_g: int):
    """Visits used for the BOR (up to the first PD, PR after CR handled, R1.9.5 / D4), with
    the day from the origin; and the per-group PR-after-CR flag."""
    w = _truncate(v)
    gid = w["gid"].to_numpy()
    resp = w["resp"].to_numpy(dtype=object).copy()
    pr_after_cr = (resp == "PR") & _earlier(resp == "CR", gid)
    flag = np.zeros(n_g, dtype=bool)
    flag[np.unique(gid[pr_after_cr])] = True
    if mode == "treat_as_pd" and pr_after_cr.any():
        resp[pr_after_cr] = "PD"
        w = _truncate(w.assign(resp=resp))
    elif mode == "recode_cr_as_pr" and pr_after_cr.any():
        later_pr = _later(resp == "PR", gid)
        resp[(resp == "CR") & later_pr] = "PR"
        w = w.assign(resp=resp)
    w["day"] = (w["assessment_date"] - w["origin_date"]).dt.days.to_numpy(np.int64)
    return w, flag


def _bor_positions(w: pd.DataFrame, opt: dict, n_g: int) -> dict:
    """Per group: position (row of ``w``) of the first visit qualifying for each BOR code."""
    gid = w["gid"].to_numpy()
    rc = core.same_day_ranks(w["resp"].to_numpy(dtype=object), _SAME_DAY_RANK)
    day = w["day"].to_numpy()
    pos = np.arange(len(w))
    if opt["confirm"]:
        conf_cr = _confirm(w, rc, "CR", min_days=opt["confirm_min_days"],
                           max_ne=opt["max_ne_between"], max_sd=0)
        conf_pr = _confirm(w, rc, "PR", min_days=opt["confirm_min_days"],
                           max_ne=opt["max_ne_between"], max_sd=opt["max_sd"])
        f_cr = _first_pos(conf_cr >= 0, pos, gid, n_g)
        f_pr = _first_pos(conf_pr >= 0, pos, gid, n_g)
        conf_j = np.maximum(conf_cr, conf_pr)
    else:
        f_cr = _first_pos(_is(rc, "CR"), pos, gid, n_g)
        f_pr = _first_pos(_is(rc, "PR"), pos, gid, n_g)
        conf_j = np.full(len(w), -1)
    late = day >= opt["sd_min_days"]
    is_nd = _is(rc, "ND")
    return {"CR": f_cr, "PR": f_pr,
            "SD": _first_pos(_is(rc, "CR", "PR", "SD") & late, pos, gid, n_g),
            "NON_CR_NON_PD": _first_pos(_is(rc, "NON_CR_NON_PD") & late, pos, gid, n_g),
            "PD": _first_pos(_is(rc, "PD"), pos, gid, n_g),
            "NE": _first_pos(~is_nd, pos, gid, n_g), "ND": _first_pos(is_nd, pos, gid, n_g),
            "any_response": _first_pos(_is(rc, "CR", "PR"), pos, gid, n_g),
            "conf_j": conf_j,
            "n_ass": (np.bincount(gid[~is_nd], minlength=n_g) if len(w)
                      else np.zeros(n_g, np.int64))}


def _bor_frame(groups, w, pos, flag, last_date, opt) -> pd.DataFrame:
    """The BOR table (R1.9.2 order: first rule that has a qualifying visit wins)."""
    n_g = len(groups)
    codes = ["CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE", "ND"]
    conds = [pos[c] < _BIG for c in codes]
    bor = np.select(conds, codes, default="MISSING").astype(object)
    bor_pos = np.select(conds, [pos[c] for c in codes], default=_BIG)
    f_resp = np.minimum(pos["CR"], pos["PR"])
    f_dc = np.minimum.reduce([f_resp, pos["SD"], pos["NON_CR_NON_PD"]])
    dates = w["assessment_date"].to_numpy()

    def at(p):
        out = np.full(n_g, np.datetime64("NaT"), dtype="datetime64[ns]")
        ok = p < _BIG
        out[ok] = dates[p[ok]]
        return out

    out = pd.DataFrame({
        "patient_id": groups["patient_id"].to_numpy(dtype=object),
        "criterion": groups["criterion"].to_numpy(dtype=object),
        "scope": groups["scope"].to_numpy(dtype=object),
        "confirmed": opt["confirm"],
        "origin_date": groups["origin_date"].to_numpy(),
        "bor": bor,
        "bor_date": at(bor_pos),
        "is_responder": isin(bor, ["CR", "PR"]),
        "is_disease_control": isin(bor, ["CR", "PR", "SD", "NON_CR_NON_PD"]),
        "first_response_date": at(f_resp),
        "first_pd_date": at(pos["PD"]),
        "disease_control_date": at(f_dc),
        "last_assessment_date": last_date,
        "n_assessments": pd.array(pos["n_ass"], dtype="Int64"),
        "pr_after_cr_flag": flag,
    })
    out["rule"] = _rules(out, bor_pos, pos["conf_j"], pos["any_response"], w,
                         confirm=opt["confirm"], sd_min_days=opt["sd_min_days"],
                         mode=opt["pr_after_cr_mode"])
    if opt["missing_as_ne"]:
        miss = out["bor"].to_numpy(dtype=object) == "MISSING"
        out.loc[miss, "bor"] = "NE"
        out.loc[miss, "rule"] = ("NE: no post-baseline assessment on or after the origin, "
                                 "reported as NE (missing_as_ne=True; R1.9.2)")
    return out[BOR_COLUMNS]

def _earlier(mask: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """True where an earlier row of the same group has ``mask`` True (rows sorted by group)."""
    return core.earlier(mask, gid)


def _later(mask: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """True where a later row of the same group has ``mask`` True."""
    return core.later(mask, gid)


def _int_texts(values: np.ndarray) -> np.ndarray:
    """``values.astype(str)`` as an object array, each distinct integer converted once."""
    uniq, inv = np.unique(values, return_inverse=True)
    return np.array([str(x) for x in uniq.tolist()], dtype=object)[inv.ravel()]


def _row_texts(w: pd.DataFrame, rows: np.ndarray):
    """ISO date, day text, day and response of the rows ``rows`` of ``w``."""
    d = w["day"].to_numpy()[rows]
    # dates are midnights: each distinct day is written once
    uniq, inv = np.unique(w["assessment_date"].to_numpy()[rows], return_inverse=True)
    iso = np.datetime_as_string(uniq, unit="D").astype(object)[inv.ravel()]
    return iso, _int_texts(d), d, w["resp"].to_numpy(dtype=object)[rows]


def _rows(*columns, mask):
    """Rows of the ``mask`` of equal-length arrays, as tuples (iterated as lists)."""
    return zip(*(c[mask].tolist() for c in columns), strict=True)


def _rules(out, bor_pos, conf_j, f_rsp_any, w, *, confirm, sd_min_days, mode) -> np.ndarray:
    """Rule text per BOR row, built column-wise."""
    n = len(out)
    bor = out["bor"].to_numpy(dtype=object)
    has = bor_pos < _BIG
    p = np.where(has, bor_pos, 0)
    resp_cr = isin(bor, ["CR", "PR"])
    if len(w):
        j = np.zeros(n, dtype=np.int64)
        if confirm and len(conf_j):
            j = np.maximum(np.where(has & resp_cr, conf_j[p], 0), 0)
        # texts of the rows the BOR rows cite only (decided row, confirming row)
        iso, day_s, days, resp = _row_texts(w, np.concatenate([p, j]))
        d_p, day_p, r_p, d_j, r_j = iso[:n], day_s[:n], resp[:n], iso[n:], resp[n:]
        gap = _int_texts(days[n:] - days[:n])
    else:
        d_p = day_p = r_p = d_j = r_j = np.full(n, "", dtype=object)
        gap = np.full(n, "0", dtype=object)
    out_t = np.full(n, "", dtype=object)
    sd_txt = str(sd_min_days)
    m = resp_cr
    if confirm:
        out_t[m] = [f"{b}: {b} on {d} (d {x}) confirmed by {r} on {e} ({g} d later, R1.9.4)"
                    for b, d, x, r, e, g in _rows(bor, d_p, day_p, r_j, d_j, gap, mask=m)]
    else:
        out_t[m] = [f"{b}: first {b} on {d} (d {x}; unconfirmed, R1.9.2)"
                    for b, d, x in _rows(bor, d_p, day_p, mask=m)]
    m = isin(bor, ["SD", "NON_CR_NON_PD"])
    out_t[m] = [f"{b}: {r} on {d} at d {x} >= {sd_txt} (R1.9.1)"
                for b, r, d, x in _rows(bor, r_p, d_p, day_p, mask=m)]
    if confirm:
        m2 = m & (f_rsp_any < _BIG)
        out_t[m2] = out_t[m2] + "; response not confirmed (R1.9.4)"
    m = bor == "PD"
    out_t[m] = [f"PD: first PD on {d} (d {x}); no better response qualified before it (SD "
                f"needs d >= {sd_txt}, R1.9.2)" for d, x in _rows(d_p, day_p, mask=m)]
    out_t[bor == "NE"] = ("NE: no assessment qualifies (only NE, or SD/NON_CR_NON_PD before d "
                          + sd_txt + ") (R1.9.2)")
    out_t[bor == "ND"] = ("ND: only not-done assessments (include_nd=True; admiralonco ND)")
    out_t[bor == "MISSING"] = ("MISSING: no post-baseline assessment on or after the origin "
                               "(R1.9.2)")
    flag = out["pr_after_cr_flag"].to_numpy(dtype=bool)
    out_t[flag] = out_t[flag] + f"; PR after CR flagged for review (R1.9.5, {mode})"
    return out_t


def check_pr_after_cr(
    df_timepoints: pd.DataFrame,
    *,
    check_type: Literal["error", "warning"] = "warning",
) -> None:
    """Raise or warn when a CR is followed by a PR (R1.9.5 data query).

    Parameters
    ----------
    df_timepoints : DataFrame
        Timepoint responses: ``patient_id``, ``assessment_date`` (datetime64),
        ``overall_response`` and optionally ``criterion``, ``scope``, ``is_baseline``
        (baseline rows are ignored). Rows after the first PD of a patient (per criterion and
        scope) are not checked, as they are not used for the BOR.
    check_type : {"error", "warning"}, default "warning"
        Raise :class:`SirtDataError` or emit :class:`SirtStatsWarning` (admiralonco
        ``signal_crpr(check_type = ...)``).

    Raises
    ------
    SirtDataError
        With ``check_type="error"`` and at least one CR followed by a PR; ``.rows`` holds the
        CR records followed by a PR and the PR records preceded by a CR (admiralonco
        ``get_crpr_dataset()``).

    Warns
    -----
    SirtStatsWarning
        With ``check_type="warning"`` and at least one CR followed by a PR.

    See Also
    --------
    derive_best_overall_response : ``pr_after_cr_flag`` and ``pr_after_cr_mode``.

    Notes
    -----
    Either the CR was wrong (recode it as PR) or disease came back (the PR is PD); RECIST
    1.1 Table 3 allows both readings, so a reader decides (R1.9.5, docs/rules/response.md, D4).

    Examples
    --------
    >>> import pandas as pd
    >>> tp = pd.DataFrame({"patient_id": "P1", "assessment_date": pd.to_datetime(
    ...     ["2024-03-06", "2024-05-01"]), "overall_response": ["CR", "PR"]})
    >>> try:
    ...     check_pr_after_cr(tp, check_type="error")
    ... except SirtDataError as e:
    ...     print(e.rows["overall_response"].tolist())
    ['CR', 'PR']
    """
    fn = "check_pr_after_cr"
    check_type = check_choice(check_type, ("error", "warning"), "check_type", fn)
    require_columns(df_timepoints, ["patient_id", "assessment_date", "overall_response"],
                    "timepoints", fn)
    t = df_timepoints
    if "is_baseline" in t.columns:
        t = t.loc[~t["is_baseline"].astype("boolean").fillna(False).to_numpy(bool)]
    t = t.loc[t["overall_response"].notna()]
    keys = ["patient_id"] + [c for c in ("criterion", "scope") if c in t.columns]
    t = t.assign(_date=to_dates(t["assessment_date"], "timepoints", "assessment_date"))
    t = t.sort_values([*keys, "_date"], kind="stable")
    resp = t["overall_response"].to_numpy(dtype=object)
    g = t.groupby(keys, sort=False).ngroup().to_numpy()
    is_pd = resp == "PD"
    after_pd = _earlier(is_pd, g)
    used = ~after_pd
    flagged = used & (((resp == "CR") & _later(used & (resp == "PR"), g))
                      | ((resp == "PR") & _earlier(used & (resp == "CR"), g)))
    if not flagged.any():
        return None
    rows = t.loc[flagged].drop(columns="_date")
    n_pat = rows["patient_id"].nunique()
    msg = (f"timepoints: {n_pat} patient(s) have a CR followed by a PR (R1.9.5); first keys "
           f"(patient_id, assessment_date): {first_keys(rows, ['patient_id', 'assessment_date'])}"
           f". Either the CR was wrong (recode it as PR) or the PR is PD: a reader decides; "
           f"see pr_after_cr_mode of derive_best_overall_response().")
    if check_type == "error":
        raise SirtDataError(msg, table="timepoints", column="overall_response",
                            rule="no PR after a CR (R1.9.5)", rows=rows)
    warnings.warn(msg, SirtStatsWarning, stacklevel=2)
    return None
