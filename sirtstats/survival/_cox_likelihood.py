"""Partial likelihood of the Cox model: score, information, PH test, infinite coefficients.

The score vector and information matrix (Efron or Breslow ties, strata, counting-process
(start, stop] data; vectorised numpy), the score test, the ``cox.zph`` PH test of R survival
>= 3.0, and the monotone-likelihood (infinite coefficient) checks of R ``coxph.fit``. Part of
:mod:`sirtstats.survival.cox` (fit models with :func:`sirtstats.survival.fit_cox`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2

from sirtstats.survival.concordance import compute_concordance
from sirtstats.survival.km import _km_arrays

__all__: list[str] = []


# --------------------------------------------------------------------------------------------
# partial-likelihood score and information (Efron or Breslow), strata and (start, stop]
# --------------------------------------------------------------------------------------------
def _score_info_stratum(X, eta, stop, event, start, ties):
    n, p = X.shape
    ev = event == 1
    if not ev.any():
        return None
    t_ev = np.unique(stop[ev])
    w = np.exp(eta - eta.max())
    wx = w[:, None] * X
    wxx = wx[:, :, None] * X[:, None, :]

    def rev_cumsum_at(key, arr, at):
        order = np.argsort(key, kind="stable")
        cs = np.cumsum(arr[order][::-1], axis=0)[::-1]
        cs = np.concatenate([cs, np.zeros((1,) + arr.shape[1:])], axis=0)
        return cs[np.searchsorted(key[order], at, side="left")]

    S0 = rev_cumsum_at(stop, w, t_ev)
    S1 = rev_cumsum_at(stop, wx, t_ev)
    S2 = rev_cumsum_at(stop, wxx, t_ev)
    if start is not None:  # remove those not yet entered (start >= t)
        S0 = S0 - rev_cumsum_at(start, w, t_ev)
        S1 = S1 - rev_cumsum_at(start, wx, t_ev)
        S2 = S2 - rev_cumsum_at(start, wxx, t_ev)
    j = np.searchsorted(t_ev, stop[ev])
    m = len(t_ev)
    d = np.bincount(j, minlength=m)
    D0 = np.bincount(j, weights=w[ev], minlength=m)
    D1 = np.zeros((m, p))
    D2 = np.zeros((m, p, p))
    XD = np.zeros((m, p))
    np.add.at(D1, j, wx[ev])
    np.add.at(D2, j, wxx[ev])
    np.add.at(XD, j, X[ev])
    rep = np.repeat(np.arange(m), d)
    if ties == "efron":
        frac = (np.arange(len(rep)) - np.repeat(np.cumsum(d) - d, d)) / np.repeat(d, d)
    else:
        frac = np.zeros(len(rep))
    s0 = S0[rep] - frac * D0[rep]
    s1 = S1[rep] - frac[:, None] * D1[rep]
    s2 = S2[rep] - frac[:, None, None] * D2[rep]
    mean = s1 / s0[:, None]
    V = s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :]
    Msum = np.zeros((m, p))
    Vsum = np.zeros((m, p, p))
    np.add.at(Msum, rep, mean)
    np.add.at(Vsum, rep, V)
    loglik = float(np.sum(eta[ev] - eta.max()) - np.sum(np.log(s0)))
    return t_ev, XD - Msum, Vsum, loglik


def _score_info(X, beta, stop, event, strata=None, start=None, ties="efron"):
    """Per-event-time score contributions, information blocks, total U, I and log-lik."""
    X = np.asarray(X, dtype=float)
    eta = X @ np.asarray(beta, dtype=float)
    codes = np.zeros(len(stop), dtype=int) if strata is None else np.asarray(strata)
    t_all, r_all, v_all, ll = [], [], [], 0.0
    for code in np.unique(codes):
        sel = codes == code
        res = _score_info_stratum(X[sel], eta[sel], stop[sel], event[sel],
                                  None if start is None else start[sel], ties)
        if res is None:
            continue
        t_ev, r, v, lls = res
        t_all.append(t_ev)
        r_all.append(r)
        v_all.append(v)
        ll += lls
    p = X.shape[1]
    if not t_all:
        return np.zeros(0), np.zeros((0, p)), np.zeros((0, p, p)), np.zeros(p), np.zeros(
            (p, p)), 0.0
    t_ev = np.concatenate(t_all)
    r = np.concatenate(r_all)
    v = np.concatenate(v_all)
    return t_ev, r, v, r.sum(axis=0), v.sum(axis=0), ll


def _score_test(X, stop, event, strata=None, start=None, ties="efron") -> float:
    """Score (log-rank) test of β = 0: U(0)' I(0)^{-1} U(0)."""
    p = X.shape[1]
    _t, _r, _v, U, info, _ll = _score_info(X, np.zeros(p), stop, event, strata, start, ties)
    try:
        return float(U @ np.linalg.solve(info, U))
    except np.linalg.LinAlgError:
        return float("nan")


def _cox_zph(X, beta, stop, event, strata, terms: dict[str, list[str]], columns, ties,
             transform, start=None) -> pd.DataFrame:
    """Port of R survival ≥ 3.0 ``cox.zph``: score test for β·g(t) interactions at (β̂, 0)."""
    t_ev, r, v, _U, _I, _ll = _score_info(X, beta, stop, event, strata, start, ties)
    ev = event == 1
    if transform == "km":
        ut, _nr, _ne, _nc, surv, _vl = _km_arrays(stop, event, start)
        idx = np.searchsorted(ut, stop, side="left")  # last KM time strictly before t
        s_minus = np.concatenate([[1.0], surv])[idx]
        ttimes = 1 - s_minus
    elif transform == "identity":
        ttimes = stop.astype(float)
    elif transform == "log":
        ttimes = np.log(stop.astype(float))
    else:
        ttimes = pd.Series(stop).rank(method="average").to_numpy()
    center = ttimes[ev].mean()
    lookup = pd.Series(ttimes - center, index=stop).groupby(level=0).first()
    g = lookup.reindex(t_ev).to_numpy()
    p = X.shape[1]
    u2 = (g[:, None] * r).sum(axis=0)
    i11 = v.sum(axis=0)
    i12 = (g[:, None, None] * v).sum(axis=0)
    i22 = ((g ** 2)[:, None, None] * v).sum(axis=0)
    imat = np.block([[i11, i12], [i12, i22]])
    col_index = {c: i for i, c in enumerate(columns)}
    rows = []
    for var, cols in terms.items():
        jj = [col_index[c] for c in cols]
        kk = list(range(p)) + [p + j for j in jj]
        u = np.concatenate([np.zeros(p), u2[jj]])
        stat = float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u))
        rows.append({"term": var, "chisq": stat, "df": len(jj)})
    u = np.concatenate([np.zeros(p), u2])
    rows.append({"term": "GLOBAL", "chisq": float(u @ np.linalg.solve(imat, u)), "df": p})
    out = pd.DataFrame(rows)
    out["p"] = chi2.sf(out["chisq"], out["df"])
    out["transform"] = transform
    return out


def _concordance(time, risk, event, strata=None) -> float:
    """Harrell's C as R ``coxph``: pairs counted within strata and pooled."""
    return compute_concordance(time, event, risk, strata=strata, timefix=False).concordance


#: R ``coxph.control()`` defaults used by the infinite-coefficient check: ``eps`` (convergence
#: tolerance) and ``toler.inf = sqrt(eps)`` (therneau/survival ``R/coxph.control.R``).
COXPH_EPS = 1e-9
COXPH_TOLER_INF = float(np.sqrt(COXPH_EPS))


def _monotone_columns(X, stop, event, strata=None, start=None) -> list[int]:
    """Binary model columns whose partial likelihood is monotone (coefficient ±infinite).

    A 0/1 column ``x`` has an infinite coefficient, whatever the other coefficients, when at
    every event time whose risk set holds both values of ``x`` all the events have ``x = 1``
    (β → +∞), or all have ``x = 0`` (β → −∞): each event time's score contribution then has
    one sign for every β (Efron or Breslow), e.g. a category without events, or one whose only
    events happen while nobody outside it is at risk. A column never mixed in a risk set at an
    event time is not identifiable and is also returned. Exact integer counts: no solver.
    With ``start`` (counting process), the risk set at t is ``start < t <= stop``.
    """
    X = np.asarray(X, dtype=float)
    codes = np.zeros(len(stop), dtype=int) if strata is None else np.asarray(strata)
    binary = [j for j in range(X.shape[1]) if np.isin(X[:, j], (0.0, 1.0)).all()]
    plus_ok = dict.fromkeys(binary, True)
    minus_ok = dict.fromkeys(binary, True)
    for code in np.unique(codes):
        sel = codes == code
        s, e, x = stop[sel], event[sel] == 1, X[sel]
        if not e.any():
            continue
        t_ev = np.unique(s[e])

        def at_or_after(key, values, t_ev=t_ev):  # sum of values over rows with key >= t
            order = np.argsort(key, kind="stable")
            cs = np.concatenate([np.cumsum(values[order][::-1])[::-1], [0.0]])
            return cs[np.searchsorted(key[order], t_ev, side="left")]

        ones = np.ones(len(s))
        n_risk = at_or_after(s, ones)
        if start is not None:
            n_risk = n_risk - at_or_after(start[sel], ones)
        j_ev = np.searchsorted(t_ev, s[e])
        for j in binary:
            at_risk_1 = at_or_after(s, x[:, j])
            if start is not None:
                at_risk_1 = at_risk_1 - at_or_after(start[sel], x[:, j])
            mixed = (at_risk_1 > 0) & (at_risk_1 < n_risk)
            ev1 = np.bincount(j_ev, weights=x[e, j], minlength=len(t_ev)) > 0
            ev0 = np.bincount(j_ev, weights=1 - x[e, j], minlength=len(t_ev)) > 0
            plus_ok[j] = plus_ok[j] and not (mixed & ev0).any()
            minus_ok[j] = minus_ok[j] and not (mixed & ev1).any()
    return [j for j in binary if plus_ok[j] or minus_ok[j]]


def _infinite_by_score(X, beta, stop, event, strata=None, ties="efron",
                       n_polish: int = 2, start=None) -> list[int]:
    """R ``coxph.fit``'s check "Loglik converged before variable ...; coefficient may be infinite".

    From the fitted β, ``n_polish`` further Newton steps are taken with this module's exact
    score U and information I (a finite maximum is then reached to machine precision whatever
    criterion stopped the solver); the columns flagged are those where the next step
    ``|I⁻¹U|`` is not finite or exceeds both ``eps`` and ``toler.inf · |β|`` (R's defaults
    :data:`COXPH_EPS`, :data:`COXPH_TOLER_INF`). Near an infinite coefficient each Newton step
    stays of order one, so the check has margins of several orders of magnitude either way.
    """
    beta = np.asarray(beta, dtype=float).copy()
    step = np.zeros_like(beta)
    for _ in range(n_polish + 1):
        beta = beta + step
        _t, _r, _v, U, info, _ll = _score_info(X, beta, stop, event, strata, start, ties)
        try:
            step = np.linalg.solve(info, U)
        except np.linalg.LinAlgError:
            step = np.linalg.pinv(info) @ U
    infs = np.abs(step)
    bad = ~np.isfinite(infs) | ((infs > COXPH_EPS) & (infs > COXPH_TOLER_INF * np.abs(beta)))
    return [int(j) for j in np.flatnonzero(bad)]
