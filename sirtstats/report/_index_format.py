"""How the summary page spells its numbers: percentages and months with their CI, counts, deltas.

Part of :mod:`sirtstats.report.index_html` (import from there): the single place where the
page's numbers are spelled.
"""

from __future__ import annotations

import math

__all__ = ["format_count_pct", "format_delta", "format_months_ci", "format_pct_ci"]


#: En dash between CI bounds, minus sign for negative deltas (typographic, as journals print).
EN_DASH = "\u2013"
MINUS = "\u2212"
#: What the page prints for a median (or bound) not reached.
NOT_REACHED = "NR"
#: What the page prints for a number the notebooks did not record.
MISSING = "\u2014"


def _num(value) -> float | None:
    """``value`` as a finite float, or None (None, NaN, inf, bool, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _fixed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    if text.startswith("-"):
        text = MINUS + text[1:]
    return text


def format_pct_ci(pct, lower=None, upper=None, *, digits: int = 1) -> str:
    """A percentage with its CI as the report prints it: ``"21.4 % (16.8–26.5)"``.

    Parameters
    ----------
    pct : float or None
        Estimate in % (0-100).
    lower, upper : float or None
        CI bounds in %; the CI is left out when either is missing.
    digits : int, default 1
        Decimals.

    Returns
    -------
    str
        ``"—"`` when ``pct`` is missing.

    Examples
    --------
    >>> format_pct_ci(21.3559322, 16.81846094, 26.47900566)
    '21.4 % (16.8–26.5)'
    >>> format_pct_ci(3.0821, None, 5.77)
    '3.1 %'
    """
    pct, lower, upper = _num(pct), _num(lower), _num(upper)
    if pct is None:
        return MISSING
    text = f"{_fixed(pct, digits)} %"
    if lower is not None and upper is not None:
        text += f" ({_fixed(lower, digits)}{EN_DASH}{_fixed(upper, digits)})"
    return text


def format_months_ci(median, lower=None, upper=None, *, digits: int = 1) -> str:
    """A median time in months with its CI: ``"15.2 months (13.3–16.6)"``, ``"NR"``.

    A median (or upper bound) that the Kaplan-Meier curve does not reach is None or NaN in the
    metrics and prints as "NR" (not reached).

    Parameters
    ----------
    median : float or None
        Median in months; None/NaN = not reached.
    lower, upper : float or None
        CI bounds in months; None/NaN = not reached.
    digits : int, default 1
        Decimals.

    Returns
    -------
    str

    Examples
    --------
    >>> format_months_ci(15.17864476, 13.30595483, 16.59137577)
    '15.2 months (13.3–16.6)'
    >>> format_months_ci(18.04, 12.5, None)
    '18.0 months (12.5–NR)'
    >>> format_months_ci(None, None, None)
    'NR'
    >>> format_months_ci(None, 20.0, None)
    'NR (20.0–NR)'
    """
    median, lower, upper = _num(median), _num(lower), _num(upper)
    head = NOT_REACHED if median is None else f"{_fixed(median, digits)} months"
    if lower is None:
        return head
    hi = NOT_REACHED if upper is None else _fixed(upper, digits)
    return f"{head} ({_fixed(lower, digits)}{EN_DASH}{hi})"


def format_count_pct(n, pct, *, digits: int = 1) -> str:
    """A count with its percentage: ``"45 (15.3 %)"``.

    Examples
    --------
    >>> format_count_pct(45, 15.25423729)
    '45 (15.3 %)'
    >>> format_count_pct(4, None)
    '4'
    """
    n, pct = _num(n), _num(pct)
    if n is None:
        return MISSING
    text = f"{int(n):,}".replace(",", "\u2009")
    return text if pct is None else f"{text} ({_fixed(pct, digits)} %)"


#: Unit of a delta per quantity kind ("pct" and "prop" are both shown in %).
_DELTA_UNITS = {"pct": "pp", "prop": "pp", "months": "months", "count": ""}


def format_delta(previous, current, kind: str, *, digits: int = 1) -> str:
    """The change between two reports, rounded as the values are shown, with its unit.

    Parameters
    ----------
    previous, current : float
        The two values (``prop`` in 0-1, ``pct`` in %, ``months``, ``count``).
    kind : {"pct", "prop", "months", "count"}
        Quantity kind: percentages change by percentage points ("pp").
    digits : int, default 1
        Decimals (counts: none).

    Returns
    -------
    str
        ``"+0.6 pp"``, ``"−1.2 months"``, ``"+15"``, ``"no change"`` when the rounded values are
        equal, ``"—"`` when either is missing.

    Examples
    --------
    >>> format_delta(21.36, 22.0, "pct")
    '+0.6 pp'
    >>> format_delta(0.5886, 0.5587, "prop")
    '−3.0 pp'
    >>> format_delta(15.18, 14.01, "months")
    '−1.2 months'
    >>> format_delta(280, 295, "count")
    '+15'
    >>> format_delta(21.36, 21.41, "pct")
    'no change'
    """
    if kind not in _DELTA_UNITS:
        raise ValueError(f"The 'kind' argument of format_delta must be one of "
                         f"{sorted(_DELTA_UNITS)}. Got {kind!r} instead.")
    previous, current = _num(previous), _num(current)
    if previous is None or current is None:
        return MISSING
    scale = 100.0 if kind == "prop" else 1.0
    digits = 0 if kind == "count" else digits
    delta = round(current * scale, digits) - round(previous * scale, digits)
    delta = round(delta, digits)
    if delta == 0:
        return "no change"
    sign = "+" if delta > 0 else MINUS
    number = f"{abs(delta):,.{digits}f}".replace(",", "\u2009")
    unit = _DELTA_UNITS[kind]
    return f"{sign}{number} {unit}".rstrip()


def _format_value(value, kind: str) -> str:
    """One value of the changes table (no CI)."""
    if kind == "prop":
        value = _num(value)
        return format_pct_ci(None if value is None else 100 * value)
    if kind == "pct":
        return format_pct_ci(value)
    if kind == "months":
        return format_months_ci(value)
    return format_count_pct(value, None)


def _format_generic(value) -> str:
    """A number or text of the "other key numbers" list: 3 significant digits, no exponent."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u2009")
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        if value.is_integer() and abs(value) < 1e15:
            return _format_generic(int(value))
        if abs(value) >= 100:
            return _fixed(value, 1)
        if abs(value) >= 1:
            return f"{value:.3g}".replace("-", MINUS)
        return _fixed(value, 3)
    if isinstance(value, list):
        return ", ".join(_format_generic(v) for v in value) if value else MISSING
    return str(value)
