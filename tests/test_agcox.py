"""Counting-process Cox core (D78) and concordance pair counts against direct definitions.

The references below are the plain definitions, one event time or one pair at a time (the
code that ran before D78): the fast cumulative-sum and merge-level versions must agree with
them on random data with tied times, tied scores, weights and left-truncated intervals.
"""

import numpy as np
import pytest

from sirtstats.survival._agcox import ag_information_and_residuals, fit_ag_cox
from sirtstats.survival.concordance import _pairs_stratum


def _by_event_time(X, beta, start, stop, status, w):
    """Efron information and score residuals, one event time at a time (R agscore3)."""
    e = np.exp(X @ beta)
    r = w * e
    info = np.zeros((X.shape[1], X.shape[1]))
    resid = np.where(status[:, None] == 1, X, 0.0)
    for t in np.unique(stop[status == 1]):
        risk = (start < t) & (stop >= t)
        dead = (stop == t) & (status == 1)
        nd = int(dead.sum())
        s0, s1 = r[risk].sum(), r[risk] @ X[risk]
        s2 = (X[risk] * r[risk, None]).T @ X[risk]
        d0, d1 = r[dead].sum(), r[dead] @ X[dead]
        d2 = (X[dead] * r[dead, None]).T @ X[dead]
        meanwt = w[dead].mean()
        frac = np.arange(nd) / nd
        a0 = s0 - frac * d0
        means = (s1[None, :] - frac[:, None] * d1[None, :]) / a0[:, None]
        for k in range(nd):
            info += meanwt * ((s2 - frac[k] * d2) / a0[k] - np.outer(means[k], means[k]))
        h = meanwt / a0
        alive = risk & ~dead
        resid[alive] -= e[alive, None] * (X[alive] * h.sum() - h @ means)
        hd = (1 - frac) * h
        resid[dead] -= means.mean(axis=0)
        resid[dead] -= e[dead, None] * (X[dead] * hd.sum() - hd @ means)
    return info, resid


def _score(X, beta, start, stop, status, w):
    """Efron score vector, one event time at a time."""
    r = w * np.exp(X @ beta)
    u = np.zeros(X.shape[1])
    for t in np.unique(stop[status == 1]):
        risk = (start < t) & (stop >= t)
        dead = (stop == t) & (status == 1)
        nd = int(dead.sum())
        frac = np.arange(nd) / nd
        a0 = r[risk].sum() - frac * r[dead].sum()
        means = (r[risk] @ X[risk] - frac[:, None] * (r[dead] @ X[dead])) / a0[:, None]
        u += w[dead] @ X[dead] - w[dead].mean() * means.sum(axis=0)
    return u


def _random_intervals(rng, n, p, kind):
    X = rng.normal(size=(n, p))
    X[:, 0] = rng.integers(0, 2, n)  # a binary covariate, as an exposure
    start = rng.integers(0, 5, n).astype(float)
    if kind == "right-censored":
        start[:] = -np.inf  # how the clustered SE of the centres calls it
    stop = start + rng.integers(1, 12, n) if kind != "right-censored" else rng.integers(1, 25, n)
    status = (rng.random(n) < 0.6).astype(float)
    w = rng.random(n) + 0.2
    return X, start, stop.astype(float), status, w


@pytest.mark.parametrize("kind", ["counting-process", "right-censored"])
@pytest.mark.parametrize("seed", range(8))
def test_information_and_residuals_match_one_event_time_at_a_time(kind, seed):
    rng = np.random.default_rng(seed)
    X, start, stop, status, w = _random_intervals(
        rng, int(rng.integers(5, 300)), 1 + seed % 3, kind
    )
    beta = rng.normal(size=X.shape[1]) * 0.4
    info, resid = ag_information_and_residuals(X, beta, start, stop, status, w)
    ref_info, ref_resid = _by_event_time(X, beta, start, stop, status, w)
    np.testing.assert_allclose(info, ref_info, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(resid, ref_resid, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_fit_is_where_the_score_vanishes(seed):
    rng = np.random.default_rng(100 + seed)
    X, start, stop, status, w = _random_intervals(rng, 250, 2, "counting-process")
    beta, converged = fit_ag_cox(X, start, stop, status, w)
    assert converged
    assert np.abs(_score(X, beta, start, stop, status, w)).max() < 1e-8
    assert np.abs(_score(X, np.zeros(2), start, stop, status, w)).max() > 1e-3  # not trivial


def test_score_residuals_sum_to_zero_at_the_fit():
    # at the maximum the weighted score residuals sum to the score, 0
    rng = np.random.default_rng(7)
    X, start, stop, status, w = _random_intervals(rng, 200, 2, "counting-process")
    beta, _ = fit_ag_cox(X, start, stop, status, w)
    _, resid = ag_information_and_residuals(X, beta, start, stop, status, w)
    np.testing.assert_allclose((w[:, None] * resid).sum(axis=0), 0, atol=1e-8)


def _pairs_by_definition(t, e, r):
    """Pair counts and per-row counts, pair by pair (the definition of compute_concordance)."""
    n = len(t)
    imat, counts = np.zeros((n, 5)), np.zeros(5)
    for i in range(n):
        if e[i] != 1:
            continue
        for j in range(n):
            if j == i:
                continue
            if t[j] > t[i] or (t[j] == t[i] and e[j] == 0):
                k = 0 if r[i] > r[j] else 1 if r[i] < r[j] else 2
                imat[i, k] += 1
                imat[j, k] += 1
                counts[k] += 1
            elif t[j] == t[i] and e[j] == 1:
                imat[i, 3 if r[i] != r[j] else 4] += 1
                counts[3 if r[i] != r[j] else 4] += 0.5  # seen from both events
    return counts, imat


@pytest.mark.parametrize("seed", range(40))
def test_concordance_pairs_match_the_pair_by_pair_definition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    t = rng.integers(1, 10, n).astype(float) if seed % 2 else rng.exponential(5, n)
    e = (rng.random(n) < rng.random()).astype(float)
    r = rng.integers(0, 4, n).astype(float) if seed % 3 else rng.normal(size=n)
    counts, imat = _pairs_stratum(t, e, r)
    ref_counts, ref_imat = _pairs_by_definition(t, e, r)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(imat, ref_imat)
