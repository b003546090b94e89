"""Benchmark: load + validate generated registries of 1k, 5k and 20k patients (issue #2 item 8).

Usage::

    .venv/bin/python benchmarks/bench_load_validate.py [--sizes 1000 5000 20000] [--repeat 3]
    .venv/bin/python benchmarks/bench_load_validate.py --registry FOLDER   # an existing folder

For each size it writes a registry (``sirtstats.demo.write_demo_registry`` when available,
otherwise copies of the small hand-made registry of ``tests/_registry_fixture.py``) to a temporary
folder (or takes the folder ``--registry``), then times ``validate_registry`` and ``load_registry``
(median wall and CPU seconds of ``--repeat`` runs),
reports rows/s (all data rows of all tables / load time) and peak Python memory of one load
(tracemalloc), and the time ``import sirtstats`` adds to ``import pandas`` (fresh interpreter,
median of 5). Aims: linear growth, >= 200k rows/s validated, import overhead <= 0.5 s.

Prints a table and writes JSON to ``benchmarks/results/`` (git-ignored). Not run by the tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def write_registry(folder: Path, n_patients: int, seed: int) -> str:
    """Write a registry of about ``n_patients`` patients; return the generator used."""
    try:
        from sirtstats.demo import write_demo_registry
    except ImportError:
        write_demo_registry = None
    if write_demo_registry is not None:
        write_demo_registry(folder, n_patients=n_patients, seed=seed)
        return "sirtstats.demo.write_demo_registry"
    return _replicate_fixture(folder, n_patients)


def _replicate_fixture(folder: Path, n_patients: int) -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    import pandas as pd
    from _registry_fixture import valid_tables

    base = valid_tables()
    copies = max(1, n_patients // 3)
    id_cols = {"patient_id", "lesion_id", "workup_id", "session_id", "injection_id",
               "dosimetry_id", "ae_id", "therapy_id"}
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in base.items():
        df = pd.DataFrame(rows[1:], columns=rows[0])
        parts = []
        for k in range(copies):
            part = df.copy()
            for col in id_cols & set(part.columns):
                part[col] = part[col].where(part[col] == "", part[col] + f"_{k}")
            parts.append(part)
        pd.concat(parts).to_csv(folder / f"{table}.csv", index=False)
    return "tests/_registry_fixture.py replicated"


def _median_time(fn, repeat: int) -> float:
    return _median_times(fn, repeat)[0]


def _median_times(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU (user + sys of this process) seconds of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def import_overhead(repeat: int = 5) -> dict:
    """Seconds ``import sirtstats`` adds after ``import pandas`` (fresh interpreters)."""
    code = ("import time; import pandas; t = time.perf_counter(); import sirtstats; "
            "print(time.perf_counter() - t)")
    code_all = ("import time; t = time.perf_counter(); import pandas; import sirtstats; "
                "print(time.perf_counter() - t)")
    above = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(repeat)]
    total = [float(subprocess.run([sys.executable, "-c", code_all], capture_output=True,
                                  text=True, check=True).stdout) for _ in range(repeat)]
    return {"import_sirtstats_above_pandas_s": statistics.median(above),
            "import_pandas_and_sirtstats_s": statistics.median(total)}


def bench_size(n_patients: int, repeat: int, seed: int, registry: Path | None = None) -> dict:
    """Time validate and load on a new registry of ``n_patients`` (or on folder ``registry``)."""
    with tempfile.TemporaryDirectory() as tmp:
        if registry is not None:
            folder, t_write, generator = registry, 0.0, f"existing folder {registry}"
        else:
            folder = Path(tmp) / f"registry_{n_patients}"
            t0 = time.perf_counter()
            generator = write_registry(folder, n_patients, seed)
            t_write = time.perf_counter() - t0
        out = _bench_folder(folder, repeat)
    return {"n_patients_requested": n_patients, "generator": generator,
            "write_s": round(t_write, 3), **out}


def _bench_folder(folder: Path, repeat: int) -> dict:
    from sirtstats.registry import load_registry, validate_registry

    size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    problems = validate_registry(folder)
    n_errors = int((problems["severity"] == "error").sum())
    t_validate, cpu_validate = _median_times(lambda: validate_registry(folder), repeat)
    strict = n_errors == 0
    registry = load_registry(folder, strict=strict)
    rows = sum(len(df) for df in registry.tables.values())
    n_pat = len(registry["patients"])
    del registry
    t_load, cpu_load = _median_times(lambda: load_registry(folder, strict=strict), repeat)
    tracemalloc.start()
    load_registry(folder, strict=strict)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"n_patients": n_pat, "rows": rows, "files_mb": round(size_mb, 2),
            "validate_s": round(t_validate, 3), "validate_cpu_s": round(cpu_validate, 3),
            "load_s": round(t_load, 3), "load_cpu_s": round(cpu_load, 3),
            "rows_per_s_validate": round(rows / t_validate),
            "rows_per_s_load": round(rows / t_load), "peak_mb": round(peak / 1e6, 1),
            "n_errors": n_errors, "n_warnings": int(len(problems) - n_errors)}


def main(argv=None) -> int:
    """Run the benchmark, print a table, write JSON; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--registry", type=Path, default=None, metavar="FOLDER",
                        help="time this registry folder (e.g. one written by `sirtstats demo "
                             "--patients 20000 FOLDER`) instead of generating --sizes")
    args = parser.parse_args(argv)
    if args.registry is not None:
        results = [bench_size(0, args.repeat, args.seed, registry=args.registry)]
    else:
        results = [bench_size(n, args.repeat, args.seed) for n in args.sizes]
    imports = import_overhead()
    header = (f"{'patients':>9} {'rows':>10} {'MB':>7} {'validate s':>11} {'cpu s':>6} "
              f"{'load s':>8} {'cpu s':>6} {'rows/s (val)':>13} {'rows/s (load)':>14} "
              f"{'peak MB':>8} {'err':>5} {'warn':>6}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['n_patients']:>9} {r['rows']:>10} {r['files_mb']:>7} {r['validate_s']:>11} "
              f"{r['validate_cpu_s']:>6} {r['load_s']:>8} {r['load_cpu_s']:>6} "
              f"{r['rows_per_s_validate']:>13} {r['rows_per_s_load']:>14} "
              f"{r['peak_mb']:>8} {r['n_errors']:>5} {r['n_warnings']:>6}")
    if len(results) > 1:
        a, b = results[0], results[-1]
        ratio = (b["load_s"] / a["load_s"]) / (b["rows"] / a["rows"])
        print(f"\ngrowth: time ratio / rows ratio = {ratio:.2f} (1.0 = linear)")
    print(f"generator: {results[0]['generator']}")
    print(f"import sirtstats above import pandas: "
          f"{imports['import_sirtstats_above_pandas_s']:.3f} s (aim <= 0.5 s); "
          f"pandas + sirtstats: {imports['import_pandas_and_sirtstats_s']:.3f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_load_validate_{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"python": platform.python_version(),
                               "machine": platform.machine(), "sizes": results,
                               "imports": imports}, indent=2) + "\n", encoding="utf-8")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
