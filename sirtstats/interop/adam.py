"""ADaM-style analysis datasets (ADSL, ADRS, ADTTE, ADAE) from a registry, as CSV and XPT.

So that an R or SAS team can review or re-derive the sirtstats numbers, the derivations of
:mod:`sirtstats.response`, :mod:`sirtstats.endpoints` and :mod:`sirtstats.toxicity` are laid
out as CDISC ADaM-style datasets with the usual variable names and labels (ADaMIG v1.3, ADaM
OCCDS v1.1 for ADAE, ADaM BDS-TTE for ADTTE; parameter codes and value codings of the
pharmaverse admiral/admiralonco templates where they exist):

* ``ADSL``: one row per registry patient (first SIRT = TRTSDT, the origin of every analysis).
* ``ADRS``: per-visit overall response (``OVR``) and the derived parameters BOR, CBOR
  (confirmed BOR), RSP, CRSP (confirmed response), BCP, CBCP, CB, CCB (clinical benefit =
  disease control), PD, DEATH, LSTA (last assessment), MDIS (measurable disease at baseline).
  ``AVAL`` codes: CR 1, PR 2, SD 3, NON-CR/NON-PD 4, PD 5, NE 6, MISSING 7; Y 1, N 0.
* ``ADTTE``: OS, PFS, HPFS (hepatic PFS), TTP and RSD (duration of response), with ``CNSR``
  (0 event, 1 censored), ``EVNTDESC``/``CNSDTDSC`` and the rule id of docs/rules/.
* ``ADAE``: one row per adverse event with treatment-emergent (``TRTEMFL``) and first-worst
  (``AOCCIFL``) flags.

The ADaM datasets are a *presentation* of the sirtstats derivations: every value comes from
the same functions the notebooks call. Derivations here never write; :func:`write_adam` writes
CSV (ISO dates) and SAS transport v5 (``pyreadstat.write_xport``, names <= 8 characters,
labels <= 40, dates as SAS dates with ``DATE9.``), plus ``variables.csv`` with every label.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import check_choice
from sirtstats.exceptions import SirtStatsWarning

__all__ = [
    "ADAM_LABELS",
    "ADRS_PARAMS",
    "AVAL_RESPONSE",
    "DATASET_LABELS",
    "TTE_PARAMS",
    "derive_adae",
    "derive_adam",
    "derive_adrs",
    "derive_adsl",
    "derive_adtte",
    "write_adam",
]

#: Response -> ADRS AVAL (admiralonco ``aval_resp()``).
AVAL_RESPONSE: dict[str, int] = {"CR": 1, "PR": 2, "SD": 3, "NON-CR/NON-PD": 4, "PD": 5,
                                 "NE": 6, "MISSING": 7}

#: sirtstats response codes -> CDISC codes.
_TO_CDISC = {"CR": "CR", "PR": "PR", "SD": "SD", "NON_CR_NON_PD": "NON-CR/NON-PD", "PD": "PD",
             "NE": "NE", "MISSING": "MISSING"}

#: ADRS parameters: PARAMCD -> (PARAM, PARCAT1). Names follow admiralonco's ``ad_adrs.R``.
ADRS_PARAMS: dict[str, tuple[str, str]] = {
    "OVR": ("Overall Response", "Tumor Response"),
    "BOR": ("Best Overall Response (confirmation not required)", "Tumor Response"),
    "CBOR": ("Best Confirmed Overall Response", "Tumor Response"),
    "RSP": ("Response (confirmation not required)", "Tumor Response"),
    "CRSP": ("Confirmed Response", "Tumor Response"),
    "BCP": ("Best Overall Response of CR/PR (confirmation not required)", "Tumor Response"),
    "CBCP": ("Best Confirmed Overall Response of CR/PR", "Tumor Response"),
    "CB": ("Clinical Benefit (confirmation for response not required)", "Tumor Response"),
    "CCB": ("Confirmed Clinical Benefit", "Tumor Response"),
    "PD": ("Disease Progression", "Tumor Response"),
    "DEATH": ("Death", "Reference Event"),
    "LSTA": ("Last Disease Assessment", "Tumor Response"),
    "MDIS": ("Measurable Disease at Baseline", "Tumor Response"),
}

#: sirtstats endpoint -> (PARAMCD, PARAM). RSD is admiralonco's code for duration of response.
TTE_PARAMS: dict[str, tuple[str, str]] = {
    "OS": ("OS", "Overall Survival"),
    "PFS": ("PFS", "Progression Free Survival"),
    "hepatic_PFS": ("HPFS", "Hepatic Progression Free Survival"),
    "treated_PFS": ("TPFS", "Treated-Territory Progression Free Survival"),
    "TTP": ("TTP", "Time to Progression"),
    "TTLP": ("TTLP", "Time to Local Progression"),
    "DoR": ("RSD", "Duration of Response"),
}

_CRITERION_TEXT = {"RECIST_1_1": "RECIST 1.1", "mRECIST": "mRECIST"}

#: Dataset labels (XPT file label).
DATASET_LABELS: dict[str, str] = {
    "ADSL": "Subject-Level Analysis Dataset",
    "ADRS": "Response Analysis Dataset",
    "ADTTE": "Time-to-Event Analysis Dataset",
    "ADAE": "Adverse Events Analysis Dataset",
}

_COMMON = {
    "STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study", "SITEID": "Study Site Identifier",
    "TRT01A": "Actual Treatment for Period 01",
    "TRTSDT": "Date of First Exposure to Treatment",
    "TRTEDT": "Date of Last Exposure to Treatment", "ASEQ": "Analysis Sequence Number",
    "PARAM": "Parameter", "PARAMCD": "Parameter Code", "PARCAT1": "Parameter Category 1",
    "PARCAT2": "Parameter Category 2", "PARCAT3": "Parameter Category 3",
    "AVAL": "Analysis Value", "AVALC": "Analysis Value (C)", "AVALU": "Analysis Value Unit",
    "ADT": "Analysis Date", "ADY": "Analysis Relative Day",
}

#: Variable labels per dataset (<= 40 characters, SAS transport v5).
ADAM_LABELS: dict[str, dict[str, str]] = {
    "ADSL": {**_COMMON,
             "AGE": "Age at First SIRT", "AGEU": "Age Units", "SEX": "Sex",
             "BRTHYR": "Year of Birth", "PRIMTUM": "Primary Tumour", "DIAGDT": "Date of Diagnosis",
             "SAFFL": "Safety Population Flag", "NSESS": "Number of SIRT Sessions",
             "DTHFL": "Subject Death Flag", "DTHDT": "Date of Death", "DTHCAUS": "Cause of Death",
             "LSTALVDT": "Date Last Known Alive", "ECOGBL": "Baseline ECOG Performance Status",
             "BCLCBL": "Baseline BCLC Stage", "CPCLBL": "Baseline Child-Pugh Class",
             "CPPTBL": "Baseline Child-Pugh Points", "ALBIGRBL": "Baseline ALBI Grade",
             "MELDBL": "Baseline MELD Score", "CUTOFFDT": "Data Cut-off Date"},
    "ADRS": {**_COMMON, "ANL01FL": "Analysis Flag 01", "ANL02FL": "Analysis Flag 02"},
    "ADTTE": {**_COMMON, "STARTDT": "Time-to-Event Origin Date for Subject",
              "CNSR": "Censor", "EVNTDESC": "Event or Censoring Description",
              "CNSDTDSC": "Censor Date Description", "TTERULE": "Derivation Rule (sirtstats)"},
    "ADAE": {**_COMMON, "AESEQ": "Sequence Number", "AESPID": "Sponsor-Defined Identifier",
             "AETERM": "Reported Term for the Adverse Event",
             "AEDECOD": "Dictionary-Derived Term", "AEBODSYS": "Body System or Organ Class",
             "ASTDT": "Analysis Start Date", "AENDT": "Analysis End Date",
             "ASTDY": "Analysis Start Relative Day", "ATOXGR": "Analysis Toxicity Grade",
             "ATOXGRN": "Analysis Toxicity Grade (N)", "AREL": "Analysis Causality",
             "AESER": "Serious Event", "REILDFL": "REILD Flag",
             "SESSID": "SIRT Session Identifier",
             "TRTEMFL": "Treatment Emergent Analysis Flag",
             "AOCCIFL": "1st Max Sev./Int. Occurrence Flag"},
}

_FN = "derive_adam"


def _check_choice(value, allowed, argument, function=_FN):
    check_choice(value, allowed, argument, function)


def _yn(mask) -> np.ndarray:
    return np.where(np.asarray(mask, dtype=bool), "Y", "N").astype(object)


def _y_or_none(mask) -> np.ndarray:
    return np.where(np.asarray(mask, dtype=bool), "Y", None).astype(object)


def _subjects(registry):
    from sirtstats.cohort import derive_baseline

    return derive_baseline(registry).sort_values("patient_id", kind="mergesort").reset_index(
        drop=True)


# --------------------------------------------------------------------------- ADSL


def derive_adsl(registry, *, studyid: str = "SIRTSTATS", _subjects_frame=None) -> pd.DataFrame:
    """ADSL: one row per registry patient.

    Parameters
    ----------
    registry : Registry
        Loaded registry (:func:`sirtstats.registry.load_registry`); a cut-off applied at
        loading appears as ``CUTOFFDT``.
    studyid : str, default "SIRTSTATS"
        ``STUDYID`` value.

    Returns
    -------
    DataFrame
        Sorted by ``USUBJID``: ``STUDYID``, ``USUBJID`` = ``SUBJID`` = patient_id, ``SITEID``
        (centre), ``AGE`` (years at first SIRT, calendar-year difference), ``AGEU``, ``SEX``,
        ``BRTHYR``, ``PRIMTUM``, ``DIAGDT``, ``SAFFL`` (Y when treated), ``TRT01A`` (device of
        the first session), ``TRTSDT``/``TRTEDT`` (first/last SIRT), ``NSESS``, ``DTHFL``,
        ``DTHDT``, ``DTHCAUS``, ``LSTALVDT``, baseline ``ECOGBL``, ``BCLCBL``, ``CPCLBL``,
        ``CPPTBL``, ``ALBIGRBL``, ``MELDBL`` (:func:`sirtstats.cohort.derive_baseline`),
        ``CUTOFFDT``.
    """
    b = _subjects(registry) if _subjects_frame is None else _subjects_frame
    treated = b["first_sirt_date"].notna()
    cutoff = registry.cutoff_date
    death = b["death_date"]
    return pd.DataFrame({
        "STUDYID": studyid, "USUBJID": b["patient_id"], "SUBJID": b["patient_id"],
        "SITEID": b["centre_id"], "AGE": b["age_at_first_sirt_years"].astype("Int64"),
        "AGEU": np.where(b["age_at_first_sirt_years"].notna(), "YEARS", None),
        "SEX": b["sex"], "BRTHYR": b["birth_year"].astype("Int64"),
        "PRIMTUM": b["primary_tumour"], "DIAGDT": b["diagnosis_date"],
        "SAFFL": _yn(treated), "TRT01A": b["device"],
        "TRTSDT": b["first_sirt_date"], "TRTEDT": b["last_sirt_date"],
        "NSESS": b["n_sessions"].astype("Int64"),
        "DTHFL": _y_or_none(death.notna()), "DTHDT": death, "DTHCAUS": b["cause_of_death"],
        "LSTALVDT": b["last_contact_date"],
        "ECOGBL": b["ecog"].astype("Int64"), "BCLCBL": b["bclc_stage"],
        "CPCLBL": b["child_pugh_class"], "CPPTBL": b["child_pugh_points"].astype("Int64"),
        "ALBIGRBL": b["albi_grade"].astype("Int64"), "MELDBL": b["meld"].astype("Int64"),
        "CUTOFFDT": pd.Series(pd.NaT if cutoff is None else pd.Timestamp(cutoff),
                              index=b.index, dtype="datetime64[ns]"),
    })


# --------------------------------------------------------------------------- timepoints


def _timepoints(registry, criterion, source, scope="overall"):
    from sirtstats.response import derive_reported_timepoints, derive_timepoint_response

    if source == "reported":
        return derive_reported_timepoints(registry["imaging_assessments"], criterion=criterion)
    return derive_timepoint_response(registry["lesions"], registry["lesion_measurements"],
                                     registry["imaging_assessments"], criterion=criterion,
                                     scope=scope)


def _origin(b):
    treated = b.loc[b["first_sirt_date"].notna()]
    return pd.DataFrame({"patient_id": treated["patient_id"].to_numpy(),
                         "origin_date": treated["first_sirt_date"].to_numpy()})


# --------------------------------------------------------------------------- ADRS


def derive_adrs(
    registry,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    source: Literal["derived", "reported"] = "derived",
    convention: Literal["fda", "admiral"] = "fda",
    studyid: str = "SIRTSTATS",
    _subjects_frame=None,
    _timepoints_frame=None,
) -> pd.DataFrame:
    """ADRS: per-visit overall response and best-response parameters for every patient.

    Parameters
    ----------
    registry : Registry
        Loaded registry.
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Response criterion.
    source : {"derived", "reported"}, default "derived"
        Timepoint responses derived from the lesion measurements
        (:func:`sirtstats.response.derive_timepoint_response`) or the reader-reported ones
        (:func:`sirtstats.response.derive_reported_timepoints`).
    convention : {"fda", "admiral"}, default "fda"
        "fda": assessments after a new anticancer therapy do not count towards the best
        response (``df_therapies`` of :func:`derive_best_overall_response`); "admiral": they
        do (admiralonco).
    studyid : str, default "SIRTSTATS"
        ``STUDYID``.

    Returns
    -------
    DataFrame
        Sorted by ``USUBJID``, ``PARAMCD``, ``ADT``: ``STUDYID``, ``USUBJID``, ``TRTSDT``,
        ``ASEQ``, ``PARAMCD``/``PARAM``/``PARCAT1``-``3``, ``AVALC``, ``AVAL``
        (:data:`AVAL_RESPONSE`; Y 1, N 0), ``ADT``, ``ADY`` (ADT − TRTSDT + 1), ``ANL01FL``
        (OVR on or after the first SIRT), ``ANL02FL`` (OVR up to and including the first PD).
        Every ADSL patient has one row per derived parameter; untreated patients get MISSING/N.

    Notes
    -----
    BOR/CBOR come from :func:`sirtstats.response.derive_best_overall_response` (``bor``,
    ``bor_date``; confirmation 28 days, SD at >= 42 days after the first SIRT, one NE allowed
    between, R1.9 (docs/rules/response.md)); RSP/CRSP from ``is_responder`` and
    ``first_response_date``; CB/CCB from ``is_disease_control`` and
    ``disease_control_date``; PD from ``first_pd_date``; LSTA from ``last_assessment_date``;
    MDIS = a target lesion under the criterion; DEATH from ``patients.death_date``.
    ``ADT`` is empty for N and MISSING. CBCP is Y when CBOR is CR/PR (the pharmaverse ADRS
    has CBCP = N throughout, a known upstream bug, README §9.1).
    """
    from sirtstats.response import derive_best_overall_response

    _check_choice(criterion, tuple(_CRITERION_TEXT), "criterion", "derive_adrs")
    _check_choice(source, ("derived", "reported"), "source", "derive_adrs")
    _check_choice(convention, ("fda", "admiral"), "convention", "derive_adrs")
    b = _subjects(registry) if _subjects_frame is None else _subjects_frame
    tp = _timepoints(registry, criterion, source) if _timepoints_frame is None else (
        _timepoints_frame)
    tp = tp.loc[tp["overall_response"].notna()]
    if "is_baseline" in tp.columns:
        tp = tp.loc[~tp["is_baseline"].astype(bool)]
    origin = _origin(b)
    tp = tp.loc[tp["patient_id"].isin(origin["patient_id"])]
    therapies = registry["other_therapies"] if convention == "fda" else None
    unc = derive_best_overall_response(tp, origin, confirm=False, df_therapies=therapies)
    con = derive_best_overall_response(tp, origin, confirm=True, df_therapies=therapies)
    unc = unc.set_index("patient_id").reindex(b["patient_id"])
    con = con.set_index("patient_id").reindex(b["patient_id"])
    ids = b["patient_id"].to_numpy()
    resp_of = tp.set_index(["patient_id", "assessment_date"])["overall_response"]
    rows = []

    def add(paramcd, avalc, adt):
        avalc = pd.Series(np.asarray(avalc, dtype=object), index=ids)
        adt = pd.Series(pd.to_datetime(np.asarray(adt)), index=ids)
        rows.append(pd.DataFrame({"USUBJID": ids, "PARAMCD": paramcd,
                                  "AVALC": avalc.to_numpy(), "ADT": adt.to_numpy()}))

    def yes(mask, dates):
        mask = pd.Series(np.asarray(mask, dtype=object), index=ids).astype("boolean").fillna(
            False).astype(bool)
        return _yn(mask), pd.Series(dates.to_numpy(), index=ids).where(mask)

    bor = unc["bor"].fillna("MISSING").map(_TO_CDISC)
    cbor = con["bor"].fillna("MISSING").map(_TO_CDISC)
    add("BOR", bor, unc["bor_date"].where(bor != "MISSING"))
    add("CBOR", cbor, con["bor_date"].where(cbor != "MISSING"))
    add("RSP", *yes(unc["is_responder"], unc["first_response_date"]))
    add("CRSP", *yes(con["is_responder"], con["first_response_date"]))
    add("BCP", *yes(unc["is_responder"], unc["bor_date"]))
    add("CBCP", *yes(con["is_responder"], con["bor_date"]))
    add("CB", *yes(unc["is_disease_control"], unc["disease_control_date"]))
    add("CCB", *yes(con["is_disease_control"], con["disease_control_date"]))
    add("PD", *yes(unc["first_pd_date"].notna(), unc["first_pd_date"]))
    add("DEATH", *yes(b["death_date"].notna().to_numpy(), b["death_date"]))
    lsta = unc["last_assessment_date"]
    lsta_code = [resp_of.get((p, d)) if pd.notna(d) else None for p, d in lsta.items()]
    add("LSTA", pd.Series(lsta_code, index=ids).map(_TO_CDISC), lsta)
    role = "recist_role" if criterion == "RECIST_1_1" else "mrecist_role"
    les = registry["lesions"]
    mdis = les.loc[les[role] == "target", "patient_id"].unique()
    add("MDIS", _yn(np.isin(ids, mdis)), pd.Series(pd.NaT, index=ids))

    ovr = tp.merge(origin, on="patient_id")
    ovr = ovr.sort_values(["patient_id", "assessment_date"], kind="mergesort")
    on_after = (ovr["assessment_date"] >= ovr["origin_date"]).to_numpy()
    pd_seen = (ovr["overall_response"].eq("PD") & on_after).groupby(ovr["patient_id"]).transform(
        lambda s: s.cumsum().shift(fill_value=0) > 0)
    ovr_rows = pd.DataFrame({
        "USUBJID": ovr["patient_id"].to_numpy(), "PARAMCD": "OVR",
        "AVALC": ovr["overall_response"].map(_TO_CDISC).to_numpy(),
        "ADT": ovr["assessment_date"].to_numpy(),
        "ANL01FL": _y_or_none(on_after), "ANL02FL": _y_or_none(on_after & ~pd_seen.to_numpy())})
    derived = pd.concat(rows, ignore_index=True)
    derived["ANL01FL"] = "Y"
    derived["ANL02FL"] = None
    adrs = pd.concat([derived, ovr_rows], ignore_index=True)
    adrs["AVAL"] = adrs["AVALC"].map({**AVAL_RESPONSE, "Y": 1, "N": 0}).astype("Int64")
    adrs["PARAM"] = adrs["PARAMCD"].map({k: v[0] for k, v in ADRS_PARAMS.items()})
    adrs["PARCAT1"] = adrs["PARAMCD"].map({k: v[1] for k, v in ADRS_PARAMS.items()})
    reader = "Derived by sirtstats" if source == "derived" else "Reported by reader"
    is_ref = adrs["PARAMCD"].eq("DEATH")
    adrs["PARCAT2"] = np.where(is_ref, None, reader)
    adrs["PARCAT3"] = np.where(is_ref, None, _CRITERION_TEXT[criterion])
    return _finish_bds(adrs, b, studyid, order=["USUBJID", "PARAMCD", "ADT"])


def _finish_bds(df, b, studyid, *, order):
    trtsdt = df["USUBJID"].map(b.set_index("patient_id")["first_sirt_date"])
    df = df.assign(STUDYID=studyid, TRTSDT=trtsdt.astype("datetime64[ns]"))
    df["ADT"] = pd.to_datetime(df["ADT"]).astype("datetime64[ns]")
    days = (df["ADT"] - df["TRTSDT"]).dt.days
    df["ADY"] = (days + np.where(days >= 0, 1, 0)).astype("Int64")
    df = df.sort_values(order, kind="mergesort", na_position="first").reset_index(drop=True)
    df["ASEQ"] = (df.groupby("USUBJID").cumcount() + 1).astype("Int64")
    first = ["STUDYID", "USUBJID", "TRTSDT", "ASEQ", "PARAMCD", "PARAM", "PARCAT1", "PARCAT2",
             "PARCAT3"]
    rest = [c for c in df.columns if c not in first]
    return df[[c for c in first if c in df.columns] + rest]


# --------------------------------------------------------------------------- ADTTE


def _evntdesc(tte: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    event = tte["event"].to_numpy() == 1
    etype = tte["event_type"].to_numpy()
    at_origin = (tte["event_date"] == tte["origin_date"]).to_numpy() & (
        tte["endpoint"] != "DoR").to_numpy()
    os_ = (tte["endpoint"] == "OS").to_numpy()
    desc = np.select(
        [event & (etype == "death"), event & (etype == "progression"), event,
         at_origin, os_],
        ["Death", "Disease Progression", "Event", "First SIRT", "Alive"],
        default="Last Tumor Assessment")
    cnsdt = np.where(event, None, tte["reason"].to_numpy(dtype=object))
    return desc.astype(object), cnsdt


def derive_adtte(
    registry,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    source: Literal["derived", "reported"] = "derived",
    convention: Literal["fda", "admiral"] = "fda",
    endpoints: Sequence[str] = ("OS", "PFS", "hepatic_PFS", "TTP", "DoR"),
    studyid: str = "SIRTSTATS",
    _subjects_frame=None,
    _timepoints_frame=None,
) -> pd.DataFrame:
    """ADTTE: one row per treated patient and time-to-event parameter.

    Parameters
    ----------
    registry : Registry
        Loaded registry; its cut-off (if any) censors administratively (R5.5).
    criterion, source : str
        As :func:`derive_adrs`.
    convention : {"fda", "admiral"}, default "fda"
        Censoring rules of :func:`sirtstats.endpoints.derive_endpoints` (:data:`CONVENTIONS`):
        "admiral" reproduces the pharmaverse ADTTE (durations end − start + 1).
    endpoints : sequence of str, default ("OS", "PFS", "hepatic_PFS", "TTP", "DoR")
        Keys of :data:`TTE_PARAMS`. Hepatic and treated-territory endpoints need
        ``source="derived"`` (they are skipped with a warning otherwise).
    studyid : str, default "SIRTSTATS"
        ``STUDYID``.

    Returns
    -------
    DataFrame
        ``STUDYID``, ``USUBJID``, ``TRTSDT``, ``ASEQ``, ``PARAMCD``, ``PARAM``, ``STARTDT``
        (first SIRT; first response for RSD), ``ADT`` (event or censoring date), ``AVAL``
        (days: ADT − STARTDT, + 1 under "admiral"), ``AVALU`` ("DAYS"), ``CNSR`` (0 event,
        1 censored), ``EVNTDESC`` (Death, Disease Progression, Alive, First SIRT, Last Tumor
        Assessment), ``CNSDTDSC`` (the censoring reason), ``TTERULE`` (rule id
        of docs/rules/), ``ADY``.

    Warns
    -----
    SirtStatsWarning
        When an endpoint is skipped because the reported responses have no hepatic scope.
    """
    from sirtstats.endpoints import derive_endpoints

    _check_choice(criterion, tuple(_CRITERION_TEXT), "criterion", "derive_adtte")
    _check_choice(source, ("derived", "reported"), "source", "derive_adtte")
    for ep in endpoints:
        _check_choice(ep, tuple(TTE_PARAMS), "endpoints", "derive_adtte")
    b = _subjects(registry) if _subjects_frame is None else _subjects_frame
    endpoints = list(endpoints)
    scoped = [e for e in endpoints if e in ("hepatic_PFS", "treated_PFS", "TTLP")]
    tp = _timepoints(registry, criterion, source) if _timepoints_frame is None else (
        _timepoints_frame)
    if scoped and source == "reported":
        warnings.warn(f"derive_adtte: {scoped} skipped: reported responses have no hepatic or "
                      "treated-territory scope; use source='derived'.", SirtStatsWarning,
                      stacklevel=2)
        endpoints = [e for e in endpoints if e not in scoped]
    elif scoped:
        extra = {"hepatic_PFS": "hepatic", "treated_PFS": "treated", "TTLP": "treated"}
        tp = pd.concat([tp] + [_timepoints(registry, criterion, source, scope=s)
                               for s in sorted({extra[e] for e in scoped})], ignore_index=True)
    tp = tp.loc[tp["overall_response"].notna()]
    if "is_baseline" in tp.columns:
        tp = tp.loc[~tp["is_baseline"].astype(bool)]
    treated = b.loc[b["first_sirt_date"].notna()]
    pts = pd.DataFrame({"patient_id": treated["patient_id"],
                        "origin_date": treated["first_sirt_date"],
                        "death_date": treated["death_date"],
                        "last_contact_date": treated["last_contact_date"]})
    visits = tp.loc[tp["patient_id"].isin(pts["patient_id"]),
                    ["patient_id", "assessment_date", "overall_response", "scope"]]
    tte = derive_endpoints(pts, visits, registry["other_therapies"], endpoints=endpoints,
                           convention=convention, cutoff_date=registry.cutoff_date)
    evntdesc, cnsdtdsc = _evntdesc(tte)
    out = pd.DataFrame({
        "USUBJID": tte["patient_id"].to_numpy(),
        "PARAMCD": tte["endpoint"].map({k: v[0] for k, v in TTE_PARAMS.items()}).to_numpy(),
        "PARAM": tte["endpoint"].map({k: v[1] for k, v in TTE_PARAMS.items()}).to_numpy(),
        "STARTDT": tte["origin_date"].to_numpy(), "ADT": tte["event_date"].to_numpy(),
        "AVAL": tte["time_days"].astype("Int64").to_numpy(), "AVALU": "DAYS",
        "CNSR": (1 - tte["event"]).astype("Int64").to_numpy(),
        "EVNTDESC": evntdesc, "CNSDTDSC": cnsdtdsc, "TTERULE": tte["rule"].to_numpy(),
    })
    out["STARTDT"] = out["STARTDT"].astype("datetime64[ns]")
    order = {v[0]: i for i, v in enumerate(TTE_PARAMS.values())}
    out = out.assign(_o=out["PARAMCD"].map(order)).sort_values(
        ["USUBJID", "_o"], kind="mergesort").drop(columns="_o")
    return _finish_bds(out, b, studyid, order=["USUBJID"])


# --------------------------------------------------------------------------- ADAE


def _natural_key(s: pd.Series) -> pd.Series:
    return s.astype(str).str.replace(r"\d+", lambda m: m.group().zfill(12), regex=True)


def derive_adae(
    registry,
    *,
    te_window_days: int | None = None,
    studyid: str = "SIRTSTATS",
    _subjects_frame=None,
) -> pd.DataFrame:
    """ADAE: one row per adverse event with treatment-emergent and first-worst flags.

    Parameters
    ----------
    registry : Registry
        Loaded registry (``adverse_events``, ``treatments``).
    te_window_days : int, optional
        Days after the last SIRT session during which an event is treatment-emergent
        (:func:`sirtstats.toxicity.derive_treatment_emergent` with ``end="last_session"``);
        default :data:`sirtstats.toxicity.DEFAULT_TE_WINDOW_DAYS` (90); admiral's ADAE uses 30.
    studyid : str, default "SIRTSTATS"
        ``STUDYID``.

    Returns
    -------
    DataFrame
        Sorted by ``USUBJID`` and ``AESEQ`` (onset order): ``STUDYID``, ``USUBJID``,
        ``AESEQ``, ``AESPID`` (registry ``ae_id``), ``AETERM``/``AEDECOD`` (``ae_term``),
        ``AEBODSYS`` (``soc``), ``ASTDT``, ``AENDT``, ``ASTDY`` (ASTDT − TRTSDT + 1 on or
        after TRTSDT), ``ATOXGR``/``ATOXGRN`` (CTCAE grade), ``AREL``, ``AESER``, ``REILDFL``,
        ``SESSID``, ``TRTSDT``, ``TRTEDT``, ``TRTEMFL`` (Y/None), ``AOCCIFL`` (first
        treatment-emergent event of the worst grade: order grade desc, ASTDT, AESEQ).
    """
    from sirtstats.toxicity import (
        DEFAULT_TE_WINDOW_DAYS,
        derive_first_worst_flag,
        derive_treatment_emergent,
    )

    window = DEFAULT_TE_WINDOW_DAYS if te_window_days is None else te_window_days
    ae = registry["adverse_events"]
    ae = ae.assign(_k=_natural_key(ae["ae_id"])).sort_values(
        ["patient_id", "onset_date", "_k"], kind="mergesort").reset_index(drop=True)
    ae["aeseq"] = ae.groupby("patient_id").cumcount() + 1
    te = derive_treatment_emergent(ae, registry["treatments"], window_days=window,
                                   end="last_session")
    te = derive_first_worst_flag(te, order_cols=("onset_date", "aeseq"))
    trtsdt = te["first_sirt_date"].astype("datetime64[ns]")
    days = (te["onset_date"] - trtsdt).dt.days
    out = pd.DataFrame({
        "STUDYID": studyid, "USUBJID": te["patient_id"], "AESEQ": te["aeseq"].astype("Int64"),
        "AESPID": te["ae_id"], "AETERM": te["ae_term"], "AEDECOD": te["ae_term"],
        "AEBODSYS": te["soc"], "ASTDT": te["onset_date"], "AENDT": te["resolution_date"],
        "ASTDY": (days + np.where(days >= 0, 1, 0)).astype("Int64"),
        "ATOXGR": te["grade"].astype("Int64").astype(str).replace("<NA>", None),
        "ATOXGRN": te["grade"].astype("Int64"), "AREL": te["attribution"],
        "AESER": te["serious"].map({True: "Y", False: "N"}),
        "REILDFL": te["is_reild"].map({True: "Y", False: "N"}), "SESSID": te["session_id"],
        "TRTSDT": trtsdt, "TRTEDT": te["last_sirt_date"].astype("datetime64[ns]"),
        "TRTEMFL": _y_or_none(te["is_treatment_emergent"]),
        "AOCCIFL": _y_or_none(te["is_first_worst"]),
    })
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- all + writer


def derive_adam(
    registry,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    source: Literal["derived", "reported"] = "derived",
    convention: Literal["fda", "admiral"] = "fda",
    endpoints: Sequence[str] = ("OS", "PFS", "hepatic_PFS", "TTP", "DoR"),
    te_window_days: int | None = None,
    studyid: str = "SIRTSTATS",
) -> dict[str, pd.DataFrame]:
    """Build ADSL, ADRS, ADTTE and ADAE from a registry.

    Parameters
    ----------
    registry : Registry
        Loaded registry (with its cut-off, if any).
    criterion, source, convention, endpoints, te_window_days, studyid
        See :func:`derive_adrs`, :func:`derive_adtte` and :func:`derive_adae`.

    Returns
    -------
    dict of str to DataFrame
        ``{"ADSL", "ADRS", "ADTTE", "ADAE"}``.

    Raises
    ------
    ValueError
        Invalid options.

    Examples
    --------
    >>> from sirtstats.demo import load_registry
    >>> from sirtstats.interop.adam import derive_adam
    >>> adam = derive_adam(load_registry("demo"), endpoints=["OS"])
    >>> sorted(adam), adam["ADTTE"]["PARAMCD"].unique().tolist()
    (['ADAE', 'ADRS', 'ADSL', 'ADTTE'], ['OS'])
    """
    _check_choice(criterion, tuple(_CRITERION_TEXT), "criterion")
    _check_choice(source, ("derived", "reported"), "source")
    _check_choice(convention, ("fda", "admiral"), "convention")
    b = _subjects(registry)
    tp = _timepoints(registry, criterion, source)
    kw = {"criterion": criterion, "source": source, "convention": convention,
          "studyid": studyid, "_subjects_frame": b, "_timepoints_frame": tp}
    return {
        "ADSL": derive_adsl(registry, studyid=studyid, _subjects_frame=b),
        "ADRS": derive_adrs(registry, **kw),
        "ADTTE": derive_adtte(registry, endpoints=endpoints, **kw),
        "ADAE": derive_adae(registry, te_window_days=te_window_days, studyid=studyid,
                            _subjects_frame=b),
    }


_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
_SAS_EPOCH = pd.Timestamp("1960-01-01")


def _check_dataset(name: str, df: pd.DataFrame) -> dict[str, str]:
    labels = ADAM_LABELS.get(name, {})
    problems = [c for c in df.columns if not _NAME.match(c)]
    problems += [f"{c} (no label)" for c in df.columns if c not in labels]
    problems += [f"{c} (label > 40 characters)" for c in df.columns
                 if len(labels.get(c, "")) > 40]
    if problems:
        raise ValueError(f"{name}: variables not writable as SAS transport v5: {problems}")
    return {c: labels[c] for c in df.columns}


def _is_date(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s)


def write_adam(
    datasets: dict[str, pd.DataFrame],
    out_dir: str | Path,
    *,
    formats: Sequence[Literal["csv", "xpt"]] = ("csv", "xpt"),
) -> list[Path]:
    """Write ADaM datasets as CSV and/or SAS transport (XPT v5) files, with labels.

    Parameters
    ----------
    datasets : dict of str to DataFrame
        Output of :func:`derive_adam` (keys are dataset names, e.g. ``ADSL``).
    out_dir : str or Path
        Folder (created if needed). Files are ``<name lower case>.csv`` / ``.xpt`` and
        ``variables.csv`` (dataset, variable, label, type).
    formats : sequence of {"csv", "xpt"}, default ("csv", "xpt")
        Formats to write.

    Returns
    -------
    list of Path
        Files written.

    Raises
    ------
    ValueError
        A variable name longer than 8 characters, a missing or too long label, or an unknown
        format.

    Notes
    -----
    CSV: UTF-8, ISO dates (``yyyy-mm-dd``), empty cells for missing values. XPT: written with
    ``pyreadstat.write_xport`` (version 5, the FDA submission format), the dataset label as
    file label, variable labels, dates as SAS dates with format ``DATE9.``, numbers as
    doubles, text as character variables.
    """
    for f in formats:
        _check_choice(f, ("csv", "xpt"), "formats", "write_adam")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    meta = []
    for name, df in datasets.items():
        labels = _check_dataset(name, df)
        dates = [c for c in df.columns if _is_date(df[c])]
        for c in df.columns:
            meta.append({"dataset": name, "variable": c, "label": labels[c],
                         "type": "date" if c in dates else (
                             "numeric" if pd.api.types.is_numeric_dtype(df[c]) else "text")})
        if "csv" in formats:
            text = df.copy()
            for c in dates:
                text[c] = df[c].dt.strftime("%Y-%m-%d")
            path = out / f"{name.lower()}.csv"
            text.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
            paths.append(path)
        if "xpt" in formats:
            import pyreadstat

            x = pd.DataFrame(index=df.index)
            for c in df.columns:
                s = df[c]
                if c in dates:  # SAS date: days since 1960-01-01
                    x[c] = (s - _SAS_EPOCH).dt.days.astype("float64")
                elif pd.api.types.is_numeric_dtype(s):
                    x[c] = s.astype("float64")
                else:
                    x[c] = s.astype(object).where(s.notna(), "").astype(str)
            path = out / f"{name.lower()}.xpt"
            pyreadstat.write_xport(x, str(path), file_label=DATASET_LABELS.get(name, name),
                                   column_labels=labels, table_name=name, file_format_version=5,
                                   variable_format=dict.fromkeys(dates, "DATE9."))
            paths.append(path)
    vpath = out / "variables.csv"
    pd.DataFrame(meta, columns=["dataset", "variable", "label", "type"]).to_csv(
        vpath, index=False, lineterminator="\n")
    paths.append(vpath)
    return paths
