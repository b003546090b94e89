"""CDISC SDTM subject domains (DM, DS, EX, AE) -> registry tables, and a whole-study import.

:func:`import_sdtm` reads an SDTM folder (one ``.csv`` or SAS transport ``.xpt`` file per
domain) into the registry: ``patients`` from DM (+ DS, and the other domains' dates for the last
date known alive), ``treatments`` from EX, ``adverse_events`` from AE, and the tumour tables
(``lesions``, ``lesion_measurements``, ``imaging_assessments``) from TU/TR/RS through
:func:`sirtstats.interop.sdtm.convert_sdtm_tumour`. Follows SDTMIG v3.3 variable names.

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
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import _braced, check_choice, require_columns
from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.interop.sdtm import compute_imputed_date, convert_sdtm_tumour, load_sdtm_domain
from sirtstats.schema import apply_dtypes, load_schema
from sirtstats.validation import DATE_MIN

__all__ = [
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

#: Domains read by :func:`import_sdtm` (DM is required, the others optional).
SDTM_DOMAINS: tuple[str, ...] = ("DM", "DS", "EX", "AE", "TU", "TR", "RS")

#: Columns of :attr:`SdtmImport.problems`.
PROBLEM_COLUMNS = ["patient_id", "domain", "variable", "value", "problem", "severity"]

#: Columns of :attr:`SdtmImport.imputed`.
IMPUTED_COLUMNS = ["patient_id", "table", "column", "domain", "original", "imputed", "rule"]

#: AESEV (or AETOXGR when present) -> CTCAE-like grade. SDTM severity is not a CTCAE grade:
#: MILD/MODERATE/SEVERE are mapped to 1/2/3 (pharmaverse README 9.11) and listed as imputed.
AE_SEVERITY_GRADE: dict[str, int] = {
    "MILD": 1, "MODERATE": 2, "SEVERE": 3, "LIFE THREATENING": 4, "LIFE-THREATENING": 4,
    "FATAL": 5, "DEATH": 5,
}

#: AEREL -> adverse_events.attribution (CDISC "Causality" codelist and common sponsor terms).
AE_RELATION_MAP: dict[str, str] = {
    "NOT RELATED": "unrelated", "NONE": "unrelated", "UNRELATED": "unrelated", "N": "unrelated",
    "REMOTE": "unlikely", "UNLIKELY": "unlikely", "UNLIKELY RELATED": "unlikely",
    "POSSIBLE": "possible", "POSSIBLY RELATED": "possible",
    "PROBABLE": "probable", "PROBABLY RELATED": "probable",
    "DEFINITE": "definite", "DEFINITELY RELATED": "definite", "RELATED": "definite",
    "Y": "definite",
}

#: Substrings of EXTRT (upper case) -> treatments.device; first match wins.
DEVICE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("THERASPHERE", "Y90_glass"), ("GLASS", "Y90_glass"),
    ("SIR-SPHERES", "Y90_resin"), ("SIR SPHERES", "Y90_resin"), ("SIRSPHERES", "Y90_resin"),
    ("RESIN", "Y90_resin"),
    ("QUIREM", "Ho166_PLLA"), ("HOLMIUM", "Ho166_PLLA"), ("HO-166", "Ho166_PLLA"),
    ("HO166", "Ho166_PLLA"), ("PLLA", "Ho166_PLLA"),
)

#: Substrings of EXLOC / EXLAT / EXDIR (upper case) -> treatments.territory; first match wins.
TERRITORY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("SEGMENTECTOMY", "radiation_segmentectomy"), ("LOBECTOMY", "radiation_lobectomy"),
    ("BILOBAR", "bilobar_single_session"), ("BILATERAL", "bilobar_single_session"),
    ("SEGMENT", "segmental"), ("SECTOR", "sector"),
    ("RIGHT", "right_lobe"), ("LEFT", "left_lobe"), ("WHOLE", "whole_liver"),
)

#: Activity units of EXDOSU -> factor to GBq.
ACTIVITY_UNITS: dict[str, float] = {"GBQ": 1.0, "MBQ": 1e-3, "MCI": 0.037}

#: Dates that show a subject alive, used for ``last_contact_date`` (latest wins; partial dates
#: imputed to the first day). DM RFPENDTC is the end of participation (last contact).
LAST_ALIVE_SOURCES: tuple[str, ...] = (
    "DM.RFSTDTC", "DM.RFENDTC", "DM.RFXENDTC", "DM.RFPENDTC", "DM.DMDTC", "DS.DSSTDTC",
    "EX.EXSTDTC", "EX.EXENDTC", "AE.AESTDTC", "AE.AEENDTC", "TR.TRDTC", "RS.RSDTC",
)

#: Dates from which the diagnosis date is imputed (earliest wins): SDTM DM has no diagnosis
#: date, so the earliest study record stands in for it (diagnosis precedes enrolment).
_DIAGNOSIS_SOURCES: tuple[str, ...] = (
    "DM.RFICDTC", "DM.DMDTC", "DM.RFSTDTC", "DS.DSSTDTC", "EX.EXSTDTC",
)

_FN = "import_sdtm"


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class SdtmImport(Mapping):
    """Registry tables imported from SDTM, with the imputations and the problems.

    Behaves as a read-only ``dict`` of the tables (``result["patients"]``, ``dict(result)``).

    Attributes
    ----------
    tables : dict of str to DataFrame
        ``patients`` and, when their domains are present, ``treatments``, ``adverse_events``,
        ``lesions``, ``lesion_measurements``, ``imaging_assessments``; typed with
        :func:`sirtstats.schema.apply_dtypes`.
    problems : DataFrame
        :data:`PROBLEM_COLUMNS`; ``severity`` "error" (the registry would be invalid) or
        "warning" (converted, but read the note).
    imputed : DataFrame
        :data:`IMPUTED_COLUMNS`: every value that is not a plain copy of an SDTM value
        (partial dates, study-wide options, severity used as grade, birth year from AGE...).
    files : dict of str to Path
        The file read for each domain.
    """

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    imputed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=IMPUTED_COLUMNS))
    files: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    @property
    def has_errors(self) -> bool:
        """True when any problem is an error."""
        return bool((self.problems["severity"] == "error").any())

    def to_frame(self) -> pd.DataFrame:
        """Rows per imported table."""
        return pd.DataFrame({"table": list(self.tables),
                             "rows": [len(t) for t in self.tables.values()]})


class _Log:
    def __init__(self):
        self.problems: list[pd.DataFrame] = []
        self.imputed: list[pd.DataFrame] = []

    @staticmethod
    def _values(v):
        if v is None or np.isscalar(v):
            return v
        return pd.Series(v).reset_index(drop=True).astype(object)

    def problem(self, ids, domain, variable, values, problem, severity="error"):
        ids = pd.Series(ids).reset_index(drop=True)
        if len(ids):
            self.problems.append(pd.DataFrame({
                "patient_id": ids.astype(object), "domain": domain, "variable": variable,
                "value": self._values(values), "problem": problem, "severity": severity}))

    def impute(self, ids, table, column, domain, original, imputed, rule):
        ids = pd.Series(ids).reset_index(drop=True)
        if len(ids):
            self.imputed.append(pd.DataFrame({
                "patient_id": ids.astype(object), "table": table, "column": column,
                "domain": self._values(domain), "original": self._values(original),
                "imputed": self._values(imputed), "rule": self._values(rule)}))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        def cat(parts, cols):
            parts = [p for p in parts if len(p)]
            if not parts:
                return pd.DataFrame(columns=cols)
            out = pd.concat(parts, ignore_index=True)[cols]
            return out.astype(object).where(out.notna(), None)
        return cat(self.problems, PROBLEM_COLUMNS), cat(self.imputed, IMPUTED_COLUMNS)


# --------------------------------------------------------------------------- reading


def load_sdtm_file(path: str | Path) -> pd.DataFrame:
    """Read one SDTM domain from CSV or SAS transport (``.xpt``) as text.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (read with :func:`sirtstats.interop.sdtm.load_sdtm_domain`) or ``.xpt``
        (SAS XPORT v5/v8, read with ``pyreadstat.read_xport``).

    Returns
    -------
    DataFrame
        Every column as text (``object``: str or NaN); empty strings are missing; numeric XPT
        values are written without a trailing ``.0`` when integral (``AESEQ`` 3.0 -> "3"), so
        both formats give the same frame.

    Raises
    ------
    SirtDataError
        For another file type.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return load_sdtm_domain(path)
    if suffix != ".xpt":
        raise SirtDataError(f"{path.name}: SDTM domains are read from .csv or .xpt files.",
                            table=path.stem.upper(), rule="file format")
    import pyreadstat

    df, _meta = pyreadstat.read_xport(str(path))
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s):
            text = s.map(lambda v: np.nan if pd.isna(v) else (
                str(int(v)) if float(v).is_integer() else repr(float(v))))
        else:
            text = s.astype(object).map(lambda v: np.nan if v is None or (
                isinstance(v, str) and v.strip() == "") or (isinstance(v, float) and np.isnan(v))
                else str(v))
        out[col] = text.astype(object)
    return pd.DataFrame(out, index=df.index)


def find_sdtm_files(
    folder: str | Path, *, files: Mapping[str, str | Path] | None = None
) -> dict[str, Path]:
    """Locate the SDTM domain files of a folder.

    Parameters
    ----------
    folder : str or Path
        Folder holding ``dm.csv`` / ``DM.xpt`` ... (file name = domain, any case).
    files : mapping of str to str or Path, optional
        Explicit file per domain (``{"TU": "tu_onco_recist.csv"}``), relative to ``folder``
        or absolute; overrides the search for that domain.

    Returns
    -------
    dict of str to Path
        Domain (upper case) -> file, for the domains of :data:`SDTM_DOMAINS` found.

    Raises
    ------
    SirtDataError
        Folder or an explicitly named file not found; a domain present both as CSV and XPT.
    ValueError
        An unknown domain in ``files``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SirtDataError(f"SDTM folder not found: {folder}", rule="folder")
    found: dict[str, Path] = {}
    by_name: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in (".csv", ".xpt"):
            by_name.setdefault(path.stem.upper(), []).append(path)
    for domain in SDTM_DOMAINS:
        paths = by_name.get(domain, [])
        if len(paths) > 1:
            raise SirtDataError(
                f"{domain}: several files ({', '.join(p.name for p in paths)}); keep one or "
                f"name it with the 'files' argument of {_FN}.", table=domain, rule="file")
        if paths:
            found[domain] = paths[0]
    for domain, name in (files or {}).items():
        key = str(domain).upper()
        if key not in SDTM_DOMAINS:
            raise ValueError(f"The 'files' argument of {_FN} must have keys in "
                             f"{_braced(SDTM_DOMAINS)}. Got {domain!r} instead.")
        path = Path(name) if Path(name).is_absolute() else folder / name
        if not path.is_file():
            raise SirtDataError(f"{key}: file not found: {path}", table=key, rule="file")
        found[key] = path
    return found


# --------------------------------------------------------------------------- helpers


def _col(df: pd.DataFrame | None, name: str) -> pd.Series:
    if df is None:
        return pd.Series(dtype=object)
    if name in df.columns:
        return df[name]
    return pd.Series(None, index=df.index, dtype=object)


def _coalesce(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a`` where present, else ``b`` (text columns; no dtype downcasting)."""
    return a.astype(object).where(a.notna(), b.astype(object))


def _upper(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip().str.upper()


def _match(values: pd.Series, patterns) -> pd.Series:
    up = _upper(values)
    out = pd.Series(None, index=values.index, dtype=object)
    for key, value in patterns:
        out = out.where(out.notna() | ~up.str.contains(key, regex=False), value)
    return out


def _check_enum(value, table, column, argument):
    if value is None:
        return
    allowed = load_schema(table).field(column).enum
    _check_choice_sdtm(value, allowed, argument)


def _dates(df, col, domain, log, *, imputation, table, column, record_log=True):
    """Imputed dates of an SDTM --DTC column (NaT when missing); partial ones are logged."""
    text = _col(df, col)
    dates, flag = compute_imputed_date(text, imputation=imputation)
    bad = text.notna() & dates.isna()
    if bad.any():
        log.problem(df.loc[bad, "USUBJID"], domain, col, text[bad],
                    "not an ISO 8601 date; left empty")
    hit = flag.notna()
    if record_log and hit.any():
        rule = np.where(flag[hit] == "D", f"day imputed ({imputation} of month)",
                        f"month and day imputed ({imputation} of year)")
        log.impute(df.loc[hit, "USUBJID"], table, column, domain, text[hit],
                   dates[hit].dt.strftime("%Y-%m-%d"), pd.Series(rule))
    return dates


def _subject_dates(domains, sources, *, how):
    """Earliest/latest date per subject over ``DOMAIN.VARIABLE`` sources (first-day imputed)."""
    parts = []
    for src in sources:
        domain, var = src.split(".")
        df = domains.get(domain)
        if df is None or var not in df.columns:
            continue
        d, _ = compute_imputed_date(df[var], imputation="first")
        parts.append(pd.DataFrame({"id": df["USUBJID"].to_numpy(), "d": d.to_numpy()}))
    if not parts:
        return pd.Series(dtype="datetime64[ns]")
    both = pd.concat(parts, ignore_index=True).dropna()
    g = both.groupby("id")["d"]
    return g.max() if how == "max" else g.min()


def _warn(what: str, n: int, option: str):
    warnings.warn(f"SDTM import: {what} for {n} record(s) from the '{option}' option "
                  f"(not in the SDTM data); see SdtmImport.imputed.", SirtStatsWarning,
                  stacklevel=3)


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
    known = set(pts.index)
    for d, df in domains.items():
        orphan = ~df["USUBJID"].isin(known)
        if d != "DM" and orphan.any():
            ids = df.loc[orphan, "USUBJID"].drop_duplicates()
            log.problem(ids, d, "USUBJID", ids, "subject not in DM")
    problems, imputed = log.frames()
    order = ["patients", "treatments", "adverse_events", "lesions", "lesion_measurements",
             "imaging_assessments"]
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


def _require_sdtm(df, cols, domain):
    require_columns(df, cols, domain, _FN)


def _check_choice_sdtm(value, allowed, argument):
    check_choice(value, allowed, argument, _FN)
