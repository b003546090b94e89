"""Benchmark: timepoint response + BOR for RECIST 1.1 and mRECIST on a 20,000-patient registry.

Usage::

    .venv/bin/python benchmarks/bench_response.py            # 1 M lesion measurements
    .venv/bin/python benchmarks/bench_response.py --patients 2000 --repeats 3
    .venv/bin/python benchmarks/bench_response.py --profile  # + cProfile top entries

From Python (``benchmarks/bench_all.py``): ``run_benchmark(...)`` returns the numbers as a
dict (ratios, medians, the 1 M time) without printing.

What is timed (median of ``--repeats`` runs, single process):

* sirtstats: ``derive_timepoint_response`` + ``derive_best_overall_response`` (confirmed) for
  both criteria on a generated registry of 1 million lesion measurement rows (issue #17
  target: <= 1.5 s on one core; wall and process CPU time are both reported);
* pyrecist 0.1.0 (PyPI, the only Python RECIST package): ``Evaluator.evaluate_recist`` on the
  subset it handles (RECIST 1.1 target lesions only: it sums diameters, has no non-target,
  new-lesion, NE or BOR logic). Its per-patient Python loop is timed on ``--pyrecist-patients``
  patients and extrapolated linearly to the full target-only subset (its cost is linear in the
  number of patients; the extrapolation is printed as such). sirtstats is timed on the same
  target-only subset (timepoints only) for the ratio (issue #17 target: >= 100x).

The machine may be shared: medians of separate runs move with the load of other processes.
The "back to back" ratio times pyrecist and sirtstats alternately in the same process, one
pair per repeat, and reports the median of the per-pair ratios: both sides of a pair see about
the same load, so it is the load-robust number.

The generator is synthetic and seeded (not the demo registry, to reach the size quickly): per
patient 1-4 RECIST targets (liver and nodes), one non-target, 6-10 follow-up scans every ~8
weeks with shrinkage/growth trajectories, occasional too-small/disappeared/not-assessed states
and new lesions; 60 % of patients (HCC) also have mRECIST reads of their liver targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def generate(n_patients: int, seed: int = 1) -> dict[str, pd.DataFrame]:
    """Synthetic lesions / lesion_measurements / imaging_assessments / origin (vectorised)."""
    rng = np.random.default_rng(seed)
    pid = np.array([f"B{i:06d}" for i in range(n_patients)], dtype=object)
    origin = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n_patients), "D")
    baseline = origin - pd.to_timedelta(rng.integers(1, 28, n_patients), "D")
    n_vis = rng.integers(6, 11, n_patients)
    hcc = rng.random(n_patients) < 0.6
    n_t = rng.integers(1, 5, n_patients)
    # lesions: targets then one non-target per patient
    p_idx = np.repeat(np.arange(n_patients), n_t + 1)
    k = np.concatenate([np.arange(m + 1) for m in n_t])
    is_nt = k == np.repeat(n_t, n_t + 1)
    nodal = (~is_nt) & (k == 2)
    les = pd.DataFrame({
        "lesion_id": pid[p_idx] + "-" + k.astype(str), "patient_id": pid[p_idx],
        "baseline_date": baseline[p_idx], "organ": np.where(nodal, "lymph_node", "liver"),
        "is_nodal": nodal, "recist_role": np.where(is_nt, "non_target", "target"),
        "mrecist_role": np.where(hcc[p_idx] & ~nodal, np.where(is_nt, "non_target", "target"),
                                 "none"),
        "is_arterially_enhancing": True, "in_treated_territory": ~nodal,
    })
    # scans: baseline + n_vis follow-ups ~ every 56 days
    s_p = np.repeat(np.arange(n_patients), n_vis + 1)
    s_k = np.concatenate([np.arange(m + 1) for m in n_vis])
    jitter = rng.integers(-7, 8, len(s_p))
    s_date = pd.DatetimeIndex(np.where(
        s_k == 0, baseline[s_p].to_numpy(),
        (origin[s_p] + pd.to_timedelta(56 * s_k + jitter, "D")).to_numpy()))
    scans = pd.DataFrame({"p": s_p, "k": s_k, "date": s_date})
    ass = []
    new = np.where(rng.random(len(scans)) < 0.02, "YES",
                   np.where(rng.random(len(scans)) < 0.01, "EQUIVOCAL", "NO"))
    new[s_k == 0] = "NO"
    for crit, mask in (("RECIST_1_1", np.ones(len(scans), bool)), ("mRECIST", hcc[s_p])):
        ass.append(pd.DataFrame({"patient_id": pid[s_p[mask]], "assessment_date": s_date[mask],
                                 "criterion": crit, "modality": "CT", "new_lesion": new[mask],
                                 "new_lesion_site": "intrahepatic"}))
    ass = pd.concat(ass, ignore_index=True)
    meas = []
    lp = les.assign(p=p_idx, nt=is_nt)
    for crit, role in (("RECIST_1_1", "recist_role"), ("mRECIST", "mrecist_role")):
        lc = lp.loc[lp[role] != "none"]
        g = lc[["lesion_id", "p", "nt"]].merge(scans, on="p")
        n = len(g)
        base = rng.integers(100, 800, len(lc)) / 10
        slope = rng.normal(-0.15 if crit == "RECIST_1_1" else -0.3, 0.25, len(lc))
        lidx = pd.Index(lc["lesion_id"]).get_indexer(g["lesion_id"])
        val = np.round(base[lidx] * np.clip(1 + slope[lidx] * np.sqrt(g["k"].to_numpy()), 0,
                                            3), 1)
        u = rng.random(n)
        state = np.where(u < 0.01, "not_assessed", np.where(u < 0.02, "too_small", np.where(
            val < 3, "disappeared", "measured")))
        state[g["k"].to_numpy() == 0] = "measured"
        nt = g["nt"].to_numpy()
        meas.append(pd.DataFrame({
            "lesion_id": g["lesion_id"].to_numpy(), "assessment_date": g["date"].to_numpy(),
            "criterion": crit, "fragment": 1,
            "state": np.where(nt, None, state),
            "diameter_mm": np.where(nt | (state != "measured"), np.nan, val),
            "is_enhancing": np.where(nt, None, val > 0),
            "nontarget_status": np.where(nt, np.where(rng.random(n) < 0.03, "PD",
                                                      "NON_CR_NON_PD"), None)}))
    meas = pd.concat(meas, ignore_index=True)
    org = pd.DataFrame({"patient_id": pid, "origin_date": origin})
    return {"lesions": les, "lesion_measurements": meas, "imaging_assessments": ass,
            "origin": org}


#: Lesion measurement rows per generated patient (mean of ``generate``; ~47.7 at seed 1).
_ROWS_PER_PATIENT = 47.7


def generate_measurements(n_measurements: int = 1_000_000, seed: int = 1):
    """A seeded registry of about ``n_measurements`` lesion measurement rows (>= that many).

    Same generator as :func:`generate`; the number of patients is chosen from the mean rows
    per patient and raised until the target is reached.
    """
    n_patients = max(1, int(round(n_measurements / _ROWS_PER_PATIENT)))
    while True:
        reg = generate(n_patients, seed=seed)
        if len(reg["lesion_measurements"]) >= n_measurements:
            return n_patients, reg
        n_patients = int(n_patients * 1.02) + 1


def run_sirtstats(reg) -> dict:
    from sirtstats.response import derive_best_overall_response, derive_timepoint_response

    out = {}
    for crit in ("RECIST_1_1", "mRECIST"):
        tp = derive_timepoint_response(reg["lesions"], reg["lesion_measurements"],
                                       reg["imaging_assessments"], criterion=crit)
        out[crit] = derive_best_overall_response(tp, reg["origin"], confirm=True)
    return out


def pyrecist_input(reg, n_patients=None) -> pd.DataFrame:
    """RECIST target measurements in pyrecist's CSV layout (complete, measured values only)."""
    les = reg["lesions"].loc[reg["lesions"]["recist_role"] == "target"]
    m = reg["lesion_measurements"]
    m = m.loc[(m["criterion"] == "RECIST_1_1") & m["lesion_id"].isin(les["lesion_id"])]
    m = m.merge(les[["lesion_id", "patient_id"]], on="lesion_id")
    if n_patients is not None:
        keep = m["patient_id"].drop_duplicates().iloc[:n_patients]
        m = m.loc[m["patient_id"].isin(keep)]
    val = np.where(m["state"] == "too_small", 5.0, np.where(m["state"] == "disappeared", 0.0,
                                                          m["diameter_mm"]))
    # pyrecist needs numeric patient ids (it calls DataFrame.diff on the whole frame)
    return pd.DataFrame({"patient_id": m["patient_id"].str[1:].astype(int).to_numpy(),
                         "study_date": m["assessment_date"].dt.strftime("%Y%m%d").astype(
                             int).to_numpy(),
                         "measurement": val, "lesion_label_alias": m["lesion_id"].to_numpy(),
                         "lesion_category": "target"}).dropna(subset=["measurement"])


def run_pyrecist(df: pd.DataFrame) -> pd.DataFrame:
    from pyrecist.assessment import Evaluator
    from pyrecist.data import Reader

    reader = Reader()
    reader._df = reader._check_format(df.copy())
    return Evaluator(reader).evaluate_recist()


def target_only(reg, pyr_df) -> dict:
    """The same subset for sirtstats: target lesions only, no new lesions."""
    les = reg["lesions"].loc[reg["lesions"]["recist_role"] == "target"]
    les = les.loc[les["patient_id"].str[1:].astype(int).isin(set(pyr_df["patient_id"]))]
    m = reg["lesion_measurements"]
    m = m.loc[(m["criterion"] == "RECIST_1_1") & m["lesion_id"].isin(les["lesion_id"])]
    a = reg["imaging_assessments"]
    a = a.loc[(a["criterion"] == "RECIST_1_1") & a["patient_id"].isin(les["patient_id"])]
    return {"lesions": les, "lesion_measurements": m,
            "imaging_assessments": a.assign(new_lesion="NO")}


def timed(fn, repeats):
    """Median wall time, all wall times, median process CPU time, last result."""
    times, cpu = [], []
    res = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), times, statistics.median(cpu), res


def _pyrecist_quiet(df):
    with warnings.catch_warnings():  # pyrecist divides by a zero nadir
        warnings.simplefilter("ignore", RuntimeWarning)
        return run_pyrecist(df)


def _agreement(ours: pd.DataFrame, pyr_out: pd.DataFrame, sub: pd.DataFrame) -> tuple[int, int]:
    """Visits compared and differing (pyrecist: sticky PR, no NE, no CR by lesion)."""
    o = ours.assign(patient_id=ours["patient_id"].str[1:].astype(int))
    o = o.loc[o["patient_id"].isin(set(sub["patient_id"]))]
    o = o.assign(current_date=o["assessment_date"].dt.strftime("%Y%m%d"))
    cmp = pyr_out.merge(o[["patient_id", "current_date", "target_response"]],
                        on=["patient_id", "current_date"], how="inner")
    cmp = cmp.loc[cmp["classification"].notna()]
    return len(cmp), int((cmp["classification"] != cmp["target_response"]).sum())


def _profile_top(fn, n: int = 5) -> list[dict]:
    """The ``n`` sirtstats functions with the largest cumulative time in one run of ``fn``."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    st = pstats.Stats(prof)
    rows = [{"function": f"{Path(f).name}:{line}({name})", "calls": nc,
             "cumulative_s": round(ct, 3), "own_s": round(tt, 3)}
            for (f, line, name), (_, nc, tt, ct, _) in st.stats.items()
            if "sirtstats" in f and "bench_" not in f]
    rows.sort(key=lambda r: -r["cumulative_s"])
    return rows[:n]


def _time_full(reg, repeats: int) -> dict:
    med, times, med_cpu, res = timed(lambda: run_sirtstats(reg), repeats)
    return {"sirtstats_median_s": round(med, 3), "sirtstats_median_cpu_s": round(med_cpu, 3),
            "sirtstats_runs_s": [round(t, 3) for t in times],
            "bor_rows": sum(len(b) for b in res.values())}


def _time_target_only(reg, repeats: int, pyrecist_patients: int) -> dict:
    """Separate medians, and the back-to-back (alternating) per-pair ratios."""
    from sirtstats.response import derive_timepoint_response

    full_pyr = pyrecist_input(reg)
    n_full = full_pyr["patient_id"].nunique()
    sub = pyrecist_input(reg, pyrecist_patients)
    n_sub = sub["patient_id"].nunique()
    to_reg = target_only(reg, full_pyr)

    def ours_fn():
        return derive_timepoint_response(to_reg["lesions"], to_reg["lesion_measurements"],
                                         to_reg["imaging_assessments"])

    pyr_w, pyr_c, our_w, our_c, pair_w, pair_c = [], [], [], [], [], []
    ours = pyr_out = None
    for _ in range(repeats):
        (w1, _, c1, pyr_out), (w2, _, c2, ours) = timed(lambda: _pyrecist_quiet(sub), 1), \
            timed(ours_fn, 1)
        pyr_w.append(w1 / n_sub * n_full)
        pyr_c.append(c1 / n_sub * n_full)
        our_w.append(w2)
        our_c.append(c2)
        pair_w.append(pyr_w[-1] / w2)
        pair_c.append(pyr_c[-1] / c2)
    n_cmp, n_diff = _agreement(ours, pyr_out, sub)
    med = statistics.median
    return {
        "target_only_patients": n_full, "target_only_rows": len(full_pyr),
        "sirtstats_target_only_s": round(med(our_w), 4),
        "sirtstats_target_only_cpu_s": round(med(our_c), 4),
        "pyrecist_patients_timed": n_sub,
        "pyrecist_extrapolated_s": round(med(pyr_w), 2),
        "pyrecist_extrapolated_cpu_s": round(med(pyr_c), 2),
        "ratio_vs_pyrecist": round(med(pyr_w) / med(our_w), 1),
        "ratio_vs_pyrecist_cpu": round(med(pyr_c) / med(our_c), 1),
        "ratio_vs_pyrecist_back_to_back": round(med(pair_w), 1),
        "ratio_vs_pyrecist_back_to_back_cpu": round(med(pair_c), 1),
        "ratio_back_to_back_runs": [round(r, 1) for r in pair_w],
        "pyrecist_visits_compared": n_cmp, "pyrecist_visits_differing": n_diff,
    }


def run_benchmark(*, measurements: int = 1_000_000, patients: int | None = None,
                  repeats: int = 3, pyrecist_patients: int = 1_000, seed: int = 1,
                  profile: bool = False) -> dict:
    """Run the whole benchmark and return its numbers (no printing).

    Parameters
    ----------
    measurements : int, default 1_000_000
        Lesion measurement rows to generate (ignored when ``patients`` is given).
    patients : int, optional
        Generate this many patients instead.
    repeats : int, default 3
        Runs per timing (medians of these).
    pyrecist_patients : int, default 1000
        Patients pyrecist is timed on (extrapolated linearly to the target-only subset).
    seed : int, default 1
        Seed of the generator.
    profile : bool, default False
        Also return the top 5 sirtstats functions (cumulative time) of one full run.

    Returns
    -------
    dict
        ``sirtstats_median_s`` / ``sirtstats_median_cpu_s`` (timepoints + confirmed BOR,
        both criteria), ``ratio_vs_pyrecist`` (wall, separate medians),
        ``ratio_vs_pyrecist_cpu``, ``ratio_vs_pyrecist_back_to_back`` (median of alternating
        per-pair ratios: load-robust) and the inputs' sizes.
    """
    t0 = time.perf_counter()
    if patients is None:
        patients, reg = generate_measurements(measurements, seed=seed)
    else:
        reg = generate(patients, seed=seed)
    result = {
        "python": platform.python_version(), "machine": platform.machine(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg")
        else None,
        "patients": patients, "lesion_measurements": len(reg["lesion_measurements"]),
        "imaging_assessments": len(reg["imaging_assessments"]),
        "generate_s": round(time.perf_counter() - t0, 2), "repeats": repeats,
    }
    run_sirtstats(generate(200, seed=2))  # warm-up (imports, caches)
    result.update(_time_full(reg, repeats))
    result.update(_time_target_only(reg, repeats, pyrecist_patients))
    if profile:
        result["profile_top5"] = _profile_top(lambda: run_sirtstats(reg))
    return result


def _print(r: dict) -> None:
    print(f"generated {r['patients']:,} patients, {r['lesion_measurements']:,} lesion "
          f"measurements, {r['imaging_assessments']:,} assessments in {r['generate_s']:.1f} s "
          f"(load average {r['load_average_1min']})")
    print(f"sirtstats timepoints + confirmed BOR, both criteria: median "
          f"{r['sirtstats_median_s']:.2f} s wall, {r['sirtstats_median_cpu_s']:.2f} s CPU "
          f"(runs {', '.join(f'{t:.2f}' for t in r['sirtstats_runs_s'])}; target <= 1.5 s)")
    print(f"target-only subset ({r['target_only_patients']:,} patients, "
          f"{r['target_only_rows']:,} rows): sirtstats timepoints "
          f"{r['sirtstats_target_only_s']:.3f} s wall / {r['sirtstats_target_only_cpu_s']:.3f} s "
          f"CPU; pyrecist on {r['pyrecist_patients_timed']:,} patients extrapolated: "
          f"{r['pyrecist_extrapolated_s']:.1f} s wall / {r['pyrecist_extrapolated_cpu_s']:.1f} s "
          f"CPU")
    print(f"ratio sirtstats/pyrecist: {r['ratio_vs_pyrecist']:.0f}x wall, "
          f"{r['ratio_vs_pyrecist_cpu']:.0f}x CPU (separate medians); back to back "
          f"{r['ratio_vs_pyrecist_back_to_back']:.0f}x wall, "
          f"{r['ratio_vs_pyrecist_back_to_back_cpu']:.0f}x CPU (runs "
          f"{', '.join(f'{x:.0f}' for x in r['ratio_back_to_back_runs'])}; target >= 100x)")
    n_cmp, n_diff = r["pyrecist_visits_compared"], r["pyrecist_visits_differing"]
    print(f"pyrecist vs sirtstats target response on {n_cmp:,} visits: {n_diff:,} differ "
          f"({100 * n_diff / max(n_cmp, 1):.1f} %)")
    for row in r.get("profile_top5", []):
        print(f"  profile: {row['cumulative_s']:7.3f} s cumulative {row['own_s']:7.3f} s own "
              f"{row['calls']:>5} calls  {row['function']}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--measurements", type=int, default=1_000_000)
    ap.add_argument("--patients", type=int, default=None,
                    help="generate this many patients instead of --measurements rows")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pyrecist-patients", type=int, default=1_000)
    ap.add_argument("--profile", action="store_true", help="print the profile's top 5")
    ap.add_argument("--json", default="", help="write the results to this JSON file")
    args = ap.parse_args(argv)
    result = run_benchmark(measurements=args.measurements, patients=args.patients,
                           repeats=args.repeats, pyrecist_patients=args.pyrecist_patients,
                           profile=args.profile)
    _print(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
