"""Table 1 (baseline characteristics) with tableone, and report-formatting helpers.

:func:`make_table1` turns the one-row-per-patient frame of
:func:`sirtstats.cohort.derive_baseline` into a ``tableone.TableOne`` (Pollard et al., JAMIA Open
2018), optionally stratified by a column; :func:`format_table1` flattens it into a tidy frame for
CSV/HTML reports. Categorical levels follow the registry schema order, so the table is the same
from run to run.

Everything is importable from here (``from sirtstats.tables import report_table``); the code
lives in private modules: ``_table1_spec`` (default Table 1 variables, labels and level
order), ``_tableone`` (:func:`make_table1`, :func:`format_table1`), ``_table1``
(:func:`summarise_table1`, the paste-ready Table 1), ``_report`` (:func:`report_table`) and
``_survival`` (the Kaplan–Meier, Cox, cumulative-incidence and landmark tables).
"""

from __future__ import annotations

from sirtstats.tables._report import report_table
from sirtstats.tables._survival import (
    COMPETING_CAUSE_LABELS,
    ENDPOINT_ORDER,
    summarise_cif_table,
    summarise_cox_table,
    summarise_km_table,
    summarise_landmark_table,
)
from sirtstats.tables._table1 import TABLE1_RESTRICTIONS, summarise_table1
from sirtstats.tables._table1_spec import (
    TABLE1_CATEGORICAL,
    TABLE1_COLUMNS,
    TABLE1_LABELS,
    TABLE1_LEVEL_ORDER,
    TABLE1_NONNORMAL,
)
from sirtstats.tables._tableone import format_table1, make_table1

__all__ = [
    "COMPETING_CAUSE_LABELS",
    "ENDPOINT_ORDER",
    "TABLE1_CATEGORICAL",
    "TABLE1_COLUMNS",
    "TABLE1_LABELS",
    "TABLE1_LEVEL_ORDER",
    "TABLE1_NONNORMAL",
    "TABLE1_RESTRICTIONS",
    "format_table1",
    "make_table1",
    "report_table",
    "summarise_cif_table",
    "summarise_cox_table",
    "summarise_km_table",
    "summarise_landmark_table",
    "summarise_table1",
]
