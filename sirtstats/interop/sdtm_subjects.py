"""CDISC SDTM subject domains (DM, DS, EX, AE) -> registry tables, and a whole-study import.

:func:`import_sdtm` reads an SDTM folder (one ``.csv`` or SAS transport ``.xpt`` file per
domain) into the registry: ``patients`` from DM (+ DS, and the other domains' dates for the last
date known alive), ``treatments`` from EX, ``adverse_events`` from AE, and the tumour tables
(``lesions``, ``lesion_measurements``, ``imaging_assessments``) from TU/TR/RS through
:func:`sirtstats.interop.sdtm.convert_sdtm_tumour`, and the PET tables (``pet_assessments``,
``pet_lesions``) from TR's FDG-PET records (TRTESTCD SULPEAK, SUVMAX, MTV, TLG) through
:func:`sirtstats.interop.sdtm_pet.convert_sdtm_pet`. Follows SDTMIG v3.3 variable names.

SDTM has no place for several registry facts that a SIRT registry requires (primary tumour,
microsphere device, treated territory, activity in GBq when EX doses are in mg). They are read
when the data carry them (EXTRT naming a device, EXDOSU an activity unit, EXLOC a territory);
otherwise the caller supplies a study-wide value (``primary_tumour=``, ``device=``,
``territory=``, ``activity_gbq=``). A supplied value is *imputed*: it is listed in
:attr:`SdtmImport.imputed` and announced by a :class:`~sirtstats.exceptions.SirtStatsWarning`.
Without it the value stays empty and an error is listed in :attr:`SdtmImport.problems`.

Partial ISO 8601 dates (``2014-02``, ``2014``) are imputed with
:func:`sirtstats.interop.sdtm.compute_imputed_date`: start and event dates (EXSTDTC, AESTDTC,
DTHDTC, DSSTDTC, TRDTC, RSDTC) to the first (default) or last day of the period
(``date_imputation``), end dates (AEENDTC, EXENDTC) to the last (default) or first
(``end_date_imputation``). Dates used for the last date known alive are always imputed to the
first day (a later day is not known). Every imputed date is listed.

The code lives in ``_sdtm_common`` (constants, result, log, reading) and ``_sdtm_domains``
(DM, EX and AE converters); :func:`import_sdtm` (the whole study) is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd

from sirtstats.exceptions import SirtDataError
from sirtstats.interop._sdtm_common import (
    _FN,
    ACTIVITY_UNITS,
    AE_RELATION_MAP,
    AE_SEVERITY_GRADE,
    DEVICE_PATTERNS,
    IMPUTED_COLUMNS,
    LAST_ALIVE_SOURCES,
    PROBLEM_COLUMNS,
    SDTM_DOMAINS,
    TERRITORY_PATTERNS,
    SdtmImport,
    _check_choice_sdtm,
    _check_enum,
    _Log,
    _require_sdtm,
    find_sdtm_files,
    load_sdtm_file,
)
from sirtstats.interop._sdtm_domains import (
    convert_sdtm_adverse_events,
    convert_sdtm_patients,
    convert_sdtm_treatments,
)
from sirtstats.interop.sdtm import convert_sdtm_tumour

__all__ = [
    "ACTIVITY_UNITS",
    "AE_RELATION_MAP",
    "AE_SEVERITY_GRADE",
    "DEVICE_PATTERNS",
    "IMPUTED_COLUMNS",
    "LAST_ALIVE_SOURCES",
    "PROBLEM_COLUMNS",
    "SDTM_DOMAINS",
    "TERRITORY_PATTERNS",
    "SdtmImport",
    "convert_sdtm_adverse_events",
    "convert_sdtm_patients",
    "convert_sdtm_treatments",
    "find_sdtm_files",
    "import_sdtm",
    "load_sdtm_file",
]


# --------------------------------------------------------------------------- whole study


def import_sdtm(
    folder: str | Path,
    *,
    files: Mapping[str, str | Path] | None = None,
    date_imputation: Literal["first", "last"] = "first",
    end_date_imputation: Literal["first", "last"] = "last",
    primary_tumour: str | None = None,
    device: str | None = None,
    territory: str | None = None,
    activity_gbq: float | None = None,
    include_exposure_end: bool = False,
    evaluator: str | None = "INVESTIGATOR",
    evaluator_id: str | None = None,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    last_alive_sources: tuple[str, ...] = LAST_ALIVE_SOURCES,
) -> SdtmImport:
    """Import an SDTM study folder into registry tables.

    Parameters
    ----------
    folder : str or Path
        One file per domain, ``<domain>.csv`` or ``<domain>.xpt`` (any case); DM required;
        DS, EX, AE, TU, TR, RS optional (TU and TR together).
    files : mapping of str to str or Path, optional
        Explicit file per domain, e.g. ``{"TU": "tu_onco_recist.csv"}``.
    date_imputation : {"first", "last"}, default "first"
        Partial start/event dates (EXSTDTC, AESTDTC, DTHDTC, DSSTDTC, TRDTC, RSDTC) -> first or
        last day of the month (or year). admiral's default is "first"; pharmaverse ADRS uses
        "last" for response dates.
    end_date_imputation : {"first", "last"}, default "last"
        Partial end dates (AEENDTC, EXENDTC).
    primary_tumour : str, optional
        ``patients.primary_tumour`` of every subject (e.g. "HCC"); SDTM DM has none.
    device : {"Y90_glass", "Y90_resin", "Ho166_PLLA"}, optional
        Device for exposure records whose EXTRT names none (non-SIRT test data).
    territory : str, optional
        Treated territory for exposure records without EXLOC/EXLAT.
    activity_gbq : float, optional
        Activity (GBq) for exposure records whose dose is not an activity.
    include_exposure_end : bool, default False
        Add the end of continuous exposure as a treatment date (see
        :func:`convert_sdtm_treatments`).
    evaluator, evaluator_id : str, optional
        Reader of TU/TR/RS (see :func:`sirtstats.interop.sdtm.convert_sdtm_tumour`).
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion of the tumour records.
    last_alive_sources : tuple of str
        ``DOMAIN.VARIABLE`` dates for ``last_contact_date`` (:data:`LAST_ALIVE_SOURCES`).

    Returns
    -------
    SdtmImport
        A mapping of the registry tables, plus ``problems`` (errors and warnings, each with
        USUBJID, domain and variable), ``imputed`` (every imputed value) and ``files``.

    Raises
    ------
    SirtDataError
        Folder or DM missing, a domain without its key columns, TU without TR.
    ValueError
        Invalid options (unknown device, territory, tumour, imputation).

    Warns
    -----
    SirtStatsWarning
        For each study-wide option actually used and for grades taken from AESEV.

    See Also
    --------
    sirtstats.interop.sdtm.convert_sdtm_tumour : TU/TR/RS.
    sirtstats.registry.validate_registry : validate the written folder.

    Notes
    -----
    Mapping choices for a non-SIRT study (e.g. the pharmaverse CDISCPILOT01 test data): every
    administered EX record becomes one injection (a session per patient and day), with the
    ``device``/``territory``/``activity_gbq`` options as placeholders; the origin of the
    analyses is then the first exposure (ADSL.TRTSDT, equal to RANDDT there). Subjects and
    records referring to subjects absent from DM are errors. Only the first treatment start
    date, the death date and the last contact date are used across domains.

    References
    ----------
    CDISC SDTMIG v3.3 (DM, DS, EX, AE, TU, TR, RS); pharmaverse admiral ``derive_vars_dt``
    (partial-date imputation) and ``ad_adsl.R`` / ``ad_adae.R`` templates.
    """
    _check_choice_sdtm(date_imputation, ("first", "last"), "date_imputation")
    _check_choice_sdtm(end_date_imputation, ("first", "last"), "end_date_imputation")
    _check_enum(primary_tumour, "patients", "primary_tumour", "primary_tumour")
    _check_enum(device, "treatments", "device", "device")
    _check_enum(territory, "treatments", "territory", "territory")
    if activity_gbq is not None and not (0 <= float(activity_gbq) <= 30):
        raise ValueError(f"The 'activity_gbq' argument of {_FN} must be between 0 and 30 GBq. "
                         f"Got {activity_gbq!r} instead.")
    paths = find_sdtm_files(folder, files=files)
    if "DM" not in paths:
        raise SirtDataError(f"{folder}: no DM domain (dm.csv or dm.xpt); DM lists the subjects "
                            f"and is required by {_FN}.", table="DM", rule="required domain")
    domains = {d: load_sdtm_file(p) for d, p in paths.items()}
    for d, df in domains.items():
        _require_sdtm(df, ["USUBJID"], d)
    log = _Log()
    tables: dict[str, pd.DataFrame] = {}
    if "EX" in domains:
        tables["treatments"] = convert_sdtm_treatments(
            domains["EX"], device=device, territory=territory, activity_gbq=activity_gbq,
            date_imputation=date_imputation, end_date_imputation=end_date_imputation,
            include_exposure_end=include_exposure_end, _log=log)
    tables["patients"] = convert_sdtm_patients(
        domains, primary_tumour=primary_tumour, date_imputation=date_imputation,
        last_alive_sources=last_alive_sources, _log=log)
    pts = tables["patients"].set_index("patient_id")
    if "AE" in domains:
        first = (tables["treatments"].groupby("patient_id")["treatment_date"].min()
                 if "treatments" in tables else None)
        tables["adverse_events"] = convert_sdtm_adverse_events(
            domains["AE"], first_treatment=first, death_dates=pts["death_date"].dropna(),
            date_imputation=date_imputation, end_date_imputation=end_date_imputation, _log=log)
    if "TU" in domains or "TR" in domains:
        if not {"TU", "TR"} <= set(domains):
            raise SirtDataError("TU and TR go together: tumour lesions (TU) and their results "
                                "(TR).", table="TU" if "TU" not in domains else "TR",
                                rule="required domain")
        conv = convert_sdtm_tumour(domains["TU"], domains["TR"], domains.get("RS"),
                                   evaluator=evaluator, evaluator_id=evaluator_id,
                                   criterion=criterion, date_imputation=date_imputation)
        tables.update(conv.tables)
        _log_tumour(conv, log)
        from sirtstats.interop.sdtm_pet import import_sdtm_pet  # issue 15: PET in TR

        pet_tables, p = import_sdtm_pet(domains, date_imputation=date_imputation)
        tables.update(pet_tables)
        log.problem(p["patient_id"], p["domain"], p["variable"], p["value"], p["problem"],
                    "warning")
    known = set(pts.index)
    for d, df in domains.items():
        orphan = ~df["USUBJID"].isin(known)
        if d != "DM" and orphan.any():
            ids = df.loc[orphan, "USUBJID"].drop_duplicates()
            log.problem(ids, d, "USUBJID", ids, "subject not in DM")
    problems, imputed = log.frames()
    order = ["patients", "treatments", "adverse_events", "lesions", "lesion_measurements",
             "imaging_assessments", "pet_assessments", "pet_lesions"]
    return SdtmImport(tables={t: tables[t] for t in order if t in tables}, problems=problems,
                      imputed=imputed, files=paths)


def _log_tumour(conv, log: _Log) -> None:
    p = conv.problems
    if len(p):
        log.problem(p["patient_id"], p["domain"], "", p["visitnum"].astype(str).radd(
            "VISITNUM "), p["problem"], "warning")
    imp = conv.imputed_dates
    if len(imp):
        log.impute(imp["patient_id"], "lesion_measurements/imaging_assessments",
                   "assessment_date", imp["domain"], imp["original"],
                   pd.to_datetime(imp["imputed_date"]).dt.strftime("%Y-%m-%d"), imp["rule"])
