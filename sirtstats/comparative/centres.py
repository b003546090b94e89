"""Multi-centre registries: per-centre rates, funnel-plot control limits, centre-aware Cox.

Funnel plots follow Spiegelhalter (Stat Med 2005;24:1185–1202, "Funnel plots for comparing
institutional performance", appendix A.1.1): for a centre with n patients, the control limits
of a proportion around the pooled rate p0 are the exact binomial p-quantiles of
Binomial(n, p0), made continuous by interpolation between the discrete steps,

    r_p = smallest r with F(r) >= p,   α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)),
    limit_p = (r_p − α) / n,

for p = 0.025 / 0.975 (95 %, "two sigma") and p = 0.001 / 0.999 (99.8 %, "three sigma"), F
the binomial CDF (scipy). Limits are clipped to [0, 1].
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

from .._checks import check_choice, require_columns
from ..survival.cox import LIFELINES_FIT_OPTIONS

__all__ = ["centre_cox", "centre_rates", "centre_summary", "funnel_limits"]

#: Two-sided coverage of the control limits drawn on a funnel plot.
LIMITS = (0.95, 0.998)


def _quantile(p: float, n: np.ndarray, p0: float) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    r = binom.ppf(p, n, p0)
    f_r = binom.cdf(r, n, p0)
    f_rm1 = binom.cdf(r - 1, n, p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_rm1, (f_r - p) / (f_r - f_rm1), 0.0)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def funnel_limits(n, p0: float, levels: Sequence[float] = LIMITS) -> pd.DataFrame:
    """Exact binomial control limits of a proportion around ``p0`` (Spiegelhalter 2005).

    Parameters
    ----------
    n : array-like of int
        Denominators (patients per centre, or a grid 1..max for the funnel curves).
    p0 : float
        Pooled (target) proportion, in [0, 1].
    levels : sequence of float
        Two-sided coverages (default 0.95 and 0.998).

    Returns
    -------
    DataFrame
        ``n`` and, per level L (as a percentage, e.g. ``95``, ``99.8``), ``lower_L`` and
        ``upper_L`` (proportions).
    """
    n = np.asarray(n, dtype=float)
    out = {"n": n}
    for lv in levels:
        tail = (1 - lv) / 2
        key = f"{100 * lv:g}"
        out[f"lower_{key}"] = _quantile(tail, n, p0)
        out[f"upper_{key}"] = _quantile(1 - tail, n, p0)
    return pd.DataFrame(out)


def centre_rates(df: pd.DataFrame, centre_col: str, indicator_col: str,
                 levels: Sequence[float] = LIMITS) -> pd.DataFrame:
    """Per-centre proportion of a 0/1 indicator with its funnel limits and flags.

    Patients with a missing indicator are left out of the denominator (e.g. not evaluable
    for response). ``attrs["p0"]`` is the pooled rate Σ events / Σ n over all centres.

    Returns
    -------
    DataFrame
        One row per centre (sorted): ``centre``, ``n``, ``events``, ``rate``, the limits
        of :func:`funnel_limits` at that n, and ``outside_L`` ("above" / "below" / "").
    """
    require_columns(df, [centre_col, indicator_col], "df", "centre_rates")
    d = df[df[indicator_col].notna()]
    g = d.groupby(centre_col, sort=True)[indicator_col]
    tab = pd.DataFrame({"n": g.size(), "events": g.sum().astype(int)}).reset_index()
    tab = tab.rename(columns={centre_col: "centre"})
    p0 = float(tab["events"].sum() / tab["n"].sum())
    tab["rate"] = tab["events"] / tab["n"]
    lim = funnel_limits(tab["n"], p0, levels).drop(columns="n")
    tab = pd.concat([tab, lim], axis=1)
    for lv in levels:
        key = f"{100 * lv:g}"
        tab[f"outside_{key}"] = np.select(
            [tab["rate"] > tab[f"upper_{key}"], tab["rate"] < tab[f"lower_{key}"]],
            ["above", "below"], "")
    tab.attrs["p0"] = p0
    return tab


def centre_summary(df: pd.DataFrame, centre_col: str,
                   indicators: Mapping[str, str]) -> pd.DataFrame:
    """Per-centre n and, for each named 0/1 indicator, events / evaluable and the rate.

    ``indicators`` maps a label (e.g. "ORR", "Grade ≥ 3 AE", "90-day mortality") to a 0/1
    column of ``df`` (one row per patient). A last row "All centres" holds the pooled values.
    Columns: ``centre``, ``n`` and per label ``<label> n/N`` (text) and ``<label> %``.
    """
    require_columns(df, [centre_col, *indicators.values()], "df", "centre_summary")
    out = df.groupby(centre_col, sort=True).size().rename("n").to_frame()
    out.loc["All centres", "n"] = len(df)
    for label, col in indicators.items():
        d = df[df[col].notna()]
        ev = d.groupby(centre_col, sort=True)[col].sum()
        den = d.groupby(centre_col, sort=True)[col].size()
        ev.loc["All centres"], den.loc["All centres"] = d[col].sum(), len(d)
        ev, den = ev.reindex(out.index).fillna(0), den.reindex(out.index).fillna(0)
        out[f"{label} n/N"] = [f"{int(e)}/{int(m)}" for e, m in zip(ev, den, strict=True)]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{label} %"] = np.round(100 * ev / den.where(den > 0), 1)
    out["n"] = out["n"].astype(int)
    return out.rename_axis("centre").reset_index()


def centre_cox(df: pd.DataFrame, covariates: Sequence[str], time_col: str, event_col: str,
               centre_col: str, *, method: str = "stratified") -> pd.DataFrame:
    """Cox model of numeric ``covariates`` that accounts for the centre.

    ``method="stratified"``: a baseline hazard per centre (lifelines ``strata=``; R
    ``coxph(... + strata(centre))``), model-based SE. ``method="clustered"``: one baseline
    hazard, robust SE clustered on the centre (R ``+ cluster(centre)``; the estimate is
    lifelines', the sandwich is R's, see :func:`_clustered_se`), valid with many centres
    (with 4 centres the sandwich is unstable; prefer strata). Efron ties, convergence 1e-12.

    Returns
    -------
    DataFrame
        ``term``, ``hr``, ``hr_lower``, ``hr_upper``, ``se``, ``p``, ``method``.
    """
    from lifelines import CoxPHFitter

    check_choice(method, ("stratified", "clustered"), "method", "centre_cox")
    covariates = list(covariates)
    require_columns(df, [time_col, event_col, centre_col, *covariates], "df", "centre_cox")
    d = df[[time_col, event_col, centre_col, *covariates]].dropna()
    kw = ({"strata": [centre_col]} if method == "stratified"
          else {"cluster_col": centre_col, "robust": True})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = CoxPHFitter().fit(d, time_col, event_col, fit_options=dict(LIFELINES_FIT_OPTIONS),
                              **kw)
    b = f.params_.loc[covariates].to_numpy()
    se = f.standard_errors_.loc[covariates].to_numpy()
    if method == "clustered":
        se = _clustered_se(d, covariates, time_col, event_col, centre_col, b)
    z = norm.ppf(0.975)
    return pd.DataFrame({"term": covariates, "hr": np.exp(b), "hr_lower": np.exp(b - z * se),
                         "hr_upper": np.exp(b + z * se), "se": se,
                         "p": 2 * norm.sf(np.abs(b / se)), "method": method})


def _clustered_se(d, covariates, time_col, event_col, centre_col, beta) -> np.ndarray:
    """R's robust SE (Efron score residuals → dfbeta, summed per cluster; Lin & Wei 1989).

    lifelines' ``cluster_col`` sandwich uses other score residuals with tied times, so the
    estimate is lifelines' and the variance is computed here as R ``coxph(+ cluster())``.
    """
    from ..survival._agcox import ag_information_and_residuals

    X = d[covariates].to_numpy(dtype=float)
    t = d[time_col].to_numpy(dtype=float)
    info, resid = ag_information_and_residuals(X, beta, np.full(len(t), -np.inf), t,
                                             d[event_col].to_numpy(dtype=float),
                                             np.ones(len(t)))
    dfbeta = resid @ np.linalg.inv(info)
    g = pd.DataFrame(dfbeta).groupby(d[centre_col].to_numpy()).sum().to_numpy()
    return np.sqrt(np.diag(g.T @ g))
