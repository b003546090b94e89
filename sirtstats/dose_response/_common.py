"""Shared checks, constants and bootstrap helpers of the dose-response statistics."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sirtstats._checks import match_choice, require_columns
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

__all__ = [
    "DEFAULT_SEED",
    "MIN_CLUSTERS",
    "MIN_EVENTS",
    "RESPONDER_CODES",
]


#: Default seed of every bootstrap (the notebooks pass their own ``seed`` parameter).
DEFAULT_SEED = 20261127

#: Lesion/overall response codes counted as objective response (RECIST 1.1 / mRECIST).
RESPONDER_CODES: tuple[str, ...] = ("CR", "PR")

#: Lesion/overall responses that are evaluable (anything else -> outcome unknown).
_EVALUABLE_CODES: tuple[str, ...] = ("CR", "PR", "SD", "NON_CR_NON_PD", "PD")

#: Below this many events (or non-events), or clusters, a SirtStatsWarning is issued.
MIN_EVENTS = 10
MIN_CLUSTERS = 20

_BOOTSTRAP_CHUNK = 64
_IRLS_MAX_ITER = 60
_IRLS_TOL = 1e-10
_SEPARATION_BOUND = 40.0  # |coefficient| on the standardised dose scale


# --------------------------------------------------------------------------------------------
# argument and data checks
# --------------------------------------------------------------------------------------------
_check_choice = match_choice  # keywords are matched case-insensitively (style.md section 5)


def _check_int(value, argument, function, *, minimum):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(
            f"The '{argument}' argument of {function} must be an int >= {minimum}. "
            f"Got {value!r} instead."
        )
    return int(value)


def _check_alpha(alpha, function):
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValueError(
            f"The 'alpha' argument of {function} must be a float in (0, 1). "
            f"Got {alpha!r} instead."
        )
    return float(alpha)


def _require_columns(df, columns, function):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{function} expects a DataFrame as 'df'. Got {type(df).__name__}.")
    require_columns(df, [c for c in columns if c is not None], "df", function)


def _binary(series: pd.Series, column: str, function: str) -> np.ndarray:
    """0/1 float array with NaN for missing; bool, boolean and 0/1 numbers are accepted."""
    if pd.api.types.is_bool_dtype(series) or str(series.dtype) == "boolean":
        return series.astype("float64").to_numpy(dtype=float, na_value=np.nan)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(values) & ~np.isin(values, (0.0, 1.0))
    bad |= series.notna().to_numpy() & np.isnan(values)
    if bad.any():
        shown = ", ".join(repr(v) for v in series[bad].head(3))
        raise SirtDataError(
            f"{function}: {int(bad.sum())} values of '{column}' are not binary (True/False or "
            f"1/0); got {shown}. Derive the binary outcome first, e.g. with "
            f"derive_lesion_dose_response().",
            column=column,
            rule=f"{column} in {{0, 1}}",
            rows=series[bad].to_frame(),
        )
    return values


@dataclass(frozen=True)
class _Data:
    dose: np.ndarray
    y: np.ndarray
    codes: np.ndarray
    n_clusters: int
    n_excluded: int


def _prepare(df, dose_col, response_col, cluster_col, function) -> _Data:
    _require_columns(df, [dose_col, response_col, cluster_col], function)
    dose = pd.to_numeric(df[dose_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    negative = dose < 0
    if negative.any():
        raise SirtDataError(
            f"{function}: {int(negative.sum())} values of '{dose_col}' are negative; an "
            f"absorbed dose is >= 0 Gy.",
            column=dose_col,
            rule=f"{dose_col} >= 0",
            rows=df.loc[negative],
        )
    y = _binary(df[response_col], response_col, function)
    keep = ~np.isnan(dose) & ~np.isnan(y)
    if cluster_col is not None:
        keep &= df[cluster_col].notna().to_numpy()
        codes = pd.factorize(df.loc[keep, cluster_col])[0]
    else:
        codes = np.arange(int(keep.sum()))
    n_clusters = int(codes.max()) + 1 if len(codes) else 0
    return _Data(dose[keep], y[keep], codes, n_clusters, int((~keep).sum()))


def _check_enough(data: _Data, function: str, check_type: str = "error") -> bool:
    """Warn about small data; return False (after raising or warning) without both outcomes."""
    n_pos = int(data.y.sum())
    n_neg = len(data.y) - n_pos
    if n_pos == 0 or n_neg == 0:
        message = (
            f"{function}: needs both outcomes; got {n_pos} events and {n_neg} non-events among "
            f"{len(data.y)} complete rows ({data.n_excluded} excluded for missing values)."
        )
        if check_type == "error":
            raise SirtDataError(message, rule="at least one event and one non-event")
        warnings.warn(message + " Nothing is estimated (NaN results).", SirtStatsWarning,
                      stacklevel=3)
        return False
    if min(n_pos, n_neg) < MIN_EVENTS:
        warnings.warn(
            f"{function}: only {min(n_pos, n_neg)} {'events' if n_pos < n_neg else 'non-events'}"
            f" (< {MIN_EVENTS}); estimates and CIs are unstable.",
            SirtStatsWarning,
            stacklevel=3,
        )
    if data.n_clusters < MIN_CLUSTERS:
        warnings.warn(
            f"{function}: only {data.n_clusters} clusters (< {MIN_CLUSTERS}); cluster-robust "
            f"and cluster-bootstrap CIs are unreliable.",
            SirtStatsWarning,
            stacklevel=3,
        )
    return True


_NAN2 = (np.nan, np.nan)


def _range(values: np.ndarray) -> tuple[float, float]:
    return (float(values.min()), float(values.max())) if len(values) else _NAN2


def _arrays_digest(*arrays: np.ndarray) -> str:
    """Hex digest of the dtypes, shapes and bytes of ``arrays`` (the key of a kept result)."""
    import hashlib

    digest = hashlib.blake2b(digest_size=20)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


#: The cluster counts last drawn: (seed, n_clusters) -> [generator, counts drawn so far].
#: One entry only (bounded memory); the AUC, Youden and rate CIs of one group share it.
_COUNTS: dict = {}
_COUNTS_LOCK = threading.Lock()


def _bootstrap_counts(seed: int, n_clusters: int, stop: int) -> np.ndarray:
    """The first ``stop`` cluster-bootstrap draws of ``default_rng(seed)`` (``stop`` x clusters).

    Row ``i`` is the ``i``-th multinomial draw (``n_clusters`` clusters drawn with equal
    probability; entry = times the cluster is drawn) of the generator's stream, whatever the
    chunks they are drawn in (numpy draws a ``size=m`` multinomial as ``m`` consecutive
    draws). The draws are kept for the last (seed, n_clusters), so that the bootstraps of one
    group (AUC, Youden threshold, rates: same seed, same clusters) draw them once; the
    multinomial is most of a bootstrap's cost (one binomial draw per cluster and replicate).
    """
    key = (int(seed), int(n_clusters))
    with _COUNTS_LOCK:
        entry = _COUNTS.get(key)
        if entry is None:
            _COUNTS.clear()
            entry = _COUNTS[key] = [np.random.default_rng(seed),
                                    np.empty((0, n_clusters), dtype=np.min_scalar_type(n_clusters))]
        rng, counts = entry
        if len(counts) < stop:
            p = np.full(n_clusters, 1.0 / n_clusters)
            more = [counts]
            for start in range(len(counts), stop, _BOOTSTRAP_CHUNK):
                size = min(_BOOTSTRAP_CHUNK, stop - start)
                more.append(rng.multinomial(n_clusters, p, size=size).astype(counts.dtype))
            counts = entry[1] = np.vstack(more)
        return counts[:stop]


def _cluster_weights(seed: int, codes: np.ndarray, n_clusters: int, start: int, size: int):
    """Observation weights of cluster-bootstrap replicates ``start`` to ``start + size - 1``.

    Weight = times the row's cluster is drawn (float, ``size`` x rows); replicate ``i`` is the
    ``i``-th draw of ``default_rng(seed)`` (:func:`_bootstrap_counts`).
    """
    counts = _bootstrap_counts(seed, n_clusters, start + size)[start:]
    return counts.astype(float)[:, codes]


def _percentile_ci(values: np.ndarray, alpha: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (np.nan, np.nan)
    low, high = np.percentile(values, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return (float(low), float(high))


