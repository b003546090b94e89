"""EORTC 1999 metabolic response (second metabolic criterion, rules P2.1-P2.5).

Young H, Baum R, Cremerius U, et al. Measurement of clinical and subclinical tumour response
using [18F]-fluorodeoxyglucose and positron emission tomography: review and 1999 EORTC
recommendations. Eur J Cancer 1999;35:1773-1782.
"""

from __future__ import annotations

import pandas as pd

from sirtstats.metabolic._common import prepare
from sirtstats.metabolic._rules import (
    EORTC_EXTENT_REL,
    EORTC_PMD_REL,
    EORTC_PMR_LATER,
    EORTC_PMR_ONE_CYCLE,
    SD_FACTOR,
    exact,
)
from sirtstats.metabolic._scans import LesionIndex, patient_scans
from sirtstats.response._common import check_bool, require_columns

__all__ = ["derive_eortc_response"]


def derive_eortc_response(
    df_pet: pd.DataFrame,
    df_pet_lesions: pd.DataFrame,
    *,
    df_lesions: pd.DataFrame | None = None,
    after_one_cycle: bool = False,
) -> pd.DataFrame:
    """EORTC 1999 metabolic response at each follow-up PET scan.

    The lesions measured at baseline are followed (P2.1): their summed ``suv_max`` at the
    follow-up scan is compared with the baseline sum.

    Parameters
    ----------
    df_pet : DataFrame
        ``pet_assessments`` (``patient_id``, ``scan_date``, blood-pool SUL mean and SD,
        optionally ``new_fdg_avid_lesion``); the earliest scan of a patient is the baseline.
    df_pet_lesions : DataFrame
        ``pet_lesions`` with ``suv_max`` (SUV, g/mL), ``sul_peak`` (SUL, g/mL) and optionally
        ``fdg_extent_mm`` (mm).
    df_lesions : DataFrame, optional
        ``lesions``, for the organ when ``df_pet_lesions`` lacks it.
    after_one_cycle : bool, default False
        PMR threshold: >= 15 % decrease after one cycle, >= 25 % after more (P2.3). A SIRT
        response scan is usually read with the later threshold.

    Returns
    -------
    DataFrame
        One row per patient and follow-up scan: ``patient_id``, ``scan_date``,
        ``baseline_suv_sum``, ``suv_sum``, ``suv_change_pct`` (negative = decline),
        ``extent_change_pct``, ``response`` (CMR, PMR, SMD, PMD, NE) and ``reason``.

    References
    ----------
    Young et al., Eur J Cancer 1999;35:1773-1782, section "Definition of response" (EORTC
    recommendations); rules P2.1-P2.5 of docs/rules/metabolic.md.

    Examples
    --------
    >>> import pandas as pd
    >>> pet = pd.DataFrame({"patient_id": ["P1", "P1"],
    ...     "scan_date": pd.to_datetime(["2024-01-01", "2024-04-01"]),
    ...     "liver_sul_mean": 2.0, "liver_sul_sd": 0.3,
    ...     "blood_pool_sul_mean": 1.5, "blood_pool_sul_sd": 0.2})
    >>> les = pd.DataFrame({"patient_id": "P1", "lesion_id": ["L1", "L1"],
    ...     "scan_date": pet["scan_date"], "sul_peak": [8.0, 6.0], "suv_max": [10.0, 7.5]})
    >>> derive_eortc_response(pet, les)["response"].tolist()
    ['PMR']
    """
    fn = "derive_eortc_response"
    after_one_cycle = check_bool(after_one_cycle, "after_one_cycle", fn)
    require_columns(df_pet_lesions, ["suv_max"], "pet_lesions", fn)
    pmr_rel = EORTC_PMR_ONE_CYCLE if after_one_cycle else EORTC_PMR_LATER
    pet, les = prepare(df_pet, df_pet_lesions, df_lesions, fn)
    has_extent = "fdg_extent_mm" in les.columns
    index = LesionIndex(les, ("lesion_id", "suv_max", "sul_peak", "fdg_extent_mm"))
    rows = []
    for pid, scans in patient_scans(pet):
        ids, b_sum, b_ext = _baseline(index, pid, scans[0], has_extent)
        for scan in scans[1:]:
            rows.append(_scan_row(pid, scan, index, ids, b_sum, b_ext, pmr_rel))
    res = pd.DataFrame(rows, columns=["patient_id", "scan_date", "baseline_suv_sum", "suv_sum",
                                      "suv_change_pct", "extent_change_pct", "response",
                                      "reason"])
    res.attrs["settings"] = {"criterion": "EORTC_1999", "after_one_cycle": after_one_cycle}
    return res


def _baseline(index, pid, base, has_extent):
    """P2.1: baseline lesions with an SUVmax, their summed SUVmax and summed FDG extent (mm).

    Returns ``(ids, b_sum, b_ext)``: the baseline lesion ids (table order) and the exact sums,
    None where not available.
    """
    suv_na = index.na["suv_max"]
    b_rows = [i for i in index.scan(pid, base["scan_date"]) if not suv_na[i]]
    lid, suv = index.col["lesion_id"], index.col["suv_max"]
    ids = [lid[i] for i in b_rows]
    b_sum = sum(exact(suv[i]) for i in b_rows) if ids else None
    b_ext = None
    if has_extent and ids and not index.na["fdg_extent_mm"][b_rows].any():
        b_ext = sum(exact(index.col["fdg_extent_mm"][i]) for i in b_rows)
    return ids, b_sum, b_ext


def _is_nan(x) -> bool:
    return isinstance(x, float) and x != x


def _followed(index, pos, ids):
    """Rows of ``pos`` whose lesion_id is in ``ids``, as ``Series.isin`` (NaN matches NaN)."""
    lid = index.col["lesion_id"]
    wanted = set(ids)
    nan_wanted = any(_is_nan(x) for x in ids)
    return [i for i in pos if lid[i] in wanted or (nan_wanted and _is_nan(lid[i]))]


def _scan_row(pid, scan, index, ids, b_sum, b_ext, pmr_rel):
    """One follow-up scan's output row: sums, changes and the EORTC response (P2.1-P2.5)."""
    f_rows = _followed(index, index.scan(pid, scan["scan_date"]), ids) if ids else []
    out = {"patient_id": pid, "scan_date": scan["scan_date"],
           "baseline_suv_sum": float(b_sum) if b_sum is not None else float("nan"),
           "suv_sum": float("nan"), "suv_change_pct": float("nan"),
           "extent_change_pct": float("nan")}
    new = scan["new_fdg_avid_lesion"]
    suv = index.col["suv_max"]
    complete = (b_sum is not None and len(f_rows) == len(ids)
                and not index.na["suv_max"][f_rows].any())
    f_sum = None
    if complete:
        f_sum = sum(exact(suv[i]) for i in f_rows)
        out.update(suv_sum=float(f_sum),
                   suv_change_pct=float(100 * (f_sum - b_sum) / b_sum) if b_sum
                   else float("nan"))
    f_ext = (sum(exact(index.col["fdg_extent_mm"][i]) for i in f_rows)
             if b_ext is not None and complete and not index.na["fdg_extent_mm"][f_rows].any()
             else None)
    if f_ext is not None and b_ext:
        out["extent_change_pct"] = float(100 * (f_ext - b_ext) / b_ext)
    sul = index.col["sul_peak"]
    response, reason = _verdict(new, complete, b_sum, f_sum, b_ext, f_ext,
                                [sul[i] for i in f_rows], scan, pmr_rel)
    out.update(response=response, reason=reason)
    return out


def _verdict(new, complete, b_sum, f_sum, b_ext, f_ext, f_suls, scan, pmr_rel):
    """EORTC response and reason of one follow-up scan, first matching rule wins (P2.3-P2.5).

    ``f_suls`` are the SULpeaks of the followed lesions at the scan, in table order.
    """
    if new == "YES":
        return "PMD", "new FDG-avid lesion"
    if not complete or not b_sum:
        return "NE", "baseline lesions not all measured"
    if f_sum - b_sum > EORTC_PMD_REL * b_sum:
        return "PMD", "SUV up > 25 %"
    if f_ext is not None and b_ext and f_ext - b_ext > EORTC_EXTENT_REL * b_ext:
        return "PMD", "FDG extent up > 20 %"
    if new != "EQUIVOCAL" and _background(f_suls, scan):
        return "CMR", "uptake indistinguishable from background"
    if b_sum - f_sum >= pmr_rel * b_sum:
        return "PMR", f"SUV down >= {int(pmr_rel * 100)} %"
    return "SMD", "neither PMR nor PMD"


def _background(sul_peaks, scan):
    """P2.2: every followed lesion's SULpeak (``sul_peaks``) at or below blood pool mean + 2 SD.

    ``sul_peak`` is a required column of :func:`~sirtstats.metabolic._common.prepare`.
    """
    if pd.isna(scan["blood_pool_sul_mean"]) or pd.isna(scan["blood_pool_sul_sd"]):
        return False
    limit = exact(scan["blood_pool_sul_mean"]) + SD_FACTOR * exact(scan["blood_pool_sul_sd"])
    return all(exact(s) <= limit for s in sul_peaks)
