"""Demo generator, part 3: laboratory results, adverse events, other therapies, death causes.

AEs and death causes are labels drawn *after* the survival times, so that no toxicity or
treatment variable changes the overall-survival law stated in DEMO_TRUTH.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.demo._common import bump, choice, lognormal_median, randint, uniform
from sirtstats.demo._core import SYSTEMIC_PRIOR, reild_probability
from sirtstats.demo._truth import _TRUTH

# ---------------------------------------------------------------------------------------------
# adverse events: rules as data
# ---------------------------------------------------------------------------------------------

#: term -> (SOC, grade 1..4 probabilities, onset days (lo, hi), duration days (lo, hi),
#: attribution options with probabilities)
AE_TERMS = {
    "Fatigue": ("General disorders and administration site conditions", (0.70, 0.25, 0.05, 0),
                (0, 14), (7, 60)),
    "Abdominal pain": ("Gastrointestinal disorders", (0.60, 0.32, 0.08, 0), (0, 10), (2, 30)),
    "Nausea": ("Gastrointestinal disorders", (0.75, 0.22, 0.03, 0), (0, 7), (1, 14)),
    "Vomiting": ("Gastrointestinal disorders", (0.70, 0.25, 0.05, 0), (0, 7), (1, 7)),
    "Fever": ("General disorders and administration site conditions", (0.85, 0.15, 0, 0),
              (0, 5), (1, 7)),
    "Anorexia": ("Metabolism and nutrition disorders", (0.70, 0.28, 0.02, 0), (0, 14), (7, 45)),
    "Diarrhea": ("Gastrointestinal disorders", (0.75, 0.22, 0.03, 0), (0, 14), (2, 14)),
    "Ascites": ("Gastrointestinal disorders", (0.30, 0.45, 0.25, 0), (14, 120), (14, 90)),
    "Gastric ulcer": ("Gastrointestinal disorders", (0, 0.50, 0.45, 0.05), (14, 90), (14, 90)),
    "Duodenal ulcer": ("Gastrointestinal disorders", (0, 0.50, 0.45, 0.05), (14, 90), (14, 90)),
    "Cholecystitis": ("Hepatobiliary disorders", (0, 0.40, 0.60, 0), (14, 120), (7, 45)),
    "Pneumonitis": ("Respiratory, thoracic and mediastinal disorders", (0, 0.60, 0.40, 0),
                    (30, 180), (30, 120)),
    "Urinary tract infection": ("Infections and infestations", (0.3, 0.6, 0.1, 0), (0, 90),
                                (5, 14)),
}
ATTRIBUTION = ("unrelated", "unlikely", "possible", "probable", "definite")
_ATTR_P = {"Urinary tract infection": (0.7, 0.3, 0, 0, 0)}
_ATTR_DEFAULT = (0.02, 0.08, 0.40, 0.35, 0.15)


def make_adverse_events(P, S, rng):
    """Clinical AEs per session, REILD cases and grade-5 labels; updates ``P`` death causes."""
    P = P.copy()
    tox = _TRUTH["toxicity"]
    terms = list(tox["clinical_ae_per_session"])
    probs = np.array([tox["clinical_ae_per_session"][t] for t in terms])
    ns, nt = len(S), len(terms)
    hit = rng.random((ns, nt)) < probs[None, :]
    si, ti = np.nonzero(hit)
    m = len(si)
    pi = S["pi"].to_numpy()[si]
    sday = S["day"].to_numpy()[si]
    soc = np.array([AE_TERMS[t][0] for t in terms], dtype=object)[ti]
    gp = np.array([AE_TERMS[t][1] for t in terms], dtype=float)[ti]
    grade = 1 + (rng.random(m)[:, None] > np.cumsum(gp / gp.sum(axis=1, keepdims=True), axis=1)
                 ).sum(axis=1)
    on = np.array([AE_TERMS[t][2] for t in terms])[ti]
    du = np.array([AE_TERMS[t][3] for t in terms])[ti]
    onset = sday + randint(rng, on[:, 0], on[:, 1], m)
    dur = randint(rng, du[:, 0], du[:, 1], m)
    ap = np.array([_ATTR_P.get(t, _ATTR_DEFAULT) for t in terms], dtype=float)[ti]
    attr = np.array(ATTRIBUTION, dtype=object)[
        np.minimum((rng.random(m)[:, None] > np.cumsum(ap, axis=1)).sum(axis=1), 4)]
    ae = pd.DataFrame({"pi": pi, "session_id": S["session_id"].to_numpy()[si],
                       "ae_term": np.array(terms, dtype=object)[ti], "soc": soc,
                       "onset_day": onset, "res_day": onset + dur, "grade": grade,
                       "attribution": attr, "is_reild": False})

    # REILD: probability from the session normal-liver dose (max over sessions)
    n = len(P)
    smax = S.sort_values(["pi", "nl_dose_recorded_gy"], ascending=[True, False],
                         kind="mergesort").drop_duplicates("pi")
    p = reild_probability(smax["nl_dose_recorded_gy"].to_numpy())
    has = rng.random(len(smax)) < p
    R = smax.loc[has, ["pi", "day", "session_id"]].copy()
    rpi = R["pi"].to_numpy()
    lo, hi = tox["reild_onset_days"]
    onset = R["day"].to_numpy() + randint(rng, lo, hi, len(R))
    death = P["death_day"].to_numpy()[rpi]
    last = P["last_day"].to_numpy()[rpi]
    early_death = ~np.isnan(death) & (death <= onset + 3)
    onset = np.where(early_death, np.nan_to_num(death) - randint(rng, 3, 10, len(R)), onset)
    ok = (onset >= R["day"].to_numpy() + 14) & (onset <= last)
    R = R.loc[ok].copy()
    onset = onset[ok]
    death = death[ok]
    rpi = R["pi"].to_numpy()
    fatal = ~np.isnan(death) & (death - onset <= 60) & (rng.random(len(R)) < 0.5)
    rgrade = np.where(fatal, 5, np.where(rng.random(len(R)) < 0.6, 3, 4))
    reild = pd.DataFrame({"pi": rpi, "session_id": R["session_id"].to_numpy(),
                          "ae_term": "Hepatic failure", "soc": "Hepatobiliary disorders",
                          "onset_day": onset,
                          "res_day": np.where(fatal, np.nan, onset + randint(rng, 30, 120,
                                                                             len(R))),
                          "grade": rgrade,
                          "attribution": np.where(rng.random(len(R)) < 0.5, "probable",
                                                  "definite"),
                          "is_reild": True})
    asc = reild.assign(ae_term="Ascites", soc="Gastrointestinal disorders",
                       onset_day=np.minimum(onset + randint(rng, 0, 7, len(R)),
                                            P["last_day"].to_numpy()[rpi]),
                       grade=np.where(rng.random(len(R)) < 0.5, 2, 3), is_reild=False,
                       res_day=onset + randint(rng, 30, 120, len(R)))
    P["reild_onset_day"] = np.nan
    P.loc[rpi, "reild_onset_day"] = onset
    P["reild_peak_umol_l"] = np.nan
    P.loc[rpi, "reild_peak_umol_l"] = uniform(rng, *tox["reild_bilirubin_peak_umol_l"], len(R))

    # grade-5 labels for early deaths (<= 30 days after the first SIRT)
    origin = P["origin_day"].to_numpy()
    dd = P["death_day"].to_numpy()
    early = P["treated"].to_numpy() & ~np.isnan(dd) & (dd - origin <= 30) & (rng.random(n) < 0.4)
    early[rpi[fatal]] = False
    epi = np.nonzero(early)[0]
    first_sess = S.drop_duplicates("pi").set_index("pi")["session_id"]
    g5 = pd.DataFrame({"pi": epi, "session_id": first_sess.reindex(epi).to_numpy(),
                       "ae_term": np.where(P["cirrhosis"].to_numpy(dtype=bool)[epi],
                                           "Hepatic failure", "Death NOS"),
                       "soc": np.where(P["cirrhosis"].to_numpy(dtype=bool)[epi],
                                       "Hepatobiliary disorders",
                                       "General disorders and administration site conditions"),
                       "onset_day": dd[epi] - randint(rng, 0, 5, len(epi)), "res_day": np.nan,
                       "grade": 5, "attribution": "possible", "is_reild": False})
    g5["onset_day"] = np.maximum(g5["onset_day"], origin[epi])
    A = pd.concat([ae, reild, asc, g5], ignore_index=True)
    last_all = P["last_day"].to_numpy()[A["pi"].to_numpy()]
    death_all = P["death_day"].to_numpy()[A["pi"].to_numpy()]
    A = A.loc[A["onset_day"].to_numpy() <= last_all].copy()
    last_all = P["last_day"].to_numpy()[A["pi"].to_numpy()]
    death_all = P["death_day"].to_numpy()[A["pi"].to_numpy()]
    res = A["res_day"].to_numpy(dtype=float)
    res = np.where((res > last_all) | (~np.isnan(death_all) & (res >= death_all)), np.nan, res)
    A["res_day"] = res
    A["serious"] = A["grade"].to_numpy() >= 3
    A = A.sort_values(["pi", "onset_day", "ae_term"], kind="mergesort").reset_index(drop=True)
    A["ae_no"] = A.groupby("pi").cumcount() + 1
    P["treatment_related_death"] = False
    P.loc[np.unique(np.concatenate([rpi[fatal], epi]).astype(np.int64)),
          "treatment_related_death"] = True
    return A, P


def add_death_causes(P: pd.DataFrame, rng) -> pd.DataFrame:
    """Cause of death (labels only; they do not feed back into survival)."""
    P = P.copy()
    n = len(P)
    died = P["died"].to_numpy(dtype=bool)
    prog = ~np.isnan(P["pd_day"].to_numpy(dtype=float)) & (
        P["pd_day"].to_numpy(dtype=float) <= np.nan_to_num(P["death_day"].to_numpy(), nan=1e12))
    cir = P["cirrhosis"].to_numpy(dtype=bool)
    opts = ["tumour_progression", "liver_failure", "other", "unknown"]
    c_prog = choice(rng, opts, [0.8, 0.08, 0.04, 0.08], n)
    c_cir = choice(rng, opts, [0.25, 0.35, 0.2, 0.2], n)
    c_oth = choice(rng, opts, [0.45, 0.05, 0.25, 0.25], n)
    cause = np.where(prog, c_prog, np.where(cir, c_cir, c_oth)).astype(object)
    cause[P["treatment_related_death"].to_numpy(dtype=bool)] = "treatment_related"
    cause[~died] = None
    P["cause_of_death"] = cause
    return P


# ---------------------------------------------------------------------------------------------
# labs
# ---------------------------------------------------------------------------------------------

#: analyte -> (SI unit, LLN, ULN, decimals)
LAB_SI = {
    "bilirubin_total": ("µmol/L", 3.0, 21.0, 1),
    "albumin": ("g/L", 35.0, 50.0, 1),
    "alt": ("U/L", 7.0, 40.0, 0),
    "ast": ("U/L", 10.0, 40.0, 0),
    "alp": ("U/L", 40.0, 130.0, 0),
    "ggt": ("U/L", 10.0, 55.0, 0),
    "inr": ("ratio", 0.8, 1.2, 2),
    "prothrombin_pct": ("%", 70.0, 130.0, 0),
    "platelets": ("10^9/L", 150.0, 400.0, 0),
    "lymphocytes": ("10^9/L", 1.0, 4.0, 2),
    "neutrophils": ("10^9/L", 1.8, 7.5, 2),
    "wbc": ("10^9/L", 4.0, 10.0, 1),
    "haemoglobin": ("g/L", 125.0, 165.0, 0),
    "creatinine": ("µmol/L", 50.0, 105.0, 0),
    "sodium": ("mmol/L", 135.0, 145.0, 0),
    "afp": ("ng/mL", 0.0, 10.0, 1),
    "cea": ("ng/mL", 0.0, 5.0, 1),
    "ca19_9": ("U/mL", 0.0, 37.0, 1),
}
#: conventional units used by the "external laboratory" patients: (unit, factor to SI, LLN, ULN)
LAB_CONVENTIONAL = {
    "bilirubin_total": ("mg/dL", 17.1, 0.2, 1.2, 2),
    "creatinine": ("mg/dL", 88.4, 0.6, 1.2, 2),
}
CORE_PANEL = ("bilirubin_total", "albumin", "alt", "ast", "alp", "ggt", "platelets",
              "lymphocytes", "neutrophils", "wbc", "haemoglobin", "creatinine", "sodium")
EARLY_PANEL = ("bilirubin_total", "alt", "ast", "platelets", "lymphocytes")


def make_labs(P, rng) -> pd.DataFrame:
    """Long-format labs: baseline (= baseline table values) and scheduled follow-up panels."""
    n = len(P)
    origin = P["origin_day"].to_numpy()
    last = P["last_day"].to_numpy()
    treated = P["treated"].to_numpy(dtype=bool)
    offsets = [7, 30, 90, 180, 270] + list(range(365, 4200, 90))
    jit = [3, 7] + [14] * (len(offsets) - 2)
    cols = [P["baseline_day"].to_numpy()]
    kinds = ["baseline"]
    early_keep = rng.random(n) < _TRUTH["labs"]["early_day7_fraction"]
    for off, j in zip(offsets, jit, strict=True):
        d = origin + off + randint(rng, -j, j, n)
        ok = treated & (d <= last) & ((off != 7) | early_keep)
        cols.append(np.where(ok, d, -1))
        kinds.append("early" if off == 7 else "full")
    # unscheduled panel 14 days after REILD onset (or at last contact if earlier)
    ro = P["reild_onset_day"].to_numpy(dtype=float)
    rd = np.where(~np.isnan(ro), np.minimum(np.nan_to_num(ro) + 14, last), -1).astype(np.int64)
    cols.append(rd)
    kinds.append("full")
    D = np.stack(cols, axis=1)
    kinds = np.array(kinds)
    rows, tp = np.nonzero(D >= 0)
    T = pd.DataFrame({"pi": rows, "day": D[rows, tp], "kind": kinds[tp]})
    T = T.drop_duplicates(["pi", "day"]).reset_index(drop=True)
    frames = [T.loc[_panel_rows(a, T, P)].assign(analyte=a)
              for a in CORE_PANEL + ("inr", "prothrombin_pct", "afp", "cea", "ca19_9")]
    X = pd.concat(frames, ignore_index=True)
    xpi = X["pi"].to_numpy()
    t = (X["day"].to_numpy() - origin[xpi]).astype(float)
    is_base = X["day"].to_numpy() == P["baseline_day"].to_numpy()[xpi]
    m = len(X)
    a = X["analyte"].to_numpy()
    ac = pd.Categorical(a, categories=list(LAB_SI)).codes.astype(np.int64)
    # patient-level baselines (SI)
    cir = P["cirrhosis"].to_numpy(dtype=bool)
    male = P["sex"].to_numpy() == "M"
    base = {
        "bilirubin_total": P["bilirubin_umol_l"].to_numpy(),
        "albumin": P["albumin_g_l"].to_numpy(),
        "inr": P["inr_latent"].to_numpy(),
        "prothrombin_pct": P["prothrombin_pct"].to_numpy(),
        "creatinine": P["creatinine_umol_l"].to_numpy(),
        "sodium": P["sodium_mmol_l"].to_numpy(),
        "afp": P["afp_ng_ml"].to_numpy(),
        "alt": lognormal_median(rng, np.where(cir, 45, 28), 0.4, n),
        "ast": lognormal_median(rng, np.where(cir, 60, 30), 0.4, n),
        "alp": lognormal_median(rng, np.where(P["is_hcc"].to_numpy(), 120, 140), 0.4, n),
        "ggt": lognormal_median(rng, np.where(cir, 110, 70), 0.6, n),
        "platelets": lognormal_median(rng, np.where(cir, 125, 230), 0.3, n),
        "lymphocytes": lognormal_median(rng, 1.5, 0.3, n),
        "neutrophils": lognormal_median(rng, 3.8, 0.3, n),
        "wbc": lognormal_median(rng, 6.3, 0.25, n),
        "haemoglobin": np.clip(rng.normal(np.where(male, 135, 125), 13, n), 80, 175),
        "cea": lognormal_median(rng, 25, 1.2, n),
        "ca19_9": lognormal_median(rng, 80, 1.2, n),
    }
    v0 = np.empty(m)
    for name, arr in base.items():
        s = _is(ac, name)
        v0[s] = arr[xpi[s]]
    # dynamics after SIRT
    amp_b = lognormal_median(rng, 0.25, 0.6, n)[xpi]
    amp_e = lognormal_median(rng, 0.8, 0.6, n)[xpi]
    amp_l = uniform(rng, 0.3, 0.7, n)[xpi]
    death = P["death_day"].to_numpy(dtype=float)[xpi]
    to_death = np.where(np.isnan(death), 1e9, death - X["day"].to_numpy())
    term = np.exp(-np.clip(to_death, 0, None) / 40.0)
    pdd = P["pd_day"].to_numpy(dtype=float)[xpi]
    since_pd = np.where(np.isnan(pdd), 0.0, np.clip(X["day"].to_numpy() - pdd, 0, None))
    fr = P["frac_responding"].to_numpy(dtype=float)[xpi]
    mult = np.ones(m)
    mult = np.where(_is(ac, "bilirubin_total"), (1 + amp_b * bump(t, 45)) * (1 + 2.0 * term), mult)
    mult = np.where(_is(ac, "albumin"), (1 - 0.07 * bump(t, 60)) * (1 - 0.15 * term), mult)
    mult = np.where(_is(ac, "alt", "ast"), 1 + amp_e * bump(t, 10), mult)
    mult = np.where(_is(ac, "alp", "ggt"), 1 + 0.3 * bump(t, 60), mult)
    mult = np.where(_is(ac, "inr"), 1 + 0.05 * bump(t, 45) + 0.2 * term, mult)
    mult = np.where(_is(ac, "prothrombin_pct"), 1 - 0.05 * bump(t, 45) - 0.2 * term, mult)
    mult = np.where(_is(ac, "platelets"), 1 - 0.15 * bump(t, 60), mult)
    mult = np.where(_is(ac, "lymphocytes"), 1 - amp_l * bump(t, 45), mult)
    mult = np.where(_is(ac, "wbc", "neutrophils"), 1 - 0.1 * bump(t, 30), mult)
    mult = np.where(_is(ac, "haemoglobin"), 1 - 0.03 * bump(t, 30), mult)
    marker = _is(ac, "afp", "cea", "ca19_9")
    mult = np.where(marker, np.exp(-1.2 * fr * np.clip(t, 0, 90) / 90) * (1 + since_pd / 90),
                    mult)
    sig = np.where(_is(ac, "alt", "ast", "alp", "ggt") | marker, 0.10, 0.06)
    noise = np.exp(sig * rng.standard_normal(m))
    si = v0 * mult * noise
    # REILD: bilirubin peak, albumin and INR worsening around onset
    ro = P["reild_onset_day"].to_numpy(dtype=float)[xpi]
    pk = P["reild_peak_umol_l"].to_numpy(dtype=float)[xpi]
    rb = np.where(np.isnan(ro), 0.0, bump(X["day"].to_numpy() - np.nan_to_num(ro) + 10, 25))
    si = np.where(_is(ac, "bilirubin_total"),
                  si + np.clip(np.nan_to_num(pk) - si, 0, None) * rb, si)
    si = np.where(_is(ac, "albumin"), si - 8.0 * rb, si)
    si = np.where(_is(ac, "inr"), si + 0.3 * rb, si)
    keep_base = is_base & _is(ac, "bilirubin_total", "albumin", "inr", "prothrombin_pct",
                                      "creatinine", "sodium", "afp")
    si = np.where(keep_base, v0, si)
    si = np.clip(si, 0.01, None)
    si = np.where(_is(ac, "prothrombin_pct"), np.clip(si, 10, 140), si)
    # units
    unit = np.array([v[0] for v in LAB_SI.values()], dtype=object)[ac]
    lln = np.array([v[1] for v in LAB_SI.values()])[ac]
    uln = np.array([v[2] for v in LAB_SI.values()])[ac]
    dec = np.array([v[3] for v in LAB_SI.values()])[ac]
    lln = np.where((_is(ac, "creatinine")) & ~male[xpi], 45.0, lln)
    uln = np.where((_is(ac, "creatinine")) & ~male[xpi], 90.0, uln)
    lln = np.where((_is(ac, "haemoglobin")) & male[xpi], 130.0, lln)
    uln = np.where((_is(ac, "haemoglobin")) & male[xpi], 170.0, uln)
    ext = (rng.random(n) < _TRUTH["labs"]["bilirubin_mg_dl_patient_fraction"])[xpi]
    value = si.copy()
    for name, (u_, f_, l_, h_, d_) in LAB_CONVENTIONAL.items():
        s = ext & _is(ac, name)
        unit[s] = u_
        value[s] = si[s] / f_
        lln[s] = l_
        uln[s] = h_
        dec[s] = d_
    value = _round_by(value, dec)
    pid = P["patient_id"].to_numpy()[xpi]
    out = pd.DataFrame({"patient_id": pid, "sample_date": pd.to_datetime(X["day"], unit="D"),
                        "analyte": a, "value": value, "unit": unit, "lln": lln, "uln": uln})
    return out


def _panel_rows(analyte: str, T: pd.DataFrame, P: pd.DataFrame) -> np.ndarray:
    """Sampling times ``T`` (``pi``, ``kind``) at which ``analyte`` is measured.

    Early (day-7) panels hold only :data:`EARLY_PANEL`; INR and prothrombin % exclude each
    other (``uses_tp``); tumour markers follow the tumour type (AFP: HCC and ICC, CEA: mCRC,
    CA 19-9: ICC and pancreas).
    """
    tpi = T["pi"].to_numpy()
    sel = np.ones(len(T), dtype=bool)
    if analyte not in EARLY_PANEL:
        sel &= T["kind"].to_numpy() != "early"
    tum, uses_tp = P["tumour"].to_numpy(), P["uses_tp"].to_numpy(dtype=bool)
    by_patient = {
        "inr": lambda: ~uses_tp,
        "prothrombin_pct": lambda: uses_tp,
        "afp": lambda: P["is_hcc"].to_numpy() | (tum == "ICC"),
        "cea": lambda: tum == "mCRC",
        "ca19_9": lambda: np.isin(tum, ["ICC", "pancreas"]),
    }
    if analyte in by_patient:
        sel &= by_patient[analyte]()[tpi]
    return sel

def _is(codes: np.ndarray, *names: str) -> np.ndarray:
    """Mask of rows whose analyte code is one of ``names``."""
    wanted = [list(LAB_SI).index(n) for n in names]
    return np.isin(codes, wanted)


def _round_by(values: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    out = values.copy()
    for d in np.unique(decimals):
        s = decimals == d
        out[s] = np.round(values[s], int(d))
    return out


# ---------------------------------------------------------------------------------------------
# other therapies
# ---------------------------------------------------------------------------------------------


def _post_agent(rng, tum, year, line_no):
    n = len(tum)
    out = np.empty(n, dtype=object)
    for t in np.unique(tum):
        s = tum == t
        opts = SYSTEMIC_PRIOR.get(t, SYSTEMIC_PRIOR["other"])
        out[s] = np.array(opts, dtype=object)[randint(rng, 0, len(opts) - 1, int(s.sum()))]
    hcc = tum == "HCC"
    first = line_no <= 1
    out[hcc & first] = np.where(year[hcc & first] >= 2020,
                                np.where(rng.random(int((hcc & first).sum())) < 0.75,
                                         "atezolizumab_bevacizumab", "lenvatinib"),
                                np.where(year[hcc & first] >= 2018, "lenvatinib", "sorafenib"))
    out[hcc & ~first] = np.where(year[hcc & ~first] >= 2020, "lenvatinib", "regorafenib")
    return out


def make_other_therapies(P, tr, rng) -> pd.DataFrame:
    """Prior lines, therapies planned with SIRT, surgery, post-progression lines."""
    ot = _TRUTH["other_therapies"]
    n = len(P)
    origin = P["origin_day"].to_numpy()
    diag = P["diagnosis_day"].to_numpy()
    last = P["last_day"].to_numpy()
    tum = P["tumour"].to_numpy()
    prior = P["n_prior_systemic_lines"].to_numpy()
    frames = []
    # prior systemic lines, evenly spread between diagnosis and 3 weeks before SIRT
    pi = np.repeat(np.arange(n), prior)
    if len(pi):
        line = np.concatenate([np.arange(1, k + 1) for k in prior if k > 0])
        span = np.maximum(origin[pi] - 21 - diag[pi], prior[pi] * 20)
        start = diag[pi] + np.floor(span * (line - 1) / prior[pi]).astype(np.int64) + 7
        end = diag[pi] + np.floor(span * line / prior[pi]).astype(np.int64) - 3
        end = np.minimum(end, origin[pi] - 14)
        start = np.minimum(start, end - 7)
        year = pd.to_datetime(start, unit="D").year.to_numpy()
        frames.append(pd.DataFrame({
            "pi": pi, "therapy_type": "systemic", "start_day": start, "end_day": end,
            "systemic_line": line, "agent": _post_agent(rng, tum[pi], year, line + 1),
            "is_planned_with_sirt": False}))
    # prior TACE for some HCC
    hcc = P["is_hcc"].to_numpy()
    tace = hcc & (rng.random(n) < 0.2) & (origin - diag > 90)
    tp = np.nonzero(tace)[0]
    frames.append(pd.DataFrame({
        "pi": tp, "therapy_type": "TACE",
        "start_day": diag[tp] + np.floor((origin[tp] - diag[tp] - 45) * rng.random(len(tp))
                                         ).astype(np.int64) + 14,
        "end_day": np.nan, "systemic_line": np.nan, "agent": "cTACE_doxorubicin",
        "is_planned_with_sirt": False}))
    # concomitant systemic therapy planned with SIRT (mCRC)
    conc = tr.dropna(subset=["concomitant_systemic"]).drop_duplicates("patient_id")
    cpi = P.reset_index().set_index("patient_id").loc[conc["patient_id"], "index"].to_numpy()
    frames.append(pd.DataFrame({
        "pi": cpi, "therapy_type": "systemic",
        "start_day": origin[cpi] - randint(rng, 0, 14, len(cpi)),
        "end_day": np.minimum(origin[cpi] + randint(rng, 60, 180, len(cpi)), last[cpi]),
        "systemic_line": prior[cpi] + 1, "agent": conc["concomitant_systemic"].to_numpy(),
        "is_planned_with_sirt": True}))
    line_after = prior.copy()
    line_after[cpi] += 1
    # ablation planned with segmentectomy
    ab = (P["treatment_intent"].to_numpy() == "curative_segmentectomy") & (rng.random(n) < 0.1)
    ab &= P["treated"].to_numpy(dtype=bool)
    api = np.nonzero(ab)[0]
    frames.append(pd.DataFrame({
        "pi": api, "therapy_type": "ablation", "start_day": origin[api] + randint(
            rng, 1, 30, len(api)), "end_day": np.nan, "systemic_line": np.nan,
        "agent": "microwave_ablation", "is_planned_with_sirt": True}))
    # surgery
    sk = P["surgery_kind"].to_numpy()
    spi = np.nonzero(pd.notna(sk))[0]
    frames.append(pd.DataFrame({
        "pi": spi, "therapy_type": sk[spi], "start_day": P["surgery_day"].to_numpy()[spi],
        "end_day": np.nan, "systemic_line": np.nan,
        "agent": np.where(sk[spi] == "transplant", "liver_transplant", "hepatectomy"),
        "is_planned_with_sirt": P["surgery_planned"].to_numpy(dtype=bool)[spi]}))
    # after observed progression
    pdd = P["pd_day"].to_numpy(dtype=float)
    has_pd = ~np.isnan(pdd)
    u = rng.random((n, 4))
    tace_post = has_pd & hcc & (u[:, 0] < 0.10)
    sys1 = has_pd & ~tace_post & (u[:, 0] < ot["systemic_after_progression"])
    s1 = np.nan_to_num(pdd) + randint(rng, 7, 45, n)
    # systemic start without documented progression
    nopd = P["treated"].to_numpy(dtype=bool) & ~has_pd & (
        u[:, 1] < ot["systemic_without_progression"])
    s1 = np.where(nopd, origin + randint(rng, 60, 700, n), s1)
    sys1 |= nopd
    sys1 &= s1 <= last
    i1 = np.nonzero(sys1)[0]
    dur1 = np.floor(lognormal_median(rng, 120, 0.6, n)).astype(np.int64)
    e1 = s1 + dur1
    year1 = pd.to_datetime(s1[i1], unit="D").year.to_numpy()
    frames.append(pd.DataFrame({
        "pi": i1, "therapy_type": "systemic", "start_day": s1[i1],
        "end_day": np.where(e1[i1] <= last[i1], e1[i1], np.nan),
        "systemic_line": line_after[i1] + 1, "agent": _post_agent(rng, tum[i1], year1,
                                                                 np.ones(len(i1))),
        "is_planned_with_sirt": False}))
    s2 = e1 + randint(rng, 7, 30, n)
    sys2 = sys1 & (u[:, 2] < ot["second_line"]) & (s2 <= last)
    i2 = np.nonzero(sys2)[0]
    e2 = s2 + np.floor(lognormal_median(rng, 90, 0.6, n)).astype(np.int64)
    year2 = pd.to_datetime(s2[i2], unit="D").year.to_numpy()
    frames.append(pd.DataFrame({
        "pi": i2, "therapy_type": "systemic", "start_day": s2[i2],
        "end_day": np.where(e2[i2] <= last[i2], e2[i2], np.nan),
        "systemic_line": line_after[i2] + 2, "agent": _post_agent(rng, tum[i2], year2,
                                                                 np.full(len(i2), 2)),
        "is_planned_with_sirt": False}))
    it = np.nonzero(tace_post & (s1 <= last))[0]
    frames.append(pd.DataFrame({
        "pi": it, "therapy_type": "TACE", "start_day": s1[it], "end_day": np.nan,
        "systemic_line": np.nan, "agent": "DEB_TACE", "is_planned_with_sirt": False}))
    OT = pd.concat(frames, ignore_index=True)
    OT["systemic_line"] = np.minimum(OT["systemic_line"], 15)
    OT = OT.sort_values(["pi", "start_day", "therapy_type"], kind="mergesort")
    OT = OT.reset_index(drop=True)
    OT["t_no"] = OT.groupby("pi").cumcount() + 1
    return OT
