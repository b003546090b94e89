"""Benchmark: timepoint response + BOR for RECIST 1.1 and mRECIST on a 20,000-patient registry.

Usage::

    .venv/bin/python benchmarks/bench_response.py            # full size (20,000 patients)
    .venv/bin/python benchmarks/bench_response.py --patients 2000 --repeats 3

What is timed (median of ``--repeats`` runs, single process):

* sirtstats: ``derive_timepoint_response`` + ``derive_best_overall_response`` (confirmed) for
  both criteria on a generated registry (~1 million lesion measurement rows);
* pyrecist 0.1.0 (PyPI, the only Python RECIST package): ``Evaluator.evaluate_recist`` on the
  subset it handles (RECIST 1.1 target lesions only: it sums diameters, has no non-target,
  new-lesion, NE or BOR logic). Its per-patient Python loop is timed on ``--pyrecist-patients``
  patients and extrapolated linearly to the full target-only subset (its cost is linear in the
  number of patients; the extrapolation is printed as such). sirtstats is timed on the same
  target-only subset (timepoints only) for the ratio.

The generator is synthetic and seeded (not the demo registry, to reach the size quickly): per
patient 1-4 RECIST targets (liver and nodes), one non-target, 6-10 follow-up scans every ~8
weeks with shrinkage/growth trajectories, occasional too-small/disappeared/not-assessed states
and new lesions; 60 % of patients (HCC) also have mRECIST reads of their liver targets.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import warnings

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
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), times, statistics.median(cpu), res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pyrecist-patients", type=int, default=1_000)
    ap.add_argument("--json", default="", help="write the results to this JSON file")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    reg = generate(args.patients)
    gen_s = time.perf_counter() - t0
    n_meas = len(reg["lesion_measurements"])
    print(f"generated {args.patients:,} patients, {n_meas:,} lesion measurements, "
          f"{len(reg['imaging_assessments']):,} assessments in {gen_s:.1f} s")
    run_sirtstats(generate(200, seed=2))  # warm-up (imports, caches)
    med, times, med_cpu, res = timed(lambda: run_sirtstats(reg), args.repeats)
    n_tp = sum(len(b) for b in res.values())
    print(f"sirtstats timepoints + confirmed BOR, both criteria: median {med:.2f} s wall, "
          f"{med_cpu:.2f} s CPU (runs {', '.join(f'{t:.2f}' for t in times)})")

    full_pyr = pyrecist_input(reg)
    n_pyr_patients = full_pyr["patient_id"].nunique()
    sub = pyrecist_input(reg, args.pyrecist_patients)
    with warnings.catch_warnings():  # pyrecist divides by a zero nadir
        warnings.simplefilter("ignore", RuntimeWarning)
        med_p, _, cpu_p, pyr_out = timed(lambda: run_pyrecist(sub), 1)
    n_sub = sub["patient_id"].nunique()
    pyr_full_est = med_p / n_sub * n_pyr_patients
    pyr_full_cpu = cpu_p / n_sub * n_pyr_patients
    to_reg = target_only(reg, full_pyr)
    from sirtstats.response import derive_timepoint_response

    med_t, _, cpu_t, ours = timed(lambda: derive_timepoint_response(
        to_reg["lesions"], to_reg["lesion_measurements"], to_reg["imaging_assessments"]),
        args.repeats)
    ratio = pyr_full_est / med_t
    ratio_cpu = pyr_full_cpu / cpu_t
    print(f"target-only subset ({n_pyr_patients:,} patients, {len(full_pyr):,} rows): "
          f"sirtstats timepoints {med_t:.2f} s wall / {cpu_t:.2f} s CPU; pyrecist "
          f"{med_p:.2f} s wall / {cpu_p:.2f} s CPU on {n_sub:,} patients -> "
          f"{pyr_full_est:.0f} s wall / {pyr_full_cpu:.0f} s CPU extrapolated; "
          f"ratio {ratio:.0f}x wall, {ratio_cpu:.0f}x CPU")
    # agreement on the pyrecist subset (pyrecist: sticky PR, no NE, no CR by lesion)
    o = ours.assign(patient_id=ours["patient_id"].str[1:].astype(int))
    o = o.loc[o["patient_id"].isin(set(sub["patient_id"]))]
    o = o.assign(current_date=o["assessment_date"].dt.strftime("%Y%m%d"))
    cmp = pyr_out.merge(o[["patient_id", "current_date", "target_response"]],
                        on=["patient_id", "current_date"], how="inner")
    cmp = cmp.loc[cmp["classification"].notna()]
    n_diff = int((cmp["classification"] != cmp["target_response"]).sum())
    print(f"pyrecist vs sirtstats target response on {len(cmp):,} visits: {n_diff:,} differ "
          f"({100 * n_diff / max(len(cmp), 1):.1f} %)")
    result = {
        "python": platform.python_version(), "machine": platform.machine(),
        "patients": args.patients, "lesion_measurements": n_meas,
        "bor_rows": n_tp, "sirtstats_median_s": round(med, 3),
        "sirtstats_median_cpu_s": round(med_cpu, 3),
        "sirtstats_runs_s": [round(t, 3) for t in times],
        "target_only_patients": n_pyr_patients, "sirtstats_target_only_s": round(med_t, 3),
        "sirtstats_target_only_cpu_s": round(cpu_t, 3), "pyrecist_patients_timed": n_sub,
        "pyrecist_timed_s": round(med_p, 3), "pyrecist_extrapolated_s": round(pyr_full_est, 1),
        "pyrecist_extrapolated_cpu_s": round(pyr_full_cpu, 1),
        "ratio_vs_pyrecist": round(ratio, 1), "ratio_vs_pyrecist_cpu": round(ratio_cpu, 1),
        "pyrecist_visits_compared": len(cmp),
        "pyrecist_visits_differing": n_diff,
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
