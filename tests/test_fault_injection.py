"""Fault injection: a killed or failing report run never damages the published report (#13).

Each test starts from the same published state (a full report ``reports/2026Q3/`` and a partial
one ``reports/_partial/2026Q3/``, made from two tiny notebooks on a 30-patient demo registry),
runs ``sirtstats report`` in a subprocess, injects one fault, then checks that

* the published reports are byte for byte what they were (no half-written report in their
  place, nothing in ``_failed/`` for a killed run);
* the next, fault-free run succeeds and leaves no attempt (``.2026Q3.tmp-<pid>``) or backup
  (``.2026Q3.old-<pid>``) folder behind.

The faults are placed without any test hook in the runner: the run is blocked at a known point
by a named pipe (FIFO) that the process reads and the test holds open without writing, and the
test kills the process (``SIGKILL``, then its Jupyter kernels, which run in their own session)
once the pipe has a reader and the files that mark the phase exist in the attempt folder.

* during the registry load: a table file of the registry is a symbolic link to the FIFO;
* during a notebook: the notebook writes its table, then reads the FIFO;
* during assembly: a notebook leaves a ``tables/*.csv`` link to the FIFO, which the workbook
  export reads after ``metrics.json`` is written;
* at publication: killed as soon as ``manifest.json`` appears in the attempt (the last file
  before the atomic swap). The kill lands before or after the swap, so the published folder
  must be either the previous report or the complete new one (every file its manifest lists,
  with that hash), never a mixture;
* a notebook that raises: exit 1, the attempt moved to ``_failed/``, the reports unchanged.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import make_notebook, make_tiny_notebooks  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.notebooks]

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026Q3"
#: Generous: a report run of two tiny notebooks takes ~15 s on a loaded 2-core machine.
TIMEOUT_S = 240


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _cli(*args: str) -> list[str]:
    code = "import sys; from sirtstats.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, *args]


def _report_args(data: Path, root: Path, nb_dir: Path, *extra: str) -> list[str]:
    return _cli(
        "report",
        "--period",
        PERIOD,
        "--data",
        str(data),
        "--output-root",
        str(root),
        "--notebooks-dir",
        str(nb_dir),
        "--jobs",
        "1",
        "--quiet",
        *extra,
    )


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=_env(), capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _published(root: Path) -> dict[str, dict[str, str]]:
    return {"full": _tree(root / PERIOD), "partial": _tree(root / "_partial" / PERIOD)}


def _leftovers(root: Path) -> list[str]:
    """Attempt and backup folders of the period, anywhere a run puts them."""
    places = [root, root / "_partial"]
    return sorted(
        p.name
        for place in places
        if place.is_dir()
        for p in place.iterdir()
        if p.name.startswith((f".{PERIOD}.tmp-", f".{PERIOD}.old-"))
    )


def _attempts(root: Path) -> list[Path]:
    return sorted(root.glob(f".{PERIOD}.tmp-*"))


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc parent links), children first seen first."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the report process, then the kernels it started (their own sessions)."""
    below = _descendants(proc.pid)
    for pid in [proc.pid, *below]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)


def _wait_for_reader(fifo: Path, proc: subprocess.Popen, *marks: Path) -> int:
    """Wait until ``proc`` blocks reading ``fifo`` and every ``marks`` file exists.

    Returns the write end of the FIFO, held open (without writing) so the reader stays blocked.
    """
    deadline = time.monotonic() + TIMEOUT_S
    fd = None
    while True:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) before the fault point:\n{err}")
        assert time.monotonic() < deadline, "the run did not reach the fault point"
        if fd is None:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: nobody has the pipe open for reading
                    raise
        if fd is not None and all(m.exists() for m in marks):
            return fd
        time.sleep(0.05)


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Demo registry (30 patients), tiny notebooks, and a full and a partial 2026Q3 report."""
    base = tmp_path_factory.mktemp("faults")
    data = base / "data"
    proc = _run(_cli("demo", "--patients", "30", str(data)))
    assert proc.returncode == 0, proc.stderr
    nb_dir = make_tiny_notebooks(base / "notebooks")
    root = base / "reports"
    for extra in ((), ("--notebooks", "01")):
        proc = _run(_report_args(data, root, nb_dir, *extra))
        assert proc.returncode == 0, proc.stderr
    assert (root / PERIOD / "index.html").is_file()
    assert (root / "_partial" / PERIOD / "index.html").is_file()
    return {"data": data, "nb_dir": nb_dir, "root": root, "before": _published(root)}


@pytest.fixture
def state(published, tmp_path):
    """A private copy of the published state (data, notebooks, reports) for one test."""
    data = tmp_path / "data"
    shutil.copytree(published["data"], data)
    nb_dir = tmp_path / "notebooks"
    shutil.copytree(published["nb_dir"], nb_dir)
    root = tmp_path / "reports"
    shutil.copytree(published["root"], root, symlinks=True)
    fifo = tmp_path / "block.fifo"
    os.mkfifo(fifo)
    assert _published(root) == published["before"]
    return {
        "data": data,
        "nb_dir": nb_dir,
        "root": root,
        "fifo": fifo,
        "before": published["before"],
        "tmp": tmp_path,
    }


def _faulty_notebooks(state, *cells: str) -> Path:
    """The tiny notebooks plus ``03_fault`` running ``cells`` (a separate folder)."""
    nb_dir = state["tmp"] / "faulty_notebooks"
    shutil.copytree(state["nb_dir"], nb_dir)
    make_notebook(nb_dir / "03_fault.ipynb", *cells, title="Fault")
    return nb_dir


def _assert_intact_then_next_run_succeeds(state, *extra: str) -> None:
    root = state["root"]
    assert _published(root) == state["before"], "a published report changed"
    assert not (root / "_failed").exists() or not any((root / "_failed").iterdir())
    proc = _run(_report_args(state["data"], root, state["nb_dir"], *extra))
    assert proc.returncode == 0, proc.stderr
    assert (root / PERIOD / "index.html").is_file()
    assert _leftovers(root) == [], "the next run left attempt or backup folders"


def test_sigkill_during_registry_load(state):
    labs = state["data"] / "labs.csv"
    kept = state["tmp"] / "labs.csv"
    shutil.move(labs, kept)
    labs.symlink_to(state["fifo"])
    proc = _start(_report_args(state["data"], state["root"], state["nb_dir"]))
    fd = None
    try:
        fd = _wait_for_reader(state["fifo"], proc)
        # the registry is read before the attempt folder is made: nothing written yet
        assert _attempts(state["root"]) == []
        _kill_tree(proc)
    finally:
        if proc.poll() is None:
            _kill_tree(proc)
        if fd is not None:
            os.close(fd)
    assert _attempts(state["root"]) == []
    labs.unlink()
    shutil.move(kept, labs)
    _assert_intact_then_next_run_succeeds(state)


@pytest.mark.parametrize("partial", [False, True], ids=["full_run", "partial_run"])
def test_sigkill_during_notebook_execution(state, partial):
    fifo = state["fifo"]
    nb_dir = _faulty_notebooks(
        state,
        "from sirtstats.outputs import save_table\nimport pandas as pd\n"
        "save_table(pd.DataFrame({'x': [1]}), '03_fault', output_dir=output_dir)",
        f"open({str(fifo)!r}).read()",
    )
    extra = ("--notebooks", "03") if partial else ()
    proc = _start(_report_args(state["data"], state["root"], nb_dir, *extra))
    fd = None
    try:
        fd = _wait_for_reader(fifo, proc)
        attempts = _attempts(state["root"])
        assert len(attempts) == 1
        assert (attempts[0] / "tables" / "03_fault.csv").is_file()  # the notebook is running
        _kill_tree(proc)
    finally:
        if proc.poll() is None:
            _kill_tree(proc)
        if fd is not None:
            os.close(fd)
    assert attempts[0].is_dir()  # a SIGKILLed run cannot clean up; the next run does
    assert not (attempts[0] / "index.html").exists()
    _assert_intact_then_next_run_succeeds(state, *(("--notebooks", "01") if partial else ()))
    assert not attempts[0].exists()


def test_sigkill_during_assembly(state):
    fifo = state["fifo"]
    nb_dir = _faulty_notebooks(
        state,
        "import os\nfrom pathlib import Path\n"
        "(Path(output_dir) / 'tables').mkdir(parents=True, exist_ok=True)\n"
        f"os.symlink({str(fifo)!r}, Path(output_dir) / 'tables' / 'zz_block.csv')",
    )
    proc = _start(_report_args(state["data"], state["root"], nb_dir))
    fd = None
    try:
        fd = _wait_for_reader(fifo, proc)
        attempts = _attempts(state["root"])
        assert len(attempts) == 1
        # every notebook ran and the key numbers are merged: the workbook export is reading
        assert (attempts[0] / "metrics.json").is_file()
        assert (attempts[0] / "notebooks" / "03_fault.html").is_file()
        assert not (attempts[0] / "index.html").exists()
        _kill_tree(proc)
    finally:
        if proc.poll() is None:
            _kill_tree(proc)
        if fd is not None:
            os.close(fd)
    _assert_intact_then_next_run_succeeds(state)


def test_sigkill_at_publication_leaves_the_old_or_the_complete_new_report(state):
    root = state["root"]
    proc = _start(_report_args(state["data"], root, state["nb_dir"]))
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while proc.poll() is None:
            if any((a / "manifest.json").exists() for a in _attempts(root)):
                break
            assert time.monotonic() < deadline, "the run did not reach publication"
            time.sleep(0.002)
        if proc.poll() is None:
            _kill_tree(proc)
    finally:
        if proc.poll() is None:
            _kill_tree(proc)
    full = _tree(root / PERIOD)
    if full != state["before"]["full"]:
        # the swap happened: the published folder is the whole new report
        manifest = json.loads((root / PERIOD / "manifest.json").read_text(encoding="utf-8"))
        listed = manifest["outputs_sha256"]
        assert {k: v for k, v in full.items() if k != "manifest.json"} == listed
    assert _tree(root / "_partial" / PERIOD) == state["before"]["partial"]
    proc = _run(_report_args(state["data"], root, state["nb_dir"]))
    assert proc.returncode == 0, proc.stderr
    assert _leftovers(root) == []


def test_raising_notebook_keeps_the_report_and_the_failed_attempt(state):
    nb_dir = _faulty_notebooks(state, "raise RuntimeError('planted failure')")
    proc = _run(_report_args(state["data"], state["root"], nb_dir))
    assert proc.returncode == 1, proc.stderr
    assert "03_fault" in proc.stderr
    root = state["root"]
    assert _published(root) == state["before"]
    failed = sorted((root / "_failed").iterdir())
    assert len(failed) == 1
    assert failed[0].name.startswith(f"{PERIOD}-")
    assert (failed[0] / "error.txt").is_file()
    executed = json.loads((failed[0] / "notebooks" / "03_fault.ipynb").read_text("utf-8"))
    errors = [
        o
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert errors
    assert errors[0]["evalue"] == "planted failure"
    assert _leftovers(root) == []
    shutil.rmtree(root / "_failed")
    _assert_intact_then_next_run_succeeds(state)
