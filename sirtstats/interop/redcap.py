"""Import a REDCap project export into registry tables through a YAML mapping.

A REDCap export is two CSV files: the *records* (one row per record, event and repeat instance;
values exported "raw" as codes or as "label" text) and the *data dictionary* (one row per field,
with its form, type, choices ``"1, Male | 2, Female"`` and the ``Identifier?`` flag). A mapping
file says, for each registry table, which rows of the export feed it (a repeating instrument, an
event, or one row per record) and which REDCap field fills each registry column, with the
translation of coded values to the registry's enums.

Nothing is dropped silently: every problem (unmapped required column, unmapped code, unparseable
value, identifier-looking field, export field that no table imports, empty repeat instance) is
returned as a row of a problem table naming the REDCap field and the record id.

Mapping file (YAML)::

    record_id: record_id              # REDCap field holding the pseudonymous patient id
    tables:
      patients:
        rows: record                  # record | repeating
        event: enrolment_arm_1        # optional: keep only rows of this event (or a list)
        columns:
          patient_id: record_id       # plain field copy
          sex: {field: sex, codes: {"1": M, "2": F}}
          cirrhosis: {field: comorbidity, checkbox_option: "1"}   # checkbox option -> boolean
          hcc_aetiology: {checkbox: aetiology, codes: {"1": HBV, "2": HCV}}  # first checked
          centre_id: {value: CENTRE-A}  # constant
      treatments:
        rows: repeating
        instrument: sirt_session
        columns:
          injection_id: {template: "{record_id}-{instance}"}
          ...

Raw and label exports are both accepted: a coded field whose values are choice labels is turned
back into codes with the data dictionary before ``codes`` is applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sirtstats.exceptions import SirtDataError
from sirtstats.schema import TABLE_ORDER, apply_dtypes, load_schema

__all__ = [
    "PROBLEM_COLUMNS",
    "RedcapImport",
    "import_redcap",
    "load_redcap_mapping",
    "parse_redcap_choices",
    "read_redcap_dictionary",
    "read_redcap_records",
]

#: Columns of the problem table returned by :func:`import_redcap`.
PROBLEM_COLUMNS = ["record_id", "redcap_field", "table", "column", "value", "rule", "severity"]

#: REDCap's data dictionary headers -> our short names.
_DICTIONARY_COLUMNS = {
    "Variable / Field Name": "field_name",
    "Form Name": "form_name",
    "Field Type": "field_type",
    "Field Label": "field_label",
    "Choices, Calculations, OR Slider Labels": "choices",
    "Text Validation Type OR Show Slider Number": "validation",
    "Identifier?": "identifier",
}

#: Words that mark a field as a direct identifier (checked on field names and labels).
_IDENTIFIER_WORDS = (
    "name", "surname", "nom", "prenom", "mrn", "ipp", "nir", "ssn", "social_security",
    "insee", "address", "adresse", "phone", "telephone", "email", "dob", "birth_date",
    "date_of_birth", "date_naissance", "postcode", "zip",
)
_IDENTIFIER_VALIDATIONS = {"email", "phone", "phone_australia", "postalcode_french", "zipcode"}

_REDCAP_SYSTEM_FIELDS = {
    "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
    "redcap_data_access_group", "redcap_survey_identifier",
}
_TRUE_TEXT = {"1", "yes", "true", "checked", "oui", "y"}
_FALSE_TEXT = {"0", "no", "false", "unchecked", "non", "n"}


@dataclass(frozen=True)
class RedcapImport:
    """Result of :func:`import_redcap`.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Registry tables, typed with the schema (:func:`sirtstats.schema.apply_dtypes`); tables the
        mapping does not cover are absent.
    problems : DataFrame
        One row per problem with :data:`PROBLEM_COLUMNS`; ``severity`` is "error" or "warning".
    """

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame

    @property
    def has_errors(self) -> bool:
        """True when any problem is an error."""
        return bool((self.problems["severity"] == "error").any())


def parse_redcap_choices(text: str) -> dict[str, str]:
    """Parse a REDCap choices string into ``{code: label}``.

    Parameters
    ----------
    text : str
        ``"1, Male | 2, Female"``; empty for fields without choices.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> parse_redcap_choices("1, Male | 2, Female")
    {'1': 'Male', '2': 'Female'}
    """
    choices: dict[str, str] = {}
    for part in str(text or "").split("|"):
        if not part.strip():
            continue
        code, _, label = part.partition(",")
        choices[code.strip()] = label.strip()
    return choices


def read_redcap_dictionary(path: str | Path) -> pd.DataFrame:
    """Read a REDCap data dictionary CSV.

    Parameters
    ----------
    path : str or Path
        The dictionary as downloaded from REDCap ("Data Dictionary" page).

    Returns
    -------
    DataFrame
        One row per field: ``field_name, form_name, field_type, field_label, choices`` (dict
        code -> label), ``validation``, ``identifier`` (bool, REDCap's "Identifier?" = y).
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("Variable / Field Name", "Form Name", "Field Type") if c not in raw]
    if missing:
        raise SirtDataError(
            f"{Path(path).name}: not a REDCap data dictionary (missing columns {missing})",
            table="redcap_dictionary", rule="REDCap data dictionary headers",
        )
    df = raw.rename(columns=_DICTIONARY_COLUMNS)
    for col in _DICTIONARY_COLUMNS.values():
        if col not in df:
            df[col] = ""
    df = df[list(_DICTIONARY_COLUMNS.values())].copy()
    df["choices"] = df["choices"].map(
        lambda s: parse_redcap_choices(s) if "|" in s or re.match(r"^\s*\w+\s*,", s) else {}
    )
    df["identifier"] = df["identifier"].str.strip().str.lower().eq("y")
    return df.reset_index(drop=True)


def read_redcap_records(path: str | Path) -> pd.DataFrame:
    """Read a REDCap records export (CSV, raw or label values) as text.

    Parameters
    ----------
    path : str or Path
        Records CSV exported from REDCap.

    Returns
    -------
    DataFrame
        Every cell as str ("" for empty), plus ``_line`` (line number in the file, header = 1).
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.insert(0, "_line", np.arange(2, len(df) + 2))
    return df


def load_redcap_mapping(path: str | Path) -> dict:
    """Read and check a REDCap mapping file.

    Parameters
    ----------
    path : str or Path
        YAML mapping (see the module docstring).

    Returns
    -------
    dict

    Raises
    ------
    SirtDataError
        When the mapping is malformed: unknown table or column, bad ``rows`` kind, a column spec
        of an unknown form. All such problems are listed in one message.
    """
    try:
        mapping = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SirtDataError(f"{Path(path).name}: not valid YAML ({exc})", table="mapping") from exc
    errors = []
    if not isinstance(mapping, dict) or not isinstance(mapping.get("tables"), dict):
        raise SirtDataError(
            f"{Path(path).name}: a mapping needs 'record_id' and a 'tables' dictionary",
            table="mapping",
        )
    mapping.setdefault("record_id", "record_id")
    for table, spec in mapping["tables"].items():
        errors += _table_spec_errors(table, spec)
    if errors:
        raise SirtDataError(
            f"{Path(path).name}: {len(errors)} problem(s) in the mapping:\n- "
            + "\n- ".join(errors),
            table="mapping", rule="mapping structure",
        )
    return mapping


def _table_spec_errors(table: str, spec) -> list[str]:
    """Problems of one ``tables:`` entry of a mapping (empty when it is well formed)."""
    if table not in TABLE_ORDER:
        return [f"unknown table {table!r} (allowed: {', '.join(TABLE_ORDER)})"]
    if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
        return [f"{table}: needs a 'columns' dictionary"]
    errors = []
    rows = spec.get("rows", "record")
    if rows not in ("record", "repeating"):
        errors.append(f"{table}: 'rows' must be 'record' or 'repeating', got {rows!r}")
    if rows == "repeating" and not spec.get("instrument") and not spec.get("event"):
        errors.append(f"{table}: repeating rows need an 'instrument' or an 'event'")
    schema_cols = set(load_schema(table).field_names)
    for column, col_spec in spec["columns"].items():
        if column not in schema_cols:
            errors.append(f"{table}.{column}: not a column of the registry schema")
        if isinstance(col_spec, str):
            continue
        if not isinstance(col_spec, dict) or not (
            {"field", "checkbox", "template", "value"} & set(col_spec)
        ):
            errors.append(
                f"{table}.{column}: a column is a field name or a dict with one of "
                f"field / checkbox / template / value; got {col_spec!r}"
            )
    return errors

def _source_field(col_spec) -> str:
    """REDCap field a column spec reads ("" for templates and constants)."""
    if isinstance(col_spec, str):
        return col_spec
    return col_spec.get("field", col_spec.get("checkbox", ""))


def _looks_like_identifier(field: str, label: str = "", validation: str = "") -> bool:
    words = set(re.split(r"[^a-z0-9]+", f"{field} {label}".lower()))
    compact = field.lower()
    return (
        bool(words & set(_IDENTIFIER_WORDS))
        or any(w in compact for w in _IDENTIFIER_WORDS if "_" in w)
        or validation.strip().lower() in _IDENTIFIER_VALIDATIONS
    )


class _Problems:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, *, record_id="", field="", table="", column="", value="", rule, severity):
        self.rows.append({"record_id": record_id, "redcap_field": field, "table": table,
                          "column": column, "value": value, "rule": rule,
                          "severity": severity})

    def add_many(self, records: pd.Series, values: pd.Series, **kw):
        for rid, val in zip(records, values, strict=True):
            self.add(record_id=rid, value=val, **kw)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS).astype(str)
        order = {"error": 0, "warning": 1}
        return (
            df.assign(_s=df["severity"].map(order))
            .sort_values(["_s", "table", "column", "redcap_field", "record_id", "value"],
                         kind="stable")
            .drop(columns="_s")
            .reset_index(drop=True)
        )


def _select_rows(records: pd.DataFrame, spec: dict) -> pd.DataFrame:
    rows = records
    instrument_col = records.get("redcap_repeat_instrument", pd.Series("", index=records.index))
    if spec.get("rows", "record") == "repeating" and spec.get("instrument"):
        rows = rows[instrument_col.loc[rows.index] == spec["instrument"]]
    elif "redcap_repeat_instrument" in records:
        rows = rows[instrument_col.loc[rows.index] == ""]
    if spec.get("event") and "redcap_event_name" in records:
        events = spec["event"] if isinstance(spec["event"], list) else [spec["event"]]
        rows = rows[rows["redcap_event_name"].isin(events)]
    return rows


def _label_to_code(values: pd.Series, choices: dict[str, str]) -> pd.Series:
    """Turn label-export values back into codes (raw values pass through)."""
    if not choices:
        return values
    by_label = {label.lower(): code for code, label in choices.items()}
    return values.map(
        lambda v: v if v in choices or v == "" else by_label.get(str(v).lower(), v)
    )


def _checkbox_columns(records: pd.DataFrame, field: str) -> dict[str, pd.Series]:
    """``{option_code: checked (bool Series)}`` for a checkbox field's ``field___code`` columns."""
    out = {}
    for col in records.columns:
        if col.startswith(f"{field}___"):
            text = records[col].str.strip().str.lower()
            out[col.split("___", 1)[1]] = ~(text.isin(_FALSE_TEXT) | text.eq(""))
    return out


def _map_column(rows, table, column, spec, ctx, problems) -> pd.Series:
    """Values of one registry column, as text (typed later), for the selected rows."""
    rid = rows[ctx["record_id"]]
    if isinstance(spec, str):
        spec = {"field": spec}
    if "value" in spec:
        return pd.Series(str(spec["value"]), index=rows.index)
    if "template" in spec:
        instance = rows.get("redcap_repeat_instance", pd.Series("", index=rows.index))
        event = rows.get("redcap_event_name", pd.Series("", index=rows.index))
        return pd.Series(
            [spec["template"].format(record_id=r, instance=i, event=e)
             for r, i, e in zip(rid, instance, event, strict=True)],
            index=rows.index,
        )
    codes = {str(k): v for k, v in (spec.get("codes") or {}).items()}
    if "checkbox" in spec:
        field = spec["checkbox"]
        boxes = _checkbox_columns(rows, field)
        if not boxes:
            problems.add(field=field, table=table, column=column,
                         rule=f"checkbox field {field!r} has no {field}___<code> columns in the "
                              "export", severity="error")
            return pd.Series("", index=rows.index)
        checked = pd.DataFrame(boxes)
        n_checked = checked.sum(axis=1)
        first = checked.idxmax(axis=1).where(n_checked > 0, "")
        several = n_checked > 1
        if several.any():
            problems.add_many(rid[several], first[several], field=field, table=table,
                              column=column, severity="warning",
                              rule="several options checked; the first (lowest code) is used")
        values = first
    else:
        field = spec["field"]
        if field not in rows.columns:
            problems.add(field=field, table=table, column=column,
                         rule=f"field {field!r} is not in the records export", severity="error")
            return pd.Series("", index=rows.index)
        values = rows[field].astype(str).str.strip()
        choices = ctx["choices"].get(field, {})
        values = _label_to_code(values, choices)
    if codes:
        known = values.isin(list(codes)) | values.eq("")
        if (~known).any():
            problems.add_many(rid[~known], values[~known], field=field, table=table,
                              column=column, severity="error",
                              rule=f"code not in the mapping's codes {sorted(codes)}")
        values = values.map(lambda v: "" if v == "" else str(codes.get(v, "")))
    return values


def _map_checkbox_option(rows, table, column, spec, problems) -> pd.Series:
    field, option = spec["field"], str(spec["checkbox_option"])
    boxes = _checkbox_columns(rows, field)
    if option not in boxes:
        problems.add(field=f"{field}___{option}", table=table, column=column,
                     rule="checkbox option column not in the records export", severity="error")
        return pd.Series("", index=rows.index)
    return boxes[option].map({True: "true", False: "false"})


def _parse_typed(text: pd.Series, field_type: str) -> tuple[pd.Series, pd.Series]:
    """Parse text to the schema type; return (values, bad mask)."""
    empty = text.eq("")
    if field_type == "string":
        return text.where(~empty, None), pd.Series(False, index=text.index)
    if field_type in ("integer", "number"):
        num = pd.to_numeric(text.where(~empty), errors="coerce")
        bad = num.isna() & ~empty
        if field_type == "integer":
            bad |= num.notna() & (num % 1 != 0)
        return num, bad
    if field_type == "boolean":
        low = text.str.lower()
        val = pd.Series(pd.NA, index=text.index, dtype="boolean")
        val[low.isin(_TRUE_TEXT)] = True
        val[low.isin(_FALSE_TEXT)] = False
        return val, val.isna() & ~empty
    fmt = "ISO8601"
    dates = pd.to_datetime(text.where(~empty), errors="coerce", format=fmt)
    return dates, dates.isna() & ~empty


def import_redcap(
    records_path: str | Path,
    dictionary_path: str | Path,
    mapping_path: str | Path,
) -> RedcapImport:
    """Import a REDCap export into registry tables.

    Parameters
    ----------
    records_path : str or Path
        Records CSV ("raw" or "label" values; repeating instruments and events allowed).
    dictionary_path : str or Path
        The project's data dictionary CSV.
    mapping_path : str or Path
        YAML mapping from REDCap fields to registry columns (module docstring).

    Returns
    -------
    RedcapImport
        Typed tables and the problem table. Rows are never dropped silently: an instance whose
        mapped fields are all empty is skipped with a warning; a value that cannot be parsed is
        left empty with an error.

    Raises
    ------
    SirtDataError
        When the mapping or the dictionary file is malformed.

    Notes
    -----
    Problems reported (severity): a required registry column not mapped (error); a mapped field
    missing from the export (error); a code absent from the mapping (error, one row per record);
    a value that does not parse as the column's type (error); a mapped field flagged as an
    identifier in the dictionary or named like one (error: pseudonymise first); an identifier
    field present in the export but not imported (warning); any other export field that no table
    imports (warning, one row per field).
    """
    mapping = load_redcap_mapping(mapping_path)
    dictionary = read_redcap_dictionary(dictionary_path)
    records = read_redcap_records(records_path)
    problems = _Problems()
    record_id = mapping["record_id"]
    if record_id not in records:
        raise SirtDataError(
            f"{Path(records_path).name}: the record id field {record_id!r} is not in the export",
            table="redcap_records", column=record_id,
        )
    ctx = {"record_id": record_id,
           "choices": dict(zip(dictionary["field_name"], dictionary["choices"], strict=True))}
    flagged = dictionary.set_index("field_name")
    used_fields: set[str] = {record_id}
    tables: dict[str, pd.DataFrame] = {}
    for table, spec in mapping["tables"].items():
        tables[table] = _import_table(table, spec, records, ctx, flagged, used_fields, problems)
    _report_unused_fields(records, dictionary, used_fields, problems)
    return RedcapImport(tables=tables, problems=problems.frame())


def _import_table(table, spec, records, ctx, flagged, used_fields, problems) -> pd.DataFrame:
    """One registry table from the export: map, drop blank forms, parse to the schema types."""
    schema = load_schema(table)
    rows = _select_rows(records, spec)
    columns = spec["columns"]
    record_id = ctx["record_id"]
    for f in schema.fields:
        if f.required and f.name not in columns:
            problems.add(table=table, column=f.name, severity="error",
                         rule="required registry column not mapped")
    text = {}
    for column, col_spec in columns.items():
        text[column] = _column_text(rows, table, column, col_spec, ctx, flagged, used_fields,
                                    problems)
    frame = pd.DataFrame(text, index=rows.index)
    data_cols = [c for c in frame.columns if _source_field(columns[c]) not in ("", record_id)]
    if data_cols:
        blank = frame[data_cols].eq("").all(axis=1)
        if blank.any():
            problems.add_many(rows.loc[blank, record_id],
                              rows.loc[blank, "_line"].astype(str),
                              table=table, severity="warning",
                              field=spec.get("instrument", ""),
                              rule="form empty for this record or instance: no row "
                                   "(value = line in the export)")
            frame = frame[~blank]
    typed = {}
    for column in frame.columns:
        f = schema.field(column)
        values, bad = _parse_typed(frame[column], f.type)
        if bad.any():
            field = _source_field(columns[column])
            problems.add_many(rows.loc[bad[bad].index, record_id], frame.loc[bad, column],
                              field=field, table=table, column=column, severity="error",
                              rule=f"value is not a valid {f.type}")
            values = values.where(~bad)
        typed[column] = values
    return apply_dtypes(pd.DataFrame(typed, index=frame.index), table).reset_index(drop=True)


def _column_text(rows, table, column, col_spec, ctx, flagged, used_fields,
                 problems) -> pd.Series:
    """Text of one mapped column; empty (with an error) when its field is an identifier."""
    record_id = ctx["record_id"]
    field = _source_field(col_spec)
    if field:
        used_fields.add(field)
        info = flagged.loc[field] if field in flagged.index else None
        is_id = (info is not None and bool(info["identifier"])) or _looks_like_identifier(
            field, "" if info is None else info["field_label"],
            "" if info is None else info["validation"])
        if is_id and field != record_id:
            problems.add(field=field, table=table, column=column, severity="error",
                         rule="field is a direct identifier; pseudonymise the export "
                              "first (keep only the pseudonymous record id)")
            return pd.Series("", index=rows.index)
    if isinstance(col_spec, dict) and "checkbox_option" in col_spec:
        return _map_checkbox_option(rows, table, column, col_spec, problems)
    return _map_column(rows, table, column, col_spec, ctx, problems)

def _report_unused_fields(records, dictionary, used_fields, problems) -> None:
    labels = dict(zip(dictionary["field_name"], dictionary["field_label"], strict=True))
    flags = dict(zip(dictionary["field_name"], dictionary["identifier"], strict=True))
    validations = dict(zip(dictionary["field_name"], dictionary["validation"], strict=True))
    export_fields = {c.split("___", 1)[0] for c in records.columns
                     if c != "_line" and c not in _REDCAP_SYSTEM_FIELDS
                     and not c.endswith("_complete")}
    for field in sorted(export_fields - used_fields):
        if flags.get(field) or _looks_like_identifier(field, labels.get(field, ""),
                                                      validations.get(field, "")):
            problems.add(field=field, severity="warning",
                         rule="identifier field present in the export, not imported; leave it "
                              "out of exports")
        else:
            problems.add(field=field, severity="warning",
                         rule="field in the export that no registry table imports")
