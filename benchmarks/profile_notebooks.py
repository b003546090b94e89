"""Profile every report notebook as a plain Python script (cProfile), one process each.

Each notebook becomes a script: its code cells in order, the parameters cell followed by the
values the report runner would inject (``data_path``, ``cutoff_date``, ``output_dir`` = a
temporary folder, ``snapshot_path`` = a registry snapshot written once beforehand, as the runner
does), ``display()`` a no-op and every figure closed after its cell (as the inline backend
does). The script runs under ``python -m cProfile`` in a fresh interpreter, so imports count as
they do in a kernel; no Jupyter kernel, papermill or HTML export is involved.

Usage::

    .venv/bin/python benchmarks/profile_notebooks.py [--data demo|FOLDER] [--cutoff 2026-09-30]
        [--notebooks 02,04] [--top 15] [--no-snapshot] [--snapshot DIR] [--keep DIR]
        [--no-cprofile]

``--data`` takes a registry folder as well (e.g. one written by ``sirtstats demo --patients
20000``); ``--snapshot DIR`` reuses a snapshot written by an earlier run (``--keep``) instead
of writing one. Prints, per notebook, its wall time, CPU time (user + sys of the script's
process) and peak RSS (``ru_maxrss`` of that process), and the top entries by cumulative time
(functions of sirtstats, matplotlib, pandas … — not the interpreter frames), then the top
entries over all notebooks. ``--no-cprofile`` runs the scripts without the profiler (CPU time
and RSS as in a kernel, no top entries). :func:`profile_notebooks` returns the same as data
(used by ``bench_all.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from sirtstats.report.runner import NOTEBOOK_GLOB, default_notebooks_dir

#: Frames that are the script itself or the interpreter, left out of the top entries.
_SKIP = ("<string>", "<frozen ", "{built-in method builtins.exec}", "profile_notebooks",
         "{method 'enable'", "cProfile")

_PRELUDE = '''import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as _plt
def display(*args, **kwargs):
    return None
'''

#: Appended to each script: CPU time and peak RSS of the process, to the file named by the
#: environment variable ``PROFILE_NB_USAGE`` (ru_maxrss is in KiB on Linux).
_EPILOGUE = '''import json as _json, os as _os, resource as _resource
_ru = _resource.getrusage(_resource.RUSAGE_SELF)
if _os.environ.get("PROFILE_NB_USAGE"):
    with open(_os.environ["PROFILE_NB_USAGE"], "w") as _fh:
        _json.dump({"cpu_s": round(_ru.ru_utime + _ru.ru_stime, 2),
                    "peak_rss_mb": round(_ru.ru_maxrss / 1024, 1)}, _fh)
'''


def notebook_script(nb_path: Path, values: dict) -> str:
    """A notebook as a script: code cells, injected ``values`` after the parameters cell."""
    nb = nbformat.read(str(nb_path), as_version=4)
    parts = [_PRELUDE]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join(line for line in cell.source.splitlines()
                        if not line.lstrip().startswith(("%", "!")))
        parts.append(src)
        if "parameters" in cell.metadata.get("tags", []):
            declared = src
            parts.append("\n".join(f"{k} = {v!r}" for k, v in values.items()
                                   if f"{k}:" in declared or f"{k} =" in declared))
        parts.append("_plt.close('all')")
    parts.append(_EPILOGUE)
    return "\n\n".join(parts) + "\n"


def _label(func: tuple) -> str:
    filename, line, name = func
    for marker in ("site-packages/", "sirtstats/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            if marker == "sirtstats/":
                filename = "sirtstats/" + filename
            break
    return f"{filename}:{line}({name})" if line else name


def top_entries(stats: pstats.Stats, n: int) -> list[dict]:
    """The ``n`` functions with the largest cumulative time, interpreter frames left out."""
    rows = []
    for func, (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        label = _label(func)
        if any(s in label for s in _SKIP) or func[0].endswith(".py") and "nb_" in func[0]:
            continue
        rows.append({"function": label, "ncalls": ncalls, "tottime_s": round(tottime, 3),
                     "cumtime_s": round(cumtime, 3)})
    rows.sort(key=lambda r: -r["cumtime_s"])
    return rows[:n]


def _write_snapshot(data: str, cutoff: str, folder: Path) -> Path:
    """The registry snapshot and the notebooks' cohorts (their default filters), as the
    report runner writes them."""
    from sirtstats.demo import load_registry
    from sirtstats.report._runner_cohort import write_report_cohorts
    from sirtstats.report._runner_notebooks import _inspect
    from sirtstats.snapshot import write_snapshot

    registry = load_registry(data, cutoff_date=cutoff)
    write_snapshot(registry, folder)
    declared = {p.stem: _inspect(p) for p in sorted(default_notebooks_dir().glob(NOTEBOOK_GLOB))}
    write_report_cohorts(registry, folder, declared, {stem: {"cutoff_date": cutoff}
                                                      for stem in declared})
    return folder


def profile_notebooks(data: str = "demo", cutoff: str = "2026-09-30", select=None,
                      top: int = 15, snapshot: bool = True, workdir: Path | None = None,
                      snapshot_dir: Path | None = None, cprofile: bool = True) -> dict:
    """Profile each report notebook in its own interpreter; return times and top entries.

    Returns
    -------
    dict
        ``notebooks``: stem -> {wall_s, cpu_s, peak_rss_mb, top}; ``overall_top``: the top
        entries summed over the notebooks (cumulative times added);
        ``snapshot_s``: time to write the snapshot.
    """
    work = Path(workdir or tempfile.mkdtemp(prefix="profile-nb-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if snapshot_dir is not None:
        snap = Path(snapshot_dir)
    else:
        snap = _write_snapshot(data, cutoff, work / "snapshot") if snapshot else None
    result = {"data": data, "snapshot_s": round(time.perf_counter() - t0, 3), "notebooks": {}}
    values = {"data_path": data, "cutoff_date": cutoff, "output_dir": str(work / "out"),
              "snapshot_path": str(snap) if snap else ""}
    paths = sorted(default_notebooks_dir().glob(NOTEBOOK_GLOB))
    if select:
        paths = [p for p in paths if any(p.stem.startswith(s) for s in select)]
    combined = None
    for path in paths:
        script = work / f"nb_{path.stem}.py"
        script.write_text(notebook_script(path, values), encoding="utf-8")
        prof = work / f"{path.stem}.prof"
        usage = work / f"{path.stem}.usage.json"
        cmd = ([sys.executable, "-m", "cProfile", "-o", str(prof), str(script)] if cprofile
               else [sys.executable, str(script)])
        start = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=str(path.parent), stdout=subprocess.DEVNULL,
                       env={**os.environ, "PROFILE_NB_USAGE": str(usage)})
        wall = time.perf_counter() - start
        info = {"wall_s": round(wall, 3), **json.loads(usage.read_text()), "top": []}
        if cprofile:
            stats = pstats.Stats(str(prof))
            info["top"] = top_entries(stats, top)
            combined = stats if combined is None else combined.add(str(prof))
        result["notebooks"][path.stem] = info
    result["overall_top"] = top_entries(combined, top) if combined else []
    return result


def _print(result: dict) -> None:
    print(f"snapshot written in {result['snapshot_s']:.2f} s")
    for stem, info in result["notebooks"].items():
        how = "under cProfile" if info["top"] else "without the profiler"
        print(f"\n{stem}: {info['wall_s']:.2f} s wall, {info['cpu_s']:.2f} s CPU, "
              f"{info['peak_rss_mb']:.0f} MB peak RSS (as a script, {how})")
        for row in info["top"]:
            print(f"  {row['cumtime_s']:8.2f} s cum {row['tottime_s']:8.2f} s own "
                  f"{row['ncalls']:>9}  {row['function']}")
    print("\nall notebooks:")
    for row in result["overall_top"]:
        print(f"  {row['cumtime_s']:8.2f} s cum {row['tottime_s']:8.2f} s own "
              f"{row['ncalls']:>9}  {row['function']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="demo")
    parser.add_argument("--cutoff", default="2026-09-30")
    parser.add_argument("--notebooks", default="", help="prefixes, e.g. 02,04")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--no-snapshot", action="store_true",
                        help="notebooks load data_path themselves (standalone path)")
    parser.add_argument("--snapshot", default=None,
                        help="reuse this snapshot folder (e.g. KEEP/snapshot of an earlier run)")
    parser.add_argument("--keep", default=None, help="work folder to keep (scripts, .prof)")
    parser.add_argument("--no-cprofile", action="store_true",
                        help="run the scripts without the profiler (CPU time, RSS only)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    select = [s for s in args.notebooks.split(",") if s]
    result = profile_notebooks(args.data, args.cutoff, select, args.top,
                               snapshot=not args.no_snapshot,
                               workdir=Path(args.keep) if args.keep else None,
                               snapshot_dir=Path(args.snapshot) if args.snapshot else None,
                               cprofile=not args.no_cprofile)
    _print(result)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
