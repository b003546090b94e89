"""SDTM DM (+DS), EX and AE records to the registry tables patients, treatments and
adverse_events.

Part of :mod:`sirtstats.interop.sdtm_subjects` (import from there).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.interop._sdtm_common import (
    _DIAGNOSIS_SOURCES,
    ACTIVITY_UNITS,
    AE_RELATION_MAP,
    AE_SEVERITY_GRADE,
    DEVICE_PATTERNS,
    LAST_ALIVE_SOURCES,
    TERRITORY_PATTERNS,
    _coalesce,
    _col,
    _dates,
    _Log,
    _match,
    _require_sdtm,
    _subject_dates,
    _upper,
    _warn,
)
from sirtstats.schema import apply_dtypes
from sirtstats.validation import DATE_MIN

__all__ = [
    "convert_sdtm_adverse_events",
    "convert_sdtm_patients",
    "convert_sdtm_treatments",
]


# --------------------------------------------------------------------------- DM (+DS)


def convert_sdtm_patients(
    domains: Mapping[str, pd.DataFrame],
    *,
    primary_tumour: str | None = None,
    date_imputation: Literal["first", "last"] = "first",
    last_alive_sources: tuple[str, ...] = LAST_ALIVE_SOURCES,
    _log: _Log | None = None,
) -> pd.DataFrame:
    """The ``patients`` table from DM (death also from DS), one row per USUBJID.

    Parameters
    ----------
    domains : mapping of str to DataFrame
        SDTM domains as text (:func:`load_sdtm_file`); DM required (``USUBJID``, ``SITEID``,
        ``SEX``; ``BRTHDTC`` or ``AGE``; optional ``DTHDTC``, ``DTHFL``, reference dates), DS
        optional (``DSDECOD = DEATH`` dates a death that DM does not).
    primary_tumour : str, optional
        ``patients.primary_tumour`` for every subject (SDTM DM has no diagnosis); None leaves it
        empty, which is an error of the registry.
    date_imputation : {"first", "last"}, default "first"
        Partial death dates.
    last_alive_sources : tuple of str, default :data:`LAST_ALIVE_SOURCES`
        ``DOMAIN.VARIABLE`` dates whose latest is the last date known alive.

    Returns
    -------
    DataFrame
        ``patients`` typed by the schema.

    Notes
    -----
    ``patient_id`` = USUBJID; ``centre_id`` = SITEID; ``sex`` = SEX (M/F; others are errors);
    ``birth_year`` = year of BRTHDTC, else year of RFSTDTC (or DMDTC) minus AGE in years
    (imputed, ±1 year); ``diagnosis_date`` = the earliest study date (informed consent,
    demographics, reference start, disposition, exposure; imputed); ``death_date`` = DTHDTC,
    else the DS DEATH date; ``cause_of_death`` = "unknown" for deaths; ``last_contact_date``
    = the death date for deaths, else the latest of ``last_alive_sources``.
    """
    log = _log or _Log()
    dm = domains["DM"]
    _require_sdtm(dm, ["USUBJID"], "DM")
    dup = dm["USUBJID"].duplicated(keep="first")
    if dup.any():
        log.problem(dm.loc[dup, "USUBJID"], "DM", "USUBJID", dm.loc[dup, "USUBJID"],
                    "subject listed twice in DM; first row kept")
        dm = dm.loc[~dup]
    ids = dm["USUBJID"]
    sex = _upper(_col(dm, "SEX")).replace({"MALE": "M", "FEMALE": "F"})
    bad_sex = ~sex.isin(["M", "F"])
    log.problem(ids[bad_sex], "DM", "SEX", _col(dm, "SEX")[bad_sex],
                "sex is not M or F (registry sex at birth); left empty")
    centre = _col(dm, "SITEID")
    log.problem(ids[centre.isna()], "DM", "SITEID", None, "site (centre_id) missing")

    # birth year: BRTHDTC, else reference year - AGE (years)
    byear = pd.to_numeric(_col(dm, "BRTHDTC").str[:4], errors="coerce")
    ref = _coalesce(_col(dm, "RFSTDTC"), _col(dm, "DMDTC"))
    age_years = pd.to_numeric(_col(dm, "AGE"), errors="coerce").where(
        _upper(_col(dm, "AGEU")).isin(["YEARS", "YEAR", ""]))
    from_age = pd.to_numeric(ref.str[:4], errors="coerce") - age_years
    use_age = byear.isna() & from_age.notna()
    log.impute(ids[use_age], "patients", "birth_year", "DM", _col(dm, "AGE")[use_age],
               from_age[use_age].astype("Int64").astype(str),
               "reference year minus AGE (no BRTHDTC; ±1 year)")
    byear = byear.fillna(from_age)
    log.problem(ids[byear.isna()], "DM", "BRTHDTC", None, "no birth date or age: birth_year "
                "left empty")

    # death: DM DTHDTC, else DS DSDECOD = DEATH
    death = _dates(dm, "DTHDTC", "DM", log, imputation=date_imputation, table="patients",
                   column="death_date")
    ds = domains.get("DS")
    if ds is not None and {"DSDECOD", "DSSTDTC"} <= set(ds.columns):
        dsd = ds.loc[_upper(ds["DSDECOD"]) == "DEATH"]
        d = _dates(dsd, "DSSTDTC", "DS", log, imputation=date_imputation, table="patients",
                   column="death_date")
        ds_death = pd.Series(d.to_numpy(), index=dsd["USUBJID"].to_numpy()).groupby(
            level=0).min()
        death = death.fillna(ids.map(ds_death))
    flagged = (_upper(_col(dm, "DTHFL")) == "Y") & death.isna()
    log.problem(ids[flagged], "DM", "DTHFL", "Y", "death flagged without a date (DTHDTC or DS "
                "DEATH): the patient is analysed as alive")

    diag = ids.map(_subject_dates(domains, _DIAGNOSIS_SOURCES, how="min"))
    log.impute(ids[diag.notna()], "patients", "diagnosis_date", "DM", None,
               diag[diag.notna()].dt.strftime("%Y-%m-%d"),
               "earliest study date (SDTM has no diagnosis date)")
    log.problem(ids[diag.isna()], "DM", "RFICDTC", None, "no study date to impute the "
                "diagnosis date from")
    last = ids.map(_subject_dates(domains, last_alive_sources, how="max"))
    last = pd.Series(np.where(death.notna(), death, last), index=ids.index).astype(
        "datetime64[ns]")
    log.problem(ids[last.isna()], "DM", "RFPENDTC", None, "no date to set last_contact_date")
    if primary_tumour is None:
        log.problem(ids, "DM", "", None, "primary tumour unknown in SDTM: set the "
                    "'primary_tumour' option (patients.primary_tumour is required)")
    else:
        log.impute(ids, "patients", "primary_tumour", "DM", None, primary_tumour,
                   "study-wide option primary_tumour")
        _warn(f"primary_tumour={primary_tumour!r} set", len(ids), "primary_tumour")
    out = pd.DataFrame({
        "patient_id": ids.to_numpy(), "centre_id": centre.to_numpy(),
        "sex": sex.where(~bad_sex).to_numpy(), "birth_year": byear.to_numpy(),
        "primary_tumour": primary_tumour, "diagnosis_date": diag.to_numpy(),
        "death_date": death.to_numpy(),
        "cause_of_death": np.where(death.notna(), "unknown", None),
        "last_contact_date": last.to_numpy(),
    })
    return apply_dtypes(out, "patients")


# --------------------------------------------------------------------------- EX


def convert_sdtm_treatments(
    df_ex: pd.DataFrame,
    *,
    device: str | None = None,
    territory: str | None = None,
    activity_gbq: float | None = None,
    date_imputation: Literal["first", "last"] = "first",
    end_date_imputation: Literal["first", "last"] = "last",
    include_exposure_end: bool = False,
    _log: _Log | None = None,
) -> pd.DataFrame:
    """The ``treatments`` table from EX: one injection per administered exposure record.

    Parameters
    ----------
    df_ex : DataFrame
        EX as text: ``USUBJID``, ``EXSEQ``, ``EXTRT``, ``EXSTDTC``; optional ``EXDOSE``,
        ``EXDOSU``, ``EXENDTC``, ``EXLOC``/``EXLAT``/``EXDIR``.
    device : {"Y90_glass", "Y90_resin", "Ho166_PLLA"}, optional
        Device of the records whose EXTRT names none (:data:`DEVICE_PATTERNS`).
    territory : str, optional
        Territory (``treatments.territory`` enum) of the records without a recognisable
        EXLOC/EXLAT (:data:`TERRITORY_PATTERNS`).
    activity_gbq : float, optional
        Delivered activity (GBq) of the records whose EXDOSU is not an activity unit (GBq,
        MBq, mCi); a placeholder for non-SIRT studies.
    date_imputation, end_date_imputation : {"first", "last"}
        Partial EXSTDTC / EXENDTC.
    include_exposure_end : bool, default False
        For continuous exposures (EXENDTC after EXSTDTC, e.g. daily drug for weeks): add one
        row per patient on the last exposure end date (0 GBq, same device and territory as the
        last record), so that the last treatment date is the end of exposure (ADSL.TRTEDT).

    Returns
    -------
    DataFrame
        ``treatments`` typed by the schema.

    Notes
    -----
    Records with ``EXDOSE = 0`` are not administrations and are skipped (warning), except
    placebo (EXTRT contains PLACEBO; ADSL counts placebo exposure, admiral ``ad_adsl.R``).
    ``injection_id`` = ``USUBJID/EX<EXSEQ>``; a session is one patient and day
    (``session_id`` = ``USUBJID/S<k>``, k = 1, 2... in date order: an identifier carries no
    date); ``administration_datetime`` = EXSTDTC when it has a time.

    Examples
    --------
    >>> import pandas as pd
    >>> ex = pd.DataFrame({"USUBJID": ["S1", "S2"], "EXSEQ": ["1", "1"],
    ...     "EXTRT": ["TheraSphere", "SIR-Spheres"], "EXDOSE": ["2.5", "1500"],
    ...     "EXDOSU": ["GBq", "MBq"], "EXLOC": ["RIGHT LOBE", "LIVER, SEGMENT 4"],
    ...     "EXSTDTC": ["2024-01-10", "2024-02"]})
    >>> convert_sdtm_treatments(ex)[["injection_id", "treatment_date", "device", "territory",
    ...                              "delivered_activity_gbq"]]
      injection_id treatment_date     device   territory  delivered_activity_gbq
    0       S1/EX1     2024-01-10  Y90_glass  right_lobe                     2.5
    1       S2/EX1     2024-02-01  Y90_resin   segmental                     1.5
    """
    log = _log or _Log()
    _require_sdtm(df_ex, ["USUBJID", "EXTRT", "EXSTDTC"], "EX")
    ex = df_ex
    dose = pd.to_numeric(_col(ex, "EXDOSE"), errors="coerce")
    placebo = _upper(ex["EXTRT"]).str.contains("PLACEBO", regex=False)
    skip = (dose == 0) & ~placebo
    log.problem(ex.loc[skip, "USUBJID"], "EX", "EXDOSE", _col(ex, "EXSEQ")[skip],
                "dose 0: not an administration, skipped (value = EXSEQ)", "warning")
    ex = ex.loc[~skip]
    dose = dose[~skip]
    ids = ex["USUBJID"]
    start = _dates(ex, "EXSTDTC", "EX", log, imputation=date_imputation, table="treatments",
                   column="treatment_date")
    log.problem(ids[start.isna()], "EX", "EXSTDTC", _col(ex, "EXSEQ")[start.isna()],
                "exposure without a start date (value = EXSEQ)")
    seq = _col(ex, "EXSEQ").fillna(pd.Series(np.arange(1, len(ex) + 1), index=ex.index)
                                   .astype(str))

    dev = _match(ex["EXTRT"], DEVICE_PATTERNS)
    no_dev = dev.isna()
    if device is not None and no_dev.any():
        log.impute(ids[no_dev], "treatments", "device", "EX", ex.loc[no_dev, "EXTRT"], device,
                   "study-wide option device (EXTRT names no SIRT device)")
        _warn(f"device={device!r} set", int(no_dev.sum()), "device")
        dev = dev.fillna(device)
    elif no_dev.any():
        log.problem(ids[no_dev], "EX", "EXTRT", ex.loc[no_dev, "EXTRT"],
                    "EXTRT names no SIRT device: set the 'device' option")

    where = (_col(ex, "EXLOC").fillna("") + " " + _col(ex, "EXLAT").fillna("") + " "
             + _col(ex, "EXDIR").fillna(""))
    terr = _match(where, TERRITORY_PATTERNS)
    no_terr = terr.isna()
    if territory is not None and no_terr.any():
        log.impute(ids[no_terr], "treatments", "territory", "EX", _col(ex, "EXLOC")[no_terr],
                   territory, "study-wide option territory (no EXLOC/EXLAT territory)")
        _warn(f"territory={territory!r} set", int(no_terr.sum()), "territory")
        terr = terr.fillna(territory)
    elif no_terr.any():
        log.problem(ids[no_terr], "EX", "EXLOC", _col(ex, "EXLOC")[no_terr],
                    "no treated territory in EXLOC/EXLAT: set the 'territory' option")

    factor = _upper(_col(ex, "EXDOSU")).map(ACTIVITY_UNITS)
    act = dose * factor
    no_act = act.isna()
    if activity_gbq is not None and no_act.any():
        log.impute(ids[no_act], "treatments", "delivered_activity_gbq", "EX",
                   (_col(ex, "EXDOSE").fillna("") + " " + _col(ex, "EXDOSU").fillna(""))[no_act],
                   activity_gbq, "study-wide option activity_gbq (dose is not an activity)")
        _warn(f"activity_gbq={activity_gbq!r} set", int(no_act.sum()), "activity_gbq")
        act = act.fillna(activity_gbq)
    elif no_act.any():
        log.problem(ids[no_act], "EX", "EXDOSU", _col(ex, "EXDOSU")[no_act],
                    "dose is not an activity (GBq, MBq, mCi): set the 'activity_gbq' option")

    has_time = _col(ex, "EXSTDTC").fillna("").str.contains("T", regex=False)
    admin = pd.to_datetime(_col(ex, "EXSTDTC").where(has_time), errors="coerce",
                           format="ISO8601")
    out = pd.DataFrame({
        "injection_id": (ids + "/EX" + seq).to_numpy(),
        "patient_id": ids.to_numpy(), "treatment_date": start.to_numpy(),
        "device": dev.to_numpy(), "territory": terr.to_numpy(),
        "administration_datetime": admin.to_numpy(), "delivered_activity_gbq": act.to_numpy(),
    })
    if include_exposure_end and len(out):
        end = _dates(ex, "EXENDTC", "EX", log, imputation=end_date_imputation,
                     table="treatments", column="treatment_date")
        last = out.assign(end=end.to_numpy()).sort_values(
            ["patient_id", "treatment_date"], kind="mergesort").groupby("patient_id").agg(
            last_start=("treatment_date", "max"), end=("end", "max"), device=("device", "last"),
            territory=("territory", "last")).reset_index()
        last = last.loc[last["end"] > last["last_start"]]
        extra = pd.DataFrame({
            "injection_id": last["patient_id"] + "/END",
            "patient_id": last["patient_id"], "treatment_date": last["end"],
            "device": last["device"], "territory": last["territory"],
            "delivered_activity_gbq": 0.0})
        log.impute(extra["patient_id"], "treatments", "treatment_date", "EX", None,
                   extra["treatment_date"].dt.strftime("%Y-%m-%d"),
                   "end of continuous exposure added as a 0 GBq row (include_exposure_end)")
        out = pd.concat([out, extra], ignore_index=True)
    out = out.sort_values(["patient_id", "treatment_date", "injection_id"], kind="mergesort")
    day = out.groupby("patient_id")["treatment_date"].rank(method="dense").fillna(0)
    out.insert(1, "session_id", out["patient_id"] + "/S" + day.astype(int).astype(str))
    return apply_dtypes(out.reset_index(drop=True), "treatments")


# --------------------------------------------------------------------------- AE


def convert_sdtm_adverse_events(
    df_ae: pd.DataFrame,
    *,
    first_treatment: pd.Series | None = None,
    death_dates: pd.Series | None = None,
    date_imputation: Literal["first", "last"] = "first",
    end_date_imputation: Literal["first", "last"] = "last",
    _log: _Log | None = None,
) -> pd.DataFrame:
    """The ``adverse_events`` table from AE, one row per AE record.

    Parameters
    ----------
    df_ae : DataFrame
        AE as text: ``USUBJID``, ``AESEQ``, ``AEDECOD`` (or ``AETERM``), ``AESTDTC``,
        ``AETOXGR`` or ``AESEV``; optional ``AEBODSYS``/``AESOC``, ``AEENDTC``, ``AEREL``,
        ``AESER``.
    first_treatment : Series, optional
        First treatment date per USUBJID (index): a start date imputed to the first of its
        period is not set before the first treatment in that same period (admiral ADAE
        ``ASTDT``).
    death_dates : Series, optional
        Death date per USUBJID: imputed end dates are capped at death (admiral ``AENDT``).
    date_imputation, end_date_imputation : {"first", "last"}
        Partial AESTDTC / AEENDTC.

    Returns
    -------
    DataFrame
        ``adverse_events`` typed by the schema.

    Notes
    -----
    ``ae_id`` = ``USUBJID/AE<AESEQ>``; ``ae_term`` = AEDECOD (MedDRA preferred term, else
    AETERM); ``soc`` = AEBODSYS (else AESOC); ``grade`` = AETOXGR (CTCAE) when present, else
    AESEV through :data:`AE_SEVERITY_GRADE` (listed as imputed: severity is not a CTCAE grade);
    ``attribution`` via :data:`AE_RELATION_MAP`; ``serious`` = AESER Y/N; ``is_reild`` = term
    mentions radioembolisation-induced liver disease. AEs starting before the registry's
    earliest plausible date (:data:`sirtstats.validation.DATE_MIN`) are not imported and are
    listed as warnings.
    """
    log = _log or _Log()
    _require_sdtm(df_ae, ["USUBJID", "AESTDTC"], "AE")
    ae = df_ae
    ids = ae["USUBJID"]
    seq = _col(ae, "AESEQ").fillna(pd.Series(np.arange(1, len(ae) + 1), index=ae.index)
                                   .astype(str))
    term = _coalesce(_col(ae, "AEDECOD"), _col(ae, "AETERM"))
    log.problem(ids[term.isna()], "AE", "AEDECOD", seq[term.isna()], "no AE term (value = "
                "AESEQ)")
    onset = _dates(ae, "AESTDTC", "AE", log, imputation=date_imputation,
                   table="adverse_events", column="onset_date")
    if first_treatment is not None and date_imputation == "first":
        # admiral min_dates: a first-of-period imputation is not before the first treatment
        # when the first treatment lies in the same month (or year)
        text = _col(ae, "AESTDTC").fillna("").str.split("T").str[0]
        ft = pd.to_datetime(ids.map(first_treatment))
        same = (((text.str.len() == 7) & (ft.dt.strftime("%Y-%m") == text))
                | ((text.str.len() == 4) & (ft.dt.strftime("%Y") == text)))
        onset = onset.where(~(same & (onset < ft)), ft)
    log.problem(ids[onset.isna()], "AE", "AESTDTC", seq[onset.isna()],
                "AE without a start date (value = AESEQ)")
    end = _dates(ae, "AEENDTC", "AE", log, imputation=end_date_imputation,
                 table="adverse_events", column="resolution_date")
    if death_dates is not None:
        cap = pd.to_datetime(ids.map(death_dates))
        end = end.where(~(end > cap), cap)

    tox = pd.to_numeric(_col(ae, "AETOXGR"), errors="coerce")
    sev = _upper(_col(ae, "AESEV")).map(AE_SEVERITY_GRADE)
    from_sev = tox.isna() & sev.notna()
    log.impute(ids[from_sev], "adverse_events", "grade", "AE", _col(ae, "AESEV")[from_sev],
               sev[from_sev].astype(int).astype(str),
               "AESEV used as grade (MILD 1, MODERATE 2, SEVERE 3; not CTCAE)")
    if from_sev.any():
        warnings.warn(f"SDTM import: {int(from_sev.sum())} AE grade(s) taken from AESEV "
                      "(MILD/MODERATE/SEVERE -> 1/2/3): severity is not a CTCAE grade.",
                      SirtStatsWarning, stacklevel=2)
    grade = tox.fillna(sev)
    log.problem(ids[grade.isna()], "AE", "AESEV", _col(ae, "AESEV")[grade.isna()],
                "no AETOXGR and no recognised AESEV: grade left empty")
    rel_text = _upper(_col(ae, "AEREL"))
    rel = rel_text.map(AE_RELATION_MAP)
    unknown = rel.isna() & (rel_text != "")
    log.problem(ids[unknown], "AE", "AEREL", _col(ae, "AEREL")[unknown],
                "relation not recognised; attribution left empty", "warning")
    ser = _upper(_col(ae, "AESER")).map({"Y": True, "N": False})
    words = _upper(term.fillna("") + " " + _col(ae, "AETERM").fillna(""))
    reild = words.str.contains("RADIOEMBOLI", regex=False) | words.str.contains(
        "REILD", regex=False)
    out = pd.DataFrame({
        "ae_id": (ids + "/AE" + seq).to_numpy(), "patient_id": ids.to_numpy(),
        "ae_term": term.to_numpy(), "soc": _coalesce(_col(ae, "AEBODSYS"), _col(ae, "AESOC"))
        .to_numpy(), "onset_date": onset.to_numpy(), "resolution_date": end.to_numpy(),
        "grade": grade.to_numpy(), "attribution": rel.to_numpy(),
        "serious": ser.astype("boolean").to_numpy(), "is_reild": reild.to_numpy(),
    })
    # the registry refuses dates before DATE_MIN (validation): such AEs (e.g. AESTDTC "2002",
    # a condition that started years before the study) are listed, not imported
    too_old = (onset < DATE_MIN).to_numpy()
    log.problem(ids[too_old], "AE", "AESTDTC", _col(ae, "AESTDTC")[too_old],
                f"onset before {DATE_MIN:%Y-%m-%d} (outside the registry's plausible dates): "
                "AE not imported", "warning")
    return apply_dtypes(out.loc[~too_old].reset_index(drop=True), "adverse_events")
