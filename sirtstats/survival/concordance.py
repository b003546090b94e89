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

#: Death rows compared with every row at once (memory: this many × n booleans per mask).
_CHUNK = 512

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


def _pairs_stratum(t, e, r):
    """Pair counts (5) and per-row counts of pairs each row is part of (n × 5)."""
    n = len(t)
    imat = np.zeros((n, 5))
    counts = np.zeros(5)
    deaths = np.flatnonzero(e == 1)
    idx = np.arange(n)
    for lo in range(0, len(deaths), _CHUNK):
        d = deaths[lo:lo + _CHUNK]
        ti, ri = t[d][:, None], r[d][:, None]
        same_t = t[None, :] == ti
        longer = (t[None, :] > ti) | (same_t & (e[None, :] == 0))
        tied_d = same_t & (e[None, :] == 1) & (idx[None, :] != d[:, None])
        higher, lower, equal = ri > r[None, :], ri < r[None, :], ri == r[None, :]
        for k, mask in enumerate((longer & higher, longer & lower, longer & equal)):
            imat[d, k] += mask.sum(axis=1)  # the event's side of each pair
            imat[:, k] += mask.sum(axis=0)  # the longer time's side
            counts[k] += mask.sum()
        for k, mask in ((3, tied_d & ~equal), (4, tied_d & equal)):
            imat[d, k] += mask.sum(axis=1)  # each tied pair is seen from both events
            counts[k] += mask.sum() / 2
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
