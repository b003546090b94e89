"""Seeded generator of a realistic SIRT registry (four centres) with a documented truth.

:func:`make_demo_registry` returns every table of :data:`sirtstats.schema.TABLE_ORDER`, typed
with :func:`sirtstats.schema.apply_dtypes` and sorted by primary key; :func:`write_demo_registry`
writes them as one CSV per table; :func:`load_registry` and :func:`validate_registry` are the
registry loaders of :mod:`sirtstats.registry` that also accept the data path ``"demo"`` (used by
the CLI, the report and the notebooks); :data:`DEMO_TRUTH` states every generating parameter (lesion
dose-response curve, OS proportional-hazards model, progression model, schedules, censoring,
toxicity rates). See ``docs/demo-registry.md`` for the model in words.

The shape follows docs/demo-registry.md (a few hundred patients over ~10 years, HCC
majority, glass and resin, 1-2 sessions, 2-3-monthly RECIST 1.1 / mRECIST imaging, labs, AEs
with a few REILD cases, other therapies, deaths and losses to follow-up).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from sirtstats.demo._common import days_to_datetime, ids, randint, to_day
from sirtstats.demo._core import (
    add_device_effect,
    add_survival,
    make_patient_frame,
    make_post_dosimetry,
    make_sessions,
    make_workups_treatments,
)
from sirtstats.demo._followup import (
    add_death_causes,
    make_adverse_events,
    make_labs,
    make_other_therapies,
)
from sirtstats.demo._imaging import (
    add_lesion_doses,
    add_progression_and_surgery,
    make_assessments,
    make_lesion_frame,
    make_measurements,
    make_visits,
)
from sirtstats.demo._pet import make_pet_tables
from sirtstats.demo._territory import add_territory_segments
from sirtstats.demo._truth import DEMO_TRUTH
from sirtstats.schema import PET_TABLES, TABLE_ORDER, apply_dtypes, empty_table, load_schema

__all__ = [
    "DEMO_SOURCE",
    "DEMO_TRUTH",
    "load_registry",
    "make_demo_registry",
    "validate_registry",
    "write_demo_registry",
]

#: The data path that names the bundled demo registry (CLI, report ``data_path``, notebooks).
DEMO_SOURCE = "demo"

DEFAULT_N_PATIENTS = 300
DEFAULT_SEED = 20261127
DEFAULT_SNAPSHOT = "2026-11-15"


def make_demo_registry(
    n_patients: int = DEFAULT_N_PATIENTS,
    *,
    seed: int = DEFAULT_SEED,
    snapshot_date="2026-11-15",
) -> dict[str, pd.DataFrame]:
    """Generate the demo registry.

    Parameters
    ----------
    n_patients : int, default 300
        Number of patients (>= 1). About 1.5 % of them (at least one when ``n_patients`` >= 50)
        have a work-up but never receive SIRT.
    seed : int, default 20261127
        Seed of the numpy random generators; the same arguments give identical tables.
    snapshot_date : str or Timestamp, default "2026-11-15"
        Date the registry was extracted: no event is dated after it; first SIRT dates run from
        about 10.9 years before to 30 days before it.

    Returns
    -------
    dict of str to DataFrame
        One table per name in :data:`sirtstats.schema.TABLE_ORDER`, typed with
        :func:`sirtstats.schema.apply_dtypes`, sorted by primary key, index reset. The default
        call (and any of up to 2,000 patients) is memoised; every call returns fresh copies.

    Raises
    ------
    ValueError
        For a non-positive ``n_patients``.

    See Also
    --------
    write_demo_registry : the same tables as CSV files.

    Notes
    -----
    The generating truth is :data:`DEMO_TRUTH` (and ``docs/demo-registry.md``). Overall survival
    depends only on observable baseline covariates (ALBI grade, BCLC, ECOG, primary tumour);
    tumour response has no causal effect on survival in the demo.

    Examples
    --------
    >>> from sirtstats.demo import make_demo_registry
    >>> reg = make_demo_registry(60, seed=1)
    >>> sorted(reg)[:3]
    ['adverse_events', 'baseline', 'imaging_assessments']
    >>> reg["patients"]["patient_id"].is_unique
    True
    """
    if isinstance(n_patients, bool) or not isinstance(n_patients, int | np.integer) or \
            n_patients < 1:
        raise ValueError(
            f"The 'n_patients' argument of make_demo_registry must be an int >= 1. "
            f"Got {n_patients!r} instead.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(
            f"The 'seed' argument of make_demo_registry must be an int >= 0. Got {seed!r} "
            f"instead.")
    snap = pd.Timestamp(snapshot_date).strftime("%Y-%m-%d")
    if n_patients > _CACHE_MAX_PATIENTS:  # a large registry: no memo, no copy (memory)
        return _generate(int(n_patients), int(seed), snap)
    tables = _cached(int(n_patients), int(seed), snap)
    return {k: v.copy(deep=True) for k, v in tables.items()}


#: Registries of more patients are generated afresh at each call (not kept in memory).
_CACHE_MAX_PATIENTS = 2000


@lru_cache(maxsize=4)
def _cached(n: int, seed: int, snap: str) -> dict[str, pd.DataFrame]:
    return _generate(n, seed, snap)


def _generate(n: int, seed: int, snap: str) -> dict[str, pd.DataFrame]:
    snapshot_day = to_day(snap)
    rngs = [np.random.default_rng([seed, part]) for part in range(16)]
    P = make_patient_frame(rngs[0], n, snapshot_day)
    P["baseline_day"] = P["origin_day"] - randint(rngs[1], 1, 14, n)
    P = add_survival(P, rngs[2], snapshot_day)
    P, L = make_lesion_frame(P, rngs[3])
    S = make_sessions(P, rngs[4])
    P = add_device_effect(P, S, snapshot_day)  # issue #16: device HR, after the device draw
    P, W, TR, S, _ = make_workups_treatments(P, S, rngs[5])
    D, S = make_post_dosimetry(P, S, rngs[6])
    L = L.loc[P["treated"].to_numpy()[L["pi"].to_numpy()]].reset_index(drop=True)
    L = add_lesion_doses(L, P, S, rngs[7])
    P = add_progression_and_surgery(P, L, rngs[8])
    V, P = make_visits(P, L, rngs[9])
    M, L = make_measurements(P, L, V, rngs[10])
    A = make_assessments(P, V, M, rngs[11])
    # issue 15: Couinaud segments of lesions and new lesions, own stream (rest unchanged)
    L, A = add_territory_segments(P, L, A, TR, np.random.default_rng([seed, 16]))
    AE, P = make_adverse_events(P, S, rngs[12])
    P = add_death_causes(P, rngs[13])
    LB = make_labs(P, rngs[14])
    OT = make_other_therapies(P, TR, rngs[15])
    # issue 15: FDG-PET of a share of mCRC/ICC patients, own stream (rest unchanged)
    PET = make_pet_tables(P, L, V, A, np.random.default_rng([seed, 17]))
    # issue #16: centres C01-C04 from their own stream (part 30), labels only
    cen = DEMO_TRUTH["centres"]
    P["centre_id"] = np.random.default_rng([seed, 30]).choice(
        list(cen), size=n, p=list(cen.values()))
    return _assemble(P, W, TR, S, D, L, M, A, AE, LB, OT, PET)


def _date(days):
    return days_to_datetime(np.asarray(days, dtype=float))


def _assemble(P, W, TR, S, D, L, M, A, AE, LB, OT, PET=None) -> dict[str, pd.DataFrame]:
    pid = P["patient_id"].to_numpy()
    last = P["last_day"].to_numpy()
    out: dict[str, pd.DataFrame] = {}
    out["patients"] = pd.DataFrame({
        "patient_id": pid, "centre_id": P["centre_id"], "sex": P["sex"],
        "birth_year": P["birth_year"], "height_cm": P["height_cm"], "weight_kg": P["weight_kg"],
        "primary_tumour": P["tumour"], "hcc_aetiology": P["hcc_aetiology"],
        "cirrhosis": P["cirrhosis"].astype(bool), "diagnosis_date": _date(P["diagnosis_day"]),
        "n_prior_systemic_lines": P["n_prior_systemic_lines"],
        "death_date": _date(P["death_day"]), "cause_of_death": P["cause_of_death"],
        "last_contact_date": _date(last)})
    out["baseline"] = pd.DataFrame({
        "patient_id": pid, "assessment_date": _date(P["baseline_day"]), "ecog": P["ecog"],
        "bclc_stage": P["bclc"], "ascites": P["ascites"], "encephalopathy": P["encephalopathy"],
        "bilirubin_umol_l": P["bilirubin_umol_l"], "albumin_g_l": P["albumin_g_l"],
        "inr": P["inr"], "prothrombin_pct": P["prothrombin_pct"],
        "creatinine_umol_l": P["creatinine_umol_l"], "sodium_mmol_l": P["sodium_mmol_l"],
        "afp_ng_ml": P["afp_ng_ml"], "pvtt": P["pvtt"],
        "extrahepatic_disease": P["extrahepatic_disease"], "n_liver_lesions": P[
            "n_liver_lesions"], "largest_lesion_mm": P["largest_lesion_mm"],
        "tumour_volume_ml": P["tumour_volume_ml"], "liver_volume_ml": P["liver_volume_ml"],
        "bilobar": P["bilobar"], "treatment_intent": P["treatment_intent"]})
    out["workups"] = W
    out["treatments"] = TR
    Dd = D.copy()
    sday = Dd["scan_date"].to_numpy("datetime64[D]").astype(np.int64)
    lp = last[P.reset_index().set_index("patient_id").loc[Dd["patient_id"], "index"].to_numpy()]
    Dd["scan_date"] = _date(np.minimum(sday, lp))
    out["post_dosimetry"] = Dd
    lpid = pid[L["pi"].to_numpy()]
    lesion_id = ids(lpid, "-L", L["les_no"])
    bimg = P["baseline_img_day"].to_numpy()[L["pi"].to_numpy()]
    out["lesions"] = pd.DataFrame({
        "lesion_id": lesion_id, "patient_id": lpid, "baseline_date": _date(bimg),
        "organ": L["organ"], "is_nodal": L["is_nodal"].astype(bool),
        "recist_role": L["recist_role"], "mrecist_role": L["mrecist_role"],
        "is_arterially_enhancing": L["is_arterially_enhancing"],
        "in_treated_territory": L["in_treated_territory"].astype(bool),
        "couinaud_segments": L["couinaud_segments"],
        "absorbed_dose_gy": L["absorbed_dose_gy"]})
    out["lesion_measurements"] = pd.DataFrame({
        "lesion_id": ids(pid[M["pi"].to_numpy()], "-L", M["les_no"]),
        "assessment_date": _date(M["day"]), "criterion": M["criterion"],
        "fragment": M["fragment"], "state": M["state"], "diameter_mm": M["diameter_mm"],
        "is_enhancing": M["is_enhancing"], "nontarget_status": M["nontarget_status"]})
    out["imaging_assessments"] = pd.DataFrame({
        "patient_id": pid[A["pi"].to_numpy()], "assessment_date": _date(A["day"]),
        "criterion": A["criterion"], "modality": A["modality"], "new_lesion": A["new_lesion"],
        "new_lesion_site": A["new_lesion_site"],
        "new_lesion_in_treated_territory": A["new_lesion_in_treated_territory"],
        "new_lesion_segments": A["new_lesion_segments"],
        "new_lesion_size_mm": A["new_lesion_size_mm"],
        "new_lesion_typical_hcc": A["new_lesion_typical_hcc"],
        "reported_overall_response": A["reported_overall_response"],
        "reported_treated_area_response": A["reported_treated_area_response"]})
    out["labs"] = LB
    out["adverse_events"] = pd.DataFrame({
        "ae_id": ids(pid[AE["pi"].to_numpy()], "-AE", AE["ae_no"], 2),
        "patient_id": pid[AE["pi"].to_numpy()], "session_id": AE["session_id"],
        "ae_term": AE["ae_term"], "soc": AE["soc"], "onset_date": _date(AE["onset_day"]),
        "resolution_date": _date(AE["res_day"]), "grade": AE["grade"],
        "attribution": AE["attribution"], "serious": AE["serious"].astype(bool),
        "is_reild": AE["is_reild"].astype(bool)})
    OT = OT.loc[OT["start_day"].to_numpy() <= last[OT["pi"].to_numpy()]]
    out["other_therapies"] = pd.DataFrame({
        "therapy_id": ids(pid[OT["pi"].to_numpy()], "-T", OT["t_no"], 2),
        "patient_id": pid[OT["pi"].to_numpy()], "therapy_type": OT["therapy_type"],
        "start_date": _date(OT["start_day"]), "end_date": _date(OT["end_day"]),
        "systemic_line": OT["systemic_line"], "agent": OT["agent"],
        "is_planned_with_sirt": OT["is_planned_with_sirt"].astype(bool)})
    out.update(PET or {})
    for table in PET_TABLES:  # no PET patient: empty typed tables
        out.setdefault(table, empty_table(table))
    result = {}
    for table in TABLE_ORDER:
        df = apply_dtypes(out[table].reset_index(drop=True), table)
        pk = list(load_schema(table).primary_key)
        result[table] = df.sort_values(pk, kind="mergesort").reset_index(drop=True)
    return result


def write_demo_registry(
    out_dir,
    *,
    n_patients: int = DEFAULT_N_PATIENTS,
    seed: int = DEFAULT_SEED,
    snapshot_date="2026-11-15",
) -> list[Path]:
    """Write the demo registry as one CSV per table (``<table>.csv``).

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if missing; existing demo files are overwritten).
    n_patients : int, default 300
        Number of patients.
    seed : int, default 20261127
        Random seed.
    snapshot_date : str or Timestamp, default "2026-11-15"
        Extraction date (see :func:`make_demo_registry`).

    Returns
    -------
    list of Path
        The files written, in :data:`sirtstats.schema.TABLE_ORDER`.

    Notes
    -----
    The format is that of :func:`sirtstats.registry.write_registry`; writing twice gives
    byte-identical files.
    """
    from sirtstats.registry import write_registry

    return write_registry(
        make_demo_registry(n_patients, seed=seed, snapshot_date=snapshot_date), out_dir)


# --------------------------------------------------------------------------- "demo" data path


def _is_demo(source) -> bool:
    return not isinstance(source, Mapping) and str(source) == DEMO_SOURCE


def load_registry(source=DEMO_SOURCE, *, cutoff_date=None, strict=True):
    """:func:`sirtstats.registry.load_registry`, with ``"demo"`` for the bundled demo registry.

    Parameters
    ----------
    source : str, Path or mapping of str to DataFrame, default "demo"
        ``"demo"`` (:func:`make_demo_registry` with its defaults), a registry folder, or
        in-memory tables keyed by table name.
    cutoff_date : str or Timestamp, optional
        Data cut-off (ISO date), applied after validation.
    strict : bool
        If True (default), any error raises; if False, rows with an error are dropped.

    Returns
    -------
    Registry
        As :func:`sirtstats.registry.load_registry`; ``source`` is ``"demo"`` for the demo.

    Raises
    ------
    SirtDataError
        If a problem is an error (``strict=True``).

    See Also
    --------
    sirtstats.registry.load_registry : The loader itself (folders and in-memory tables).

    Examples
    --------
    >>> from sirtstats.demo import load_registry
    >>> reg = load_registry("demo", cutoff_date="2026-09-30")
    >>> reg.source, len(reg["patients"]) > 0
    ('demo', True)
    """
    from sirtstats import registry

    if _is_demo(source):
        reg = registry.load_registry(make_demo_registry(), cutoff_date=cutoff_date,
                                     strict=strict)
        return replace(reg, source=DEMO_SOURCE)
    return registry.load_registry(source, cutoff_date=cutoff_date, strict=strict)


def validate_registry(source, *, cutoff_date=None) -> pd.DataFrame:
    """:func:`sirtstats.registry.validate_registry`, with ``"demo"`` for the demo registry.

    Parameters
    ----------
    source : str, Path or mapping of str to DataFrame
        ``"demo"``, a registry folder, or in-memory tables keyed by table name.
    cutoff_date : str or Timestamp, optional
        Data cut-off (ISO date); dates after it are reported as warnings.

    Returns
    -------
    DataFrame
        The problems table (see :func:`sirtstats.registry.validate_registry`).

    See Also
    --------
    sirtstats.registry.validate_registry : The validator itself.
    """
    from sirtstats import registry

    tables = make_demo_registry() if _is_demo(source) else source
    return registry.validate_registry(tables, cutoff_date=cutoff_date)
