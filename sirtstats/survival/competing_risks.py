# ruff: noqa: PT028  (test_* here are statistical tests, not pytest tests)
"""Competing risks: Aalen–Johansen cumulative incidence and Gray's test (public entry:
sirtstats.survival).

Implements R6.6 (docs/rules/statistics.md) and docs/rules/statistics.md:

* the Aalen–Johansen cumulative incidence function ``CIF_k(t) = Σ_{t_j ≤ t} S(t_j−) d_kj/n_j``
  with ties kept (no random jitter: lifelines' ``AalenJohansenFitter`` jitters tied event times
  of different causes, which changes the estimate), its delta-method standard error
  (Marubini & Valsecchi; equal to R ``survfit(Surv(time, factor(cause)) ~ 1)$std.err``) and
  ``log`` / ``log-log`` / ``plain`` intervals as R's ``survfit_confint``;
* Gray's K-sample test for equality of cumulative incidence functions (Gray, Ann Stat
  1988;16:1141–1154), written from the algorithm of R ``cmprsk::cuminc`` (score and variance of
  Gray's weighted comparison of subdistribution hazards; rho = 0 by default), stratified
  by summing scores and variances over strata. No Python library provides it.

Typical SIRT uses: progression with death without progression as the competing event (the TTP
companion; use the PFS rows, whose ``event_type`` is ``progression`` or ``death``), hepatic
progression with extrahepatic progression/death competing, time to resection/transplant.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import chi2

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.survival._common import _as_list, _check_choice, _timefix
from sirtstats.survival.km import CONF_TYPES, _confint, _groups, _z

__all__ = ["compute_cif_curve", "summarise_cif", "test_gray"]


def _prepare_cr(df, time_col, cause_col, censored, causes, by, timefix, function):
    for col in [time_col, cause_col, *by]:
        if col not in df.columns:
            raise SirtDataError(f"{function}: missing column {col!r}.", column=col,
                                rule="required column")
    t = pd.to_numeric(df[time_col], errors="coerce").astype(float)
    ok = t.notna() & df[cause_col].notna()
    if (t[ok] < 0).any():
        raise SirtDataError(f"{function}: {time_col} must be >= 0.", column=time_col,
                            rule=f"{time_col} >= 0", rows=df.loc[ok & (t < 0)])
    n_missing = int((~ok).sum())
    if n_missing:
        warnings.warn(f"{function}: {n_missing} rows with missing time or cause were excluded.",
                      SirtStatsWarning, stacklevel=3)
    tt = t.to_numpy()
    if timefix:
        (tt,) = _timefix(tt)
    cause = df[cause_col].to_numpy()
    observed = [c for c in pd.unique(cause[ok.to_numpy()]) if c != censored]
    all_causes = sorted(observed, key=str)
    if causes is None:
        causes = all_causes
    else:
        causes = list(causes)
        unknown = [c for c in causes if c not in all_causes]
        if unknown:
            warnings.warn(f"{function}: cause(s) {unknown} do not occur.", SirtStatsWarning,
                          stacklevel=3)
    work = pd.DataFrame({"_t": tt, "_c": cause}, index=df.index)
    for col in by:
        work[col] = df[col].to_numpy()
    return work.loc[ok.to_numpy()], causes


def _aalen_johansen(time, cause, causes, censored):
    """Per distinct time: n_risk, d_all, and per cause d_k, CIF_k and its delta-method SE."""
    ut, inv = np.unique(time, return_inverse=True)
    m = len(ut)
    n_all = np.bincount(inv, minlength=m).astype(float)
    is_event = cause != censored
    d_all = np.bincount(inv, weights=is_event.astype(float), minlength=m)
    n_risk = np.cumsum(n_all[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(n_risk > 0, 1 - d_all / n_risk, 1.0))
        s_prev = np.concatenate([[1.0], surv[:-1]])
        # Greenwood-type term; infinite when everyone at risk fails (then nothing follows)
        a = np.where((d_all > 0) & (n_risk > d_all), d_all / (n_risk * (n_risk - d_all)), 0.0)
    out = {"time": ut, "n_risk": n_risk, "n_event_any": d_all, "n_censor": n_all - d_all}
    res = {}
    for k in causes:
        d_k = np.bincount(inv, weights=(cause == k).astype(float), minlength=m)
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(n_risk > 0, s_prev * d_k / n_risk, 0.0)
        F = np.cumsum(inc)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(n_risk > 0, s_prev * d_k / n_risk ** 2, 0.0)
            c = np.where(n_risk > 0, s_prev ** 2 * d_k * (n_risk - d_k) / n_risk ** 3, 0.0)
        # Var F(t) = Σ_i a_i (F(t) − F_i)² + Σ_i c_i − 2 Σ_i b_i (F(t) − F_i), i: t_i ≤ t
        A0, A1, A2 = np.cumsum(a), np.cumsum(a * F), np.cumsum(a * F ** 2)
        B0, B1 = np.cumsum(b), np.cumsum(b * F)
        var = F ** 2 * A0 - 2 * F * A1 + A2 + np.cumsum(c) - 2 * (F * B0 - B1)
        var = np.maximum(var, 0.0)
        res[k] = (d_k, F, np.sqrt(var))
    return out, res


def compute_cif_curve(
    df: pd.DataFrame,
    *,
    time_col: str = "time_months",
    cause_col: str = "event_type",
    censored="censored",
    causes: Sequence | None = None,
    by: str | Sequence[str] | None = None,
    conf_type: Literal["log-log", "log", "plain"] = "log-log",
    conf_level: float = 0.95,
    timefix: bool = True,
) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence curves per cause, ties kept (no jitter).

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col`` (float, ≥ 0) and ``cause_col`` (the event type;
        the value ``censored`` marks censoring). PFS rows of
        :func:`sirtstats.endpoints.derive_endpoints` give progression vs death.
    time_col, cause_col : str
        Column names.
    censored : object, default "censored"
        Value of ``cause_col`` meaning censored (use 0 for integer codes).
    causes : sequence, optional
        Causes to report (default: every cause that occurs, sorted).
    by : str or list of str, optional
        Grouping column(s).
    conf_type : {"log-log", "log", "plain"}, default "log-log"
        CI transform of the CIF (R's default for multi-state curves is "log").
    conf_level : float, default 0.95
        Confidence level.
    timefix : bool, default True
        R's ``timefix`` merging of near-tied times.

    Returns
    -------
    DataFrame
        One row per group, cause and distinct time: ``by`` columns, ``cause``, ``time``,
        ``n_risk``, ``n_event`` (this cause), ``n_event_any``, ``n_censor``, ``cif``,
        ``std_err``, ``lower``, ``upper`` (NaN where R gives NA), ``conf_type``.

    Notes
    -----
    ``CIF_k(t) = Σ_{t_j ≤ t} S(t_j−) d_kj / n_j`` with S the all-cause Kaplan–Meier.
    ``Var CIF_k(t) = Σ_{t_j ≤ t} [(F(t) − F(t_j))² d_j/(n_j(n_j − d_j))
    + S(t_j−)² d_kj (n_j − d_kj)/n_j³ − 2 (F(t) − F(t_j)) S(t_j−) d_kj/n_j²]``
    (Marubini & Valsecchi 1995, §10; lifelines' ``_bounds`` formula, applied without jitter).

    References
    ----------
    Aalen OO, Johansen S. Scand J Stat 1978;5:141–150. Marubini E, Valsecchi MG. Analysing
    Survival Data from Clinical Trials and Observational Studies. Wiley 1995.
    R6.6 (docs/rules/statistics.md), WE27.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import compute_cif_curve
    >>> df = pd.DataFrame({"time_months": [1, 2, 2, 3],
    ...                    "event_type": ["progression", "death", "progression", "censored"]})
    >>> compute_cif_curve(df, causes=["progression"])[["time", "n_risk", "cif"]]
       time  n_risk   cif
    0   1.0       4  0.25
    1   2.0       3  0.50
    2   3.0       1  0.50
    """
    _check_choice(conf_type, CONF_TYPES, "conf_type", "compute_cif_curve")
    z = _z(conf_level)
    by = _as_list(by)
    work, causes = _prepare_cr(df, time_col, cause_col, censored, causes, by, timefix,
                               "compute_cif_curve")
    frames = []
    for key, pos in _groups(work, by):
        sub = work.iloc[pos]
        base, res = _aalen_johansen(sub["_t"].to_numpy(), sub["_c"].to_numpy(), causes,
                                    censored)
        for k in causes:
            d_k, F, se = res[k]
            with np.errstate(divide="ignore", invalid="ignore"):
                se_log = np.where(se == 0, 0.0, se / F)
            lower, upper = _confint(F, se_log, conf_type, z)
            f = pd.DataFrame({"cause": k, "time": base["time"],
                              "n_risk": base["n_risk"].astype("int64"),
                              "n_event": d_k.astype("int64"),
                              "n_event_any": base["n_event_any"].astype("int64"),
                              "n_censor": base["n_censor"].astype("int64"),
                              "cif": F, "std_err": se, "lower": lower, "upper": upper})
            for i, (col, val) in enumerate(zip(by, key, strict=True)):
                f.insert(i, col, val)
            frames.append(f)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=by + ["cause", "time", "n_risk", "n_event", "n_event_any", "n_censor", "cif",
                      "std_err", "lower", "upper"])
    out["conf_type"] = conf_type
    return out


def summarise_cif(
    df: pd.DataFrame,
    *,
    time_col: str = "time_months",
    cause_col: str = "event_type",
    censored="censored",
    causes: Sequence | None = None,
    by: str | Sequence[str] | None = None,
    times: Sequence[float] = (6, 12, 24),
    conf_type: Literal["log-log", "log", "plain"] = "log-log",
    conf_level: float = 0.95,
    timefix: bool = True,
) -> pd.DataFrame:
    """Cumulative incidence at fixed times, per group and cause.

    Parameters
    ----------
    df : DataFrame
        As :func:`compute_cif_curve`.
    time_col, cause_col, censored, causes, by, conf_type, conf_level, timefix
        As :func:`compute_cif_curve`.
    times : sequence of float, default (6, 12, 24)
        Report times (unit of ``time_col``); NaN after a group's last time.

    Returns
    -------
    DataFrame
        One row per group and cause: ``by`` columns, ``cause``, ``n``, ``n_events``,
        ``cif_<t>``, ``cif_<t>_lower``, ``cif_<t>_upper`` per time, ``conf_type``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import summarise_cif
    >>> df = pd.DataFrame({"time_months": [1, 2, 2, 3],
    ...                    "event_type": ["progression", "death", "progression", "censored"]})
    >>> summarise_cif(df, times=[2])[["cause", "n_events", "cif_2"]]
             cause  n_events  cif_2
    0        death         1   0.25
    1  progression         2   0.50
    """
    curve = compute_cif_curve(df, time_col=time_col, cause_col=cause_col, censored=censored,
                              causes=causes, by=by, conf_type=conf_type,
                              conf_level=conf_level, timefix=timefix)
    by = _as_list(by)
    rows = []
    keys = by + ["cause"]
    for key, sub in curve.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key, strict=True))
        row["n"] = int(sub["n_risk"].iloc[0]) if len(sub) else 0
        row["n_events"] = int(sub["n_event"].sum())
        tt = sub["time"].to_numpy()
        for tau in times:
            lab = f"{tau:g}"
            if len(tt) == 0 or tau > tt[-1]:
                vals = (np.nan, np.nan, np.nan)
            else:
                i = np.searchsorted(tt, tau, side="right") - 1
                vals = ((0.0, np.nan, np.nan) if i < 0 else
                        (sub["cif"].iloc[i], sub["lower"].iloc[i], sub["upper"].iloc[i]))
            row[f"cif_{lab}"], row[f"cif_{lab}_lower"], row[f"cif_{lab}_upper"] = vals
        rows.append(row)
    out = pd.DataFrame(rows)
    out["conf_type"] = conf_type
    return out


def _gray_stratum(time, cause, group, ng, rho):
    """Gray's score vector (first ng − 1 groups) and its covariance, one stratum.

    ``cause``: 1 = cause of interest, 2 = other cause, 0 = censored; ``group`` in 0..ng-1.
    """
    ng1 = ng - 1
    order = np.argsort(time, kind="stable")
    time, cause, group = time[order], cause[order], group[order]
    rs = np.bincount(group, minlength=ng).astype(float)
    s = np.zeros(ng1)
    v = np.zeros((ng1, ng1))
    f1m = np.zeros(ng)
    f1 = np.zeros(ng)
    skmm = np.ones(ng)
    skm = np.ones(ng)
    v3 = np.zeros(ng)
    v2 = np.zeros((ng1, ng))
    c = np.zeros((ng, ng))
    _ut, start_idx, counts = np.unique(time, return_index=True, return_counts=True)
    # 0/0 occurs only in groups no longer at risk (masked by np.where)
    with np.errstate(divide="ignore", invalid="ignore"):
        s, v, c, v2, v3 = _gray_loop(time, cause, group, ng, rho, rs, start_idx, counts, s, v,
                                     f1m, f1, skmm, skm, v3, v2, c)
    v += (c[:ng1] * v3) @ c[:ng1].T + c[:ng1] @ v2.T + v2 @ c[:ng1].T
    return s, v


def _gray_loop(time, cause, group, ng, rho, rs, start_idx, counts, s, v, f1m, f1, skmm, skm,
               v3, v2, c):
    ng1 = ng - 1
    fm = 0.0
    f = 0.0
    for u in range(len(start_idx)):
        sl = slice(start_idx[u], start_idx[u] + counts[u])
        g_u, c_u = group[sl], cause[sl]
        d1 = np.bincount(g_u[c_u == 1], minlength=ng).astype(float)
        d2 = np.bincount(g_u[c_u == 2], minlength=ng).astype(float)
        nd1, nd2 = d1.sum(), d2.sum()
        if nd1 > 0 or nd2 > 0:
            live = rs > 0
            td = d1 + d2
            skm = np.where(live, skmm * (rs - td) / np.where(live, rs, 1), skm)
            f1 = np.where(live, f1m + skmm * d1 / np.where(live, rs, 1), f1)
            tr = float(np.sum(np.where(live, rs / skmm, 0.0)))
            tq = float(np.sum(np.where(live, rs * (1 - f1m) / skmm, 0.0)))
            f = fm + nd1 / tr
            fb = (1 - fm) ** rho
            t1v = np.where(live, rs / skmm, 0.0)
            a = -fb * np.outer(t1v, t1v) / tr
            np.fill_diagonal(a, np.where(live, fb * t1v * (1 - t1v / tr), 0.0))
            a[~live, :] = 0.0
            a[:, ~live] = 0.0
            c += a * nd1 / (tr * (1 - fm))
            s += np.where(live[:ng1], fb * (d1[:ng1] - nd1 * rs[:ng1] * (1 - f1m[:ng1])
                                            / (skmm[:ng1] * tq)), 0.0)
            if nd1 > 0:
                for k in np.flatnonzero(live):
                    t4 = 1 - (1 - f) / skm[k] if skm[k] > 0 else 1.0
                    t5 = 1 - (nd1 - 1) / (tr * skmm[k] - 1) if nd1 > 1 else 1.0
                    t3 = t5 * skmm[k] * nd1 / (tr * rs[k])
                    v3[k] += t4 * t4 * t3
                    t1 = a[:ng1, k] - t4 * c[:ng1, k]
                    v2[:, k] += t1 * t4 * t3
                    v += np.outer(t1, t1) * t3
            if nd2 > 0:
                for k in np.flatnonzero((skm > 0) & (d2 > 0)):
                    t4 = (1 - f) / skm[k]
                    t5 = 1 - (d2[k] - 1) / (rs[k] - 1) if d2[k] > 1 else 1.0
                    t3 = t5 * (skmm[k] ** 2) * d2[k] / (rs[k] ** 2)
                    v3[k] += t4 * t4 * t3
                    t1 = t4 * c[:ng1, k]
                    v2[:, k] -= t1 * t4 * t3
                    v += np.outer(t1, t1) * t3
        rs -= np.bincount(g_u, minlength=ng)
        fm = f
        f1m = f1.copy()
        skmm = skm.copy()
    return s, v, c, v2, v3


def test_gray(
    df: pd.DataFrame,
    *,
    group_col: str,
    time_col: str = "time_months",
    cause_col: str = "event_type",
    censored="censored",
    causes: Sequence | None = None,
    strata: str | None = None,
    rho: float = 0.0,
    timefix: bool = True,
    check_type: Literal["error", "warning"] = "error",
) -> pd.DataFrame:
    """Gray's test comparing cumulative incidence functions between groups.

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col``, ``cause_col`` and ``group_col``.
    group_col : str
        Group column (two or more groups).
    time_col, cause_col : str
        Column names.
    censored : object, default "censored"
        Value of ``cause_col`` meaning censored.
    causes : sequence, optional
        Causes to test (default: every cause that occurs).
    strata : str, optional
        Stratification column (scores and variances summed over strata, as ``cuminc``).
    rho : float, default 0
        Power of the weight (1 − F(t−))^rho (cmprsk's ``rho``).
    timefix : bool, default True
        R's ``timefix`` merging of near-tied times.
    check_type : {"error", "warning"}, default "error"
        Fewer than two groups in the analysed rows raises, or warns and returns NaN
        statistics (for reports on small subgroups).

    Returns
    -------
    DataFrame
        One row per cause: ``cause``, ``statistic``, ``df`` (groups − 1), ``p``,
        ``stratified_by``.

    References
    ----------
    Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing
    risk. Ann Stat 1988;16:1141–1154. R cmprsk 2.2-11 ``cuminc``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats import survival
    >>> df = pd.DataFrame({"time_months": [1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 9],
    ...                    "event_type": [1, 1, 2, 0, 2, 1, 0, 2, 1, 2, 0, 1],
    ...                    "arm": ["a", "b"] * 6})
    >>> survival.test_gray(df, group_col="arm", censored=0)[["cause", "df"]]
       cause  df
    0      1   1
    1      2   1
    """
    _check_choice(check_type, ("error", "warning"), "check_type", "test_gray")
    if group_col not in df.columns:
        raise SirtDataError(f"test_gray: missing column {group_col!r}.", column=group_col,
                            rule="required column")
    by = [group_col] + ([strata] if strata else [])
    work, causes = _prepare_cr(df, time_col, cause_col, censored, causes, by, timefix,
                               "test_gray")
    work = work.loc[work[by].notna().all(axis=1)]
    levels = sorted(work[group_col].unique().tolist(), key=str)
    ng = len(levels)
    if ng < 2:
        message = f"test_gray: {group_col!r} has fewer than two groups."
        if check_type == "error":
            raise SirtDataError(message, column=group_col, rule="two or more groups")
        warnings.warn(message + " No test.", SirtStatsWarning, stacklevel=2)
        return pd.DataFrame({"cause": causes, "statistic": np.nan, "df": 0, "p": np.nan})
    gcode = pd.Categorical(work[group_col], categories=levels).codes.astype(int)
    scode = (pd.factorize(work[strata], sort=True)[0] if strata
             else np.zeros(len(work), dtype=int))
    t = work["_t"].to_numpy()
    rows = []
    for k in causes:
        ccode = np.where(work["_c"].to_numpy() == k, 1,
                         np.where(work["_c"].to_numpy() == censored, 0, 2))
        s = np.zeros(ng - 1)
        v = np.zeros((ng - 1, ng - 1))
        for st in np.unique(scode):
            sel = scode == st
            s_st, v_st = _gray_stratum(t[sel], ccode[sel], gcode[sel], ng, rho)
            s += s_st
            v += v_st
        try:
            stat = float(s @ np.linalg.solve(v, s))
        except np.linalg.LinAlgError:
            stat = float("nan")
        rows.append({"cause": k, "statistic": stat, "df": ng - 1,
                     "p": float(chi2.sf(stat, ng - 1)), "stratified_by": strata or ""})
    return pd.DataFrame(rows)


test_gray.__test__ = False
