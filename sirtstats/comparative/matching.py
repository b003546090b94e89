"""1:1 nearest-neighbour matching on the logit of the propensity score with a caliper."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["match_nearest"]


def match_nearest(logit_ps, treated, *, caliper_sd: float = 0.2, seed: int = 0,
                  index=None) -> pd.DataFrame:
    """Greedy 1:1 nearest-neighbour matching without replacement.

    Treated units are visited in a random order drawn from ``numpy.random.default_rng(seed)``
    (MatchIt ``m.order="random"``); each takes the available control with the smallest
    |logit difference| (ties: first in data order) if within the caliper, caliper_sd × SD of
    the logit over all units (ddof = 1; Austin, Pharm Stat 2011;10:150-161).

    Returns
    -------
    DataFrame
        Index = ``index`` (default 0..n-1); ``treated``, ``pair`` (int, -1 unmatched),
        ``weight`` (1 matched, 0 not). ``attrs["caliper"]`` holds the caliper on the logit.
    """
    x = np.asarray(logit_ps, dtype=float)
    t = np.asarray(treated).astype(int)
    caliper = caliper_sd * np.std(x, ddof=1)
    pair = np.full(len(x), -1)
    avail = t == 0
    order = np.flatnonzero(t == 1)
    order = order[np.random.default_rng(seed).permutation(len(order))]
    k = 0
    for i in order:
        cand = np.flatnonzero(avail)
        if len(cand) == 0:
            break
        dist = np.abs(x[cand] - x[i])
        j = cand[int(np.argmin(dist))]
        if dist.min() <= caliper:
            pair[i] = pair[j] = k
            avail[j] = False
            k += 1
    out = pd.DataFrame({"treated": t, "pair": pair, "weight": (pair >= 0).astype(float)},
                       index=index)
    out.attrs["caliper"] = caliper
    return out
