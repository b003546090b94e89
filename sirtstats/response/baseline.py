"""Baseline checks: target eligibility (findings that keep the offending rows) and selection.

Implements RECIST 1.1 measurability and target selection (R1.1, docs/rules/response.md, R1.2:
Eisenhauer et al., Eur J Cancer 2009;45:228-247, section 3) and the mRECIST target rules
(R2.1, R2.4.1: Lencioni & Llovet, Semin Liver Dis 2010;30:52-60). Nothing is fixed silently:
:func:`derive_target_eligibility` returns every lesion with its findings, and
:func:`check_target_eligibility` raises or warns with the offending rows attached.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.response._common import (
    CRITERIA,
    LESION_MEASURABLE_MM,
    MAX_TARGETS_PER_ORGAN,
    MAX_TARGETS_TOTAL,
    MRECIST_HILAR_NODE_MM,
    NODE_MEASURABLE_MM,
    NODE_NORMAL_BELOW_MM,
    SLICE_THICKNESS_LIMIT_MM,
    as_bool,
    check_choice,
    check_nonneg_int,
    require_columns,
    to_dates,
)

__all__ = [
    "ELIGIBILITY_COLUMNS",
    "check_target_eligibility",
    "derive_target_eligibility",
    "derive_target_selection",
]

#: Output columns of :func:`derive_target_eligibility`.
ELIGIBILITY_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "criterion", "organ", "is_nodal", "role",
    "baseline_diameter_mm", "baseline_state", "min_measurable_mm", "is_measurable",
    "is_eligible_target", "finding", "rule",
]


def _baseline_values(df_lesions, df_measurements, criterion, function):
    require_columns(df_lesions, ["lesion_id", "patient_id", "baseline_date", "organ",
                                 "is_nodal"], "lesions", function)
    require_columns(df_measurements, ["lesion_id", "assessment_date", "criterion", "state",
                                      "diameter_mm"], "lesion_measurements", function)
    les = df_lesions.copy()
    les["baseline_date"] = to_dates(les["baseline_date"], "lesions", "baseline_date")
    m = df_measurements.loc[df_measurements["criterion"].astype(object) == criterion].copy()
    m["assessment_date"] = to_dates(m["assessment_date"], "lesion_measurements",
                                    "assessment_date")
    m = m.merge(les[["lesion_id", "baseline_date"]], on="lesion_id", how="inner")
    m = m.loc[m["assessment_date"] == m["baseline_date"]]
    state = m["state"].astype(object)
    measured = (state == "measured") | (state.isna() & m["diameter_mm"].notna())
    m["val"] = np.where(measured, m["diameter_mm"].astype(float), np.nan)
    g = m.groupby("lesion_id")
    vals = g["val"].sum(min_count=1).where(~m["val"].isna().groupby(m["lesion_id"]).any())
    states = (_baseline_states(m, vals.index) if len(m) else g["state"].agg(
        lambda s: ";".join(sorted({str(x) for x in s if pd.notna(x)})) or "measured"))
    les["baseline_diameter_mm"] = les["lesion_id"].map(vals).astype(float)
    les["baseline_state"] = les["lesion_id"].map(states)
    return les


def _baseline_states(m: pd.DataFrame, keys: pd.Index) -> pd.Series:
    """Per lesion of ``keys``: its distinct recorded baseline states, sorted and joined by ";"
    ("measured" when none is recorded), without a Python function per group."""
    lid = m["lesion_id"].to_numpy(dtype=object)
    state = m["state"].to_numpy(dtype=object)
    ok = pd.notna(lid) & pd.notna(state)
    pairs = pd.DataFrame({"k": lid[ok], "s": [str(x) for x in state[ok]]}).drop_duplicates()
    k, txt = pairs["k"].to_numpy(dtype=object), pairs["s"].to_numpy(dtype=object)
    several = pairs["k"].duplicated(keep=False).to_numpy()
    joined: dict = {}
    for key, t in zip(k[several], txt[several], strict=True):
        joined.setdefault(key, set()).add(t)
    by_key = pd.Series([*txt[~several], *(";".join(sorted(v)) for v in joined.values())],
                       index=pd.Index([*k[~several], *joined], dtype=object), dtype=object)
    out = by_key.reindex(keys).to_numpy(dtype=object)
    none = pd.isna(out) | (out == "")  # no state, or only "" (falsy): "measured"
    return pd.Series(np.where(none, "measured", out), index=keys, dtype=object)


def _min_measurable(les, slice_thickness_mm):
    if slice_thickness_mm is None and "slice_thickness_mm" in les.columns:
        st = les["slice_thickness_mm"].astype(float).fillna(SLICE_THICKNESS_LIMIT_MM)
    else:
        st = pd.Series(float(slice_thickness_mm if slice_thickness_mm is not None
                             else SLICE_THICKNESS_LIMIT_MM), index=les.index)
    return np.where(st > SLICE_THICKNESS_LIMIT_MM, 2 * st, LESION_MEASURABLE_MM).astype(float)


def _organ_key(les) -> np.ndarray:
    # R1.2.2: all lymph nodes count as one organ; the liver is one organ.
    return np.where(as_bool(les["is_nodal"]), "lymph_node",
                    les["organ"].astype(object).to_numpy()).astype(object)


def derive_target_eligibility(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    max_targets_total: int = MAX_TARGETS_TOTAL,
    max_targets_per_organ: int = MAX_TARGETS_PER_ORGAN,
    slice_thickness_mm: float | None = None,
) -> pd.DataFrame:
    """Check every baseline lesion's role against the measurability and target-count rules.

    Parameters
    ----------
    df_lesions : DataFrame
        The ``lesions`` table (``lesion_id``, ``patient_id``, ``baseline_date``, ``organ``,
        ``is_nodal``, ``recist_role``/``mrecist_role``; for mRECIST
        ``is_arterially_enhancing``). Optional columns used when present:
        ``slice_thickness_mm`` (mm), ``prior_local_therapy`` (bool), ``is_porta_hepatis``
        (bool, hilar/portocaval node).
    df_measurements : DataFrame
        The ``lesion_measurements`` table; the baseline value is the row dated
        ``baseline_date`` (fragments summed).
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion whose roles are checked.
    max_targets_total : int, default 5
        R1.2.1 maximum number of targets per patient (a per-scope setting, R4.2.2/D10).
    max_targets_per_organ : int, default 2
        R1.2.1 maximum targets per organ (liver = one organ, all nodes = one organ).
    slice_thickness_mm : float, optional
        CT/MRI slice thickness (mm). Above 5 mm the minimum measurable non-nodal size is twice
        the slice thickness. Default: the ``slice_thickness_mm`` column, else 5 mm.

    Returns
    -------
    DataFrame
        One row per lesion with a role (target or non-target) under ``criterion``, with
        :data:`ELIGIBILITY_COLUMNS`: ``baseline_diameter_mm`` (mm), ``min_measurable_mm``,
        ``is_measurable``, ``is_eligible_target`` (targets without findings), ``finding``
        (None, or every finding joined by "; ") and ``rule`` (rule IDs).

    See Also
    --------
    check_target_eligibility : raise or warn on the findings.
    derive_target_selection : propose roles from baseline sizes.

    Notes
    -----
    RECIST 1.1 (R1.1): non-nodal target LD >= 10 mm (>= 2 x slice thickness for slices
    > 5 mm); nodal target short axis >= 15 mm; a node with short axis < 10 mm is normal and is
    not disease; targets not previously treated locally; <= 5 targets, <= 2 per organ
    (R1.2.1). mRECIST (R2.1): a liver target must enhance in the arterial phase and measure
    >= 10 mm viable diameter; a porta hepatis node is malignant only with short axis >= 20 mm
    (R2.4.1).

    Examples
    --------
    >>> import pandas as pd
    >>> les = pd.DataFrame({"lesion_id": ["A", "B"], "patient_id": "P1",
    ...     "baseline_date": pd.Timestamp("2024-01-03"), "organ": ["liver", "lymph_node"],
    ...     "is_nodal": [False, True], "recist_role": "target", "mrecist_role": "none",
    ...     "in_treated_territory": [True, False]})
    >>> meas = pd.DataFrame({"lesion_id": ["A", "B"], "assessment_date":
    ...     pd.Timestamp("2024-01-03"), "criterion": "RECIST_1_1", "fragment": 1,
    ...     "state": "measured", "diameter_mm": [25.0, 12.0]})
    >>> derive_target_eligibility(les, meas)[["lesion_id", "is_eligible_target", "rule"]]
      lesion_id  is_eligible_target  rule
    0         A                True  None
    1         B               False  R1.1
    """
    fn = "derive_target_eligibility"
    criterion = check_choice(criterion, CRITERIA, "criterion", fn)
    max_total = check_nonneg_int(max_targets_total, "max_targets_total", fn)
    max_organ = check_nonneg_int(max_targets_per_organ, "max_targets_per_organ", fn)
    role_col = "recist_role" if criterion == "RECIST_1_1" else "mrecist_role"
    require_columns(df_lesions, [role_col], "lesions", fn)
    les = _baseline_values(df_lesions, df_measurements, criterion, fn)
    les = les.loc[les[role_col].isin(["target", "non_target"])].rename(
        columns={role_col: "role"}).copy()
    n = len(les)
    findings = [[] for _ in range(n)]
    rules = [[] for _ in range(n)]

    def add(mask, text, rule):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            findings[i].append(text(i) if callable(text) else text)
            rules[i].append(rule)

    val = les["baseline_diameter_mm"].to_numpy(dtype=float)
    nodal = as_bool(les["is_nodal"])
    target = (les["role"] == "target").to_numpy()
    min_mm = _min_measurable(les, slice_thickness_mm)
    hilar = as_bool(les["is_porta_hepatis"]) if "is_porta_hepatis" in les else np.zeros(n, bool)
    node_min = np.where(hilar & (criterion == "mRECIST"), MRECIST_HILAR_NODE_MM,
                        NODE_MEASURABLE_MM)
    measurable = np.where(nodal, val >= node_min, val >= min_mm) & ~np.isnan(val)
    if criterion == "mRECIST":
        liver = (les["organ"].astype(object) == "liver").to_numpy()
        enh = as_bool(les["is_arterially_enhancing"]) if "is_arterially_enhancing" in les \
            else np.zeros(n, bool)
        measurable &= ~(liver & ~nodal & ~enh)
    add(target & np.isnan(val),
        lambda i: f"target without a measured baseline value (state "
                  f"{les['baseline_state'].iloc[i] or 'missing'})", "R1.1")
    add(target & ~nodal & (val < min_mm),
        lambda i: f"non-nodal target {val[i]:g} mm < {min_mm[i]:g} mm minimum measurable size",
        "R1.1")
    add(target & nodal & (val < node_min),
        lambda i: f"nodal target short axis {val[i]:g} mm < {node_min[i]:g} mm", "R1.1")
    add(~target & nodal & (val < NODE_NORMAL_BELOW_MM),
        lambda i: f"node short axis {val[i]:g} mm < 10 mm is normal, not disease", "R1.1")
    if criterion == "mRECIST":
        add(target & liver & ~nodal & ~enh,
            "mRECIST liver target without arterial enhancement (record as non-target)",
            "R2.1.1")
        add(~target & hilar & nodal & (val < MRECIST_HILAR_NODE_MM),
            lambda i: f"porta hepatis node {val[i]:g} mm < 20 mm is not malignant under "
                      f"mRECIST", "R2.4.1")
    if "prior_local_therapy" in les.columns:
        add(target & as_bool(les["prior_local_therapy"]),
            "target in a previously locally treated field (not measurable unless progressed)",
            "R1.1")
    organ = _organ_key(les)
    pid = les["patient_id"].to_numpy(dtype=object)
    t = pd.DataFrame({"pid": pid, "organ": organ, "t": target})
    n_org = t.groupby(["pid", "organ"])["t"].transform("sum").to_numpy()
    n_tot = t.groupby("pid")["t"].transform("sum").to_numpy()
    add(target & (n_org > max_organ),
        lambda i: f"{n_org[i]} targets in {organ[i]} > {max_organ} per organ", "R1.2.1")
    add(target & (n_tot > max_total),
        lambda i: f"{n_tot[i]} targets > {max_total} per patient", "R1.2.1")
    out = pd.DataFrame({
        "patient_id": pid, "lesion_id": les["lesion_id"].to_numpy(dtype=object),
        "criterion": criterion, "organ": les["organ"].to_numpy(dtype=object),
        "is_nodal": nodal, "role": les["role"].to_numpy(dtype=object),
        "baseline_diameter_mm": val, "baseline_state": les["baseline_state"].to_numpy(
            dtype=object),
        "min_measurable_mm": np.where(nodal, node_min, min_mm).astype(float),
        "is_measurable": measurable,
        "is_eligible_target": target & np.array([not f for f in findings], dtype=bool),
        "finding": [("; ".join(f) if f else None) for f in findings],
        "rule": [(", ".join(dict.fromkeys(r)) if r else None) for r in rules],
    }, columns=ELIGIBILITY_COLUMNS)
    out.attrs["settings"] = {"criterion": criterion, "max_targets_total": max_total,
                             "max_targets_per_organ": max_organ,
                             "slice_thickness_mm": slice_thickness_mm}
    return out


def check_target_eligibility(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    check_type: Literal["error", "warning"] = "warning",
    **options,
) -> None:
    """Raise or warn when baseline lesion roles break the eligibility rules.

    Parameters
    ----------
    df_lesions, df_measurements : DataFrame
        As for :func:`derive_target_eligibility`.
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion whose roles are checked.
    check_type : {"error", "warning"}, default "warning"
        Raise :class:`SirtDataError` or emit :class:`SirtStatsWarning` (clinical judgement
        decides, as admiralonco's ``check_type``).
    **options
        ``max_targets_total``, ``max_targets_per_organ``, ``slice_thickness_mm``.

    Raises
    ------
    SirtDataError
        With ``check_type="error"`` and at least one finding; ``.rows`` holds the lesions with
        findings.

    Warns
    -----
    SirtStatsWarning
        With ``check_type="warning"`` and at least one finding.
    """
    check_type = check_choice(check_type, ("error", "warning"), "check_type",
                              "check_target_eligibility")
    res = derive_target_eligibility(df_lesions, df_measurements, criterion=criterion, **options)
    bad = res.loc[res["finding"].notna()]
    if bad.empty:
        return None
    keys = ", ".join(f"({p}, {lid})" for p, lid in bad[["patient_id", "lesion_id"]].head(3)
                     .itertuples(index=False))
    msg = (f"lesions: {len(bad)} {criterion} baseline lesion(s) break the eligibility rules; "
           f"first keys (patient_id, lesion_id): {keys}; first finding: "
           f"{bad['finding'].iloc[0]}. See derive_target_eligibility() for all findings.")
    if check_type == "error":
        raise SirtDataError(msg, table="lesions", column="recist_role" if criterion ==
                            "RECIST_1_1" else "mrecist_role", rule="target eligibility",
                            rows=bad)
    warnings.warn(msg, SirtStatsWarning, stacklevel=2)
    return None


def derive_target_selection(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    max_targets_total: int = MAX_TARGETS_TOTAL,
    max_targets_per_organ: int = MAX_TARGETS_PER_ORGAN,
    slice_thickness_mm: float | None = None,
) -> pd.DataFrame:
    """Propose target / non-target roles from baseline sizes (R1.1, R1.2; a reading aid).

    Parameters
    ----------
    df_lesions : DataFrame
        ``lesion_id``, ``patient_id``, ``baseline_date``, ``organ``, ``is_nodal`` (roles not
        needed); optional ``slice_thickness_mm``, ``is_arterially_enhancing`` (mRECIST),
        ``is_porta_hepatis``.
    df_measurements : DataFrame
        Baseline rows of ``lesion_measurements`` (long axis; nodes: short axis).
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Measurability rules to apply.
    max_targets_total : int, default 5
        Maximum targets per patient.
    max_targets_per_organ : int, default 2
        Maximum targets per organ (liver one organ, all nodes one organ).
    slice_thickness_mm : float, optional
        Slice thickness (mm); see :func:`derive_target_eligibility`.

    Returns
    -------
    DataFrame
        ``patient_id``, ``lesion_id``, ``organ``, ``is_nodal``, ``baseline_diameter_mm``,
        ``proposed_role`` (``target``, ``non_target`` or ``none`` for normal nodes) and
        ``reason``.

    Notes
    -----
    Measurable lesions are ranked by size within their organ; at most
    ``max_targets_per_organ`` per organ are candidates. The largest lesion of every organ is
    taken first (so that all involved organs are represented), then the remaining candidates
    by size, up to ``max_targets_total``. Measurable lesions not chosen, nodes with short axis
    10 to < 15 mm and lesions below the measurable size are non-targets; nodes < 10 mm are
    normal. The reader's choice in the registry always prevails; this is a proposal.
    """
    fn = "derive_target_selection"
    criterion = check_choice(criterion, CRITERIA, "criterion", fn)
    max_total = check_nonneg_int(max_targets_total, "max_targets_total", fn)
    max_organ = check_nonneg_int(max_targets_per_organ, "max_targets_per_organ", fn)
    les = _baseline_values(df_lesions, df_measurements, criterion, fn).reset_index(drop=True)
    val = les["baseline_diameter_mm"].to_numpy(dtype=float)
    nodal = as_bool(les["is_nodal"])
    min_mm = _min_measurable(les, slice_thickness_mm)
    hilar = as_bool(les["is_porta_hepatis"]) if "is_porta_hepatis" in les else np.zeros(
        len(les), bool)
    mrec = criterion == "mRECIST"
    node_min = np.where(hilar & mrec, MRECIST_HILAR_NODE_MM, NODE_MEASURABLE_MM)
    node_normal = np.where(hilar & mrec, MRECIST_HILAR_NODE_MM, NODE_NORMAL_BELOW_MM)
    measurable = np.where(nodal, val >= node_min, val >= min_mm) & ~np.isnan(val)
    non_enh = np.zeros(len(les), bool)
    if mrec:
        enh = as_bool(les["is_arterially_enhancing"]) if "is_arterially_enhancing" in les \
            else np.zeros(len(les), bool)
        non_enh = (les["organ"].astype(object) == "liver").to_numpy() & ~nodal & ~enh
        measurable &= ~non_enh
    organ = _organ_key(les)
    c = pd.DataFrame({"pid": les["patient_id"].to_numpy(dtype=object), "organ": organ,
                      "val": np.where(measurable, val, -np.inf), "m": measurable})
    c["rank_organ"] = c.groupby(["pid", "organ"])["val"].rank(method="first", ascending=False)
    cand = c["m"] & (c["rank_organ"] <= max_organ)
    order = c.loc[cand].sort_values(["pid", "rank_organ", "val"], ascending=[True, True, False],
                                    kind="mergesort")
    chosen_idx = order.groupby("pid").head(max_total).index
    chosen = np.zeros(len(les), bool)
    chosen[chosen_idx] = True
    normal = nodal & (val < node_normal)
    role = np.where(chosen, "target", np.where(normal, "none", "non_target")).astype(object)
    reason = np.select(
        [chosen, normal, nodal & ~measurable, non_enh, ~measurable, measurable],
        ["measurable, among the largest of its organ (R1.2.1)",
         "normal node (short axis below the pathological size)",
         "pathological node, not measurable (short axis 10 to < 15 mm, R1.1)",
         "no arterial enhancement (mRECIST non-target, R2.1.3)",
         "below the minimum measurable size (R1.1)",
         "measurable but over the per-organ or total target limit (R1.2.1)"],
        default="no baseline value").astype(object)
    return pd.DataFrame({
        "patient_id": les["patient_id"].to_numpy(dtype=object),
        "lesion_id": les["lesion_id"].to_numpy(dtype=object),
        "organ": les["organ"].to_numpy(dtype=object), "is_nodal": nodal,
        "baseline_diameter_mm": val, "proposed_role": role, "reason": reason})
