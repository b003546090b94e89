"""Run the report notebooks with papermill and assemble ``reports/<period>/``.

Order of work (each step stops the run with a clear message when it fails):

1. find the notebooks (``notebooks/[0-9][0-9]_*.ipynb``, sorted), read their ``parameters``
   cells (papermill's inspector) and check they declare the common parameters;
2. type the user's notebook parameters (``-p``, ``--config``) against those cells
   (:func:`sirtstats.report.params.resolve_notebook_parameters`);
3. check the Jupyter kernel ``sirtstats`` exists;
4. load and validate the registry: errors stop the run before any notebook, with the problems;
   so does a cohort filter that selects no patient (:class:`EmptyCohortError`);
5. execute the notebooks (up to ``jobs`` at a time; each kernel is its own process) into an
   attempt folder; each writes its tables, figures and key numbers there;
6. normalise each executed notebook (fixed id for papermill's injected cell, no timing metadata,
   no kernel process id in paths) so that two runs on the same input give the same bytes, export
   it to HTML without code, collect the tables into ``tables.xlsx``, merge the key numbers into
   ``metrics.json``, write ``manifest.json`` and ``index.html``;
7. publish the attempt atomically (see :mod:`sirtstats.report.publish`): a run of every
   notebook to ``<root>/<period>/``; a run of some notebooks (``notebooks=``) to
   ``<root>/_partial/<period>/``, unless ``replace=True``.

What each notebook receives: the parameters the runner always sets (``data_path``,
``cutoff_date``, ``output_dir``, and ``period`` where declared), then only what the user set
(``diagnoses``/``devices``/``criterion`` and ``-p``/``--config`` values). Everything else keeps
the notebook's own default (05: HCC).

A failing notebook stops the run: the attempt moves to ``<root>/_failed/<period>-<time>/`` and a
:class:`ReportError` names the notebook and the cell.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from sirtstats.exceptions import SirtDataError
from sirtstats.report.params import (
    COMMON_NOTEBOOK_PARAMETERS,
    InvalidParameterError,
    ParameterOverride,
    ReportParameters,
    overrides_from_mapping,
    resolve_notebook_parameters,
)

__all__ = [
    "INJECTED_CELL_ID",
    "KERNEL_NAME",
    "NOTEBOOK_GLOB",
    "PARTIAL_DIRNAME",
    "SHAREABLE_DIRNAME",
    "EmptyCohortError",
    "NotebookFailure",
    "ReportError",
    "ReportResult",
    "check_kernel",
    "default_notebooks_dir",
    "discover_notebooks",
    "load_checked_registry",
    "normalise_executed_notebook",
    "read_notebook_parameters",
    "run_report",
]

#: Jupyter kernel the notebooks run on (installed by ``make venv``).
KERNEL_NAME = "sirtstats"
#: Notebooks that make up the report, run in sorted order.
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
#: Sub-folder of the output root holding reports of some notebooks only (``--notebooks``).
PARTIAL_DIRNAME = "_partial"
#: Sub-folder of the output root that holds the shareable reports (``shareable/<period>/``).
SHAREABLE_DIRNAME = "shareable"
#: Sub-folder of the attempt holding the registry snapshot the notebooks read (D46); removed
#: before publication (its SHA-256 stays in the manifest), kept with a failed attempt.
SNAPSHOT_DIRNAME = "_snapshot"
#: Cell id given to papermill's injected-parameters cell (papermill draws a random one).
INJECTED_CELL_ID = "injected-parameters"
KERNEL_INSTALL_HINT = (
    "Register it with `sirtstats kernel install` (pip and conda installs alike; "
    "`make venv` does it in a checkout)."
)


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


@dataclass
class ReportResult:
    """A published report."""

    path: Path
    metrics: dict
    manifest: dict
    timings_s: dict = field(default_factory=dict)
    partial: bool = False

    @property
    def index_html(self) -> Path:
        return self.path / "index.html"


def default_notebooks_dir() -> Path:
    """The installed report notebooks (``notebooks/`` of the checkout in a source tree)."""
    from sirtstats._resources import resource_dir
    return resource_dir("notebooks")


def discover_notebooks(notebooks_dir: Path, select=None) -> list[Path]:
    """Report notebooks in ``notebooks_dir``, sorted; optionally only those selected.

    Parameters
    ----------
    notebooks_dir : Path
        Folder of templates.
    select : list of str, optional
        Prefixes (``"01"``) or stems (``"01_cohort"``) to keep.

    Returns
    -------
    list of Path

    Raises
    ------
    ReportError
        No notebook found.
    InvalidParameterError
        A selection matching no notebook (a command-line error: exit status 2).
    """
    notebooks_dir = Path(notebooks_dir)
    found = sorted(notebooks_dir.glob(NOTEBOOK_GLOB))
    if select:
        wanted = [s.strip() for s in select if s.strip()]
        unknown = [w for w in wanted
                   if not any(p.stem == w or p.stem.split("_", 1)[0] == w for p in found)]
        if unknown:
            raise InvalidParameterError(
                f"The 'notebooks' option of sirtstats report must name notebooks in "
                f"{notebooks_dir} (one of {[p.stem for p in found]}). Got {unknown} instead.")
        found = [p for p in found if p.stem in wanted or p.stem.split("_", 1)[0] in wanted]
    if not found:
        raise ReportError(f"No report notebook ({NOTEBOOK_GLOB}) in {notebooks_dir}.")
    return found


def _declared_parameters(nb_path: Path) -> dict[str, dict]:
    """Parameters declared in the notebook's ``parameters`` cell: name -> {default, type, help}.

    Names come from parsing the cell with :mod:`ast` (papermill's inspector skips any line with
    two ``=``, e.g. ``output_dir: str = ""  # "" = nothing written``); type and help come from
    ``papermill.inspect_notebook`` where it could read the line.
    """
    import ast

    import nbformat
    import papermill

    nb = nbformat.read(str(nb_path), as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])),
                None)
    if cell is None:
        raise ReportError(f"notebook {nb_path.stem} has no cell tagged 'parameters'.",
                          notebook=nb_path.stem)
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as exc:
        raise ReportError(f"notebook {nb_path.stem}: the parameters cell is not valid Python "
                          f"({exc.msg}, line {exc.lineno}).", notebook=nb_path.stem) from None
    declared = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared[node.target.id] = {"default": ast.get_source_segment(cell.source, node.value)
                                        if node.value is not None else None,
                                        "inferred_type_name": ast.unparse(node.annotation),
                                        "help": ""}
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    declared[target.id] = {"default": ast.get_source_segment(cell.source,
                                                                             node.value),
                                           "inferred_type_name": "None", "help": ""}
    import logging

    logger = logging.getLogger("papermill")
    old_level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        inspected = papermill.inspect_notebook(str(nb_path))
    finally:
        logger.setLevel(old_level)
    for name, info in inspected.items():
        if name in declared:
            declared[name]["help"] = info.get("help", "")
    return declared


def _inspect(nb_path: Path) -> dict:
    params = _declared_parameters(nb_path)
    missing = [p for p in COMMON_NOTEBOOK_PARAMETERS if p not in params]
    if missing:
        raise ReportError(
            f"notebook {nb_path.stem} does not declare the parameter(s) {missing} in its cell "
            "tagged 'parameters'; every report notebook needs "
            f"{list(COMMON_NOTEBOOK_PARAMETERS)}.", notebook=nb_path.stem)
    return params


def read_notebook_parameters(notebooks_dir: str | Path | None = None) -> dict[str, dict]:
    """Parameters declared by every report notebook: stem -> name -> {default, type, help}.

    Parameters
    ----------
    notebooks_dir : str or Path, optional
        Templates folder; default ``notebooks/`` of the checkout.

    Returns
    -------
    dict
        In notebook order; ``default`` is the source text, ``inferred_type_name`` the
        annotation (``"None"`` without one), ``help`` the comment.

    Raises
    ------
    ReportError
        No notebook, a notebook without a ``parameters`` cell or without the common parameters.
    """
    nb_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    return {p.stem: _inspect(p) for p in discover_notebooks(nb_dir)}


def check_kernel(name: str = KERNEL_NAME) -> None:
    """Raise :class:`ReportError` with install instructions if kernel ``name`` is missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise ReportError(f"Jupyter kernel {name!r} not found. {KERNEL_INSTALL_HINT}") from None


def _blocking_problems(problems):
    import pandas as pd

    if problems is None or not isinstance(problems, pd.DataFrame) or problems.empty:
        return None
    if "severity" in problems.columns:
        blocking = problems[problems["severity"].astype(str).str.lower() == "error"]
        return blocking if len(blocking) else None
    return problems


def load_checked_registry(params: ReportParameters):
    """Load the registry at the cut-off; raise SirtDataError with the problems if invalid.

    Returns
    -------
    sirtstats.registry.Registry

    Raises
    ------
    SirtDataError
        The registry has errors; ``rows`` holds the problems table (warnings do not stop).
    """
    from sirtstats.demo import load_registry  # a folder, or "demo"

    registry = load_registry(params.data_path, cutoff_date=params.cutoff_date.isoformat())
    blocking = _blocking_problems(getattr(registry, "problems", None))
    if blocking is not None:
        raise SirtDataError(
            f"registry {params.data_path}: {len(blocking)} problem(s) must be fixed before the "
            "report can run; no notebook was run.", rule="registry validation", rows=blocking)
    return registry


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


def _kernel_manager_class(log_file):
    """An AsyncKernelManager whose kernel process writes stdout/stderr to ``log_file``.

    The kernel's own console chatter (transport warnings, "KeyboardInterrupt caught in kernel"
    when jupyter_client interrupts it at shutdown) would otherwise land in the scheduler's mail;
    the log is kept with a failed attempt for inspection.
    """
    from jupyter_client.manager import AsyncKernelManager

    class _LoggedKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            kw.setdefault("stdout", log_file)
            kw.setdefault("stderr", log_file)
            return await super().start_kernel(**kw)

    return _LoggedKernelManager


def _execute(nb_path: Path, out_path: Path, parameters: dict, kernel_name: str,
             timeout: float | None) -> float:
    import papermill

    start = time.perf_counter()
    log_path = out_path.with_suffix(".kernel.log")
    with log_path.open("wb") as log_file:
        papermill.execute_notebook(
            str(nb_path), str(out_path), parameters=parameters, kernel_name=kernel_name,
            cwd=str(nb_path.parent), progress_bar=False, report_mode=True, log_output=False,
            execution_timeout=timeout,
            kernel_manager_class=_kernel_manager_class(log_file),
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    log_path.unlink()
    return time.perf_counter() - start


def _notebook_title(nb_path: Path) -> str:
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return nb_path.stem


@contextlib.contextmanager
def _period_lock(root: Path, label: str):
    lock_path = root / f".{label}.lock"
    with lock_path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReportError(f"another sirtstats report run for {label} is in progress "
                              f"(lock {lock_path}).") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _kernel_env(source_date_epoch: int | None = None):
    """Environment of a reproducible run, restored afterwards.

    A fixed hash seed in kernels (set ordering, so outputs do not vary between runs);
    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention, which matplotlib's PDF and SVG
    writers and other tools use for the dates they embed) set to the data cut-off, so a figure's
    embedded date is the cut-off rather than the time of the run; papermill's own warnings
    (parameter-cell parsing, unknown parameters) kept out of the progress output: the runner
    checks parameters itself.
    """
    import logging

    values = {"PYTHONHASHSEED": "0"}
    if source_date_epoch is not None:
        values["SOURCE_DATE_EPOCH"] = str(int(source_date_epoch))
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    logger = logging.getLogger("papermill")
    old_level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(old_level)
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _epoch(day: dt.date) -> int:
    """Seconds from 1970-01-01 UTC to midnight UTC of ``day``."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _filtered_ids(registry, diagnoses, devices, centres=None):
    """Patient ids with primary tumour in ``diagnoses``, first-SIRT device in ``devices`` and
    centre in ``centres`` (None or empty = no filter on that side); None when none filters."""
    if not diagnoses and not devices and not centres:
        return None
    pts = registry["patients"]
    ids = set(pts["patient_id"])
    if diagnoses:
        ids &= set(pts.loc[pts["primary_tumour"].isin(diagnoses), "patient_id"])
    if centres:
        ids &= set(pts.loc[_centre_of(pts).isin(centres), "patient_id"])
    if devices:
        tr = registry["treatments"]
        tr = tr[tr["treatment_date"].notna()]
        first = tr.loc[tr.groupby("patient_id")["treatment_date"].idxmin()]
        ids &= set(first.loc[first["device"].isin(devices), "patient_id"])
    return ids


def _centre_of(pts):
    """``patients.centre_id``; all NA for in-memory tables without the column (tests, sketches)."""
    import pandas as pd

    return pts["centre_id"] if "centre_id" in pts else pd.Series(pd.NA, index=pts.index)


def _cohort_patient_ids(registry, params: ReportParameters):
    """Patients matching the report's filters (None = everyone), for the activity counts.

    Same meaning as ``sirtstats.cohort.select_cohort``'s filters: primary tumour in
    ``diagnoses``; device of the patient's first SIRT in ``devices``. Eligibility rules of the
    cohort notebook do not apply here: these counts describe registry activity.
    """
    return _filtered_ids(registry, params.diagnoses, params.devices, params.centres)


def _treated_ids(registry, cutoff: dt.date) -> set:
    """Patients with a SIRT session on or before the cut-off."""
    import pandas as pd

    tr = registry["treatments"]
    dates = pd.to_datetime(tr["treatment_date"], errors="coerce")
    return set(tr.loc[dates.notna() & (dates <= pd.Timestamp(cutoff)), "patient_id"])


def check_cohorts_not_empty(registry, params: ReportParameters,
                            effective: Mapping[str, Mapping[str, object]]) -> None:
    """Stop before any notebook when a notebook's cohort filters select no patient.

    Parameters
    ----------
    registry : sirtstats.registry.Registry
        The loaded registry (at the cut-off).
    params : ReportParameters
        For the cut-off and the message.
    effective : mapping
        Notebook stem -> the values its ``diagnoses``, ``devices`` and ``centres`` will have
        (injected, else the notebook's own default); notebooks declaring none are not checked.

    Raises
    ------
    EmptyCohortError
        No patient treated with SIRT by the cut-off has a primary tumour in ``diagnoses`` and a
        first-SIRT device in ``devices``, for at least one notebook. The message gives the
        counts step by step, so the researcher sees which filter emptied the cohort.

    Notes
    -----
    Legal filters selecting nobody stop the run (exit status 1, as for an invalid registry)
    rather than publishing a report that says n = 0: every notebook would have to handle an
    empty cohort in each of its analyses, and a report of nobody would replace the published
    one. The same filters as ``sirtstats.cohort.select_cohort``'s ``diagnoses`` and ``devices``
    are applied; its eligibility rules are the notebooks' to report.
    """
    treated = _treated_ids(registry, params.cutoff_date)
    empty = {}
    for stem, values in effective.items():
        filters = tuple(values.get(name) or [] for name in _FILTER_NAMES)
        if not all(isinstance(f, list) for f in filters):
            continue
        ids = _filtered_ids(registry, *filters)
        selected = treated if ids is None else treated & ids
        if not selected:
            empty.setdefault(tuple(map(tuple, filters)), []).append(stem)
    if not empty:
        return
    lines = [_empty_cohort_line(registry, treated, filters, stems)
             for filters, stems in empty.items()]
    raise EmptyCohortError(
        "\n".join(lines) + f"\nRegistry {params.data_path}, cut-off "
        f"{params.cutoff_date.isoformat()}; no notebook was run and the published report was "
        "not changed. Change --diagnosis/--device/--centre (or -p diagnoses=/devices=/centres=).")


#: Cohort filters of the notebooks that the runner checks (``select_cohort``'s arguments).
_FILTER_NAMES = ("diagnoses", "devices", "centres")


def _empty_cohort_line(registry, treated: set, filters: tuple, stems: list) -> str:
    """One line of the empty-cohort message: counts step by step (treated, diagnosis, centre)."""
    diagnoses, devices, centres = filters
    pts = registry["patients"]
    with_dx = treated & (set(pts.loc[pts["primary_tumour"].isin(diagnoses), "patient_id"])
                         if diagnoses else set(pts["patient_id"]))
    in_centre = with_dx & (set(pts.loc[_centre_of(pts).isin(centres), "patient_id"])
                           if centres else with_dx)
    described = " and ".join(
        [f"primary tumour in {list(diagnoses)}"] * bool(diagnoses)
        + [f"centre in {list(centres)}"] * bool(centres)
        + [f"first-SIRT device in {list(devices)}"] * bool(devices)) or "no filter"
    return (f"no patient matches {described} (notebook(s) {', '.join(stems)}): "
            f"{len(treated)} patient(s) treated with SIRT by the cut-off"
            + (f", {len(with_dx)} with primary tumour in {list(diagnoses)}" if diagnoses else "")
            + (f", {len(in_centre)} of them in centre(s) {list(centres)}" if centres else "")
            + (", 0 of them with a first SIRT with one of the devices" if devices else "")
            + ".")


def _previous_report(root: Path, params: ReportParameters) -> dict | None:
    import json

    prev = root / params.period.previous().label
    metrics_path, manifest_path = prev / "metrics.json", prev / "manifest.json"
    if not metrics_path.is_file():
        return None
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    cutoff = params.period.previous().end.isoformat()
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        cutoff = manifest.get("parameters", {}).get("cutoff_date", cutoff)
    return {"period": prev.name, "cutoff_date": cutoff, "metrics": metrics}


def _count_rows(csv_path: Path) -> int:
    import csv

    with csv_path.open(newline="", encoding="utf-8") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)


def _as_overrides(parameters) -> list[ParameterOverride]:
    if parameters is None:
        return []
    if isinstance(parameters, Mapping):
        return overrides_from_mapping(parameters, origin="parameters")
    return list(parameters)


def _effective_filters(declared: dict, injected: dict) -> dict:
    """Notebook stem -> {diagnoses, devices, centres}: what the notebook will use (injected, else
    its own default), for the notebooks that declare them."""
    from sirtstats.report.params import _default_value

    out = {}
    for stem, names in declared.items():
        values = {}
        for name in _FILTER_NAMES:
            if name in injected[stem]:
                values[name] = injected[stem][name]
            elif name in names:
                default = _default_value(names[name])
                values[name] = default if isinstance(default, list) else []
        if values:
            out[stem] = values
    return out


def _comparison_cohorts(registry, params, declared: dict, injected: dict) -> dict:
    """``cohorts`` and ``values`` of :func:`sirtstats.report.optional.split_skipped`: each
    comparison notebook's cohort (treated by the cut-off, its own filters) and its effective
    exposure parameters."""
    from sirtstats.report.optional import NOTEBOOK_COMPARES
    from sirtstats.report.params import _default_value

    stems = [stem for stem in declared if stem in NOTEBOOK_COMPARES]
    filters = _effective_filters({s: declared[s] for s in stems}, injected)
    treated = _treated_ids(registry, params.cutoff_date)
    cohorts, values = {}, {}
    for stem in stems:
        ids = _filtered_ids(registry, *(filters.get(stem, {}).get(n) or [] for n in _FILTER_NAMES))
        cohorts[stem] = treated if ids is None else treated & ids
        values[stem] = {name: injected[stem].get(name, _default_value(declared[stem][name]))
                        for name in NOTEBOOK_COMPARES[stem] if name in declared[stem]}
    return {"cohorts": cohorts, "values": values}


def _check_run_options(jobs, timeout) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidParameterError(
            f"The 'jobs' option of sirtstats report must be an int >= 1. Got {jobs!r} instead.")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not timeout > 0 or timeout == float("inf")):
        raise InvalidParameterError(
            "The 'timeout' option of sirtstats report must be a number of seconds > 0 (or "
            f"none: no limit). Got {timeout!r} instead.")
    return jobs


def run_report(
    params: ReportParameters,
    *,
    output_root: str | Path = "reports",
    notebooks_dir: str | Path | None = None,
    notebooks: list[str] | None = None,
    parameters: Sequence[ParameterOverride] | Mapping | None = None,
    replace: bool = False,
    jobs: int = 2,
    kernel_name: str = KERNEL_NAME,
    timeout: float | None = None,
    echo: Callable[[str], None] | None = print,
    now: Callable[[], dt.datetime] = dt.datetime.now,
) -> ReportResult:
    """Produce ``<output_root>/<period>/`` from the report notebooks.

    A shareable report (``params.disclosure == "shareable"``, D40) is published to
    ``<output_root>/shareable/<period>/`` (and its partial runs, attempts and previous-period
    comparison live under that folder), so it never replaces the internal report of the
    period that the scheduled job publishes, nor the other way round.

    Parameters
    ----------
    params : ReportParameters
        Validated parameters (:func:`sirtstats.report.validate_parameters`).
    output_root : str or Path, default "reports"
        Folder holding one sub-folder per period.
    notebooks_dir : str or Path, optional
        Templates folder; default ``notebooks/`` of the checkout.
    notebooks : list of str, optional
        Run only these (prefixes ``"01"`` or stems). Unless they are all the notebooks, the
        report is published to ``<output_root>/_partial/<period>/`` so that it never replaces
        the full report of the period (``replace=True`` publishes it there all the same).
    parameters : sequence of ParameterOverride or mapping, optional
        Notebook parameters set by the user (:func:`sirtstats.report.params.parse_assignment`,
        :func:`~sirtstats.report.params.overrides_from_mapping`; a mapping is read by the
        latter): typed against the notebooks' ``parameters`` cells before anything runs.
    replace : bool, default False
        Publish a run of some notebooks as the period's report, replacing the full one.
    jobs : int, default 2
        Notebooks executed at the same time (each in its own kernel process).
    kernel_name : str, default "sirtstats"
        Jupyter kernel.
    timeout : float, optional
        Per-cell timeout in seconds, > 0 (None = no limit).
    echo : callable or None, default print
        Progress sink; None = quiet.
    now : callable
        Clock for the failed-attempt folder name and the manifest.

    Returns
    -------
    ReportResult

    Raises
    ------
    InvalidParameterError
        Unknown notebook in ``notebooks``; a notebook parameter that no notebook declares or of
        the wrong type; ``jobs`` < 1; ``timeout`` <= 0. Nothing ran.
    SirtDataError
        The registry is invalid (no notebook ran; ``rows`` = problems table).
    EmptyCohortError
        The cohort filters select no patient (no notebook ran).
    ReportError
        Missing kernel, bad notebook, or a failing notebook (``notebook``, ``cell``,
        ``failed_dir`` set); the published report, if any, is unchanged.
    """
    say = echo or (lambda _msg: None)
    t0 = time.perf_counter()
    jobs = _check_run_options(jobs, timeout)
    root = Path(output_root).resolve()
    if params.disclosure == "shareable":  # never replaces the internal report of the period
        root = root / SHAREABLE_DIRNAME
    nb_dir = Path(notebooks_dir).resolve() if notebooks_dir else default_notebooks_dir()
    label = params.period.label

    all_paths = discover_notebooks(nb_dir)
    nb_paths = discover_notebooks(nb_dir, notebooks)
    declared_all = {p.stem: _inspect(p) for p in all_paths}
    user_set = resolve_notebook_parameters(declared_all, _as_overrides(parameters))
    declared = {p.stem: declared_all[p.stem] for p in nb_paths}
    partial = len(nb_paths) < len(all_paths)
    target = root / label if (replace or not partial) else root / PARTIAL_DIRNAME / label
    check_kernel(kernel_name)
    t_reg = time.perf_counter()
    registry = load_checked_registry(params)
    t_reg = time.perf_counter() - t_reg
    from sirtstats.report.optional import split_skipped  # 06 needs PET data, 07 two groups

    injected = {stem: {**params.for_notebook(names, output_dir=target), **user_set[stem]}
                for stem, names in declared.items()}
    nb_paths, skipped = split_skipped(registry.tables, nb_paths,
                                      _cohort_patient_ids(registry, params),
                                      **_comparison_cohorts(registry, params, declared, injected))
    if not nb_paths:
        raise ReportError("No notebook to run: " + "; ".join(
            f"{stem} skipped, {note}" for stem, _title, note in skipped) + ".")
    declared = {p.stem: declared[p.stem] for p in nb_paths}
    injected = {stem: injected[stem] for stem in declared}
    check_cohorts_not_empty(registry, params, _effective_filters(declared, injected))

    root.mkdir(parents=True, exist_ok=True)
    lock_label = label if target == root / label else f"{label}-{PARTIAL_DIRNAME.strip('_')}"
    with _period_lock(root, lock_label), _kernel_env(_epoch(params.cutoff_date)):
        from sirtstats.report import publish

        publish.clean_stale_attempts(root, label)
        if partial:
            publish.clean_stale_attempts(root / PARTIAL_DIRNAME, label)
        attempt = publish.attempt_dir(root, label)
        timings = {}
        try:
            say(f"sirtstats report {label}: cut-off {params.cutoff_date.isoformat()}, data "
                f"{params.data_path}, {len(nb_paths)} notebook(s), {min(jobs, len(nb_paths))} "
                f"at a time")
            loaded = [registry]
            del registry  # not held here while the notebooks run: see _run_on_snapshot
            registry, snapshot, nb_params = _run_on_snapshot(
                loaded, attempt, timings, nb_paths, declared, injected, target, kernel_name,
                timeout, jobs, say)
            t_asm = time.perf_counter()
            metrics, manifest = _assemble(attempt, root, params, registry, nb_paths, nb_params,
                                          timings, now, skipped=skipped)
            manifest["report"]["notebooks"] = [p.stem for p in nb_paths]
            manifest["report"]["partial"] = partial
            manifest["snapshot"] = snapshot
            manifest["injected_parameters"] = {
                stem: {k: (str(target) if k == "output_dir" else v) for k, v in values.items()}
                for stem, values in injected.items()}
            timings["assemble"] = round(time.perf_counter() - t_asm, 3)
            timings["registry_load"] = round(t_reg, 3)
            timings["total"] = round(time.perf_counter() - t0, 3)
            manifest["timings_s"] = timings
            from sirtstats.report.export import write_json

            write_json(manifest, attempt / "manifest.json")
            target.parent.mkdir(parents=True, exist_ok=True)
            target = publish.publish_attempt(attempt, target)
        except _NotebookFailed as failed:
            kept = publish.keep_failed_attempt(attempt, root, label, failed.failure.describe(),
                                               now=now())
            executed = kept / "notebooks" / f"{failed.failure.notebook}.ipynb"
            raise ReportError(
                f"{failed.failure.describe()}\nExecuted notebook kept at {executed}\n"
                f"The published report {target} was not changed.",
                notebook=failed.failure.notebook, cell=failed.failure.cell,
                failed_dir=kept) from failed.__cause__
        except Exception as exc:  # export/assembly/publication: keep the attempt to inspect
            message = f"assembling the {label} report failed: {type(exc).__name__}: {exc}"
            kept = publish.keep_failed_attempt(attempt, root, label, message, now=now())
            raise ReportError(f"{message}\nAttempt kept at {kept}\nThe published report "
                              f"{target} was not changed.", failed_dir=kept) from exc
        except BaseException:  # Ctrl-C, SIGTERM
            shutil.rmtree(attempt, ignore_errors=True)
            raise
    if partial and target != root / label:
        say(f"Partial report ({', '.join(p.stem for p in nb_paths)}) published: "
            f"{target / 'index.html'} ({timings['total']:.1f} s); the report {root / label} "
            "was not changed (--replace publishes a partial run there).")
    else:
        say(f"Report published: {target / 'index.html'} ({timings['total']:.1f} s)")
    return ReportResult(path=target, metrics=metrics, manifest=manifest, timings_s=timings,
                        partial=partial)


def _run_on_snapshot(loaded, attempt, timings, nb_paths, declared, injected, target,
                     kernel_name, timeout, jobs, say):
    """Write the snapshot, run the notebooks on it, and return the registry for the assembly.

    While the notebooks run the runner does not hold the registry (each kernel has its own
    copy, read from the snapshot): it is read back from the snapshot afterwards, then the
    snapshot folder is removed (D46). ``timings`` gains ``snapshot_write`` and the notebooks'.

    ``loaded`` is a one-item list holding the registry, so that the caller keeps no reference
    to it.

    Returns
    -------
    tuple
        ``(registry, snapshot manifest entry or None, notebook parameters)``.
    """
    import gc

    from sirtstats.snapshot import read_snapshot

    registry = loaded.pop()
    t_snap = time.perf_counter()
    snapshot = _write_snapshot(registry, attempt, declared)
    timings["snapshot_write"] = round(time.perf_counter() - t_snap, 3)
    if snapshot is not None:
        registry = None
        gc.collect()
    nb_timings, nb_params = _run_notebooks(nb_paths, declared, injected, attempt, target,
                                           kernel_name, timeout, jobs, say)
    timings.update(nb_timings)
    if snapshot is not None:
        registry = read_snapshot(attempt / SNAPSHOT_DIRNAME)
        shutil.rmtree(attempt / SNAPSHOT_DIRNAME)
    return registry, snapshot, nb_params


def _write_snapshot(registry, attempt: Path, declared: dict) -> dict | None:
    """Write the validated registry as the snapshot the notebooks read (D46).

    Returns
    -------
    dict or None
        For the manifest: ``sha256`` of the snapshot's ``snapshot.json`` (which holds the
        SHA-256 of each table file), ``format`` and the table files' SHA-256; None (nothing
        written) when no notebook declares ``snapshot_path``.
    """
    import json

    from sirtstats.snapshot import SNAPSHOT_FORMAT, snapshot_sha256, write_snapshot

    if not any("snapshot_path" in names for names in declared.values()):
        return None
    index_path = write_snapshot(registry, attempt / SNAPSHOT_DIRNAME)
    index = json.loads(index_path.read_text(encoding="utf-8"))
    files = {spec["file"]: spec["sha256"]
             for spec in [*index["tables"].values(), index["problems"]]}
    return {"format": SNAPSHOT_FORMAT, "sha256": snapshot_sha256(index_path.parent),
            "files_sha256": dict(sorted(files.items()))}


class _NotebookFailed(Exception):
    def __init__(self, failure: NotebookFailure):
        super().__init__(failure.describe())
        self.failure = failure


def order_longest_first(nb_paths: list[Path], root: Path) -> list[Path]:
    """Start order for parallel runs: longest notebook first (by the latest report's timings).

    With 2 workers, starting the longest notebooks first keeps both busy until the end
    (longest-processing-time rule). Notebooks without a known time go first, in name order;
    without any previous report the order is unchanged.

    Parameters
    ----------
    nb_paths : list of Path
        Notebooks in name order.
    root : Path
        Output root holding previous ``<period>/manifest.json`` files.

    Returns
    -------
    list of Path
    """
    import json

    from sirtstats.report.periods import PERIOD_PATTERN

    manifests = sorted((p for p in Path(root).glob("*/manifest.json")
                        if PERIOD_PATTERN.match(p.parent.name)), key=lambda p: p.parent.name)
    if not manifests:
        return list(nb_paths)
    try:
        timings = json.loads(manifests[-1].read_text(encoding="utf-8")).get("timings_s", {})
    except (OSError, ValueError):
        return list(nb_paths)
    known = {k: v["execute"] for k, v in timings.items() if isinstance(v, dict) and "execute" in v}
    return sorted(nb_paths, key=lambda p: -known.get(p.stem, float("inf")))


def _shown_value(info):
    """A declared default as a value (its source text when it is not a literal)."""
    from sirtstats.report.params import _NO_DEFAULT, _default_value

    value = _default_value(info)
    return info["default"] if value is _NO_DEFAULT else value


def _notebook_values(stem, declared, injected_all, attempt):
    """What a notebook is given (attempt paths) and what the manifest shows it ran with
    (its declared defaults overridden by what was injected, the published folder as
    output_dir)."""
    injected = dict(injected_all[stem])
    if "output_dir" in injected:
        injected["output_dir"] = str(attempt)
    if "snapshot_path" in declared[stem]:
        injected["snapshot_path"] = str(attempt / SNAPSHOT_DIRNAME)
    shown = {k: _shown_value(v) for k, v in declared[stem].items()}
    shown.update(injected_all[stem])
    return injected, shown


def _publish_notebook(nb_path, out, attempt, target, seconds) -> dict:
    """Normalise an executed notebook and export it to HTML; its timings."""
    from sirtstats.report.export import export_notebook_html

    t_html = time.perf_counter()
    normalise_executed_notebook(out, attempt=attempt, target=target)
    export_notebook_html(out, out.with_suffix(".html"), title=_notebook_title(nb_path))
    return {"execute": round(seconds, 3), "html": round(time.perf_counter() - t_html, 3)}


def _run_notebooks(nb_paths, declared, injected_all, attempt, target, kernel_name, timeout, jobs,
                   say):
    out_dir = attempt / "notebooks"
    out_dir.mkdir()
    timings, nb_params = {}, {}
    failure = None
    pool = ThreadPoolExecutor(max_workers=min(jobs, len(nb_paths)),
                              thread_name_prefix="notebook")
    interrupted = False
    pending = {}
    queue = order_longest_first(nb_paths, attempt.parent) if jobs > 1 else list(nb_paths)

    def fill():
        while queue and len(pending) < jobs:
            nb_path = queue.pop(0)
            injected, nb_params[nb_path.stem] = _notebook_values(nb_path.stem, declared,
                                                                 injected_all, attempt)
            out = out_dir / f"{nb_path.stem}.ipynb"
            fut = pool.submit(_execute, nb_path, out, injected, kernel_name, timeout)
            pending[fut] = (nb_path, out)

    try:
        fill()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                nb_path, out = pending.pop(fut)
                try:
                    seconds = fut.result()
                except Exception as exc:  # papermill / kernel errors
                    failure = failure or (_failure_from(exc, nb_path, out), exc)
                    continue
                if failure is None:
                    timings[nb_path.stem] = _publish_notebook(nb_path, out, attempt, target,
                                                              seconds)
                    say(f"[{len(timings)}/{len(nb_paths)}] {nb_path.stem} \u2026 {seconds:.1f} s")
            if failure is None:
                fill()
    except (KeyboardInterrupt, SystemExit):
        interrupted = True  # Ctrl-C / SIGTERM: do not wait for the running notebooks
        raise
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    if failure is not None:
        raise _NotebookFailed(failure[0]) from failure[1]
    return timings, nb_params


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


def _assemble(attempt, root, params, registry, nb_paths, nb_params, timings, now, skipped=None):
    import sirtstats
    from sirtstats.disclosure import DisclosurePolicy, protect_metrics
    from sirtstats.report import manifest as mf
    from sirtstats.report.activity import summarise_activity
    from sirtstats.report.export import (
        merge_metrics,
        write_json,
        write_tables_docx,
        write_tables_workbook,
    )
    from sirtstats.report.index_html import IndexContent, metric_deltas, write_index

    tables = dict(registry.tables)
    cohort_ids = _cohort_patient_ids(registry, params)
    activity = summarise_activity(tables, end=params.cutoff_date, patient_ids=cohort_ids)
    policy = DisclosurePolicy(params.disclosure, params.small_cell_threshold)
    activity = protect_metrics(activity, policy, all_counts=True)
    metrics = merge_metrics(attempt / "metrics", extra={"registry": activity})
    shutil.rmtree(attempt / "metrics", ignore_errors=True)
    write_json(metrics, attempt / "metrics.json")

    workbook = write_tables_workbook(attempt / "tables", attempt / "tables.xlsx")
    write_tables_docx(attempt / "tables", attempt / "tables.docx")
    table_stems = sorted(p.stem for p in (attempt / "tables").glob("*.csv"))
    figure_stems = sorted({p.stem for p in (attempt / "figures").glob("*.png")} |
                          {p.stem for p in (attempt / "figures").glob("*.svg")})

    previous = _previous_report(root, params)
    changes = None
    if previous is not None:  # an internal previous report: its small counts go too (D41)
        previous["metrics"] = protect_metrics(previous["metrics"], policy)
        since = dt.date.fromisoformat(previous["cutoff_date"])
        changes = {
            "period": previous["period"],
            "cutoff_date": previous["cutoff_date"],
            "new": protect_metrics(summarise_activity(tables, start=since,
                                                      end=params.cutoff_date,
                                                      patient_ids=cohort_ids),
                                   policy, all_counts=True),
            "deltas": metric_deltas(metrics, previous["metrics"]),
        }
    git = mf.git_commit()
    content = IndexContent(
        period=params.period.label,
        cutoff_date=params.cutoff_date.isoformat(),
        data_source="demo registry" if params.data_path == "demo" else Path(params.data_path).name,
        diagnoses=list(params.diagnoses or ()), devices=list(params.devices or ()),
        criterion=params.criterion, metrics=metrics, activity=activity,
        notebooks=[(p.stem, _notebook_title(p)) for p in nb_paths],
        tables=table_stems, figures=figure_stems, has_workbook=workbook is not None,
        has_docx=(attempt / "tables.docx").exists(),
        previous=changes, sirtstats_version=sirtstats.__version__, git_commit=git["commit"],
        skipped=list(skipped or []),
        disclosure=params.disclosure, small_cell_threshold=params.small_cell_threshold,
    )
    write_index(attempt, content)  # back links on the notebook pages, then index.html

    outputs = {p.relative_to(attempt).as_posix(): mf.file_sha256(p)
               for p in sorted(attempt.rglob("*")) if p.is_file()}
    manifest = {
        "report": {"period": params.period.label, "generated_at": now().isoformat(
            timespec="seconds"), "kernel": KERNEL_NAME,
            "skipped_notebooks": {stem: note for stem, _title, note in skipped or []},
            "disclosure": params.disclosure, "small_cell_threshold": params.small_cell_threshold},
        "parameters": params.to_dict(),
        "notebook_parameters": nb_params,
        "sirtstats_version": sirtstats.__version__,
        "git": git,
        "packages": mf.package_versions(),
        "inputs": {"source": params.data_path,
                   "sha256": mf.input_hashes(params.data_path, tables,
                                             getattr(registry, "file_hashes", None))},
        "row_counts": {
            "inputs": {name: int(len(df)) for name, df in sorted(tables.items())},
            "tables": {s: _count_rows(attempt / "tables" / f"{s}.csv") for s in table_stems},
        },
        "changes_since_previous": (None if changes is None else
                                   {"period": changes["period"],
                                    "cutoff_date": changes["cutoff_date"],
                                    "new": changes["new"]}),
        "outputs_sha256": outputs,
    }
    return metrics, manifest
