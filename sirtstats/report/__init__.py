"""The quarterly report: typed parameters, papermill runner, exports, atomic publication.

``sirtstats report --period 2026Q3`` (see :mod:`sirtstats.report.cli_report`) validates the
parameters (:func:`validate_parameters`), checks the registry, runs every
``notebooks/NN_*.ipynb`` with papermill into a temporary folder, exports HTML without code, one
XLSX workbook, ``metrics.json``, ``manifest.json`` and ``index.html``, then publishes
``reports/<period>/`` by an atomic rename (:func:`run_report`).

Importing this package is light: papermill, nbconvert and openpyxl load only when a report runs.
"""

from __future__ import annotations

from sirtstats.report.params import (
    PARAMETER_SPECS,
    InvalidParameterError,
    ReportParameters,
    validate_parameters,
)
from sirtstats.report.periods import Period, parse_period
from sirtstats.report.runner import ReportError, ReportResult, run_report

__all__ = [
    "PARAMETER_SPECS",
    "InvalidParameterError",
    "Period",
    "ReportError",
    "ReportParameters",
    "ReportResult",
    "parse_period",
    "run_report",
    "validate_parameters",
]
