"""Timepoint (per-visit) response under RECIST 1.1 and mRECIST, from lesion measurements.

Implements R1.3–R1.8 (docs/rules/response.md) (RECIST 1.1, Eisenhauer et al., Eur J Cancer
2009;45:228-247), §2.2-§2.4 (mRECIST, Lencioni & Llovet, Semin Liver Dis 2010;30:52-60) and
the response scopes of §4.2. All thresholds are compared in exact arithmetic (§0).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtDataError
from sirtstats.response._common import (
    CONFIRM_MIN_DAYS,
    CRITERIA,
    HCC_ATYPICAL_GROWTH_MM,
    HCC_NEW_LESION_MIN_MM,
    NEW_LESION_CODES,
    NODE_NORMAL_BELOW_MM,
    NONTARGET_SEVERITY,
    RESPONSE_CODES,
    SCOPES,
    STATES,
    TOO_SMALL_MM,
    as_bool,
    check_bool,
    check_choice,
    check_nonneg_int,
    code_of,
    exact_scale,
    exact_to_float,
    first_keys,
    fmt_dmm,
    fmt_mm,
    fmt_pct,
    group_cummin_exclusive,
    isin,
    pd_condition,
    pr_condition,
    require_columns,
    to_dates,
    to_exact,
)
from sirtstats.response.classify import compute_overall_response

__all__ = ["TIMEPOINT_COLUMNS", "derive_timepoint_response"]

#: Output columns of :func:`derive_timepoint_response`, in order.
TIMEPOINT_COLUMNS: list[str] = [
    "patient_id", "criterion", "scope", "assessment_date", "is_baseline",
    "n_targets", "n_targets_assessed",
    "target_sum_mm", "baseline_sum_mm", "nadir_sum_mm",
    "change_from_baseline_mm", "pct_change_from_baseline",
    "change_from_nadir_mm", "pct_change_from_nadir",
    "target_response", "target_response_continuing", "nontarget_response",
    "new_lesion", "new_lesion_reported", "overall_response", "rule",
]

_LESION_COLS = ["lesion_id", "patient_id", "baseline_date", "organ", "is_nodal",
                "in_treated_territory"]
_MEAS_COLS = ["lesion_id", "assessment_date", "criterion", "fragment", "state", "diameter_mm",
              "nontarget_status"]
_ASSESS_COLS = ["patient_id", "assessment_date", "criterion", "new_lesion"]
_FN = "derive_timepoint_response"
#: Non-target statuses by severity (index = severity, R1.6).
_NT_ORDER = tuple(sorted(NONTARGET_SEVERITY, key=NONTARGET_SEVERITY.get))
_DAY_KEY = 100_000  # lesion-date lookup key = lesion code * _DAY_KEY + day number
_DAY0 = int(np.datetime64("1900-01-01", "D").astype(np.int64))  # day number 0


def _role_column(criterion: str) -> str:
    return "recist_role" if criterion == "RECIST_1_1" else "mrecist_role"


def _days(dates: pd.Series) -> np.ndarray:
    """Day numbers (int64) counted from 1900-01-01; NaT is not allowed here."""
    d = dates.to_numpy("datetime64[D]").astype(np.int64) - _DAY0
    if len(d) and (d.min() < 0 or d.max() >= _DAY_KEY):
        raise SirtDataError("dates must lie between 1900-01-01 and 2173-10-14.",
                            rule="date range")
    return d


def _prepare(df_lesions, df_measurements, df_assessments, criterion):
    """Validate and reduce the three tables to the criterion (copies, inputs untouched).

    Adds integer keys: lesions ``code`` (row position) and ``pcode`` (patient), measurements
    ``code`` and ``day``, assessments ``pcode`` and ``day``; returns the patient index too.
    """
    role_col = _role_column(criterion)
    require_columns(df_lesions, [*_LESION_COLS, role_col], "lesions", _FN)
    require_columns(df_measurements, _MEAS_COLS, "lesion_measurements", _FN)
    require_columns(df_assessments, _ASSESS_COLS, "imaging_assessments", _FN)

    keep = [*_LESION_COLS, role_col] + (["is_arterially_enhancing"]
                                        if "is_arterially_enhancing" in df_lesions else [])
    les = df_lesions.loc[df_lesions[role_col].isin(["target", "non_target"]), keep].copy()
    les = les.rename(columns={role_col: "role"}).reset_index(drop=True)
    if les["lesion_id"].duplicated().any():
        rows = les.loc[les["lesion_id"].duplicated(keep=False)]
        raise SirtDataError(
            f"lesions.lesion_id: {len(rows)} rows share a lesion_id; first keys: "
            f"{first_keys(rows, ['patient_id', 'lesion_id'])}.",
            table="lesions", column="lesion_id", rule="unique key", rows=rows)
    les["baseline_date"] = to_dates(les["baseline_date"], "lesions", "baseline_date")
    if les["baseline_date"].isna().any():
        rows = les.loc[les["baseline_date"].isna()]
        raise SirtDataError(
            f"lesions.baseline_date: {len(rows)} lesions have no baseline date; first keys: "
            f"{first_keys(rows, ['patient_id', 'lesion_id'])}.",
            table="lesions", column="baseline_date", rule="required", rows=rows)
    les["code"] = np.arange(len(les))
    les["bday"] = _days(les["baseline_date"])

    crit = df_measurements["criterion"].to_numpy(dtype=object)
    cols = _MEAS_COLS + (["is_enhancing"] if "is_enhancing" in df_measurements.columns else [])
    code = pd.Index(les["lesion_id"]).get_indexer(df_measurements["lesion_id"])
    sel = (crit == criterion) & (code >= 0)
    meas = df_measurements.loc[sel, cols]  # .loc with a mask returns a new frame
    meas["code"] = code[sel]
    meas["assessment_date"] = to_dates(meas["assessment_date"], "lesion_measurements",
                                       "assessment_date")
    meas["day"] = _days(meas["assessment_date"])
    meas["state_code"] = code_of(meas["state"], list(STATES))
    meas["nt_code"] = code_of(meas["nontarget_status"], list(_NT_ORDER))
    _validate_measurements(meas)

    acrit = df_assessments["criterion"].to_numpy(dtype=object)
    extra = [c for c in ("new_lesion_site", "new_lesion_in_treated_territory",
                         "new_lesion_size_mm", "new_lesion_typical_hcc")
             if c in df_assessments.columns]
    ass = df_assessments.loc[acrit == criterion, _ASSESS_COLS + extra].copy()
    ass["assessment_date"] = to_dates(ass["assessment_date"], "imaging_assessments",
                                      "assessment_date")
    bad = ass["new_lesion"].notna() & ~ass["new_lesion"].isin(NEW_LESION_CODES)
    if bad.any():
        rows = ass.loc[bad]
        raise SirtDataError(
            f'imaging_assessments.new_lesion: {int(bad.sum())} rows violate "new_lesion in '
            f'{NEW_LESION_CODES}"; first keys (patient_id, assessment_date): '
            f"{first_keys(rows, ['patient_id', 'assessment_date'])}.",
            table="imaging_assessments", column="new_lesion", rule="enum", rows=rows)
    pcode_all, puniq = pd.factorize(pd.concat([les["patient_id"], ass["patient_id"]],
                                              ignore_index=True))
    les["pcode"] = pcode_all[:len(les)]
    ass["pcode"] = pcode_all[len(les):]
    ass["day"] = _days(ass["assessment_date"])
    akey = ass["pcode"].to_numpy(np.int64) * _DAY_KEY + ass["day"].to_numpy()
    dup = pd.Series(akey).duplicated(keep=False).to_numpy()
    if dup.any():
        rows = ass.loc[dup]
        raise SirtDataError(
            f"imaging_assessments: {len(rows)} rows share a key (patient_id, assessment_date, "
            f"criterion); first keys: {first_keys(rows, ['patient_id', 'assessment_date'])}.",
            table="imaging_assessments", column="assessment_date", rule="unique key",
            rows=rows)
    return les, meas, ass, puniq


def _validate_measurements(m: pd.DataFrame) -> None:
    diam = m["diameter_mm"].to_numpy(dtype=float)
    bad_state = m["state_code"].to_numpy() == -2
    bad_diam = ~np.isnan(diam) & ~(diam >= 0)
    bad_nt = m["nt_code"].to_numpy() == -2
    for mask, col, rule in ((bad_state, "state", f"state in {STATES}"),
                            (bad_diam, "diameter_mm", "diameter_mm >= 0"),
                            (bad_nt, "nontarget_status",
                             f"nontarget_status in {tuple(NONTARGET_SEVERITY)}")):
        if mask.any():
            rows = m.loc[mask]
            raise SirtDataError(
                f'lesion_measurements.{col}: {int(mask.sum())} rows violate "{rule}"; first '
                f"keys (lesion_id, assessment_date): "
                f"{first_keys(rows, ['lesion_id', 'assessment_date'])}.",
                table="lesion_measurements", column=col, rule=rule, rows=rows)
    frag = pd.to_numeric(m["fragment"], errors="coerce").fillna(0).to_numpy(np.int64)
    key = (m["code"].to_numpy(np.int64) * _DAY_KEY + m["day"].to_numpy()) * 64 + frag % 64
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        rows = m.loc[dup]
        raise SirtDataError(
            f"lesion_measurements: {int(dup.sum())} rows share a key (lesion_id, "
            f"assessment_date, criterion, fragment); first keys: "
            f"{first_keys(rows, ['lesion_id', 'assessment_date'])}.",
            table="lesion_measurements", column="lesion_id", rule="unique key", rows=rows)


def _in_scope(les: pd.DataFrame, scope: str) -> np.ndarray:
    liver = (les["organ"].to_numpy(dtype=object) == "liver")
    if scope == "overall":
        return np.ones(len(les), dtype=bool)
    if scope == "hepatic":
        return liver
    return liver & as_bool(les["in_treated_territory"])


def _fragment_values(meas: pd.DataFrame) -> np.ndarray:
    """Value (mm) of each fragment row: R1.3.2 too small -> 5, disappeared/merged -> 0."""
    st = meas["state_code"].to_numpy()
    diam = meas["diameter_mm"].to_numpy(dtype=float)
    measured = (st == STATES.index("measured")) | ((st == -1) & ~np.isnan(diam))
    zero = (st == STATES.index("disappeared")) | (st == STATES.index("merged"))
    return np.select([measured, st == STATES.index("too_small"), zero],
                     [diam, float(TOO_SMALL_MM), 0.0], default=np.nan)


def _lesion_dates(meas: pd.DataFrame, lesion_code: pd.Index):
    """One row per lesion and date: value (fragments summed exactly), enhancement, status.

    Returns the table, sorted by ``key = code * _DAY_KEY + day`` (``vint``: exact integer
    value, ``val``: mm as float, NaN when not assessed) and the exact scale (integer units per
    mm, R0 (docs/rules/response.md)).
    """
    vals = _fragment_values(meas)
    scale = exact_scale(np.concatenate([vals, [float(TOO_SMALL_MM),
                                               float(NODE_NORMAL_BELOW_MM)]]))
    ints, _ = to_exact(np.where(np.isnan(vals), 0.0, vals), scale)
    code = (meas["code"].to_numpy(np.int64) if "code" in meas.columns
            else lesion_code.get_indexer(meas["lesion_id"]).astype(np.int64))
    day = meas["day"].to_numpy(np.int64) if "day" in meas.columns else _days(
        meas["assessment_date"])
    enh = as_bool(meas["is_enhancing"]) if "is_enhancing" in meas.columns else np.zeros(
        len(meas), dtype=bool)
    st = meas["state_code"].to_numpy()
    # severity = position in _NT_ORDER (CR < NON_CR_NON_PD < NE < PD); missing -> NE
    nt_sev = meas["nt_code"].to_numpy().copy()
    nt_sev[(nt_sev < 0) | (st == STATES.index("not_assessed"))] = NONTARGET_SEVERITY["NE"]
    key = code * _DAY_KEY + day
    f = pd.DataFrame({"key": key, "vint": ints, "na": np.isnan(vals), "enh": enh,
                      "merged": st == STATES.index("merged"), "nt_sev": nt_sev})
    g = f.groupby("key", sort=True)
    out = g.agg(vint=("vint", "sum"), na=("na", "max"), enh=("enh", "max"),
                merged=("merged", "max"), nt_sev=("nt_sev", "max")).reset_index()
    out["code"] = out["key"].to_numpy() // _DAY_KEY
    out["day"] = out["key"].to_numpy() % _DAY_KEY
    out["val"] = np.where(out["na"], np.nan, exact_to_float(out["vint"].to_numpy(), scale))
    return out, scale


def _lookup(table: pd.DataFrame, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Row of ``table`` (sorted by key) for each (lesion code, day), -1 when absent."""
    keys = table["key"].to_numpy()
    q = codes.astype(np.int64) * _DAY_KEY + days.astype(np.int64)
    pos = np.searchsorted(keys, q)
    pos_c = np.minimum(pos, max(len(keys) - 1, 0))
    hit = (pos < len(keys)) & (keys[pos_c] == q) if len(keys) else np.zeros(len(q), bool)
    return np.where(hit, pos_c, -1)


def _build_timepoints(les, meas, ass, puniq) -> pd.DataFrame:
    """Patients x dates (baseline + post-baseline), sorted by patient and date."""
    n_p = len(puniq)
    base = np.full(n_p, -1, dtype=np.int64)
    np.maximum.at(base, les["pcode"].to_numpy(), les["bday"].to_numpy())
    no_les = base < 0
    if no_les.any() and len(ass):  # patients with assessments only: first assessment
        first = np.full(n_p, np.iinfo(np.int64).max)
        np.minimum.at(first, ass["pcode"].to_numpy(), ass["day"].to_numpy())
        base = np.where(no_les, first, base)
    pc_of_lesion = les["pcode"].to_numpy()
    keys = np.concatenate([
        pc_of_lesion[meas["code"].to_numpy()] * _DAY_KEY + meas["day"].to_numpy(),
        ass["pcode"].to_numpy(np.int64) * _DAY_KEY + ass["day"].to_numpy(),
        np.flatnonzero(base >= 0) * _DAY_KEY + base[base >= 0]])
    keys = np.unique(keys)
    pcode = keys // _DAY_KEY
    day = keys % _DAY_KEY
    keep = day >= base[pcode]
    pcode, day = pcode[keep], day[keep]
    return pd.DataFrame({
        "patient_id": puniq.to_numpy(dtype=object)[pcode], "pcode": pcode, "day": day,
        "assessment_date": (day + _DAY0).astype("datetime64[D]").astype("datetime64[ns]"),
        "is_baseline": day == base[pcode]})


def _cross(items_pcode: np.ndarray, tp_pcode: np.ndarray):
    """All (item, timepoint) pairs of the same patient; timepoints sorted by patient."""
    n_p = int(max(items_pcode.max(initial=-1), tp_pcode.max(initial=-1))) + 1
    start = np.searchsorted(tp_pcode, np.arange(n_p))
    count = np.bincount(tp_pcode, minlength=n_p)
    reps = count[items_pcode]
    item = np.repeat(np.arange(len(items_pcode)), reps)
    offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    tp = np.repeat(start[items_pcode], reps) + offs
    return item, tp


def _target_block(tp, tgt, ld, scale, criterion):
    """Per timepoint: n targets, n assessed, exact sum, all-CR flag; per patient baseline."""
    n_tp = len(tp)
    pcode_tp = tp["pcode"].to_numpy()
    vint = ld["vint"].to_numpy()
    if len(tgt) == 0:
        z = np.zeros(n_tp, dtype=np.int64)
        return {"n_t": z, "n_a": z, "c": z.copy(), "all_cr": np.zeros(n_tp, bool),
                "b": z.copy(), "base_ok": np.zeros(n_tp, bool), "has_t": np.zeros(n_tp, bool)}
    item, gtp = _cross(tgt["pcode"].to_numpy(), pcode_tp)
    pos = _lookup(ld, tgt["code"].to_numpy()[item], tp["day"].to_numpy()[gtp])
    found = pos >= 0
    assessed = np.zeros(len(item), dtype=bool)
    assessed[found] = ~ld["na"].to_numpy(dtype=bool)[pos[found]]
    ints = np.zeros(len(item), dtype=vint.dtype)
    ints[assessed] = vint[pos[assessed]]
    enh = np.zeros(len(item), dtype=bool)
    enh[found] = ld["enh"].to_numpy(dtype=bool)[pos[found]]
    nodal = tgt["is_nodal"].to_numpy(dtype=bool)[item]
    # R1.4.2 lesion-by-lesion CR; mRECIST R2.2 also needs no enhancement
    cr_lesion = np.where(nodal, ints < NODE_NORMAL_BELOW_MM * scale, ints == 0)
    if criterion == "mRECIST":
        cr_lesion = cr_lesion & (nodal | ~enh)
    cr_lesion = np.asarray(cr_lesion, dtype=bool) & assessed
    n_t = np.bincount(gtp, minlength=n_tp)
    n_a = np.bincount(gtp, weights=assessed, minlength=n_tp).astype(np.int64)
    n_cr = np.bincount(gtp, weights=cr_lesion, minlength=n_tp).astype(np.int64)
    if ints.dtype == object:
        c = pd.Series(ints).groupby(gtp).sum().reindex(range(n_tp), fill_value=0).to_numpy()
    else:  # sums of int64 below 2**53 are exact in float64
        c = np.round(np.bincount(gtp, weights=ints, minlength=n_tp)).astype(np.int64)
    # baseline: each target's value on its own baseline date
    bpos = _lookup(ld, tgt["code"].to_numpy(), tgt["bday"].to_numpy())
    bok = np.zeros(len(tgt), dtype=bool)
    bok[bpos >= 0] = ~ld["na"].to_numpy(dtype=bool)[bpos[bpos >= 0]]
    bints = np.zeros(len(tgt), dtype=vint.dtype)
    bints[bok] = vint[bpos[bok]]
    n_pat = int(max(pcode_tp.max(), tgt["pcode"].max())) + 1
    tp_pc = tgt["pcode"].to_numpy()
    if bints.dtype == object:
        b_pat = pd.Series(bints).groupby(tp_pc).sum().reindex(range(n_pat),
                                                               fill_value=0).to_numpy()
    else:
        b_pat = np.round(np.bincount(tp_pc, weights=bints, minlength=n_pat)).astype(np.int64)
    ok_pat = np.bincount(tp_pc, weights=~bok, minlength=n_pat) == 0
    has_t = n_t > 0
    b = np.where(has_t, b_pat[pcode_tp], 0)
    base_ok = has_t & ok_pat[pcode_tp] & np.asarray(b > 0, dtype=bool)
    return {"n_t": n_t, "n_a": n_a, "c": c, "all_cr": (n_cr == n_t) & has_t, "b": b,
            "base_ok": base_ok, "has_t": has_t}


def _nontarget_block(tp, nt, ld):
    """Per timepoint non-target response (R1.6) or None when there is no non-target disease."""
    n_tp = len(tp)
    out = np.full(n_tp, None, dtype=object)
    if len(nt) == 0:
        return out
    item, gtp = _cross(nt["pcode"].to_numpy(), tp["pcode"].to_numpy())
    pos = _lookup(ld, nt["code"].to_numpy()[item], tp["day"].to_numpy()[gtp])
    sev = np.full(len(item), NONTARGET_SEVERITY["NE"], dtype=np.int64)  # no row: not assessed
    sev[pos >= 0] = ld["nt_sev"].to_numpy()[pos[pos >= 0]]
    worst = np.full(n_tp, -1, dtype=np.int64)
    np.maximum.at(worst, gtp, sev)
    names = np.array(sorted(NONTARGET_SEVERITY, key=NONTARGET_SEVERITY.get), dtype=object)
    has = worst >= 0
    out[has] = names[worst[has]]
    return out


def _new_lesions(tp, ass, *, criterion, scope, apply_hcc, hcc_min_mm, hcc_growth_mm, backdate):
    """New-lesion status per timepoint after scope filtering, HCC rules (R2.4.4), back-dating."""
    n_tp = len(tp)
    akey = ass["pcode"].to_numpy(np.int64) * _DAY_KEY + ass["day"].to_numpy()
    tkey = tp["pcode"].to_numpy(np.int64) * _DAY_KEY + tp["day"].to_numpy()
    idx = pd.Index(akey).get_indexer(tkey)
    has_row = idx >= 0
    safe = np.maximum(idx, 0)

    def col(name, dtype=object):
        if name not in ass.columns:
            return None
        if not len(ass):
            return np.full(n_tp, np.nan if dtype is float else None, dtype=dtype)
        return ass[name].to_numpy(dtype=dtype)[safe]

    reported = np.where(has_row, col("new_lesion"), None).astype(object)
    reported = np.where(pd.isna(reported), None, reported).astype(object)
    site = col("new_lesion_site")
    site = (np.where(has_row & ~pd.isna(site), site, None).astype(object) if site is not None
            else np.full(n_tp, None, dtype=object))
    if "new_lesion_in_treated_territory" in ass.columns and len(ass):
        tr_raw = ass["new_lesion_in_treated_territory"].astype("boolean")
        tr_known = (~tr_raw.isna()).to_numpy()[safe] & has_row
        tr_val = tr_raw.fillna(False).to_numpy(dtype=bool)[safe]
    else:
        tr_known = np.zeros(n_tp, bool)
        tr_val = np.zeros(n_tp, bool)
    present = isin(reported, ["YES", "EQUIVOCAL"])
    note = np.full(n_tp, "", dtype=object)
    if scope == "overall":
        counts = present
    else:
        site_ok = (site == "intrahepatic") | pd.isna(site)
        tr_ok = np.ones(n_tp, bool) if scope == "hepatic" else (tr_val | ~tr_known)
        counts = present & site_ok & tr_ok
        out_scope = present & ~counts
        note[out_scope] = "new lesion outside the scope not counted (R4.2.1)"
        unknown = present & counts & (pd.isna(site) | (~tr_known if scope == "treated"
                                                       else False))
        note[unknown] = "new lesion with unknown site counted in this scope"
    status = np.where(counts, reported, np.where(pd.isna(reported), None, "NO")).astype(object)
    status[~has_row] = "NO"
    note[~has_row & ~tp["is_baseline"].to_numpy()] = (
        "no imaging_assessments row: new lesions assumed absent")
    pcode = tp["pcode"].to_numpy()
    size_col = col("new_lesion_size_mm", float)
    if criterion == "mRECIST" and apply_hcc and size_col is not None:
        size = np.where(has_row, size_col, np.nan)
        hcc = isin(status, ["YES", "EQUIVOCAL"]) & (site == "intrahepatic") & ~np.isnan(size)
        if hcc.any():
            brk = ~isin(status, ["YES", "EQUIVOCAL"])
            run = pd.Series(brk).groupby(pcode).cumsum().to_numpy()
            first_size = pd.Series(np.where(hcc, size, np.nan)).groupby(
                [pcode, run]).transform("first").to_numpy()
            sc = exact_scale(np.concatenate([size[hcc], first_size[hcc],
                                             [hcc_min_mm, hcc_growth_mm]]))
            s_i, _ = to_exact(np.where(hcc, size, 0.0), sc)
            f_i, _ = to_exact(np.where(hcc & ~np.isnan(first_size), first_size, 0.0), sc)
            min_i, _ = to_exact(np.array([float(hcc_min_mm), float(hcc_growth_mm)]), sc)
            typ = col("new_lesion_typical_hcc")
            typical = (np.asarray(pd.Series(typ).astype("boolean").fillna(False), dtype=bool)
                       & has_row if typ is not None else np.zeros(n_tp, bool))
            big = np.asarray(s_i >= min_i[0], dtype=bool)
            grown = np.asarray(s_i - f_i >= min_i[1], dtype=bool)
            is_hcc = big & (typical | grown)
            status[hcc] = np.where(is_hcc[hcc], "YES", "EQUIVOCAL")
            note[hcc & ~is_hcc] = "intrahepatic nodule not yet meeting the HCC rules (R2.4.4)"
    backdated = np.zeros(n_tp, dtype=bool)
    confirm_date = np.full(n_tp, None, dtype=object)
    if backdate and (status == "EQUIVOCAL").any():
        # reversed order: an EQUIVOCAL run directly before a YES becomes YES (R1.7.2)
        rev = np.arange(n_tp)[::-1]
        st = np.where(pd.isna(status[rev]), "NA", status[rev]).astype(object)
        seg = pd.Series(st != "EQUIVOCAL").groupby(pcode[rev]).cumsum()
        grp = [pcode[rev], seg.to_numpy()]
        head = pd.Series(st).groupby(grp).transform("first").to_numpy()
        head_date = pd.Series(tp["assessment_date"].to_numpy()[rev]).groupby(grp).transform(
            "first").to_numpy()
        bd = (st == "EQUIVOCAL") & (head == "YES")
        backdated[rev[bd]] = True
        confirm_date[rev[bd]] = head_date[bd]
        status[backdated] = "YES"
    status[tp["is_baseline"].to_numpy()] = None
    reported[tp["is_baseline"].to_numpy()] = None
    return status, reported, note, backdated, confirm_date


def _continuing(tr, pcode, day, confirm_min_days):
    """R1.4.6 display column: strict SD after a confirmed target PR is shown as PR."""
    resp = isin(tr, ["PR", "CR"])
    brk = ~(resp | (tr == "NE"))
    run = pd.Series(brk).groupby(pcode).cumsum().to_numpy()
    big = np.iinfo(np.int64).max // 2
    start = pd.Series(np.where(resp, day, big)).groupby([pcode, run]).cummin().to_numpy()
    conf = resp & (day - start >= confirm_min_days)
    conf_so_far = pd.Series(conf).groupby(pcode).cummax().to_numpy(dtype=bool)
    pd_seen = pd.Series(tr == "PD").groupby(pcode).cummax().to_numpy(dtype=bool)
    return np.where((tr == "SD") & conf_so_far & ~pd_seen, "PR", tr).astype(object)


def _fmt_many(values: np.ndarray, fmt, decimals: int) -> np.ndarray:
    """Format floats through their unique rounded values (display only; fast for many rows)."""
    v = np.asarray(values, dtype=float)
    out = np.full(len(v), "?", dtype=object)
    ok = np.isfinite(v)
    if ok.any():
        u, inv = np.unique(np.round(v[ok], decimals), return_inverse=True)
        out[ok] = np.array([fmt(float(x)) for x in u], dtype=object)[inv]
    return out


def _ints(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)
    table = np.array([str(i) for i in range(int(v.max(initial=0)) + 1)], dtype=object)
    return table[np.maximum(v, 0)]


def _rules(d: dict, criterion: str, requires_abs: bool) -> np.ndarray:
    """One explanation per row (which rule decided, with the numbers).

    Rows are assigned to the first matching rule (same order as the classification); each
    template is filled for its rows only, with numbers formatted once per distinct value.
    """
    w = "viable sum" if criterion == "mRECIST" else "sum"
    n_rows = len(d["overall"])
    tr, ntr, new, ov = d["tr"], d["ntr"], d["new"], d["overall"]
    is_base, has_t, base_ok = d["is_baseline"], d["has_t"], d["base_ok"]
    n_t, n_a = d["n_t"], d["n_a"]
    c, b, n = d["c_mm"], d["b_mm"], d["n_mm"]
    cs, bs, ns = (_fmt_many(x, fmt_mm, 6) for x in (c, b, n))
    pbs = _fmt_many(d["pct_b"], fmt_pct, 1)
    pns = _fmt_many(d["pct_n"], fmt_pct, 1)
    dns = _fmt_many(c - n, fmt_dmm, 6)
    nts, nas = _ints(n_t), _ints(n_a)
    partial = n_a < n_t
    ntr_s = np.where(pd.isna(ntr), "none", ntr).astype(object)
    out = np.full(n_rows, "", dtype=object)
    done = np.zeros(n_rows, dtype=bool)

    def put(mask, text, *cols):
        nonlocal done
        m = mask & ~done
        if m.any():
            if cols:
                out[m] = [text.format(*x) for x in zip(*(col[m] for col in cols),
                                                        strict=True)]
            else:
                out[m] = text
        done |= m

    put(is_base & has_t, "baseline: " + w + " {} mm over {} target(s)", cs, nts)
    put(is_base, "baseline: no target lesion in scope")
    bd = np.array([x is not None for x in d["confirm_date"]], dtype=bool)
    if bd.any():
        dates = np.full(n_rows, "", dtype=object)
        dates[bd] = [pd.Timestamp(x).date().isoformat() for x in d["confirm_date"][bd]]
        put((new == "YES") & bd, "PD: new lesion first seen equivocal here, confirmed on {} "
            "(back-dated, R1.7.2)", dates)
    put(new == "YES", "PD: new lesion (R1.7.4)")
    pd_t = tr == "PD"
    part = np.where(partial, "partial ", "").astype(object)
    extra = np.full(n_rows, "", dtype=object)
    if partial.any():
        extra[partial] = [f" ({x}/{y} targets measured, R1.5.2)"
                          for x, y in zip(nas[partial], nts[partial], strict=True)]
    put(pd_t & (n == 0), "PD: {}" + w + " {} mm after nadir 0 mm (R1.4.5){}", part, cs, extra)
    rule = "R1.4.1" if criterion == "RECIST_1_1" else (
        "R2.2, 5 mm rule on" if requires_abs else "R2.2, 5 mm rule off")
    put(pd_t, "PD: {}" + w + " {} mm is {} and {} over nadir {} mm (" + rule + "){}",
        part, cs, pns, dns, ns, extra)
    put(ntr == "PD", "PD: unequivocal non-target progression (R1.6)")
    no_t = ~has_t
    put(no_t & pd.isna(ntr), "NE: no baseline disease in this scope")
    put(no_t & (ntr == "CR"), "CR: non-target disease only, all disappeared (R1.8.2)")
    put(no_t & (ntr == "NON_CR_NON_PD"),
        "NON_CR_NON_PD: non-target disease only, persisting (R1.8.2)")
    put(no_t, "NE: non-target lesion(s) not assessed (R1.8.2)")
    put(~base_ok, "NE: no valid baseline sum (a target lacks a baseline measurement)")
    put(tr == "NE", "NE: {} of {} targets not assessed; partial " + w
        + " {} mm does not meet PD (R1.5.2)", _ints(n_t - n_a), nts, cs)
    crit = ("all targets non-enhancing (R2.2)" if criterion == "mRECIST"
            else "non-nodal targets 0 mm, nodal targets < 10 mm (R1.4.2)")
    put((tr == "CR") & (ov == "CR"), "CR: " + crit + "; non-targets {}; no new lesion (R1.8.1)",
        ntr_s)
    put(tr == "CR", "PR: targets CR (" + crit + ") but non-targets {} (R1.8.1)", ntr_s)
    # the two commonest rules use f-strings (several times faster than str.format)
    m = (tr == "PR") & ~done
    out[m] = [f"PR: {w} {x} mm is {y} from baseline {z} mm (>= 30 % decrease, R1.4.3)"
              for x, y, z in zip(cs[m], pbs[m], bs[m], strict=True)]
    done |= m
    m = ~done
    out[m] = [f"SD: {w} {x} mm is {y} from baseline {z} mm and {u} ({v}) over nadir {t} mm "
              f"(R1.4.4)" for x, y, z, u, v, t in zip(cs[m], pbs[m], bs[m], pns[m], dns[m], ns[m],
                                                      strict=True)]
    eq = (new == "EQUIVOCAL") & ~is_base
    out[eq] = out[eq] + "; equivocal new lesion (PD only once confirmed, R1.7.2)"
    note = d["note"]
    has_note = note != ""
    out[has_note] = out[has_note] + "; " + note[has_note]
    return out


def derive_timepoint_response(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    df_assessments: pd.DataFrame,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    scope: Literal["overall", "hepatic", "treated"] = "overall",
    mrecist_pd_requires_5mm: bool = False,
    backdate_confirmed_equivocal: bool = True,
    apply_hcc_new_lesion_rules: bool = True,
    hcc_new_lesion_min_mm: float = HCC_NEW_LESION_MIN_MM,
    hcc_atypical_growth_mm: float = HCC_ATYPICAL_GROWTH_MM,
    continuing_pr_confirm_min_days: int = CONFIRM_MIN_DAYS,
    include_baseline: bool = False,
) -> pd.DataFrame:
    """Derive the response of every patient at every imaging date under one criterion and scope.

    Parameters
    ----------
    df_lesions : DataFrame
        The ``lesions`` table: ``lesion_id`` (str, unique), ``patient_id`` (str),
        ``baseline_date`` (datetime64), ``organ`` (str; "liver" for hepatic lesions),
        ``is_nodal`` (bool), ``recist_role`` / ``mrecist_role`` (``target``, ``non_target``,
        ``none``), ``in_treated_territory`` (bool). Roles are taken as given (they are the
        reader's choice; see :func:`derive_target_eligibility` for the checks).
    df_measurements : DataFrame
        The ``lesion_measurements`` table: ``lesion_id``, ``assessment_date`` (datetime64),
        ``criterion``, ``fragment`` (int; fragments of a split lesion are summed, R1.3.3),
        ``state`` (``measured``, ``too_small`` = 5 mm, ``disappeared`` = 0 mm, ``merged`` =
        0 mm, ``not_assessed``), ``diameter_mm`` (float, mm, >= 0: long axis, node short axis,
        or mRECIST viable diameter), ``nontarget_status`` (``CR``, ``NON_CR_NON_PD``, ``PD``,
        ``NE``) and, for mRECIST, ``is_enhancing`` (bool). The baseline value of a lesion is
        its row dated ``lesions.baseline_date``.
    df_assessments : DataFrame
        The ``imaging_assessments`` table: ``patient_id``, ``assessment_date``,
        ``criterion``, ``new_lesion`` (``YES``, ``NO``, ``EQUIVOCAL``) and optionally
        ``new_lesion_site`` (``intrahepatic``/``extrahepatic``),
        ``new_lesion_in_treated_territory`` (bool), ``new_lesion_size_mm`` (mm),
        ``new_lesion_typical_hcc`` (bool).
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion (case-insensitive). Selects the role column and the measurement rows.
    scope : {"overall", "hepatic", "treated"}, default "overall"
        Response scope (R4.2): ``hepatic`` uses liver lesions and intrahepatic new lesions;
        ``treated`` uses liver lesions with ``in_treated_territory`` and intrahepatic new
        lesions in the treated territory. A new lesion with unknown site counts (noted).
    mrecist_pd_requires_5mm : bool, default False
        D2: add the RECIST 1.1 absolute +5 mm condition to mRECIST target PD.
    backdate_confirmed_equivocal : bool, default True
        R1.7.2: an equivocal new lesion confirmed at a later visit makes the visit where it
        first appeared PD (the run of EQUIVOCAL visits directly before the confirming visit).
    apply_hcc_new_lesion_rules : bool, default True
        R2.4.4 (mRECIST only): an intrahepatic new lesion with a recorded size is new HCC when
        >= ``hcc_new_lesion_min_mm`` with the typical pattern, or >= that size after interval
        growth of >= ``hcc_atypical_growth_mm`` since it first appeared; otherwise EQUIVOCAL.
    hcc_new_lesion_min_mm : float, default 10
        Minimum size (mm) of a new intrahepatic HCC (R2.4.4).
    hcc_atypical_growth_mm : float, default 10
        Interval growth (mm) confirming an atypical nodule (D12: grows *by* 10 mm).
    continuing_pr_confirm_min_days : int, default 28
        Days between two target PR/CR for the display column ``target_response_continuing``
        (R1.4.6).
    include_baseline : bool, default False
        Also return the baseline row of each patient (``is_baseline`` True, responses empty).

    Returns
    -------
    DataFrame
        One row per patient x imaging date after baseline (sorted by patient and date) with
        the columns of :data:`TIMEPOINT_COLUMNS`: ``target_sum_mm`` (sum of the assessed
        targets, partial when ``n_targets_assessed < n_targets``), ``baseline_sum_mm``,
        ``nadir_sum_mm`` (smallest complete sum before this visit, baseline included),
        ``change_from_baseline_mm`` / ``pct_change_from_baseline`` (%; negative = shrinkage),
        ``change_from_nadir_mm`` / ``pct_change_from_nadir`` (NaN when the nadir is 0),
        ``target_response`` (strict, R1.4), ``target_response_continuing`` (R1.4.6 display),
        ``nontarget_response`` (None = no non-target disease), ``new_lesion`` (after scope,
        HCC rules and back-dating), ``new_lesion_reported`` (as recorded),
        ``overall_response`` (R1.8) and ``rule`` (which rule decided, with the numbers).
        Codes: CR PR SD NON_CR_NON_PD PD NE. ``DataFrame.attrs["settings"]`` records every
        option.

    Raises
    ------
    SirtDataError
        Missing columns, invalid codes, negative diameters, duplicated keys or lesions
        without a baseline date (``.rows`` holds the offending rows).
    ValueError
        Invalid argument values.

    See Also
    --------
    derive_best_overall_response : BOR from these timepoints.
    derive_target_eligibility : baseline target checks (R1.1, R1.2, R2.1).

    Notes
    -----
    Target values: measured diameter; too small to measure 5 mm; disappeared or merged 0 mm;
    fragments of a split lesion summed (R1.3). Sums are compared in exact integers
    (R0, docs/rules/response.md): PD ``(C − N) × 5 ≥ N`` and (RECIST 1.1, or mRECIST with the
    5 mm switch) ``C − N ≥ 5 mm``; with a zero nadir any increase is relative PD (R1.4.5,
    R2.2.1); PR ``(B − C) × 10 ≥ 3 × B``. Order: PD, CR (lesion by lesion: non-nodal 0 mm,
    nodes < 10 mm; mRECIST: no enhancement), PR, SD. A visit with a target not assessed is NE
    unless the partial sum already meets PD (R1.5.2); partial sums never become the nadir.
    Non-target response is the worst lesion status (PD > NE > NON_CR_NON_PD > CR, R1.6);
    a non-target lesion with no row at a visit is NE. Overall response follows R1.8 (new
    lesion YES -> PD; target or non-target PD -> PD; then the tables).

    References
    ----------
    RECIST 1.1: Eisenhauer EA et al., Eur J Cancer 2009;45:228-247, sections 4.3-4.4.
    mRECIST: Lencioni R, Llovet JM, Semin Liver Dis 2010;30:52-60.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.response import derive_timepoint_response
    >>> les = pd.DataFrame({"lesion_id": ["L1"], "patient_id": ["P1"],
    ...     "baseline_date": pd.to_datetime(["2024-01-02"]), "organ": ["liver"],
    ...     "is_nodal": [False], "recist_role": ["target"], "mrecist_role": ["none"],
    ...     "in_treated_territory": [True]})
    >>> meas = pd.DataFrame({"lesion_id": ["L1", "L1"],
    ...     "assessment_date": pd.to_datetime(["2024-01-02", "2024-03-01"]),
    ...     "criterion": "RECIST_1_1", "fragment": 1, "state": "measured",
    ...     "diameter_mm": [33.0, 23.1], "nontarget_status": None})
    >>> ass = pd.DataFrame({"patient_id": ["P1", "P1"],
    ...     "assessment_date": pd.to_datetime(["2024-01-02", "2024-03-01"]),
    ...     "criterion": "RECIST_1_1", "new_lesion": "NO"})
    >>> tp = derive_timepoint_response(les, meas, ass)
    >>> tp[["target_sum_mm", "pct_change_from_baseline", "overall_response"]]
       target_sum_mm  pct_change_from_baseline overall_response
    0           23.1                     -30.0               PR
    >>> tp["rule"].iloc[0]
    'PR: sum 23.1 mm is -30.0 % from baseline 33 mm (>= 30 % decrease, R1.4.3)'
    """
    criterion = check_choice(criterion, CRITERIA, "criterion", _FN)
    scope = check_choice(scope, SCOPES, "scope", _FN)
    requires_abs = check_bool(mrecist_pd_requires_5mm, "mrecist_pd_requires_5mm", _FN) or (
        criterion == "RECIST_1_1")
    backdate = check_bool(backdate_confirmed_equivocal, "backdate_confirmed_equivocal", _FN)
    apply_hcc = check_bool(apply_hcc_new_lesion_rules, "apply_hcc_new_lesion_rules", _FN)
    include_baseline = check_bool(include_baseline, "include_baseline", _FN)
    confirm_days = check_nonneg_int(continuing_pr_confirm_min_days,
                                    "continuing_pr_confirm_min_days", _FN)
    for name, val in (("hcc_new_lesion_min_mm", hcc_new_lesion_min_mm),
                      ("hcc_atypical_growth_mm", hcc_atypical_growth_mm)):
        if isinstance(val, bool) or not isinstance(val, int | float) or not val >= 0:
            raise ValueError(f"The {name!r} argument of {_FN} must be a number >= 0. "
                             f"Got {val!r} instead.")

    les, meas, ass, puniq = _prepare(df_lesions, df_measurements, df_assessments, criterion)
    tp = _build_timepoints(les, meas, ass, puniq)
    ld, scale = _lesion_dates(meas, pd.Index(les["lesion_id"]))
    scoped = les.loc[_in_scope(les, scope)].copy()
    scoped["is_nodal"] = as_bool(scoped["is_nodal"])
    tgt = scoped.loc[scoped["role"].to_numpy() == "target"]
    nt = scoped.loc[scoped["role"].to_numpy() == "non_target"]

    tb = _target_block(tp, tgt, ld, scale, criterion)
    is_base = tp["is_baseline"].to_numpy(dtype=bool)
    complete = tb["has_t"] & (tb["n_a"] == tb["n_t"])
    c = np.where(is_base, tb["b"], tb["c"])
    valid_nadir = tb["base_ok"] & (complete | is_base)
    nadir, has_nadir = group_cummin_exclusive(c, valid_nadir, tp["pcode"].to_numpy())
    b = tb["b"]
    n = np.where(has_nadir & ~is_base, nadir, b)  # the baseline row is the first valid row

    ok = tb["has_t"] & tb["base_ok"] & ~is_base
    pdc = ok & (tb["n_a"] > 0) & pd_condition(c, n, scale=scale, requires_abs=requires_abs)
    prc = ok & pr_condition(c, b)
    tr = np.select(
        [~tb["has_t"] | is_base, ~tb["base_ok"], pdc, ~complete, tb["all_cr"], prc],
        [None, "NE", "PD", "NE", "CR", "PR"], default="SD").astype(object)
    ntr = _nontarget_block(tp, nt, ld)
    ntr[is_base] = None
    new, reported, note, backdated, confirm_date = _new_lesions(
        tp, ass, criterion=criterion, scope=scope, apply_hcc=apply_hcc,
        hcc_min_mm=hcc_new_lesion_min_mm, hcc_growth_mm=hcc_atypical_growth_mm,
        backdate=backdate)
    overall = compute_overall_response(tr, ntr, new)
    overall[is_base] = None
    cont = _continuing(tr, tp["pcode"].to_numpy(), tp["day"].to_numpy(), confirm_days)

    has_sum = tb["has_t"] & tb["base_ok"]
    c_mm = np.where(tb["has_t"], exact_to_float(c, scale), np.nan)
    c_mm[tb["has_t"] & (tb["n_a"] == 0) & ~is_base] = np.nan
    b_mm = np.where(has_sum, exact_to_float(b, scale), np.nan)
    n_mm = np.where(has_sum, exact_to_float(n, scale), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_b = np.where(b_mm > 0, 100.0 * (c_mm - b_mm) / b_mm, np.nan)
        pct_n = np.where(n_mm > 0, 100.0 * (c_mm - n_mm) / n_mm, np.nan)
    keep = np.ones(len(tp), bool) if include_baseline else ~is_base
    parts = {"overall": overall, "tr": tr, "ntr": ntr, "new": new, "is_baseline": is_base,
             "has_t": tb["has_t"], "base_ok": tb["base_ok"], "n_t": tb["n_t"], "n_a": tb["n_a"],
             "c_mm": c_mm, "b_mm": b_mm, "n_mm": n_mm, "pct_b": pct_b, "pct_n": pct_n,
             "note": note, "confirm_date": confirm_date}
    rules = _rules({k: v[keep] for k, v in parts.items()}, criterion, requires_abs)
    cols = {
        "patient_id": tp["patient_id"].to_numpy(dtype=object),
        "criterion": criterion,
        "scope": scope,
        "assessment_date": tp["assessment_date"].to_numpy(),
        "is_baseline": is_base,
        "n_targets": pd.array(tb["n_t"], dtype="Int64"),
        "n_targets_assessed": pd.array(tb["n_a"], dtype="Int64"),
        "target_sum_mm": c_mm,
        "baseline_sum_mm": b_mm,
        "nadir_sum_mm": n_mm,
        "change_from_baseline_mm": c_mm - b_mm,
        "pct_change_from_baseline": pct_b,
        "change_from_nadir_mm": c_mm - n_mm,
        "pct_change_from_nadir": pct_n,
        "target_response": tr,
        "target_response_continuing": cont,
        "nontarget_response": ntr,
        "new_lesion": new,
        "new_lesion_reported": reported,
        "overall_response": overall,
    }
    out = pd.DataFrame({**{k: (v[keep] if isinstance(v, np.ndarray | pd.api.extensions.
                                                      ExtensionArray) else v)
                           for k, v in cols.items()}, "rule": rules}, columns=TIMEPOINT_COLUMNS)
    out.attrs["settings"] = {
        "criterion": criterion, "scope": scope,
        "mrecist_pd_requires_5mm": bool(mrecist_pd_requires_5mm),
        "backdate_confirmed_equivocal": backdate,
        "apply_hcc_new_lesion_rules": apply_hcc,
        "hcc_new_lesion_min_mm": hcc_new_lesion_min_mm,
        "hcc_atypical_growth_mm": hcc_atypical_growth_mm,
        "continuing_pr_confirm_min_days": confirm_days,
        "exact_scale_per_mm": int(scale),
    }
    assert set(out["overall_response"].dropna()) <= set(RESPONSE_CODES)
    return out
