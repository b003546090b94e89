"""Validation of the selection arguments of :func:`sirtstats.cohort.select_cohort`.

Private module of :mod:`sirtstats.cohort`: filter values checked against the schema enums
(case-insensitively), dates parsed to Timestamps, dates formatted ISO (YYYY-MM-DD), and the
resolved arguments recorded as ``CohortSelection.criteria`` (also the key under which the
report runner stores a selected cohort, :mod:`sirtstats.cohort_snapshot`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sirtstats.schema import load_schema

__all__ = [
    "_criteria_record",
    "_enum",
    "_fmt",
    "_resolve_selection",
    "_validate_choices",
    "_validate_date",
]


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


def _check_days(value, name: str, *, allow_bool: bool) -> None:
    if value is not None and (
        (isinstance(value, bool) and not allow_bool)
        or not isinstance(value, int | np.integer)
        or value < 0
    ):
        raise ValueError(
            f"The '{name}' argument of select_cohort must be a non-negative int or None. "
            f"Got {value!r} instead."
        )


def _resolve_selection(
    registry_cutoff,
    *,
    diagnoses,
    devices,
    first_sirt_from,
    first_sirt_to,
    intents,
    min_followup_days,
    require_baseline_imaging,
    baseline_imaging_max_days,
    cutoff_date,
    centres,
) -> dict:
    """Checked, typed :func:`select_cohort` arguments for a registry cut at ``registry_cutoff``.

    Returns
    -------
    dict
        The arguments as ``select_cohort`` uses them (``diagnoses``, ``devices``, ``intents``
        in the schema's spelling or None; ``first_from``, ``first_to`` and ``cutoff`` as
        Timestamps or None; ``centres`` as str or None; ``pre_cut``: the registry was cut at
        load time on or before ``cutoff``), plus the day counts as given.

    Raises
    ------
    ValueError
        A filter value outside the schema enum, a date that cannot be parsed, a negative or
        non-integer day count, or ``first_sirt_from`` after ``first_sirt_to``.
    """
    args = {  # checked in this order: the first bad argument is the one reported
        "diagnoses": _validate_choices(diagnoses, "diagnoses", _enum("patients", "primary_tumour")),
        "devices": _validate_choices(devices, "devices", _enum("treatments", "device")),
        "intents": _validate_choices(intents, "intents", _enum("baseline", "treatment_intent")),
        "first_from": _validate_date(first_sirt_from, "first_sirt_from"),
        "first_to": _validate_date(first_sirt_to, "first_sirt_to"),
    }
    first_from, first_to = args["first_from"], args["first_to"]
    cutoff = _validate_date(cutoff_date, "cutoff_date")
    registry_cut = _validate_date(registry_cutoff, "cutoff_date")
    if registry_cut is not None and (cutoff is None or registry_cut < cutoff):
        cutoff = registry_cut  # data after the registry's own cut-off are already gone
    _check_days(min_followup_days, "min_followup_days", allow_bool=False)
    _check_days(baseline_imaging_max_days, "baseline_imaging_max_days", allow_bool=True)
    if first_from is not None and first_to is not None and first_from > first_to:
        raise ValueError(
            "The 'first_sirt_from' argument of select_cohort must be on or before "
            f"'first_sirt_to'. Got {_fmt(first_from)} > {_fmt(first_to)} instead."
        )
    return {
        **args,
        "cutoff": cutoff,
        # a registry cut at load time no longer holds the sessions after the cut-off, so
        # patients treated only after it cannot be told apart from patients never treated
        "pre_cut": registry_cut is not None and registry_cut <= cutoff,
        "min_followup_days": min_followup_days,
        "require_baseline_imaging": require_baseline_imaging,
        "baseline_imaging_max_days": baseline_imaging_max_days,
        "centres": [str(c) for c in centres] if centres else None,
    }


def _criteria_record(args: dict) -> dict:
    """``CohortSelection.criteria``: the resolved arguments as JSON values (ISO dates)."""
    return {
        "diagnoses": args["diagnoses"],
        "devices": args["devices"],
        "first_sirt_from": None if args["first_from"] is None else _fmt(args["first_from"]),
        "first_sirt_to": None if args["first_to"] is None else _fmt(args["first_to"]),
        "intents": args["intents"],
        "min_followup_days": args["min_followup_days"],
        "require_baseline_imaging": args["require_baseline_imaging"],
        "baseline_imaging_max_days": args["baseline_imaging_max_days"]
        if args["require_baseline_imaging"]
        else None,
        "cutoff_date": None if args["cutoff"] is None else _fmt(args["cutoff"]),
        "centres": args["centres"],
    }
