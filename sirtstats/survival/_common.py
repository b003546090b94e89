"""Private helpers shared by the survival modules (not public API; import from sirtstats.survival).

R's time tolerance and ``aeqSurv`` near-tie merging (:func:`_timefix`), the argument and column
checks every survival function starts with, and the guarantee-time guard
(:func:`check_guarantee_time`, R5.6.1 in docs/rules/endpoints.md) that the Kaplan–Meier,
log-rank and Cox entry points call before grouping by a response-derived column. Kept here, below
``km``, ``logrank``, ``cox`` and ``landmark``, so that none of them imports another for a helper.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import check_choice as _check_choice
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

__all__ = [
    "RESPONSE_DERIVED_COLUMNS",
    "TOLERANCE",
    "_as_list",
    "_check_choice",
    "_survival_columns",
    "_timefix",
    "check_guarantee_time",
]

#: R's tolerance for plateaus and time ties: sqrt(.Machine$double.eps).
TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def _as_list(by) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _timefix(*arrays: np.ndarray) -> list[np.ndarray]:
    """Port of R ``aeqSurv``: merge times closer than sqrt(eps) (absolute or relative)."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    y = np.unique(values[np.isfinite(values)])
    if len(y) < 2:
        return [np.asarray(a, dtype=float) for a in arrays]
    dy = np.diff(y)
    mean_abs = np.mean(np.abs(y))
    tied = (dy <= TOLERANCE) | ((dy / mean_abs) <= TOLERANCE if mean_abs > 0 else False)
    if not np.any(tied):
        return [np.asarray(a, dtype=float) for a in arrays]
    cuts = y[np.concatenate([[True], ~tied])]
    out = []
    for a in arrays:
        a = np.asarray(a, dtype=float)
        idx = np.searchsorted(cuts, a, side="right") - 1  # findInterval
        fixed = np.where(np.isfinite(a), cuts[np.clip(idx, 0, None)], a)
        out.append(fixed)
    return out


def _survival_columns(df, time_col, event_col, function, entry_col=None):
    cols = [time_col, event_col] + ([entry_col] if entry_col else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SirtDataError(
            f"{function}: missing column(s) {missing}.", column=missing[0],
            rule="required column",
        )
    t = pd.to_numeric(df[time_col], errors="coerce").astype(float)
    e = pd.to_numeric(df[event_col], errors="coerce").astype(float)
    bad = t.notna() & (t < 0)
    bad |= e.notna() & ~e.isin([0, 1])
    if bad.any():
        rows = df.loc[bad]
        raise SirtDataError(
            f"{function}: {int(bad.sum())} rows violate \"{time_col} >= 0 and {event_col} in "
            "{0, 1}\".", column=time_col, rule="time >= 0, event in {0, 1}", rows=rows,
        )
    return t, e


#: Column names that hold a response status known only after the origin (R5.6.1).
RESPONSE_DERIVED_COLUMNS = frozenset({
    "bor", "cbor", "best_overall_response", "confirmed_bor", "bor_group", "bor_confirmed",
    "bor_unconfirmed", "is_responder", "responder", "is_disease_control", "response",
    "response_group", "response_status", "objective_response", "first_response_date",
})

_REMEDY = (
    "Grouping survival from the origin by a status reached later ({cols}) credits the "
    "responders with guaranteed survival time (guarantee-time / immortal-time bias, "
    "R5.6.1 (docs/rules/endpoints.md)). Use derive_landmark(...) for a landmark analysis, or "
    "derive_counting_process(...) with fit_time_dependent_cox(...) (Mantel-Byar), or pass "
    "check_type='warning' to proceed knowingly."
)


def check_guarantee_time(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    function: str = "check_guarantee_time",
    check_type: Literal["error", "warning"] = "error",
) -> None:
    """Refuse survival comparisons by response status measured from the origin (R5.6.1).

    Parameters
    ----------
    df : DataFrame
        The analysis frame. Frames made by :func:`derive_landmark` (column ``landmark_days``)
        or in counting-process layout (``start_days``) pass.
    columns : sequence of str
        Grouping / covariate columns of the analysis.
    function : str
        Name of the calling function, for the message.
    check_type : {"error", "warning"}, default "error"
        Raise :class:`SirtDataError` or warn with :class:`SirtStatsWarning`.

    Returns
    -------
    None

    Raises
    ------
    SirtDataError
        A response-derived column (:data:`RESPONSE_DERIVED_COLUMNS`) is used on a frame timed
        from the origin.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import check_guarantee_time
    >>> check_guarantee_time(pd.DataFrame({"bclc_stage": ["A"]}), ["bclc_stage"])
    """
    _check_choice(check_type, ("error", "warning"), "check_type", function)
    if "landmark_days" in df.columns or "start_days" in df.columns:
        return None
    hits = [c for c in columns if str(c).lower() in RESPONSE_DERIVED_COLUMNS]
    if not hits:
        return None
    msg = f"{function}: " + _REMEDY.format(cols=", ".join(repr(h) for h in hits))
    if check_type == "error":
        raise SirtDataError(msg, column=hits[0], rule="no guarantee-time bias (R5.6.1)")
    warnings.warn(msg, SirtStatsWarning, stacklevel=3)
    return None
