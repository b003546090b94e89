"""Couinaud segments of the demo registry's lesions and new lesions (issue 15, R4.3).

The sessions already record their territory and segments (``_core.make_sessions``: single
lobe, both lobes, sector/segmental, and staged right-then-left lobe 4-8 weeks apart). Here each
liver lesion gets a segment consistent with its lobe and with ``in_treated_territory`` (a
treated lesion lies in a segment some session of its patient treated, an untreated one in a
segment none treated), and each intrahepatic new lesion a segment consistent with
``new_lesion_in_treated_territory`` at its visit. Where no segment can agree with the flag
(an "untreated" lesion in a fully treated liver), the segment is left empty. The draws use their
own random stream so the rest of the registry is unchanged.

Segment sets are 8-bit masks (bit ``s - 1`` = segment ``s``), vectorised over lesions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.demo._common import EPOCH
from sirtstats.territory import (
    LEFT_LOBE_SEGMENTS,
    RIGHT_LOBE_SEGMENTS,
    TERRITORY_SEGMENTS,
    compute_segments,
)

__all__ = ["add_territory_segments"]

_ALL = 0xFF
_UNKNOWN = -1


def _mask(segments) -> int:
    return sum(1 << (s - 1) for s in segments)


_RIGHT, _LEFT = _mask(RIGHT_LOBE_SEGMENTS), _mask(LEFT_LOBE_SEGMENTS)
#: For each mask 0..255: its segments in order (padded with 0) and their number.
_BITS = np.array([[s for s in range(1, 9) if m >> (s - 1) & 1] + [0] * (8 - bin(m).count("1"))
                  for m in range(256)], dtype=np.int64)
_COUNT = np.array([bin(m).count("1") for m in range(256)], dtype=np.int64)


def _injection_masks(treatments: pd.DataFrame) -> np.ndarray:
    """Segment mask of each injection (recorded segments, else implied; -1 unknown)."""
    text = treatments["couinaud_segments"].astype(object)
    uniq = pd.unique(text.dropna())
    parsed = dict(zip(uniq, compute_segments(pd.Series(uniq, dtype=object)), strict=True))
    rec = np.array([_mask(parsed[t]) if t in parsed else _UNKNOWN for t in text],
                   dtype=np.int64)
    implied = np.array([_UNKNOWN if TERRITORY_SEGMENTS.get(t) is None
                        else _mask(TERRITORY_SEGMENTS[t]) for t in treatments["territory"]],
                       dtype=np.int64)
    return np.where(rec >= 0, rec, implied)


def _union_before(pidx, day, inj_pidx, inj_day, inj_mask) -> np.ndarray:
    """Per query (patient index, day): OR of the injection masks on or before ``day``.

    -1 when one of those injections has unknown segments; 0 when none was given yet.
    """
    q = pd.DataFrame({"p": pidx, "day": day, "q": np.arange(len(pidx))})
    inj = pd.DataFrame({"p": inj_pidx, "inj_day": inj_day, "m": inj_mask})
    j = q.merge(inj, on="p", how="inner")
    j = j.loc[j["inj_day"] <= j["day"]]
    out = np.zeros(len(pidx), dtype=np.int64)
    known = j.loc[j["m"] >= 0]
    np.bitwise_or.at(out, known["q"].to_numpy(), known["m"].to_numpy(np.int64))
    out[j.loc[j["m"] < 0, "q"].to_numpy()] = _UNKNOWN
    return out


def _patient_union(pidx, inj_pidx, inj_mask, n_pat) -> np.ndarray:
    """OR of every injection mask of each patient (-1 when one is unknown)."""
    known = inj_mask >= 0
    u = np.zeros(n_pat, dtype=np.int64)
    np.bitwise_or.at(u, inj_pidx[known], inj_mask[known])
    bad = np.zeros(n_pat, dtype=bool)
    bad[inj_pidx[~known]] = True
    return np.where(bad, _UNKNOWN, u)[pidx]


def _pick(rng, masks: np.ndarray) -> np.ndarray:
    """One random segment (text) of each mask; None for an empty or unknown mask."""
    ok = masks > 0
    m = np.where(ok, masks, 0)
    k = (rng.random(len(masks)) * np.maximum(_COUNT[m], 1)).astype(np.int64)
    seg = _BITS[m, np.minimum(k, 7)]
    return np.where(ok, seg.astype(str), None).astype(object)


def add_territory_segments(P: pd.DataFrame, L: pd.DataFrame, A: pd.DataFrame,
                           treatments: pd.DataFrame, rng: np.random.Generator):
    """Return ``(L, A)`` with ``couinaud_segments`` and ``new_lesion_segments`` (text).

    ``L``: the demo lesion frame (``pi``, ``organ``, ``lobe``, ``in_treated_territory``);
    ``A``: the assessment frame (``pi``, ``day``, ``new_lesion_site``,
    ``new_lesion_in_treated_territory``); ``treatments``: the treatments table.
    """
    n_pat = len(P)
    pos = pd.Index(P["patient_id"]).get_indexer(treatments["patient_id"])
    inj_mask = _injection_masks(treatments)
    inj_day = (treatments["treatment_date"].to_numpy("datetime64[D]") - EPOCH).astype(np.int64)

    # lesions: treated -> a treated segment of the lesion's lobe; untreated -> an untreated one
    lp = L["pi"].to_numpy()
    done = _patient_union(lp, pos, inj_mask, n_pat)
    lobe = L["lobe"].to_numpy(dtype=object)
    own = np.where(lobe == "right", _RIGHT, np.where(lobe == "left", _LEFT, _ALL))
    treated = L["in_treated_territory"].to_numpy(dtype=bool)
    d = np.maximum(done, 0)
    t_mask = np.where((d & own) > 0, d & own, d)
    u_mask = np.where((own & ~d & _ALL) > 0, own & ~d & _ALL, ~d & _ALL)
    mask = np.where(treated, t_mask, u_mask)
    liver = (L["organ"].to_numpy(dtype=object) == "liver") & (done > 0)
    L = L.assign(couinaud_segments=np.where(liver, _pick(rng, mask), None).astype(object))

    # new lesions: in-field -> a segment treated by the visit; out-of-field -> one not treated
    ap = A["pi"].to_numpy()
    site = A["new_lesion_site"].to_numpy(dtype=object)
    flag = pd.Series(A["new_lesion_in_treated_territory"]).astype("boolean")
    q = (site == "intrahepatic") & flag.notna().to_numpy()
    segs = np.full(len(A), None, dtype=object)
    if q.any():
        at = _union_before(ap[q], A["day"].to_numpy(np.int64)[q], pos, inj_day, inj_mask)
        fl = flag.to_numpy(dtype=bool, na_value=False)[q]
        m = np.where(at > 0, np.where(fl, at, ~at & _ALL), 0)
        segs[q] = _pick(rng, m)
    return L, A.assign(new_lesion_segments=segs)

