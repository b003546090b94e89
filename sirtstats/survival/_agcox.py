"""Weighted counting-process Cox model, Efron ties, by risk-set cumulative sums.

Private module of :mod:`sirtstats.survival` (used by :mod:`~sirtstats.survival.finegray`,
the time-dependent Cox model of :mod:`~sirtstats.survival.landmark`, the subgroup forest and
the clustered SE of :mod:`sirtstats.comparative`). The sums over the risk set
{start < t <= stop} at each event time t are the sums over {stop >= t} minus the sums over
{start >= t}, each a suffix cumulative sum of the rows sorted by stop or by start: one pass
over the rows instead of one full-length mask per event time (decision D78).

Efron ties as R ``agfit4`` / ``agscore3`` (survival 3.5): at an event time with d tied
events the k-th (k = 0..d-1) denominator removes k/d of the tied events' weighted risk and
every term is weighted by the mean case weight of the tied events (``wtave``); a tied event
is at risk for a fraction 1 - k/d of the k-th term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "AgCoxFit",
    "EventTerms",
    "ag_information_and_residuals",
    "fit_ag_cox",
    "fit_ag_cox_summary",
]

#: Newton-Raphson stops when the next step moves no coefficient by more than this (log-HR)
#: and takes that step: convergence is quadratic, so the result is then at rounding level
#: (at 100,000 rows the score itself carries rounding of about 1e-10, so a smaller bound
#: would never be met).
_STEP_TOL = 1e-9
_MAX_ITER = 50
#: A step is halved when it lowers the log partial likelihood by more than this fraction of
#: it: closer to the maximum the likelihood cannot tell steps apart (rounding), the score can.
_LOGLIK_NOISE = 1e-11


class _Layout:
    """What does not depend on the coefficients: the event times, the rows' sort orders and
    where each event time falls in them, and the Efron terms (E = number of events)."""

    def __init__(self, start, stop, status, w):
        self.dead = status == 1
        self.times, dead_time = np.unique(stop[self.dead], return_inverse=True)
        m = len(self.times)
        self.stop_order = np.argsort(stop, kind="stable")
        self.stop_at = np.searchsorted(stop[self.stop_order], self.times, side="left")
        self.start_order = np.argsort(start, kind="stable")
        self.start_at = np.searchsorted(start[self.start_order], self.times, side="left")
        # the tied events of each event time, one block each, in row order within a block
        self.dead_rows = np.flatnonzero(self.dead)[np.argsort(dead_time, kind="stable")]
        nd = np.bincount(dead_time, minlength=m)
        self.block_start = np.concatenate([[0], np.cumsum(nd)[:-1]])
        self.wtave = np.bincount(dead_time, weights=w[self.dead], minlength=m) / nd
        self.term_time = np.repeat(np.arange(m), nd)
        self.frac = (np.arange(len(self.term_time)) - self.block_start[self.term_time]) / nd[
            self.term_time
        ]
        self.dead_time = np.full(len(stop), -1)
        self.dead_time[self.dead] = dead_time


def _suffix_sums(order: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the rows from sorted position ``a`` on, for every ``a`` in ``at``."""
    tail = np.cumsum(values[order][::-1], axis=0)[::-1]
    tail = np.concatenate([tail, np.zeros((1, values.shape[1]))], axis=0)
    return tail[at]


class EventTerms:
    """Per event time and per Efron term, the sums the likelihood, score and residuals need.

    Attributes (m event times, E = number of events, p covariates): ``layout`` (the
    :class:`_Layout`), ``a0`` (E,) Efron denominators, ``means`` (E, p), ``s2`` / ``d2``
    (m, p, p) risk-set and tied-event weighted sums of x x'.
    """

    def __init__(self, layout: _Layout, X, r):
        m, p = len(layout.times), X.shape[1]
        rx = r[:, None] * X
        rxx = rx[:, :, None] * X[:, None, :]
        packed = np.concatenate([r[:, None], rx, rxx.reshape(len(r), p * p)], axis=1)
        risk = _suffix_sums(layout.stop_order, layout.stop_at, packed) - _suffix_sums(
            layout.start_order, layout.start_at, packed
        )
        tied = (
            np.add.reduceat(packed[layout.dead_rows], layout.block_start, axis=0)
            if m
            else np.zeros((0, packed.shape[1]))
        )
        j, f = layout.term_time, layout.frac
        self.layout = layout
        self.a0 = risk[j, 0] - f * tied[j, 0]
        self.means = (risk[j, 1 : 1 + p] - f[:, None] * tied[j, 1 : 1 + p]) / self.a0[:, None]
        self.s2 = risk[:, 1 + p :].reshape(m, p, p)
        self.d2 = tied[:, 1 + p :].reshape(m, p, p)


def _loglik_score_information(X, beta, layout: _Layout, w):
    terms = EventTerms(layout, X, w * np.exp(X @ beta))
    dead = layout.dead
    wt = layout.wtave[layout.term_time]
    loglik = float(w[dead] @ (X[dead] @ beta) - wt @ np.log(terms.a0))
    score = w[dead] @ X[dead] - wt @ terms.means
    return loglik, score, _information(terms)


def _information(terms: EventTerms) -> np.ndarray:
    """sum over terms of wtave (a2 / a0 - means means'), a2 = s2 - frac d2."""
    layout = terms.layout
    wt = layout.wtave[layout.term_time]
    inv = wt / terms.a0
    per_time = np.add.reduceat(np.column_stack([inv, inv * layout.frac]), layout.block_start)
    s2_part = np.einsum("m,mij->ij", per_time[:, 0], terms.s2)
    d2_part = np.einsum("m,mij->ij", per_time[:, 1], terms.d2)
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
    return _fit(X, _Layout(start, stop, status, w), w)


def _fit(X, layout: _Layout, w) -> tuple[np.ndarray, bool]:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # a diverging fit (monotone likelihood) overflows exp(X beta): halved, then reported
        return _newton_raphson(X, layout, w)


def _newton_raphson(X, layout: _Layout, w) -> tuple[np.ndarray, bool]:
    beta = np.zeros(X.shape[1])
    loglik, score, info = _loglik_score_information(X, beta, layout, w)
    for _ in range(_MAX_ITER):
        step = np.linalg.solve(info, score)
        if np.max(np.abs(step)) < _STEP_TOL:
            return beta + step, True
        new = _loglik_score_information(X, beta + step, layout, w)
        halvings = 0
        # a worse likelihood (beyond rounding) or an overflow: halve the step, as agfit4
        while not new[0] >= loglik - _LOGLIK_NOISE * abs(loglik) and halvings < 30:
            step = step / 2
            new = _loglik_score_information(X, beta + step, layout, w)
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
    layout = _Layout(start, stop, status, w)
    e = np.exp(X @ beta)
    terms = EventTerms(layout, X, w * e)
    p = X.shape[1]
    h = layout.wtave[layout.term_time] / terms.a0
    hd = (1 - layout.frac) * h
    # per event time: H, HD, Hm (p), HDm (p), mean of the terms' means (p)
    per_term = np.column_stack(
        [h, hd, h[:, None] * terms.means, hd[:, None] * terms.means, terms.means]
    )
    per_time = np.add.reduceat(per_term, layout.block_start, axis=0)
    per_time[:, 2 + 2 * p :] /= np.diff(np.r_[layout.block_start, len(h)])[:, None]
    cum = np.concatenate(
        [np.zeros((1, 1 + p)), np.cumsum(per_time[:, [0, *range(2, 2 + p)]], axis=0)]
    )
    lo = np.searchsorted(layout.times, start, side="right")
    hi = np.searchsorted(layout.times, stop, side="right")
    window = cum[hi] - cum[lo]  # sums of H and Hm over the event times in (start, stop]
    H, Hm = window[:, 0], window[:, 1:]
    dead = layout.dead
    own = per_time[layout.dead_time[dead]]
    H[dead] += own[:, 1] - own[:, 0]
    Hm[dead] += own[:, 2 + p : 2 + 2 * p] - own[:, 2 : 2 + p]
    resid = -e[:, None] * (X * H[:, None] - Hm)
    resid[dead] += X[dead] - own[:, 2 + 2 * p :]
    return _information(terms), resid


@dataclass(frozen=True)
class AgCoxFit:
    """Coefficients, model-based SEs (R ``sqrt(diag(fit$var))``), the observed information
    (the inverse of R ``fit$var``), log partial likelihood at the estimate (R
    ``fit$loglik[2]``) and whether Newton-Raphson converged."""

    coef: np.ndarray
    se: np.ndarray
    information: np.ndarray
    loglik: float
    converged: bool


def fit_ag_cox_summary(X, start, stop, status, w=None) -> AgCoxFit:
    """:func:`fit_ag_cox` with the model-based SEs and the log partial likelihood.

    Right-censored data: ``start = -inf`` for every row (R ``coxph(Surv(time, status) ~ x)``);
    ``w`` defaults to 1. Raises ``numpy.linalg.LinAlgError`` for a singular information
    matrix (collinear covariates, no event).
    """
    w = np.ones(len(stop)) if w is None else w
    layout = _Layout(start, stop, status, w)
    coef, converged = _fit(X, layout, w)
    loglik, _, info = _loglik_score_information(X, coef, layout, w)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    return AgCoxFit(coef=coef, se=se, information=info, loglik=loglik, converged=converged)
