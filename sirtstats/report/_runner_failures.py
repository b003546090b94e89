"""Failure reporting of a report run: the errors it raises and where a notebook failed.

Part of :mod:`sirtstats.report.runner` (import from there): :class:`ReportError` and
:class:`EmptyCohortError`, and the failing notebook's cell as the researcher sees it in the
template (:class:`NotebookFailure`, read from papermill's exception and the executed notebook).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["EmptyCohortError", "NotebookFailure", "ReportError"]


class ReportError(RuntimeError):
    """The report could not be produced; the published report (if any) is untouched.

    Attributes
    ----------
    notebook : str or None
        Stem of the failing notebook.
    cell : int or None
        1-based index of the failing cell in the notebook template (as seen in JupyterLab).
    failed_dir : Path or None
        Where the failed attempt (with the executed failing notebook) was kept.
    """

    def __init__(self, message, *, notebook=None, cell=None, failed_dir=None):
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell
        self.failed_dir = failed_dir


class EmptyCohortError(ReportError):
    """The cohort filters are legal values but select no patient; no notebook was run."""


@dataclass
class NotebookFailure:
    """Where and how a notebook failed."""

    notebook: str
    cell: int | None
    exec_count: int | None
    ename: str
    evalue: str
    source: str = ""

    def describe(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "an unknown cell"
        if self.exec_count is not None:
            where += f" (In [{self.exec_count}])"
        first = next((ln for ln in self.source.splitlines() if ln.strip()), "")
        line = f"\n    {first[:120]}" if first else ""
        return f"notebook {self.notebook} failed in {where}: {self.ename}: {self.evalue}{line}"


class _NotebookFailed(Exception):
    def __init__(self, failure: NotebookFailure):
        super().__init__(failure.describe())
        self.failure = failure


def _failure_from(exc: Exception, nb_path: Path, executed: Path) -> NotebookFailure:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        cell = None
        if executed.exists():
            import nbformat

            nb = nbformat.read(str(executed), as_version=4)
            # papermill puts an error banner first and an injected-parameters cell after the
            # parameters cell: neither is in the template the researcher opens.
            template_index = 0
            for c in nb.cells:
                tags = c.get("metadata", {}).get("tags", [])
                if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
                    continue
                template_index += 1
                if c.get("cell_type") == "code" and c.get("execution_count") == exc.exec_count \
                        and any(o.get("output_type") == "error" for o in c.get("outputs", [])):
                    cell = template_index
                    break
        return NotebookFailure(nb_path.stem, cell, exc.exec_count, exc.ename, str(exc.evalue),
                               exc.source or "")
    return NotebookFailure(nb_path.stem, None, None, type(exc).__name__, str(exc))
