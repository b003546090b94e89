"""Loading registries: formats, locales, encodings, typing, warnings, cut-off, strictness."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _registry_fixture import hash_folder, set_cell, valid_tables, write_registry  # noqa: E402

from sirtstats.exceptions import SirtDataError  # noqa: E402
from sirtstats.registry import (  # noqa: E402
    Registry,
    apply_cutoff,
    load_registry,
    validate_registry,
)
from sirtstats.schema import TABLE_ORDER  # noqa: E402
from sirtstats.validation import PROBLEM_COLUMNS  # noqa: E402

N_ROWS = {"patients": 3, "baseline": 3, "workups": 3, "treatments": 3, "post_dosimetry": 2,
          "lesions": 4, "lesion_measurements": 8, "imaging_assessments": 4, "labs": 4,
          "adverse_events": 2, "other_therapies": 2, "pet_assessments": 2, "pet_lesions": 2}

FORMATS = {
    "csv_utf8": {},
    "csv_french_latin1": {"sep": ";", "encoding": "latin-1", "french": True},
    "csv_french_cp1252_bom_free": {"sep": ";", "encoding": "cp1252", "french": True},
    "csv_tab_utf8_bom": {"sep": "\t", "encoding": "utf-8-sig", "french": True},
    "csv_semicolon_utf8_bom_iso": {"sep": ";", "encoding": "utf-8-sig"},
    "xlsx": {"fmt": "xlsx"},
    "parquet": {"fmt": "parquet"},
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = write_registry(tmp_path_factory.mktemp("ref"), valid_tables())
    return load_registry(folder)


@pytest.mark.parametrize("fmt", list(FORMATS), ids=list(FORMATS))
def test_valid_registry_loads_identically_in_every_format_and_locale(fmt, tmp_path, reference):
    folder = write_registry(tmp_path / "r", valid_tables(), **FORMATS[fmt])
    before = hash_folder(folder)
    problems = validate_registry(folder)
    assert problems.empty, problems.to_string()
    reg = load_registry(folder)
    for table in TABLE_ORDER:
        pd.testing.assert_frame_equal(reg[table], reference[table], obj=table)
    assert hash_folder(folder) == before


def test_typed_values_match_the_source_text(reference):
    p = reference["patients"]
    assert p["patient_id"].tolist() == ["P01", "P02", "P03"]
    assert p["weight_kg"].tolist() == [80.0, 61.5, 72.0]
    assert p["birth_year"].dtype == "Int64"
    assert p["cirrhosis"].tolist() == [True, False, True]
    assert p.loc[1, "death_date"] == pd.Timestamp("2024-08-15")
    assert pd.isna(p.loc[0, "death_date"])
    assert p.loc[0, "cause_of_death"] is None
    tx = reference["treatments"]
    assert tx.loc[0, "administration_datetime"] == pd.Timestamp("2023-03-06 10:30")
    assert tx.loc[1, "administration_datetime"] == pd.Timestamp("2023-01-20 11:00")
    assert tx.loc[0, "couinaud_segments"] == "5;6;7;8"
    assert tx.loc[0, "concomitant_systemic"] == "aucun (évalué)"
    assert reference["labs"].loc[0, "unit"] == "µmol/L"
    ae = reference["adverse_events"]
    assert ae["serious"].tolist() == [False, False]  # "false" and "no"
    assert ae["is_reild"].tolist() == [False, False]  # "false" and "non"
    assert reference["lesion_measurements"].loc[3, "diameter_mm"] == 20.5
    for table in TABLE_ORDER:
        assert len(reference[table]) == N_ROWS[table]
        assert isinstance(reference[table].index, pd.RangeIndex)


def test_registry_records_file_hashes_and_source(tmp_path):
    folder = write_registry(tmp_path / "r", valid_tables())
    reg = load_registry(folder)
    assert reg.source == str(folder)
    assert reg.file_hashes["patients.csv"] == hashlib.sha256(
        (folder / "patients.csv").read_bytes()).hexdigest()
    assert set(reg.file_hashes) == {f"{t}.csv" for t in TABLE_ORDER}
    assert list(reg.problems.columns) == PROBLEM_COLUMNS
    assert reg.problems.empty


def test_french_booleans_and_quoted_separator(tmp_path):
    tables = valid_tables()
    set_cell(tables, "patients", 2, "cirrhosis", "OUI")
    set_cell(tables, "patients", 3, "cirrhosis", "N")
    set_cell(tables, "patients", 4, "cirrhosis", "O")
    set_cell(tables, "lesions", 2, "is_nodal", "Non")
    folder = write_registry(tmp_path / "r", tables, sep=";", french=True, encoding="latin-1")
    assert '"5;6;7;8"' in (folder / "treatments.csv").read_text(encoding="latin-1")
    reg = load_registry(folder)
    assert reg["patients"]["cirrhosis"].tolist() == [True, False, True]
    assert reg["treatments"].loc[0, "couinaud_segments"] == "5;6;7;8"
    assert reg["baseline"].loc[2, "bilirubin_umol_l"] == 25.5


def test_optional_tables_may_be_absent_and_load_empty_typed(tmp_path):
    tables = {t: rows for t, rows in valid_tables().items()
              if t in ("patients", "treatments", "workups")}
    reg = load_registry(write_registry(tmp_path / "r", tables))
    assert reg["labs"].empty
    assert reg["labs"]["sample_date"].dtype == "datetime64[ns]"
    assert len(reg["patients"]) == 3


def test_header_only_file_is_an_empty_table(tmp_path):
    tables = valid_tables()
    tables["labs"] = tables["labs"][:1]
    reg = load_registry(write_registry(tmp_path / "r", tables))
    assert reg["labs"].empty


def test_row_numbers_count_blank_lines_and_header(tmp_path):
    tables = valid_tables()
    set_cell(tables, "patients", 4, "sex", "X")
    folder = write_registry(tmp_path / "r", tables)
    path = folder / "patients.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n")  # blank line 3
    problems = validate_registry(folder)
    errors = problems[problems["severity"] == "error"]
    assert errors[["row", "column"]].values.tolist() == [[5, "sex"]]
    assert len(load_registry(folder, strict=False)["patients"]) == 2


def test_xlsx_rows_are_spreadsheet_rows(tmp_path):
    tables = valid_tables()
    set_cell(tables, "workups", 3, "lsf_pct", "abc")
    problems = validate_registry(write_registry(tmp_path / "r", tables, fmt="xlsx"))
    e = problems[problems["severity"] == "error"]
    assert e[["table", "file", "row", "column", "value"]].values.tolist() == [
        ["workups", "workups.xlsx", 3, "lsf_pct", "abc"]]


# --------------------------------------------------------------------------- warnings


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "rule"),
    [
        ("workups", 2, "lsf_pct", "25", "suspicious value: above 20 %"),
        ("baseline", 3, "ecog", "3", "suspicious value: above 2 ECOG grade"),
        ("patients", 2, "weight_kg", "190", "suspicious value: above 180 kg"),
        ("adverse_events", 2, "onset_date", "2023-01-15", "more than 30 days before the first"),
        ("baseline", 2, "assessment_date", "2022-11-01", "not within -90...0 days"),
        ("baseline", 2, "assessment_date", "2023-03-08", "not within -90...0 days"),
        ("patients", 2, "cause_of_death", "unknown", "cause of death given without a death"),
    ],
    ids=["lsf", "ecog", "weight", "ae_onset", "baseline_early", "baseline_after", "cause"],
)
def test_suspicious_but_legal_values_are_warnings_and_load(tmp_path, table, row, column,
                                                           value, rule):
    tables = valid_tables()
    set_cell(tables, table, row, column, value)
    reg = load_registry(write_registry(tmp_path / "r", tables))
    p = reg.problems
    assert p[["table", "row", "column", "severity"]].values.tolist() == [
        [table, row, column, "warning"]], p.to_string()
    assert rule in p.loc[0, "rule"]
    assert sum(len(reg[t]) for t in TABLE_ORDER) == sum(N_ROWS.values())


def test_measurement_of_lesion_with_role_none_is_a_warning(tmp_path):
    tables = valid_tables()
    tables["lesion_measurements"].append(["L03", "2023-04-20", "mRECIST", "1", "measured",
                                          "25", "false", ""])
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    assert problems[["table", "row", "column", "severity"]].values.tolist() == [
        ["lesion_measurements", 10, "criterion", "warning"]]


def test_unknown_column_and_unknown_file_are_warnings(tmp_path):
    tables = valid_tables()
    tables["patients"][0].append("comment")
    for r in tables["patients"][1:]:
        r.append("ok")
    folder = write_registry(tmp_path / "r", tables)
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    (folder / "README.md").write_text("not a table\n")
    reg = load_registry(folder)
    p = reg.problems
    assert p[["table", "file", "row", "column", "rule"]].values.tolist() == [
        ["patients", "patients.csv", 1, "comment", "not in schema, ignored"],
        ["", "notes.csv", pd.NA, "", "unknown file: not a registry table, ignored"],
    ]
    assert "comment" not in reg["patients"].columns


def test_patient_without_treatment_is_a_warning(tmp_path):
    tables = valid_tables()
    tables["patients"].append(["P04", "C1", "F", "1970", "", "", "NET", "", "false",
                               "2024-01-05", "0", "", "", "2024-06-01"])
    p = load_registry(write_registry(tmp_path / "r", tables)).problems
    assert p[["row", "column", "value", "severity"]].values.tolist() == [
        [5, "patient_id", "P04", "warning"]]


# --------------------------------------------------------------------------- cut-off


def test_validate_with_cutoff_warns_about_every_later_date(tmp_path):
    problems = validate_registry(write_registry(tmp_path / "r", valid_tables()),
                                 cutoff_date="2023-05-01")
    assert set(problems["severity"]) == {"warning"}
    effects = {"death_date": "alive at the cut-off, followed up to it",
               "last_contact_date": "followed up to the cut-off"}
    expected = problems["column"].map(effects).fillna("ignored")
    assert problems["rule"].tolist() == [
        f"after the data cut-off (2023-05-01): {e}" for e in expected]
    assert problems[["table", "row", "column"]].values.tolist() == [
        ["patients", 2, "last_contact_date"],
        ["patients", 3, "death_date"],
        ["patients", 3, "last_contact_date"],
        ["patients", 4, "last_contact_date"],
        ["lesion_measurements", 4, "assessment_date"],
        ["lesion_measurements", 5, "assessment_date"],
        ["imaging_assessments", 3, "assessment_date"],
        ["other_therapies", 3, "start_date"],
    ]


def test_load_with_cutoff_applies_administrative_censoring(tmp_path):
    reg = load_registry(write_registry(tmp_path / "r", valid_tables()),
                        cutoff_date="2023-05-01")
    cut = pd.Timestamp("2023-05-01")
    assert reg.cutoff_date == cut
    assert reg.cutoff_counts == {
        "workups": 0, "treatments": 0, "post_dosimetry": 0, "lesions": 0,
        "lesion_measurements": 2, "imaging_assessments": 1, "labs": 0, "adverse_events": 0,
        "adverse_events.resolution_date": 0, "other_therapies": 1,
        "other_therapies.end_date": 0, "patients.death_date": 1,
        "patients.last_contact_date": 3, "pet_assessments": 0, "pet_lesions": 0}
    p = reg["patients"]
    assert p["death_date"].isna().all()
    assert p["cause_of_death"].isna().all()
    assert (p["last_contact_date"] == cut).all()
    assert (reg["lesion_measurements"]["assessment_date"] <= cut).all()
    assert len(reg["lesion_measurements"]) == 6
    assert reg["other_therapies"]["therapy_id"].tolist() == ["O01"]


def test_cutoff_keeps_events_on_the_cutoff_day_and_clears_later_end_dates(reference):
    reg = apply_cutoff(reference, "2023-03-08")
    ae = reg["adverse_events"]
    assert ae["ae_id"].tolist() == ["AE01", "AE02"]  # AE01 onset on the cut-off day is kept
    assert pd.isna(ae.loc[0, "resolution_date"])  # resolved after the cut-off: ongoing
    assert reg.cutoff_counts["adverse_events.resolution_date"] == 1
    assert reg["treatments"]["injection_id"].tolist() == ["T01", "T02"]


def test_apply_cutoff_does_not_modify_its_input(reference):
    before = {t: reference[t].copy() for t in TABLE_ORDER}
    apply_cutoff(reference, "2023-02-01")
    for t in TABLE_ORDER:
        pd.testing.assert_frame_equal(reference[t], before[t])
    assert reference.cutoff_date is None


def test_invalid_cutoff_argument_message():
    with pytest.raises(ValueError, match=r"The 'cutoff_date' argument of apply_cutoff must be "
                                         r"an ISO date \(yyyy-mm-dd\) or None. Got 'soon'"):
        apply_cutoff(Registry(tables={}), "soon")


# --------------------------------------------------------------------------- strictness


def test_strict_load_raises_with_problem_table(tmp_path):
    tables = valid_tables()
    set_cell(tables, "labs", 4, "value", "n/d")
    with pytest.raises(SirtDataError, match=r"labs.csv row 4 labs.value: wrong type") as info:
        load_registry(write_registry(tmp_path / "r", tables))
    assert list(info.value.rows.columns) == PROBLEM_COLUMNS


def test_non_strict_load_drops_error_rows_and_reports_them(tmp_path):
    tables = valid_tables()
    set_cell(tables, "labs", 4, "value", "n/d")
    set_cell(tables, "lesion_measurements", 3, "diameter_mm", "-4")
    reg = load_registry(write_registry(tmp_path / "r", tables), strict=False)
    errors = reg.problems[reg.problems["severity"] == "error"]
    assert errors[["table", "row"]].values.tolist() == [["lesion_measurements", 3],
                                                        ["labs", 4]]
    assert len(reg["labs"]) == N_ROWS["labs"] - 1
    assert len(reg["lesion_measurements"]) == N_ROWS["lesion_measurements"] - 1
    # every row loaded or reported
    for t in TABLE_ORDER:
        n_reported = errors.loc[errors["table"] == t, "row"].nunique()
        assert len(reg[t]) + n_reported == N_ROWS[t]


def test_missing_folder_is_reported_not_raised_as_oserror(tmp_path):
    problems = validate_registry(tmp_path / "nope")
    assert problems[["rule", "severity"]].values.tolist() == [
        ["registry folder not found", "error"]]


def test_identifier_header_detection_ignores_case_and_accents(tmp_path):
    tables = valid_tables()
    for name in ("Prénom", "N° Sécurité Sociale", "Adresse postale", "patient_email"):
        tables["patients"][0].append(name)
        for r in tables["patients"][1:]:
            r.append("x")
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    ident = problems[problems["rule"].str.contains("direct identifier")]
    assert sorted(ident["column"]) == sorted(
        ["Prénom", "N° Sécurité Sociale", "Adresse postale", "patient_email"])
    assert (ident["value"] == "").all()


def test_ragged_rows_are_reported_and_the_rest_read(tmp_path):
    folder = write_registry(tmp_path / "r", valid_tables())
    path = folder / "labs.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ",surplus"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reg = load_registry(folder, strict=False)
    assert reg.problems[["table", "row", "severity"]].values.tolist() == [["labs", 3, "error"]]
    assert len(reg["labs"]) == 3


# --------------------------------------------------------------------------- demo


def test_demo_registry_loads_without_errors():
    demo = pytest.importorskip("sirtstats.demo")
    if not hasattr(demo, "make_demo_registry"):
        pytest.skip("sirtstats.demo not written yet")
    reg = demo.load_registry("demo", cutoff_date="2026-09-30")
    assert reg.source == "demo"
    assert not (reg.problems["severity"] == "error").any()
    assert reg.cutoff_date == pd.Timestamp("2026-09-30")
    assert (reg["treatments"]["treatment_date"] <= reg.cutoff_date).all()
    assert np.all(reg["patients"]["last_contact_date"] <= reg.cutoff_date)


def test_registry_layer_does_not_resolve_demo(tmp_path, monkeypatch):
    # "demo" is resolved by sirtstats.demo (CLI / report / notebooks), never by the registry
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"sirtstats\.demo\.load_registry"):
        load_registry("demo")
    with pytest.raises(ValueError, match=r"sirtstats\.demo\.validate_registry"):
        validate_registry("demo")


def test_in_memory_tables_load_like_a_folder(tmp_path):
    tables = valid_tables()
    from_folder = load_registry(write_registry(tmp_path / "r", tables))
    from_memory = load_registry(dict(from_folder.tables))
    assert from_memory.source == "in-memory tables"
    for table in TABLE_ORDER:
        pd.testing.assert_frame_equal(from_memory[table], from_folder[table])


# --------------------------------------------------------------------------- property


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_row_is_loaded_or_reported_whatever_cell_is_garbled(tmp_path_factory, data):
    tables = valid_tables()
    table = data.draw(st.sampled_from(sorted(tables)), label="table")
    header = tables[table][0]
    row = data.draw(st.integers(2, len(tables[table])), label="row")
    column = data.draw(st.sampled_from(header), label="column")
    value = data.draw(st.sampled_from(
        ["", "xyz", "-1", "1e9", "31/02/2024", "2099-01-01", "1,5", "NA", "P99", "L01",
         "oui", "  3  ", "1985-06-01"]), label="value")
    set_cell(tables, table, row, column, value)
    folder = write_registry(tmp_path_factory.mktemp("prop"), tables)
    before = hash_folder(folder)
    reg = load_registry(folder, strict=False)
    errors = reg.problems[(reg.problems["severity"] == "error") & reg.problems["row"].notna()]
    for t in TABLE_ORDER:
        reported = errors.loc[errors["table"] == t, "row"].nunique()
        assert len(reg[t]) + reported == N_ROWS[t], (t, reg.problems.to_string())
    assert hash_folder(folder) == before
