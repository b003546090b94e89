"""Standardised mean differences and the balance table (cobalt conventions)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["balance_table", "smd"]

THRESHOLD = 0.1


def _wmean(x, w):
    return float(np.sum(w * x) / np.sum(w))


def smd(x, treated, weights=None, *, binary: bool = False) -> float:
    """Standardised mean difference, treated − control.

    Numerator: (weighted) group means. Denominator: pooled SD of the UNWEIGHTED sample,
    sqrt((s1² + s0²)/2), s² the sample variance (ddof = 1), or p(1−p) for a 0/1 variable
    (cobalt ``s.d.denom="pooled"``, ``binary="std"``), so weighting changes only the numerator.
    """
    x = np.asarray(x, dtype=float)
    t = np.asarray(treated).astype(int)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    if binary:
        v = [x[t == g].mean() * (1 - x[t == g].mean()) for g in (1, 0)]
    else:
        v = [np.var(x[t == g], ddof=1) for g in (1, 0)]
    den = np.sqrt((v[0] + v[1]) / 2)
    m1, m0 = _wmean(x[t == 1], w[t == 1]), _wmean(x[t == 0], w[t == 0])
    return float((m1 - m0) / den) if den > 0 else float("nan")


def balance_table(df: pd.DataFrame, treated, covariates: Sequence[str],
                  weights: dict | None = None, threshold: float = THRESHOLD) -> pd.DataFrame:
    """SMD before and after each weighting/matching, one row per numeric covariate or level.

    Rows with a missing covariate value are left out of that covariate's SMD.
    ``weights`` maps a label (e.g. ``"IPTW ATE"``) to a weight vector aligned with ``df``;
    columns ``smd_unadjusted``, ``smd_<label>`` and ``balanced_<label>`` (|SMD| < threshold).
    """
    t = np.asarray(treated).astype(int)
    weights = weights or {}
    rows = []
    for c in covariates:
        s = df[c]
        ok = s.notna().to_numpy()
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            items = [(c, "", s.to_numpy(dtype=float), False)]
        else:
            items = [(c, str(lv), (s == lv).to_numpy(dtype=float), True)
                     for lv in sorted(s.dropna().unique(), key=str)]
        for var, lv, x, b in items:
            row = {"variable": var, "level": lv,
                   "smd_unadjusted": smd(x[ok], t[ok], binary=b)}
            for k, w in weights.items():
                w = np.asarray(w, dtype=float)
                row[f"smd_{k}"] = smd(x[ok], t[ok], w[ok], binary=b)
                row[f"balanced_{k}"] = bool(abs(row[f"smd_{k}"]) < threshold)
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["settings"] = {"denominator": "pooled SD of the unweighted sample (cobalt)",
                             "threshold": threshold}
    return out
