"""A REDCap project laid out on the registry schema: data dictionary, mapping and export.

Used to build the shipped example (``examples/redcap/``) and by teams that start a new REDCap
project for their SIRT registry: :func:`make_redcap_dictionary` gives a data dictionary to upload,
:func:`make_redcap_mapping` the matching mapping for :func:`sirtstats.interop.redcap.import_redcap`,
and :func:`to_redcap_records` writes registry tables as a REDCap export (raw codes or labels), so a
registry round-trips through REDCap's format.

Layout: a classic (non-longitudinal) project. ``patients`` and ``baseline`` are the record's
non-repeating forms; every other table is a repeating instrument named after the table. Field
names are ``<prefix>_<column>`` (prefixes in :data:`FORM_PREFIX`), enums are radio fields coded
1..n, booleans are yes/no fields, dates use ``date_ymd`` validation, and ``hcc_aetiology`` is a
checkbox field to show how checkboxes map.
"""

from __future__ import annotations

import pandas as pd

from sirtstats.schema import TABLE_ORDER, load_schema

__all__ = [
    "DICTIONARY_HEADER",
    "FORM_PREFIX",
    "make_redcap_dictionary",
    "make_redcap_mapping",
    "to_redcap_records",
]

#: Standard REDCap data dictionary header, in REDCap's column order.
DICTIONARY_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
]

#: REDCap form (instrument) prefix of each registry table.
FORM_PREFIX = {
    "patients": "pt", "baseline": "bl", "workups": "wu", "treatments": "tx",
    "post_dosimetry": "pd", "lesions": "les", "lesion_measurements": "lm",
    "imaging_assessments": "img", "labs": "lab", "adverse_events": "ae",
    "other_therapies": "oth", "pet_assessments": "pet", "pet_lesions": "petl",
}
_NON_REPEATING = ("patients", "baseline")
_CHECKBOX_COLUMNS = {("patients", "hcc_aetiology")}
RECORD_ID = "record_id"


def _field_name(table: str, column: str) -> str:
    return f"{FORM_PREFIX[table]}_{column}"


def _choices(enum) -> dict[str, str]:
    return {str(i): str(v) for i, v in enumerate(enum, start=1)}


def _redcap_column(table: str, column: str) -> bool:
    """Whether a registry column gets its own REDCap field (patient ids come from record_id)."""
    return column != "patient_id"


def make_redcap_dictionary() -> pd.DataFrame:
    """Return a REDCap data dictionary for the registry schema.

    Returns
    -------
    DataFrame
        Columns :data:`DICTIONARY_HEADER`, one row per field (``record_id`` first).
    """
    rows = [{"Variable / Field Name": RECORD_ID, "Form Name": "patients", "Field Type": "text",
             "Field Label": "Pseudonymous patient id"}]
    for table in TABLE_ORDER:
        for f in load_schema(table).fields:
            if not _redcap_column(table, f.name):
                continue
            row = {"Variable / Field Name": _field_name(table, f.name), "Form Name": table,
                   "Field Label": f.description or f.name, "Field Note": f.unit or "",
                   "Required Field?": "y" if f.required else ""}
            if (table, f.name) in _CHECKBOX_COLUMNS:
                row["Field Type"] = "checkbox"
                row["Choices, Calculations, OR Slider Labels"] = " | ".join(
                    f"{c}, {v}" for c, v in _choices(f.enum).items())
            elif f.enum is not None:
                row["Field Type"] = "radio"
                row["Choices, Calculations, OR Slider Labels"] = " | ".join(
                    f"{c}, {v}" for c, v in _choices(f.enum).items())
            elif f.type == "boolean":
                row["Field Type"] = "yesno"
            else:
                row["Field Type"] = "text"
                row["Text Validation Type OR Show Slider Number"] = {
                    "date": "date_ymd", "datetime": "datetime_ymd", "integer": "integer",
                    "number": "number"}.get(f.type, "")
            rows.append(row)
    return pd.DataFrame(rows, columns=DICTIONARY_HEADER).fillna("")


def make_redcap_mapping() -> dict:
    """Return the mapping that imports :func:`make_redcap_dictionary` projects.

    Returns
    -------
    dict
        Mapping in the form read by :func:`sirtstats.interop.redcap.load_redcap_mapping`.
    """
    tables = {}
    for table in TABLE_ORDER:
        columns: dict = {}
        for f in load_schema(table).fields:
            if not _redcap_column(table, f.name):
                columns[f.name] = RECORD_ID
            elif (table, f.name) in _CHECKBOX_COLUMNS:
                columns[f.name] = {"checkbox": _field_name(table, f.name),
                                   "codes": _choices(f.enum)}
            elif f.enum is not None:
                columns[f.name] = {"field": _field_name(table, f.name),
                                   "codes": _choices(f.enum)}
            else:
                columns[f.name] = _field_name(table, f.name)
        spec = {"rows": "record"} if table in _NON_REPEATING else {
            "rows": "repeating", "instrument": table}
        tables[table] = {**spec, "columns": columns}
    return {"record_id": RECORD_ID, "tables": tables}


def _text(series: pd.Series, field_type: str) -> pd.Series:
    if field_type == "date":
        return series.dt.strftime("%Y-%m-%d").fillna("")
    if field_type == "datetime":
        return series.dt.strftime("%Y-%m-%d %H:%M").fillna("")
    if field_type == "boolean":
        return series.map({True: "1", False: "0"}).fillna("").astype(str)
    if field_type == "integer":
        return series.astype("Int64").astype(str).replace("<NA>", "")
    if field_type == "number":
        return series.map(lambda v: "" if pd.isna(v) else f"{v:.10g}")
    return series.fillna("").astype(str)


def _export_columns() -> list[str]:
    """Field columns of a full export, in dictionary order (checkboxes as ``field___code``)."""
    columns = []
    for row in make_redcap_dictionary().itertuples(index=False):
        name, field_type, choices = row[0], row[3], row[5]
        if name == RECORD_ID:
            continue
        if field_type == "checkbox":
            columns += [f"{name}___{part.split(',')[0].strip()}" for part in choices.split("|")]
        else:
            columns.append(name)
    return columns


def to_redcap_records(tables: dict[str, pd.DataFrame], *, labels: bool = False) -> pd.DataFrame:
    """Write registry tables as a REDCap records export.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Registry tables typed by the schema (e.g. from :func:`sirtstats.demo.make_demo_registry`).
    labels : bool
        False for a "raw" export (codes, 1/0), True for a "label" export (choice labels,
        Yes/No, Checked/Unchecked).

    Returns
    -------
    DataFrame
        All cells as text: ``record_id, redcap_repeat_instrument, redcap_repeat_instance`` and one
        column per field (checkbox fields as ``field___code``), one row per record plus one per
        repeat instance, sorted by record then instrument then instance.
    """
    blocks = []
    record_rows = None
    owner = (tables["lesions"].set_index("lesion_id")["patient_id"]
             if "lesions" in tables else pd.Series(dtype=object))
    for table in TABLE_ORDER:
        df = tables.get(table)
        if df is None or df.empty:
            continue
        # lesion_measurements is keyed by lesion: its REDCap record is the lesion's patient
        patient = df["patient_id"] if "patient_id" in df else df["lesion_id"].map(owner)
        out = pd.DataFrame({RECORD_ID: patient.astype(str)})
        for f in load_schema(table).fields:
            if not _redcap_column(table, f.name):
                continue
            name = _field_name(table, f.name)
            values = df[f.name]
            if (table, f.name) in _CHECKBOX_COLUMNS:
                for code, label in _choices(f.enum).items():
                    checked = values.eq(label)
                    out[f"{name}___{code}"] = checked.map(
                        {True: "Checked" if labels else "1",
                         False: "Unchecked" if labels else "0"})
            elif f.enum is not None:
                codes = {v: c for c, v in _choices(f.enum).items()}
                out[name] = values.map(lambda v, codes=codes: "" if pd.isna(v) else (
                    str(v) if labels else codes[str(v)]))
            elif f.type == "boolean" and labels:
                out[name] = values.map({True: "Yes", False: "No"}).fillna("").astype(str)
            else:
                out[name] = _text(values, f.type)
        if table in _NON_REPEATING:
            record_rows = out if record_rows is None else record_rows.merge(
                out, on=RECORD_ID, how="outer")
        else:
            out.insert(1, "redcap_repeat_instrument", table)
            out.insert(2, "redcap_repeat_instance",
                       (out.groupby(RECORD_ID).cumcount() + 1).astype(str))
            blocks.append(out)
    record_rows = record_rows.assign(redcap_repeat_instrument="", redcap_repeat_instance="")
    records = pd.concat([record_rows, *blocks], ignore_index=True).fillna("")
    first = [RECORD_ID, "redcap_repeat_instrument", "redcap_repeat_instance"]
    records = records.reindex(columns=first + _export_columns(), fill_value="")
    instance = pd.to_numeric(records["redcap_repeat_instance"], errors="coerce").fillna(0)
    order = records.assign(_i=instance).sort_values(
        [RECORD_ID, "redcap_repeat_instrument", "_i"], kind="stable").index
    return records.loc[order].reset_index(drop=True)
