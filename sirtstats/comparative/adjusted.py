"""Weighted outcomes: Kaplan-Meier, Cox with robust SE, response-rate difference."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..survival.cox import LIFELINES_FIT_OPTIONS
from ..survival.km import _findq

__all__ = ["weighted_cox", "weighted_km", "weighted_km_median", "weighted_rate_difference"]


def weighted_km(time, event, weights, group=None) -> pd.DataFrame:
    """Weighted Kaplan-Meier (R ``survfit(weights=)``): S(t) = Π (1 − d_w/n_w).

    d_w and n_w are the weighted event and at-risk counts at each distinct time (events
    and censorings at one time: the censored are at risk). Greenwood SE of log S with weighted
    counts, ``std_err_log`` = sqrt(Σ d_w / (n_w (n_w − d_w))).
    """
    time = np.asarray(time, float)
    event = np.asarray(event).astype(float)
    w = np.asarray(weights, float)
    g = np.zeros(len(time), int) if group is None else np.asarray(group)
    out = []
    for lv in sorted(pd.unique(g)):
        m = (g == lv) & (w > 0)
        tt, ee, ww = time[m], event[m], w[m]
        ut = np.unique(tt)
        d = np.array([ww[(tt == u) & (ee == 1)].sum() for u in ut])
        n = np.array([ww[tt >= u].sum() for u in ut])
        s = np.cumprod(1 - d / n)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        out.append(pd.DataFrame({"group": lv, "time": ut, "n_risk": n, "n_event": d,
                                 "surv": s, "std_err_log": np.sqrt(v)}))
    return pd.concat(out, ignore_index=True)


def weighted_km_median(curve: pd.DataFrame) -> pd.Series:
    """Median of each weighted KM curve with R's plateau-midpoint rule (``findq``)."""
    res = {}
    for lv, c in curve.groupby("group", sort=True):
        x = np.r_[0.0, c["time"].to_numpy()]
        y = np.r_[0.0, 1 - c["surv"].to_numpy()]
        res[lv] = _findq(x, y, 0.5)
    return pd.Series(res, name="median")


def _efron_score_residuals(time, event, x, w, beta):
    """Score residuals of a one-covariate Cox fit, Efron ties (port of survival ``coxscore``)."""
    r = np.exp(beta * x)
    res = np.where(event == 1, x, 0.0).astype(float)
    for t in np.unique(time[event == 1]):
        risk = time >= t
        dead = (time == t) & (event == 1)
        nd = int(dead.sum())
        a, a2 = np.sum(w[risk] * r[risk]), np.sum(w[risk] * r[risk] * x[risk])
        c, c2 = np.sum(w[dead] * r[dead]), np.sum(w[dead] * r[dead] * x[dead])
        dw = np.sum(w[dead])
        k = np.arange(nd) / nd
        den = a - k * c
        h = (dw / nd) / den
        xbar = (a2 - k * c2) / den
        alive = risk & ~dead
        res[alive] -= r[alive] * (x[alive] * h.sum() - np.sum(h * xbar))
        res[dead] -= np.mean(xbar)
        hd = (1 - k) * h
        res[dead] -= r[dead] * (x[dead] * hd.sum() - np.sum(hd * xbar))
    return res


def weighted_cox(df: pd.DataFrame, time_col: str, event_col: str, exposure_col: str,
                 weights, *, cluster=None, conf_level: float = 0.95) -> pd.Series:
    """Weighted Cox HR of the 0/1 exposure with the robust (sandwich) SE.

    The estimate is lifelines ``CoxPHFitter(weights_col=)`` (Efron ties); the robust variance
    is R's: Σ D_i² with D = w · (Efron score residual) · I⁻¹ (weighted dfbeta), summed within
    ``cluster`` first (the match pair) — R ``coxph(Surv(t, e) ~ x, weights = w,
    robust = TRUE)`` / ``+ cluster(pair)`` (Lin & Wei, JASA 1989; Binder 1992). lifelines'
    own robust variance differs from R's with weights and ties, so it is not used.
    """
    from lifelines import CoxPHFitter

    d = pd.DataFrame({"T": df[time_col].to_numpy(float), "E": df[event_col].to_numpy(float),
                      "x": df[exposure_col].to_numpy(float),
                      "w": np.asarray(weights, float)})
    cc = None
    if cluster is not None:
        d["c"] = np.asarray(cluster)
        cc = "c"
    d = d[d["w"] > 0].reset_index(drop=True)
    with warnings.catch_warnings():  # lifelines warns on non-integer weights; SE is robust here
        warnings.simplefilter("ignore")
        f = CoxPHFitter().fit(d[["T", "E", "x", "w"]], "T", "E", weights_col="w",
                              fit_options=dict(LIFELINES_FIT_OPTIONS))
    b = float(f.params_["x"])
    naive_var = float(f.variance_matrix_.loc["x", "x"])
    resid = _efron_score_residuals(d["T"].to_numpy(), d["E"].to_numpy(), d["x"].to_numpy(),
                                   d["w"].to_numpy(), b)
    dfbeta = d["w"].to_numpy() * resid * naive_var
    if cc is not None:
        dfbeta = pd.Series(dfbeta).groupby(d["c"].to_numpy()).sum().to_numpy()
    se = float(np.sqrt(np.sum(dfbeta ** 2)))
    z = norm.ppf(1 - (1 - conf_level) / 2)
    return pd.Series({"coef": b, "se_robust": se, "hr": np.exp(b), "hr_lower": np.exp(b - z * se),
                      "hr_upper": np.exp(b + z * se), "p": 2 * norm.sf(abs(b / se))})


def weighted_rate_difference(y, treated, weights, *, cluster=None,
                             conf_level: float = 0.95) -> pd.DataFrame:
    """Weighted proportions per group and their difference (treated − control), Wald CIs.

    p_g = Σ w y / Σ w; variance from the influence function w_i (y_i − p_g) / Σ_g w
    (sandwich), summed within ``cluster`` (e.g. the match pair) when given. Use for ORR
    (y = BOR in CR/PR) or DCR (CR/PR/SD).
    """
    y = np.asarray(y, float)
    t = np.asarray(treated).astype(int)
    w = np.asarray(weights, float)
    z = norm.ppf(1 - (1 - conf_level) / 2)
    ifs, rows = {}, []
    for g in (0, 1):
        m = t == g
        p = np.sum(w[m] * y[m]) / np.sum(w[m])
        ifs[g] = np.where(m, w * (y - p) / np.sum(w[m]), 0.0)
        rows.append((f"group {g}", p))
    infl = {"group 0": ifs[0], "group 1": ifs[1], "difference": ifs[1] - ifs[0]}
    rows.append(("difference", rows[1][1] - rows[0][1]))
    out = []
    for name, est in rows:
        i = infl[name]
        if cluster is not None:
            i = pd.Series(i).groupby(np.asarray(cluster)).sum().to_numpy()
        se = float(np.sqrt(np.sum(i ** 2)))
        out.append({"estimate": est, "se": se, "lower": est - z * se, "upper": est + z * se,
                    "row": name})
    return pd.DataFrame(out).set_index("row")
