"""Small helpers shared by the demo generator modules (days, draws, ids)."""

from __future__ import annotations

import numpy as np
import pandas as pd

EPOCH = np.datetime64("1970-01-01", "D")


def to_day(date) -> int:
    """Day number (days since 1970-01-01) of a date-like value."""
    return int((np.datetime64(pd.Timestamp(date).date(), "D") - EPOCH).astype(np.int64))


def days_to_datetime(days) -> np.ndarray:
    """datetime64[ns] array from day numbers (NaN / <NA> become NaT)."""
    d = np.asarray(pd.array(days, dtype="Float64").to_numpy(dtype=float, na_value=np.nan))
    out = np.full(d.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(d)
    out[ok] = (EPOCH + d[ok].astype(np.int64)).astype("datetime64[ns]")
    return out


def minutes_to_datetime(minutes) -> np.ndarray:
    """datetime64[ns] array from minutes since 1970-01-01 (NaN become NaT)."""
    m = np.asarray(minutes, dtype=float)
    out = np.full(m.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(m)
    out[ok] = (np.datetime64("1970-01-01T00:00", "m") + m[ok].astype(np.int64)).astype(
        "datetime64[ns]")
    return out


def choice(rng: np.random.Generator, options, probs, size) -> np.ndarray:
    """Vectorised categorical draw; ``probs`` may be 1-D or one row per draw (2-D)."""
    options = np.asarray(options, dtype=object)
    p = np.asarray(probs, dtype=float)
    if p.ndim == 1:
        p = p / p.sum()
        return options[rng.choice(len(options), size=size, p=p)]
    p = p / p.sum(axis=1, keepdims=True)
    u = rng.random(p.shape[0])[:, None]
    idx = (u > np.cumsum(p, axis=1)).sum(axis=1)
    return options[np.minimum(idx, len(options) - 1)]


def lognormal_median(rng: np.random.Generator, median, sigma, size) -> np.ndarray:
    """Lognormal draws with the given median and log-scale SD."""
    return np.asarray(median, dtype=float) * np.exp(sigma * rng.standard_normal(size))


def uniform(rng: np.random.Generator, low, high, size) -> np.ndarray:
    """Uniform draws on [low, high)."""
    return rng.uniform(low, high, size)


def randint(rng: np.random.Generator, low, high, size) -> np.ndarray:
    """Integer draws on [low, high] (both inclusive; arrays allowed)."""
    low = np.asarray(low)
    high = np.asarray(high)
    return np.floor(low + rng.random(size) * (high - low + 1)).astype(np.int64)


def expit(x):
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def ids(prefix: pd.Series | np.ndarray, sep: str, numbers, width: int = 0) -> np.ndarray:
    """Concatenate string prefixes with (zero-padded) numbers: ``P00001`` + ``-S`` + ``2``."""
    nums = pd.Series(np.asarray(numbers, dtype=np.int64)).astype(str)
    if width:
        nums = nums.str.zfill(width)
    return (pd.Series(np.asarray(prefix, dtype=object)).astype(str) + sep + nums).to_numpy(
        dtype=object)


def none_where(values, mask) -> np.ndarray:
    """Object array with None where ``mask`` is True."""
    out = np.asarray(values, dtype=object).copy()
    out[np.asarray(mask, dtype=bool)] = None
    return out


def nan_where(values, mask) -> np.ndarray:
    """Float array with NaN where ``mask`` is True."""
    out = np.asarray(values, dtype=float).copy()
    out[np.asarray(mask, dtype=bool)] = np.nan
    return out


def bump(t, peak):
    """Gamma-shaped bump: 0 at t <= 0, maximum 1 at ``t = peak``, slow decay afterwards."""
    x = np.clip(np.asarray(t, dtype=float), 0, None) / np.asarray(peak, dtype=float)
    return x * np.exp(1.0 - x)
