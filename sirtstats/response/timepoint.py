"""Timepoint (per-visit) response under RECIST 1.1 and mRECIST, from lesion measurements.

Implements response-criteria.md §1.3-§1.8 (RECIST 1.1, Eisenhauer et al., Eur J Cancer
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
    as_str,
    check_bool,
    check_choice,
    check_nonneg_int,
    exact_scale,
    exact_to_float,
    first_keys,
    fmt_dmm,
    fmt_mm,
    fmt_pct,
    group_cummin_exclusive,
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
_DAY_KEY = 100_000  # lesion-date lookup key = lesion code * _DAY_KEY + day offset


def _role_column(criterion: str) -> str:
    return "recist_role" if criterion == "RECIST_1_1" else "mrecist_role"


def _validate_measurements(m: pd.DataFrame) -> None:
    bad_state = m["state"].notna() & ~m["state"].isin(STATES)
    bad_diam = m["diameter_mm"].notna() & ~(m["diameter_mm"] >= 0)
    bad_nt = m["nontarget_status"].notna() & ~m["nontarget_status"].isin(
        tuple(NONTARGET_SEVERITY))
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
    dup = m.duplicated(["lesion_id", "assessment_date", "fragment"], keep=False)
    if dup.any():
        rows = m.loc[dup]
        raise SirtDataError(
            f"lesion_measurements: {int(dup.sum())} rows share a key (lesion_id, "
            f"assessment_date, criterion, fragment); first keys: "
            f"{first_keys(rows, ['lesion_id', 'assessment_date'])}.",
            table="lesion_measurements", column="lesion_id", rule="unique key", rows=rows)


def _prepare(df_lesions, df_measurements, df_assessments, criterion):
    """Validate and reduce the three tables to the criterion (copies, inputs untouched)."""
    role_col = _role_column(criterion)
    require_columns(df_lesions, [*_LESION_COLS, role_col], "lesions", _FN)
    require_columns(df_measurements, _MEAS_COLS, "lesion_measurements", _FN)
    require_columns(df_assessments, _ASSESS_COLS, "imaging_assessments", _FN)

    les = df_lesions.loc[df_lesions[role_col].isin(["target", "non_target"]),
                         [*_LESION_COLS, role_col]].copy()
    les = les.rename(columns={role_col: "role"})
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
    for opt in ("is_arterially_enhancing",):
        if opt in df_lesions.columns:
            les[opt] = df_lesions.loc[les.index, opt]

    crit = df_measurements["criterion"].astype(object)
    meas = df_measurements.loc[crit == criterion, _MEAS_COLS + (
        ["is_enhancing"] if "is_enhancing" in df_measurements.columns else [])].copy()
    meas["assessment_date"] = to_dates(meas["assessment_date"], "lesion_measurements",
                                       "assessment_date")
    meas = meas.loc[meas["lesion_id"].isin(les["lesion_id"])]
    _validate_measurements(meas)

    acrit = df_assessments["criterion"].astype(object)
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
    if ass.duplicated(["patient_id", "assessment_date"]).any():
        rows = ass.loc[ass.duplicated(["patient_id", "assessment_date"], keep=False)]
        raise SirtDataError(
            f"imaging_assessments: {len(rows)} rows share a key (patient_id, assessment_date, "
            f"criterion); first keys: {first_keys(rows, ['patient_id', 'assessment_date'])}.",
            table="imaging_assessments", column="assessment_date", rule="unique key",
            rows=rows)
    return les, meas, ass


def _in_scope(les: pd.DataFrame, scope: str) -> np.ndarray:
    liver = (les["organ"].astype(object) == "liver").to_numpy()
    if scope == "overall":
        return np.ones(len(les), dtype=bool)
    if scope == "hepatic":
        return liver
    return liver & as_bool(les["in_treated_territory"])


def _fragment_values(meas: pd.DataFrame) -> np.ndarray:
    """Value (mm) of each fragment row: R1.3.2 too small -> 5, disappeared/merged -> 0."""
    state = meas["state"].astype(object).to_numpy()
    diam = meas["diameter_mm"].to_numpy(dtype=float)
    measured = (state == "measured") | (pd.isna(state) & ~np.isnan(diam))
    return np.select(
        [measured, state == "too_small", (state == "disappeared") | (state == "merged")],
        [diam, float(TOO_SMALL_MM), 0.0], default=np.nan)


def _lesion_dates(meas: pd.DataFrame, lesion_code: pd.Index):
    """One row per lesion and date: value (fragments summed exactly), enhancement, status.

    Returns the table (``vint``: exact integer value, ``val``: mm as float, NaN when not
    assessed) and the exact scale (integer units per mm, response-criteria.md §0).
    """
    vals = _fragment_values(meas)
    scale = exact_scale(np.concatenate([vals, [float(TOO_SMALL_MM),
                                               float(NODE_NORMAL_BELOW_MM)]]))
    ints, _ = to_exact(np.where(np.isnan(vals), 0.0, vals), scale)
    code = lesion_code.get_indexer(meas["lesion_id"])
    day = meas["assessment_date"].to_numpy("datetime64[D]").astype(np.int64)
    enh = as_bool(meas["is_enhancing"]) if "is_enhancing" in meas.columns else np.zeros(
        len(meas), dtype=bool)
    nt = meas["nontarget_status"].astype(object).to_numpy()
    state = meas["state"].astype(object).to_numpy()
    nt = np.where(state == "not_assessed", "NE", nt)
    nt_sev = pd.Series(nt).map(NONTARGET_SEVERITY).fillna(NONTARGET_SEVERITY["NE"]).to_numpy(
        dtype=np.int64)
    f = pd.DataFrame({"code": code, "day": day, "vint": ints, "na": np.isnan(vals),
                      "enh": enh, "merged": state == "merged", "nt_sev": nt_sev})
    g = f.groupby(["code", "day"], sort=False)
    out = g.agg(vint=("vint", "sum"), na=("na", "any"), enh=("enh", "any"),
                merged=("merged", "any"), nt_sev=("nt_sev", "max")).reset_index()
    out["val"] = np.where(out["na"], np.nan, exact_to_float(out["vint"].to_numpy(), scale))
    return out, scale


def _lookup(table: pd.DataFrame, codes: np.ndarray, days: np.ndarray, day0: int) -> np.ndarray:
    key_t = table["code"].to_numpy(np.int64) * _DAY_KEY + (table["day"].to_numpy(np.int64) - day0)
    key_q = codes.astype(np.int64) * _DAY_KEY + (days.astype(np.int64) - day0)
    return pd.Index(key_t).get_indexer(key_q)


def _build_timepoints(les: pd.DataFrame, meas: pd.DataFrame, ass: pd.DataFrame) -> pd.DataFrame:
    """Patients x dates (baseline + post-baseline), sorted by patient and date."""
    base = les.groupby("patient_id")["baseline_date"].max()
    ass_first = ass.groupby("patient_id")["assessment_date"].min()
    base = pd.concat([base, ass_first[~ass_first.index.isin(base.index)]])
    pid_of_lesion = les.set_index("lesion_id")["patient_id"]
    dates = pd.concat([
        pd.DataFrame({"patient_id": meas["lesion_id"].map(pid_of_lesion).to_numpy(),
                      "assessment_date": meas["assessment_date"].to_numpy()}),
        ass[["patient_id", "assessment_date"]],
        pd.DataFrame({"patient_id": base.index.to_numpy(), "assessment_date": base.to_numpy()}),
    ], ignore_index=True).drop_duplicates()
    dates["baseline_date"] = dates["patient_id"].map(base)
    dates = dates.loc[dates["assessment_date"] >= dates["baseline_date"]]
    dates = dates.sort_values(["patient_id", "assessment_date"], kind="mergesort")
    dates["is_baseline"] = (dates["assessment_date"] == dates["baseline_date"]).to_numpy()
    return dates.reset_index(drop=True)


def _target_block(tp, tgt, ld, lesion_code, day0, scale, criterion):
    """Per timepoint: n targets, n assessed, exact sum, all-CR flag; per patient baseline."""
    n_tp = len(tp)
    pcode_tp = tp["pcode"].to_numpy()
    if len(tgt) == 0:
        z = np.zeros(n_tp, dtype=np.int64)
        return {"n_t": z, "n_a": z, "c": z.copy(), "all_cr": np.zeros(n_tp, bool),
                    "b": z.copy(), "base_ok": np.zeros(n_tp, bool), "has_t": np.zeros(n_tp, bool)}
    # cross targets x timepoints of the same patient
    tp_idx = pd.DataFrame({"pcode": pcode_tp, "tp": np.arange(n_tp)})
    grid = tgt[["pcode", "code", "is_nodal", "bday"]].merge(tp_idx, on="pcode", how="inner")
    gtp = grid["tp"].to_numpy()
    days = tp["day"].to_numpy()[gtp]
    pos = _lookup(ld, grid["code"].to_numpy(), days, day0)
    found = pos >= 0
    vint = ld["vint"].to_numpy()
    assessed = np.zeros(len(grid), dtype=bool)
    assessed[found] = ~ld["na"].to_numpy(dtype=bool)[pos[found]]
    ints = np.zeros(len(grid), dtype=vint.dtype)
    ints[assessed] = vint[pos[assessed]]
    enh = np.zeros(len(grid), dtype=bool)
    enh[found] = ld["enh"].to_numpy()[pos[found]]
    nodal = grid["is_nodal"].to_numpy(dtype=bool)
    # R1.4.2 lesion-by-lesion CR; mRECIST R2.2 also needs no enhancement
    cr_lesion = np.where(nodal, ints < NODE_NORMAL_BELOW_MM * scale, ints == 0)
    if criterion == "mRECIST":
        cr_lesion = cr_lesion & (nodal | ~enh)
    cr_lesion = cr_lesion & assessed
    g = pd.DataFrame({"tp": gtp, "a": assessed.astype(np.int64), "v": ints,
                      "cr": cr_lesion.astype(np.int64)}).groupby("tp", sort=True)
    agg = g.agg(n=("a", "size"), n_a=("a", "sum"), c=("v", "sum"), cr=("cr", "sum"))
    n_t = np.zeros(n_tp, dtype=np.int64)
    n_a = np.zeros(n_tp, dtype=np.int64)
    c = np.zeros(n_tp, dtype=ints.dtype)
    n_cr = np.zeros(n_tp, dtype=np.int64)
    idx = agg.index.to_numpy()
    n_t[idx] = agg["n"].to_numpy()
    n_a[idx] = agg["n_a"].to_numpy()
    c[idx] = agg["c"].to_numpy()
    n_cr[idx] = agg["cr"].to_numpy()
    # baseline: each target's value on its own baseline date
    bpos = _lookup(ld, tgt["code"].to_numpy(), tgt["bday"].to_numpy(), day0)
    bok = np.zeros(len(tgt), dtype=bool)
    bok[bpos >= 0] = ~ld["na"].to_numpy(dtype=bool)[bpos[bpos >= 0]]
    bints = np.zeros(len(tgt), dtype=vint.dtype)
    bints[bok] = vint[bpos[bok]]
    bg = pd.DataFrame({"pcode": tgt["pcode"].to_numpy(), "v": bints, "ok": bok})
    bg = bg.groupby("pcode").agg(b=("v", "sum"), ok=("ok", "all"))
    n_pat = int(max(pcode_tp.max(), tgt["pcode"].max())) + 1
    b_pat = np.zeros(n_pat, dtype=bints.dtype)
    ok_pat = np.zeros(n_pat, dtype=bool)
    b_pat[bg.index.to_numpy()] = bg["b"].to_numpy()
    ok_pat[bg.index.to_numpy()] = bg["ok"].to_numpy(dtype=bool)
    has_t = n_t > 0
    b = np.where(has_t, b_pat[pcode_tp], 0)
    base_ok = has_t & ok_pat[pcode_tp] & np.asarray(b > 0, dtype=bool)
    return {"n_t": n_t, "n_a": n_a, "c": c, "all_cr": (n_cr == n_t) & has_t, "b": b,
            "base_ok": base_ok, "has_t": has_t}


def _nontarget_block(tp, nt, ld, day0):
    """Per timepoint non-target response (R1.6) or None when there is no non-target disease."""
    n_tp = len(tp)
    out = np.full(n_tp, None, dtype=object)
    if len(nt) == 0:
        return out
    tp_idx = pd.DataFrame({"pcode": tp["pcode"].to_numpy(), "tp": np.arange(n_tp)})
    grid = nt[["pcode", "code"]].merge(tp_idx, on="pcode", how="inner")
    gtp = grid["tp"].to_numpy()
    pos = _lookup(ld, grid["code"].to_numpy(), tp["day"].to_numpy()[gtp], day0)
    sev = np.full(len(grid), NONTARGET_SEVERITY["NE"], dtype=np.int64)  # no row = not assessed
    sev[pos >= 0] = ld["nt_sev"].to_numpy()[pos[pos >= 0]]
    worst = pd.Series(sev).groupby(gtp).max()
    names = np.array(sorted(NONTARGET_SEVERITY, key=NONTARGET_SEVERITY.get), dtype=object)
    out[worst.index.to_numpy()] = names[worst.to_numpy()]
    return out


def _new_lesions(tp, ass, *, criterion, scope, apply_hcc, hcc_min_mm, hcc_growth_mm, backdate):
    """New-lesion status per timepoint after scope filtering, HCC rules (R2.4.4), back-dating."""
    n_tp = len(tp)
    key = tp[["patient_id", "assessment_date"]]
    a = key.merge(ass, on=["patient_id", "assessment_date"], how="left")
    has_row = a["criterion"].notna().to_numpy()
    reported = as_str(a["new_lesion"])
    site = as_str(a["new_lesion_site"]) if "new_lesion_site" in a else np.full(n_tp, None)
    treated = (a["new_lesion_in_treated_territory"].astype("boolean")
               if "new_lesion_in_treated_territory" in a else pd.Series(pd.NA, index=a.index,
                                                                       dtype="boolean"))
    present = np.isin(reported, ["YES", "EQUIVOCAL"])
    note = np.full(n_tp, "", dtype=object)
    if scope == "overall":
        counts = present
    else:
        site_ok = (site == "intrahepatic") | pd.isna(site)
        tr_ok = np.ones(n_tp, bool) if scope == "hepatic" else treated.fillna(True).to_numpy(
            dtype=bool)
        counts = present & site_ok & tr_ok
        out_scope = present & ~counts
        note[out_scope] = "new lesion outside the scope not counted (R4.2.1)"
        unknown = present & counts & (pd.isna(site) | (
            treated.isna().to_numpy() if scope == "treated" else False))
        note[unknown] = "new lesion with unknown site counted in this scope"
    status = np.where(counts, reported, np.where(pd.isna(reported), None, "NO")).astype(object)
    status[~has_row] = "NO"
    note[~has_row & ~tp["is_baseline"].to_numpy()] = (
        "no imaging_assessments row: new lesions assumed absent")
    if (criterion == "mRECIST" and apply_hcc and "new_lesion_size_mm" in a
            and "new_lesion_site" in a):
        size = a["new_lesion_size_mm"].to_numpy(dtype=float)
        hcc = np.isin(status, ["YES", "EQUIVOCAL"]) & (site == "intrahepatic") & ~np.isnan(size)
        if hcc.any():
            brk = ~np.isin(status, ["YES", "EQUIVOCAL"])
            run = pd.Series(brk).groupby(tp["pcode"].to_numpy()).cumsum().to_numpy()
            first_size = pd.Series(np.where(hcc, size, np.nan)).groupby(
                [tp["pcode"].to_numpy(), run]).transform("first").to_numpy()
            sc = exact_scale(np.concatenate([size[hcc], first_size[hcc],
                                             [hcc_min_mm, hcc_growth_mm]]))
            s_i, _ = to_exact(np.where(hcc, size, 0.0), sc)
            f_i, _ = to_exact(np.where(hcc & ~np.isnan(first_size), first_size, 0.0), sc)
            min_i, _ = to_exact(np.array([float(hcc_min_mm), float(hcc_growth_mm)]), sc)
            typical = (as_bool(a["new_lesion_typical_hcc"]) if "new_lesion_typical_hcc" in a
                       else np.zeros(n_tp, bool))
            big = np.asarray(s_i >= min_i[0], dtype=bool)
            grown = np.asarray(s_i - f_i >= min_i[1], dtype=bool)
            is_hcc = big & (typical | grown)
            status[hcc] = np.where(is_hcc[hcc], "YES", "EQUIVOCAL")
            note[hcc & ~is_hcc] = "intrahepatic nodule not yet meeting the HCC rules (R2.4.4)"
    backdated = np.zeros(n_tp, dtype=bool)
    confirm_date = np.full(n_tp, None, dtype=object)
    if backdate and n_tp:
        # reversed order: an EQUIVOCAL run directly before a YES becomes YES (R1.7.2)
        rev = np.arange(n_tp)[::-1]
        st = np.where(pd.isna(status[rev]), "NA", status[rev]).astype(object)
        seg = pd.Series(st != "EQUIVOCAL").groupby(tp["pcode"].to_numpy()[rev]).cumsum()
        grp = [tp["pcode"].to_numpy()[rev], seg.to_numpy()]
        head = pd.Series(st).groupby(grp).transform("first").to_numpy()
        head_date = pd.Series(tp["assessment_date"].to_numpy()[rev]).groupby(grp).transform(
            "first").to_numpy()
        bd = (st == "EQUIVOCAL") & (head == "YES")
        backdated[rev[bd]] = True
        confirm_date[rev[bd]] = head_date[bd]
        status[backdated] = "YES"
    status[tp["is_baseline"].to_numpy()] = None
    reported = reported.copy()
    reported[tp["is_baseline"].to_numpy()] = None
    return status, reported, note, backdated, confirm_date


def _continuing(tr, pcode, day, confirm_min_days):
    """R1.4.6 display column: strict SD after a confirmed target PR is shown as PR."""
    resp = np.isin(tr, ["PR", "CR"])
    brk = ~(resp | (tr == "NE"))
    run = pd.Series(brk).groupby(pcode).cumsum().to_numpy()
    big = np.iinfo(np.int64).max // 2
    start = pd.Series(np.where(resp, day, big)).groupby([pcode, run]).cummin().to_numpy()
    conf = resp & (day - start >= confirm_min_days)
    conf_so_far = pd.Series(conf).groupby(pcode).cummax().to_numpy(dtype=bool)
    pd_seen = pd.Series(tr == "PD").groupby(pcode).cummax().to_numpy(dtype=bool)
    return np.where((tr == "SD") & conf_so_far & ~pd_seen, "PR", tr).astype(object)


def _rules(d: dict, criterion: str, requires_abs: bool) -> list[str]:
    """One explanation per row (which rule decided, with the numbers)."""
    what = "viable sum" if criterion == "mRECIST" else "sum"
    out = []
    for (ov, tr, ntr, new, is_base, has_t, base_ok, n_t, n_a, c, b, n, pb, pn,
         note, bdate) in zip(
            d["overall"], d["tr"], d["ntr"], d["new"], d["is_baseline"], d["has_t"],
            d["base_ok"], d["n_t"], d["n_a"], d["c_mm"], d["b_mm"], d["n_mm"], d["pct_b"],
            d["pct_n"], d["note"], d["confirm_date"], strict=True):
        if is_base:
            out.append(f"baseline: {what} {fmt_mm(c)} mm over {n_t} target(s)" if has_t
                       else "baseline: no target lesion in scope")
            continue
        if new == "YES":
            txt = "PD: new lesion"
            if bdate is not None:
                txt += (f" first seen equivocal here, confirmed on "
                        f"{pd.Timestamp(bdate).date().isoformat()} (back-dated, R1.7.2)")
            else:
                txt += " (R1.7.4)"
        elif tr == "PD":
            part = "partial " if n_a < n_t else ""
            extra = f" ({n_a}/{n_t} targets measured, R1.5.2)" if n_a < n_t else ""
            if n == 0:
                txt = f"PD: {part}{what} {fmt_mm(c)} mm after nadir 0 mm (R1.4.5){extra}"
            else:
                rule = "R1.4.1" if criterion == "RECIST_1_1" else (
                    "R2.2, 5 mm rule on" if requires_abs else "R2.2, 5 mm rule off")
                txt = (f"PD: {part}{what} {fmt_mm(c)} mm is {fmt_pct(pn)} and "
                       f"{fmt_dmm(c - n)} over nadir {fmt_mm(n)} mm ({rule}){extra}")
        elif ntr == "PD":
            txt = "PD: unequivocal non-target progression (R1.6)"
        elif not has_t:
            if ntr is None:
                txt = "NE: no baseline disease in this scope"
            elif ntr == "CR":
                txt = "CR: non-target disease only, all disappeared (R1.8.2)"
            elif ntr == "NON_CR_NON_PD":
                txt = "NON_CR_NON_PD: non-target disease only, persisting (R1.8.2)"
            else:
                txt = "NE: non-target lesion(s) not assessed (R1.8.2)"
        elif not base_ok:
            txt = "NE: no valid baseline sum (a target lacks a baseline measurement)"
        elif tr == "NE":
            txt = (f"NE: {n_t - n_a} of {n_t} targets not assessed; partial {what} "
                   f"{fmt_mm(c)} mm does not meet PD (R1.5.2)")
        elif tr == "CR":
            crit = ("all targets non-enhancing (R2.2)" if criterion == "mRECIST"
                    else "non-nodal targets 0 mm, nodal targets < 10 mm (R1.4.2)")
            if ov == "CR":
                txt = f"CR: {crit}; non-targets {ntr or 'none'}; no new lesion (R1.8.1)"
            else:
                txt = f"PR: targets CR ({crit}) but non-targets {ntr} (R1.8.1)"
        elif tr == "PR":
            txt = (f"PR: {what} {fmt_mm(c)} mm is {fmt_pct(pb)} from baseline {fmt_mm(b)} mm "
                   f"(>= 30 % decrease, R1.4.3)")
        else:
            txt = (f"SD: {what} {fmt_mm(c)} mm is {fmt_pct(pb)} from baseline {fmt_mm(b)} mm "
                   f"and {fmt_pct(pn)} ({fmt_dmm(c - n)}) over nadir {fmt_mm(n)} mm (R1.4.4)")
        if new == "EQUIVOCAL":
            txt += "; equivocal new lesion (PD only once confirmed, R1.7.2)"
        if note:
            txt += "; " + note
        out.append(txt)
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
    (response-criteria.md §0): PD ``(C − N) × 5 ≥ N`` and (RECIST 1.1, or mRECIST with the
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

    les, meas, ass = _prepare(df_lesions, df_measurements, df_assessments, criterion)
    tp = _build_timepoints(les, meas, ass)
    pcodes, puniq = pd.factorize(tp["patient_id"])
    tp["pcode"] = pcodes
    tp["day"] = tp["assessment_date"].to_numpy("datetime64[D]").astype(np.int64)
    scoped = les.loc[_in_scope(les, scope)].copy()
    lesion_code = pd.Index(les["lesion_id"])
    ld, scale = _lesion_dates(meas, lesion_code)
    scoped["code"] = lesion_code.get_indexer(scoped["lesion_id"])
    scoped["pcode"] = puniq.get_indexer(scoped["patient_id"])
    scoped["bday"] = scoped["baseline_date"].to_numpy("datetime64[D]").astype(np.int64)
    day0 = int(min(np.concatenate([tp["day"].to_numpy(), ld["day"].to_numpy(),
                                   scoped["bday"].to_numpy(), [0]]))) - 1
    scoped["is_nodal"] = as_bool(scoped["is_nodal"])
    tgt = scoped.loc[scoped["role"] == "target"]
    nt = scoped.loc[scoped["role"] == "non_target"]

    tb = _target_block(tp, tgt, ld, lesion_code, day0, scale, criterion)
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
    ntr = _nontarget_block(tp, nt, ld, day0)
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
    rules = _rules({"overall": overall, "tr": tr, "ntr": ntr, "new": new,
                    "is_baseline": is_base, "has_t": tb["has_t"], "base_ok": tb["base_ok"],
                    "n_t": tb["n_t"], "n_a": tb["n_a"], "c_mm": c_mm, "b_mm": b_mm, "n_mm": n_mm,
                    "pct_b": pct_b, "pct_n": pct_n, "note": note, "confirm_date": confirm_date},
                   criterion, requires_abs)
    out = pd.DataFrame({
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
        "rule": rules,
    }, columns=TIMEPOINT_COLUMNS)
    if not include_baseline:
        out = out.loc[~is_base].reset_index(drop=True)
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
