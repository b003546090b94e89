"""Shared pieces of the response engine: rule constants, argument checks, exact arithmetic.

Every threshold of RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247) and mRECIST
(Lencioni & Llovet, Semin Liver Dis 2010;30:52-60) used by :mod:`sirtstats.response` is defined
once here, with the rule id of docs/rules/ it comes from.

Exact arithmetic (R0, docs/rules/response.md): diameters are converted to integers in a common
decimal scale (tenths of a mm when every diameter has at most one decimal; hundredths, ... up
to 10⁻⁶ mm otherwise) and every threshold is a cross-multiplied integer inequality, e.g. PR is
``(B − C) × 10 ≥ 3 × B``. Diameters with more than six decimals fall back to exact rationals
(:class:`fractions.Fraction` of the decimal the float prints as) held as Python integers over a
common denominator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

import numpy as np
import pandas as pd

from sirtstats._checks import _braced
from sirtstats.exceptions import SirtDataError

# --------------------------------------------------------------------------------------------
# Rules as data
# --------------------------------------------------------------------------------------------

#: Criterion names as stored in the registry (lesion_measurements.criterion).
CRITERIA: tuple[str, ...] = ("RECIST_1_1", "mRECIST")

#: Response scopes (R4.2, docs/rules/response.md, R4.2).
SCOPES: tuple[str, ...] = ("overall", "hepatic", "treated")

#: Timepoint response codes (R0, docs/rules/response.md). ``NON_CR_NON_PD`` is displayed "IR/SD"
#: under mRECIST (R2.3) but stored with one code.
RESPONSE_CODES: tuple[str, ...] = ("CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE")

#: BOR codes: timepoint codes plus ``ND`` (only not-done assessments; with
#: ``include_nd=True``, as admiralonco) and ``MISSING`` (no post-baseline assessment, R1.9.2
#: rule 7).
BOR_CODES: tuple[str, ...] = (*RESPONSE_CODES, "ND", "MISSING")

#: BOR codes counted as disease control / clinical benefit by default (R1.10; admiralonco
#: ``derive_param_clinbenefit(clinben_vals = c("CR", "PR", "SD", "NON-CR/NON-PD"))``).
DISEASE_CONTROL_CODES: tuple[str, ...] = ("CR", "PR", "SD", "NON_CR_NON_PD")

#: New-lesion status codes (R1.7.2).
NEW_LESION_CODES: tuple[str, ...] = ("NO", "YES", "EQUIVOCAL")

#: R1.4.1: PD needs the sum to rise by at least PD_REL_NUM/PD_REL_DEN (= 20 %) over the nadir ...
PD_REL_NUM, PD_REL_DEN = 1, 5
#: ... and (RECIST 1.1) by at least 5 mm.
PD_ABS_MM = 5
#: R1.4.3: PR needs a decrease of at least PR_REL_NUM/PR_REL_DEN (= 30 %) from baseline.
PR_REL_NUM, PR_REL_DEN = 3, 10
#: R1.4.2 / R1.1: a lymph node is non-pathological when its short axis is below 10 mm.
NODE_NORMAL_BELOW_MM = 10
#: R1.1: a lymph node is measurable (may be a target) when its short axis is at least 15 mm.
NODE_MEASURABLE_MM = 15
#: R1.1: a non-nodal lesion is measurable when its longest diameter is at least 10 mm (CT/MRI
#: slice thickness <= 5 mm); with thicker slices the minimum is twice the slice thickness.
LESION_MEASURABLE_MM = 10
#: R1.1: slice thickness (mm) above which the minimum measurable size is 2 x slice thickness.
SLICE_THICKNESS_LIMIT_MM = 5
#: R1.3.2: value used for a lesion that is present but too small to measure.
TOO_SMALL_MM = 5
#: R1.2.1: at most 5 targets in total and 2 per organ (liver = one organ, all nodes = one organ).
MAX_TARGETS_TOTAL = 5
MAX_TARGETS_PER_ORGAN = 2
#: R2.4.1: under mRECIST a porta hepatis node is malignant only with short axis >= 20 mm.
MRECIST_HILAR_NODE_MM = 20
#: R2.4.4 / D12: a new intrahepatic nodule counts as HCC at >= 10 mm with the typical pattern,
#: or (atypical) after interval growth of >= 10 mm.
HCC_NEW_LESION_MIN_MM = 10
HCC_ATYPICAL_GROWTH_MM = 10
#: R1.9.1 / D6: SD minimum duration from the origin (days, inclusive).
SD_MIN_DAYS = 42
#: R1.9.3: confirmation at least 28 days after the response was first met (inclusive).
CONFIRM_MIN_DAYS = 28
#: R1.9.3 / D5: at most one NE between response and confirmation; SD between not accepted.
MAX_NE_BETWEEN = 1
#: D5: with ``accept_sd_between``, at most this many SD between a PR and its confirmation
#: (admiralonco ``derive_param_confirmed_bor``: ``max_nr_sd <- 1`` when ``accept_sd = TRUE``).
MAX_SD_BETWEEN = 1

#: R1.8.1 — overall response for patients WITH targets, after the two PD short-cuts
#: (new lesion YES -> PD; target or non-target PD -> PD). Key: (target, non-target); None =
#: no non-target disease. Anything not listed -> NE.
OVERALL_WITH_TARGETS: dict[tuple[str, str | None], str] = {
    ("CR", "CR"): "CR",
    ("CR", None): "CR",
    ("CR", "NON_CR_NON_PD"): "PR",
    ("CR", "NE"): "PR",
    ("PR", "CR"): "PR",
    ("PR", None): "PR",
    ("PR", "NON_CR_NON_PD"): "PR",
    ("PR", "NE"): "PR",
    ("SD", "CR"): "SD",
    ("SD", None): "SD",
    ("SD", "NON_CR_NON_PD"): "SD",
    ("SD", "NE"): "SD",
    ("NE", "CR"): "NE",
    ("NE", None): "NE",
    ("NE", "NON_CR_NON_PD"): "NE",
    ("NE", "NE"): "NE",
}

#: R1.8.2 — overall response for patients WITHOUT targets (non-target disease only).
OVERALL_NONTARGET_ONLY: dict[str, str] = {"CR": "CR", "NON_CR_NON_PD": "NON_CR_NON_PD",
                                          "NE": "NE"}

#: Severity used to combine several non-target lesions (R1.6): the worst wins; a lesion not
#: assessed (NE) outranks a persisting one because the category cannot be decided.
NONTARGET_SEVERITY: dict[str, int] = {"CR": 0, "NON_CR_NON_PD": 1, "NE": 2, "PD": 3}

#: Lesion measurement states (lesion_measurements.state) and the value each contributes.
STATES: tuple[str, ...] = ("measured", "too_small", "disappeared", "merged", "not_assessed")


# --------------------------------------------------------------------------------------------
# Argument and column checks
# --------------------------------------------------------------------------------------------


def check_choice(value, allowed: Iterable[str], argument: str, function: str) -> str:
    """Return the canonical spelling of ``value`` (matched case-insensitively) or raise."""
    allowed = tuple(allowed)
    if isinstance(value, str):
        for a in allowed:
            if value.lower() == a.lower():
                return a
    raise ValueError(
        f"The {argument!r} argument of {function} must be one of {_braced(allowed)}. "
        f"Got {value!r} instead."
    )


def check_nonneg_int(value, argument: str, function: str) -> int:
    """Validate a non-negative integer option (days, counts)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(
            f"The {argument!r} argument of {function} must be a non-negative integer. "
            f"Got {value!r} instead."
        )
    return int(value)


def check_bool(value, argument: str, function: str) -> bool:
    """Validate a boolean option."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(
            f"The {argument!r} argument of {function} must be True or False. "
            f"Got {value!r} instead."
        )
    return bool(value)


def require_columns(df: pd.DataFrame, columns: Iterable[str], table: str, function: str) -> None:
    """Raise :class:`SirtDataError` when ``df`` lacks one of ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{function}: {table} must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SirtDataError(
            f"{table}: missing required column(s) {missing} (needed by {function}).",
            table=table, column=missing[0], rule="required column",
        )


_DAY_NS = 86_400_000_000_000


def to_dates(series: pd.Series, table: str, column: str) -> pd.Series:
    """Return ``series`` as datetime64[ns] normalised to the day; raise on unparseable values."""
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series
        if getattr(out.dt, "tz", None) is None and out.dtype == "datetime64[ns]":
            ints = out.to_numpy().view(np.int64)
            nat = np.isnat(out.to_numpy())
            if np.all(nat | (ints % _DAY_NS == 0)):
                return out  # already whole days: nothing to do (fast path)
    else:
        out = pd.to_datetime(series, errors="coerce")
        bad = out.isna() & series.notna()
        if bad.any():
            raise SirtDataError(
                f"{table}.{column}: {int(bad.sum())} value(s) are not dates; first: "
                f"{series[bad].head(3).tolist()}.",
                table=table, column=column, rule="ISO date", rows=series[bad].to_frame())
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[ns]")


def first_keys(rows: pd.DataFrame, keys: list[str], n: int = 3) -> str:
    """Format the first ``n`` keys of ``rows`` for an error message (pseudonymous keys only)."""
    parts = []
    for rec in rows[keys].head(n).itertuples(index=False):
        vals = [v.date().isoformat() if isinstance(v, pd.Timestamp) else str(v) for v in rec]
        parts.append("(" + ", ".join(vals) + ")")
    return ", ".join(parts)


def as_bool(series: pd.Series) -> np.ndarray:
    """True where ``series`` is True (missing -> False)."""
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def as_str(series: pd.Series) -> np.ndarray:
    """Object array of stripped strings with missing as None."""
    s = series.astype(object)
    return s.where(s.notna(), None).to_numpy(dtype=object)


# --------------------------------------------------------------------------------------------
# Exact arithmetic
# --------------------------------------------------------------------------------------------

_MAX_DECIMALS = 6


def exact_scale(values: np.ndarray) -> int:
    """Common scale (integer units per mm) that turns every finite value into an integer.

    The smallest ``10**k`` with k <= 6 when it exists; otherwise (more than six decimals) the
    least common denominator of the decimals the floats print as (rational fallback).

    Parameters
    ----------
    values : ndarray of float
        Diameters in mm (NaN allowed, ignored).

    Returns
    -------
    int
        The scale, e.g. 10 for diameters with at most one decimal.

    Examples
    --------
    >>> import numpy as np
    >>> exact_scale(np.array([33.0, 23.1, np.nan]))
    10
    >>> exact_scale(np.array([32.32, 21.0]))
    100
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    for k in range(_MAX_DECIMALS + 1):
        s = 10**k
        x = v * s
        if np.all(np.abs(x - np.round(x)) <= 1e-9 * np.maximum(1.0, np.abs(x))):
            return s
    den = 1
    for x in np.unique(v):
        d = Fraction(repr(float(x))).denominator
        den = den * d // math.gcd(den, d)
    return den


def _is_small_power_of_ten(scale: int) -> bool:
    return scale in {10**k for k in range(_MAX_DECIMALS + 1)}


def to_exact(values: np.ndarray, scale: int | None = None) -> tuple[np.ndarray, int]:
    """Convert diameters (mm) to exact integers in a common scale.

    Parameters
    ----------
    values : ndarray of float
        Diameters in mm; NaN entries become 0 (callers keep their own missing mask).
    scale : int, optional
        Scale to use (from :func:`exact_scale` over a superset of ``values``); computed when
        omitted.

    Returns
    -------
    ints : ndarray
        int64 when the scale is a power of ten <= 10**6, else an object array of Python ints
        (exact rationals over the common denominator).
    scale : int
        Integer units per mm.

    Examples
    --------
    >>> import numpy as np
    >>> ints, scale = to_exact(np.array([33.0, 23.1]))
    >>> ints.tolist(), scale
    ([330, 231], 10)
    """
    v = np.asarray(values, dtype=float)
    if scale is None:
        scale = exact_scale(v)
    finite = np.isfinite(v)
    if _is_small_power_of_ten(scale):
        out = np.zeros(v.shape, dtype=np.int64)
        out[finite] = np.round(v[finite] * scale).astype(np.int64)
        return out, scale
    out = np.empty(v.shape, dtype=object)
    out[:] = 0
    for i in np.flatnonzero(finite):
        fr = Fraction(repr(float(v[i]))) * scale
        if fr.denominator != 1:
            raise ValueError(f"value {v[i]!r} is not a multiple of 1/{scale} mm")
        out[i] = fr.numerator
    return out, scale


def exact_to_float(ints: np.ndarray, scale: int) -> np.ndarray:
    """Exact integers back to mm as float (for display only)."""
    return np.asarray(ints, dtype=float) / float(scale)


def pd_condition(current, nadir, *, scale: int, requires_abs: bool) -> np.ndarray:
    """R1.4.1 / R2.2 PD test on exact integers (vectorised).

    ``rel = (N == 0 and C > 0) or (N > 0 and (C − N) × 5 ≥ N)``; with ``requires_abs`` also
    ``C − N ≥ 5 mm`` (docs/rules/response.md ``pd_condition``).
    """
    c = current
    n = nadir
    diff = c - n
    rel = ((n == 0) & (c > 0)) | ((n > 0) & (diff * PD_REL_DEN >= n * PD_REL_NUM))
    if requires_abs:
        rel = rel & (diff >= PD_ABS_MM * scale)
    return np.asarray(rel, dtype=bool)


def pr_condition(current, baseline) -> np.ndarray:
    """R1.4.3 PR test: ``(B − C) × 10 ≥ 3 × B`` on exact integers (vectorised)."""
    return np.asarray((baseline - current) * PR_REL_DEN >= baseline * PR_REL_NUM, dtype=bool)


def group_cummin_exclusive(values: np.ndarray, valid: np.ndarray, groups: np.ndarray):
    """Minimum of ``values[valid]`` over the EARLIER rows of each group (rows pre-sorted).

    Works for int64 and for object arrays of Python ints (via dense ranks). Returns
    ``(minimum, has_minimum)``; rows without an earlier valid value have ``has_minimum`` False.
    """
    n = len(values)
    if n == 0:
        return values.copy(), np.zeros(0, dtype=bool)
    if values.dtype == object:
        uniq, inv = np.unique(values, return_inverse=True)
        ranks = inv.astype(np.int64)
    else:
        uniq, ranks = None, values.astype(np.int64)
    sentinel = np.iinfo(np.int64).max
    r = np.where(valid, ranks, sentinel)
    cm = pd.Series(r).groupby(groups, sort=False).cummin().to_numpy()
    prev = np.empty(n, dtype=np.int64)
    prev[0] = sentinel
    prev[1:] = cm[:-1]
    first = np.ones(n, dtype=bool)
    first[1:] = groups[1:] != groups[:-1]
    prev[first] = sentinel
    has = prev != sentinel
    if uniq is None:
        out = np.where(has, prev, 0)
    else:
        out = np.empty(n, dtype=object)
        out[:] = 0
        out[has] = uniq[prev[has]]
    return out, has


def fmt_mm(x: float) -> str:
    """Format a diameter for rule texts: no trailing zeros (34, 23.1, 32.32)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "?"
    return f"{round(float(x), 6):g}"


def fmt_pct(x: float) -> str:
    """Format a percent change with sign and one decimal (display rounding only, §0)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    s = f"{x:+.1f}"
    return ("+0.0" if s == "-0.0" else s) + " %"


def fmt_dmm(x: float) -> str:
    """Format a signed difference in mm for rule texts (+6 mm, -2.5 mm)."""
    if x is None or not math.isfinite(x):
        return "? mm"
    return ("+" if x >= 0 else "") + fmt_mm(x) + " mm"


def isin(values, options) -> np.ndarray:
    """Element-wise membership for object arrays of codes (faster than np.isin on objects)."""
    arr = np.asarray(values, dtype=object)
    options = list(options)
    if len(options) > 2 and arr.size > 1000:  # one hash pass beats several comparisons
        return pd.Series(arr.ravel()).isin(options).to_numpy().reshape(arr.shape)
    out = np.zeros(arr.shape, dtype=bool)
    for opt in options:
        out |= arr == opt
    return out


def code_of(values, options) -> np.ndarray:
    """Integer code of each value: its position in ``options``; -1 for missing, -2 unknown."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    lookup = np.array([options.index(u) if u in options else -2 for u in uniq] + [-1],
                      dtype=np.int64)
    return lookup[codes]
