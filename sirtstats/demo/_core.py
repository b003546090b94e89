"""Demo generator, part 1: patients, baseline, survival times, work-ups, treatments, dosimetry.

Everything is vectorised over patients / sessions / injections; the random streams come from
the caller (one ``numpy.random.Generator`` per part, so that changing one part does not move
the draws of another).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.demo._common import (
    choice,
    expit,
    ids,
    lognormal_median,
    randint,
    uniform,
)
from sirtstats.demo._truth import _TRUTH, os_weibull_scale_days
from sirtstats.scores import compute_albi, compute_albi_grade, compute_bsa_dubois

K_Y90 = _TRUTH["dosimetry"]["y90_gy_kg_per_gbq"]
K_HO = _TRUTH["dosimetry"]["ho166_gy_kg_per_gbq"]
DENSITY = _TRUTH["dosimetry"]["tissue_density_g_ml"]
LUNG_MASS = _TRUTH["dosimetry"]["lung_mass_kg"]
HALF_LIFE_H = {"Y90_glass": 64.1, "Y90_resin": 64.1, "Ho166_PLLA": 26.8}

OTHER_TUMOURS = ("breast", "uveal_melanoma", "pancreas", "other")

#: Per-tumour demographic and disease parameters (rules as data).
TUMOUR_PARAMS = {
    # age (mean, SD), P(male), diagnosis-to-SIRT delay median (days), liver lesions 1 + Poisson
    # mean, P(diffuse), largest lesion median (mm), P(extrahepatic disease), ECOG 0/1/2
    # probabilities, organs of extrahepatic lesions. HCC staging is driven by BCLC instead.
    "HCC": {"age": (66, 9.5), "male": 0.78, "delay": 120,
            "ehs_organs": ("lung", "lymph_node", "bone")},
    "mCRC": {"age": (60, 10), "male": 0.60, "delay": 540, "n_les": 3.0, "diffuse": 0.08,
             "largest": 40, "ehs": 0.35, "ecog": (0.50, 0.42, 0.08),
             "ehs_organs": ("lung", "lymph_node")},
    "ICC": {"age": (64, 10), "male": 0.55, "delay": 150, "n_les": 0.8, "diffuse": 0.0,
            "largest": 70, "ehs": 0.20, "ecog": (0.45, 0.45, 0.10),
            "ehs_organs": ("lymph_node",)},
    "NET": {"age": (60, 11), "male": 0.50, "delay": 900, "n_les": 6.0, "diffuse": 0.25,
            "largest": 35, "ehs": 0.30, "ecog": (0.60, 0.35, 0.05),
            "ehs_organs": ("lymph_node", "bone")},
    "breast": {"age": (55, 10), "male": 0.0, "delay": 1500, "n_les": 3.0, "diffuse": 0.1,
               "largest": 35, "ehs": 0.45, "ecog": (0.40, 0.45, 0.15),
               "ehs_organs": ("lung", "bone")},
    "uveal_melanoma": {"age": (62, 10), "male": 0.5, "delay": 1200, "n_les": 4.0,
                       "diffuse": 0.1, "largest": 30, "ehs": 0.2, "ecog": (0.55, 0.40, 0.05),
                       "ehs_organs": ("lung",)},
    "pancreas": {"age": (63, 9), "male": 0.55, "delay": 300, "n_les": 3.0, "diffuse": 0.05,
                 "largest": 35, "ehs": 0.4, "ecog": (0.35, 0.5, 0.15),
                 "ehs_organs": ("lymph_node", "lung")},
    "other": {"age": (62, 11), "male": 0.5, "delay": 600, "n_les": 3.0, "diffuse": 0.05,
              "largest": 35, "ehs": 0.4, "ecog": (0.4, 0.45, 0.15),
              "ehs_organs": ("lung", "lymph_node", "bone")},
}

#: Treatment intent probabilities for HCC by BCLC stage, and for metastases.
INTENTS = ("palliative", "downstaging", "bridge_to_transplant", "neoadjuvant_resection",
           "curative_segmentectomy", "radiation_lobectomy")
INTENT_P = {
    "A": (0.30, 0.05, 0.20, 0.0, 0.35, 0.10),
    "B": (0.70, 0.20, 0.05, 0.0, 0.0, 0.05),
    "C": (0.95, 0.05, 0.0, 0.0, 0.0, 0.0),
    "D": (1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "mets": (0.88, 0.03, 0.0, 0.04, 0.0, 0.05),
}

SYSTEMIC_PRIOR = {
    "mCRC": ("FOLFOX_bevacizumab", "FOLFIRI_cetuximab", "FOLFIRI_bevacizumab", "regorafenib",
             "trifluridine_tipiracil"),
    "ICC": ("gemcitabine_cisplatin", "FOLFOX"),
    "NET": ("octreotide_LAR", "lanreotide", "everolimus"),
    "breast": ("paclitaxel", "capecitabine", "letrozole_palbociclib"),
    "uveal_melanoma": ("ipilimumab_nivolumab", "tebentafusp"),
    "pancreas": ("FOLFIRINOX", "gemcitabine_nab_paclitaxel"),
    "other": ("chemotherapy_other",),
    "HCC": ("sorafenib", "lenvatinib", "atezolizumab_bevacizumab"),
}


# ---------------------------------------------------------------------------------------------
# patients and baseline
# ---------------------------------------------------------------------------------------------


def make_patient_frame(rng: np.random.Generator, n: int, snapshot_day: int) -> pd.DataFrame:
    """Patient-level latent frame: demographics, staging, liver function, dates.

    Returns one row per patient (index 0..n-1) with observable and latent columns.
    """
    truth = _TRUTH["case_mix"]
    tum = choice(rng, list(truth["primary_tumour"]), list(truth["primary_tumour"].values()), n)
    P = pd.DataFrame({"patient_id": ids(np.full(n, "P"), "", np.arange(1, n + 1), 5),
                      "tumour": tum})
    P["is_hcc"] = tum == "HCC"
    start_back, end_back = truth["first_sirt_window_days_before_snapshot"]
    P["origin_day"] = randint(rng, snapshot_day - start_back, snapshot_day - end_back, n)
    # patients with a work-up but never treated (LSF too high / extrahepatic uptake)
    treated = np.ones(n, dtype=bool)
    if n >= 50:
        k = max(1, int(round(truth["no_sirt_fraction"] * n)))
        treated[rng.choice(n, size=k, replace=False)] = False
    P["treated"] = treated

    age = np.empty(n)
    male = np.empty(n, dtype=bool)
    delay = np.empty(n)
    for t, par in TUMOUR_PARAMS.items():
        m = tum == t
        k = int(m.sum())
        age[m] = rng.normal(par["age"][0], par["age"][1], k)
        male[m] = rng.random(k) < par["male"]
        delay[m] = lognormal_median(rng, par["delay"], 0.6, k)
    age = np.clip(age, 22, 89)
    P["sex"] = np.where(male, "M", "F")
    year = pd.to_datetime(P["origin_day"], unit="D").dt.year.to_numpy()
    P["birth_year"] = (year - np.floor(age)).astype(np.int64) - (rng.random(n) < 0.5)
    P["age"] = age
    P["height_cm"] = np.round(np.where(male, rng.normal(175, 7, n), rng.normal(163, 6.5, n)), 0)
    P["weight_kg"] = np.round(np.clip(np.where(male, rng.normal(80, 13, n),
                                               rng.normal(67, 12, n)), 40, 150), 1)
    P["bsa_m2"] = compute_bsa_dubois(P["height_cm"].to_numpy(), P["weight_kg"].to_numpy())
    P["diagnosis_day"] = P["origin_day"] - np.clip(np.round(delay), 70, 5000).astype(np.int64)

    hcc = P["is_hcc"].to_numpy()
    aet = choice(rng, ["HBV", "HCV", "alcohol", "MASLD", "haemochromatosis", "other"],
                 [0.15, 0.25, 0.35, 0.18, 0.02, 0.05], n)
    P["hcc_aetiology"] = np.where(hcc, aet, None)
    cirr = np.where(hcc, rng.random(n) < 0.78, rng.random(n) < 0.02)
    P["cirrhosis"] = cirr

    # staging (HCC: BCLC drives ECOG, PVTT, extrahepatic disease, burden)
    bclc = np.where(hcc, choice(rng, list(truth["bclc_hcc"]), list(truth["bclc_hcc"].values()),
                                n), None)
    P["bclc"] = bclc
    ecog = np.zeros(n, dtype=np.int64)
    pvtt = np.full(n, "none", dtype=object)
    ehs = np.zeros(n, dtype=bool)
    n_les = np.ones(n, dtype=np.int64)
    largest = np.zeros(n)
    u = rng.random((n, 6))
    # HCC
    ab = hcc & np.isin(bclc, ["A", "B"])
    ecog[ab] = (u[ab, 0] < 0.15).astype(np.int64)
    c = hcc & (bclc == "C")
    ecog[c] = np.where(u[c, 0] < 0.35, 0, np.where(u[c, 0] < 0.85, 1, 2))
    d = hcc & (bclc == "D")
    ecog[d] = np.where(u[d, 0] < 0.3, 2, 3)
    has_pvtt = c & (u[:, 1] < 0.45)
    pvtt[has_pvtt] = choice(rng, ["branch", "lobar", "main"], [0.5, 0.15, 0.35],
                            int(has_pvtt.sum()))
    ehs[c] = u[c, 2] < 0.30
    ehs[d] = u[d, 2] < 0.20
    ecog[c & (pvtt == "none") & ~ehs & (ecog == 0)] = 1
    a = hcc & (bclc == "A")
    b = hcc & (bclc == "B")
    cd = c | d
    n_les[a] = np.where(u[a, 3] < 0.7, 1, randint(rng, 2, 3, int(a.sum())))
    n_les[b] = randint(rng, 2, 8, int(b.sum()))
    n_les[cd] = randint(rng, 1, 10, int(cd.sum()))
    n_les[(b | cd) & (u[:, 4] < 0.07)] = 99
    largest[a] = np.clip(lognormal_median(rng, 32, 0.35, int(a.sum())), 12, 80)
    largest[b] = np.clip(lognormal_median(rng, 58, 0.40, int(b.sum())), 20, 180)
    largest[cd] = np.clip(lognormal_median(rng, 70, 0.45, int(cd.sum())), 15, 180)
    # metastases and other primaries
    for t, par in TUMOUR_PARAMS.items():
        if t == "HCC":
            continue
        m = tum == t
        k = int(m.sum())
        if not k:
            continue
        ecog[m] = choice(rng, [0, 1, 2], par["ecog"], k).astype(np.int64)
        ehs[m] = rng.random(k) < par["ehs"]
        n_les[m] = np.minimum(1 + rng.poisson(par["n_les"], k), 20)
        n_les[m & (u[:, 4] < par["diffuse"])] = 99
        largest[m] = np.clip(lognormal_median(rng, par["largest"], 0.5, k), 12, 160)
    P["ecog"] = ecog
    P["pvtt"] = pvtt
    P["extrahepatic_disease"] = ehs
    P["n_liver_lesions"] = n_les
    P["largest_target_mm"] = np.round(largest, 1)
    bil_p = np.where(hcc & (bclc == "A"), 0.1, np.where(hcc, 0.5, 0.7))
    P["bilobar"] = (n_les >= 2) & ((rng.random(n) < bil_p) | (n_les == 99))

    # liver function
    cir = P["cirrhosis"].to_numpy(dtype=bool)
    alb = np.where(cir, rng.normal(36.5, 5.0, n), rng.normal(41.0, 3.5, n))
    bil = np.where(cir, lognormal_median(rng, 15.0, 0.5, n), lognormal_median(rng, 9.0, 0.4, n))
    alb = alb - np.where(d, 5.0, 0.0)
    bil = bil * np.where(d, 2.0, 1.0)
    P["albumin_g_l"] = np.round(np.clip(alb, 20, 52), 1)
    P["bilirubin_umol_l"] = np.round(np.clip(bil, 3, 150), 1)
    inr = np.where(cir, lognormal_median(rng, 1.15, 0.10, n), lognormal_median(rng, 1.02, 0.06, n))
    inr = np.round(np.clip(inr, 0.85, 2.6), 2)
    french = rng.random(n) < 0.08
    P["uses_tp"] = french
    P["inr"] = np.where(french, np.nan, inr)
    P["prothrombin_pct"] = np.where(french, np.round(np.clip(100 * inr ** -2.0, 20, 120), 0),
                                    np.nan)
    P["inr_latent"] = inr
    P["creatinine_umol_l"] = np.round(np.clip(lognormal_median(rng, 75, 0.25, n), 35, 300), 0)
    P["sodium_mmol_l"] = np.round(np.clip(rng.normal(139, 2.5, n), 125, 148), 0)
    afp = np.where(hcc, lognormal_median(rng, 30, 2.0, n),
                   np.where(tum == "ICC", lognormal_median(rng, 4, 0.6, n), np.nan))
    P["afp_ng_ml"] = np.round(np.clip(afp, 1, 200000), 1)
    asc_u = rng.random(n)
    asc_p_mild = np.where(cir, 0.15, 0.04) + np.where(d, 0.3, 0.0)
    asc_p_ms = np.where(cir, 0.03, 0.0) + np.where(d, 0.2, 0.0)
    P["ascites"] = np.where(asc_u < asc_p_ms, "moderate_severe",
                            np.where(asc_u < asc_p_ms + asc_p_mild, "mild", "none"))
    P["encephalopathy"] = np.where(cir & (rng.random(n) < 0.03), "grade_1_2", "none")
    P["albi_grade"] = compute_albi_grade(
        compute_albi(P["bilirubin_umol_l"].to_numpy(), P["albumin_g_l"].to_numpy())
    ).astype(np.int64)

    # prior systemic lines
    prior = np.zeros(n, dtype=np.int64)
    prior[hcc] = choice(rng, [0, 1, 2], [0.78, 0.18, 0.04], int(hcc.sum())).astype(np.int64)
    crc = tum == "mCRC"
    prior[crc] = np.minimum(1 + rng.poisson(0.9, int(crc.sum())), 5)
    oth = ~hcc & ~crc
    prior[oth] = np.minimum(rng.poisson(1.0, int(oth.sum())), 4)
    P["n_prior_systemic_lines"] = prior

    # intent
    intent = np.empty(n, dtype=object)
    for key, probs in INTENT_P.items():
        m = (bclc == key) if key != "mets" else ~hcc
        if m.any():
            intent[m] = choice(rng, INTENTS, probs, int(m.sum()))
    # segmentectomy needs a small solitary-ish tumour
    seg_bad = (intent == "curative_segmentectomy") & ((n_les > 2) | (largest > 50))
    intent[seg_bad] = "palliative"
    P["treatment_intent"] = intent
    return P


def add_survival(P: pd.DataFrame, rng: np.random.Generator, snapshot_day: int) -> pd.DataFrame:
    """Draw OS (Weibull PH on observable covariates), loss to follow-up and last contact."""
    P = P.copy()
    n = len(P)
    os_m = _TRUTH["os_model"]
    hr = os_m["hazard_ratios"]
    tum = P["tumour"].to_numpy()
    albi = P["albi_grade"].to_numpy()
    bclc = P["bclc"].to_numpy()
    lp = (np.log(hr["albi_grade_2"]) * (albi == 2) + np.log(hr["albi_grade_3"]) * (albi == 3)
          + np.log(hr["bclc_C"]) * (bclc == "C") + np.log(hr["bclc_D"]) * (bclc == "D")
          + np.log(hr["ecog_ge1"]) * (P["ecog"].to_numpy() >= 1)
          + np.log(hr["primary_mCRC"]) * (tum == "mCRC")
          + np.log(hr["primary_ICC"]) * (tum == "ICC")
          + np.log(hr["primary_NET"]) * (tum == "NET")
          + np.log(hr["primary_other"]) * np.isin(tum, OTHER_TUMOURS))
    P["os_lp"] = lp
    e = rng.exponential(1.0, n)
    rate = _TRUTH["censoring"]["loss_to_follow_up_rate_per_year"] / 365.25
    t_ltfu = rng.exponential(1.0 / rate, n)
    t_admin = snapshot_day - P["origin_day"].to_numpy() - uniform(rng, 0, 30, n)
    P["os_e"] = e
    P["t_ltfu"] = np.floor(t_ltfu)
    P["t_admin"] = np.floor(np.maximum(t_admin, 0.0))
    return _resolve_survival(P, snapshot_day)


def _resolve_survival(P: pd.DataFrame, snapshot_day: int) -> pd.DataFrame:
    """Death time from the latent exponential and ``os_lp``; death, loss or admin censoring."""
    scale = os_weibull_scale_days()
    shape = _TRUTH["os_model"]["shape"]
    t_death = scale * (P["os_e"].to_numpy() * np.exp(-P["os_lp"].to_numpy())) ** (1.0 / shape)
    t_death = np.maximum(np.floor(t_death), 1.0)
    t_ltfu, t_admin = P["t_ltfu"].to_numpy(), P["t_admin"].to_numpy()
    died = (t_death <= t_ltfu) & (P["origin_day"].to_numpy() + t_death <= snapshot_day)
    lost = ~died & (t_ltfu < t_admin)
    last = np.where(died, t_death, np.where(lost, t_ltfu, t_admin))
    P["t_death_latent"] = t_death
    P["died"] = died
    P["lost"] = lost
    P["death_day"] = np.where(died, P["origin_day"] + t_death, np.nan)
    P["last_day"] = (P["origin_day"] + last).astype(np.int64)
    return P


def add_device_effect(P: pd.DataFrame, S: pd.DataFrame, snapshot_day: int) -> pd.DataFrame:
    """Add the device's log hazard ratio to ``os_lp`` and redraw death from the same latent.

    The first-session device is known only after :func:`make_sessions`; the same exponential
    draw gives the death time, so the model is exactly PH with the device term
    (``DEMO_TRUTH["device_effect"]``). Glass patients only live longer (HR < 1): their last
    contact can only move later, so no session falls after it.
    """
    P = P.copy()
    eff = _TRUTH["device_effect"]
    first = S[S["session_no"] == 1].set_index("pi")["device"]
    dev = first.reindex(P.index).to_numpy()
    P["os_lp"] = P["os_lp"] + np.log(eff["hr"]) * (dev == eff["treated"])
    return _resolve_survival(P, snapshot_day)


# ---------------------------------------------------------------------------------------------
# sessions, injections, work-ups
# ---------------------------------------------------------------------------------------------


def make_sessions(P: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per SIRT session actually given (sessions after last contact are dropped).

    Columns: patient index ``pi``, ``session_no``, ``day``, ``device``, ``territory``,
    ``frac_liver`` (perfused fraction of the liver), ``frac_tumour`` (fraction of the tumour
    volume perfused), ``lobe`` ("right", "left", "all"), ``is_repeat``.
    """
    T = P.loc[P["treated"]]
    n = len(T)
    pi = T.index.to_numpy()
    hcc = T["is_hcc"].to_numpy()
    intent = T["treatment_intent"].to_numpy()
    year = pd.to_datetime(T["origin_day"], unit="D").dt.year.to_numpy()
    # HCC: the device choice depends on the ALBI grade (the documented confounder, issue #16):
    # the same uniform draws as a fixed-probability choice, so only the probabilities moved
    p_hcc = np.array([_TRUTH["device_choice"]["hcc_by_albi_grade"][g]
                      for g in T["albi_grade"].to_numpy()])
    dev = np.where(hcc, choice(rng, ["Y90_glass", "Y90_resin", "Ho166_PLLA"], p_hcc, n),
                   choice(rng, ["Y90_glass", "Y90_resin", "Ho166_PLLA"], [0.20, 0.75, 0.05], n))
    seg = intent == "curative_segmentectomy"
    dev[seg] = np.where(rng.random(int(seg.sum())) < 0.9, "Y90_glass", "Ho166_PLLA")
    dev[(dev == "Ho166_PLLA") & (year < 2018)] = "Y90_resin"
    bil = T["bilobar"].to_numpy()
    u = rng.random((n, 4))
    # plan: single territory or sequential lobar
    territory = np.empty(n, dtype=object)
    main_left = T["main_lobe"].to_numpy() == "left"
    territory[:] = np.where(u[:, 0] < 0.2, "sector", np.where(main_left, "left_lobe",
                                                              "right_lobe"))
    seq = np.zeros(n, dtype=bool)
    resin_mets = (dev == "Y90_resin") & ~hcc
    bil_choice = np.where(resin_mets,
                          np.where(u[:, 1] < 0.5, "whole_liver",
                                   np.where(u[:, 1] < 0.7, "bilobar_single_session", "seq")),
                          np.where(u[:, 1] < 0.4, "bilobar_single_session", "seq"))
    territory[bil] = bil_choice[bil]
    seq[bil] = bil_choice[bil] == "seq"
    territory[seq] = "right_lobe"
    territory[seg] = np.where(u[seg, 2] < 0.7, "radiation_segmentectomy", "segmental")
    lob = intent == "radiation_lobectomy"
    territory[lob] = "radiation_lobectomy"
    seq[seg | lob] = False

    frac_liver = np.select(
        [territory == "whole_liver", territory == "bilobar_single_session",
         territory == "right_lobe", territory == "left_lobe", territory == "sector",
         territory == "radiation_lobectomy", np.isin(territory, ["segmental",
                                                                 "radiation_segmentectomy"])],
        [np.ones(n), uniform(rng, 0.9, 1.0, n), uniform(rng, 0.55, 0.68, n),
         uniform(rng, 0.25, 0.38, n), uniform(rng, 0.15, 0.3, n), uniform(rng, 0.55, 0.68, n),
         uniform(rng, 0.05, 0.15, n)])
    frac_tum = np.where(np.isin(territory, ["whole_liver", "radiation_segmentectomy",
                                            "segmental"]), 1.0,
                        np.where(territory == "bilobar_single_session",
                                 uniform(rng, 0.95, 1.0, n), uniform(rng, 0.85, 1.0, n)))
    frac_tum = np.where(seq, 0.6, frac_tum)
    lobe = np.where(seq, "right",
                    np.where(np.isin(territory, ["whole_liver", "bilobar_single_session"]), "all",
                             np.where(main_left, "left", "right")))
    origin = T["origin_day"].to_numpy()
    s1 = pd.DataFrame({"pi": pi, "session_no": 1, "day": origin, "device": dev,
                       "territory": territory, "frac_liver": frac_liver, "frac_tumour": frac_tum,
                       "lobe": lobe, "is_repeat": False})
    k2 = int(seq.sum())
    s2 = pd.DataFrame({"pi": pi[seq], "session_no": 2,
                       "day": origin[seq] + randint(rng, 28, 56, k2),
                       "device": dev[seq], "territory": "left_lobe",
                       "frac_liver": uniform(rng, 0.25, 0.38, k2), "frac_tumour": 0.4,
                       "lobe": "left", "is_repeat": False})
    rep = u[:, 3] < 0.06
    k3 = int(rep.sum())
    s3 = pd.DataFrame({"pi": pi[rep], "session_no": np.where(seq[rep], 3, 2),
                       "day": origin[rep] + randint(rng, 150, 400, k3), "device": dev[rep],
                       "territory": territory[rep], "frac_liver": frac_liver[rep],
                       "frac_tumour": frac_tum[rep], "lobe": lobe[rep], "is_repeat": True})
    S = pd.concat([s1, s2, s3], ignore_index=True)
    last = P["last_day"].to_numpy()[S["pi"].to_numpy()]
    S = S.loc[(S["session_no"] == 1) | (S["day"] <= last)]
    S = S.sort_values(["pi", "session_no"], kind="mergesort").reset_index(drop=True)
    S["session_no"] = S.groupby("pi").cumcount() + 1
    S["session_id"] = ids(P["patient_id"].to_numpy()[S["pi"].to_numpy()], "-S", S["session_no"])
    return S


def _lsf_factor_resin(lsf_pct):
    return np.select([lsf_pct < 10, lsf_pct < 15, lsf_pct <= 20], [1.0, 0.8, 0.6], 0.0)


def make_workups_treatments(P: pd.DataFrame, S: pd.DataFrame, rng: np.random.Generator):
    """Work-ups (one per session, plus the never-treated patients) and injections.

    Returns ``(workups, treatments, S)`` where ``S`` gains the session-level doses used later
    (``tumour_dose_planned_gy``, ``normal_liver_dose_gy``, ``workup_id``).
    """
    npat = len(P)
    # patient-level shunt and uptake ratio
    hcc = P["is_hcc"].to_numpy()
    pv = P["pvtt"].to_numpy() != "none"
    lsf = lognormal_median(rng, np.where(hcc, 6.5, 5.0) * np.where(pv, 1.6, 1.0), 0.55, npat)
    lsf = np.round(np.clip(lsf, 0.8, 19.5), 1)
    untreated = ~P["treated"].to_numpy()
    lsf[untreated] = np.round(uniform(rng, 21.0, 38.0, npat), 1)[untreated]
    tnr = np.round(np.clip(lognormal_median(rng, np.where(hcc, 2.6, 1.9), 0.35, npat), 0.8, 12), 2)
    P = P.copy()
    P["lsf_pct"] = lsf
    P["tnr"] = tnr

    # --- injections (1 or 2 per session)
    ns = len(S)
    two = (rng.random(ns) < 0.15) & ~S["territory"].isin(
        ["radiation_segmentectomy", "segmental"]).to_numpy()
    split = uniform(rng, 0.3, 0.7, ns)
    INJ = pd.concat([S.assign(inj_no=1, share=np.where(two, split, 1.0)),
                   S.loc[two].assign(inj_no=2, share=1.0 - split[two])], ignore_index=True)
    INJ = INJ.sort_values(["pi", "session_no", "inj_no"], kind="mergesort").reset_index(drop=True)
    pi = INJ["pi"].to_numpy()
    m = len(INJ)
    liver_v = P["liver_volume_ml"].to_numpy()[pi]
    tum_v = P["tumour_volume_ml"].to_numpy()[pi]
    perf_v = np.round(INJ["frac_liver"].to_numpy() * INJ["share"].to_numpy() * liver_v, 0)
    perf_t = np.round(np.minimum(INJ["frac_tumour"].to_numpy() * INJ["share"].to_numpy() * tum_v,
                                 0.75 * perf_v), 1)
    dev = INJ["device"].to_numpy()
    K = np.where(dev == "Ho166_PLLA", K_HO, K_Y90)
    lsf_i = lsf[pi] / 100.0
    tnr_i = tnr[pi]
    m_perf = perf_v * DENSITY / 1000.0
    m_t = perf_t * DENSITY / 1000.0
    m_n = m_perf - m_t
    year = pd.to_datetime(INJ["day"], unit="D").dt.year.to_numpy()
    terr = INJ["territory"].to_numpy()
    u = rng.random((m, 6))

    # prescription
    method = np.empty(m, dtype=object)
    target = np.full(m, np.nan)
    a_presc = np.zeros(m)
    glass = dev == "Y90_glass"
    resin = dev == "Y90_resin"
    ho = dev == "Ho166_PLLA"
    seg = np.isin(terr, ["radiation_segmentectomy", "segmental"])
    lobect = terr == "radiation_lobectomy"
    # glass: MIRD single compartment on the perfused volume, or (from 2019) multicompartment
    g_multi = glass & ~seg & (year >= 2019) & (u[:, 0] < 0.4)
    g_mird = glass & ~g_multi
    target[g_mird] = np.where(seg[g_mird], np.round(uniform(rng, 250, 600, m)[g_mird], -1),
                              np.where(lobect[g_mird], np.round(uniform(rng, 130, 170, m)
                                                                [g_mird], 0),
                                       np.round(np.clip(rng.normal(120, 15, m), 80, 150), 0)
                                       [g_mird]))
    method[g_mird] = "MIRD_single"
    a_presc[g_mird] = target[g_mird] * m_perf[g_mird] / (K_Y90 * (1 - lsf_i[g_mird]))
    target[g_multi] = np.round(uniform(rng, 205, 300, m)[g_multi], 0)
    method[g_multi] = "multicompartment_voxel"
    a_presc[g_multi] = (target[g_multi] * (tnr_i[g_multi] * m_t[g_multi] + m_n[g_multi])
                        / (K_Y90 * tnr_i[g_multi] * (1 - lsf_i[g_multi])))
    # resin: BSA method (mostly before 2019) or partition model on the normal liver
    r_part = resin & ((year >= 2019) & (u[:, 1] < 0.6) | (u[:, 1] < 0.15))
    r_bsa = resin & ~r_part
    bsa = P["bsa_m2"].to_numpy()[pi]
    f_t = tum_v / liver_v
    a_bsa = ((bsa - 0.2) + f_t) * INJ["frac_liver"].to_numpy() * INJ["share"].to_numpy()
    a_presc[r_bsa] = (a_bsa * _lsf_factor_resin(lsf[pi]))[r_bsa]
    method[r_bsa] = "BSA"
    target[r_part] = np.round(uniform(rng, 30, 50, m), 0)[r_part]
    method[r_part] = "partition"
    a_presc[r_part] = (target[r_part] * (tnr_i[r_part] * m_t[r_part] + m_n[r_part])
                       / (K_Y90 * (1 - lsf_i[r_part])))
    # holmium: 60 Gy to the perfused volume (MIRD)
    target[ho] = np.where(seg[ho], 250.0, 60.0)
    method[ho] = "MIRD_single"
    a_presc[ho] = target[ho] * m_perf[ho] / (K_HO * (1 - lsf_i[ho]))
    # lung limit 30 Gy per session (share of the injection)
    a_lung_max = 28.5 * LUNG_MASS / (K * np.maximum(lsf_i, 1e-6)) * INJ["share"].to_numpy()
    a_presc = np.minimum(a_presc, a_lung_max)
    a_presc = np.round(np.clip(a_presc, 0.15, 20.0), 2)

    # delivery
    measured = np.round(a_presc * (1 + np.clip(rng.normal(0, 0.015, m), -0.04, 0.04)), 3)
    resid_frac = np.where(glass, lognormal_median(rng, 0.006, 0.6, m),
                          np.where(resin, lognormal_median(rng, 0.03, 0.5, m),
                                   lognormal_median(rng, 0.02, 0.5, m)))
    stasis = u[:, 2] < np.where(resin, 0.04, 0.015)
    resid_frac = np.where(stasis, uniform(rng, 0.15, 0.5, m), np.clip(resid_frac, 0, 0.12))
    residual = np.round(measured * resid_frac, 3)
    delivered = np.round(measured - residual, 3)
    # times: administration 09:00-16:00, second injection 30-90 min later
    admin_min = (INJ["day"].to_numpy() * 1440 + 540 + randint(rng, 0, 420, m))
    first_min = pd.Series(admin_min).groupby([INJ["pi"], INJ["session_no"]]).transform("first")
    admin_min = np.where(INJ["inj_no"].to_numpy() == 2,
                         first_min.to_numpy() + randint(rng, 30, 90, m), admin_min)
    dt_h = np.where(glass, uniform(rng, 12, 96, m),
                    np.where(resin, uniform(rng, 12, 36, m), uniform(rng, 2, 8, m)))
    cal_min = admin_min - np.round(dt_h * 60).astype(np.int64)
    half = np.where(ho, HALF_LIFE_H["Ho166_PLLA"], HALF_LIFE_H["Y90_glass"])
    need = measured * 2.0 ** (((admin_min - cal_min) / 60.0) / half)
    vial = np.where(resin, 3.0 * np.ceil(need / 3.0 + 1e-9), np.ceil(need * 100) / 100)
    vial = np.minimum(vial, 50.0)

    # recorded doses from the delivered activity (MIRD perfused, partition, lung)
    a_liver = K * delivered * (1 - lsf_i)
    d_perf = a_liver / m_perf
    d_norm = a_liver / (tnr_i * m_t + m_n)
    d_tum = tnr_i * d_norm
    d_lung = K * delivered * lsf_i / LUNG_MASS
    rec_perf = np.round(d_perf, 1)
    # planted discrepancies
    bad = rng.random(m) < _TRUTH["dosimetry"]["planted_perfused_dose_discrepancy_fraction"]
    fac = np.where(rng.random(m) < 0.5, uniform(rng, 1.25, 1.6, m), uniform(rng, 0.5, 0.75, m))
    rec_perf = np.where(bad, np.round(rec_perf * fac, 1), rec_perf)
    INJ["planted_discrepancy"] = bad

    pid = P["patient_id"].to_numpy()[pi]
    INJ["injection_id"] = ids(INJ["session_id"].to_numpy(), "-INJ", INJ["inj_no"])
    INJ["workup_id"] = ids(pid, "-W", INJ["session_no"])
    conc = np.where((P["tumour"].to_numpy()[pi] == "mCRC") & (u[:, 3] < 0.12),
                    choice(rng, ["FOLFOX", "capecitabine", "FOLFIRI"], [0.5, 0.3, 0.2], m), None)
    tr = pd.DataFrame({
        "injection_id": INJ["injection_id"], "session_id": INJ["session_id"], "patient_id": pid,
        "workup_id": INJ["workup_id"], "treatment_date": pd.to_datetime(INJ["day"], unit="D"),
        "device": dev, "prescription_method": method, "territory": terr,
        "couinaud_segments": _segments(terr, INJ["lobe"].to_numpy(), u[:, 4]),
        "target_dose_gy": target, "prescribed_activity_gbq": a_presc,
        "vial_calibration_activity_gbq": np.round(vial, 2),
        "vial_calibration_datetime": pd.to_datetime(cal_min, unit="m"),
        "administration_datetime": pd.to_datetime(admin_min, unit="m"),
        "measured_activity_gbq": measured, "residual_activity_gbq": residual,
        "delivered_activity_gbq": delivered, "delivery_complete": ~stasis,
        "perfused_volume_ml": perf_v, "perfused_tumour_volume_ml": perf_t,
        "perfused_dose_gy": rec_perf, "tumour_dose_gy": np.round(d_tum, 1),
        "normal_liver_dose_gy": np.round(d_norm, 1), "lung_dose_gy": np.round(d_lung, 1),
        "concomitant_systemic": conc,
    })

    # session-level quantities (mass-weighted over injections)
    INJ["nl_rec"] = np.round(d_norm, 1)
    INJ["m_t"] = m_t
    INJ["m_n"] = m_n
    INJ["d_tum_x_mt"] = d_tum * m_t
    INJ["d_norm_x_mn"] = d_norm * m_n
    INJ["a_presc"] = a_presc
    INJ["perf_v"] = perf_v
    INJ["perf_t"] = perf_t
    g = INJ.groupby(["pi", "session_no"], sort=True)
    agg = g.agg(m_t=("m_t", "sum"), m_n=("m_n", "sum"), dt=("d_tum_x_mt", "sum"),
                dn=("d_norm_x_mn", "sum"), a_presc=("a_presc", "sum"), perf_v=("perf_v", "sum"),
                perf_t=("perf_t", "sum"), nl_dose_recorded_gy=("nl_rec", "mean")).reset_index()
    S = S.merge(agg, on=["pi", "session_no"], how="left", validate="1:1")
    S["tumour_dose_gy"] = S["dt"] / np.maximum(S["m_t"], 1e-9)
    S["normal_liver_dose_gy"] = S["dn"] / np.maximum(S["m_n"], 1e-9)
    S["workup_id"] = ids(P["patient_id"].to_numpy()[S["pi"].to_numpy()], "-W", S["session_no"])

    # --- work-ups: one per session, 7-28 days before; never-treated patients: one work-up
    ns = len(S)
    spi = S["pi"].to_numpy()
    wday = S["day"].to_numpy() - randint(rng, 7, 28, ns)
    ho_s = S["device"].to_numpy() == "Ho166_PLLA"
    plan_v = np.round(S["perf_v"].to_numpy() * (1 + np.clip(rng.normal(0, 0.03, ns), -0.08,
                                                              0.08)), 0)
    plan_t = np.round(np.minimum(S["perf_t"].to_numpy() * (1 + np.clip(rng.normal(0, 0.05, ns),
                                                                        -0.1, 0.1)),
                                 0.75 * plan_v), 1)
    lsf_s = lsf[spi] / 100
    tnr_s = tnr[spi]
    k_s = np.where(ho_s, K_HO, K_Y90)
    mt = plan_t * DENSITY / 1000
    mn = plan_v * DENSITY / 1000 - mt
    al = k_s * S["a_presc"].to_numpy() * (1 - lsf_s)
    pred_n = al / (tnr_s * mt + mn)
    W = pd.DataFrame({
        "workup_id": S["workup_id"], "patient_id": P["patient_id"].to_numpy()[spi],
        "workup_date": pd.to_datetime(wday, unit="D"),
        "scout_agent": np.where(ho_s, "Ho166_scout", "Tc99m_MAA"),
        "maa_activity_mbq": np.where(ho_s, np.round(uniform(rng, 200, 270, ns), 0),
                                     np.round(uniform(rng, 100, 185, ns), 0)),
        "lsf_pct": lsf[spi],
        "lsf_method": np.where(rng.random(ns) < np.where(
            pd.to_datetime(wday, unit="D").year >= 2020, 0.5, 0.2), "SPECT_CT", "planar"),
        "lung_mass_kg": LUNG_MASS,
        "tnr": tnr_s,
        "extrahepatic_uptake": rng.random(ns) < 0.02,
        "perfused_volume_ml": plan_v,
        "perfused_tumour_volume_ml": plan_t,
        "hepatic_reserve_pct": np.round(np.clip(
            100 * (1 - plan_v / P["liver_volume_ml"].to_numpy()[spi]), 0, 100), 1),
        "predicted_tumour_dose_gy": np.round(tnr_s * pred_n, 1),
        "predicted_normal_liver_dose_gy": np.round(pred_n, 1),
        "predicted_lung_dose_gy": np.round(k_s * S["a_presc"].to_numpy() * lsf_s / LUNG_MASS, 1),
    })
    # never treated: work-up at the origin day, LSF too high (or extrahepatic uptake)
    U = P.loc[~P["treated"]]
    if len(U):
        nu = len(U)
        upi = U.index.to_numpy()
        W0 = pd.DataFrame({
            "workup_id": ids(U["patient_id"].to_numpy(), "-W", np.ones(nu)),
            "patient_id": U["patient_id"].to_numpy(),
            "workup_date": pd.to_datetime(U["origin_day"].to_numpy(), unit="D"),
            "scout_agent": "Tc99m_MAA", "maa_activity_mbq": np.round(uniform(rng, 100, 185, nu)),
            "lsf_pct": lsf[upi], "lsf_method": "planar", "lung_mass_kg": LUNG_MASS,
            "tnr": tnr[upi], "extrahepatic_uptake": rng.random(nu) < 0.3,
            "perfused_volume_ml": np.round(0.6 * P["liver_volume_ml"].to_numpy()[upi]),
            "perfused_tumour_volume_ml": np.round(0.9 * P["tumour_volume_ml"].to_numpy()[upi], 1),
            "hepatic_reserve_pct": 40.0,
        })
        W = pd.concat([W, W0], ignore_index=True)
    return P, W, tr, S, INJ


def _segments(territory, lobe, u) -> np.ndarray:
    """Couinaud segments of a territory (text "5;6")."""
    right = np.where(u < 0.5, "5;6;7;8", "5;6;7;8")
    left = np.where(u < 0.7, "2;3;4", "2;3")
    single = np.array(["2", "3", "4", "5", "6", "7", "8"], dtype=object)[
        np.minimum((u * 7).astype(int), 6)]
    pair = np.array(["5;6", "6;7", "7;8", "5;8", "2;3", "4;5"], dtype=object)[
        np.minimum((u * 6).astype(int), 5)]
    return np.select(
        [np.isin(territory, ["whole_liver", "bilobar_single_session"]),
         territory == "right_lobe", territory == "left_lobe",
         territory == "radiation_lobectomy", territory == "sector",
         territory == "radiation_segmentectomy", territory == "segmental"],
        [np.full(len(u), "1;2;3;4;5;6;7;8", dtype=object), right, left, right,
         np.where(u < 0.5, "6;7", "5;8"), single, pair],
        default=None).astype(object) if len(u) else np.array([], dtype=object)


def make_post_dosimetry(P, S, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Post-treatment dosimetry for most sessions; returns (table, S with achieved doses)."""
    S = S.copy()
    ns = len(S)
    year = pd.to_datetime(S["day"], unit="D").dt.year.to_numpy()
    p = np.where(year >= 2019, 0.95, 0.70)
    has = rng.random(ns) < p
    sig = _TRUTH["dosimetry"]["achieved_tumour_dose_lognormal_sigma"]
    achieved = S["tumour_dose_gy"].to_numpy() * np.exp(sig * rng.standard_normal(ns)
                                                       - sig ** 2 / 2)
    S["tumour_dose_achieved_gy"] = achieved
    S["has_post_dosimetry"] = has
    dev = S["device"].to_numpy()
    ho = dev == "Ho166_PLLA"
    pet = rng.random(ns) < np.where(year >= 2019, 0.75, 0.3)
    modality = np.where(ho, np.where(rng.random(ns) < 0.7, "Ho166_SPECT", "Ho166_MRI"),
                        np.where(pet, "Y90_PET_CT", "bremsstrahlung_SPECT_CT"))
    method = choice(rng, ["local_deposition", "voxel_S_value", "monte_carlo"], [0.5, 0.4, 0.1], ns)
    pid = P["patient_id"].to_numpy()[S["pi"].to_numpy()]
    k = np.where(ho, K_HO, K_Y90)
    lsf = P["lsf_pct"].to_numpy()[S["pi"].to_numpy()] / 100
    perf_m = S["perf_v"].to_numpy() * DENSITY / 1000
    d_perf = k * S["a_presc"].to_numpy() * (1 - lsf) / perf_m
    d_lung = k * S["a_presc"].to_numpy() * lsf / LUNG_MASS
    D = pd.DataFrame({
        "dosimetry_id": ids(S["session_id"].to_numpy(), "-D", np.ones(ns)),
        "patient_id": pid, "session_id": S["session_id"].to_numpy(),
        "scan_date": pd.to_datetime(S["day"].to_numpy() + (rng.random(ns) < 0.2), unit="D"),
        "modality": modality, "method": method,
        "tumour_mean_dose_gy": np.round(achieved, 1),
        "tumour_d70_gy": np.round(achieved * uniform(rng, 0.45, 0.75, ns), 1),
        "normal_liver_mean_dose_gy": np.round(S["normal_liver_dose_gy"].to_numpy()
                                              * lognormal_median(rng, 1.0, 0.15, ns), 1),
        "perfused_volume_dose_gy": np.round(d_perf * lognormal_median(rng, 1.0, 0.08, ns), 1),
        "lung_dose_gy": np.round(d_lung * uniform(rng, 0.3, 0.8, ns), 1),
        "extrahepatic_deposition": rng.random(ns) < 0.02,
    })
    return D.loc[has].reset_index(drop=True), S


def reild_probability(normal_liver_dose_gy) -> np.ndarray:
    """P(REILD) from the session normal-liver dose (DEMO_TRUTH['toxicity']['reild_logit'])."""
    r = _TRUTH["toxicity"]["reild_logit"]
    return expit(r["intercept"] + r["per_gy_normal_liver"] * np.asarray(normal_liver_dose_gy))
