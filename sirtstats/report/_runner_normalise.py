"""An executed notebook made reproducible and exported to its HTML page.

Part of :mod:`sirtstats.report.runner` (import from there): two runs on the same input give
the same notebook bytes (:func:`normalise_executed_notebook`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from sirtstats.report._runner_notebooks import _notebook_title

__all__ = ["INJECTED_CELL_ID", "normalise_executed_notebook"]


#: Cell id given to papermill's injected-parameters cell (papermill draws a random one).
INJECTED_CELL_ID = "injected-parameters"


def _publish_notebook(nb_path, out, attempt, target, seconds) -> dict:
    """Normalise an executed notebook and export it to HTML; its timings."""
    from sirtstats.report.export import export_notebook_html

    t_html = time.perf_counter()
    normalise_executed_notebook(out, attempt=attempt, target=target)
    export_notebook_html(out, out.with_suffix(".html"), title=_notebook_title(nb_path))
    return {"execute": round(seconds, 3), "html": round(time.perf_counter() - t_html, 3)}


#: What varies between two runs of the same notebook on the same input, and is not content.
_TIMING_KEYS = ("start_time", "end_time", "duration")
_KERNEL_TMP = re.compile(r"(?<=[/\\])ipykernel_\d+(?=[/\\])")


def normalise_executed_notebook(executed: Path, *, attempt: Path | None = None,
                                target: Path | None = None) -> None:
    """Make an executed notebook the same bytes on every run of the same input; in place.

    Parameters
    ----------
    executed : Path
        Notebook written by papermill.
    attempt, target : Path, optional
        The attempt folder and the published folder that replaces it in every path shown.

    Notes
    -----
    Three things differ between two runs and carry no result: the random id papermill gives the
    injected-parameters cell (set to :data:`INJECTED_CELL_ID`; the HTML page shows ids too);
    start/end times and durations (papermill, per notebook and per cell; nbclient's
    ``metadata.execution``: removed, the manifest keeps per-notebook timings); the kernel's
    temporary folder ``/tmp/ipykernel_<pid>/`` in warnings and tracebacks (written
    ``/tmp/ipykernel/``; the file name after it is a hash of the cell's code, so it is stable).
    """
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    for key in _TIMING_KEYS:
        nb.metadata.get("papermill", {}).pop(key, None)
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = INJECTED_CELL_ID
        cell.metadata.pop("execution", None)
        for key in _TIMING_KEYS:
            cell.metadata.get("papermill", {}).pop(key, None)
    text = nbformat.writes(nb)
    if attempt is not None and target is not None:
        text = text.replace(str(attempt), str(target))
    text = _KERNEL_TMP.sub("ipykernel", text)
    if not text.endswith("\n"):
        text += "\n"
    executed.write_text(text, encoding="utf-8")
