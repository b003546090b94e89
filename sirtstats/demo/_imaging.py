"""Demo generator, part 2: lesions, doses, response latents, progression, imaging.

Lesion trajectories are built so that the generating truth is recoverable exactly: a latent
responder lesion is at least 30 % smaller (diameter under the criterion) than at baseline at
every follow-up imaging before progression, a non-responder never is, and before progression no
sum of diameters rises by 20 % over its nadir. Progression appears at the first imaging on or
after the latent progression time, as a new lesion, target growth or non-target PD.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.demo._common import choice, expit, lognormal_median, randint, uniform
from sirtstats.demo._core import TUMOUR_PARAMS
from sirtstats.demo._truth import _TRUTH

MAX_VISITS = 64


# ---------------------------------------------------------------------------------------------
# lesions at baseline
# ---------------------------------------------------------------------------------------------


def make_lesion_frame(P: pd.DataFrame, rng: np.random.Generator):
    """Baseline lesions of every patient (liver: up to 5; extrahepatic: 0-2).

    Returns ``(P, L)``: ``P`` gains ``tumour_volume_ml``, ``liver_volume_ml``,
    ``largest_lesion_mm``, ``main_lobe``; ``L`` has one row per lesion with ``pi``,
    ``les_no``, ``organ``, ``is_nodal``, ``d0`` (mm), ``lobe``, roles, enhancement, ``v0``.
    """
    P = P.copy()
    n = len(P)
    n_liv = np.minimum(P["n_liver_lesions"].to_numpy(), 5)
    largest = P["largest_target_mm"].to_numpy()
    pi = np.repeat(np.arange(n), n_liv)
    rank = np.concatenate([np.arange(k) for k in n_liv]) if n else np.zeros(0, dtype=int)
    m = len(pi)
    rel = np.where(rank == 0, 1.0, uniform(rng, 0.2, 0.9, m))
    d0 = np.round(np.maximum(largest[pi] * rel, 7.0), 1)
    main_lobe = np.where(rng.random(n) < 0.75, "right", "left")
    P["main_lobe"] = main_lobe
    bil = P["bilobar"].to_numpy()
    other = np.where(main_lobe == "right", "left", "right")
    lobe = np.where(bil[pi] & (rng.random(m) < 0.4) & (rank > 0), other[pi], main_lobe[pi])
    # make sure a bilobar patient has one lesion in each lobe
    second = bil[pi] & (rank == 1)
    lobe[second] = other[pi][second]
    liv = pd.DataFrame({"pi": pi, "rank": rank, "organ": "liver", "is_nodal": False, "d0": d0,
                        "lobe": lobe})
    # extrahepatic lesions
    ehs = P["extrahepatic_disease"].to_numpy()
    n_ehs = np.where(ehs, 1 + (rng.random(n) < 0.4), 0)
    epi = np.repeat(np.arange(n), n_ehs)
    me = len(epi)
    tum = P["tumour"].to_numpy()
    organ = np.empty(me, dtype=object)
    for t, par in TUMOUR_PARAMS.items():
        sel = tum[epi] == t
        if sel.any():
            organ[sel] = choice(rng, par["ehs_organs"], np.ones(len(par["ehs_organs"])),
                                int(sel.sum()))
    nodal = organ == "lymph_node"
    ed0 = np.where(nodal, np.clip(lognormal_median(rng, 17, 0.3, me), 10, 45),
                   np.clip(lognormal_median(rng, 16, 0.4, me), 6, 60))
    ext = pd.DataFrame({"pi": epi, "rank": 10 + np.concatenate(
        [np.arange(k) for k in n_ehs]) if n else np.zeros(0, dtype=int),
        "organ": organ, "is_nodal": nodal, "d0": np.round(ed0, 1), "lobe": None})
    L = pd.concat([liv, ext], ignore_index=True).sort_values(["pi", "rank"], kind="mergesort")
    L = L.reset_index(drop=True)
    L["les_no"] = L.groupby("pi").cumcount() + 1

    # volumes
    vol = np.pi / 6 * liv["d0"].to_numpy() ** 3 / 1000.0
    tv = np.bincount(liv["pi"].to_numpy(), weights=vol, minlength=n)
    nl = P["n_liver_lesions"].to_numpy()
    extra = np.where(nl == 99, uniform(rng, 1.5, 3.0, n),
                     1 + 0.1 * np.clip(nl - 5, 0, None))
    tv = np.clip(tv * extra * uniform(rng, 0.8, 1.2, n), 1.0, 2500.0)
    cir = P["cirrhosis"].to_numpy(dtype=bool)
    nontum = np.clip(np.where(cir, rng.normal(1350, 300, n), rng.normal(1500, 300, n)), 700, 2600)
    P["tumour_volume_ml"] = np.round(tv, 1)
    P["liver_volume_ml"] = np.round(np.minimum(nontum + tv, 9500), 0)
    P["largest_lesion_mm"] = np.round(largest, 1)

    # roles
    L = _assign_roles(L, P, rng)
    return P, L


def _assign_roles(L: pd.DataFrame, P: pd.DataFrame, rng) -> pd.DataFrame:
    L = L.copy()
    m = len(L)
    hcc = P["is_hcc"].to_numpy()[L["pi"].to_numpy()]
    organ = L["organ"].to_numpy()
    nodal = L["is_nodal"].to_numpy(dtype=bool)
    d0 = L["d0"].to_numpy()
    measurable = np.where(nodal, d0 >= 15, (d0 >= 10) & (organ != "bone"))
    # rank within (patient, organ) by size among measurable lesions, at most 2 per organ
    tmp = pd.DataFrame({"pi": L["pi"], "organ": organ, "d0": np.where(measurable, d0, -1.0)})
    org_rank = tmp.groupby(["pi", "organ"])["d0"].rank(method="first", ascending=False)
    recist_t = measurable & (org_rank.to_numpy() <= 2)
    L["recist_role"] = np.where(recist_t, "target", "non_target")
    # mRECIST (HCC): viable, arterially enhancing liver targets; extrahepatic as RECIST
    liver = organ == "liver"
    enh = rng.random(m) < 0.9
    v0 = np.round(d0 * uniform(rng, 0.75, 1.0, m), 1)
    v0 = np.where(liver & hcc & enh, v0, np.nan)
    m_meas = np.where(liver, enh & (v0 >= 10), np.where(nodal, d0 >= 20, measurable))
    tmp2 = pd.DataFrame({"pi": L["pi"], "organ": organ,
                         "v": np.where(m_meas, np.where(liver, v0, d0), -1.0)})
    r2 = tmp2.groupby(["pi", "organ"])["v"].rank(method="first", ascending=False).to_numpy()
    mrecist_t = m_meas & (r2 <= 2)
    L["mrecist_role"] = np.where(hcc, np.where(mrecist_t, "target", "non_target"), "none")
    L["is_arterially_enhancing"] = np.where(hcc & liver, enh, None)
    L["v0"] = v0
    L["is_hcc"] = hcc
    return L


# ---------------------------------------------------------------------------------------------
# treatment of lesions, doses, response latents
# ---------------------------------------------------------------------------------------------


def add_lesion_doses(L: pd.DataFrame, P: pd.DataFrame, S: pd.DataFrame, rng) -> pd.DataFrame:
    """Treated territory, absorbed dose and latent responder status of every lesion."""
    L = L.copy()
    m = len(L)
    first = S.loc[~S["is_repeat"]]
    # session covering each lobe: "all" covers both lobes
    cover = pd.concat([
        first.loc[first["lobe"].isin(["right", "all"]), ["pi", "session_no"]].assign(
            lobe="right"),
        first.loc[first["lobe"].isin(["left", "all"]), ["pi", "session_no"]].assign(
            lobe="left"),
    ]).sort_values(["pi", "lobe", "session_no"]).drop_duplicates(["pi", "lobe"])
    key = L[["pi", "lobe"]].merge(cover, on=["pi", "lobe"], how="left")
    sess_no = key["session_no"].to_numpy(dtype=float)
    liver = (L["organ"] == "liver").to_numpy()
    treated = liver & ~np.isnan(sess_no)
    # sector / segmental territories do not cover every lesion of the lobe
    terr = first.drop_duplicates("pi").set_index("pi")["territory"]
    t_pat = terr.reindex(L["pi"]).to_numpy()
    partial = np.isin(t_pat, ["sector", "segmental", "radiation_segmentectomy"])
    u = rng.random(m)
    keep = ~partial | (L["rank"].to_numpy() == 0) | (u < 0.5)
    treated &= keep
    L["in_treated_territory"] = treated
    sidx = pd.MultiIndex.from_frame(S[["pi", "session_no"]])
    pos = sidx.get_indexer(pd.MultiIndex.from_arrays(
        [L["pi"].to_numpy(), np.nan_to_num(sess_no, nan=-1).astype(np.int64)]))
    ok = treated & (pos >= 0)
    sig = _TRUTH["lesion_dose_response"]["lesion_dose_lognormal_sigma"]
    base = np.where(ok, S["tumour_dose_achieved_gy"].to_numpy()[np.maximum(pos, 0)], np.nan)
    dose = np.round(np.clip(base * np.exp(sig * rng.standard_normal(m) - sig ** 2 / 2),
                            1.0, 2999.0), 1)
    has_pd = np.where(ok, S["has_post_dosimetry"].to_numpy()[np.maximum(pos, 0)], False)
    L["true_dose_gy"] = np.where(ok, dose, np.nan)
    L["absorbed_dose_gy"] = np.where(ok & has_pd, dose, np.nan)
    dr = _TRUTH["lesion_dose_response"]
    hcc = L["is_hcc"].to_numpy(dtype=bool)
    d50 = np.where(hcc, dr["HCC"]["d50_gy"], dr["other"]["d50_gy"])
    slope = np.where(hcc, dr["HCC"]["slope_per_gy"], dr["other"]["slope_per_gy"])
    p = np.where(ok, expit(slope * (np.nan_to_num(dose) - d50)), 0.0)
    L["responder"] = rng.random(m) < p
    return L


# ---------------------------------------------------------------------------------------------
# progression, surgery, visits
# ---------------------------------------------------------------------------------------------


def add_progression_and_surgery(P: pd.DataFrame, L: pd.DataFrame, rng) -> pd.DataFrame:
    """Latent time to progression and planned/unplanned surgery after SIRT."""
    P = P.copy()
    n = len(P)
    pm = _TRUTH["progression_model"]
    liv = L.loc[L["organ"] == "liver"]
    frac = liv.groupby("pi")["responder"].mean().reindex(range(n)).fillna(0.0).to_numpy()
    tum = P["tumour"].to_numpy()
    med = np.array([pm["median_months_no_response"].get(t, pm["median_months_no_response"][
        "other"]) for t in tum]) * 30.4375
    shape = pm["shape"]
    scale = med / np.log(2.0) ** (1.0 / shape)
    lp = np.log(pm["hr_full_response"]) * frac
    e = rng.exponential(1.0, n)
    P["ttp_days"] = np.maximum(np.floor(scale * (e * np.exp(-lp)) ** (1.0 / shape)), 14)
    P["frac_responding"] = frac
    # surgery
    ot = _TRUTH["other_therapies"]
    intent = P["treatment_intent"].to_numpy()
    u = rng.random((n, 3))
    kind = np.full(n, None, dtype=object)
    planned = np.zeros(n, dtype=bool)
    day = np.full(n, np.nan)
    br = (intent == "bridge_to_transplant") & (u[:, 0] < ot["transplant_after_bridge"])
    kind[br] = "transplant"
    planned[br] = True
    day[br] = randint(rng, 90, 365, n)[br]
    rs = np.isin(intent, ["radiation_lobectomy", "neoadjuvant_resection"]) & (
        u[:, 0] < ot["resection_after_lobectomy_or_neoadjuvant"])
    kind[rs] = "resection"
    planned[rs] = True
    day[rs] = randint(rng, 90, 240, n)[rs]
    ds = (intent == "downstaging") & (u[:, 0] < ot["surgery_after_downstaging"])
    kind[ds] = np.where(P["is_hcc"].to_numpy()[ds] & (u[ds, 1] < 0.5), "transplant", "resection")
    day[ds] = randint(rng, 120, 400, n)[ds]
    ok = (~np.isnan(day) & (day < P["ttp_days"].to_numpy())
          & (P["origin_day"].to_numpy() + np.nan_to_num(day) <= P["last_day"].to_numpy())
          & P["treated"].to_numpy())
    P["surgery_kind"] = np.where(ok, kind, None)
    P["surgery_planned"] = ok & planned
    P["surgery_day"] = np.where(ok, P["origin_day"].to_numpy() + np.nan_to_num(day), np.nan)
    return P


def make_visits(P: pd.DataFrame, L: pd.DataFrame, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Imaging visits (baseline k=0 and follow-ups) of treated patients, up to progression.

    Returns ``(V, P)``: ``V`` one row per kept visit (``pi``, ``k``, ``day``, ``is_pd``,
    ``manifest`` on the PD visit, ``equivocal``); ``P`` gains ``baseline_img_day``,
    ``pd_day`` and ``manifestation``.
    """
    P = P.copy()
    sched = _TRUTH["imaging_schedule"]
    T = P.loc[P["treated"]]
    nt = len(T)
    tpi = T.index.to_numpy()
    origin = T["origin_day"].to_numpy()
    old = rng.random(nt) < _TRUTH["case_mix"]["old_baseline_imaging_fraction"]
    lo, hi = sched["baseline_days_before_first_sirt"]
    olo, ohi = _TRUTH["case_mix"]["old_baseline_imaging_days"]
    bday = origin - np.where(old, randint(rng, olo, ohi, nt), randint(rng, lo, hi, nt))
    days = np.zeros((nt, MAX_VISITS), dtype=np.int64)
    days[:, 0] = origin + randint(rng, *sched["first_followup_days"], nt)
    for j in range(1, MAX_VISITS):
        early = (days[:, j - 1] - origin) < 730
        step = np.where(early, randint(rng, *sched["interval_days_first_2_years"], nt),
                        randint(rng, *sched["interval_days_later"], nt))
        days[:, j] = days[:, j - 1] + step
    stop = T["last_day"].to_numpy().astype(float)
    sd = T["surgery_day"].to_numpy(dtype=float)
    stop = np.where(np.isnan(sd), stop, np.minimum(stop, sd - 1))
    keep = days <= stop[:, None]
    keep &= rng.random(days.shape) >= sched["missed_visit_fraction"]
    ttp_day = origin + T["ttp_days"].to_numpy()
    after = keep & (days >= ttp_day[:, None])
    has_pd = after.any(axis=1)
    pd_col = np.where(has_pd, after.argmax(axis=1), MAX_VISITS)
    keep &= np.arange(MAX_VISITS)[None, :] <= pd_col[:, None]
    # visit index among kept visits
    k = np.cumsum(keep, axis=1)
    rows, cols = np.nonzero(keep)
    V = pd.DataFrame({"pi": tpi[rows], "k": k[rows, cols], "day": days[rows, cols],
                      "is_pd": has_pd[rows] & (cols == pd_col[rows])})
    V0 = pd.DataFrame({"pi": tpi, "k": 0, "day": bday, "is_pd": False})
    V = pd.concat([V0, V], ignore_index=True).sort_values(["pi", "k"], kind="mergesort")
    V = V.reset_index(drop=True)
    P["baseline_img_day"] = np.nan
    P.loc[tpi, "baseline_img_day"] = bday
    pdd = V.loc[V["is_pd"]].set_index("pi")["day"]
    P["pd_day"] = pdd.reindex(P.index).to_numpy(dtype=float)
    pdk = V.loc[V["is_pd"]].set_index("pi")["k"].reindex(P.index).to_numpy(dtype=float)

    # manifestation of progression
    pm = _TRUTH["progression_model"]
    n = len(P)
    man = choice(rng, list(pm["manifestation"]), list(pm["manifestation"].values()), n)
    has_rt = L.loc[L["recist_role"] == "target"].groupby("pi").size().reindex(range(n)).fillna(0)
    has_mt = L.loc[L["mrecist_role"] == "target"].groupby("pi").size().reindex(range(n)).fillna(0)
    has_rn = L.loc[L["recist_role"] == "non_target"].groupby("pi").size().reindex(
        range(n)).fillna(0)
    has_mn = L.loc[L["mrecist_role"] == "non_target"].groupby("pi").size().reindex(
        range(n)).fillna(0)
    hcc = P["is_hcc"].to_numpy()
    targets_ok = (has_rt.to_numpy() > 0) & (~hcc | (has_mt.to_numpy() > 0))
    nt_ok = (has_rn.to_numpy() > 0) & (~hcc | (has_mn.to_numpy() > 0))
    growth_ok = targets_ok & (np.nan_to_num(pdk) >= 2)
    man = np.where(np.isin(man, ["target_growth", "both"]) & ~growth_ok, "new_lesion", man)
    man = np.where((man == "non_target") & ~nt_ok, "new_lesion", man)
    man = np.where(np.isnan(pdk), None, man)
    P["manifestation"] = man
    equiv = (np.isin(man, ["new_lesion", "both"]) & (np.nan_to_num(pdk) >= 2)
             & (rng.random(n) < pm["equivocal_new_lesion_before_pd_fraction"]))
    P["equivocal_before_pd"] = equiv
    V["manifest"] = np.where(V["is_pd"], man[V["pi"].to_numpy()], None)
    V["equivocal"] = equiv[V["pi"].to_numpy()] & (V["k"].to_numpy() == pdk[V["pi"].to_numpy()]
                                                  - 1)
    V["pd_k"] = pdk[V["pi"].to_numpy()]
    return V, P


# ---------------------------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------------------------


def _trajectory(rng, resp, m, *, responder_lo, responder_hi, cr_p1, cr_pf):
    """First-visit and final relative size for responders / non-responders."""
    r1 = np.where(resp, uniform(rng, responder_lo, responder_hi, m), uniform(rng, 0.78, 1.05, m))
    r1 = np.where(resp & (rng.random(m) < cr_p1), 0.0, r1)
    rf = np.where(resp, r1 * uniform(rng, 0.3, 1.0, m),
                  np.clip(r1 * uniform(rng, 0.95, 1.10, m), 0.78, 1.15))
    rf = np.where(resp & (rng.random(m) < cr_pf), 0.0, rf)
    return r1, rf


def make_measurements(P, L, V, rng):
    """Lesion measurements (both criteria) and the per-visit facts the reader needs.

    Returns ``(M, L)``: ``M`` one row per lesion, visit, criterion and fragment with internal
    columns ``pi``, ``k``, ``counted`` (value counted in sums), ``role``, ``is_pd``.
    """
    L = L.copy()
    m = len(L)
    resp = L["responder"].to_numpy(dtype=bool)
    hcc = L["is_hcc"].to_numpy(dtype=bool)
    # RECIST size trajectory: primary criterion for non-HCC; slow shrinkage for HCC
    r1n, rfn = _trajectory(rng, resp, m, responder_lo=0.2, responder_hi=0.64, cr_p1=0.0,
                           cr_pf=0.15)
    r1h = np.where(resp, uniform(rng, 0.60, 0.97, m), r1n)
    rfh = np.where(resp, r1h * uniform(rng, 0.6, 1.0, m), rfn)
    L["r1"] = np.where(hcc, r1h, r1n)
    L["rf"] = np.where(hcc, rfh, rfn)
    # mRECIST viable trajectory (HCC liver lesions)
    q1, qf = _trajectory(rng, resp, m, responder_lo=0.05, responder_hi=0.64, cr_p1=0.35,
                         cr_pf=0.5)
    L["q1"] = q1
    L["qf"] = qf
    L["split"] = (rng.random(m) < _TRUTH["imaging_schedule"]["split_lesion_fraction"]) & (
        L["organ"] == "liver").to_numpy()

    crit_frames = [L.assign(criterion="RECIST_1_1", role=L["recist_role"])]
    Lm = L.loc[L["is_hcc"]]
    crit_frames.append(Lm.assign(criterion="mRECIST", role=Lm["mrecist_role"]))
    LC = pd.concat(crit_frames, ignore_index=True)
    M = LC.merge(V, on="pi", how="inner")
    M = M.sort_values(["pi", "les_no", "criterion", "k"], kind="mergesort").reset_index(drop=True)
    nm = len(M)
    k = M["k"].to_numpy()
    is_m = (M["criterion"] == "mRECIST").to_numpy()
    liver = (M["organ"] == "liver").to_numpy()
    viable = is_m & liver
    a1 = np.where(viable, M["q1"], M["r1"])
    af = np.where(viable, M["qf"], M["rf"])
    base = np.where(viable, M["v0"], M["d0"])
    base = np.where(np.isnan(base), M["d0"], base)  # non-enhancing HCC lesion: whole diameter
    rel = np.where(k == 0, 1.0, af + (a1 - af) * 0.5 ** np.maximum(k - 1, 0))
    noise = 1 + np.clip(rng.normal(0, 0.015, nm), -0.03, 0.03)
    rel = np.where(k == 0, 1.0, rel * noise)
    val = np.round(base * rel, 1)
    nodal = M["is_nodal"].to_numpy(dtype=bool)
    state = np.full(nm, "measured", dtype=object)
    disappeared = (k > 0) & (val < 3.0) & ~nodal
    too_small = (k > 0) & ~disappeared & (val < 5.0) & ~nodal & ~viable
    state[disappeared] = "disappeared"
    state[too_small] = "too_small"
    val = np.where(disappeared, 0.0, val)
    counted = np.where(too_small, 5.0, val)
    enh = np.where(viable, val > 0, None)
    # growth at the PD visit: every lesion grows over its previous value
    grow = M["is_pd"].to_numpy() & np.isin(M["manifest"].to_numpy(), ["target_growth", "both"])
    prev = pd.Series(counted).groupby([M["pi"], M["les_no"], M["criterion"]]).shift(1).to_numpy()
    g = uniform(rng, 1.30, 1.60, nm)
    new_val = np.round(np.nan_to_num(prev) * g * 1.04 + 5.0, 1)
    val = np.where(grow, new_val, val)
    counted = np.where(grow, new_val, counted)
    state[grow] = "measured"
    too_small &= ~grow
    enh = np.where(grow & viable, True, enh)
    # not assessed: a few target lesion-visits (never at or just before the PD visit, never k=1)
    pd_k = M["pd_k"].to_numpy(dtype=float)
    near_pd = (~np.isnan(pd_k)) & (k >= pd_k - 1)
    na = ((k >= 2) & ~near_pd & (M["role"].to_numpy() == "target")
          & (rng.random(nm) < _TRUTH["imaging_schedule"]["not_assessed_target_fraction"]))
    state[na] = "not_assessed"
    counted = np.where(na, np.nan, counted)
    diam = np.where(too_small | na, np.nan, val)
    enh = np.where(na, None, enh)

    role = M["role"].to_numpy()
    nontarget = role == "non_target"
    # non-target status
    nts = np.full(nm, None, dtype=object)
    nts[nontarget] = "NON_CR_NON_PD"
    nts[nontarget & (k > 0) & (val == 0)] = "CR"
    nt_pd = nontarget & M["is_pd"].to_numpy() & (M["manifest"].to_numpy() == "non_target")
    nts[nt_pd] = "PD"
    nt_ne = nontarget & (k > 0) & ~M["is_pd"].to_numpy() & (rng.random(nm) < 0.01)
    nts[nt_ne] = "NE"
    # non-target rows carry a diameter only at baseline
    state = np.where(nontarget & (k > 0), None, state)
    diam = np.where(nontarget & (k > 0), np.nan, diam)
    enh = np.where(nontarget & (k > 0) & ~viable, None, enh)
    counted = np.where(nontarget, np.nan, counted)
    M["state"] = state
    M["diameter_mm"] = diam
    M["is_enhancing"] = enh
    M["nontarget_status"] = nts
    M["counted"] = counted
    M["fragment"] = 1
    # split lesions: from the 2nd follow-up on, two fragments summing to the value
    sp = (M["split"].to_numpy(dtype=bool) & (k >= 2) & (state == "measured")
          & (role == "target") & (diam > 10))
    if sp.any():
        f1 = np.round(diam[sp] * 0.6, 1)
        F2 = M.loc[sp].copy()
        F2["fragment"] = 2
        F2["diameter_mm"] = np.round(diam[sp] - f1, 1)
        F2["counted"] = F2["diameter_mm"]
        M.loc[sp, "diameter_mm"] = f1
        M.loc[sp, "counted"] = f1
        M = pd.concat([M, F2], ignore_index=True)
    return M, L


# ---------------------------------------------------------------------------------------------
# imaging assessments (one row per patient, imaging date and criterion)
# ---------------------------------------------------------------------------------------------


def _fill_bool(s: pd.Series, default: bool) -> np.ndarray:
    """Boolean array from an object Series with missing values set to ``default``."""
    v = s.to_numpy(dtype=object)
    return np.where(pd.isna(v), default, v).astype(bool)


def _reader_response(M: pd.DataFrame, A: pd.DataFrame) -> np.ndarray:
    """Rule-based overall response per assessment row of ``A`` (a careful human reader)."""
    key = ["pi", "k", "criterion"]
    T = M.loc[M["role"] == "target"].copy()
    T["na"] = T["counted"].isna()
    T["zero"] = np.where(T["is_nodal"].to_numpy(dtype=bool), T["counted"] < 10,
                         T["counted"] == 0)
    gt = T.groupby(key).agg(c=("counted", "sum"), na=("na", "any"), zero=("zero", "all"))
    gt = gt.reset_index().sort_values(key, kind="mergesort")
    base = gt.loc[gt["k"] == 0].set_index(["pi", "criterion"])["c"]
    gt["b"] = base.reindex(pd.MultiIndex.from_frame(gt[["pi", "criterion"]])).to_numpy()
    c_ok = gt["c"].where(~gt["na"])
    grp = [gt["pi"], gt["criterion"]]
    cm = c_ok.groupby(grp).cummin().groupby(grp).ffill()
    gt["nadir"] = cm.groupby(grp).shift(1)
    N = gt["nadir"].to_numpy(dtype=float)
    C = gt["c"].to_numpy(dtype=float)
    rec = (gt["criterion"] == "RECIST_1_1").to_numpy()
    grow_pd = (C - N >= 0.2 * N) & (C > N) & ((C - N >= 5) | ~rec)
    NT = M.loc[M["role"] == "non_target"].copy()
    NT["ntpd"] = NT["nontarget_status"] == "PD"
    NT["ntcr"] = NT["nontarget_status"] == "CR"
    gn = NT.groupby(key).agg(ntpd=("ntpd", "any"), ntcr=("ntcr", "all")).reset_index()
    X = A[["pi", "k", "criterion", "new_lesion"]].merge(gt, on=key, how="left").merge(
        gn, on=key, how="left")
    has_t = X["c"].notna().to_numpy()
    has_nt = X["ntpd"].notna().to_numpy()
    ntpd = _fill_bool(X["ntpd"], False)
    ntcr = _fill_bool(X["ntcr"], True)
    new = (X["new_lesion"] == "YES").to_numpy()
    na = _fill_bool(X["na"], False)
    zero = _fill_bool(X["zero"], False)
    gp = _fill_bool(X[key].merge(gt.assign(gpd=grow_pd)[key + ["gpd"]], on=key, how="left")[
        "gpd"], False)
    Cx = X["c"].to_numpy(dtype=float)
    Bx = X["b"].to_numpy(dtype=float)
    out = np.select(
        [new | ntpd, has_t & gp & ~na, has_t & na, has_t & zero & ntcr, has_t & zero,
         has_t & (Cx <= 0.7 * Bx), has_t, has_nt & ntcr, has_nt],
        ["PD", "PD", "NE", "CR", "PR", "PR", "SD", "CR", "NON_CR_NON_PD"], default="NE")
    out = out.astype(object)
    out[X["k"].to_numpy() == 0] = None
    return out


def make_assessments(P, V, M, rng) -> pd.DataFrame:
    """imaging_assessments rows (RECIST 1.1 for everyone, mRECIST for HCC)."""
    pm = _TRUTH["progression_model"]
    sched = _TRUTH["imaging_schedule"]
    n = len(P)
    hcc = P["is_hcc"].to_numpy()
    tum = P["tumour"].to_numpy()
    mod_pat = np.where(hcc, np.where(rng.random(n) < 0.55, "MRI", "CT"),
                       np.where(np.isin(tum, ["NET", "breast", "other"]) & (rng.random(n) < 0.15),
                                "PET_CT", "CT"))
    p_intra = np.where(hcc, pm["new_lesion_intrahepatic"]["HCC"],
                       pm["new_lesion_intrahepatic"]["other"])
    site_pat = np.where(rng.random(n) < p_intra, "intrahepatic", "extrahepatic")
    size_pat = np.round(uniform(rng, 10, 35, n), 1)
    eq_size = np.round(uniform(rng, 5, 9.5, n), 1)
    in_tt = rng.random(n) < 0.3
    frames = [V.assign(criterion="RECIST_1_1")]
    Vh = V.loc[hcc[V["pi"].to_numpy()]]
    frames.append(Vh.assign(criterion="mRECIST"))
    A = pd.concat(frames, ignore_index=True)
    pi = A["pi"].to_numpy()
    yes = A["is_pd"].to_numpy() & np.isin(A["manifest"].to_numpy(), ["new_lesion", "both"])
    eq = A["equivocal"].to_numpy(dtype=bool)
    new = np.where(yes, "YES", np.where(eq, "EQUIVOCAL", "NO"))
    A["new_lesion"] = new
    has_new = yes | eq
    site = np.where(has_new, site_pat[pi], None)
    intra = site == "intrahepatic"
    A["new_lesion_site"] = site
    A["new_lesion_in_treated_territory"] = np.where(intra, in_tt[pi], None)
    A["new_lesion_size_mm"] = np.where(yes, size_pat[pi], np.where(eq, eq_size[pi], np.nan))
    A["new_lesion_typical_hcc"] = np.where(intra & hcc[pi], yes, None)
    A["modality"] = mod_pat[pi]
    truth = _reader_response(M, A)
    m = len(A)
    post = A["k"].to_numpy() > 0
    disc = post & (rng.random(m) < sched["reader_discordance_fraction"])
    alt = {"CR": "PR", "PR": "SD", "SD": "PR", "PD": "SD", "NE": "SD",
           "NON_CR_NON_PD": "PD"}
    rep = truth.copy()
    rep[disc] = [alt.get(x, x) for x in truth[disc]]
    miss = rng.random(m) < sched["reader_missing_fraction"]
    rep[miss] = None
    A["reported_overall_response"] = rep
    # treated-area response (R4.2 "treated-liver" scope): liver lesions in the treated
    # territory, new lesions only when intrahepatic in the treated territory; reported for
    # about half of the patients (not every reader fills it in)
    Mt = M.loc[(M["organ"] == "liver").to_numpy()
               & M["in_treated_territory"].to_numpy(dtype=bool)]
    in_tt_row = _fill_bool(A["new_lesion_in_treated_territory"], False)
    At = A.assign(new_lesion=np.where(intra & in_tt_row, A["new_lesion"], "NO"))
    tt = _reader_response(Mt, At)
    has_tt = (rng.random(n) < 0.5)[pi]
    tt = np.where(has_tt & post, tt, None).astype(object)
    A["reported_treated_area_response"] = tt
    A["reader_truth"] = truth
    return A
