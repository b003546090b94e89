"""Benchmark: the whole quarterly report against its floor.

The floor is the same report with every analysis cell emptied: each notebook keeps its markdown,
its parameters cell and its import-only cells, so the floor measures kernel start, imports,
papermill, HTML conversion, the workbook/manifest/index and publication: everything the report
machinery costs that the analyses do not. The ratio full / floor says how much the analyses add;
the aim (issue #7) is <= 1.3x on the demo registry with 2 notebooks at a time on 2 cores.

Usage::

    .venv/bin/python benchmarks/bench_report.py [--repeats 3] [--jobs 2] [--data demo]
        [--period 2026Q3] [--notebooks-dir notebooks] [--json benchmarks/results/report.json]

Prints medians (s) of the full report and the floor, their ratio, and per-notebook execute
medians from manifest.json; writes the numbers as JSON (benchmarks/results/ is gitignored).
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from sirtstats.report import run_report, validate_parameters
from sirtstats.report.runner import NOTEBOOK_GLOB, default_notebooks_dir


def _is_import_only(source: str) -> bool:
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(n, ast.Import | ast.ImportFrom) for n in body)


def make_floor_notebooks(src_dir: Path, dst_dir: Path) -> list[Path]:
    """Copy the report notebooks with every analysis cell emptied (parameters, imports kept)."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for path in sorted(Path(src_dir).glob(NOTEBOOK_GLOB)):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if "parameters" in cell.metadata.get("tags", []) or _is_import_only(cell.source):
                continue
            cell.source = ""
        target = dst_dir / path.name
        nbformat.write(nb, str(target))
        out.append(target)
    return out


def _run(params, notebooks_dir: Path, jobs: int) -> tuple[float, dict]:
    root = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        start = time.perf_counter()
        result = run_report(params, output_root=root, notebooks_dir=notebooks_dir, jobs=jobs,
                            echo=None)
        wall = time.perf_counter() - start
        return wall, result.manifest["timings_s"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data", default="demo")
    parser.add_argument("--period", default="2026Q3")
    parser.add_argument("--notebooks-dir", default=None)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)

    src = Path(args.notebooks_dir) if args.notebooks_dir else default_notebooks_dir()
    params = validate_parameters({"period": args.period, "data_path": args.data})
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        floor_dir = Path(tmp) / "notebooks"
        make_floor_notebooks(src, floor_dir)
        _run(params, floor_dir, args.jobs)  # warm-up: imports, disk caches
        full, floor, per_nb = [], [], {}
        for i in range(args.repeats):
            # alternate the order so drift in machine load affects both alike
            order = [("full", src), ("floor", floor_dir)]
            for kind, folder in order if i % 2 == 0 else order[::-1]:
                wall, timings = _run(params, folder, args.jobs)
                (full if kind == "full" else floor).append(wall)
                for name, t in timings.items():
                    if isinstance(t, dict):
                        per_nb.setdefault(f"{kind}:{name}", []).append(t["execute"])
            print(f"repeat {i + 1}/{args.repeats}: full {full[-1]:.1f} s, floor {floor[-1]:.1f} s",
                  file=sys.stderr)
    result = {
        "data": args.data, "period": args.period, "jobs": args.jobs, "repeats": args.repeats,
        "full_median_s": round(statistics.median(full), 3),
        "floor_median_s": round(statistics.median(floor), 3),
        "ratio": round(statistics.median(full) / statistics.median(floor), 3),
        "full_s": [round(x, 3) for x in full], "floor_s": [round(x, 3) for x in floor],
        "notebook_execute_median_s": {k: round(statistics.median(v), 3)
                                      for k, v in sorted(per_nb.items())},
    }
    print(f"full report  median {result['full_median_s']:.2f} s  {result['full_s']}")
    print(f"floor        median {result['floor_median_s']:.2f} s  {result['floor_s']}")
    print(f"ratio full/floor: {result['ratio']:.2f} (aim <= 1.3)")
    for name, t in result["notebook_execute_median_s"].items():
        print(f"  {name:<28} {t:6.2f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
