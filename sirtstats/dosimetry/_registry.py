"""Dosimetry on registry tables: recomputed injection doses, cross-check, lung dose, summaries."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns
from sirtstats.dosimetry._physics import (
    DEVICE_ISOTOPE,
    HALF_LIFE_H,
    LUNG_DOSE_LIMIT_CUMULATIVE_GY,
    LUNG_DOSE_LIMIT_SINGLE_GY,
    LUNG_MASS_KG,
    TISSUE_DENSITY_G_ML,
    _arr,
    _check_choice,
    _check_range,
    compute_dose_factor,
)
from sirtstats.exceptions import SirtDataError

__all__ = [
    "CROSSCHECK_COLUMNS",
    "CROSSCHECK_RULES",
    "DEVICE_SUMMARY_QUANTITIES",
    "INJECTION_DOSE_COLUMNS",
    "LUNG_DOSE_COLUMNS",
    "derive_dose_crosscheck",
    "derive_injection_doses",
    "derive_lung_dose",
    "derive_patient_dose",
    "summarise_dose_by_device",
]


# --------------------------------------------------------------------------------------------
# registry-level derivations
# --------------------------------------------------------------------------------------------
_require_columns = require_columns


def _check_table_range(df, column, table, function, keys, *, low=None, high=None, low_open=False):
    v = _arr(df[column])
    bad = np.zeros(len(v), dtype=bool)
    if low is not None:
        bad |= (v <= low) if low_open else (v < low)
    if high is not None:
        bad |= v > high
    bad &= ~np.isnan(v)
    if bad.any():
        rows = df.loc[bad, [k for k in keys if k in df.columns] + [column]]
        rule = (f"{low} {'<' if low_open else '<='} {column}" if high is None
                else f"{low} <= {column} <= {high}")
        first = ", ".join(str(tuple(r)) for r in rows.head(3).itertuples(index=False))
        raise SirtDataError(
            f"{table}.{column}: {int(bad.sum())} rows violate \"{rule}\"; first keys "
            f"({', '.join(rows.columns)}): {first}. {function} cannot compute a dose from an "
            f"impossible value; fix the source table or exclude these rows.",
            table=table,
            column=column,
            rule=rule,
            rows=rows,
        )


_TREATMENT_KEYS = ("injection_id", "session_id", "patient_id")

#: Columns of :func:`derive_injection_doses`, in order.
INJECTION_DOSE_COLUMNS = [
    "injection_id", "session_id", "patient_id", "workup_id", "treatment_date", "device",
    "isotope", "dose_factor_gy_kg_per_gbq", "activity_gbq", "lsf_pct", "tnr", "lung_mass_kg",
    "perfused_volume_ml", "perfused_mass_kg", "tumour_mass_kg", "normal_liver_mass_kg",
    "perfused_dose_gy", "tumour_dose_gy", "normal_liver_dose_gy", "lung_dose_gy",
    "vial_activity_at_administration_gbq",
]


def derive_injection_doses(
    df_treatments: pd.DataFrame,
    df_workups: pd.DataFrame | None = None,
    *,
    activity_col: str = "delivered_activity_gbq",
    density_g_ml: float = TISSUE_DENSITY_G_ML,
    lung_mass_kg: float | None = None,
    y90_dose_factor=None,
    ho166_dose_factor=None,
) -> pd.DataFrame:
    """Recompute the doses of every injection from activities, volumes and the work-up.

    Parameters
    ----------
    df_treatments : DataFrame
        ``treatments`` table: ``injection_id``, ``session_id``, ``patient_id`` (str),
        ``device`` (str, Y90_glass / Y90_resin / Ho166_PLLA), the activity column (float, GBq),
        optional ``workup_id`` (str), ``treatment_date`` (datetime64), ``perfused_volume_ml``,
        ``perfused_tumour_volume_ml`` (float, mL), ``vial_calibration_activity_gbq`` (float,
        GBq), ``vial_calibration_datetime``, ``administration_datetime`` (datetime64).
    df_workups : DataFrame, optional
        ``workups`` table: ``workup_id`` (str), ``lsf_pct`` (float, %), optional ``tnr``
        (ratio) and ``lung_mass_kg`` (kg). Without it LSF and TNR are missing.
    activity_col : str, default "delivered_activity_gbq"
        Activity used for the doses (``"prescribed_activity_gbq"`` for planned doses).
    density_g_ml : float, default 1.03
        Tissue density for volume-to-mass conversion, g/mL.
    lung_mass_kg : float, optional
        Lung mass for every injection, kg; None uses ``workups.lung_mass_kg`` and 1 kg where
        that is missing.
    y90_dose_factor, ho166_dose_factor : float or str, optional
        Dose constant overrides (see :func:`compute_dose_factor`).

    Returns
    -------
    DataFrame
        One row per input row, same index and order, columns :data:`INJECTION_DOSE_COLUMNS`:
        the keys, ``isotope``, ``dose_factor_gy_kg_per_gbq`` (the K used), ``activity_gbq``,
        ``lsf_pct``, ``tnr``, ``lung_mass_kg``, ``perfused_volume_ml``, masses in kg,
        recomputed doses in Gy
        (``perfused_dose_gy`` MIRD; ``tumour_dose_gy`` and ``normal_liver_dose_gy`` partition
        model; ``lung_dose_gy``), and ``vial_activity_at_administration_gbq`` (vial
        calibration activity decayed to administration time). Doses are NaN when an input is
        missing, or when the tumour volume exceeds the perfused volume (partition doses).

    Raises
    ------
    SirtDataError
        If a required column is missing, or for negative activities or volumes, LSF outside
        0-100 %, negative TNR or a lung mass <= 0 (the rows are attached).

    See Also
    --------
    derive_dose_crosscheck : compares these doses with the recorded ones.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"injection_id": ["I1"], "session_id": ["S1"],
    ...                    "patient_id": ["P1"], "workup_id": ["W1"], "device": ["Y90_glass"],
    ...                    "delivered_activity_gbq": [2.543], "perfused_volume_ml": [970.87]})
    >>> wu = pd.DataFrame({"workup_id": ["W1"], "lsf_pct": [5.0]})
    >>> d = derive_injection_doses(tx, wu)
    >>> d[["perfused_mass_kg", "perfused_dose_gy", "lung_dose_gy"]].round(2)
       perfused_mass_kg  perfused_dose_gy  lung_dose_gy
    0               1.0             120.0          6.32
    """
    fn = "derive_injection_doses"
    tx = df_treatments
    _check_treatment_inputs(tx, activity_col, fn)
    wu = _aligned_workups(tx, df_workups, fn)

    def col(df, name):
        return _column_or_nan(df, name, len(tx))

    isotope = tx["device"].map(DEVICE_ISOTOPE)
    k_y = compute_dose_factor("Y90", y90_dose_factor)
    k_h = compute_dose_factor("Ho166", ho166_dose_factor)
    k = np.where(isotope == "Ho166", k_h, np.where(isotope == "Y90", k_y, np.nan))
    a = col(tx, activity_col)
    lsf = col(wu, "lsf_pct") / 100.0
    tnr = col(wu, "tnr")
    if lung_mass_kg is None:
        m_lung = np.where(np.isnan(col(wu, "lung_mass_kg")), LUNG_MASS_KG, col(wu, "lung_mass_kg"))
    else:
        m_lung = np.full(len(tx), float(_check_range(lung_mass_kg, "lung_mass_kg", fn, low=0,
                                                     low_open=True)))
    v_p, v_t = col(tx, "perfused_volume_ml"), col(tx, "perfused_tumour_volume_ml")
    m_p = v_p * density_g_ml / 1000.0
    m_t = v_t * density_g_ml / 1000.0
    m_n = np.where(v_t <= v_p, (v_p - v_t) * density_g_ml / 1000.0, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        perfused = np.where(m_p > 0, k * a * (1.0 - lsf) / m_p, np.nan)
        denom = tnr * m_t + m_n
        d_n = np.where(denom > 0, k * a * (1.0 - lsf) / denom, np.nan)
    hours = _hours_since_vial_calibration(tx)
    half_life = np.where(isotope == "Ho166", HALF_LIFE_H["Ho166"], HALF_LIFE_H["Y90"])
    vial = col(tx, "vial_calibration_activity_gbq") * np.exp2(-hours / half_life)

    out = pd.DataFrame(index=tx.index)
    for name in ("injection_id", "session_id", "patient_id", "workup_id", "treatment_date",
                 "device"):
        out[name] = tx[name] if name in tx.columns else pd.Series(pd.NA, index=tx.index,
                                                                   dtype=object)
    values = {
        "isotope": isotope, "dose_factor_gy_kg_per_gbq": k, "activity_gbq": a,
        "lsf_pct": lsf * 100.0, "tnr": tnr, "lung_mass_kg": m_lung, "perfused_volume_ml": v_p,
        "perfused_mass_kg": m_p,
        "tumour_mass_kg": m_t, "normal_liver_mass_kg": m_n, "perfused_dose_gy": perfused,
        "tumour_dose_gy": tnr * d_n, "normal_liver_dose_gy": d_n,
        "lung_dose_gy": k * a * lsf / m_lung, "vial_activity_at_administration_gbq": vial,
    }
    for name, value in values.items():
        out[name] = value.to_numpy() if isinstance(value, pd.Series) else value
    return out[INJECTION_DOSE_COLUMNS]


def _check_treatment_inputs(tx: pd.DataFrame, activity_col: str, fn: str) -> None:
    """Raise SirtDataError for missing key columns, unknown devices or negative inputs."""
    _require_columns(tx, [*_TREATMENT_KEYS, "device", activity_col], "treatments", fn)
    keys = [*_TREATMENT_KEYS]
    unknown = ~tx["device"].isin(list(DEVICE_ISOTOPE)) & tx["device"].notna()
    if unknown.any():
        raise SirtDataError(
            f"treatments.device: {int(unknown.sum())} rows have a device outside "
            f"{sorted(DEVICE_ISOTOPE)}; {fn} cannot tell the isotope.",
            table="treatments", column="device", rule="device in enum",
            rows=tx.loc[unknown, [*keys, "device"]],
        )
    for col in (activity_col, "perfused_volume_ml", "perfused_tumour_volume_ml",
                "vial_calibration_activity_gbq"):
        if col in tx.columns:
            _check_table_range(tx, col, "treatments", fn, keys, low=0)


def _aligned_workups(tx: pd.DataFrame, df_workups: pd.DataFrame | None,
                     fn: str) -> pd.DataFrame | None:
    """Checked work-up rows aligned to ``tx`` by ``workup_id`` (None without work-ups)."""
    if df_workups is None or "workup_id" not in tx.columns:
        return None
    _require_columns(df_workups, ["workup_id", "lsf_pct"], "workups", fn)
    _check_table_range(df_workups, "lsf_pct", "workups", fn, ["workup_id", "patient_id"],
                       low=0, high=100)
    for name, kw in (("tnr", {"low": 0}), ("lung_mass_kg", {"low": 0, "low_open": True})):
        if name in df_workups.columns:
            _check_table_range(df_workups, name, "workups", fn,
                               ["workup_id", "patient_id"], **kw)
    wu = df_workups.drop_duplicates("workup_id").set_index("workup_id")
    return wu.reindex(tx["workup_id"].to_numpy())


def _column_or_nan(df: pd.DataFrame | None, name: str, n: int) -> np.ndarray:
    """Column ``name`` of ``df`` as a float array, or ``n`` NaNs when absent."""
    if df is not None and name in df.columns:
        return _arr(df[name])
    return np.full(n, np.nan)


def _hours_since_vial_calibration(tx: pd.DataFrame) -> np.ndarray:
    """Hours from vial calibration to administration (NaN where either time is missing)."""
    hours = (pd.to_datetime(tx["administration_datetime"]) if "administration_datetime"
             in tx.columns else pd.Series(pd.NaT, index=tx.index))
    if "vial_calibration_datetime" not in tx.columns:
        return np.full(len(tx), np.nan)
    hours = (hours - pd.to_datetime(tx["vial_calibration_datetime"])).dt.total_seconds()
    return (hours / 3600.0).to_numpy(dtype=float, na_value=np.nan)


#: Cross-check rules, as data: (check name, recorded column in treatments, recomputed column of
#: derive_injection_doses or an expression key, comparison). "equal" flags when the relative
#: and the absolute difference both exceed their tolerances; "at_most" flags recorded values
#: above the recomputed bound by more than the tolerances.
CROSSCHECK_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("delivered_activity", "delivered_activity_gbq", "measured_minus_residual_gbq", "equal"),
    ("measured_vs_vial_activity", "measured_activity_gbq", "vial_activity_at_administration_gbq",
     "at_most"),
    ("perfused_dose", "perfused_dose_gy", "perfused_dose_gy", "equal"),
    ("tumour_dose", "tumour_dose_gy", "tumour_dose_gy", "equal"),
    ("normal_liver_dose", "normal_liver_dose_gy", "normal_liver_dose_gy", "equal"),
    ("lung_dose", "lung_dose_gy", "lung_dose_gy", "equal"),
)

#: Columns of :func:`derive_dose_crosscheck`, in order.
CROSSCHECK_COLUMNS = [
    "injection_id", "session_id", "patient_id", "check", "column", "recorded", "recomputed",
    "difference", "rel_difference", "is_discrepant", "message",
]


def derive_dose_crosscheck(
    df_treatments: pd.DataFrame,
    df_workups: pd.DataFrame | None = None,
    *,
    rel_tol: float = 0.05,
    abs_tol: float = 0.5,
    activity_col: str = "delivered_activity_gbq",
    density_g_ml: float = TISSUE_DENSITY_G_ML,
    lung_mass_kg: float | None = None,
    y90_dose_factor=None,
    ho166_dose_factor=None,
    include_all: bool = False,
) -> pd.DataFrame:
    """Cross-check recorded activities and doses against recomputed ones (data-quality findings).

    Parameters
    ----------
    df_treatments : DataFrame
        ``treatments`` table (see :func:`derive_injection_doses`) with any of the recorded
        columns ``perfused_dose_gy``, ``tumour_dose_gy``, ``normal_liver_dose_gy``,
        ``lung_dose_gy`` (Gy), ``delivered_activity_gbq``, ``measured_activity_gbq``,
        ``residual_activity_gbq`` (GBq).
    df_workups : DataFrame, optional
        ``workups`` table (``workup_id``, ``lsf_pct``, ``tnr``, ``lung_mass_kg``).
    rel_tol : float, default 0.05
        Relative tolerance (fraction of the recomputed value); 5 % covers the Y-90 constant
        variants (<= 1.2 %) and rounding of volumes.
    abs_tol : float, default 0.5
        Absolute tolerance in the unit of the column (Gy or GBq), so that rounding of small
        values (e.g. a 0.3 Gy lung dose) is not flagged. A finding needs both tolerances
        exceeded.
    activity_col, density_g_ml, lung_mass_kg, y90_dose_factor, ho166_dose_factor
        Passed to :func:`derive_injection_doses`.
    include_all : bool, default False
        Return every comparison made (``is_discrepant`` False for agreements) instead of the
        discrepancies only.

    Returns
    -------
    DataFrame
        One row per finding (or comparison), columns :data:`CROSSCHECK_COLUMNS`: keys,
        ``check`` (rule name in :data:`CROSSCHECK_RULES`, or ``"volumes"`` for a tumour volume
        larger than the perfused volume), ``column`` (recorded column), ``recorded``,
        ``recomputed`` (float), ``difference`` (recorded - recomputed), ``rel_difference``
        (difference / recomputed), ``is_discrepant`` (bool), ``message`` (str). Comparisons with
        a missing input are not made. Ordered by input row, then rule.

    Raises
    ------
    ValueError
        For a negative tolerance.
    SirtDataError
        As :func:`derive_injection_doses` for impossible inputs.

    Notes
    -----
    ``measured_vs_vial_activity`` flags an assayed activity larger than the vial could hold at
    administration time (calibration activity decayed with the physical half-life); resin
    doses drawn from a larger vial are legitimately below it.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"injection_id": ["I1", "I2"], "session_id": ["S1", "S2"],
    ...                    "patient_id": ["P1", "P2"], "workup_id": ["W1", "W2"],
    ...                    "device": ["Y90_glass", "Y90_glass"],
    ...                    "delivered_activity_gbq": [2.543, 2.543],
    ...                    "perfused_volume_ml": [970.87, 970.87],
    ...                    "perfused_dose_gy": [120.0, 150.0]})
    >>> wu = pd.DataFrame({"workup_id": ["W1", "W2"], "lsf_pct": [5.0, 5.0]})
    >>> f = derive_dose_crosscheck(tx, wu)
    >>> f[["injection_id", "check", "recorded", "recomputed"]].round(1)
      injection_id          check  recorded  recomputed
    0           I2  perfused_dose     150.0       120.0
    """
    fn = "derive_dose_crosscheck"
    for name, tol in (("rel_tol", rel_tol), ("abs_tol", abs_tol)):
        if not (isinstance(tol, int | float) and tol >= 0):
            raise ValueError(
                f"The '{name}' argument of {fn} must be a number >= 0. Got {tol!r} instead."
            )
    doses = derive_injection_doses(
        df_treatments, df_workups, activity_col=activity_col, density_g_ml=density_g_ml,
        lung_mass_kg=lung_mass_kg, y90_dose_factor=y90_dose_factor,
        ho166_dose_factor=ho166_dose_factor,
    )
    tx = df_treatments
    n = len(tx)

    def col(name):
        return _arr(tx[name]) if name in tx.columns else np.full(n, np.nan)

    recomputed = {c: doses[c].to_numpy(dtype=float) for c in doses.columns
                  if c.endswith(("_gy", "_gbq"))}
    recomputed["measured_minus_residual_gbq"] = (
        col("measured_activity_gbq") - col("residual_activity_gbq")
    )
    frames = []
    position = np.arange(n)
    v_p, v_t = col("perfused_volume_ml"), col("perfused_tumour_volume_ml")
    bad_volume = v_t > v_p
    if bad_volume.any():
        frames.append(pd.DataFrame({
            "_pos": position[bad_volume], "_rule": -1, "check": "volumes",
            "column": "perfused_tumour_volume_ml", "recorded": v_t[bad_volume],
            "recomputed": v_p[bad_volume], "is_discrepant": True,
        }))
    for rule_no, (check, rec_col, recomp_key, comparison) in enumerate(CROSSCHECK_RULES):
        if rec_col not in tx.columns:
            continue
        rec = col(rec_col)
        ref = recomputed[recomp_key]
        ok = ~np.isnan(rec) & ~np.isnan(ref)
        diff = rec - ref
        beyond = (np.abs(diff) > abs_tol) & (np.abs(diff) > rel_tol * np.abs(ref))
        flag = beyond & (diff > 0) if comparison == "at_most" else beyond
        frames.append(pd.DataFrame({
            "_pos": position[ok], "_rule": rule_no, "check": check, "column": rec_col,
            "recorded": rec[ok], "recomputed": ref[ok], "is_discrepant": flag[ok],
        }))
    out = (pd.concat(frames, ignore_index=True) if frames
           else pd.DataFrame(columns=["_pos", "_rule", "check", "column", "recorded",
                                      "recomputed", "is_discrepant"]))
    if not include_all:
        out = out[out["is_discrepant"].astype(bool)]
    out = out.sort_values(["_pos", "_rule"], kind="stable")
    for key in _TREATMENT_KEYS:
        out[key] = tx[key].to_numpy()[out["_pos"].to_numpy(dtype=int)]
    out["recorded"] = out["recorded"].astype(float)
    out["recomputed"] = out["recomputed"].astype(float)
    out["difference"] = out["recorded"] - out["recomputed"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rel_difference"] = out["difference"] / out["recomputed"]
    out["is_discrepant"] = out["is_discrepant"].astype(bool)
    out["message"] = [_crosscheck_message(r) for r in out.itertuples(index=False)]
    return out[CROSSCHECK_COLUMNS].reset_index(drop=True)


def _crosscheck_message(r) -> str:
    if r.check == "volumes":
        return (f"perfused_tumour_volume_ml {r.recorded:g} mL exceeds perfused_volume_ml "
                f"{r.recomputed:g} mL; partition doses cannot be recomputed.")
    unit = "GBq" if r.column.endswith("_gbq") else "Gy"
    rel = f" ({100 * r.rel_difference:+.1f} %)" if np.isfinite(r.rel_difference) else ""
    verdict = "discrepancy" if r.is_discrepant else "agrees"
    if r.check == "measured_vs_vial_activity":
        return (f"{verdict}: measured activity {r.recorded:.3g} {unit} vs vial activity at "
                f"administration {r.recomputed:.3g} {unit}{rel}.")
    return (f"{verdict}: {r.column} recorded {r.recorded:.4g} {unit}, recomputed "
            f"{r.recomputed:.4g} {unit}{rel}.")


_LIMIT_DECIMALS = 6

#: Columns of :func:`derive_lung_dose`, in order.
LUNG_DOSE_COLUMNS = [
    "patient_id", "session_id", "treatment_date", "activity_gbq", "lung_dose_gy",
    "cumulative_lung_dose_gy", "exceeds_single_limit", "exceeds_cumulative_limit",
]


def _sum_all_or_nan(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of ``values`` per group 0 .. n_groups - 1 (rows in their order); NaN if one is NaN.

    The same floats as ``Series.sum(min_count=len(s))`` of each group, which is
    ``np.add.reduce`` of the group's values in row order: that adds left to right below 8
    values (done here position by position for all such groups at once) and pairwise from 8
    (``np.add.reduce`` called on each such group).
    """
    out = np.full(n_groups, np.nan)
    if len(group) == 0:
        return out
    order = np.argsort(group, kind="stable")
    g = group[order]
    v = values[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    sums = v[starts].copy()
    small = sizes < 8
    for j in range(1, int(sizes[small].max(initial=1))):
        more = small & (sizes > j)
        sums[more] += v[starts[more] + j]
    for i in np.flatnonzero(~small):
        sums[i] = np.add.reduce(v[starts[i] : starts[i] + sizes[i]])
    sums[np.add.reduceat(np.isnan(v).astype(np.int64), starts) > 0] = np.nan
    out[g[starts]] = sums
    return out


def derive_lung_dose(
    df_treatments: pd.DataFrame,
    df_workups: pd.DataFrame | None = None,
    *,
    activity_col: str = "delivered_activity_gbq",
    single_limit_gy: float = LUNG_DOSE_LIMIT_SINGLE_GY,
    cumulative_limit_gy: float = LUNG_DOSE_LIMIT_CUMULATIVE_GY,
    lung_mass_kg: float | None = None,
    y90_dose_factor=None,
    ho166_dose_factor=None,
) -> pd.DataFrame:
    """Lung dose per session and cumulated per patient, against the 30 Gy / 50 Gy limits.

    Parameters
    ----------
    df_treatments : DataFrame
        ``treatments`` table: ``injection_id``, ``session_id``, ``patient_id``, ``workup_id``
        (str), ``treatment_date`` (datetime64), ``device`` (str), the activity column (GBq).
    df_workups : DataFrame, optional
        ``workups`` table: ``workup_id``, ``lsf_pct`` (%), optional ``lung_mass_kg`` (kg).
    activity_col : str, default "delivered_activity_gbq"
        Activity used (``"prescribed_activity_gbq"`` to check a plan).
    single_limit_gy : float, default 30
        Limit for one session, Gy (> 0).
    cumulative_limit_gy : float, default 50
        Limit for the sum over all sessions of the patient, Gy (> 0).
    lung_mass_kg, y90_dose_factor, ho166_dose_factor
        Passed to :func:`derive_injection_doses`.

    Returns
    -------
    DataFrame
        One row per session sorted by ``patient_id``, ``treatment_date``, ``session_id``,
        columns :data:`LUNG_DOSE_COLUMNS`: ``activity_gbq`` and ``lung_dose_gy`` summed over the
        session's injections (float), ``cumulative_lung_dose_gy`` over this and earlier
        sessions (NaN once a lung dose is unknown), ``exceeds_single_limit`` and
        ``exceeds_cumulative_limit`` (boolean, NA when unknown; strictly above the limit).

    Raises
    ------
    ValueError
        For a limit <= 0.
    SirtDataError
        As :func:`derive_injection_doses`.

    References
    ----------
    M2.3 (docs/rules/dosimetry.md) (30 Gy single, 50 Gy cumulative).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"injection_id": ["I1", "I2"], "session_id": ["S1", "S2"],
    ...                    "patient_id": ["P1", "P1"], "workup_id": ["W1", "W1"],
    ...                    "treatment_date": pd.to_datetime(["2026-01-05", "2026-03-02"]),
    ...                    "device": ["Y90_glass", "Y90_glass"],
    ...                    "delivered_activity_gbq": [5.0, 5.5]})
    >>> wu = pd.DataFrame({"workup_id": ["W1"], "lsf_pct": [10.0]})
    >>> derive_lung_dose(tx, wu)[["session_id", "lung_dose_gy", "cumulative_lung_dose_gy",
    ...                           "exceeds_cumulative_limit"]].round(1)
      session_id  lung_dose_gy  cumulative_lung_dose_gy  exceeds_cumulative_limit
    0         S1          24.8                     24.8                     False
    1         S2          27.3                     52.2                      True
    """
    fn = "derive_lung_dose"
    for name, value in (("single_limit_gy", single_limit_gy),
                        ("cumulative_limit_gy", cumulative_limit_gy)):
        if not (isinstance(value, int | float) and value > 0):
            raise ValueError(
                f"The '{name}' argument of {fn} must be a number > 0 Gy. Got {value!r} instead."
            )
    doses = derive_injection_doses(
        df_treatments, df_workups, activity_col=activity_col, lung_mass_kg=lung_mass_kg,
        y90_dose_factor=y90_dose_factor, ho166_dose_factor=ho166_dose_factor,
    )
    grouped = doses.groupby(["patient_id", "session_id"], sort=False, dropna=False)
    sessions = grouped.agg(treatment_date=("treatment_date", "min"))
    group = grouped.ngroup().to_numpy()  # numbered in the order of the rows of `sessions`
    for col in ("activity_gbq", "lung_dose_gy"):
        sessions[col] = _sum_all_or_nan(doses[col].to_numpy(dtype=float), group, len(sessions))
    sessions = sessions.reset_index()
    sessions = sessions.sort_values(["patient_id", "treatment_date", "session_id"],
                                    kind="stable").reset_index(drop=True)
    # cumulative sum that stays NaN once an earlier session's lung dose is unknown
    unknown = sessions["lung_dose_gy"].isna().groupby(sessions["patient_id"]).cummax()
    cumulative = sessions["lung_dose_gy"].fillna(0).groupby(sessions["patient_id"]).cumsum()
    sessions["cumulative_lung_dose_gy"] = cumulative.where(~unknown)
    # compare at 1e-6 Gy so that a dose computed to land on the limit is not "above" it
    single = sessions["lung_dose_gy"].round(_LIMIT_DECIMALS)
    cumul = sessions["cumulative_lung_dose_gy"].round(_LIMIT_DECIMALS)
    sessions["exceeds_single_limit"] = (single > single_limit_gy).astype("boolean").mask(
        single.isna())
    sessions["exceeds_cumulative_limit"] = (cumul > cumulative_limit_gy).astype(
        "boolean").mask(cumul.isna())
    return sessions[LUNG_DOSE_COLUMNS]


#: Quantities summarised by :func:`summarise_dose_by_device` (column: unit).
DEVICE_SUMMARY_QUANTITIES: dict[str, str] = {
    "activity_gbq": "GBq",
    "perfused_volume_ml": "mL",
    "perfused_dose_gy": "Gy",
    "tumour_dose_gy": "Gy",
    "normal_liver_dose_gy": "Gy",
    "lung_dose_gy": "Gy",
}


def summarise_dose_by_device(
    df: pd.DataFrame,
    *,
    quantities: dict[str, str] | None = None,
    device_col: str = "device",
) -> pd.DataFrame:
    """Dose-volume summary per device: median and interquartile range of each quantity.

    Parameters
    ----------
    df : DataFrame
        One row per injection, e.g. :func:`derive_injection_doses` (or the ``treatments``
        table with its recorded doses): ``device`` (str) and the quantity columns (float).
    quantities : dict of str to str, optional
        Column -> unit; default :data:`DEVICE_SUMMARY_QUANTITIES` (columns absent from ``df``
        are skipped).
    device_col : str, default "device"
        Grouping column.

    Returns
    -------
    DataFrame
        One row per device x quantity (devices sorted, quantities in the given order):
        ``device``, ``quantity``, ``unit``, ``n`` (non-missing values), ``n_missing``,
        ``median``, ``q1``, ``q3``, ``min``, ``max`` (float, in ``unit``).

    Raises
    ------
    SirtDataError
        If ``device_col`` is missing or none of the quantities is present.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"device": ["Y90_glass", "Y90_glass", "Y90_resin"],
    ...                    "perfused_dose_gy": [100.0, 140.0, 60.0]})
    >>> summarise_dose_by_device(df)[["device", "quantity", "n", "median"]]
          device          quantity  n  median
    0  Y90_glass  perfused_dose_gy  2   120.0
    1  Y90_resin  perfused_dose_gy  1    60.0
    """
    fn = "summarise_dose_by_device"
    quantities = DEVICE_SUMMARY_QUANTITIES if quantities is None else dict(quantities)
    _require_columns(df, [device_col], "injections", fn)
    present = [q for q in quantities if q in df.columns]
    if not present:
        raise SirtDataError(
            f"injections: none of {list(quantities)} is a column; {fn} has nothing to summarise.",
            table="injections", rule="at least one quantity column",
        )
    rows = []
    for device, group in df.groupby(device_col, sort=True):
        for q in present:
            v = pd.to_numeric(group[q], errors="coerce").dropna()
            rows.append({
                "device": device, "quantity": q, "unit": quantities[q], "n": len(v),
                "n_missing": int(len(group) - len(v)),
                "median": v.median() if len(v) else np.nan,
                "q1": v.quantile(0.25) if len(v) else np.nan,
                "q3": v.quantile(0.75) if len(v) else np.nan,
                "min": v.min() if len(v) else np.nan, "max": v.max() if len(v) else np.nan,
            })
    return pd.DataFrame(rows, columns=["device", "quantity", "unit", "n", "n_missing", "median",
                                       "q1", "q3", "min", "max"])


_AGGREGATES = ("mean", "max", "min", "sum", "first")


def derive_patient_dose(
    df: pd.DataFrame,
    *,
    dose_col: str,
    session_col: str | None = None,
    session_aggregate: Literal["mean", "max", "min", "sum"] = "mean",
    patient_aggregate: Literal["mean", "max", "min", "sum", "first"] = "max",
    date_col: str | None = None,
) -> pd.DataFrame:
    """One dose per patient from lesion-, injection- or session-level doses.

    Parameters
    ----------
    df : DataFrame
        Rows with ``patient_id`` (str) and the dose column (float, Gy), e.g. the ``lesions``
        table (``absorbed_dose_gy``), ``treatments`` (``tumour_dose_gy``,
        ``normal_liver_dose_gy`` ... one row per injection) or ``post_dosimetry``.
    dose_col : str
        Dose column, Gy.
    session_col : str, optional
        Rows are first aggregated per session (e.g. ``"session_id"`` for injections);
        None skips that step.
    session_aggregate : {"mean", "max", "min", "sum"}, default "mean"
        How injections of a session combine (mean: the demo's convention for normal-liver
        dose; sum for a lung dose).
    patient_aggregate : {"mean", "max", "min", "sum", "first"}, default "max"
        How sessions (or lesions) of a patient combine; "first" takes the earliest by
        ``date_col``.
    date_col : str, optional
        Date column ordering sessions; required for "first".

    Returns
    -------
    DataFrame
        One row per patient with a row in ``df`` (sorted by ``patient_id``): ``patient_id``,
        ``dose_col`` (float, Gy; NaN when every value is missing), ``n_values`` (int, rows
        with a dose) and ``n_missing`` (int, rows without).

    Raises
    ------
    ValueError
        For an unknown aggregate, or "first" without ``date_col``.
    SirtDataError
        For a missing column or a negative dose.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"patient_id": ["P1", "P1", "P1", "P2"],
    ...                    "session_id": ["S1", "S1", "S2", "S3"],
    ...                    "normal_liver_dose_gy": [30.0, 50.0, 45.0, None]})
    >>> derive_patient_dose(tx, dose_col="normal_liver_dose_gy", session_col="session_id")
      patient_id  normal_liver_dose_gy  n_values  n_missing
    0         P1                  45.0         3          0
    1         P2                   NaN         0          1
    """
    fn = "derive_patient_dose"
    _check_choice(session_aggregate, _AGGREGATES[:-1], "session_aggregate", fn)
    _check_choice(patient_aggregate, _AGGREGATES, "patient_aggregate", fn)
    if patient_aggregate == "first" and date_col is None:
        raise ValueError(f"The 'date_col' argument of {fn} is required when "
                         f"patient_aggregate='first'. Got None instead.")
    cols = ["patient_id", dose_col] + [c for c in (session_col, date_col) if c is not None]
    _require_columns(df, cols, "doses", fn)
    _check_table_range(df, dose_col, "doses", fn, ["patient_id", session_col or "patient_id"],
                       low=0)
    work = df[list(dict.fromkeys(cols))].copy()
    work[dose_col] = _arr(work[dose_col])
    counts = work.groupby("patient_id", sort=True)[dose_col].agg(
        n_values="count", n_rows="size")
    def how(name):  # a sum of only missing values stays missing
        return (lambda v: v.sum(min_count=1)) if name == "sum" else name

    if session_col is not None:
        agg = {dose_col: (dose_col, how(session_aggregate))}
        if date_col is not None:
            agg[date_col] = (date_col, "min")
        work = work.groupby(["patient_id", session_col], sort=False, dropna=False).agg(**agg)
        work = work.reset_index()
    if patient_aggregate == "first":
        work = work.dropna(subset=[dose_col]).sort_values([date_col], kind="stable")
        per_patient = work.groupby("patient_id")[dose_col].first()
    else:
        per_patient = work.groupby("patient_id")[dose_col].agg(how(patient_aggregate))
    out = counts.reset_index()
    out[dose_col] = per_patient.reindex(out["patient_id"]).to_numpy(dtype=float)
    out.loc[out["n_values"] == 0, dose_col] = np.nan
    out["n_missing"] = (out["n_rows"] - out["n_values"]).astype(int)
    out["n_values"] = out["n_values"].astype(int)
    return out[["patient_id", dose_col, "n_values", "n_missing"]]
