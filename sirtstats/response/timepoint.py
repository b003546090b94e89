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
from sirtstats.response import _tpcore as core
from sirtstats.response._common import (
    CONFIRM_MIN_DAYS,
    CRITERIA,
    HCC_ATYPICAL_GROWTH_MM,
    HCC_NEW_LESION_MIN_MM,
    NEW_LESION_CODES,
    NODE_NORMAL_BELOW_MM,
    NONTARGET_SEVERITY,
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
    group_cummin_exclusive,
    isin,
    pd_condition,
    pr_condition,
    require_columns,
    to_dates,
    to_exact,
)
from sirtstats.response._tprules import rule_texts

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
#: New-lesion statuses by code + 1 (code -1 = missing value).
_NEW_CODES = np.array([None, *NEW_LESION_CODES], dtype=object)
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
    les, _ = _prepare_lesions(df_lesions, df_measurements, df_assessments, criterion)
    meas = _prepare_measurements(df_measurements, les, criterion)
    ass, puniq = _prepare_assessments(df_assessments, les, criterion)
    return les, meas, ass, puniq


def _prepare_lesions(df_lesions, df_measurements, df_assessments, criterion):
    """Required columns of the three tables; the criterion's lesions with ``code``/``bday``
    and the Index of their ids."""
    role_col = _role_column(criterion)
    require_columns(df_lesions, [*_LESION_COLS, role_col], "lesions", _FN)
    require_columns(df_measurements, _MEAS_COLS, "lesion_measurements", _FN)
    require_columns(df_assessments, _ASSESS_COLS, "imaging_assessments", _FN)

    keep = [*_LESION_COLS, role_col] + (["is_arterially_enhancing"]
                                        if "is_arterially_enhancing" in df_lesions else [])
    rows = np.flatnonzero(df_lesions[role_col].isin(["target", "non_target"]).to_numpy())
    # column by column (dtypes kept, no block consolidation): faster than .loc(...).copy()
    les = core.frame({("role" if c == role_col else c): core.take(df_lesions[c], rows)
                      for c in keep})
    ids = pd.Index(les["lesion_id"])  # its hash table serves the measurement lookup too
    if not ids.is_unique:
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
    return les, ids


def _prepare_measurements(df_measurements, les, criterion):
    """The criterion's measurement rows, validated, with ``code``, ``day`` and codes."""
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
    return meas


def _prepare_assessments(df_assessments, les, criterion):
    """The criterion's assessments, validated; patient codes of lesions and assessments."""
    acrit = df_assessments["criterion"].to_numpy(dtype=object)
    extra = [c for c in ("new_lesion_site", "new_lesion_in_treated_territory",
                         "new_lesion_size_mm", "new_lesion_typical_hcc")
             if c in df_assessments.columns]
    sel = acrit == criterion
    rows = None if sel.all() else np.flatnonzero(sel)
    # column by column, index labels kept (no block consolidation: faster than .loc)
    ass = core.frame({c: df_assessments[c] if rows is None else df_assessments[c].take(rows)
                      for c in _ASSESS_COLS + extra})
    ass["assessment_date"] = to_dates(ass["assessment_date"], "imaging_assessments",
                                      "assessment_date")
    ass["nl_code"] = core.option_codes(ass["new_lesion"].to_numpy(dtype=object),
                                       list(NEW_LESION_CODES))
    bad = ass["nl_code"].to_numpy() == -2  # not missing and not a code
    if bad.any():
        rows = ass.loc[bad]
        raise SirtDataError(
            f'imaging_assessments.new_lesion: {int(bad.sum())} rows violate "new_lesion in '
            f'{NEW_LESION_CODES}"; first keys (patient_id, assessment_date): '
            f"{first_keys(rows, ['patient_id', 'assessment_date'])}.",
            table="imaging_assessments", column="new_lesion", rule="enum", rows=rows)
    les["pcode"], ass["pcode"], puniq = core.patient_codes(
        les["patient_id"].to_numpy(dtype=object), ass["patient_id"].to_numpy(dtype=object))
    ass["day"] = _days(ass["assessment_date"])
    akey = ass["pcode"].to_numpy(np.int64) * _DAY_KEY + ass["day"].to_numpy()
    dup = (np.zeros(len(akey), dtype=bool) if len(akey) < 2 or (akey[1:] > akey[:-1]).all()
           else pd.Series(akey).duplicated(keep=False).to_numpy())
    if dup.any():
        rows = ass.loc[dup]
        raise SirtDataError(
            f"imaging_assessments: {len(rows)} rows share a key (patient_id, assessment_date, "
            f"criterion); first keys: {first_keys(rows, ['patient_id', 'assessment_date'])}.",
            table="imaging_assessments", column="assessment_date", rule="unique key",
            rows=rows)
    return ass, puniq


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


def _new_lesions(tp, ass, *, criterion, scope, apply_hcc, hcc_min_mm, hcc_growth_mm, backdate):
    """New-lesion status per timepoint after scope filtering, HCC rules (R2.4.4), back-dating."""
    n_tp = len(tp)
    akey = ass["pcode"].to_numpy(np.int64) * _DAY_KEY + ass["day"].to_numpy()
    tkey = tp["pcode"].to_numpy(np.int64) * _DAY_KEY + tp["day"].to_numpy()
    pos = (ass["tp"].to_numpy() if "tp" in ass.columns  # from core.build_timepoints
           else core.lookup(tkey, akey))  # timepoints are sorted, assessment keys unique
    idx = np.full(n_tp, -1, dtype=np.int64)
    idx[pos[pos >= 0]] = np.flatnonzero(pos >= 0)
    has_row = idx >= 0
    safe = np.maximum(idx, 0)

    def col(name, dtype=object):
        if name not in ass.columns:
            return None
        if not len(ass):
            return np.full(n_tp, np.nan if dtype is float else None, dtype=dtype)
        return ass[name].to_numpy(dtype=dtype)[safe]

    # codes: -1 missing, 0 NO, 1 YES, 2 EQUIVOCAL (other values were rejected by _prepare)
    nl = ass["nl_code"].to_numpy()
    rep_code = np.where(has_row, nl[safe], -1) if len(ass) else np.full(n_tp, -1)
    rep_na = rep_code < 0
    reported = _NEW_CODES[rep_code + 1]
    size_col = col("new_lesion_size_mm", float)
    hcc_rules = criterion == "mRECIST" and apply_hcc and size_col is not None
    site = col("new_lesion_site") if scope != "overall" or hcc_rules else None
    site = (np.where(has_row & ~pd.isna(site), site, None).astype(object) if site is not None
            else np.full(n_tp, None, dtype=object))
    if "new_lesion_in_treated_territory" in ass.columns and len(ass):
        tr_raw = ass["new_lesion_in_treated_territory"].astype("boolean")
        tr_known = (~tr_raw.isna()).to_numpy()[safe] & has_row
        tr_val = tr_raw.fillna(False).to_numpy(dtype=bool)[safe]
    else:
        tr_known = np.zeros(n_tp, bool)
        tr_val = np.zeros(n_tp, bool)
    present = rep_code >= 1
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
    status = _NEW_CODES[np.where(counts, rep_code, np.where(rep_na & has_row, -1, 0)) + 1]
    note[~has_row & ~tp["is_baseline"].to_numpy()] = (
        "no imaging_assessments row: new lesions assumed absent")
    pcode = tp["pcode"].to_numpy()
    if hcc_rules:
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
        # an EQUIVOCAL run directly before a YES becomes YES (R1.7.2)
        backdated, confirm_date = core.backdate_equivocal(
            status, pcode, tp["assessment_date"].to_numpy())
        status[backdated] = "YES"
    status[tp["is_baseline"].to_numpy()] = None
    reported[tp["is_baseline"].to_numpy()] = None
    return status, reported, note, backdated, confirm_date


def _engine_inputs(df_lesions, df_measurements, df_assessments, criterion):
    """Lesions, lesion-date arrays (with the exact scale), assessments and patients.

    The measurement rows go through the array path of :mod:`._tpcore`; inputs it does not
    take (see :func:`._tpcore.measurement_arrays`) go through the validating
    :func:`_prepare_measurements`, which raises on invalid data.
    """
    les, ids = _prepare_lesions(df_lesions, df_measurements, df_assessments, criterion)
    m = core.measurement_arrays(df_measurements, ids, criterion)
    if m is None:
        m = core.measurement_arrays_from_frame(
            _prepare_measurements(df_measurements, les, criterion))
    ld, scale = core.lesion_date_arrays(m)
    ass, puniq = _prepare_assessments(df_assessments, les, criterion)
    return les, ld, scale, ass, puniq


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

    les, ld, scale, ass, puniq = _engine_inputs(df_lesions, df_measurements, df_assessments,
                                                criterion)
    les_pcode = les["pcode"].to_numpy(np.int64)
    tpd = core.build_timepoints(les_pcode, les["bday"].to_numpy(np.int64), ld,
                                ass["pcode"].to_numpy(np.int64), ass["day"].to_numpy(np.int64),
                                len(puniq))
    ass["tp"] = tpd["ass_tp"]
    tp = core.frame({
        "patient_id": puniq.to_numpy(dtype=object)[tpd["pcode"]], "pcode": tpd["pcode"],
        "day": tpd["day"], "assessment_date": (tpd["day"] + _DAY0).astype(
            "datetime64[D]").astype("datetime64[ns]"), "is_baseline": tpd["is_baseline"]})
    in_scope = _in_scope(les, scope)
    role = les["role"].to_numpy(dtype=object)
    t_rows = np.flatnonzero(in_scope & (role == "target"))
    nt_rows = np.flatnonzero(in_scope & (role == "non_target"))
    tgt = {"code": t_rows, "pcode": les_pcode[t_rows],
           "bday": les["bday"].to_numpy(np.int64)[t_rows],
           "is_nodal": as_bool(les["is_nodal"])[t_rows]}

    tb = core.target_block(tpd, tgt, ld, scale, criterion, les_pcode, len(les), len(puniq))
    is_base = tpd["is_baseline"]
    complete = tb["has_t"] & (tb["n_a"] == tb["n_t"])
    c = np.where(is_base, tb["b"], tb["c"])
    valid_nadir = tb["base_ok"] & (complete | is_base)
    nadir, has_nadir = group_cummin_exclusive(c, valid_nadir, tpd["pcode"])
    b = tb["b"]
    n = np.where(has_nadir & ~is_base, nadir, b)  # the baseline row is the first valid row

    ok = tb["has_t"] & tb["base_ok"] & ~is_base
    pdc = ok & (tb["n_a"] > 0) & pd_condition(c, n, scale=scale, requires_abs=requires_abs)
    prc = ok & pr_condition(c, b)
    tr_code = np.select(
        [~tb["has_t"] | is_base, ~tb["base_ok"], pdc, ~complete, tb["all_cr"], prc],
        [0, 5, 4, 5, 1, 2], default=3)
    tr = core.TR_NAMES[tr_code]
    nt_sev = core.nontarget_severity(tpd, nt_rows, les_pcode[nt_rows], ld, les_pcode,
                                     len(les), len(puniq))
    nt_sev[is_base] = -1
    ntr = core.NT_NAMES[nt_sev]
    new, reported, note, backdated, confirm_date = _new_lesions(
        tp, ass, criterion=criterion, scope=scope, apply_hcc=apply_hcc,
        hcc_min_mm=hcc_new_lesion_min_mm, hcc_growth_mm=hcc_atypical_growth_mm,
        backdate=backdate)
    overall = core.overall_response(tr_code, nt_sev, new)
    overall[is_base] = None
    cont = core.continuing(tr_code, tpd["pcode"], tpd["day"], confirm_days)

    has_sum = tb["has_t"] & tb["base_ok"]
    c_mm = np.where(tb["has_t"], exact_to_float(c, scale), np.nan)
    c_mm[tb["has_t"] & (tb["n_a"] == 0) & ~is_base] = np.nan
    b_mm = np.where(has_sum, exact_to_float(b, scale), np.nan)
    n_mm = np.where(has_sum, exact_to_float(n, scale), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_b = np.where(b_mm > 0, 100.0 * (c_mm - b_mm) / b_mm, np.nan)
        pct_n = np.where(n_mm > 0, 100.0 * (c_mm - n_mm) / n_mm, np.nan)
    # rows returned: an index array (one nonzero pass for the ~40 columns), or all rows
    keep = slice(None) if include_baseline else np.flatnonzero(~is_base)
    parts = {"overall": overall, "tr_code": tr_code, "nt_sev": nt_sev, "new": new,
             "is_baseline": is_base,
             "has_t": tb["has_t"], "base_ok": tb["base_ok"], "n_t": tb["n_t"], "n_a": tb["n_a"],
             "c_mm": c_mm, "b_mm": b_mm, "n_mm": n_mm, "pct_b": pct_b, "pct_n": pct_n,
             "note": note, "confirm_date": confirm_date, "backdated": backdated}
    rules = rule_texts({k: v[keep] for k, v in parts.items()}, criterion, requires_abs)
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
    out = core.frame({**{k: (v[keep] if isinstance(v, np.ndarray | pd.api.extensions.
                                                      ExtensionArray) else v)
                           for k, v in cols.items()}, "rule": rules})
    assert list(out.columns) == TIMEPOINT_COLUMNS
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
    return out
