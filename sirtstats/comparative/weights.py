"""IPTW (ATE, ATT), overlap weights and the Kish effective sample size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import check_choice

__all__ = ["compute_weights", "kish_ess"]


def compute_weights(ps, treated, *, estimand: str = "ATE", stabilise: bool = True,
                    trim: tuple[float, float] | None = None,
                    truncate: tuple[float, float] | None = None) -> np.ndarray:
    """Propensity-score weights.

    ATE: 1/ps (treated), 1/(1-ps) (control); stabilised × P(T=1), × P(T=0) (sample
    proportions; Xu et al., Value Health 2010). ATT: 1 (treated), ps/(1-ps) (control);
    stabilised × P(T=0)/P(T=1) so control weights sum to about n_control. Overlap (ATO):
    1-ps (treated), ps (control); never stabilised (Li, Morgan & Zaslavsky, JASA 2018).

    Parameters
    ----------
    ps, treated : array-like
        Propensity scores in (0, 1) and the 0/1 exposure.
    estimand : {"ATE", "ATT", "overlap"}
    stabilise : bool
    trim : (lower, upper) percentiles, optional
        Units whose ps lies outside these percentiles of ps (all units) get weight 0.
    truncate : (lower, upper) percentiles, optional
        Weights are capped at these percentiles of the weights (all units with weight > 0).
        Percentiles use numpy's linear interpolation (R quantile type 7).

    Returns
    -------
    ndarray of float
    """
    check_choice(estimand, ("ATE", "ATT", "overlap"), "estimand", "compute_weights")
    ps = np.asarray(ps, dtype=float)
    t = np.asarray(treated).astype(int)
    p1 = t.mean()
    if estimand == "ATE":
        w = np.where(t == 1, 1 / ps, 1 / (1 - ps))
        if stabilise:
            w = w * np.where(t == 1, p1, 1 - p1)
    elif estimand == "ATT":
        w = np.where(t == 1, 1.0, ps / (1 - ps))
        if stabilise:
            w = np.where(t == 1, w, w * (1 - p1) / p1)
    else:
        w = np.where(t == 1, 1 - ps, ps)
    if trim is not None:
        lo, hi = np.percentile(ps, trim)
        w = np.where((ps < lo) | (ps > hi), 0.0, w)
    if truncate is not None:
        pos = w > 0
        lo, hi = np.percentile(w[pos], truncate)
        w = np.where(pos, np.clip(w, lo, hi), 0.0)
    return w


def kish_ess(weights, treated) -> pd.Series:
    """Kish effective sample size (Σw)² / Σw² per group (index 0 = control, 1 = treated)."""
    w = np.asarray(weights, dtype=float)
    t = np.asarray(treated).astype(int)
    return pd.Series({g: w[t == g].sum() ** 2 / (w[t == g] ** 2).sum() for g in (0, 1)},
                     name="ess")
