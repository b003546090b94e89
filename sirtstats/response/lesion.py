"""Lesion-level (per-lesion) response for dose-response analyses (R4.1, docs/rules/response.md).

Each target lesion is classified on its own diameter with the single-lesion thresholds of
R4.1.2 (defaults): CR = 0 mm (nodes < 10 mm; mRECIST: no enhancement), PR = decrease of at least
30 % from the lesion's baseline, PD = increase of at least 20 % over the lesion's own nadir
(the RECIST 5 mm rule is defined for sums; per lesion it is an option, off by default), else SD.
Lesions are clustered within patients (R4.1.5): analyse them with mixed models, GEE or a
patient-level bootstrap, never as independent observations.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.response._common import (
    CRITERIA,
    NODE_NORMAL_BELOW_MM,
    as_bool,
    check_bool,
    check_choice,
    exact_to_float,
    group_cummin_exclusive,
    pd_condition,
    pr_condition,
)
from sirtstats.response.timepoint import _DAY0, _lesion_dates, _prepare

__all__ = ["LESION_RESPONSE_COLUMNS", "derive_lesion_response"]

#: Output columns of :func:`derive_lesion_response` (one row per target lesion).
LESION_RESPONSE_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "criterion", "organ", "is_nodal", "in_treated_territory",
    "baseline_diameter_mm", "n_assessments", "best_pct_change", "best_pct_change_date",
    "lesion_response", "first_lesion_pd_date", "is_lesion_responder", "rule",
]

#: Output columns with ``per_visit=True`` (one row per target lesion and imaging date).
LESION_VISIT_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "criterion", "assessment_date", "diameter_mm",
    "baseline_diameter_mm", "nadir_diameter_mm", "pct_change_from_baseline",
    "pct_change_from_nadir", "lesion_response",
]

_RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}
_FN = "derive_lesion_response"


def derive_lesion_response(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    pd_requires_5mm: bool = False,
    per_visit: bool = False,
) -> pd.DataFrame:
    """Derive each target lesion's best response and best % change (R4.1).

    Parameters
    ----------
    df_lesions : DataFrame
        The ``lesions`` table (``lesion_id``, ``patient_id``, ``baseline_date``, ``organ``,
        ``is_nodal``, ``recist_role``/``mrecist_role``, ``in_treated_territory``). Lesions
        that are targets under ``criterion`` are classified.
    df_measurements : DataFrame
        The ``lesion_measurements`` table (see :func:`derive_timepoint_response`). Values:
        measured diameter (mm), too small 5 mm, disappeared 0 mm, fragments summed. A merged
        lesion has no value of its own (its visit is skipped).
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Diameter measured: long axis / node short axis, or mRECIST viable diameter.
    pd_requires_5mm : bool, default False
        Also require +5 mm over the lesion nadir for lesion PD (R4.1.2 option).
    per_visit : bool, default False
        Return one row per lesion and imaging date instead of the best response per lesion.

    Returns
    -------
    DataFrame
        One row per target lesion with :data:`LESION_RESPONSE_COLUMNS`: ``best_pct_change``
        (%, the minimum change from the lesion's baseline up to and including its first PD;
        negative = shrinkage), ``lesion_response`` (best of CR > PR > SD > PD over those
        visits; ``NE`` without a baseline value, ``MISSING`` without a follow-up value),
        ``is_lesion_responder`` (CR or PR). With ``per_visit=True``: one row per lesion and
        post-baseline date with :data:`LESION_VISIT_COLUMNS`.

    See Also
    --------
    derive_timepoint_response : patient-level response (sums).

    Notes
    -----
    Lesion response and patient response can disagree: lesions −40 % and −9.1 % give a
    patient sum of −29.03 %, SD (R4.1.6, WE19). Comparisons are exact (§0).

    References
    ----------
    R4.1 (docs/rules/response.md); RECIST 1.1 thresholds (Eisenhauer et al., Eur J Cancer 2009).

    Examples
    --------
    >>> import pandas as pd
    >>> les = pd.DataFrame({"lesion_id": ["L1", "L2"], "patient_id": "P1",
    ...     "baseline_date": pd.Timestamp("2024-01-03"), "organ": "liver", "is_nodal": False,
    ...     "recist_role": "target", "mrecist_role": "none", "in_treated_territory": True})
    >>> meas = pd.DataFrame({"lesion_id": ["L1", "L2", "L1", "L2"],
    ...     "assessment_date": pd.to_datetime(["2024-01-03"] * 2 + ["2024-04-01"] * 2),
    ...     "criterion": "RECIST_1_1", "fragment": 1, "state": "measured",
    ...     "diameter_mm": [40.0, 22.0, 24.0, 20.0], "nontarget_status": None})
    >>> derive_lesion_response(les, meas)[["lesion_id", "best_pct_change", "lesion_response"]]
      lesion_id  best_pct_change lesion_response
    0        L1       -40.000000              PR
    1        L2        -9.090909              SD
    """
    criterion = check_choice(criterion, CRITERIA, "criterion", _FN)
    check_bool(pd_requires_5mm, "pd_requires_5mm", _FN)
    per_visit = check_bool(per_visit, "per_visit", _FN)
    best, visits = _lesion_best_and_visits(df_lesions, df_measurements, criterion=criterion,
                                          pd_requires_5mm=pd_requires_5mm, best=not per_visit)
    return visits if per_visit else best


def _lesion_best_and_visits(df_lesions, df_measurements, *, criterion, pd_requires_5mm,
                           best: bool = True):
    """(best response frame or None, per-visit frame) of :func:`derive_lesion_response`.

    One derivation for both frames (``derive_time_to_local_progression`` needs both); the
    arguments are checked as :func:`derive_lesion_response` checks them (its name in errors).
    """
    criterion = check_choice(criterion, CRITERIA, "criterion", _FN)
    req = check_bool(pd_requires_5mm, "pd_requires_5mm", _FN)
    empty_ass = pd.DataFrame({"patient_id": pd.Series(dtype=object),
                              "assessment_date": pd.Series(dtype="datetime64[ns]"),
                              "criterion": pd.Series(dtype=object),
                              "new_lesion": pd.Series(dtype=object)})
    les, meas, _, _ = _prepare(df_lesions, df_measurements, empty_ass, criterion)
    tgt = les.loc[les["role"] == "target"].reset_index(drop=True)
    code = pd.Index(tgt["lesion_id"])
    meas = meas.loc[meas["lesion_id"].isin(code)].drop(columns=["code"])
    ld, scale = _lesion_dates(meas, code)
    ld.loc[ld["merged"], "val"] = np.nan  # a merged lesion has no value of its own
    ld["bday"] = tgt["bday"].to_numpy()[ld["code"].to_numpy()]
    ld = ld.loc[ld["day"] >= ld["bday"]].sort_values(["code", "day"], kind="mergesort")
    ld = ld.reset_index(drop=True)
    is_base = (ld["day"] == ld["bday"]).to_numpy()
    val = ld["val"].to_numpy(dtype=float)
    assessed = ~np.isnan(val)
    vi = np.where(assessed, ld["vint"].to_numpy(), 0)
    codes = ld["code"].to_numpy()
    base_pos = pd.Series(np.where(is_base & assessed, np.arange(len(ld)), -1)).groupby(
        codes).transform("max").to_numpy()
    has_base = base_pos >= 0
    bi = np.where(has_base, vi[np.maximum(base_pos, 0)], 0)
    nadir, has_n = group_cummin_exclusive(vi, assessed & has_base, codes)
    nadir = np.where(has_n, nadir, bi)
    nodal = as_bool(tgt["is_nodal"])[codes]
    cr = np.where(nodal, vi < NODE_NORMAL_BELOW_MM * scale, vi == 0)
    if criterion == "mRECIST":
        cr = cr & (nodal | ~ld["enh"].to_numpy(dtype=bool))
    post = ~is_base & assessed & has_base
    pdc = pd_condition(vi, nadir, scale=scale, requires_abs=req)
    resp = np.select([~post, pdc, cr, pr_condition(vi, bi) & np.asarray(bi > 0, bool)],
                     [None, "PD", "CR", "PR"], default="SD").astype(object)
    v_mm = np.where(assessed, val, np.nan)
    b_mm = np.where(has_base, exact_to_float(bi, scale), np.nan)
    n_mm = np.where(has_base, exact_to_float(nadir, scale), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_b = np.where(b_mm > 0, 100 * (v_mm - b_mm) / b_mm, np.nan)
        pct_n = np.where(n_mm > 0, 100 * (v_mm - n_mm) / n_mm, np.nan)
    dates = pd.to_datetime((ld["day"].to_numpy() + _DAY0).astype("datetime64[D]")).astype(
        "datetime64[ns]")
    visits = pd.DataFrame({
        "patient_id": tgt["patient_id"].to_numpy(dtype=object)[codes],
        "lesion_id": tgt["lesion_id"].to_numpy(dtype=object)[codes],
        "criterion": criterion, "assessment_date": dates, "diameter_mm": v_mm,
        "baseline_diameter_mm": b_mm, "nadir_diameter_mm": n_mm,
        "pct_change_from_baseline": pct_b, "pct_change_from_nadir": pct_n,
        "lesion_response": resp})
    per_visit_rows = visits.loc[~is_base].reset_index(drop=True)[LESION_VISIT_COLUMNS]
    if not best:
        return None, per_visit_rows

    # best response up to and including the lesion's first PD
    v = visits.assign(code=codes, rank=pd.Series(resp).map(_RANK).to_numpy())
    v = v.loc[post]
    pd_before = (v["lesion_response"] == "PD").groupby(v["code"]).cumsum()
    pd_before = pd_before.groupby(v["code"]).shift(1, fill_value=0)
    v = v.loc[pd_before.to_numpy() == 0]
    g = v.groupby("code")
    best_rank = g["rank"].min()
    idx_best_pct = v.dropna(subset=["pct_change_from_baseline"]).groupby("code")[
        "pct_change_from_baseline"].idxmin()
    out = tgt[["patient_id", "lesion_id", "organ", "is_nodal", "in_treated_territory"]].copy()
    out.insert(2, "criterion", criterion)
    out["baseline_diameter_mm"] = pd.Series(b_mm).groupby(codes).first().reindex(
        range(len(tgt))).to_numpy()
    out["n_assessments"] = pd.array(g.size().reindex(range(len(tgt)), fill_value=0).to_numpy(),
                                    dtype="Int64")
    out["best_pct_change"] = v.loc[idx_best_pct.to_numpy(), "pct_change_from_baseline"].set_axis(
        idx_best_pct.index).reindex(range(len(tgt))).to_numpy()
    out["best_pct_change_date"] = v.loc[idx_best_pct.to_numpy(), "assessment_date"].set_axis(
        idx_best_pct.index).reindex(range(len(tgt))).to_numpy()
    names = np.array(["CR", "PR", "SD", "PD"], dtype=object)
    lr = pd.Series(best_rank).reindex(range(len(tgt)))
    has_b = out["baseline_diameter_mm"].notna().to_numpy()
    out["lesion_response"] = np.where(
        ~has_b, "NE", np.where(lr.isna(), "MISSING",
                               names[lr.fillna(0).astype(int).to_numpy()])).astype(object)
    first_pd = v.loc[v["lesion_response"] == "PD"].groupby("code")["assessment_date"].min()
    out["first_lesion_pd_date"] = first_pd.reindex(range(len(tgt))).to_numpy()
    out["is_lesion_responder"] = out["lesion_response"].isin(["CR", "PR"]).to_numpy()
    out["rule"] = [
        "NE: no baseline value" if r == "NE" else
        "MISSING: no follow-up value" if r == "MISSING" else
        f"{r}: best change {p:+.1f} % from baseline {b:g} mm (R4.1.2)"
        for r, p, b in zip(out["lesion_response"], out["best_pct_change"],
                           out["baseline_diameter_mm"], strict=True)]
    out = out.reset_index(drop=True)[LESION_RESPONSE_COLUMNS]
    out.attrs["settings"] = {"criterion": criterion, "pd_requires_5mm": req}
    return out, per_visit_rows
