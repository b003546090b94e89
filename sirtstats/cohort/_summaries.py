"""Summaries for reports: registry table counts and exclusions per step (no identifiers).

Private module of :mod:`sirtstats.cohort` (import from there).
"""

from __future__ import annotations

import pandas as pd

from sirtstats._checks import require_columns as _require_columns
from sirtstats.registry import Registry

__all__ = ["summarise_exclusions", "summarise_registry"]


def summarise_registry(registry: Registry) -> pd.DataFrame:
    """Row and patient counts per registry table, with the validation problems per table.

    Parameters
    ----------
    registry : Registry
        Loaded registry.

    Returns
    -------
    DataFrame
        One row per table in :data:`sirtstats.schema.TABLE_ORDER` order (then any other
        table): ``table`` (str), ``n_rows`` and ``n_patients`` (int; distinct ``patient_id``,
        through ``lesions`` for ``lesion_measurements``), ``n_errors`` and ``n_warnings`` (int;
        rows of ``registry.problems`` for that table by ``severity``, 0 when the problems table
        has no ``table``/``severity`` column).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.registry import Registry
    >>> reg = Registry(tables={"patients": pd.DataFrame({"patient_id": ["P1", "P2"]})})
    >>> summarise_registry(reg)
          table  n_rows  n_patients  n_errors  n_warnings
    0  patients       2           2         0           0
    """
    from sirtstats.schema import TABLE_ORDER

    names = [t for t in TABLE_ORDER if t in registry.tables]
    names += sorted(t for t in registry.tables if t not in TABLE_ORDER)
    problems = registry.problems if registry.problems is not None else pd.DataFrame()
    has_problem_cols = {"table", "severity"} <= set(problems.columns)
    lesion_patient = None
    lesions = registry.tables.get("lesions")
    if lesions is not None and {"lesion_id", "patient_id"} <= set(lesions.columns):
        lesion_patient = lesions.set_index("lesion_id")["patient_id"]
    rows = []
    for name in names:
        df = registry.tables[name]
        if "patient_id" in df.columns:
            n_pat = df["patient_id"].nunique()
        elif "lesion_id" in df.columns and lesion_patient is not None:
            n_pat = df["lesion_id"].map(lesion_patient).nunique()
        else:
            n_pat = 0
        if has_problem_cols:
            mine = problems[problems["table"] == name]
            n_err = int((mine["severity"] == "error").sum())
            n_warn = int((mine["severity"] == "warning").sum())
        else:
            n_err = n_warn = 0
        rows.append({"table": name, "n_rows": len(df), "n_patients": int(n_pat),
                     "n_errors": n_err, "n_warnings": n_warn})
    return pd.DataFrame(rows, columns=["table", "n_rows", "n_patients", "n_errors",
                                       "n_warnings"])


def summarise_exclusions(df_exclusions: pd.DataFrame) -> pd.DataFrame:
    """Number of excluded patients per step and reason (no patient identifiers).

    Parameters
    ----------
    df_exclusions : DataFrame
        ``CohortSelection.exclusions``: ``patient_id`` (str), ``step`` (int), ``reason`` (str).

    Returns
    -------
    DataFrame
        ``step`` (int), ``reason`` (str), ``n_patients`` (int), one row per step with at least
        one exclusion, in step order.

    Examples
    --------
    >>> import pandas as pd
    >>> ex = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "step": [1, 1, 3],
    ...                    "reason": ["no SIRT session recorded"] * 2 + ["device not selected"]})
    >>> summarise_exclusions(ex)
       step                    reason  n_patients
    0     1  no SIRT session recorded           2
    1     3       device not selected           1
    """
    _require_columns(df_exclusions, ["patient_id", "step", "reason"], "exclusions")
    out = (
        df_exclusions.groupby(["step", "reason"], sort=True)["patient_id"]
        .nunique()
        .rename("n_patients")
        .reset_index()
    )
    return out.astype({"step": int, "n_patients": int})
