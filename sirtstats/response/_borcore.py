"""Array kernels of the best overall response (:mod:`sirtstats.response.bor`), issue #17.

Segment operations over rows sorted by group (patient x criterion x scope) and day: first
qualifying row per group, rows before / after a flagged row of the same group, confirmation by
binary search (``np.searchsorted``) instead of ``pd.merge_asof`` and ``groupby``. The rules
are those of R1.9 (docs/rules/response.md; RECIST 1.1, Eisenhauer et al., Eur J Cancer
2009;45:228-247, section 4.4; D4-D6) exactly as :mod:`.bor` states them; this module only
computes them faster. Each kernel takes the pandas path when the groups are not contiguous.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BIG = np.iinfo(np.int64).max


def _group_starts(gid: np.ndarray) -> np.ndarray:
    """True at the first row of each run of equal ``gid``."""
    start = np.ones(len(gid), dtype=bool)
    if len(gid) > 1:
        np.not_equal(gid[1:], gid[:-1], out=start[1:])
    return start


def is_sorted(gid: np.ndarray) -> bool:
    """Whether ``gid`` is non-decreasing (each group's rows are contiguous)."""
    return len(gid) < 2 or bool((gid[1:] >= gid[:-1]).all())


def first_pos(mask: np.ndarray, gid: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group: the first row (position) where ``mask`` holds, :data:`BIG` when none."""
    out = np.full(n_groups, BIG, dtype=np.int64)
    idx = np.flatnonzero(mask)
    if not len(idx):
        return out
    if not is_sorted(gid):
        s = pd.Series(idx).groupby(gid[idx]).min()
        out[s.index.to_numpy()] = s.to_numpy()
        return out
    g = gid[idx]
    first = _group_starts(g)
    out[g[first]] = idx[first]
    return out


def _first_row(gid: np.ndarray) -> np.ndarray:
    """Position of the first row of each row's group (contiguous groups)."""
    n = len(gid)
    return np.maximum.accumulate(np.where(_group_starts(gid), np.arange(n), 0))


def count_before(mask: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """Rows of the same group before each row where ``mask`` holds (groups contiguous)."""
    if not len(mask):
        return np.zeros(0, dtype=np.int64)
    if not is_sorted(gid):
        return pd.Series(mask).groupby(gid).cumsum().to_numpy() - mask
    cs = np.cumsum(mask, dtype=np.int64)
    before = cs - mask
    return before - before[_first_row(gid)]


def earlier(mask: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """True where an earlier row of the same group has ``mask`` True (rows sorted by group)."""
    n = len(mask)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    if not is_sorted(gid):
        cm = pd.Series(mask).groupby(gid).cummax().to_numpy(bool)
        out[1:] = cm[:-1] & (gid[1:] == gid[:-1])
        return out
    last = np.maximum.accumulate(np.where(mask, np.arange(n), -1))
    out[1:] = last[:-1] >= _first_row(gid)[1:]
    return out


def later(mask: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """True where a later row of the same group has ``mask`` True (rows sorted by group)."""
    if not is_sorted(gid):
        rev = pd.Series(mask[::-1]).groupby(gid[::-1]).cummax().to_numpy(bool)[::-1]
        shifted = np.zeros(len(mask), dtype=bool)
        if len(mask) > 1:
            shifted[:-1] = rev[1:] & (gid[1:] == gid[:-1])
        return shifted
    return earlier(mask[::-1], -gid[::-1])[::-1]


def confirming_rows(i: np.ndarray, cand: np.ndarray, gid: np.ndarray, day: np.ndarray,
                    min_gap: int) -> np.ndarray:
    """For rows ``i``: the first candidate row (positions ``cand``, increasing) of the same
    group dated at least ``min_gap`` days later; -1 when none.

    Rows sorted by group and day (days unique within a group), as ``pd.merge_asof(...,
    by=group, direction="forward")`` on ``day + min_gap``.
    """
    if not len(cand) or not len(i):
        return np.full(len(i), -1, dtype=np.int64)
    if not is_sorted(gid):
        return None
    lo = int(day.min())
    span = int(day.max()) - lo + int(min_gap) + 2
    key = gid.astype(np.int64) * span + (day - lo)
    at = np.searchsorted(key[cand], key[i] + int(min_gap), side="left")
    j = cand[np.minimum(at, len(cand) - 1)]
    ok = (at < len(cand)) & (gid[j] == gid[i])
    return np.where(ok, j, -1)


def same_day_ranks(resp: np.ndarray, ranks: dict) -> np.ndarray:
    """Rank of each code (``ranks[code]``), -1 for missing or unknown values."""
    codes, uniq = pd.factorize(resp, use_na_sentinel=True)
    table = np.array([ranks.get(u, -1) if isinstance(u, str) else -1 for u in uniq] + [-1],
                     dtype=np.int64)
    return table[codes]
