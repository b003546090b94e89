"""Restricted mean survival time (RMST) with R's variance (public entry: sirtstats.survival).

The RMST to τ is the area under the Kaplan–Meier curve from 0 to τ. Its standard error is the
Greenwood plug-in estimate that R ``survival`` prints as ``se(rmean)``:
``Var = Σ_{t_i ≤ τ} A_i² d_i / (n_i (n_i − d_i))`` with ``A_i = ∫_{t_i}^τ S(u) du``.
lifelines 0.30's ``restricted_mean_survival_time(..., return_variance=True)`` returns the
variance of min(T, τ) instead (about 6× too large a standard error on R's lung data;
docs/rules/statistics.md), so it is not used.

References: Royston P, Parmar MKB. BMC Med Res Methodol 2013;13:152. Klein JP, Moeschberger ML.
Survival Analysis, 2nd ed., §4.5. R survival 3.5-3 ``print.survfit(rmean=)`` (``survmean``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.survival._common import _as_list
from sirtstats.survival.km import _groups, _km_arrays, _prepare, _z

__all__ = ["compare_rmst", "compute_rmst"]


def _rmst_one(time, event, tau):
    """R ``survmean``'s rmean and se(rmean) for one curve, restricted to ``tau``."""
    t, n_risk, n_event, _nc, surv, _vl = _km_arrays(time, event)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n_risk - n_event == 0, 0.0, n_event / (n_risk * (n_risk - n_event)))
    keep = t <= tau
    if not keep.any():
        return float(tau), 0.0
    temptime = np.concatenate([t[keep], [tau]])
    tempsurv = np.concatenate([surv[keep], [surv[keep][-1]]])
    hh = np.concatenate([hh[keep], [0.0]])
    delta = np.diff(np.concatenate([[0.0], temptime]))
    rect = delta * np.concatenate([[1.0], tempsurv[:-1]])
    area_after = np.cumsum(rect[1:][::-1])  # rev(rectangles[-1]) cumulated
    var = float(np.sum(area_after ** 2 * hh[::-1][1:]))
    return float(rect.sum()), float(np.sqrt(var))


def compute_rmst(
    df: pd.DataFrame,
    *,
    tau: float,
    time_col: str = "time_months",
    event_col: str = "event",
    by: str | Sequence[str] | None = None,
    conf_level: float = 0.95,
    timefix: bool = True,
) -> pd.DataFrame:
    """Restricted mean survival time to ``tau`` with R's standard error, per group.

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col`` (float, ≥ 0) and ``event_col`` (0/1).
    tau : float
        Restriction time (unit of ``time_col``, > 0). Pre-specify it; beyond a group's last
        time the curve is carried forward (as R) with a warning.
    time_col, event_col : str
        Column names.
    by : str or list of str, optional
        Grouping column(s).
    conf_level : float, default 0.95
        Level of the normal-approximation CI ``rmst ± z·se``.
    timefix : bool, default True
        R's ``timefix`` merging of near-tied times.

    Returns
    -------
    DataFrame
        One row per group: ``by`` columns, ``n``, ``n_events``, ``tau``, ``rmst`` (same unit
        as the times), ``se``, ``lower``, ``upper``.

    Warns
    -----
    SirtStatsWarning
        ``tau`` is after a group's last observed time.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import compute_rmst
    >>> df = pd.DataFrame({"time_months": [1, 2, 3, 4], "event": [1, 1, 1, 1]})
    >>> compute_rmst(df, tau=4)[["rmst", "se"]].round(4)
       rmst     se
    0   2.5  0.559
    """
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"The 'tau' argument of compute_rmst must be > 0. Got {tau!r} "
                         "instead.")
    z = _z(conf_level)
    by = _as_list(by)
    work, _ = _prepare(df, time_col, event_col, None, by, timefix, "compute_rmst")
    rows = []
    for key, pos in _groups(work, by):
        sub = work.iloc[pos]
        if tau > sub["_t"].max():
            label = ", ".join(f"{c}={v}" for c, v in zip(by, key, strict=True)) or "all"
            warnings.warn(f"compute_rmst: tau = {tau:g} is after the last time "
                          f"({sub['_t'].max():g}) of {label}; the curve is carried forward.",
                          SirtStatsWarning, stacklevel=2)
        rmst, se = _rmst_one(sub["_t"].to_numpy(), sub["_e"].to_numpy(), tau)
        row = dict(zip(by, key, strict=True))
        row.update({"n": len(sub), "n_events": int(sub["_e"].sum()), "tau": float(tau),
                    "rmst": rmst, "se": se, "lower": rmst - z * se, "upper": rmst + z * se})
        rows.append(row)
    return pd.DataFrame(rows)


def compare_rmst(
    df: pd.DataFrame,
    *,
    tau: float,
    group_col: str,
    reference=None,
    time_col: str = "time_months",
    event_col: str = "event",
    conf_level: float = 0.95,
    timefix: bool = True,
) -> pd.DataFrame:
    """Difference and ratio of RMST between each group and a reference group.

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col``, ``event_col`` and ``group_col``.
    tau : float
        Restriction time (unit of ``time_col``).
    group_col : str
        Group column.
    reference : object, optional
        Reference group (default: the first group in sorted order).
    time_col, event_col : str
        Column names.
    conf_level : float, default 0.95
        Confidence level.
    timefix : bool, default True
        R's ``timefix``.

    Returns
    -------
    DataFrame
        One row per non-reference group: ``group``, ``reference``, ``tau``, ``rmst``,
        ``rmst_reference``, ``difference`` (group − reference), ``difference_lower``,
        ``difference_upper``, ``z``, ``p`` (two-sided), ``ratio``, ``ratio_lower``,
        ``ratio_upper``.

    Notes
    -----
    Independent groups: ``se(Δ) = sqrt(se₁² + se₀²)``; ratio CI on the log scale with
    ``se(log r) = sqrt(se₁²/μ₁² + se₀²/μ₀²)`` (as R ``survRM2::rmst2``), each se being R's
    Greenwood plug-in.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import compare_rmst
    >>> df = pd.DataFrame({"time_months": [1, 2, 3, 4, 2, 4, 6, 8],
    ...                    "event": [1] * 8, "arm": ["a"] * 4 + ["b"] * 4})
    >>> float(compare_rmst(df, tau=4, group_col="arm")["difference"].iloc[0])
    1.0
    """
    if group_col not in df.columns:
        raise SirtDataError(f"compare_rmst: missing column {group_col!r}.", column=group_col,
                            rule="required column")
    tab = compute_rmst(df, tau=tau, time_col=time_col, event_col=event_col, by=group_col,
                       conf_level=conf_level, timefix=timefix)
    levels = tab[group_col].tolist()
    if len(levels) < 2:
        raise SirtDataError(f"compare_rmst: {group_col!r} has fewer than two groups.",
                            column=group_col, rule="two or more groups")
    ref = levels[0] if reference is None else reference
    if ref not in levels:
        raise ValueError(f"The 'reference' argument of compare_rmst must be one of {levels}. "
                         f"Got {ref!r} instead.")
    z = _z(conf_level)
    r0 = tab.loc[tab[group_col] == ref].iloc[0]
    rows = []
    for _, r1 in tab.loc[tab[group_col] != ref].iterrows():
        diff = r1["rmst"] - r0["rmst"]
        se = float(np.hypot(r1["se"], r0["se"]))
        lr = np.log(r1["rmst"] / r0["rmst"])
        se_lr = float(np.hypot(r1["se"] / r1["rmst"], r0["se"] / r0["rmst"]))
        rows.append({
            "group": r1[group_col], "reference": ref, "tau": float(tau), "rmst": r1["rmst"],
            "rmst_reference": r0["rmst"], "difference": diff,
            "difference_lower": diff - z * se, "difference_upper": diff + z * se,
            "z": diff / se if se > 0 else np.nan,
            "p": float(2 * norm.sf(abs(diff / se))) if se > 0 else np.nan,
            "ratio": float(np.exp(lr)), "ratio_lower": float(np.exp(lr - z * se_lr)),
            "ratio_upper": float(np.exp(lr + z * se_lr)),
        })
    return pd.DataFrame(rows)
