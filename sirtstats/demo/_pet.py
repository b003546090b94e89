"""FDG-PET/CT of the demo registry (issue 15): ``pet_assessments`` and ``pet_lesions``.

About 20 % of the treated mCRC and ICC patients have a baseline FDG-PET/CT before their first
SIRT and a PET/CT at their first two follow-up CT visits (half of them at every follow-up CT), up
to and including the progression visit. The uptake comes from the same truth as the CT response
(``_imaging.make_measurements``): each lesion's SULpeak is its baseline SULpeak times the
lesion's relative size under RECIST 1.1 at that visit raised to the power 1.6 (glycolysis falls
faster than size), times U(0.70, 0.95) in the treated territory (radiation lowers glycolysis
before the lesion shrinks), with 8 % noise, and never below the blood-pool level; a lesion that has
disappeared on CT is at background. At the progression visit every lesion's uptake rises by
35-70 % (growth or non-target progression) and a new lesion on CT is a new FDG-avid lesion
(the equivocal CT lesion before it is EQUIVOCAL). Reference regions, uptake time, glucose and
activity are drawn per scan, with a few PERCIST quality-check violations planted (see
docs/demo-registry.md §5.1). The draws use their own random stream, so every other table is
unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.demo._common import days_to_datetime, ids, randint, uniform

__all__ = ["PET_TRUTH", "make_pet_tables"]

#: Generating parameters of the demo PET (documented in docs/demo-registry.md §5.1).
PET_TRUTH: dict = {
    "tumours": ("mCRC", "ICC"),
    "patient_fraction": 0.20,
    "every_followup_fraction": 0.5,
    "baseline_sul_peak_median": {"mCRC": 6.5, "ICC": 7.5},
    "baseline_sul_peak_sigma": 0.40,
    "size_exponent": 1.6,
    "uptake_noise_sigma": 0.08,
    "treated_uptake_factor": (0.70, 0.95),
    "pd_uptake_factor": (1.35, 1.70),
    "liver_sul_mean": (1.9, 0.2),
    "blood_pool_sul_mean": (1.6, 0.15),
    "uptake_time_min": (62.0, 4.0),
    "uptake_time_outside_window_fraction": 0.05,
    "glucose_above_11_1_fraction": 0.03,
    "blood_pool_shift_fraction": 0.05,
    "activity_mbq_per_kg": 3.5,
}


def _select_patients(P: pd.DataFrame, V: pd.DataFrame, rng) -> np.ndarray:
    """Patient indices with PET: mCRC/ICC, treated, with a follow-up CT visit."""
    n = len(P)
    pick = rng.random(n) < PET_TRUTH["patient_fraction"]
    has_fu = np.zeros(n, dtype=bool)
    has_fu[V.loc[V["k"] > 0, "pi"].to_numpy()] = True
    ok = (np.isin(P["tumour"].to_numpy(), PET_TRUTH["tumours"])
          & P["treated"].to_numpy(dtype=bool) & has_fu & pick)
    return np.flatnonzero(ok)


def _scans(P, V, chosen, rng) -> pd.DataFrame:
    """One row per PET scan (``pi``, ``k``, ``day``, ``is_pd``, ``equivocal``)."""
    every = rng.random(len(P)) < PET_TRUTH["every_followup_fraction"]
    max_k = np.where(every, np.iinfo(np.int64).max, 2)
    S = V.loc[V["pi"].isin(chosen)].copy()
    S = S.loc[S["k"].to_numpy() <= max_k[S["pi"].to_numpy()]]
    base = S["k"].to_numpy() == 0
    origin = P["origin_day"].to_numpy()[S["pi"].to_numpy()]
    shift = randint(rng, 0, 7, len(S))
    S["day"] = np.where(base, np.minimum(S["day"].to_numpy() + shift, origin - 1), S["day"])
    return S.reset_index(drop=True)


def _acquisition(S, P, rng) -> pd.DataFrame:
    """Uptake time, glucose, activity and reference regions of each scan."""
    m = len(S)
    t = PET_TRUTH
    pi = S["pi"].to_numpy()
    base = S["k"].to_numpy() == 0
    up = np.round(np.clip(rng.normal(*t["uptake_time_min"], m), 52, 69))
    late = rng.random(m) < t["uptake_time_outside_window_fraction"]
    up = np.where(late, randint(rng, 74, 95, m), up)
    glu = np.round(uniform(rng, 4.6, 8.0, m), 1)
    glu = np.where(rng.random(m) < t["glucose_above_11_1_fraction"],
                   np.round(uniform(rng, 11.5, 14.0, m), 1), glu)
    w = P["weight_kg"].to_numpy(dtype=float)[pi]
    act = np.round(np.clip(t["activity_mbq_per_kg"] * w * uniform(rng, 0.9, 1.1, m), 150, 500))
    # reference regions: the patient's baseline level, the liver (treated organ) moving more
    lv0 = np.clip(rng.normal(*t["liver_sul_mean"], len(P)), 1.3, 2.6)[pi]
    bp0 = np.clip(rng.normal(*t["blood_pool_sul_mean"], len(P)), 1.2, 2.1)[pi]
    lv = np.where(base, lv0, lv0 * uniform(rng, 0.88, 1.15, m))
    bp = np.where(base, bp0, bp0 * uniform(rng, 0.93, 1.07, m))
    shifted = ~base & (rng.random(m) < t["blood_pool_shift_fraction"])
    bp = np.where(shifted, bp0 * uniform(rng, 1.30, 1.40, m), bp)
    return S.assign(uptake_time_min=up, blood_glucose_mmol_l=glu, injected_activity_mbq=act,
                    liver_sul_mean=np.round(lv, 2),
                    liver_sul_sd=np.round(uniform(rng, 0.15, 0.30, m), 2),
                    blood_pool_sul_mean=np.round(bp, 2),
                    blood_pool_sul_sd=np.round(uniform(rng, 0.10, 0.20, m), 2))


def _relative_size(X: pd.DataFrame) -> np.ndarray:
    """RECIST relative size of each lesion at visit ``k`` (the CT truth, without noise)."""
    k = X["k"].to_numpy()
    r1, rf = X["r1"].to_numpy(dtype=float), X["rf"].to_numpy(dtype=float)
    return np.where(k == 0, 1.0, rf + (r1 - rf) * 0.5 ** np.maximum(k - 1, 0))


def _lesion_uptake(S, L, P, rng) -> pd.DataFrame:
    """One row per lesion and scan: SULpeak, SUVmax, MTV, TLG, FDG extent."""
    t = PET_TRUTH
    Lc = L.loc[L["pi"].isin(set(S["pi"])), ["pi", "les_no", "organ", "d0", "r1", "rf",
                                             "in_treated_territory"]]
    n_l = len(Lc)
    tum = P["tumour"].to_numpy()[Lc["pi"].to_numpy()]
    med = np.where(tum == "ICC", t["baseline_sul_peak_median"]["ICC"],
                   t["baseline_sul_peak_median"]["mCRC"])
    size = (Lc["d0"].to_numpy(dtype=float) / 30.0) ** 0.35
    s0 = np.clip(med * size * np.exp(t["baseline_sul_peak_sigma"] * rng.standard_normal(n_l)),
                 1.5, 30.0)
    Lc = Lc.assign(s0=s0, frac_avid=uniform(rng, 0.6, 1.0, n_l))
    X = S[["pi", "k", "day", "is_pd", "blood_pool_sul_mean", "blood_pool_sul_sd"]].merge(
        Lc, on="pi", how="inner")
    X = X.sort_values(["pi", "les_no", "k"], kind="mergesort").reset_index(drop=True)
    m = len(X)
    rel = _relative_size(X)
    uptake = rel ** t["size_exponent"] * np.exp(t["uptake_noise_sigma"] * rng.standard_normal(m))
    treated = X["in_treated_territory"].to_numpy(dtype=bool)
    uptake = np.where(treated, uptake * uniform(rng, *t["treated_uptake_factor"], m), uptake)
    pd_up = X["is_pd"].to_numpy(dtype=bool)
    uptake = np.where(pd_up, np.maximum(uptake, 1.0) * uniform(rng, *t["pd_uptake_factor"], m),
                      uptake)
    uptake = np.where(X["k"].to_numpy() == 0, 1.0, uptake)
    bg = X["blood_pool_sul_mean"].to_numpy() * uniform(rng, 0.85, 1.05, m)
    gone = (rel * X["d0"].to_numpy() < 3.0) & ~pd_up
    sul = np.where(gone, bg, np.maximum(X["s0"].to_numpy() * uptake, bg))
    diam = np.where(pd_up, X["d0"].to_numpy() * np.maximum(rel, 1.0) * 1.2,
                    X["d0"].to_numpy() * rel)
    vol = np.pi / 6 * diam ** 3 / 1000.0 * X["frac_avid"].to_numpy()
    mtv = np.where(gone, 0.0, np.round(np.clip(vol, 0.5, 3000), 1))
    tlg = np.round(np.minimum(mtv * 0.62 * sul, 99999), 1)
    extent = np.where(gone, np.nan, np.round(np.clip(diam * X["frac_avid"].to_numpy() ** (1 / 3),
                                                     4, 399), 1))
    return X.assign(sul_peak=np.round(sul, 2), suv_max=np.round(sul * 1.65, 1), mtv_ml=mtv,
                    tlg_g=tlg, fdg_extent_mm=extent)


def _new_lesions(S, A) -> pd.DataFrame:
    """``new_fdg_avid_lesion`` and its site from the RECIST assessment of the CT visit."""
    rec = A.loc[A["criterion"] == "RECIST_1_1", ["pi", "k", "new_lesion", "new_lesion_site"]]
    X = S.merge(rec, on=["pi", "k"], how="left")
    new = X["new_lesion"].where(X["k"] > 0, "NO").fillna("NO")
    site = np.where(new.isin(["YES", "EQUIVOCAL"]), X["new_lesion_site"], None)
    return X.assign(new_fdg_avid_lesion=new.to_numpy(), new_lesion_site=site)


def make_pet_tables(P: pd.DataFrame, L: pd.DataFrame, V: pd.DataFrame, A: pd.DataFrame,
                    rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Return ``{"pet_assessments": ..., "pet_lesions": ...}`` (untyped, unsorted).

    ``P``: patient frame (``patient_id``, ``tumour``, ``treated``, ``origin_day``,
    ``weight_kg``); ``L``: lesion frame after ``make_measurements`` (``pi``, ``les_no``,
    ``organ``, ``d0``, ``r1``, ``rf``); ``V``: imaging visits (``pi``, ``k``, ``day``,
    ``is_pd``); ``A``: assessment frame (``pi``, ``k``, ``criterion``, ``new_lesion``,
    ``new_lesion_site``).
    """
    chosen = _select_patients(P, V, rng)
    S = _acquisition(_scans(P, V, chosen, rng), P, rng)
    S = _new_lesions(S, A)
    X = _lesion_uptake(S, L, P, rng)
    pid = P["patient_id"].to_numpy()
    pet = pd.DataFrame({
        "patient_id": pid[S["pi"].to_numpy()], "scan_date": days_to_datetime(S["day"]),
        "tracer": "FDG", "uptake_time_min": S["uptake_time_min"],
        "blood_glucose_mmol_l": S["blood_glucose_mmol_l"],
        "injected_activity_mbq": S["injected_activity_mbq"],
        "liver_sul_mean": S["liver_sul_mean"], "liver_sul_sd": S["liver_sul_sd"],
        "blood_pool_sul_mean": S["blood_pool_sul_mean"],
        "blood_pool_sul_sd": S["blood_pool_sul_sd"],
        "new_fdg_avid_lesion": S["new_fdg_avid_lesion"],
        "new_lesion_site": S["new_lesion_site"]})
    xp = pid[X["pi"].to_numpy()]
    les = pd.DataFrame({
        "lesion_id": ids(xp, "-L", X["les_no"]), "patient_id": xp,
        "scan_date": days_to_datetime(X["day"]), "sul_peak": X["sul_peak"],
        "suv_max": X["suv_max"], "mtv_ml": X["mtv_ml"], "tlg_g": X["tlg_g"],
        "fdg_extent_mm": X["fdg_extent_mm"]})
    return {"pet_assessments": pet, "pet_lesions": les}
