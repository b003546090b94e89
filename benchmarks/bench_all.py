"""All performance numbers of issue #17 / #13 item 9 in one run, with medians.

1. report / floor: the quarterly report on the demo registry against the same notebooks with
   every analysis cell emptied (``bench_report.py``'s floor: kernel start, imports, papermill,
   HTML, workbook, manifest, publication);
2. sirtstats / pyrecist: ``bench_response.run_benchmark()`` when ``bench_response.py`` provides
   it (skipped with a note otherwise);
3. the 20,000-patient report: ``sirtstats demo --patients 20000`` (wall time, peak RSS), then
   ``sirtstats report`` on it as a child process: wall time and peak RSS of the whole process
   tree (the runner and every kernel it starts, sampled from ``/proc`` through psutil every
   0.2 s: the peak of the sum over live processes); the largest output files;
4. the top 5 entries of the notebooks' profile (``profile_notebooks.py``, demo registry).

Usage::

    .venv/bin/python benchmarks/bench_all.py [--repeats 3] [--large-repeats 1]
        [--patients 20000] [--skip report,response,large,profile] [--json out.json]

Benchmarks only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def run_sampled(cmd: list[str], *, interval: float = 0.2, cwd=None) -> dict:
    """Run ``cmd``; return wall time (s), peak RSS of its process tree and of one process (MB).

    The tree peak is the largest sum of RSS over the processes alive at one sample; the
    process peak is the largest single process seen.
    """
    import psutil

    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    proc = psutil.Process(child.pid)
    peak = {"tree": 0, "single": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                procs = [proc, *proc.children(recursive=True)]
                sizes = []
                for p in procs:
                    try:
                        sizes.append(p.memory_info().rss)
                    except psutil.Error:
                        pass
                peak["tree"] = max(peak["tree"], sum(sizes))
                peak["single"] = max([peak["single"], *sizes])
            except psutil.Error:
                pass
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    output, _ = child.communicate()
    wall = time.perf_counter() - start
    stop.set()
    thread.join()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {child.returncode}:\n{output[-4000:]}")
    return {"wall_s": round(wall, 2), "peak_tree_rss_mb": round(peak["tree"] / 2**20),
            "peak_process_rss_mb": round(peak["single"] / 2**20), "output": output}


def _median(values):
    return round(statistics.median(values), 3) if values else None


def bench_report_floor(repeats: int, jobs: int = 2) -> dict:
    """Median wall time of the demo report and of its floor, and their ratio."""
    from bench_report import _run, make_floor_notebooks

    from sirtstats.report import validate_parameters
    from sirtstats.report.runner import default_notebooks_dir

    params = validate_parameters({"period": "2026Q3", "data_path": "demo"})
    full, floor = [], []
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        floor_dir = Path(tmp) / "notebooks"
        make_floor_notebooks(default_notebooks_dir(), floor_dir)
        _run(params, floor_dir, jobs)  # warm-up
        for i in range(repeats):
            order = [("full", default_notebooks_dir()), ("floor", floor_dir)]
            for kind, folder in order if i % 2 == 0 else order[::-1]:
                wall, _timings = _run(params, folder, jobs)
                (full if kind == "full" else floor).append(round(wall, 2))
            print(f"  report repeat {i + 1}/{repeats}: full {full[-1]:.1f} s, "
                  f"floor {floor[-1]:.1f} s", file=sys.stderr)
    return {"full_s": full, "floor_s": floor, "full_median_s": _median(full),
            "floor_median_s": _median(floor),
            "ratio": round(statistics.median(full) / statistics.median(floor), 3)}


def bench_response() -> dict:
    """``bench_response.run_benchmark()`` if it exists; else a note."""
    try:
        import bench_response
    except ImportError as exc:
        return {"skipped": f"bench_response.py cannot be imported ({exc})"}
    run = getattr(bench_response, "run_benchmark", None)
    if run is None:
        return {"skipped": "bench_response.py has no run_benchmark() (yet): not measured"}
    return {"result": run()}


def _largest_files(folder: Path, n: int = 6) -> list[tuple[str, float]]:
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: -p.stat().st_size)
    return [(p.relative_to(folder).as_posix(), round(p.stat().st_size / 2**20, 2))
            for p in files[:n]]


def bench_large(patients: int, repeats: int, jobs: int = 2) -> dict:
    """Demo generation and the report at ``patients`` patients: wall, peak RSS, big files."""
    exe = str(Path(sys.executable).with_name("sirtstats"))
    work = Path(tempfile.mkdtemp(prefix="bench-large-"))
    try:
        demo, report, largest = [], [], []
        data = work / "registry"
        for i in range(repeats):
            shutil.rmtree(data, ignore_errors=True)
            demo.append(run_sampled([exe, "demo", str(data), "--patients", str(patients)]))
            root = work / f"reports{i}"
            report.append(run_sampled([exe, "report", "--data", str(data), "--period",
                                       "2026Q3", "--output-root", str(root), "--jobs",
                                       str(jobs)]))
            largest = _largest_files(root / "2026Q3")
            print(f"  {patients} patients, repeat {i + 1}/{repeats}: demo "
                  f"{demo[-1]['wall_s']:.1f} s, report {report[-1]['wall_s']:.1f} s, "
                  f"{report[-1]['peak_tree_rss_mb']} MB tree peak", file=sys.stderr)
        manifest = json.loads((root / "2026Q3" / "manifest.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def summary(runs):
        return {k: _median([r[k] for r in runs])
                for k in ("wall_s", "peak_tree_rss_mb", "peak_process_rss_mb")}

    return {"patients": patients, "repeats": repeats, "demo": summary(demo),
            "report": summary(report), "report_timings_s": manifest["timings_s"],
            "largest_files_mb": largest}


def bench_profile(top: int = 5) -> dict:
    """Top entries of the notebooks' profile (demo registry, snapshot as in the report)."""
    from profile_notebooks import profile_notebooks

    result = profile_notebooks(top=top)
    return {"overall_top": result["overall_top"],
            "notebook_wall_s": {k: v["wall_s"] for k, v in result["notebooks"].items()}}


def _print(results: dict) -> None:
    rf = results.get("report_floor")
    if rf:
        print(f"report/floor (demo, medians of {len(rf['full_s'])}): {rf['full_median_s']:.1f} s "
              f"/ {rf['floor_median_s']:.1f} s = {rf['ratio']:.2f} (aim <= 1.3)")
    resp = results.get("response")
    if resp:
        if resp.get("skipped"):
            print("sirtstats/pyrecist: " + resp["skipped"])
        else:
            r = resp["result"]
            print(f"sirtstats/pyrecist (target-only): {r['ratio_vs_pyrecist']:.0f}x wall, "
                  f"{r['ratio_vs_pyrecist_back_to_back']:.0f}x back to back (aim >= 100); "
                  f"1 M measurements -> timepoints + BOR, both criteria: "
                  f"{r['sirtstats_median_s']:.2f} s wall, {r['sirtstats_median_cpu_s']:.2f} s "
                  "CPU (aim <= 1.5 s)")
    lg = results.get("large")
    if lg:
        print(f"{lg['patients']}-patient demo generation: {lg['demo']['wall_s']:.1f} s wall, "
              f"peak RSS {lg['demo']['peak_tree_rss_mb']} MB (aim < 30 s)")
        print(f"{lg['patients']}-patient report: {lg['report']['wall_s']:.1f} s wall "
              f"(aim < 120 s), peak RSS of the process tree {lg['report']['peak_tree_rss_mb']} "
              f"MB (aim < 2048), largest process {lg['report']['peak_process_rss_mb']} MB")
        print("  largest files (MB): " + ", ".join(f"{n} {s}" for n, s in
                                                   lg["largest_files_mb"]))
    prof = results.get("profile")
    if prof:
        print("profile, top 5 (cumulative s over the notebooks, run as scripts):")
        for row in prof["overall_top"]:
            print(f"  {row['cumtime_s']:8.2f}  {row['function']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large-repeats", type=int, default=1)
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma list: report,response,large,profile")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    results = {}
    if "report" not in skip:
        results["report_floor"] = bench_report_floor(args.repeats, args.jobs)
    if "response" not in skip:
        results["response"] = bench_response()
    if "large" not in skip:
        results["large"] = bench_large(args.patients, args.large_repeats, args.jobs)
    if "profile" not in skip:
        results["profile"] = bench_profile()
    _print(results)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
