"""Harrell's concordance with its standard error, as R survival ``concordance()`` (public entry:
sirtstats.survival).

Implements docs/rules/statistics.md (Cox model summaries): the concordance of a risk score
with survival (higher score = shorter survival, R's ``concordance.coxph``), the counts of
concordant, discordant and tied pairs, and the infinitesimal-jackknife variance of R survival
≥ 3.0 (``concordancefit``, default ``timewt = "n"``, no case weights).

References: Harrell FE et al. JAMA 1982;247:2543–2546. Therneau TM, Atkinson E. "Concordance"
(vignette of R survival 3.x). therneau/survival ``R/concordance.R``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtDataError
from sirtstats.survival._common import _timefix

__all__ = ["ConcordanceResult", "compute_concordance"]

_COUNTS = ("concordant", "discordant", "tied_risk", "tied_time", "tied_both")


@dataclass(frozen=True)
class ConcordanceResult:
    """Concordance, its standard error and the pair counts (R ``concordance()``).

    Attributes
    ----------
    concordance : float
        (concordant + tied_risk / 2) / (concordant + discordant + tied_risk); NaN without a
        comparable pair.
    se : float
        Standard error (R ``sqrt(concordance(fit)$var)``, infinitesimal jackknife).
    concordant, discordant, tied_risk, tied_time, tied_both : int
        Pairs (R ``count``: ``concordant``, ``discordant``, ``tied.x``, ``tied.y``,
        ``tied.xy``), summed over strata. A pair is comparable when the shorter time is an
        event and the other time is longer, or equal and censored; it is concordant when the
        event has the higher risk score. ``tied_time``/``tied_both``: two events at the same
        time with different/equal scores (not in the concordance).
    n : int
        Rows used.
    """

    concordance: float
    se: float
    concordant: int
    discordant: int
    tied_risk: int
    tied_time: int
    tied_both: int
    n: int

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row DataFrame."""
        return pd.DataFrame([{name: getattr(self, name) for name in
                              ("concordance", "se", *_COUNTS, "n")}])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _count_later(q_key, q_rank, p_key, p_rank):
    """Per query, the points with a larger key and a lower, equal, higher rank (n_q × 3).

    Offline 2-D dominance counting by bottom-up merge levels: the queries and points are laid
    out by key (points first within a key, so that an equal key never counts); at each level
    a query in the left half of a block counts the points in the right half by rank with two
    binary searches. Every pair (query, later point) is split at exactly one level, so the
    counts are exact integers in O(n log² n).
    """
    n_q = len(q_key)
    key = np.concatenate([q_key, p_key])
    is_point = np.r_[np.zeros(n_q, bool), np.ones(len(p_key), bool)]
    rank = np.concatenate([q_rank, p_rank]).astype(np.int64)
    order = np.lexsort((~is_point, key))  # by key, points before queries at a tie
    pos = np.empty(len(key), dtype=np.int64)
    pos[order] = np.arange(len(key))
    width = int(rank.max(initial=0)) + 2
    out = np.zeros((n_q, 3), dtype=np.int64)
    qpos, qrank = pos[:n_q], rank[:n_q]
    ppos, prank = pos[n_q:], rank[n_q:]
    size = 1
    while size < len(key):
        q_left = (qpos // size) % 2 == 0
        p_right = (ppos // size) % 2 == 1
        block_q = qpos[q_left] // (2 * size)
        right = np.sort(ppos[p_right] // (2 * size) * width + prank[p_right])
        base = block_q * width
        lo = np.searchsorted(right, base + qrank[q_left], side="left")
        hi = np.searchsorted(right, base + qrank[q_left], side="right")
        first = np.searchsorted(right, base, side="left")
        last = np.searchsorted(right, base + width, side="left")
        out[q_left] += np.column_stack([lo - first, hi - lo, last - hi])
        size *= 2
    return out


def _pairs_stratum(t, e, r):
    """Pair counts (5) and per-row counts of pairs each row is part of (n × 5).

    A death (time t) is compared with every row of key (time, censored) greater than (t, 0):
    a longer time, or the same time censored. Ranks and keys are integers, so every count is
    exact.
    """
    n = len(t)
    imat = np.zeros((n, 5))
    deaths = np.flatnonzero(e == 1)
    t_rank = np.unique(t, return_inverse=True)[1].reshape(-1)
    key = 2 * t_rank + (e != 1)
    r_rank = np.unique(r, return_inverse=True)[1].reshape(-1)
    # the death's side: partners with a lower (concordant), higher, equal risk
    mine = _count_later(key[deaths], r_rank[deaths], key, r_rank)
    imat[deaths, 0], imat[deaths, 1], imat[deaths, 2] = mine[:, 0], mine[:, 2], mine[:, 1]
    # the longer time's side: deaths of smaller key with a higher (concordant), lower, equal risk
    theirs = _count_later(-key, r_rank, -key[deaths], r_rank[deaths])
    imat[:, 0] += theirs[:, 2]
    imat[:, 1] += theirs[:, 0]
    imat[:, 2] += theirs[:, 1]
    # events at the same time: tied on time only, or on time and risk
    same_t = np.bincount(t_rank[deaths], minlength=n)[t_rank[deaths]]
    both = pd.Series(np.ones(len(deaths))).groupby(
        [t_rank[deaths], r_rank[deaths]]).transform("size").to_numpy()
    imat[deaths, 3] = same_t - both
    imat[deaths, 4] = both - 1
    counts = np.r_[mine.sum(axis=0)[[0, 2, 1]], imat[deaths, 3:].sum(axis=0) / 2]
    return counts, imat


def compute_concordance(
    time: Sequence[float] | np.ndarray | pd.Series,
    event: Sequence[float] | np.ndarray | pd.Series,
    risk: Sequence[float] | np.ndarray | pd.Series,
    *,
    strata: Sequence | np.ndarray | pd.Series | None = None,
    timefix: bool = True,
) -> ConcordanceResult:
    """Harrell's concordance of a risk score with survival, with its SE and pair counts.

    Parameters
    ----------
    time : array-like of float
        Follow-up times (≥ 0, any unit).
    event : array-like of 0/1
        1 = event, 0 = censored.
    risk : array-like of float
        Risk score, higher = shorter expected survival (e.g. a Cox linear predictor).
    strata : array-like, optional
        Pairs are formed within strata only and pooled (R ``strata()``).
    timefix : bool, default True
        R's ``timefix`` merging of near-tied times.

    Returns
    -------
    ConcordanceResult
        Concordance, standard error and pair counts.

    Raises
    ------
    SirtDataError
        Inputs of different lengths or with missing values.

    Notes
    -----
    With C, D, T the concordant, discordant and risk-tied comparable pairs (N = C + D + T),
    Somers' d = (C − D)/N and the concordance is (d + 1)/2. Its variance is R's
    infinitesimal jackknife: with C_i, D_i, T_i the pairs of each kind that row i is part
    of, ``dfbeta_i = (C_i − D_i)/N − d (C_i + D_i + T_i)/N`` and ``var = Σ dfbeta_i² / 4``.
    Pairs of events at the same time count as ``tied_time``/``tied_both`` and are not
    comparable.

    References
    ----------
    Harrell FE et al. JAMA 1982;247:2543–2546. R survival ``concordance``/``concordancefit``.

    Examples
    --------
    >>> from sirtstats.survival import compute_concordance
    >>> res = compute_concordance([1, 2, 3, 4], [1, 1, 0, 1], [3, 1, 2, 0])
    >>> res.concordant, res.discordant, res.tied_risk, round(res.concordance, 4)
    (4, 1, 0, 0.8)
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    r = np.asarray(risk, dtype=float)
    codes = np.zeros(len(t), dtype=int) if strata is None else pd.factorize(
        pd.Series(np.asarray(strata)), sort=True)[0]
    if not (len(t) == len(e) == len(r) == len(codes)):
        raise SirtDataError("compute_concordance: time, event, risk and strata must have the "
                            f"same length. Got {len(t)}, {len(e)}, {len(r)}, {len(codes)}.",
                            rule="equal lengths")
    bad = np.isnan(t) | np.isnan(e) | np.isnan(r) | (codes < 0)
    if bad.any():
        raise SirtDataError(f"compute_concordance: {int(bad.sum())} rows with a missing time, "
                            "event, risk or stratum.", rule="no missing values")
    if timefix and len(t):
        (t,) = _timefix(t)
    counts = np.zeros(5)
    imat = np.zeros((len(t), 5))
    for code in np.unique(codes):
        sel = np.flatnonzero(codes == code)
        c, im = _pairs_stratum(t[sel], e[sel], r[sel])
        counts += c
        imat[sel] = im
    npair = counts[:3].sum()
    if npair > 0:
        somer = (counts[0] - counts[1]) / npair
        dfbeta = (imat[:, 0] - imat[:, 1]) / npair - somer / npair * imat[:, :3].sum(axis=1)
        conc, se = (somer + 1) / 2, float(np.sqrt(np.sum(dfbeta ** 2) / 4))
    else:
        conc, se = float("nan"), float("nan")
    c = [int(round(v)) for v in counts]
    return ConcordanceResult(concordance=float(conc), se=se, concordant=c[0], discordant=c[1],
                             tied_risk=c[2], tied_time=c[3], tied_both=c[4], n=len(t))
