"""Benchmark: endpoint derivation + Kaplan–Meier + log-rank + Cox on 20,000 patients.

Usage::

    .venv/bin/python benchmarks/bench_survival.py [--patients 20000] [--repeats 5]
        [--source synthetic|demo] [--json benchmarks/results/survival.json]

``synthetic`` (default) builds the tidy inputs directly (vectorised numpy: patients with a first
SIRT date, imaging visits every 8–13 weeks until progression/death/last contact, new systemic
therapies after some progressions, three baseline covariates); ``demo`` uses
``sirtstats.demo.make_demo_registry`` with the reader-reported responses of the imaging table.
Prints the median (and min/max) seconds of each step over the repeats; the input generation
is not timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sirtstats.endpoints import derive_endpoints
from sirtstats.exceptions import SirtStatsWarning
from sirtstats.survival import compute_km_curve, fit_cox, summarise_km, test_logrank


def synthetic_inputs(n: int, seed: int = 20261127):
    """Tidy inputs of derive_endpoints for ``n`` patients (about 5 visits each)."""
    rng = np.random.default_rng(seed)
    pid = np.array([f"P{i:06d}" for i in range(n)])
    origin = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), unit="D")
    albi = rng.choice([1, 2, 3], n, p=[0.4, 0.45, 0.15])
    ecog = rng.choice([0, 1, 2], n, p=[0.55, 0.35, 0.10])
    bclc = rng.choice(["A", "B", "C"], n, p=[0.2, 0.3, 0.5])
    lp = np.log(1.6) * (albi == 2) + np.log(2.6) * (albi == 3) + np.log(1.3) * (ecog >= 1) \
        + np.log(1.8) * (bclc == "C")
    death_days = (rng.weibull(1.4, n) * 1100 / np.exp(lp / 1.4)).astype(int) + 1
    contact_days = rng.integers(30, 3000, n)
    dead = death_days <= contact_days
    end_days = np.where(dead, death_days, contact_days)
    prog_days = (rng.weibull(1.2, n) * 220).astype(int) + 20
    patients = pd.DataFrame({
        "patient_id": pid, "origin_date": origin,
        "death_date": np.where(dead, origin + pd.to_timedelta(death_days, unit="D"), pd.NaT),
        "last_contact_date": origin + pd.to_timedelta(end_days, unit="D"),
        "albi_grade": albi, "ecog_ge1": (ecog >= 1).astype(int), "bclc_stage": bclc,
    })
    patients["death_date"] = pd.to_datetime(patients["death_date"])
    # visits: k-th visit at sum of k intervals of 56-91 days, while before end and progression
    max_visits = 16
    gaps = rng.integers(56, 92, (n, max_visits)).cumsum(axis=1)
    keep = (gaps <= end_days[:, None]) & (gaps <= prog_days[:, None] + 91)
    rows, cols = np.nonzero(keep)
    vday = gaps[rows, cols]
    is_pd = vday >= prog_days[rows]
    first_pd = is_pd & ~np.r_[False, (rows[1:] == rows[:-1]) & is_pd[:-1]]
    resp = rng.choice(["CR", "PR", "SD", "NE"], len(rows), p=[0.1, 0.3, 0.55, 0.05])
    resp = np.where(is_pd, "PD", resp)
    sel = ~is_pd | first_pd
    visits = pd.DataFrame({
        "patient_id": pid[rows][sel],
        "assessment_date": (origin[rows] + pd.to_timedelta(vday, unit="D"))[sel],
        "overall_response": resp[sel],
    })
    th = rng.random(n) < 0.3
    therapies = pd.DataFrame({
        "patient_id": pid[th],
        "start_date": origin[th] + pd.to_timedelta(prog_days[th] + 30, unit="D"),
        "is_planned_with_sirt": False,
    })
    return patients, visits, therapies


def demo_inputs(n: int):
    """Inputs from the demo registry (reported responses; covariates from the baseline)."""
    from sirtstats.cohort import derive_baseline
    from sirtstats.demo import make_demo_registry
    from sirtstats.registry import Registry

    tables = make_demo_registry(n_patients=n)
    base = derive_baseline(Registry(tables=tables))
    patients = base.dropna(subset=["first_sirt_date"]).assign(
        origin_date=lambda d: d["first_sirt_date"],
        ecog_ge1=lambda d: (d["ecog"] >= 1).astype(int))
    img = tables["imaging_assessments"]
    img = img[img["criterion"] == "RECIST_1_1"]
    visits = img.rename(columns={"reported_overall_response": "overall_response"})[
        ["patient_id", "assessment_date", "overall_response"]].dropna()
    return patients, visits, tables["other_therapies"]


def _time(fn, repeats):
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--source", choices=["synthetic", "demo"], default="synthetic")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", SirtStatsWarning)
    if args.source == "demo":
        patients, visits, therapies = demo_inputs(args.patients)
    else:
        patients, visits, therapies = synthetic_inputs(args.patients)
    ep = derive_endpoints(patients, visits, therapies,
                          endpoints=["OS", "PFS", "TTP", "DoR"], cutoff_date="2026-09-30")
    os_ = ep[ep["endpoint"] == "OS"].merge(
        patients[["patient_id", "albi_grade", "ecog_ge1", "bclc_stage"]], on="patient_id")
    steps = {
        "derive_endpoints (OS, PFS, TTP, DoR)": lambda: derive_endpoints(
            patients, visits, therapies, endpoints=["OS", "PFS", "TTP", "DoR"],
            cutoff_date="2026-09-30"),
        "compute_km_curve (OS by ALBI grade)": lambda: compute_km_curve(os_, by="albi_grade"),
        "summarise_km (OS by ALBI grade)": lambda: summarise_km(os_, by="albi_grade"),
        "test_logrank (OS by ALBI grade)": lambda: test_logrank(os_, group_col="albi_grade"),
        "fit_cox (ALBI, ECOG, BCLC; Efron, PH test)": lambda: fit_cox(
            os_, ["albi_grade", "ecog_ge1", "bclc_stage"], categorical={"albi_grade": 1}),
    }
    results = {"patients": int(len(patients)), "visits": int(len(visits)),
               "endpoint_rows": int(len(ep)), "repeats": args.repeats, "source": args.source,
               "steps": {}}
    print(f"{len(patients)} patients, {len(visits)} visits, {len(ep)} endpoint rows "
          f"({args.source}); median of {args.repeats} runs:")
    total = 0.0
    for name, fn in steps.items():
        times = _time(fn, args.repeats)
        med = statistics.median(times)
        total += med
        results["steps"][name] = {"median_s": med, "min_s": min(times), "max_s": max(times)}
        print(f"  {name:<45s} {med:8.3f} s  (min {min(times):.3f}, max {max(times):.3f})")
    results["total_median_s"] = total
    print(f"  {'total':<45s} {total:8.3f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True))
    return results


if __name__ == "__main__":
    main()
