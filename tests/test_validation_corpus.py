"""Bad-input corpus (issue #2 item 7): broken registries, each reported exactly.

Every case starts from the small valid registry of ``_registry_fixture`` (3 patients, every
table), applies ONE mutation, writes it to ``tmp_path`` and asserts that

- ``validate_registry`` reports the exact (table, row, column) with the expected rule text and
  severity ``error`` (row = line in the file, header = 1, first data row = 2);
- ``sirtstats validate`` exits 1 and prints the problem, with no traceback;
- ``load_registry`` raises ``SirtDataError`` carrying the problems table;
- the source files are byte-for-byte unchanged (and not even re-written: same mtime).
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _registry_fixture import append_row as _append_row  # noqa: E402
from _registry_fixture import cell as _cell  # noqa: E402
from _registry_fixture import hash_folder, set_cell, valid_tables, write_registry  # noqa: E402
from _registry_fixture import in_turn as _several  # noqa: E402
from _registry_fixture import write_raw as _write_raw  # noqa: E402

from sirtstats.cli import main  # noqa: E402
from sirtstats.exceptions import SirtDataError  # noqa: E402
from sirtstats.registry import load_registry, validate_registry  # noqa: E402
from sirtstats.validation import PROBLEM_COLUMNS  # noqa: E402

NA = None  # whole-file problem: no row


def _add_column(table, name, values):
    def mutate(t):
        t[table][0].append(name)
        for r, v in zip(t[table][1:], values, strict=False):
            r.append(v)
    return mutate


def _drop_column(table, name):
    def mutate(t):
        i = t[table][0].index(name)
        for r in t[table]:
            del r[i]
    return mutate


def _rename_column(table, old, new):
    def mutate(t):
        header = t[table][0]
        header[header.index(old)] = new
    return mutate


def _copy_row(table, row):
    return lambda t: t[table].append(list(t[table][row - 1]))


def _rewrite_with_sep(table, sep):
    def post(folder):
        path = folder / f"{table}.csv"
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        path.write_text("\n".join(sep.join(r) for r in rows) + "\n", encoding="utf-8")
    return post


def _delete(name):
    return lambda folder: (folder / name).unlink()


# (id, mutation of the text tables, post-write file operation, expected table, row, column,
#  rule substring)
CASES = [
    ("wrong_type_number", _cell("patients", 3, "weight_kg", "sixty"), None,
     "patients", 3, "weight_kg", "expected a number"),
    ("wrong_type_integer", _cell("baseline", 3, "ecog", "1.5"), None,
     "baseline", 3, "ecog", "expected an integer"),
    ("wrong_type_boolean", _cell("lesions", 2, "is_nodal", "maybe"), None,
     "lesions", 2, "is_nodal", "expected true/false"),
    ("bad_date_calendar", _cell("patients", 2, "diagnosis_date", "2023-02-30"), None,
     "patients", 2, "diagnosis_date", "bad date"),
    ("bad_date_us_order", _cell("patients", 4, "diagnosis_date", "03/13/2023"), None,
     "patients", 4, "diagnosis_date", "bad date"),
    ("bad_date_two_digit_year", _cell("adverse_events", 2, "onset_date", "08/03/23"), None,
     "adverse_events", 2, "onset_date", "bad date"),
    ("bad_datetime", _cell("treatments", 2, "administration_datetime", "2023-03-06 25:00"),
     None, "treatments", 2, "administration_datetime", "bad datetime"),
    ("implausible_old_date", _cell("patients", 2, "diagnosis_date", "1985-01-10"), None,
     "patients", 2, "diagnosis_date", "before 1990"),
    ("future_date", _cell("patients", 2, "last_contact_date", "2099-01-01"), None,
     "patients", 2, "last_contact_date", "in the future"),
    ("death_before_first_sirt", _several(_cell("patients", 3, "death_date", "2023-01-15"),
                                         _cell("patients", 3, "last_contact_date",
                                               "2023-01-15")), None,
     "patients", 3, "death_date", "death before the first SIRT"),
    ("death_before_diagnosis", _cell("patients", 3, "diagnosis_date", "2024-09-01"), None,
     "patients", 3, "death_date", "death before diagnosis"),
    ("diagnosis_after_first_sirt", _cell("patients", 2, "diagnosis_date", "2023-04-01"), None,
     "patients", 2, "diagnosis_date", "diagnosis after the first SIRT"),
    ("last_contact_after_death", _cell("patients", 3, "last_contact_date", "2024-09-30"), None,
     "patients", 3, "last_contact_date", "last contact after death"),
    ("last_contact_before_first_sirt", _cell("patients", 4, "last_contact_date", "2023-04-01"),
     None, "patients", 4, "last_contact_date", "last contact before the first SIRT"),
    ("measurement_before_lesion_baseline",
     _cell("lesion_measurements", 8, "assessment_date", "2022-12-01"), None,
     "lesion_measurements", 8, "assessment_date", "before the lesion's baseline_date"),
    ("workup_after_treatment", _cell("workups", 2, "workup_date", "2023-03-10"), None,
     "treatments", 2, "treatment_date", "treatment before its work-up"),
    ("workup_of_other_patient", _cell("treatments", 3, "workup_id", "W01"), None,
     "treatments", 3, "workup_id", "work-up belongs to another patient"),
    ("ae_resolution_before_onset", _cell("adverse_events", 2, "resolution_date", "2023-03-01"),
     None, "adverse_events", 2, "resolution_date", "resolution before onset"),
    ("therapy_end_before_start", _cell("other_therapies", 2, "end_date", "2022-06-01"), None,
     "other_therapies", 2, "end_date", "end before start"),
    ("dosimetry_session_unknown", _cell("post_dosimetry", 3, "session_id", "S99"), None,
     "post_dosimetry", 3, "session_id", "session not found"),
    ("duplicate_primary_key", _cell("lesions", 3, "lesion_id", "L01"), None,
     "lesions", 3, "lesion_id", "duplicate primary key (lesion_id): rows 2, 3"),
    ("duplicate_composite_key", _copy_row("labs", 3), None,
     "labs", 6, "patient_id, sample_date, analyte", "duplicate primary key"),
    ("orphan_patient", _cell("treatments", 4, "patient_id", "P09"), None,
     "treatments", 4, "patient_id", "orphan foreign key: not found in patients.patient_id"),
    ("orphan_lesion", _cell("lesion_measurements", 9, "lesion_id", "L99"), None,
     "lesion_measurements", 9, "lesion_id", "not found in lesions.lesion_id"),
    ("orphan_workup", _cell("treatments", 2, "workup_id", "W77"), None,
     "treatments", 2, "workup_id", "not found in workups.workup_id"),
    ("unknown_enum", _cell("patients", 2, "sex", "male"), None,
     "patients", 2, "sex", "unknown value: expected one of {M, F}"),
    ("unknown_enum_case", _cell("treatments", 2, "device", "y90_Glass"), None,
     "treatments", 2, "device", "did you mean 'Y90_glass'?"),
    ("out_of_range_max", _cell("workups", 3, "lsf_pct", "120"), None,
     "workups", 3, "lsf_pct", "above the maximum 100 %"),
    ("out_of_range_min", _cell("treatments", 4, "delivered_activity_gbq", "-1.2"), None,
     "treatments", 4, "delivered_activity_gbq", "below the minimum 0 GBq"),
    ("pattern", _cell("treatments", 4, "couinaud_segments", "2;9"), None,
     "treatments", 4, "couinaud_segments", "does not match the pattern"),
    ("required_value_missing", _cell("baseline", 2, "ascites", ""), None,
     "baseline", 2, "ascites", "required value missing"),
    ("missing_required_column", _drop_column("patients", "sex"), None,
     "patients", 1, "sex", "required column missing"),
    ("duplicate_column", _add_column("lesions", "organ", ["liver"] * 4), None,
     "lesions", 1, "organ", "duplicate column"),
    ("unit_mismatch_suffix", _rename_column("baseline", "bilirubin_umol_l", "bilirubin_mg_dl"),
     None, "baseline", 1, "bilirubin_mg_dl", "unit mismatch: expected umol_l"),
    ("unit_mismatch_header", _rename_column("patients", "weight_kg", "Weight (lb)"), None,
     "patients", 1, "Weight (lb)", "unit mismatch: expected kg"),
    ("lab_unit_unknown", _cell("labs", 3, "unit", "mg/dL"), None,
     "labs", 3, "unit", "unit not accepted for this analyte"),
    ("lab_lln_above_uln", _cell("labs", 3, "lln", "60"), None,
     "labs", 3, "lln", "lower limit of normal above the upper limit"),
    ("identifier_name_column", _add_column("patients", "Nom", ["DUPONT", "MARTIN", "DURAND"]),
     None, "patients", 1, "Nom", "direct identifier; pseudonymise"),
    ("identifier_birth_date", _add_column("patients", "date_de_naissance",
                                          ["12/03/1952", "01/02/1960", "05/05/1948"]), None,
     "patients", 1, "date_de_naissance", "direct identifier"),
    ("identifier_ipp", _add_column("patients", "IPP", ["80012345", "80012346", "80012347"]),
     None, "patients", 1, "IPP", "direct identifier"),
    ("ragged_row", _append_row("other_therapies", "O03,P03,TACE,2024-01-10,,,,false,extra"),
     None, "other_therapies", 4, "", "wrong number of fields: expected 8, got 9"),
    ("empty_file", None, _write_raw("adverse_events.csv", b""),
     "adverse_events", NA, "", "empty file"),
    ("wrong_delimiter", None, _rewrite_with_sep("patients", "|"),
     "patients", 1, "", "wrong separator"),
    ("missing_patients_table", None, _delete("patients.csv"),
     "patients", NA, "", "required table missing"),
    ("unsupported_format", None, _write_raw("labs.xls", b"\xd0\xcf\x11\xe0"),
     "labs", NA, "", "unsupported file format"),
]

IDS = [c[0] for c in CASES]
assert len(set(IDS)) == len(IDS) >= 25


@pytest.fixture(params=CASES, ids=IDS)
def broken(request, tmp_path):
    case_id, mutate, post, table, row, column, rule = request.param
    tables = valid_tables()
    if mutate is not None:
        mutate(tables)
    folder = write_registry(tmp_path / "registry", tables)
    if post is not None:
        post(folder)
    return folder, (table, row, column, rule), hash_folder(folder)


def _matches(problems, table, row, column, rule):
    rows = problems["row"]
    at_row = rows.isna() if row is None else (rows == row).fillna(False)
    hit = ((problems["table"] == table) & at_row & (problems["column"] == column)
           & problems["rule"].str.contains(rule, regex=False)
           & (problems["severity"] == "error"))
    return problems[hit]


def test_corpus_case_reported_exactly_exit_1_source_untouched(broken, capsys):
    folder, (table, row, column, rule), before = broken
    out_csv = folder.parent / "problems.csv"
    assert main(["validate", str(folder), "--output", str(out_csv)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "INVALID" in captured.out
    assert rule in captured.out
    # the CSV is validate_registry's table: the exact (table, row, column), rule, error
    written = pd.read_csv(out_csv, keep_default_na=False, dtype=str)
    written["row"] = pd.to_numeric(written["row"]).astype("Int64")
    assert len(_matches(written, table, row, column, rule)) == 1, written.to_string()
    assert hash_folder(folder) == before


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in {
    "wrong_type_number", "duplicate_composite_key", "identifier_ipp", "empty_file",
    "measurement_before_lesion_baseline"}], ids=lambda c: c[0])
def test_corpus_api_matches_cli_and_load_raises(case, tmp_path, capsys):
    _, mutate, post, table, row, column, rule = case
    tables = valid_tables()
    if mutate is not None:
        mutate(tables)
    folder = write_registry(tmp_path / "registry", tables)
    if post is not None:
        post(folder)
    before = hash_folder(folder)
    problems = validate_registry(folder)
    assert len(_matches(problems, table, row, column, rule)) == 1
    with pytest.raises(SirtDataError, match=r"error\(s\)") as info:
        load_registry(folder)
    pd.testing.assert_frame_equal(info.value.rows, problems)
    out_csv = tmp_path / "problems.csv"
    main(["validate", str(folder), "-o", str(out_csv)])
    capsys.readouterr()
    written = pd.read_csv(out_csv, keep_default_na=False, dtype=str)
    assert written.columns.tolist() == PROBLEM_COLUMNS
    assert written["rule"].tolist() == problems["rule"].tolist()
    assert written["row"].tolist() == problems["row"].astype(str).str.replace(
        "<NA>", "").tolist()
    assert hash_folder(folder) == before


def test_identifier_values_never_shown(tmp_path, capsys):
    tables = valid_tables()
    _add_column("patients", "nom", ["DUPONT", "MARTIN", "DURAND"])(tables)
    _add_column("patients", "telephone", ["0601020304", "0605060708", "0611121314"])(tables)
    folder = write_registry(tmp_path / "r", tables)
    problems = validate_registry(folder)
    out_csv = tmp_path / "problems.csv"
    main(["validate", str(folder), "-o", str(out_csv)])
    shown = capsys.readouterr().out + out_csv.read_text() + problems.to_string()
    for secret in ("DUPONT", "MARTIN", "DURAND", "0601020304"):
        assert secret not in shown
    assert set(problems.loc[problems["column"].isin(["nom", "telephone"]), "severity"]) == {
        "error"}


def test_all_problems_reported_at_once(tmp_path):
    tables = valid_tables()
    for mutate in (CASES[0][1], CASES[1][1], CASES[22][1], CASES[25][1]):
        mutate(tables)
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    errors = problems[problems["severity"] == "error"]
    got = set(zip(errors["table"], errors["row"], errors["column"], strict=True))
    assert {("patients", 3, "weight_kg"), ("baseline", 3, "ecog"),
            ("treatments", 4, "patient_id"), ("patients", 2, "sex")} <= got


def test_every_duplicate_and_orphan_row_reported(tmp_path):
    tables = valid_tables()
    set_cell(tables, "lesions", 3, "lesion_id", "L01")
    set_cell(tables, "lesions", 4, "lesion_id", "L01")
    set_cell(tables, "labs", 2, "patient_id", "P98")
    set_cell(tables, "labs", 5, "patient_id", "P99")
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    dup = problems[problems["rule"].str.startswith("duplicate primary key")]
    assert dup["row"].tolist() == [2, 3, 4]
    assert dup["rule"].str.endswith("rows 2, 3, 4").all()
    orphans = problems[problems["rule"].str.startswith("orphan")
                       & (problems["table"] == "labs")]
    assert orphans[["row", "value"]].values.tolist() == [[2, "P98"], [5, "P99"]]
