"""SDTM subject import, shared part: constants, the result class, the problem log, reading SDTM
files, and the helpers of the domain converters.

Part of :mod:`sirtstats.interop.sdtm_subjects` (import from there).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sirtstats._checks import _braced, check_choice, require_columns
from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.interop.sdtm import compute_imputed_date, load_sdtm_domain
from sirtstats.schema import load_schema

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
    "find_sdtm_files",
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




def _require_sdtm(df, cols, domain):
    require_columns(df, cols, domain, _FN)


def _check_choice_sdtm(value, allowed, argument):
    check_choice(value, allowed, argument, _FN)
