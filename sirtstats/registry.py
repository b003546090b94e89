"""Loading a registry folder into typed, validated tables.

A registry folder holds one file per table of ``data_schema/``: ``<table>.csv`` (also ``.tsv``,
``.txt``), ``<table>.xlsx`` (first sheet) or ``<table>.parquet``. Only ``patients`` is required;
a missing optional table loads as an empty typed table. CSV files may be French-locale exports
(``;`` separator, decimal comma, ``dd/mm/yyyy`` dates) in UTF-8 (with or without BOM) or Latin-1
/ Windows-1252 (see :mod:`sirtstats.readers`).

:func:`validate_registry` returns every problem at once as a tidy table (see
:mod:`sirtstats.validation` for its columns and the row-numbering convention);
:func:`load_registry` raises :class:`~sirtstats.exceptions.SirtDataError` carrying that table
when any problem is an error, and otherwise returns a :class:`Registry` whose ``problems`` are
the warnings. Source files are only read, never written. Every data row is either loaded or
reported. Both also take a mapping of in-memory tables (validated the same way, row = index + 2
as in a CSV). The bundled demo registry (the data path ``"demo"``) is resolved one layer up, by
:func:`sirtstats.demo.load_registry` / :func:`sirtstats.demo.validate_registry`, which the CLI,
the report and the notebooks use: this module never imports the demo generator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import pandas as pd

from sirtstats.exceptions import SirtDataError
from sirtstats.schema import TABLE_ORDER, apply_dtypes, empty_table, load_schema

__all__ = ["Registry", "apply_cutoff", "load_registry", "validate_registry", "write_registry"]

_UNSUPPORTED = (".xls", ".ods", ".sav", ".sas7bdat", ".dta", ".json", ".xlsm")

#: ``Registry.source`` of tables passed as a mapping instead of a folder.
IN_MEMORY = "in-memory tables"

_DEMO_HINT = (
    "The 'source' argument of {func} must be a registry folder or a mapping of tables. The "
    "bundled demo registry \"demo\" is loaded by sirtstats.demo.{func}(\"demo\") (the CLI, "
    "the report and the notebooks accept it). Got 'demo' instead (no such folder)."
)


@dataclass(frozen=True)
class Registry:
    """A loaded registry: typed tables keyed by table name, plus the validation problems.

    Attributes
    ----------
    tables : dict of str to DataFrame
        One typed table per name of :data:`sirtstats.schema.TABLE_ORDER` (schema columns,
        order and dtypes; RangeIndex).
    problems : DataFrame
        Problems found while loading (warnings only after a strict load), columns ``table,
        file, row, column, value, rule, severity``.
    source : str
        Folder loaded, ``"demo"`` (:func:`sirtstats.demo.load_registry`) or
        :data:`IN_MEMORY` (tables passed as a mapping).
    cutoff_date : Timestamp or None
        Data cut-off applied (see :func:`apply_cutoff`).
    file_hashes : dict of str to str
        SHA-256 of each file read, keyed by file name.
    cutoff_counts : dict of str to int
        What the cut-off changed: rows removed per table, and cells cleared or capped as
        ``"<table>.<column>"`` (e.g. ``"patients.death_date"``: deaths after the cut-off).
    """

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = "demo"
    cutoff_date: pd.Timestamp | None = None
    file_hashes: dict[str, str] = field(default_factory=dict)
    cutoff_counts: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]


def _parse_cutoff(cutoff_date, func: str):
    if cutoff_date is None or (isinstance(cutoff_date, str) and cutoff_date.strip() == ""):
        return None
    try:
        ts = pd.Timestamp(cutoff_date)
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise ValueError(
            f"The 'cutoff_date' argument of {func} must be an ISO date (yyyy-mm-dd) or None. "
            f"Got {cutoff_date!r} instead.")
    return ts.normalize()


# --------------------------------------------------------------------------- validation core


def _validate_folder(folder: Path, log, cutoff):
    """Read and check every file; return typed tables (index = file row), files, hashes."""
    from sirtstats.crosschecks import check_cross_rules, check_cutoff
    from sirtstats.validation import REQUIRED_TABLES, check_keys

    tables = {t: _empty(t) for t in TABLE_ORDER}
    files: dict[str, str] = {}
    hashes: dict[str, str] = {}
    unreadable: set[str] = set()
    found = _list_folder(folder, log)
    if found is None:
        return tables, files, hashes
    for table in TABLE_ORDER:
        path = found.get(table)
        if path is None:
            if table in REQUIRED_TABLES:
                log.add(table, f"{table}.csv", pd.NA, "", "",
                        "required table missing (expected .csv, .xlsx or .parquet)", "error")
                unreadable.add(table)
            continue
        files[table] = path.name
        typed = _read_and_check_table(table, path, log, hashes)
        if typed is None:
            unreadable.add(table)
            continue
        tables[table] = typed
    check_keys(tables, files, log=log, unreadable=unreadable)
    if not unreadable:
        check_cross_rules(tables, files, log=log)
    if cutoff is not None:
        check_cutoff(tables, files, cutoff, log=log)
    return tables, files, hashes


def _list_folder(folder: Path, log) -> dict[str, Path] | None:
    """The file of each table in ``folder`` (None if unreadable), logging the files' problems.

    Logged: a missing or unreadable folder, several files for one table, unknown files and
    table files in an unsupported format.
    """
    from sirtstats.readers import find_table_files

    if not folder.is_dir():
        log.add("", str(folder), pd.NA, "", "", "registry folder not found", "error")
        return None
    try:
        found, duplicates = find_table_files(folder)
    except OSError as exc:
        log.add("", str(folder), pd.NA, "", "",
                f"cannot read the registry folder ({exc.strerror or 'unreadable'})", "error")
        return None
    for path in duplicates:
        table = path.stem.lower()
        log.add(table if table in TABLE_ORDER else "", path.name, pd.NA, "", "",
                f"several files for the same table ({found[table].name} is read): keep one",
                "error")
    for stem, path in found.items():
        if stem not in TABLE_ORDER:
            log.add("", path.name, pd.NA, "", "", "unknown file: not a registry table, ignored",
                    "warning")
    for path in sorted(folder.iterdir()):  # readable: find_table_files listed it
        if path.suffix.lower() in _UNSUPPORTED and path.stem.lower() in TABLE_ORDER:
            log.add(path.stem.lower(), path.name, pd.NA, "", "",
                    "unsupported file format: save the table as CSV, XLSX or Parquet", "error")
    return found


def _read_and_check_table(table: str, path: Path, log, hashes: dict[str, str]):
    """Read one table file, parse and check its values; None if it cannot be read at all."""
    from sirtstats.readers import hash_file, read_table_file
    from sirtstats.validation import check_header, check_values, file_date, parse_table

    schema = load_schema(table)
    tf = read_table_file(path)
    with contextlib.suppress(OSError):  # an unreadable file is reported by the reader
        hashes[path.name] = hash_file(path)
    fatal = False
    for p in tf.problems:
        log.add(table, path.name, p["row"], p["column"], p["value"], p["rule"],
                p["severity"])
        fatal |= p["severity"] == "error" and pd.isna(p["row"])
    if not fatal and _wrong_separator(tf.data.columns, schema):
        log.add(table, path.name, 1, "", "",
                "wrong separator: fields must be separated by , ; or tab", "error")
        fatal = True
    if fatal:
        return None
    mapping = check_header(list(tf.data.columns), schema, file=path.name, log=log,
                           read_as=_read_as(tf))
    typed, failed = parse_table(tf.data, schema, mapping, file=path.name,
                                decimal_comma=tf.decimal_comma, log=log,
                                strip=tf.needs_strip)
    check_values(typed, schema, file=path.name, log=log, failed=failed,
                 present_columns=set(mapping.values()), reference_date=file_date(path))
    return typed


def _read_as(tf) -> str:
    """How a text file was decoded, for messages about a header that does not match."""
    if not tf.encoding:
        return ""
    sep = {"\t": "tab", ",": "','", ";": "';'"}.get(tf.separator, repr(tf.separator))
    return f"header read as {tf.encoding} with separator {sep}"


@cache
def _empty_cached(table: str) -> pd.DataFrame:
    return empty_table(table)


def _empty(table: str) -> pd.DataFrame:
    return _empty_cached(table).copy()


def _wrong_separator(columns, schema) -> bool:
    """One column whose header holds several schema names joined by another character."""
    if len(columns) != 1:
        return False
    header = str(columns[0])
    return sum(name in header for name in schema.field_names) >= 2


def _validate_memory(tables: dict[str, pd.DataFrame], log, cutoff):
    """Check in-memory typed tables (e.g. the demo registry); row = index + 2 as in a CSV."""
    from sirtstats.crosschecks import check_cross_rules, check_cutoff
    from sirtstats.validation import check_keys, check_values

    indexed = {}
    for table in TABLE_ORDER:
        df = tables.get(table)
        df = _empty(table) if df is None else apply_dtypes(df, table)
        df = df.set_axis(pd.RangeIndex(2, len(df) + 2))
        check_values(df, load_schema(table), file="", log=log,
                     present_columns=set(tables.get(table, pd.DataFrame()).columns))
        indexed[table] = df
    check_keys(indexed, {}, log=log)
    check_cross_rules(indexed, {}, log=log)
    if cutoff is not None:
        check_cutoff(indexed, {}, cutoff, log=log)
    return indexed


def _run_validation(source, cutoff, func: str):
    from sirtstats.validation import ProblemLog

    log = ProblemLog()
    if isinstance(source, Mapping):
        tables = _validate_memory(source, log, cutoff)
        return tables, log.frame(), {}, IN_MEMORY
    if str(source) == "demo" and not Path(source).is_dir():
        raise ValueError(_DEMO_HINT.format(func=func))
    folder = Path(source)
    tables, _files, hashes = _validate_folder(folder, log, cutoff)
    return tables, log.frame(), hashes, str(folder)


def validate_registry(source, *, cutoff_date=None) -> pd.DataFrame:
    """Validate a registry folder and return every problem found.

    Parameters
    ----------
    source : str, Path or mapping of str to DataFrame
        Registry folder, or in-memory tables keyed by table name (the bundled demo
        registry: :func:`sirtstats.demo.validate_registry`).
    cutoff_date : str or Timestamp, optional
        Data cut-off (ISO date); dates after it are reported as warnings.

    Returns
    -------
    DataFrame
        The problems table: ``table``, ``file``, ``row`` (Int64; header = row 1, first data
        row = 2; missing for whole-file problems), ``column``, ``value``, ``rule``,
        ``severity`` (``"error"`` or ``"warning"``); empty when the registry is clean.

    See Also
    --------
    load_registry : Load the tables, raising on errors.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "patients.csv").write_text(
    ...     "patient_id;centre_id;sex;birth_year;primary_tumour;diagnosis_date;last_contact_date\\n"
    ...     "P1;C1;X;1950;HCC;03/01/2020;01/06/2021\\n")
    >>> validate_registry(folder)[["table", "row", "column", "value", "severity"]]
          table  row      column value severity
    0  patients    2  patient_id    P1  warning
    1  patients    2         sex     X    error
    """
    cutoff = _parse_cutoff(cutoff_date, "validate_registry")
    return _run_validation(source, cutoff, "validate_registry")[1]


def load_registry(source, *, cutoff_date=None, strict=True) -> Registry:
    """Load, validate and type a registry folder (or in-memory tables).

    Parameters
    ----------
    source : str, Path or mapping of str to DataFrame
        Registry folder, or in-memory tables keyed by table name (the bundled demo
        registry: :func:`sirtstats.demo.load_registry`).
    cutoff_date : str or Timestamp, optional
        Data cut-off (ISO date). When given, :func:`apply_cutoff` is applied after validation.
    strict : bool
        If True (default), any error raises. If False, rows with an error are dropped (and
        stay listed in ``problems``) and the rest is loaded.

    Returns
    -------
    Registry
        Typed tables, the problems (warnings, plus dropped rows' errors when not strict), file
        hashes and cut-off.

    Raises
    ------
    SirtDataError
        If a problem is an error (``strict=True``); ``.rows`` holds the problems table.
    ValueError
        ``source`` is ``"demo"`` and no such folder exists (use
        :func:`sirtstats.demo.load_registry`), or ``cutoff_date`` is not a date.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "patients.csv").write_text(
    ...     "patient_id,centre_id,sex,birth_year,primary_tumour,diagnosis_date,last_contact_date\\n"
    ...     "P1,C1,F,1950,HCC,2020-01-03,2021-06-01\\n")
    >>> reg = load_registry(folder)
    >>> reg["patients"][["patient_id", "birth_year", "diagnosis_date"]]
      patient_id  birth_year diagnosis_date
    0         P1        1950     2020-01-03
    >>> reg.problems["rule"].tolist()
    ['patient has no SIRT treatment (the cohort will exclude them)']
    """
    cutoff = _parse_cutoff(cutoff_date, "load_registry")
    tables, problems, hashes, src = _run_validation(source, cutoff, "load_registry")
    errors = problems[problems["severity"] == "error"]
    if len(errors) and strict:
        raise SirtDataError(_error_message(src, problems), rule="registry validation",
                            rows=problems)
    out = {}
    for table in TABLE_ORDER:
        df = tables[table]
        bad_rows = errors.loc[errors["table"] == table, "row"].dropna()
        if len(bad_rows):
            df = df[~df.index.isin(set(bad_rows.astype(int)))]
        out[table] = _typed(df.reset_index(drop=True), table)
    registry = Registry(tables=out, problems=problems if not strict else problems[
        problems["severity"] != "error"].reset_index(drop=True), source=src, file_hashes=hashes)
    if cutoff is not None:
        registry = apply_cutoff(registry, cutoff)
    return registry


def _typed(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """``df`` in schema columns and dtypes (cast with apply_dtypes only if needed)."""
    schema = load_schema(table)
    if list(df.columns) == schema.field_names and all(
            str(df[f.name].dtype) == f.dtype for f in schema.fields):
        return df
    return apply_dtypes(df, table)


def _error_message(source: str, problems: pd.DataFrame) -> str:
    errors = problems[problems["severity"] == "error"]
    n_warn = int((problems["severity"] == "warning").sum())
    lines = [f"registry {source}: {len(errors)} error(s), {n_warn} warning(s); "
             "run `sirtstats validate` for the full table. First errors:"]
    for r in errors.head(5).itertuples(index=False):
        where = f"{r.table}.{r.column}" if r.column else (r.table or r.file)
        row = "" if pd.isna(r.row) else f" row {r.row}"
        lines.append(f"  {r.file}{row} {where}: {r.rule}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- cut-off

#: Optional end dates cleared (unknown at the cut-off) when after the cut-off.
_CUTOFF_CLEARED = {"adverse_events": "resolution_date", "other_therapies": "end_date"}


def apply_cutoff(registry: Registry, cutoff_date) -> Registry:
    """Apply the administrative data cut-off: nothing after it counts.

    Parameters
    ----------
    registry : Registry
        Loaded registry (not modified).
    cutoff_date : str or Timestamp
        Data cut-off (ISO date, inclusive: events on the cut-off day count).

    Returns
    -------
    Registry
        A new registry where rows dated after the cut-off are removed from event tables
        (``workups``, ``treatments``, ``post_dosimetry``, ``lesions``, ``lesion_measurements``,
        ``imaging_assessments``, ``labs``, ``adverse_events``, ``other_therapies``, by the
        dates of :data:`sirtstats.crosschecks.CUTOFF_COLUMNS`); a death after the cut-off is
        cleared (``death_date`` NaT, ``cause_of_death`` None) and the patient is known alive at
        the cut-off (``last_contact_date`` = cut-off); any ``last_contact_date`` after the
        cut-off is capped at it; AE resolution and therapy end dates after the cut-off are
        cleared (ongoing at cut-off). ``cutoff_counts`` reports what changed.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.schema import apply_dtypes
    >>> pts = apply_dtypes(pd.DataFrame({"patient_id": ["P1", "P2"],
    ...     "death_date": ["2026-10-05", None], "cause_of_death": ["other", None],
    ...     "last_contact_date": ["2026-10-05", "2026-08-01"]}), "patients")
    >>> reg = apply_cutoff(Registry(tables={"patients": pts}), "2026-09-30")
    >>> reg["patients"][["patient_id", "death_date", "last_contact_date"]]
      patient_id death_date last_contact_date
    0         P1        NaT        2026-09-30
    1         P2        NaT        2026-08-01
    >>> reg.cutoff_counts["patients.death_date"]
    1
    """
    from sirtstats.crosschecks import CUTOFF_COLUMNS

    cutoff = _parse_cutoff(cutoff_date, "apply_cutoff")
    if cutoff is None:
        return registry
    tables = dict(registry.tables)
    counts: dict[str, int] = {}
    for table, cols in CUTOFF_COLUMNS.items():
        if table == "patients" or table not in tables:
            continue
        df = tables[table]
        after = (df[cols[0]] > cutoff).fillna(False).astype(bool)
        counts[table] = int(after.sum())
        if after.any():
            df = df[~after].reset_index(drop=True)
        col = _CUTOFF_CLEARED.get(table)
        if col is not None and col in df.columns:
            late = (df[col] > cutoff).fillna(False).astype(bool)
            counts[f"{table}.{col}"] = int(late.sum())
            if late.any():
                df = df.copy()
                df.loc[late, col] = pd.NaT
        tables[table] = df
    if "patients" in tables:
        p = tables["patients"].copy()
        late_death = (p["death_date"] > cutoff).fillna(False).astype(bool)
        counts["patients.death_date"] = int(late_death.sum())
        p.loc[late_death, "death_date"] = pd.NaT
        if "cause_of_death" in p.columns:
            p.loc[late_death, "cause_of_death"] = None
        late_contact = (p["last_contact_date"] > cutoff).fillna(False).astype(bool)
        counts["patients.last_contact_date"] = int((late_contact | late_death).sum())
        p.loc[late_contact | late_death, "last_contact_date"] = cutoff
        tables["patients"] = p
    return replace(registry, tables=tables, cutoff_date=cutoff, cutoff_counts=counts)


def write_registry(tables, out_dir) -> list[Path]:
    """Write typed registry tables as a registry folder, one ``<table>.csv`` per table.

    Parameters
    ----------
    tables : Registry or dict of str to DataFrame
        Typed tables (schema columns and dtypes, as :func:`load_registry` returns them); tables
        absent from the mapping are not written.
    out_dir : str or Path
        Folder to write into (created if missing; existing table files are overwritten).

    Returns
    -------
    list of Path
        The files written, in :data:`sirtstats.schema.TABLE_ORDER`.

    Notes
    -----
    Format: UTF-8, comma separator, ``.`` decimal (shortest round-tripping repr), ISO dates
    (``yyyy-mm-dd``) and datetimes (``yyyy-mm-ddTHH:MM:SS``), booleans ``true``/``false``, an
    empty cell for a missing value, ``\\n`` line endings. The folder loads back with
    :func:`load_registry` to the same tables, and writing twice gives byte-identical files.
    """
    tables = tables.tables if isinstance(tables, Registry) else tables
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in TABLE_ORDER:
        if table in tables:
            path = out / f"{table}.csv"
            _write_csv(_table_as_text(tables[table], table), path)
            paths.append(path)
    return paths


def _write_csv(text: pd.DataFrame, path: Path) -> None:
    """Write text cells as CSV: the bytes of ``to_csv(index=False, lineterminator="\\n")``
    (the same :mod:`csv` writer, minimal quoting), without pandas' per-cell formatting."""
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(text.columns))
        writer.writerows(zip(*(text[c].tolist() for c in text.columns), strict=True))


def _table_as_text(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Render a typed table as CSV text cells (ISO dates, true/false, '' for missing)."""
    cols = {}
    for f in load_schema(table).fields:
        s = df[f.name]
        cols[f.name] = _column_as_text(s, f.type).where(s.notna(), "")
    return pd.DataFrame(cols)


def _column_as_text(s: pd.Series, kind: str) -> pd.Series:
    """CSV text of one typed column (missing cells are blanked by the caller).

    Vectorised (numpy datetime and string casts, a list of ``repr`` for floats), with the same
    text as ``strftime`` / ``str`` / ``repr(float(v))`` cell by cell: dates in the datetime64[ns]
    range have four-digit years, so ``datetime64[D]`` text is ``yyyy-mm-dd``.
    """
    import numpy as np

    if kind in ("date", "datetime"):
        unit = "D" if kind == "date" else "s"
        txt = s.to_numpy(dtype="datetime64[ns]").astype(f"datetime64[{unit}]").astype(str)
        return pd.Series(txt, index=s.index, dtype=object)
    if kind == "boolean":
        return s.map({True: "true", False: "false"}).astype(object)
    if kind == "integer":
        values = s.astype("Int64")
        return pd.Series([str(v) for v in values.fillna(0).to_numpy(dtype="int64").tolist()],
                         index=s.index, dtype=object)
    if kind == "number":
        values = pd.to_numeric(s).astype("float64").to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series([repr(v) for v in values.tolist()], index=s.index, dtype=object)
    return s.astype(object)
