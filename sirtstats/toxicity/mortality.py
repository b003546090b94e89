"""Early mortality after SIRT: deaths within 30 / 90 days of the first SIRT.

The share of patients dying within 30 / 90 days of the first SIRT, with Clopper-Pearson exact
CIs, overall and by group.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require
from sirtstats.exceptions import SirtStatsWarning
from sirtstats.toxicity._common import _group_frames

__all__ = [
    "summarise_early_mortality",
]


# -------------------------------------------------------------------------- early mortality


def summarise_early_mortality(
    df_patients: pd.DataFrame,
    *,
    days: Sequence[int] = (30, 90),
    groupby: str | None = None,
    cutoff_date=None,
    origin_col: str = "first_sirt_date",
    alpha: float = 0.05,
    include_total: bool = True,
    decimals: int = 1,
) -> pd.DataFrame:
    """Share of patients dying within 30 / 90 days of the first SIRT, with exact CIs.

    Parameters
    ----------
    df_patients : DataFrame
        One row per patient: ``patient_id``, ``origin_col`` (datetime64), ``death_date``
        (datetime64, missing if alive) and the end of follow-up, ``followup_end_date`` or else
        ``last_contact_date`` (datetime64), e.g. ``CohortSelection.patients``.
    days : sequence of int
        Horizons in days after the origin (deaths on day ≤ horizon count; SIRT day = day 0).
    groupby : str, optional
        Column splitting the table (e.g. ``"device"``).
    cutoff_date : str or Timestamp, optional
        Data cut-off: deaths after it are not counted and follow-up ends at it.
    origin_col : str
        Origin date column (default the first SIRT date).
    alpha : float
        1 − confidence level of the Clopper-Pearson interval (default 0.05 → 95 % CI).
    include_total : bool
        With ``groupby``, add the "All" group.
    decimals : int
        Decimals of the formatted ``mortality`` column.

    Returns
    -------
    DataFrame
        One row per (group,) horizon: ``horizon_days``, ``n_patients``, ``n_no_origin``
        (patients without an origin date, excluded), ``n_incomplete_followup`` (alive but
        followed less than the horizon: excluded from the denominator), ``n_evaluable``,
        ``n_deaths``, ``mortality_pct``, ``ci_low_pct``, ``ci_high_pct`` (%) and
        ``mortality`` ("x.x% (lo-hi)").

    Raises
    ------
    SirtDataError
        If a required column is missing.

    Warns
    -----
    SirtStatsWarning
        When fewer than 10 patients are evaluable in a group.

    Notes
    -----
    For horizon ``d``: a patient is a death if ``death_date − origin ≤ d`` days (and death on
    or before the cut-off); a survivor is evaluable if followed at least ``d`` days
    (``min(end of follow-up, cut-off) − origin ≥ d``). Mortality = deaths / evaluable. Exact
    (Clopper-Pearson) CI from ``statsmodels.stats.proportion.proportion_confint(method="beta")``.

    References
    ----------
    Clopper CJ, Pearson ES. Biometrika 1934;26:404-413. T4.4 (docs/rules/toxicity.md) (30-day
    mortality benchmarks, e.g. CIRT 1.0 %).

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({
    ...     "patient_id": ["P1", "P2", "P3"],
    ...     "first_sirt_date": pd.to_datetime(["2024-01-01"] * 3),
    ...     "death_date": pd.to_datetime(["2024-01-20", None, None]),
    ...     "last_contact_date": pd.to_datetime(["2024-01-20", "2024-12-01", "2024-02-15"]),
    ... })
    >>> import warnings; warnings.simplefilter("ignore")
    >>> summarise_early_mortality(pts)[["horizon_days", "n_evaluable", "n_deaths",
    ...                                 "mortality_pct"]]
       horizon_days  n_evaluable  n_deaths  mortality_pct
    0            30            3         1      33.333333
    1            90            2         1      50.000000
    """
    from statsmodels.stats.proportion import proportion_confint

    end_col = (
        "followup_end_date" if "followup_end_date" in df_patients.columns else ("last_contact_date")
    )
    need = ["patient_id", origin_col, "death_date", end_col]
    if groupby:
        need.append(groupby)
    _require(df_patients, need, "patients")
    pts = df_patients.drop_duplicates("patient_id")
    origin = pd.to_datetime(pts[origin_col])
    death = pd.to_datetime(pts["death_date"])
    end = pd.to_datetime(pts[end_col]).fillna(death)
    if cutoff_date is not None and cutoff_date != "":
        cutoff = pd.Timestamp(cutoff_date)
        death = death.where(death <= cutoff)
        end = end.where(end <= cutoff, cutoff)
    end = pd.concat([end, death], axis=1).max(axis=1)
    t_death = (death - origin).dt.days
    t_follow = (end - origin).dt.days
    group = (
        pts[groupby].astype(object).fillna("missing").astype(str)
        if groupby
        else pd.Series(None, index=pts.index, dtype=object)
    )
    frame = pd.DataFrame(
        {
            "patient_id": pts["patient_id"].to_numpy(),
            "_g": group.to_numpy(),
            "has_origin": origin.notna().to_numpy(),
            "t_death": t_death.to_numpy(dtype=float),
            "t_follow": t_follow.to_numpy(dtype=float),
        }
    )
    pop = frame.rename(columns={"_g": groupby or "_g"})
    rows = []
    for value, members in _group_frames(pop, groupby, include_total):
        for d in days:
            has = members["has_origin"].to_numpy(bool)
            dead = has & (members["t_death"].to_numpy() <= d)
            followed = has & ~dead & (members["t_follow"].to_numpy() >= d)
            n_eval = int(dead.sum() + followed.sum())
            n_dead = int(dead.sum())
            if n_eval:
                lo, hi = proportion_confint(n_dead, n_eval, alpha=alpha, method="beta")
                pct = 100.0 * n_dead / n_eval
            else:
                lo = hi = pct = np.nan
            if n_eval < 10:
                where = f" in group {value!r}" if groupby else ""
                warnings.warn(
                    f"{d}-day mortality{where}: only {n_eval} evaluable patients; the exact CI "
                    "is wide.",
                    SirtStatsWarning,
                    stacklevel=2,
                )
            row = {
                "horizon_days": int(d),
                "n_patients": len(members),
                "n_no_origin": int((~has).sum()),
                "n_incomplete_followup": int((has & ~dead & ~followed).sum()),
                "n_evaluable": n_eval,
                "n_deaths": n_dead,
                "mortality_pct": pct,
                "ci_low_pct": 100.0 * lo,
                "ci_high_pct": 100.0 * hi,
            }
            if groupby:
                row = {groupby: value, **row}
            rows.append(row)
    out = pd.DataFrame(rows)
    out["mortality"] = [
        f"{p:.{decimals}f}% ({lo:.{decimals}f}-{hi:.{decimals}f})" if pd.notna(p) else "-"
        for p, lo, hi in zip(
            out["mortality_pct"], out["ci_low_pct"], out["ci_high_pct"], strict=True
        )
    ]
    return out
