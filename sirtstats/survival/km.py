"""Kaplan–Meier estimation with R ``survival`` conventions (public entry: sirtstats.survival).

Implements R6.2–R6.3 (docs/rules/statistics.md) and the recommendations of docs/rules/statistics.md:
the product-limit estimate with Greenwood's variance, pointwise confidence intervals with the
``log``, ``log-log`` and ``plain`` transforms exactly as R's ``survfit_confint`` computes them
(NA where R gives NA), medians and other quantiles with R's ``quantile.survfit`` rule (the
midpoint of a plateau at exactly 0.5, sqrt(machine eps) tolerance; Brookmeyer–Crowley limits
read off the chosen band), reverse Kaplan–Meier median follow-up (Schemper & Smith 1996),
numbers at risk at arbitrary times, delayed entry (left truncation) and R's ``timefix``
(``aeqSurv``) merging of floating-point near-ties. Checked against R survival 3.5-3
(tests/golden/survival).

Why not lifelines' ``KaplanMeierFitter``: its interval is log-log only, its Greenwood sum is
private, its median ignores R's plateau rule and it reports ``inf`` where R reports NA
(docs/rules/statistics.md). The estimator itself is a few lines of numpy.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.survival._common import (
    TOLERANCE,
    _as_list,
    _check_choice,
    _survival_columns,
    _timefix,
    check_guarantee_time,
)

__all__ = [
    "CONF_TYPES",
    "compute_km_curve",
    "compute_km_metrics",
    "compute_median_followup",
    "compute_number_at_risk",
    "summarise_km",
]

#: Pointwise CI transforms (R6.2, docs/rules/statistics.md; D14). Default "log-log" (SAS,
#: lifelines); "log" is R survfit's default.
CONF_TYPES = ("log-log", "log", "plain")

ConfType = Literal["log-log", "log", "plain"]


# --------------------------------------------------------------------------------------------
# helpers shared with the other survival modules (_groups, _z, _confint, _km_arrays, _prepare)
# --------------------------------------------------------------------------------------------


def _groups(df: pd.DataFrame, by: list[str]):
    """Yield (key tuple, positional index array) per group, sorted by key; NaN keys dropped."""
    if not by:
        yield (), np.arange(len(df))
        return
    keys = df[by]
    ok = keys.notna().all(axis=1).to_numpy()
    grouped = pd.DataFrame({"_pos": np.arange(len(df))})[ok].groupby(
        [keys[c].to_numpy()[ok] for c in by], sort=True, observed=True)
    for key, sub in grouped:
        yield (key if isinstance(key, tuple) else (key,)), sub["_pos"].to_numpy()


def _z(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise ValueError(
            f"The 'conf_level' argument must be in (0, 1). Got {conf_level!r} instead.")
    return float(norm.ppf(1 - (1 - conf_level) / 2))


def _confint(p, se_log, conf_type: str, z: float):
    """R ``survfit_confint`` with ``logse=TRUE`` (se of log S), ``ulimit=TRUE``."""
    p = np.asarray(p, dtype=float)
    se = np.asarray(se_log, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            se2 = se * p * z
            lower = np.maximum(p - se2, 0.0)
            upper = np.minimum(p + se2, 1.0)
            nan = np.isnan(se2)
            lower[nan] = np.nan
            upper[nan] = np.nan
        elif conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se
            lower = np.exp(np.log(xx) - se2)
            upper = np.minimum(np.exp(np.log(xx) + se2), 1.0)
            upper[np.isnan(xx) | np.isnan(se2)] = np.nan
        else:  # log-log
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            se2 = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
    return lower, upper


def _approx_const_right(xp, yp, v):
    """R ``approx(xp, yp, v, method="constant", f=1, rule=1)`` with NA pairs removed."""
    xp = np.asarray(xp, dtype=float)
    yp = np.asarray(yp, dtype=float)
    keep = ~np.isnan(xp) & ~np.isnan(yp)
    xp, yp = xp[keep], yp[keep]
    if len(xp) == 0:
        return np.nan
    order = np.argsort(xp, kind="stable")
    xp, yp = xp[order], yp[order]
    ux, inv = np.unique(xp, return_inverse=True)
    if len(ux) < len(xp):  # ties = mean
        yp = np.bincount(inv, weights=yp) / np.bincount(inv)
        xp = ux
    if v < xp[0] or v > xp[-1]:
        return np.nan
    return yp[np.searchsorted(xp, v, side="left")]


def _findq(x, y, p: float, tol: float = TOLERANCE) -> float:
    """Port of R survival's ``findq``: quantile of a CDF curve with the plateau-midpoint rule.

    ``x`` are the times (first element = start time), ``y`` the CDF (1 − S) with a leading 0.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return np.nan
    xmax = x[-1]
    # duplicated(y), NA equal to NA as in R
    ykey = np.where(np.isnan(y), np.inf, y)
    _, first = np.unique(ykey, return_index=True)
    keep = np.zeros(len(y), dtype=bool)
    keep[first] = True
    x, y = x[keep], y[keep]
    n = len(y)
    idx = np.arange(n, dtype=float)
    i1 = _approx_const_right(y + tol, idx, p)
    i2 = _approx_const_right(y - tol, idx, p)
    quant = np.nan
    if not np.isnan(i1) and not np.isnan(i2):
        quant = (x[int(i1)] + x[int(i2)]) / 2
    if p == 0:
        quant = x[0]
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol and not np.isnan(i1):
        quant = (x[int(i1)] + xmax) / 2
    return float(quant)


# --------------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------------
def _km_arrays(time, event, entry=None):
    """Product-limit curve at every distinct exit time: n_risk, n_event, n_censor, S, var(log S).

    With ``entry``, a subject is at risk at t when entry < t <= time (left truncation).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    ut, inv = np.unique(time, return_inverse=True)
    n_event = np.bincount(inv, weights=event, minlength=len(ut))
    n_all = np.bincount(inv, minlength=len(ut)).astype(float)
    n_censor = n_all - n_event
    if entry is None:
        n_risk = np.cumsum(n_all[::-1])[::-1]
    else:
        # entry <= 0: at risk from the start (so an all-zero entry column changes nothing)
        entry = np.where(np.asarray(entry, dtype=float) <= 0, -np.inf, entry)
        n_risk = (len(time) - np.searchsorted(np.sort(time), ut, side="left")) - (
            len(entry) - np.searchsorted(np.sort(entry), ut, side="left"))
        n_risk = n_risk.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n_risk > 0, 1 - n_event / n_risk, 1.0)
        surv = np.cumprod(factor)
        term = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    var_log = np.cumsum(term)
    return ut, n_risk, n_event, n_censor, surv, var_log


def _curve_frame(key, by, t, n_risk, n_event, n_censor, surv, var_log, conf_type, z):
    se_log = np.sqrt(var_log)
    lower, upper = _confint(surv, se_log, conf_type, z)
    with np.errstate(invalid="ignore"):
        se_surv = surv * se_log
    out = pd.DataFrame({
        "time": t, "n_risk": n_risk.astype("int64"), "n_event": n_event.astype("int64"),
        "n_censor": n_censor.astype("int64"), "surv": surv, "std_err": se_surv,
        "std_err_log": se_log, "lower": lower, "upper": upper,
    })
    for col, val in zip(by, key, strict=True):
        out.insert(by.index(col), col, val)
    return out


def _fixed_times(tt: np.ndarray, entry: pd.Series | None, timefix: bool):
    """Times and entry times (None without delayed entry), with R's ``timefix`` if asked."""
    en = None if entry is None else entry.to_numpy()
    if not timefix:
        return tt, en
    if en is None:
        (tt,) = _timefix(tt)
        return tt, None
    return _timefix(tt, en)


def _prepare(df, time_col, event_col, entry_col, by, timefix, function):
    t, e = _survival_columns(df, time_col, event_col, function, entry_col)
    entry = None
    if entry_col is not None:
        entry = pd.to_numeric(df[entry_col], errors="coerce").astype(float).fillna(0.0)
    ok = t.notna() & e.notna()
    n_missing = int((~ok).sum())
    if n_missing:
        warnings.warn(
            f"{function}: {n_missing} rows with missing {time_col}/{event_col} were excluded.",
            SirtStatsWarning, stacklevel=3)
    tt, en = _fixed_times(t.to_numpy(), entry, timefix)
    ee = e.to_numpy()
    work = pd.DataFrame({"_t": tt, "_e": ee}, index=df.index)
    if en is not None:
        work["_entry"] = en
    for col in by:
        if col not in df.columns:
            raise SirtDataError(f"{function}: missing grouping column {col!r}.", column=col,
                                rule="required column")
        work[col] = df[col].to_numpy()
    if by:
        no_group = int((ok & df[by].isna().any(axis=1)).sum())
        if no_group:
            warnings.warn(f"{function}: {no_group} rows with a missing {', '.join(by)} were "
                          "excluded.", SirtStatsWarning, stacklevel=3)
    return work.loc[ok.to_numpy()], n_missing


def compute_km_curve(
    df: pd.DataFrame,
    *,
    time_col: str = "time_months",
    event_col: str = "event",
    by: str | Sequence[str] | None = None,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    entry_col: str | None = None,
    timefix: bool = True,
) -> pd.DataFrame:
    """Kaplan–Meier curve with Greenwood standard errors and a pointwise confidence band.

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col`` (float, ≥ 0, in the unit of the analysis) and
        ``event_col`` (0/1), e.g. one endpoint of :func:`sirtstats.endpoints.derive_endpoints`.
    time_col, event_col : str
        Column names.
    by : str or list of str, optional
        Grouping column(s); one curve per group (rows with a missing group are dropped).
    conf_type : {"log-log", "log", "plain"}, default "log-log"
        Pointwise CI transform (decision D14 (docs/rules/decisions.md); R's default is "log").
    conf_level : float, default 0.95
        Confidence level.
    entry_col : str, optional
        Delayed-entry time (same unit as ``time_col``): at risk when entry < t ≤ time; an
        entry ≤ 0 means at risk from the start.
    timefix : bool, default True
        Merge times closer than sqrt(eps), as R's ``timefix=TRUE``/``aeqSurv``.

    Returns
    -------
    DataFrame
        One row per group and distinct time (events and censorings, as R's survfit): ``by``
        columns, ``time``, ``n_risk``, ``n_event``, ``n_censor``, ``surv``, ``std_err`` (SE of
        S, R ``summary()$std.err``), ``std_err_log`` (SE of log S, R ``fit$std.err``),
        ``lower``, ``upper`` (NaN where R gives NA), ``conf_type``.

    See Also
    --------
    summarise_km : medians and landmark rates per group.

    Notes
    -----
    ``S(t) = Π_{t_j ≤ t} (1 − d_j/n_j)``; Greenwood ``σ²(t) = Σ d_j / (n_j (n_j − d_j))`` is the
    variance of log S. Bands: plain ``S ± zSσ``; log ``S·exp(±zσ)``; log-log
    ``S^{exp(±zσ/log S)}`` (R6.2, docs/rules/statistics.md). A censored subject tied with an event
    is at risk at that time.

    References
    ----------
    Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457–481. Greenwood M. Reports on Public Health
    and Medical Subjects 1926;33. R survival 3.5-3 ``survfit``, ``survfit_confint``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import compute_km_curve
    >>> df = pd.DataFrame({"time_months": [1, 2, 2, 3], "event": [1, 1, 0, 1]})
    >>> compute_km_curve(df)[["time", "n_risk", "n_event", "surv"]]
       time  n_risk  n_event  surv
    0   1.0       4        1  0.75
    1   2.0       3        1  0.50
    2   3.0       1        1  0.00
    """
    _check_choice(conf_type, CONF_TYPES, "conf_type", "compute_km_curve")
    z = _z(conf_level)
    by = _as_list(by)
    work, _ = _prepare(df, time_col, event_col, entry_col, by, timefix, "compute_km_curve")
    frames = []
    for key, pos in _groups(work, by):
        sub = work.iloc[pos]
        arrays = _km_arrays(sub["_t"], sub["_e"], sub["_entry"] if entry_col else None)
        frames.append(_curve_frame(key, by, *arrays, conf_type, z))
    if not frames:
        cols = by + ["time", "n_risk", "n_event", "n_censor", "surv", "std_err",
                     "std_err_log", "lower", "upper"]
        out = pd.DataFrame(columns=cols)
    else:
        out = pd.concat(frames, ignore_index=True)
    out["conf_type"] = conf_type
    return out


def _median_from_curve(t, surv, lower, upper, start=0.0, prob=0.5):
    x = np.concatenate([[start], t])
    q = _findq(x, np.concatenate([[0.0], 1 - surv]), prob)
    lo = _findq(x, np.concatenate([[0.0], 1 - lower]), prob)
    hi = _findq(x, np.concatenate([[0.0], 1 - upper]), prob)
    return q, lo, hi


def _at_times(t, n_risk_curve, surv, se_log, conf_type, z, times, n_total, extend=False):
    """R ``summary(fit, times=, extend=)`` values: after the last time, NaN (extend=False) or
    the last value with its CI and 0 at risk (extend=True)."""
    res = []
    for tau in times:
        if len(t) == 0 or (tau > t[-1] and not extend):
            res.append((np.nan, np.nan, np.nan, 0))
            continue
        i = np.searchsorted(t, tau, side="right") - 1
        if i < 0:
            s, sl = 1.0, 0.0
        else:
            s, sl = surv[i], se_log[i]
        j = np.searchsorted(t, tau, side="left")
        nr = int(n_risk_curve[j]) if j < len(t) else 0
        lo, hi = _confint(np.array([s]), np.array([sl]), conf_type, z)
        if i < 0:
            lo, hi = np.array([1.0]), np.array([1.0])
        res.append((s, float(lo[0]), float(hi[0]), nr))
    return res


def _fmt_num(x, digits):
    return "NR" if not np.isfinite(x) else f"{x:.{digits}f}"


def summarise_km(
    df: pd.DataFrame,
    *,
    time_col: str = "time_months",
    event_col: str = "event",
    by: str | Sequence[str] | None = None,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    landmarks: Sequence[float] = (6, 12, 24),
    entry_col: str | None = None,
    timefix: bool = True,
    digits: int = 1,
    check_type: Literal["error", "warning"] = "error",
    extend: bool = False,
) -> pd.DataFrame:
    """Kaplan–Meier table: n, events, median with CI and landmark survival per group.

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col`` (float, ≥ 0) and ``event_col`` (0/1).
    time_col, event_col : str
        Column names; ``landmarks`` and the medians are in the unit of ``time_col``.
    by : str or list of str, optional
        Grouping column(s). Grouping by response (BOR, responder) from the origin is refused
        (guarantee-time bias, R5.6): use :func:`sirtstats.survival.derive_landmark`.
    conf_type : {"log-log", "log", "plain"}, default "log-log"
        CI transform of the survival band; the median CI is read off the same band
        (Brookmeyer–Crowley as R computes it).
    conf_level : float, default 0.95
        Confidence level.
    landmarks : sequence of float, default (6, 12, 24)
        Times at which S(t) and its CI are reported (NaN after a group's last time unless
        ``extend``).
    entry_col : str, optional
        Delayed-entry column.
    timefix : bool, default True
        R's ``timefix`` merging of near-tied times.
    digits : int, default 1
        Decimals in ``median_text``.
    check_type : {"error", "warning"}, default "error"
        Severity of the guarantee-time check.
    extend : bool, default False
        At landmarks after a group's last observed time, report the curve's last value and
        its CI (``n_risk`` 0) instead of NaN, as R ``summary(fit, times=, extend=TRUE)``.
        Useful where the curve is determined there, e.g. already 0 after the last patient
        died; after a last censored time the value is only carried forward (no one is
        observed), which is why the default, R's, reports NaN.

    Returns
    -------
    DataFrame
        One row per group: ``by`` columns, ``n``, ``n_events``, ``n_censored``, ``median``,
        ``median_lower``, ``median_upper`` (NaN = not reached), ``median_text`` (e.g.
        ``"22.0 (16.0–32.0)"``, ``NR`` when not reached), ``surv_<L>``, ``surv_<L>_lower``,
        ``surv_<L>_upper`` and ``n_risk_<L>`` for each landmark L, ``conf_type``,
        ``conf_level``.

    Warns
    -----
    SirtStatsWarning
        A group's median is not reached, a group has fewer than 10 patients, or all are
        censored.

    Notes
    -----
    Median: R ``quantile.survfit``: the first time with S ≤ 0.5 (tolerance sqrt(eps)); when S
    equals 0.5 on a plateau, the midpoint between that time and the next drop (SAS LIFETEST
    uses the same rule; lifelines takes the plateau start, decision D15 (docs/rules/decisions.md)).

    References
    ----------
    Brookmeyer R, Crowley J. Biometrics 1982;38:29–41. R6.2 (docs/rules/statistics.md), WE25.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import summarise_km
    >>> df = pd.DataFrame({"time_months": [1, 2, 3, 4], "event": [1, 1, 1, 1]})
    >>> summarise_km(df, landmarks=())[["n", "n_events", "median"]]
       n  n_events  median
    0  4         4     2.5
    """

    _check_choice(conf_type, CONF_TYPES, "conf_type", "summarise_km")
    _check_choice(check_type, ("error", "warning"), "check_type", "summarise_km")
    by = _as_list(by)
    check_guarantee_time(df, by, function="summarise_km", check_type=check_type)
    z = _z(conf_level)
    work, _ = _prepare(df, time_col, event_col, entry_col, by, timefix, "summarise_km")
    rows = []
    for key, pos in _groups(work, by):
        sub = work.iloc[pos]
        t, n_risk, n_event, _nc, surv, var_log = _km_arrays(
            sub["_t"], sub["_e"], sub["_entry"] if entry_col else None)
        se_log = np.sqrt(var_log)
        lower, upper = _confint(surv, se_log, conf_type, z)
        med, lo, hi = _median_from_curve(t, surv, lower, upper)
        row = dict(zip(by, key, strict=True))
        n, ev = len(sub), int(sub["_e"].sum())
        row.update({"n": n, "n_events": ev, "n_censored": n - ev, "median": med,
                    "median_lower": lo, "median_upper": hi})
        row["median_text"] = (f"{_fmt_num(med, digits)} ({_fmt_num(lo, digits)}–"
                              f"{_fmt_num(hi, digits)})")
        for tau, (s, sl, su, nr) in zip(
                landmarks, _at_times(t, n_risk, surv, se_log, conf_type, z, landmarks, n,
                                     extend=extend), strict=True):
            lab = f"{tau:g}"
            row[f"surv_{lab}"] = s
            row[f"surv_{lab}_lower"] = sl
            row[f"surv_{lab}_upper"] = su
            row[f"n_risk_{lab}"] = nr
        label = ", ".join(f"{c}={v}" for c, v in zip(by, key, strict=True)) or "all"
        if ev == 0:
            warnings.warn(f"summarise_km: all {n} patients censored ({label}).",
                          SirtStatsWarning, stacklevel=2)
        elif np.isnan(med):
            warnings.warn(f"summarise_km: median not reached ({label}).", SirtStatsWarning,
                          stacklevel=2)
        if n < 10:
            warnings.warn(f"summarise_km: fewer than 10 patients ({label}: {n}).",
                          SirtStatsWarning, stacklevel=2)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["conf_type"] = conf_type
    out["conf_level"] = conf_level
    return out


def compute_median_followup(
    df: pd.DataFrame,
    *,
    time_col: str = "time_months",
    event_col: str = "event",
    by: str | Sequence[str] | None = None,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    timefix: bool = True,
) -> pd.DataFrame:
    """Median follow-up by the reverse Kaplan–Meier method (Schemper & Smith 1996).

    Parameters
    ----------
    df : DataFrame
        One row per patient (normally the OS rows) with ``time_col`` and ``event_col`` (0/1).
    time_col, event_col : str
        Column names.
    by : str or list of str, optional
        Grouping column(s).
    conf_type : {"log-log", "log", "plain"}, default "log-log"
        CI transform.
    conf_level : float, default 0.95
        Confidence level.
    timefix : bool, default True
        R's ``timefix``.

    Returns
    -------
    DataFrame
        One row per group: ``by`` columns, ``n``, ``n_censored``, ``median_followup``,
        ``median_followup_lower``, ``median_followup_upper`` (NaN = not reached),
        ``conf_type``.

    Notes
    -----
    The indicator is reversed (censored = "event", death = "censored") and the KM median of
    that "time to censoring" is taken with the same rule as :func:`summarise_km`
    (R6.3, docs/rules/statistics.md).

    References
    ----------
    Schemper M, Smith TL. Control Clin Trials 1996;17:343–346.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import compute_median_followup
    >>> df = pd.DataFrame({"time_months": [2, 3, 4, 5, 6, 7, 8, 10, 12, 15],
    ...                    "event": [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]})
    >>> float(compute_median_followup(df)["median_followup"].iloc[0])
    10.0
    """
    _check_choice(conf_type, CONF_TYPES, "conf_type", "compute_median_followup")
    z = _z(conf_level)
    by = _as_list(by)
    work, _ = _prepare(df, time_col, event_col, None, by, timefix, "compute_median_followup")
    rows = []
    for key, pos in _groups(work, by):
        sub = work.iloc[pos]
        t, _nr, _ne, _nc, surv, var_log = _km_arrays(sub["_t"], 1 - sub["_e"])
        lower, upper = _confint(surv, np.sqrt(var_log), conf_type, z)
        med, lo, hi = _median_from_curve(t, surv, lower, upper)
        row = dict(zip(by, key, strict=True))
        row.update({"n": len(sub), "n_censored": int((1 - sub["_e"]).sum()),
                    "median_followup": med, "median_followup_lower": lo,
                    "median_followup_upper": hi})
        rows.append(row)
    out = pd.DataFrame(rows)
    out["conf_type"] = conf_type
    return out


def compute_number_at_risk(
    df: pd.DataFrame,
    times: Sequence[float],
    *,
    time_col: str = "time_months",
    event_col: str = "event",
    by: str | Sequence[str] | None = None,
    entry_col: str | None = None,
    timefix: bool = True,
) -> pd.DataFrame:
    """Number at risk at given times (for risk tables under KM plots).

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col`` and ``event_col``.
    times : sequence of float
        Times (unit of ``time_col``), e.g. the x ticks of the plot.
    time_col, event_col : str
        Column names.
    by : str or list of str, optional
        Grouping column(s).
    entry_col : str, optional
        Delayed-entry column (at risk at t when entry < t ≤ time).
    timefix : bool, default True
        R's ``timefix``.

    Returns
    -------
    DataFrame
        One row per group and time: ``by`` columns, ``time``, ``n_risk`` (patients with
        time ≥ t, R ``summary(times=, extend=TRUE)$n.risk``), ``n_events_cum`` (events up to
        and including t).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import compute_number_at_risk
    >>> df = pd.DataFrame({"time_months": [1, 2, 2, 3], "event": [1, 1, 0, 1]})
    >>> compute_number_at_risk(df, [0, 2, 4])
       time  n_risk  n_events_cum
    0   0.0       4             0
    1   2.0       3             2
    2   4.0       0             3
    """
    by = _as_list(by)
    work, _ = _prepare(df, time_col, event_col, entry_col, by, timefix,
                       "compute_number_at_risk")
    times = np.asarray(list(times), dtype=float)
    frames = []
    for key, pos in _groups(work, by):
        sub = work.iloc[pos]
        tt = np.sort(sub["_t"].to_numpy())
        n_risk = len(tt) - np.searchsorted(tt, times, side="left")
        if entry_col:
            en = sub["_entry"].to_numpy()
            en = np.sort(np.where(en <= 0, -np.inf, en))
            n_risk = n_risk - (len(en) - np.searchsorted(en, times, side="left"))
        ev_t = np.sort(sub.loc[sub["_e"] == 1, "_t"].to_numpy())
        n_ev = np.searchsorted(ev_t, times, side="right")
        f = pd.DataFrame({"time": times, "n_risk": n_risk.astype("int64"),
                          "n_events_cum": n_ev.astype("int64")})
        for i, (col, val) in enumerate(zip(by, key, strict=True)):
            f.insert(i, col, val)
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=by + ["time", "n_risk", "n_events_cum"])


def compute_km_metrics(df_km: pd.DataFrame, *, by: str = "endpoint",
                       landmarks: Sequence[float] = ()) -> dict:
    """Key numbers of a :func:`summarise_km` table as a nested dict (for report metrics).

    Parameters
    ----------
    df_km : DataFrame
        :func:`summarise_km` output grouped by one column.
    by : str, default "endpoint"
        The grouping column; its values become the keys.
    landmarks : sequence of float, default ()
        Landmark times whose ``surv_<L>`` columns are included.

    Returns
    -------
    dict
        ``{group: {"n", "n_events", "median", "median_lower", "median_upper", "conf_type",
        "surv_<L>"...}}`` with NaN for medians not reached.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import compute_km_metrics, summarise_km
    >>> df = pd.DataFrame({"time_months": [1, 2, 3, 4] * 3, "event": [1] * 12,
    ...                    "endpoint": ["OS"] * 12})
    >>> compute_km_metrics(summarise_km(df, by="endpoint", landmarks=()))["OS"]["median"]
    2.5
    """
    if by not in df_km.columns:
        raise SirtDataError(f"compute_km_metrics: missing column {by!r}.", column=by,
                            rule="required column")
    out = {}
    for _, row in df_km.iterrows():
        entry = {k: row[k] for k in ("n", "n_events", "median", "median_lower", "median_upper",
                                     "conf_type") if k in row}
        for tau in landmarks:
            lab = f"surv_{tau:g}"
            if lab in row:
                entry[lab] = row[lab]
        out[str(row[by])] = {k: (v.item() if hasattr(v, "item") else v)
                             for k, v in entry.items()}
    return out
