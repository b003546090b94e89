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

Everything is importable from here; :func:`run_report` lives here, the steps in private
modules beside it: ``_runner_notebooks`` (steps 1 and 3), ``_runner_cohort`` (4),
``_runner_execute`` (5), ``_runner_normalise`` (6: one notebook), ``_runner_assemble`` (6: the
report folder and its manifest) and ``_runner_failures`` (the errors, and where a notebook
failed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sirtstats.report._runner_assemble import _assemble
from sirtstats.report._runner_cohort import (
    _cohort_patient_ids,
    _comparison_cohorts,
    _effective_filters,
    check_cohorts_not_empty,
    load_checked_registry,
)
from sirtstats.report._runner_execute import SNAPSHOT_DIRNAME as SNAPSHOT_DIRNAME
from sirtstats.report._runner_execute import (
    _epoch,
    _kernel_env,
    _run_on_snapshot,
)
from sirtstats.report._runner_execute import order_longest_first as order_longest_first
from sirtstats.report._runner_failures import (
    EmptyCohortError,
    NotebookFailure,
    ReportError,
    _NotebookFailed,
)
from sirtstats.report._runner_normalise import INJECTED_CELL_ID, normalise_executed_notebook
from sirtstats.report._runner_notebooks import KERNEL_INSTALL_HINT as KERNEL_INSTALL_HINT
from sirtstats.report._runner_notebooks import (
    KERNEL_NAME,
    NOTEBOOK_GLOB,
    _inspect,
    check_kernel,
    default_notebooks_dir,
    discover_notebooks,
    read_notebook_parameters,
)
from sirtstats.report.params import (
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

#: Sub-folder of the output root holding reports of some notebooks only (``--notebooks``).
PARTIAL_DIRNAME = "_partial"
#: Sub-folder of the output root that holds the shareable reports (``shareable/<period>/``).
SHAREABLE_DIRNAME = "shareable"


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


def _stop_kernels_and_remove(attempt: Path) -> None:
    """On Ctrl-C / SIGTERM: stop this process's Jupyter kernels, then remove the attempt.

    A running kernel writes into the attempt folder (tables, figures) and papermill saves its
    notebook there when the kernel dies, so removing the folder while they run can leave it
    behind (a file created between the listing and the ``rmdir``). The kernels are the child
    processes running ``ipykernel``; removal is retried for up to 2 s.
    """
    try:
        import psutil  # installed with ipykernel
    except ImportError:
        psutil = None
    if psutil is not None:
        kernels = []
        for proc in psutil.Process().children():
            with contextlib.suppress(psutil.Error, OSError):  # gone, or not ours to read
                if "ipykernel" in " ".join(proc.cmdline()):
                    proc.kill()
                    kernels.append(proc)
        psutil.wait_procs(kernels, timeout=5)
    for _ in range(20):
        shutil.rmtree(attempt, ignore_errors=True)
        if not attempt.exists():
            return
        time.sleep(0.1)


def _as_overrides(parameters) -> list[ParameterOverride]:
    if parameters is None:
        return []
    if isinstance(parameters, Mapping):
        return overrides_from_mapping(parameters, origin="parameters")
    return list(parameters)


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
            for stem, _title, note in skipped:
                say(f"{stem} not run: {note}")
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
            _stop_kernels_and_remove(attempt)
            raise
    if partial and target != root / label:
        say(f"Partial report ({', '.join(p.stem for p in nb_paths)}) published: "
            f"{target / 'index.html'} ({timings['total']:.1f} s); the report {root / label} "
            "was not changed (--replace publishes a partial run there).")
    else:
        say(f"Report published: {target / 'index.html'} ({timings['total']:.1f} s)")
    return ReportResult(path=target, metrics=metrics, manifest=manifest, timings_s=timings,
                        partial=partial)
