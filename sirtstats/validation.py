"""Validation of registry tables against ``data_schema/``: every problem, reported at once.

The checks read the schema (types, required, enums, ranges, warning ranges, patterns, primary
and foreign keys) and the declarative cross-table rules of :mod:`sirtstats.crosschecks`. They
never stop at the first problem: each finding becomes one row of a tidy *problems table*

==========  ===============================================================================
column      meaning
==========  ===============================================================================
table       registry table (``""`` for a file that is not a table)
file        file name in the registry folder (``""`` for in-memory tables)
row         1-based row number in the file, header = row 1, first data row = row 2 (XLSX:
            the spreadsheet row); ``<NA>`` for a problem about the whole file
column      column concerned (``""`` for a whole row or file)
value       offending value as text (never shown for identifier columns)
rule        what is wrong, in words
severity    ``error`` (the registry cannot be used) or ``warning`` (suspicious but legal)
==========  ===============================================================================

Dates are read as ISO ``yyyy-mm-dd`` or French ``dd/mm/yyyy`` (never ``mm/dd/yyyy``);
datetimes add `` HH:MM`` or `` HH:MM:SS`` (or ``T``). Booleans accept true/false, yes/no,
oui/non, vrai/faux, 1/0, y/n, o/n, t/f (any case). Missing cells: empty, ``NA``, ``N/A``,
``NULL``, ``NaN``, ``#N/A``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from sirtstats.schema import TABLE_ORDER, FieldSpec, TableSchema, load_schema

__all__ = [
    "DATE_MIN",
    "IDENTIFIER_NAMES",
    "MISSING_TOKENS",
    "ID_IDENTIFIER_PATTERN",
    "MASK_PATTERNS",
    "PLACEHOLDER_ID",
    "TEXT_IDENTIFIER_PATTERNS",
    "PROBLEM_COLUMNS",
    "REQUIRED_TABLES",
    "UNIT_SUFFIXES",
    "VALUE_RULES",
    "ProblemLog",
    "check_header",
    "check_keys",
    "check_values",
    "mask_identifiers",
    "parse_table",
]

#: Columns of the problems table, in order.
PROBLEM_COLUMNS: list[str] = ["table", "file", "row", "column", "value", "rule", "severity"]

#: Tables that must be present in a registry folder (the others default to empty tables).
REQUIRED_TABLES: tuple[str, ...] = ("patients",)

#: Dates before this are implausible for a SIRT registry (SIRT in routine use from the 1990s).
DATE_MIN = pd.Timestamp("1990-01-01")

#: Identifier cells that are placeholders (matched after case folding): no letter or digit, or
#: a word meaning "unknown".
PLACEHOLDER_ID: str = (r"[^0-9a-z\u00c0-\u024f]*|unknown|inconnu|none|aucun|nd|nc|tbd|x+|"
                       r"missing|manquant|na|n\.a\.?")

#: Numbers like ``1.234`` or ``12.500`` in a file with decimal commas: a thousands separator?
THOUSANDS_LIKE: str = r"[+-]?\d{1,3}(\.\d{3})+"

#: Direct identifiers typed into free-text cells (what they look like -> pattern). Free text
#: reaches AE tables, listings and figures, so such a cell is refused with its row and column
#: (its value is never shown).
TEXT_IDENTIFIER_PATTERNS: dict[str, str] = {
    "a date (birth date?)":
        r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b",
    "an e-mail address": r"[\w.+-]+@[\w-]+\.\w[\w.]*",
    "a social-security number (NIR/SSN)":
        r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]) ?\d{2} ?\d{3} ?\d{3}(?: ?\d{2})?\b"
        r"|\b\d{3}-\d{2}-\d{4}\b",
    "a phone number": r"(?:\+\d{1,3}[ .-]?|\b0)\d(?:[ .-]?\d{2}){4}\b"
                      r"|\+\d{1,3}(?:[ .()-]*\d){7,12}\b|\(\d{3}\) ?\d{3}[ .-]\d{4}\b",
    "a hospital number (IPP/MRN)": r"\d{7,}|(?i:\b(?:ipp|mrn|nip|nda|dossier)\b)",
    "a name after a title (Mme, M., Dr...)":
        r"(?:\b(?i:mme|mlle|mr|mrs|ms|dr|pr|madame|monsieur|n[ée]e)\.?|\bM\.)\s+[A-ZÀ-Ý0-9]",
}

#: Spans blanked in the masked excerpt of a refused free-text cell: every match of
#: :data:`TEXT_IDENTIFIER_PATTERNS`, a title with up to three following capitalised words
#: (the name), and any run of 4 or more digits; then every word with a capital letter, a
#: digit or ``@`` (a name without a title is not recognisable) (decision D38).
MASK_PATTERNS: tuple[str, ...] = (
    r"(?:\b(?i:mme|mlle|mr|mrs|ms|dr|pr|madame|monsieur|n[ée]e)\.?|\bM\.)"
    r"(?:\s+[A-ZÀ-Ý0-9][\w'’.-]*){1,3}",
    *TEXT_IDENTIFIER_PATTERNS.values(),
    r"\d{4,}",
)

#: Mask written in place of an identifier in the excerpt.
MASK: str = "▒▒▒"

#: Longest masked excerpt shown in the problems table (characters).
MASKED_EXCERPT_CHARS: int = 60

#: Identifier columns (``*_id``) must be pseudonyms: no hospital-number prefix, no embedded
#: date, no long digit run.
ID_IDENTIFIER_PATTERN: str = (
    r"(?i:^(?:ipp|mrn|nip|nir|nda|dossier))|(?:19|20)\d{2}[-_./]?(?:0[1-9]|1[0-2])[-_./]?"
    r"(?:0[1-9]|[12]\d|3[01])|(?:0[1-9]|[12]\d|3[01])[-_./](?:0[1-9]|1[0-2])[-_./](?:19|20)\d{2}"
    r"|\d{7,}")


#: Per-cell and per-key rules beyond the schema's constraints (id -> (severity, meaning)),
#: listed in the data dictionary.
VALUE_RULES: dict[str, tuple[str, str]] = {
    "placeholder_id": ("error", "placeholder, not an identifier (-, ?, unknown, x...)"),
    "identifier_in_text": ("error", "free text holds a direct identifier; remove it from the "
                                    "export"),
    "identifier_in_id": ("error", "identifier is not a pseudonym (hospital-number prefix, "
                                  "embedded date or long digit run)"),
    "id_case_duplicate": ("error", "identifier differs from another only by case or spaces"),
    "uncoded_term": ("warning", "not a CTCAE v5.0 term: tables show it as 'Other (uncoded)'; "
                                "code it, or see the listing of uncoded terms"),
    "integer_too_large": ("error", "value too large for an integer (beyond ±9.2 × 10^18)"),
    "thousands_separator": ("warning", "a point in a file with decimal commas: read as a "
                                       "decimal point; if it is a thousands separator, remove "
                                       "it"),
}

#: Integers at or beyond this magnitude do not fit a 64-bit integer column.
INT64_LIMIT: float = 2.0**63

#: Cell texts read as missing.
MISSING_TOKENS: frozenset[str] = frozenset({"", "NA", "N/A", "n/a", "NULL", "null", "NaN", "nan",
                                            "#N/A"})

#: Column names (normalised: lower case, no accents, ``_`` separated) that hold direct
#: identifiers. A header containing one of them as a run of words is refused.
IDENTIFIER_NAMES: tuple[str, ...] = (
    "name", "names", "first_name", "firstname", "last_name", "lastname", "surname",
    "given_name", "family_name", "maiden_name", "nom", "prenom", "nom_naissance",
    "nom_de_naissance", "nom_usage", "mrn", "ipp", "nip", "nir", "ssn", "social_security",
    "securite_sociale", "insee", "address", "adresse", "street", "rue", "city", "ville",
    "postcode", "post_code", "postal_code", "code_postal", "zip", "zipcode", "zip_code", "phone",
    "telephone", "tel", "mobile", "portable", "email", "e_mail", "mail", "courriel",
    "birth_date", "birthdate", "date_of_birth", "dob", "date_naissance", "date_de_naissance",
    "ddn", "naissance", "initials", "initiales",
)

#: Unit suffixes recognised in column names (``<stem>_<unit>``), for unit-mismatch detection.
UNIT_SUFFIXES: tuple[str, ...] = (
    "umol_l", "mmol_l", "mg_dl", "mg_l", "g_dl", "g_l", "meq_l", "ng_ml", "ug_l", "iu_ml",
    "ku_l", "u_ml", "u_l", "ukat_l", "mm", "cm", "m", "in", "inch", "inches", "kg", "lb", "lbs",
    "g", "ml", "cc", "l", "gy", "cgy", "rad", "gbq", "mbq", "mci", "ci", "pct", "percent",
    "ratio", "days", "weeks", "months", "years", "year", "lines", "lesions",
)

_TRUE = {"true", "t", "yes", "y", "oui", "o", "vrai", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "non", "faux", "0", "0.0"}
_BOOL_MAP = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
_DT_SPLIT = re.compile(r"^(?P<d>[^ T]+)(?:[ T](?P<t>\d{1,2}:\d{2}(?::\d{2})?))?$")
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_FR_DATE = r"^\d{1,2}/\d{1,2}/\d{4}$"
_TYPE_RULES = {
    "integer": "wrong type: expected an integer",
    "number": "wrong type: expected a number",
    "boolean": "wrong type: expected true/false (or yes/no, oui/non, 1/0)",
    "date": "bad date: expected yyyy-mm-dd or dd/mm/yyyy",
    "datetime": "bad datetime: expected yyyy-mm-dd HH:MM[:SS] or dd/mm/yyyy HH:MM[:SS]",
}
_MAX_VALUE_CHARS = 60


class ProblemLog:
    """Collects problems and builds the sorted problems table.

    Examples
    --------
    >>> log = ProblemLog()
    >>> log.add("patients", "patients.csv", 3, "sex", "X", "unknown value", "error")
    >>> log.frame()[["table", "row", "column", "severity"]]
          table  row column severity
    0  patients    3    sex    error
    """

    def __init__(self):
        self._parts: list[pd.DataFrame] = []
        self._rows: list[dict] = []

    def add(self, table, file, row, column, value, rule, severity="error") -> None:
        """Record one problem (``row`` may be ``pd.NA`` for a whole file)."""
        self._rows.append({"table": table, "file": file, "row": row, "column": column,
                           "value": _short(value), "rule": rule, "severity": severity})

    def add_rows(self, table, file, rows, column, values, rule, severity="error") -> None:
        """Record the same problem for several rows (``values`` aligned with ``rows``)."""
        rows = pd.Index(rows)
        if len(rows) == 0:
            return
        if values is None:
            text = [""] * len(rows)
        else:
            text = [_short(v) for v in pd.Series(values).tolist()]
        rules = rule if isinstance(rule, list) else [rule] * len(rows)
        self._parts.append(pd.DataFrame({
            "table": table, "file": file, "row": rows.to_numpy(), "column": column,
            "value": text, "rule": rules, "severity": severity}))

    def extend(self, problems: pd.DataFrame) -> None:
        """Append an existing problems table."""
        if len(problems):
            self._parts.append(problems[PROBLEM_COLUMNS])

    @property
    def has_errors(self) -> bool:
        """Whether any error was recorded so far."""
        return any(r["severity"] == "error" for r in self._rows) or any(
            (p["severity"] == "error").any() for p in self._parts)

    def frame(self) -> pd.DataFrame:
        """The problems table, sorted by table order, file, row, column and rule."""
        parts = [p for p in self._parts if len(p)]
        if self._rows:
            parts.append(pd.DataFrame(self._rows))
        if not parts:
            return empty_problems()
        df = _mask_refused_cells(pd.concat(parts, ignore_index=True)[PROBLEM_COLUMNS])
        df["row"] = pd.array(pd.to_numeric(df["row"], errors="coerce"), dtype="Int64")
        order = {t: i for i, t in enumerate(TABLE_ORDER)}
        key = pd.DataFrame({
            "t": df["table"].map(order).fillna(len(order)), "tn": df["table"], "f": df["file"],
            "r": df["row"].fillna(0).astype("int64"), "c": df["column"], "u": df["rule"]})
        idx = key.sort_values(["t", "tn", "f", "r", "c", "u"], kind="stable").index
        return df.loc[idx].drop_duplicates().reset_index(drop=True)


def _mask_refused_cells(df: pd.DataFrame) -> pd.DataFrame:
    """Every problem about a cell refused as identifier shows its masked excerpt (D38)."""
    refused = df["rule"].astype(str).str.startswith(VALUE_RULES["identifier_in_text"][1])
    if not refused.any():
        return df
    keys = _joined(df[["table", "file", "row", "column"]], "\x1f")
    masked = dict(zip(keys[refused], df.loc[refused, "value"], strict=True))
    other = ~refused & keys.isin(set(masked))
    df.loc[other, "value"] = keys[other].map(masked)
    return df


def _joined(df: pd.DataFrame, sep: str) -> pd.Series:
    """Each row's cells as text joined by ``sep`` (``df.astype(str).agg(sep.join, axis=1)``,
    column by column instead of row by row)."""
    text = df.astype(str)
    out = text.iloc[:, 0]
    for col in text.columns[1:]:
        out = out + sep + text[col]
    return out


def empty_problems() -> pd.DataFrame:
    """An empty problems table with the standard columns."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
    df["row"] = df["row"].astype("Int64")
    return df


def _short(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return ""
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    text = str(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


# --------------------------------------------------------------------------- header checks


def normalise_name(name: str) -> str:
    """Lower-case, accent-free, ``_``-separated form of a column header.

    Examples
    --------
    >>> normalise_name(" Date de Naissance ")
    'date_de_naissance'
    >>> normalise_name("Weight (kg)")
    'weight_kg'
    """
    text = unicodedata.normalize("NFKD", str(name).replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("µ", "u").replace("%", "pct")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _is_identifier(norm: str) -> bool:
    words = norm.split("_")
    for ident in IDENTIFIER_NAMES:
        parts = ident.split("_")
        n = len(parts)
        if any(words[i:i + n] == parts for i in range(len(words) - n + 1)):
            return True
    return False


def _split_unit(norm: str) -> tuple[str, str] | None:
    for unit in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if norm.endswith("_" + unit) and len(norm) > len(unit) + 1:
            return norm[: -len(unit) - 1], unit
    return None


def check_header(headers, schema: TableSchema, *, file: str, log: ProblemLog,
                 read_as: str = "") -> dict[str, str]:
    """Map a file's headers to schema columns, recording header problems.

    Parameters
    ----------
    headers : list of str
        Column headers as read.
    schema : TableSchema
        Schema of the table.
    file : str
        File name, for the problems table.
    log : ProblemLog
        Receives the problems (all on row 1, the header): direct-identifier columns (error,
        value never shown), unit mismatches (error), duplicate columns (error), missing
        required columns (error) and unknown columns (warning, ignored).
    read_as : str
        How the file was decoded (encoding and separator), added to "required column
        missing" so that a wrongly decoded header explains itself.

    Returns
    -------
    dict of str to str
        ``{header as read: schema column}`` for the recognised columns.
    """
    names = {normalise_name(n): n for n in schema.field_names}
    stems = {}
    for f in schema.fields:
        split = _split_unit(f.name) if f.unit else None
        if split:
            stems[split[0]] = (f.name, split[1])
    mapping: dict[str, str] = {}
    for key in headers:
        header = str(key).split("\x00")[0]  # readers mark repeated names with "\x00<k>"
        norm = normalise_name(header)
        if norm in names:
            target = names[norm]
            if target in mapping.values():
                log.add(schema.name, file, 1, target, "", "duplicate column", "error")
            else:
                mapping[key] = target
        elif _is_identifier(norm):
            log.add(schema.name, file, 1, str(header), "",
                    "column looks like a direct identifier; pseudonymise the export first "
                    "(keep only patient_id)", "error")
        elif (split := _split_unit(norm)) and split[0] in stems:
            field, unit = stems[split[0]]
            log.add(schema.name, file, 1, str(header), "",
                    f"unit mismatch: expected {unit} (column {field}), got {split[1]}", "error")
        else:
            log.add(schema.name, file, 1, str(header), "", "not in schema, ignored", "warning")
    present = set(mapping.values())
    for f in schema.fields:
        if f.required and f.name not in present:
            rule = "required column missing" + (f" ({read_as})" if read_as else "")
            log.add(schema.name, file, 1, f.name, "", rule, "error")
    return mapping


# --------------------------------------------------------------------------- parsing


def _parse_dates(text: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """Parse ``yyyy-mm-dd`` / ``dd/mm/yyyy`` (+ optional time); missing cells are ``""``."""
    out = pd.to_datetime(text.where(text != "", None), format="%Y-%m-%d", errors="coerce")
    out = out.astype("datetime64[ns]")
    rest = out.isna() & (text != "")
    if not rest.any():  # fast path: a plain ISO date column
        return out, rest
    sub = text[rest]
    fr = sub.str.match(_FR_DATE)
    if fr.any():
        out[fr[fr].index] = pd.to_datetime(sub[fr], format="%d/%m/%Y", errors="coerce")
    timed = sub[~fr]
    if len(timed):  # date + time: split, parse both parts
        parts = timed.str.extract(_DT_SPLIT)
        d, t = parts["d"].fillna(""), parts["t"]
        day = pd.Series(pd.NaT, index=d.index, dtype="datetime64[ns]")
        d_iso, d_fr = d.str.match(_ISO_DATE), d.str.match(_FR_DATE)
        day[d_iso] = pd.to_datetime(d[d_iso], format="%Y-%m-%d", errors="coerce")
        day[d_fr] = pd.to_datetime(d[d_fr], format="%d/%m/%Y", errors="coerce")
        tt = t.where(t.isna() | (t.str.count(":") == 2), t + ":00")
        delta = pd.to_timedelta(tt, errors="coerce")
        bad_time = t.notna() & (delta.isna() | (delta >= pd.Timedelta(days=1)))
        if kind == "date":
            bad_time |= t.notna() & (delta != pd.Timedelta(0))
        out[timed.index] = (day + delta.fillna(pd.Timedelta(0))).where(~bad_time)
    return out, out.isna() & (text != "")


def _to_float(text: pd.Series, decimal_comma: bool) -> pd.Series:
    """Floats from number texts (missing = ``""``); unparsable cells become NaN."""
    arr = text.to_numpy(dtype=object)
    try:  # fast path: every cell is a plain number or empty
        values = np.where(arr == "", "nan", arr).astype("float64")
    except (ValueError, TypeError):
        values = None
    # float() also reads "1_000" and non-ASCII digits, which pd.to_numeric refuses (below)
    if values is not None and all(type(u) is str and u.isascii() and "_" not in u
                                  for u in pd.unique(arr)):
        return pd.Series(values, index=text.index)
    clean = text.str.replace("[\u00a0\u202f ]", "", regex=True)
    if decimal_comma:
        clean = clean.str.replace(",", ".", regex=False)
    return pd.to_numeric(clean, errors="coerce").astype("float64")


def _parse_column(text: pd.Series, f: FieldSpec, decimal_comma: bool, strip: bool = True):
    """Typed column and the mask of non-empty cells that failed to parse."""
    s = text.str.strip() if strip else text
    missing = s.isin(MISSING_TOKENS)
    any_missing = bool(missing.any())
    if f.type == "string":
        return (s.where(~missing, None) if any_missing else s), _no_fail(s.index)
    present = s.where(~missing, "") if any_missing else s
    if f.type in ("integer", "number"):
        num = _to_float(present, decimal_comma)
        bad = num.isna() | np.isinf(num)
        if f.type == "integer":
            bad |= (num != np.round(num)) | (num.abs() >= INT64_LIMIT)
        if any_missing:
            bad &= ~missing
        if f.type == "integer":
            return num.where(~bad).astype("Int64"), bad
        return num.where(~bad), bad
    if f.type == "boolean":
        mapped = present.str.lower().map(_BOOL_MAP)
        bad = mapped.isna() & ~missing
        return mapped.astype("boolean"), bad
    return _parse_dates(present, f.type)


def _no_fail(index) -> pd.Series:
    return pd.Series(np.zeros(len(index), dtype=bool), index=index)


def parse_table(data: pd.DataFrame, schema: TableSchema, mapping: dict[str, str], *,
                file: str, decimal_comma: bool, log: ProblemLog, strip: bool = True):
    """Parse text cells into the schema's types, recording every cell that fails.

    Parameters
    ----------
    data : DataFrame
        Cells as ``str``, index = row number in the file.
    schema : TableSchema
        Schema of the table.
    mapping : dict of str to str
        Headers to schema columns, from :func:`check_header`.
    file : str
        File name, for the problems table.
    decimal_comma : bool
        Whether ``12,5`` means 12.5.
    log : ProblemLog
        Receives one type error per unparsable cell.
    strip : bool
        Strip spaces around cell values (skip only when no cell has any).

    Returns
    -------
    typed : DataFrame
        Schema columns in schema order with schema dtypes (unparsable cells missing), index =
        row number in the file.
    failed : dict of str to Series
        Per column, the mask of cells that failed to parse (so they are not reported again as
        missing).
    """
    by_field = {v: k for k, v in mapping.items()}
    cols = {}
    failed = {}
    for f in schema.fields:
        if f.name not in by_field:
            cols[f.name] = pd.Series(None, index=data.index, dtype=object).astype(
                f.dtype if f.type != "string" else object)
            continue
        raw = data[by_field[f.name]]
        typed, bad = _parse_column(raw, f, decimal_comma, strip)
        cols[f.name] = typed
        failed[f.name] = bad
        if decimal_comma and f.type in ("integer", "number"):
            dotted = raw.str.strip().str.fullmatch(THOUSANDS_LIKE) & ~bad
            log.add_rows(schema.name, file, raw.index[dotted], f.name, raw[dotted].str.strip(),
                         *VALUE_RULES["thousands_separator"][::-1])
        if bad.any():
            rules = _TYPE_RULES[f.type]
            if f.type == "integer":
                huge = _to_float(raw[bad].str.strip(), decimal_comma).abs() >= INT64_LIMIT
                rules = np.where(huge, VALUE_RULES["integer_too_large"][1], rules).tolist()
            log.add_rows(schema.name, file, raw.index[bad], f.name, raw[bad].str.strip(),
                         rules)
    return pd.DataFrame(cols, index=data.index), failed


# --------------------------------------------------------------------------- value checks


def _fmt_num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def check_values(df: pd.DataFrame, schema: TableSchema, *, file: str, log: ProblemLog,
                 failed: dict | None = None, present_columns=None,
                 reference_date: pd.Timestamp | None = None) -> None:
    """Check required cells, enums, ranges, warning ranges, patterns and date plausibility.

    Parameters
    ----------
    df : DataFrame
        Typed table, index = row number in the file.
    schema : TableSchema
        Schema of the table.
    file : str
        File name, for the problems table.
    log : ProblemLog
        Receives the problems.
    failed : dict of str to Series, optional
        Cells that already failed to parse (not reported again as missing).
    present_columns : collection of str, optional
        Columns present in the source; required-cell checks skip absent columns (already
        reported as a missing column). Default: all.
    reference_date : Timestamp, optional
        Dates after this day (normally the file's modification date) are errors ("in the
        future"). Dates before :data:`DATE_MIN` are always errors.
    """
    failed = failed or {}
    present = set(df.columns if present_columns is None else present_columns)
    for f in schema.fields:
        if f.name in present:
            _check_field_values(df, f, schema.name, file, log, failed, reference_date)


def _check_field_values(df, f, t, file, log, failed, reference_date) -> None:
    """:func:`check_values` for one present column ``f`` of table ``t``."""
    col = df[f.name]
    isna = col.isna()
    if f.required:
        miss = isna & ~failed.get(f.name, pd.Series(False, index=df.index))
        log.add_rows(t, file, df.index[miss], f.name, None, "required value missing")
    ok = ~isna
    if not ok.any():
        return
    if f.enum is not None:
        bad = ok & ~col.isin(f.enum)
        if bad.any():
            allowed = ", ".join(f.enum)
            hints = {}  # one close-match search per distinct value
            rules = [hints[v] if v in hints else hints.setdefault(v, _enum_rule(v, f.enum, allowed))
                     for v in col[bad]]
            log.add_rows(t, file, df.index[bad], f.name, col[bad], rules)
    if f.type == "string":
        ok = _check_string_values(df, col, ok, f, t, file, log)
    if f.pattern is not None:
        bad = _matches(col, ok, lambda s: ~s.str.fullmatch(f.pattern))
        log.add_rows(t, file, df.index[bad], f.name, col[bad],
                     f"does not match the pattern {f.pattern}")
    if f.type in ("integer", "number"):
        _check_range(col, f, t, file, log)
    if f.type in ("date", "datetime"):
        _check_date_values(df, col, ok, f, t, file, log, reference_date)


def _check_string_values(df, col, ok, f, t, file, log) -> pd.Series:
    """Placeholder and identifier checks of ``*_id`` columns, free-text scan of the others.

    Returns ``ok`` without the placeholder ids (not checked against the pattern again).
    """
    if f.name.endswith("_id"):
        bad = _matches(col, ok, lambda s: s.str.casefold().str.fullmatch(PLACEHOLDER_ID))
        log.add_rows(t, file, df.index[bad], f.name, col[bad],
                     VALUE_RULES["placeholder_id"][1])
        ok = ok & ~bad
        bad = _matches(col, ok, lambda s: s.str.contains(ID_IDENTIFIER_PATTERN, regex=True))
        log.add_rows(t, file, df.index[bad], f.name, None, VALUE_RULES["identifier_in_id"][1])
    elif f.enum is None and f.pattern is None:  # free text (a pattern or enum makes a code)
        text = col[ok].astype(str)
        refused = _check_free_text(text, t, file, f.name, log)
        if f.vocabulary is not None:  # a refused cell is not shown again
            _check_vocabulary(text[~refused], f.vocabulary, t, file, f.name, log)
    return ok


def _on_distinct(text: pd.Series, func) -> pd.Series:
    """``func`` run once per distinct value of ``text`` (str cells) and mapped back to its rows.

    ``func`` takes a Series of distinct str and returns a Series aligned with it; regular
    expressions over a column then cost one match per distinct value instead of one per row.
    """
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    values = func(pd.Series(uniques, dtype=object)).to_numpy()
    return pd.Series(values[codes], index=text.index)


def _matches(col: pd.Series, ok: pd.Series, test) -> pd.Series:
    """``ok & test(col.astype(str))``, with ``test`` (boolean, on text) run on distinct values."""
    hit = np.zeros(len(col), dtype=bool)
    mask = ok.to_numpy(dtype=bool)
    if mask.any():
        hit[mask] = _on_distinct(col[mask].astype(str), test).to_numpy(dtype=bool)
    return ok & pd.Series(hit, index=col.index)


def _identifier_kinds(text: pd.Series) -> pd.Series:
    """What direct identifier each text looks like (first of :data:`TEXT_IDENTIFIER_PATTERNS`
    that matches), ``""`` for none."""
    found = pd.Series("", index=text.index)
    for what, pattern in TEXT_IDENTIFIER_PATTERNS.items():
        hit = (found == "") & text.str.contains(pattern, regex=True)
        found[hit] = what
    return found


def _check_date_values(df, col, ok, f, t, file, log, reference_date) -> None:
    """Dates before :data:`DATE_MIN` or after ``reference_date`` (the file's date)."""
    bad = ok & (col < DATE_MIN)
    log.add_rows(t, file, df.index[bad], f.name, col[bad],
                 f"implausible date: before {DATE_MIN:%Y-%m-%d}")
    if reference_date is not None:
        limit = pd.Timestamp(reference_date).normalize() + pd.Timedelta(days=1)
        bad = ok & (col >= limit)
        log.add_rows(t, file, df.index[bad], f.name, col[bad],
                     "date in the future relative to the file date "
                     f"({pd.Timestamp(reference_date):%Y-%m-%d})")

def _check_free_text(text: pd.Series, table: str, file: str, column: str,
                     log: ProblemLog) -> pd.Series:
    """Refuse free-text cells that hold a direct identifier (value masked); return them."""
    found = _on_distinct(text, _identifier_kinds)
    bad = found != ""
    if bad.any():
        rules = [f"{VALUE_RULES['identifier_in_text'][1]} (looks like {w})" for w in found[bad]]
        log.add_rows(table, file, text.index[bad], column, text[bad].map(mask_identifiers),
                     rules)
    return bad


def mask_identifiers(text: str) -> str:
    """A refused free-text cell with every identifier-like span blanked (decision D38).

    Parameters
    ----------
    text : str
        Cell text.

    Returns
    -------
    str
        The text with each match of :data:`MASK_PATTERNS`, then every word holding a capital
        letter, a digit or ``@``, replaced by :data:`MASK`, cut to
        :data:`MASKED_EXCERPT_CHARS` characters, so that the problems table locates the
        identifier without showing it.

    Examples
    --------
    >>> mask_identifiers("Nausea - Mme DUPONTZZ Jeanne IPP 80012345 nee le 12/03/1952")
    '▒▒▒ - ▒▒▒ ▒▒▒ nee le ▒▒▒'
    """
    for pattern in MASK_PATTERNS:
        text = re.sub(pattern, MASK, text)
    # a name without a title is not recognisable: every word with a capital, a digit or @ goes
    text = re.sub(r"\S*[A-ZÀ-Ý0-9@]\S*", MASK, text)
    if len(text) > MASKED_EXCERPT_CHARS:
        text = text[: MASKED_EXCERPT_CHARS - 1] + "…"
    return text


def _check_vocabulary(text: pd.Series, vocabulary: str, table: str, file: str, column: str,
                      log: ProblemLog) -> None:
    """Warn about values outside a coded vocabulary (``ctcae_v5_terms``/``ctcae_v5_soc``)."""
    from sirtstats.ctcae_terms import UNCODED_LABEL, code_terms

    kind = {"ctcae_v5_terms": "term", "ctcae_v5_soc": "soc"}[vocabulary]
    bad = code_terms(text, kind=kind) == UNCODED_LABEL
    if bad.any():
        rule = VALUE_RULES["uncoded_term"][1]
        if kind == "soc":
            rule = rule.replace("term", "system organ class", 1)
        log.add_rows(table, file, text.index[bad], column, text[bad], rule, "warning")


def _enum_rule(value, enum, allowed) -> str:
    text = str(value)
    lower = {e.lower(): e for e in enum}
    guess = lower.get(text.lower()) or next(iter(difflib.get_close_matches(text, enum, 1, 0.6)),
                                            None)
    hint = f"; did you mean '{guess}'?" if guess else ""
    return f"unknown value: expected one of {{{allowed}}}{hint}"


def _check_range(col, f: FieldSpec, t, file, log) -> None:
    unit = f" {f.unit}" if f.unit else ""
    num = col.astype("float64")
    limits = [
        (f.minimum, num < f.minimum if f.minimum is not None else None,
         f"below the minimum {_fmt_num(f.minimum)}{unit}", "error"),
        (f.maximum, num > f.maximum if f.maximum is not None else None,
         f"above the maximum {_fmt_num(f.maximum)}{unit}", "error"),
    ]
    hard_ok = pd.Series(True, index=col.index)
    for _, mask, rule, sev in limits:
        if mask is not None:
            mask = mask.fillna(False)
            log.add_rows(t, file, col.index[mask], f.name, col[mask], rule, sev)
            hard_ok &= ~mask
    for lim, op, word in ((f.warn_minimum, np.less, "below"), (f.warn_maximum, np.greater,
                                                               "above")):
        if lim is None:
            continue
        mask = pd.Series(op(num, lim), index=col.index).fillna(False) & hard_ok
        log.add_rows(t, file, col.index[mask], f.name, col[mask],
                     f"suspicious value: {word} {_fmt_num(lim)}{unit} (allowed, please check)",
                     "warning")


# --------------------------------------------------------------------------- keys


def check_keys(tables: dict[str, pd.DataFrame], files: dict[str, str], *, log: ProblemLog,
               unreadable=()) -> None:
    """Check primary-key uniqueness (every duplicate row) and foreign keys (every orphan).

    Parameters
    ----------
    tables : dict of str to DataFrame
        Typed tables, index = row number in the file.
    files : dict of str to str
        File name per table (``""`` for in-memory tables).
    log : ProblemLog
        Receives the problems.
    unreadable : collection of str
        Tables whose file could not be read: foreign keys pointing to them are not checked.
    """
    for name in TABLE_ORDER:
        df = tables.get(name)
        if df is None or df.empty:
            continue
        schema = load_schema(name)
        file = files.get(name, "")
        pk = list(schema.primary_key)
        if pk:
            complete = df[pk].notna().all(axis=1)
            keyed = df.loc[complete, pk]
            dup = keyed.duplicated(keep=False)
            if dup.any():
                key_text = _joined(keyed[dup], " / ")
                rows_by_key = pd.Series(keyed.index[dup], index=keyed.index[dup]).groupby(
                    key_text.to_numpy()).agg(lambda r: ", ".join(map(str, r)))
                rules = [f"duplicate primary key ({', '.join(pk)}): rows {rows_by_key[k]}"
                         for k in key_text]
                log.add_rows(name, file, key_text.index, pk[0] if len(pk) == 1 else
                             ", ".join(pk), key_text, rules)
        if len(pk) == 1 and schema.field(pk[0]).type == "string":
            _check_case_duplicates(df[pk[0]], name, file, log)
        for fk in schema.foreign_keys:
            ref = fk["reference"]
            parent_name = ref["resource"]
            if parent_name in unreadable:
                continue
            parent = tables.get(parent_name)
            child_cols, parent_cols = list(fk["fields"]), list(ref["fields"])
            if len(child_cols) != 1:  # pragma: no cover - the schemas use single-column keys
                continue
            col = df[child_cols[0]]
            known = parent[parent_cols[0]].dropna() if parent is not None else pd.Series([])
            orphan = col.notna() & ~col.isin(set(known))
            log.add_rows(name, file, df.index[orphan], child_cols[0], col[orphan],
                         f"orphan foreign key: not found in {parent_name}.{parent_cols[0]}")


def _check_case_duplicates(ids: pd.Series, table: str, file: str, log: ProblemLog) -> None:
    """Identifiers that differ only by case or surrounding spaces (``p00002`` and ``P00002``)."""
    ids = ids.dropna().astype(str)
    folded = ids.str.strip().str.casefold()
    clash = folded.duplicated(keep=False) & ~ids.duplicated(keep=False)
    if not clash.any():
        return
    rows_by = pd.Series(ids.index[clash], index=ids.index[clash]).groupby(
        folded[clash].to_numpy()).agg(lambda r: ", ".join(map(str, r)))
    rules = [f"{VALUE_RULES['id_case_duplicate'][1]}: rows {rows_by[k]}"
             for k in folded[clash]]
    log.add_rows(table, file, ids.index[clash], ids.name, ids[clash], rules)


def file_date(path: Path) -> pd.Timestamp:
    """Modification date of a file (the reference for "date in the future")."""
    return pd.Timestamp(Path(path).stat().st_mtime, unit="s").normalize()
