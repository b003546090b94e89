"""Validation of the selection arguments of :func:`sirtstats.cohort.select_cohort`.

Private module of :mod:`sirtstats.cohort`: filter values checked against the schema enums
(case-insensitively), dates parsed to Timestamps, dates formatted ISO (YYYY-MM-DD).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sirtstats.schema import load_schema

__all__ = ["_enum", "_fmt", "_validate_choices", "_validate_date"]


def _enum(table: str, column: str) -> tuple[str, ...]:
    return load_schema(table).field(column).enum or ()


def _validate_choices(values, name: str, allowed: Sequence[str]) -> list[str] | None:
    """Map case-insensitively to the allowed spelling; None/[] -> None."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    values = list(values)
    if not values:
        return None
    lookup = {a.lower(): a for a in allowed}
    out = []
    for v in values:
        key = str(v).lower()
        if key not in lookup:
            raise ValueError(
                f"The '{name}' argument of select_cohort must be a list of values in "
                f"{sorted(allowed)}. Got {v!r} instead."
            )
        if lookup[key] not in out:
            out.append(lookup[key])
    return out


def _validate_date(value, name: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"The '{name}' argument of select_cohort must be an ISO date (YYYY-MM-DD), a "
            f"Timestamp or None. Got {value!r} instead."
        ) from None
    if pd.isna(ts):
        return None
    return ts


def _fmt(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")
