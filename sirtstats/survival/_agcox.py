"""Weighted counting-process Cox model, Efron ties, by risk-set cumulative sums.

Private module of :mod:`sirtstats.survival` (used by :mod:`~sirtstats.survival.finegray` and
the clustered SE of :mod:`sirtstats.comparative.centres`). The sums over the risk set
{start < t <= stop} at each event time t are the sums over {stop >= t} minus the sums over
{start >= t}, each a suffix cumulative sum of the rows sorted by stop or by start: one pass
over the rows instead of one full-length mask per event time (decision D78).

Efron ties as R ``agfit4`` / ``agscore3`` (survival 3.5): at an event time with d tied
events the k-th (k = 0..d-1) denominator removes k/d of the tied events' weighted risk and
every term is weighted by the mean case weight of the tied events (``wtave``); a tied event
is at risk for a fraction 1 - k/d of the k-th term.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EventTerms", "ag_event_terms", "ag_information_and_residuals", "fit_ag_cox"]

#: Newton-Raphson stops when the next step moves no coefficient by more than this (log-HR).
_STEP_TOL = 1e-12
_MAX_ITER = 50
#: A step is halved when it lowers the log partial likelihood by more than this fraction of
#: it: closer to the maximum the likelihood cannot tell steps apart (rounding), the score can.
_LOGLIK_NOISE = 1e-11


def _suffix_sums(order_key: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the rows with ``order_key >= a``, for every ``a`` in ``at``."""
    order = np.argsort(order_key, kind="stable")
    tail = np.cumsum(values[order][::-1], axis=0)[::-1]
    tail = np.concatenate([tail, np.zeros((1, *values.shape[1:]))], axis=0)
    return tail[np.searchsorted(order_key[order], at, side="left")]


class EventTerms:
    """Per event time and per Efron term, the sums the likelihood, score and residuals need.

    Attributes (m event times, E = number of events, p covariates): ``times`` (m,),
    ``term_time`` (E,) index of each term's event time, ``frac`` (E,) k/d, ``wtave`` (m,),
    ``a0`` (E,) Efron denominators, ``means`` (E, p), ``s2`` / ``d2`` (m, p, p) risk-set
    and tied-event weighted sums of x x', ``dead_time`` (n,) index of each row's event time
    (-1 for a row without an event).
    """

    def __init__(self, X, r, w, start, stop, status):
        dead = status == 1
        self.times, dead_time = np.unique(stop[dead], return_inverse=True)
        m, p = len(self.times), X.shape[1]
        rx = r[:, None] * X
        rxx = rx[:, :, None] * X[:, None, :]
        packed = np.concatenate([r[:, None], rx, rxx.reshape(len(r), p * p)], axis=1)
        risk = _suffix_sums(stop, self.times, packed) - _suffix_sums(start, self.times, packed)
        tied = np.zeros((m, packed.shape[1]))
        np.add.at(tied, dead_time, packed[dead])
        nd = np.bincount(dead_time, minlength=m)
        self.wtave = np.bincount(dead_time, weights=w[dead], minlength=m) / nd
        self.term_time = np.repeat(np.arange(m), nd)
        first = np.concatenate([[0], np.cumsum(nd)[:-1]])
        self.frac = (np.arange(len(self.term_time)) - first[self.term_time]) / nd[self.term_time]
        j, f = self.term_time, self.frac
        self.a0 = risk[j, 0] - f * tied[j, 0]
        self.means = (risk[j, 1 : 1 + p] - f[:, None] * tied[j, 1 : 1 + p]) / self.a0[:, None]
        self.s2 = risk[:, 1 + p :].reshape(m, p, p)
        self.d2 = tied[:, 1 + p :].reshape(m, p, p)
        self.dead_time = np.full(len(r), -1)
        self.dead_time[dead] = dead_time


def ag_event_terms(X, beta, start, stop, status, w) -> tuple[EventTerms, np.ndarray]:
    """The :class:`EventTerms` at ``beta`` and the risk scores exp(X beta)."""
    e = np.exp(X @ beta)
    return EventTerms(X, w * e, w, start, stop, status), e


def _loglik_score_information(X, beta, start, stop, status, w):
    terms, _ = ag_event_terms(X, beta, start, stop, status, w)
    dead = status == 1
    wt = terms.wtave[terms.term_time]
    loglik = float(w[dead] @ (X[dead] @ beta) - wt @ np.log(terms.a0))
    score = w[dead] @ X[dead] - wt @ terms.means
    return loglik, score, _information(terms)


def _information(terms: EventTerms) -> np.ndarray:
    """sum over terms of wtave (a2 / a0 - means means'), a2 = s2 - frac d2."""
    j, wt = terms.term_time, terms.wtave[terms.term_time]
    inv = wt / terms.a0
    s2_part = np.einsum("e,eij->ij", inv, terms.s2[j])
    d2_part = np.einsum("e,eij->ij", inv * terms.frac, terms.d2[j])
    outer = np.einsum("e,ei,ej->ij", wt, terms.means, terms.means)
    return s2_part - d2_part - outer


def fit_ag_cox(X, start, stop, status, w) -> tuple[np.ndarray, bool]:
    """Maximum partial-likelihood coefficients (Newton-Raphson, step halving as R ``agfit4``).

    Parameters
    ----------
    X : ndarray (n, p)
        Covariates (float).
    start, stop : ndarray (n,)
        Interval (start, stop] of each row, any time unit.
    status : ndarray (n,)
        1 = event at ``stop``, 0 = none.
    w : ndarray (n,)
        Case weights (> 0).

    Returns
    -------
    (ndarray (p,), bool)
        The coefficients (log hazard ratios) and whether Newton-Raphson converged within 50
        steps (a monotone likelihood, e.g. a covariate that separates events from the rest,
        does not).
    """
    beta = np.zeros(X.shape[1])
    loglik, score, info = _loglik_score_information(X, beta, start, stop, status, w)
    for _ in range(_MAX_ITER):
        step = np.linalg.solve(info, score)
        if np.max(np.abs(step)) < _STEP_TOL:
            return beta + step, True
        new = _loglik_score_information(X, beta + step, start, stop, status, w)
        halvings = 0
        # a worse likelihood (beyond rounding) or an overflow: halve the step, as agfit4
        while not new[0] >= loglik - _LOGLIK_NOISE * abs(loglik) and halvings < 30:
            step = step / 2
            new = _loglik_score_information(X, beta + step, start, stop, status, w)
            halvings += 1
        beta = beta + step
        loglik, score, info = new
    return beta, False


def ag_information_and_residuals(X, beta, start, stop, status, w):
    """Observed information and score residuals of the weighted (start, stop] Cox model.

    R ``agscore3`` (Efron): the residual of row i is its event indicator times (x_i minus the
    mean over its event time's terms of the risk-set means), minus, over the event times t
    in (start_i, stop_i], e_i (x_i H(t) - Hm(t)) with H the sum of wtave / a0 over t's terms
    and Hm the same sum weighted by the terms' means (for the row's own event time each term
    is weighted by 1 - k/d). Returns (information, residuals); the residuals are per row,
    not multiplied by the case weight.
    """
    terms, e = ag_event_terms(X, beta, start, stop, status, w)
    m, p = len(terms.times), X.shape[1]
    j = terms.term_time
    h = terms.wtave[j] / terms.a0
    hd = (1 - terms.frac) * h
    per_time = np.zeros((m, 2 + 3 * p))  # H, HD, Hm (p), HDm (p), mean of means (p)
    np.add.at(per_time[:, 0], j, h)
    np.add.at(per_time[:, 1], j, hd)
    np.add.at(per_time[:, 2 : 2 + p], j, h[:, None] * terms.means)
    np.add.at(per_time[:, 2 + p : 2 + 2 * p], j, hd[:, None] * terms.means)
    np.add.at(per_time[:, 2 + 2 * p :], j, terms.means)
    per_time[:, 2 + 2 * p :] /= np.bincount(j, minlength=m)[:, None]
    cum = np.concatenate(
        [np.zeros((1, 1 + p)), np.cumsum(per_time[:, [0, *range(2, 2 + p)]], axis=0)]
    )
    lo = np.searchsorted(terms.times, start, side="right")
    hi = np.searchsorted(terms.times, stop, side="right")
    window = cum[hi] - cum[lo]  # sums of H and Hm over the event times in (start, stop]
    H, Hm = window[:, 0], window[:, 1:]
    dead = terms.dead_time >= 0
    own = per_time[terms.dead_time[dead]]
    H[dead] += own[:, 1] - own[:, 0]
    Hm[dead] += own[:, 2 + p : 2 + 2 * p] - own[:, 2 : 2 + p]
    resid = -e[:, None] * (X * H[:, None] - Hm)
    resid[dead] += X[dead] - own[:, 2 + 2 * p :]
    return _information(terms), resid
