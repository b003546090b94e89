"""Notebook execution: papermill runs, in parallel kernels, on the registry snapshot.

Part of :mod:`sirtstats.report.runner` (import from there): the environment of a reproducible
run, the snapshot the notebooks read (D46), the start order and the pool of notebook runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from sirtstats.report._runner_failures import _failure_from, _NotebookFailed
from sirtstats.report._runner_normalise import _publish_notebook

__all__: list[str] = []


#: Sub-folder of the attempt holding the registry snapshot the notebooks read (D46); removed
#: before publication (its SHA-256 stays in the manifest), kept with a failed attempt.
SNAPSHOT_DIRNAME = "_snapshot"


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


#: IPython kernel configuration of a report run: the kernels return freed memory to the system
#: after every cell (two kernels side by side at 20,000 patients, #13 item 9; D79).
_KERNEL_CONFIG = (
    "c.InteractiveShellApp.exec_lines = [\n"
    "    'import sirtstats._memory as _sirtstats_memory; '\n"
    "    '_sirtstats_memory.release_after_each_cell(); del _sirtstats_memory',\n"
    "]\n"
)


def _write_kernel_profile(ipython_dir: Path) -> None:
    """``<ipython_dir>/profile_default/ipython_kernel_config.py`` of a report run."""
    profile = ipython_dir / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(_KERNEL_CONFIG, encoding="utf-8")


@contextlib.contextmanager
def _kernel_env(source_date_epoch: int | None = None):
    """Environment of a reproducible run, restored afterwards.

    A fixed hash seed in kernels (set ordering, so outputs do not vary between runs);
    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention, which matplotlib's PDF and SVG
    writers and other tools use for the dates they embed) set to the data cut-off, so a figure's
    embedded date is the cut-off rather than the time of the run; papermill's own warnings
    (parameter-cell parsing, unknown parameters) kept out of the progress output: the runner
    checks parameters itself. ``IPYTHONDIR`` points at a profile of the run's own
    (:func:`_write_kernel_profile`): the kernels give freed memory back after each cell, and
    no user IPython profile or start-up file changes what a report computes.
    """
    import logging
    import tempfile

    ipython_dir = tempfile.mkdtemp(prefix="sirtstats-ipython-")
    _write_kernel_profile(Path(ipython_dir))
    values = {"PYTHONHASHSEED": "0", "IPYTHONDIR": ipython_dir}
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
        shutil.rmtree(ipython_dir, ignore_errors=True)
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _epoch(day: dt.date) -> int:
    """Seconds from 1970-01-01 UTC to midnight UTC of ``day``."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _run_on_snapshot(loaded, attempt, timings, nb_paths, declared, injected, target,
                     kernel_name, timeout, jobs, say):
    """Write the snapshot, run the notebooks on it, and return the registry for the assembly.

    Each notebook's cohort is selected once and written beside the snapshot (D79). While the
    notebooks run the runner does not hold the registry (each kernel reads what it needs from
    the snapshot) and has given the freed memory back: the registry is read back from the
    snapshot afterwards, then the snapshot folder is removed (D46). ``timings`` gains
    ``snapshot_write``, ``cohorts_write`` and the notebooks'; the snapshot's manifest entry
    gains ``cohorts``.

    ``loaded`` is a one-item list holding the registry, so that the caller keeps no reference
    to it.

    Returns
    -------
    tuple
        ``(registry, snapshot manifest entry or None, notebook parameters)``.
    """
    from sirtstats._memory import release_freed_memory
    from sirtstats.report._runner_cohort import write_report_cohorts
    from sirtstats.snapshot import read_snapshot

    registry = loaded.pop()
    t_snap = time.perf_counter()
    snapshot = _write_snapshot(registry, attempt, declared)
    timings["snapshot_write"] = round(time.perf_counter() - t_snap, 3)
    if snapshot is not None:
        t_cohorts = time.perf_counter()
        snapshot["cohorts"] = write_report_cohorts(registry, attempt / SNAPSHOT_DIRNAME,
                                                   declared, injected)
        timings["cohorts_write"] = round(time.perf_counter() - t_cohorts, 3)
        registry = None
        release_freed_memory()  # the runner idles at ~0.2 GB, not 0.45, while kernels run
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


#: Typical execution times (s) of the bundled notebooks, the start order of a first report
#: (no previous manifest): the 20,000-patient demo report on 2 cores, 2026-12-06.
TYPICAL_EXECUTE_S = {"05_dosimetry": 41.0, "04_toxicity": 27.0, "03_survival": 26.0,
                     "02_response": 24.0, "07_comparative": 23.0, "06_pet_response": 14.0,
                     "01_cohort": 9.0}


def order_longest_first(nb_paths: list[Path], root: Path) -> list[Path]:
    """Start order for parallel runs: longest notebook first (by the latest report's timings).

    With 2 workers, starting the longest notebooks first keeps both busy until the end
    (longest-processing-time rule). Notebooks without a known time go first, in name order;
    without any previous report the times are :data:`TYPICAL_EXECUTE_S`.

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
    known = dict(TYPICAL_EXECUTE_S)
    try:
        timings = (json.loads(manifests[-1].read_text(encoding="utf-8")).get("timings_s", {})
                   if manifests else {})
    except (OSError, ValueError):
        timings = {}
    if timings:
        known = {k: v["execute"] for k, v in timings.items()
                 if isinstance(v, dict) and "execute" in v}
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
