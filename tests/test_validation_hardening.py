"""Bad input a hostile registry produces (issue #13 items 1-4), each class reported exactly.

Like ``test_validation_corpus``: start from the small valid registry, break ONE thing, and
assert the exact (table, row, column), rule text and severity, exit 1 from ``sirtstats
validate`` with no traceback, ``SirtDataError`` from ``load_registry`` (never another
exception) and untouched sources.
"""

from __future__ import annotations

import random
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
from sirtstats.readers import MAX_CELL_CHARS, read_table_file  # noqa: E402
from sirtstats.registry import load_registry, validate_registry  # noqa: E402

NA = None


def _replace_text(name, old: str, new: str):
    """Edit a written file as text (to plant quoting errors the csv writer would escape)."""
    def post(folder):
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return post


def _self_symlink(name):
    def post(folder):
        (folder / name).unlink()
        (folder / name).symlink_to(name)
    return post


def _reencode(name, encoding: str, bom: bytes = b""):
    def post(folder):
        path = folder / name
        path.write_bytes(bom + path.read_text(encoding="utf-8").encode(encoding))
    return post


def _random_bytes(n=4000, seed=13):
    data = random.Random(seed).randbytes(n)
    return data.replace(b"\x00", b"")


_LONG = "x" * (5 * 1024 * 1024)


def _add_column(table: str, column: str, values: dict):
    """A mutation adding a column to ``table``: row id (first cell) -> value, else empty."""
    def add(tables):
        rows = tables[table]
        rows[0].append(column)
        for row in rows[1:]:
            row.append(values.get(row[0], ""))
    return add

# (id, mutation of the text tables, post-write file operation, expected table, row, column,
#  rule substring)
CASES = [
    # 1. an unclosed quote swallows the rows after it
    ("unclosed_quote_to_eof", None,
     _replace_text("imaging_assessments.csv", "P01,2023-05-15", '"P01,2023-05-15'),
     "imaging_assessments", 3, "patient_id", "opens on line 3 and swallows lines 4–5"),
    # a quote that closes two rows later: the cell spans lines 3-5 and rows 4 and 5 are lost
    ("quote_closed_rows_later", None,
     _several(_replace_text("imaging_assessments.csv", "P01,2023-05-15", '"P01,2023-05-15'),
            _replace_text("imaging_assessments.csv", "P02,2023-04-20", 'P02"x,2023-04-20')),
     "imaging_assessments", 3, "patient_id", "opens on line 3 and swallows lines 4–5"),
    # 2. contents that used to raise
    ("random_bytes", None, _write_raw("labs.csv", _random_bytes()),
     "labs", 1, "patient_id", "required column missing (header read as"),
    ("binary_with_nul", None, _write_raw("labs.csv", b"\x00\x01\x02PK\x03\x04" * 50),
     "labs", NA, "", "not a text file"),
    ("five_mb_cell_and_ragged_row",
     _several(_cell("other_therapies", 2, "agent", _LONG),
              _append_row("other_therapies", "O03,P03,TACE,2024-01-10,,,,false,extra")), None,
     "other_therapies", 2, "agent", f"cell longer than {MAX_CELL_CHARS} characters"),
    ("integer_beyond_int64", _cell("baseline", 2, "ecog", "99999999999999999999"), None,
     "baseline", 2, "ecog", "value too large for an integer"),
    ("integer_exponent_beyond_int64", _cell("baseline", 3, "ecog", "1e19"), None,
     "baseline", 3, "ecog", "value too large for an integer"),
    # 3. encodings and links
    ("utf16_without_bom", None, _reencode("labs.csv", "utf-16-le"),
     "labs", NA, "", "not a text file"),
    ("symlink_to_itself", None, _self_symlink("labs.csv"),
     "labs", NA, "", "cannot read the file (a symbolic link loop)"),
    # 4. plausibility
    ("birth_after_diagnosis", _cell("patients", 2, "birth_year", "2024"), None,
     "patients", 2, "birth_year", "birth year after the diagnosis date"),
    ("measurement_after_death", _cell("lesion_measurements", 8, "assessment_date", "2024-09-01"),
     None, "lesion_measurements", 8, "assessment_date", "measurement after the patient's death"),
    ("imaging_after_death", _cell("imaging_assessments", 5, "assessment_date", "2024-09-01"),
     None, "imaging_assessments", 5, "assessment_date", "imaging after the patient's death"),
    ("grade5_without_death", _cell("adverse_events", 2, "grade", "5"), None,
     "adverse_events", 2, "grade", "grade 5 (fatal) adverse event but the patient has no"),
    ("id_differs_by_case", _append_row(
        "patients", "p01,C1,M,1952,175,80,HCC,HCV,true,2023-01-10,0,,,2024-12-01"), None,
     "patients", 5, "patient_id", "differs from another only by case or spaces: rows 2, 5"),
    ("placeholder_dash_id", _cell("other_therapies", 3, "therapy_id", "-"), None,
     "other_therapies", 3, "therapy_id", "placeholder, not an identifier"),
    ("placeholder_question_id", _cell("adverse_events", 3, "ae_id", "?"), None,
     "adverse_events", 3, "ae_id", "placeholder, not an identifier"),
    # float() reads "5_5" as 55 and Arabic-Indic digits as numbers; pandas does not: the cell
    # is refused whatever the other cells of its column hold
    ("underscore_in_number_column_of_numbers", _cell("baseline", 2, "largest_lesion_mm", "5_5"),
     None, "baseline", 2, "largest_lesion_mm", "wrong type: expected a number"),
    ("arabic_indic_digits", _cell("baseline", 3, "largest_lesion_mm", "\u0664\u0660"),
     None, "baseline", 3, "largest_lesion_mm", "wrong type: expected a number"),
    # missing patient ids on a treatment and on a liver lesion with segments: the territory
    # cross-check matched the two missing ids to each other and crashed (IntCastingNaNError)
    ("no_patient_on_session_and_segmented_lesion",
     _several(_add_column("lesions", "couinaud_segments", {"L01": "5;6"}),
              _cell("lesions", 2, "patient_id", ""), _cell("treatments", 2, "patient_id", "")),
     None, "lesions", 2, "patient_id", "required value missing"),
]
IDS = [c[0] for c in CASES]
assert len(set(IDS)) == len(IDS)


def _build(case, tmp_path):
    _, mutate, post, *_ = case
    tables = valid_tables()
    if mutate is not None:
        mutate(tables)
    folder = write_registry(tmp_path / "registry", tables)
    if post is not None:
        post(folder)
    return folder


def _matches(problems, table, row, column, rule, severity="error"):
    rows = problems["row"]
    at_row = rows.isna() if row is None else (rows == row).fillna(False)
    hit = ((problems["table"] == table) & at_row & (problems["column"] == column)
           & problems["rule"].str.contains(rule, regex=False)
           & (problems["severity"] == severity))
    return problems[hit]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_hostile_case_reported_exactly_exit_1_no_traceback(case, tmp_path, capsys):
    folder = _build(case, tmp_path)
    _, _, _, table, row, column, rule = case
    before = hash_folder(folder)
    problems = validate_registry(folder)
    assert len(_matches(problems, table, row, column, rule)) == 1, problems.to_string()
    assert main(["validate", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    with pytest.raises(SirtDataError):
        load_registry(folder)
    assert hash_folder(folder) == before


def test_unclosed_quote_loses_rows_only_with_an_error(tmp_path):
    folder = _build(CASES[0], tmp_path)
    problems = validate_registry(folder)
    errors = problems[(problems["severity"] == "error")
                      & (problems["table"] == "imaging_assessments")]
    assert errors["rule"].str.contains("unclosed quote").any()


def test_five_mb_cell_also_reports_the_ragged_row(tmp_path):
    problems = validate_registry(_build(CASES[4], tmp_path))
    assert len(_matches(problems, "other_therapies", 4, "",
                        "wrong number of fields: expected 8, got 9")) == 1


@pytest.mark.parametrize(("encoding", "bom"), [("utf-16-le", b"\xff\xfe"),
                                               ("utf-16-be", b"\xfe\xff")])
def test_utf16_with_bom_is_read(encoding, bom, tmp_path):
    tables = valid_tables()
    folder = write_registry(tmp_path / "r", tables)
    for path in folder.glob("*.csv"):
        _reencode(path.name, encoding, bom)(folder)
    problems = validate_registry(folder)
    assert not (problems["severity"] == "error").any(), problems.to_string()
    assert read_table_file(folder / "patients.csv").encoding == encoding


def test_unreadable_file_is_a_problem_row(tmp_path, monkeypatch):
    folder = write_registry(tmp_path / "r", valid_tables())
    original = Path.read_bytes

    def deny(self):
        if self.name == "labs.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    problems = validate_registry(folder)
    assert len(_matches(problems, "labs", NA, "", "cannot read the file (permission denied)")) == 1


def test_unreadable_folder_is_a_problem_row(tmp_path, monkeypatch):
    import sirtstats.readers

    folder = write_registry(tmp_path / "r", valid_tables())

    def deny(_folder):
        raise PermissionError(13, "Permission denied", str(_folder))

    monkeypatch.setattr(sirtstats.readers, "find_table_files", deny)
    problems = validate_registry(folder)
    assert problems["rule"].tolist() == ["cannot read the registry folder (Permission denied)"]
    with pytest.raises(SirtDataError):
        load_registry(folder)


def test_header_message_names_the_encoding(tmp_path):
    folder = write_registry(tmp_path / "r", valid_tables())
    (folder / "labs.csv").write_bytes("identifiant;date\n1;2\n".encode("cp1252"))
    problems = validate_registry(folder)
    assert len(_matches(problems, "labs", 1, "patient_id",
                        "required column missing (header read as utf-8 with separator ';')")) == 1


def _warnings(problems, table, row, column, rule):
    return _matches(problems, table, row, column, rule, severity="warning")


def test_diameter_in_cm_is_a_warning(tmp_path):
    tables = valid_tables()
    set_cell(tables, "lesion_measurements", 2, "diameter_mm", "5.5")
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    assert len(_warnings(problems, "lesion_measurements", 2, "diameter_mm",
                         "diameter entered in cm?")) == 1
    # a 12 mm target is measurable: no warning
    tables = valid_tables()
    set_cell(tables, "lesion_measurements", 2, "diameter_mm", "12")
    problems = validate_registry(write_registry(tmp_path / "r2", tables))
    assert problems["rule"].str.contains("entered in cm").sum() == 0


def test_thousands_separator_in_a_decimal_comma_file_is_a_warning(tmp_path):
    tables = valid_tables()
    set_cell(tables, "labs", 5, "value", "1.234")
    set_cell(tables, "labs", 2, "value", "15,5")
    problems = validate_registry(write_registry(tmp_path / "r", tables, sep=";"))
    assert len(_warnings(problems, "labs", 5, "value", "thousands separator")) == 1
    assert problems["rule"].str.contains("thousands").sum() == 1
    # with a comma separator a point is the decimal point: no warning
    tables = valid_tables()
    set_cell(tables, "labs", 5, "value", "1.234")
    problems = validate_registry(write_registry(tmp_path / "r2", tables))
    assert problems["rule"].str.contains("thousands").sum() == 0


def test_death_without_cause_is_fine(tmp_path):
    tables = valid_tables()
    set_cell(tables, "patients", 3, "cause_of_death", "")
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    assert not (problems["severity"] == "error").any(), problems.to_string()


def test_new_rules_are_in_the_data_dictionary():
    from sirtstats.datadict import render_data_dictionary

    text = render_data_dictionary()
    for rule in ("birth_after_diagnosis", "measurement_after_death", "imaging_after_death",
                 "ae_grade5_without_death", "target_diameter_in_cm", "placeholder_id",
                 "id_case_duplicate", "thousands_separator", "integer_too_large",
                 "multiline_cell", "not_text", "cannot_read"):
        assert f"`{rule}`" in text


@pytest.mark.parametrize("data", [_random_bytes(20_000, seed=s) for s in range(5)],
                         ids=[f"seed{s}" for s in range(5)])
def test_random_bytes_never_raise_anything_but_sirt_data_error(data, tmp_path):
    folder = write_registry(tmp_path / "r", valid_tables())
    (folder / "patients.csv").write_bytes(data)
    problems = validate_registry(folder)
    assert (problems["severity"] == "error").any()
    with pytest.raises(SirtDataError):
        load_registry(folder)


def test_pandas_frame_of_problems_has_no_cell_contents_of_long_cells(tmp_path):
    problems = validate_registry(_build(CASES[4], tmp_path))
    assert problems["value"].str.len().max() < 100
    assert isinstance(problems, pd.DataFrame)


# 5. identifiers typed into free text or into identifier columns

PLANTED_TEXT = [
    ("adverse_events", 2, "ae_term", "Nausea - Mme DUPONTZZ Jeanne IPP 80012345 nee le 12/03/1952",
     "a date (birth date?)"),
    ("adverse_events", 3, "soc", "Gastrointestinal disorders 06 12 34 56 78", "a phone number"),
    ("other_therapies", 2, "agent", "FOLFOX (jean.dupont@hopital.fr)", "an e-mail address"),
    ("other_therapies", 3, "agent", "FOLFIRI 1 52 03 75 123 456 78",
     "a social-security number (NIR/SSN)"),
    ("treatments", 2, "concomitant_systemic", "sorafenib, dossier 4471", "a hospital number"),
    ("adverse_events", 2, "ae_term", "Fatigue, seen by Dr Martin", "a name after a title"),
]


@pytest.mark.parametrize("case", PLANTED_TEXT, ids=[c[2] + "-" + c[4] for c in PLANTED_TEXT])
def test_identifier_in_free_text_is_refused_without_showing_it(case, tmp_path, capsys):
    table, row, column, text, what = case
    tables = valid_tables()
    set_cell(tables, table, row, column, text)
    folder = write_registry(tmp_path / "r", tables)
    problems = validate_registry(folder)
    hit = _matches(problems, table, row, column, f"direct identifier; remove it from the export "
                                                 f"(looks like {what}")
    assert len(hit) == 1, problems.to_string()
    masked = hit["value"].item()  # a masked excerpt (D38): located, never shown
    assert "▒▒▒" in masked
    assert main(["validate", str(folder)]) == 1
    shown = capsys.readouterr().out
    for secret in ("DUPONTZZ", "Jeanne", "80012345", "12/03/1952", "06 12 34 56 78",
                   "jean.dupont", "hopital.fr", "Martin", "1 52 03 75 123 456 78", "4471"):
        assert secret not in shown
        assert secret not in masked


@pytest.mark.parametrize("value", ["DUPONTZZ_1952-03-12", "IPP80099999", "mrn7654321",
                                   "P-12031952-1"])
def test_patient_id_that_is_not_a_pseudonym_is_refused(value, tmp_path):
    tables = valid_tables()
    for t in ("patients", "baseline", "workups", "treatments", "imaging_assessments", "labs",
              "adverse_events", "lesions", "post_dosimetry"):
        for r in tables[t][1:]:
            i = tables[t][0].index("patient_id")
            if r[i] == "P01":
                r[i] = value
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    hit = _matches(problems, "patients", 2, "patient_id", "identifier is not a pseudonym")
    assert len(hit) == 1
    assert hit["value"].tolist() == [""]


def test_session_id_with_a_hospital_number_is_refused(tmp_path):
    tables = valid_tables()
    set_cell(tables, "treatments", 2, "session_id", "MRN7654321-S1")
    set_cell(tables, "post_dosimetry", 2, "session_id", "MRN7654321-S1")
    set_cell(tables, "adverse_events", 2, "session_id", "MRN7654321-S1")
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    assert len(_matches(problems, "treatments", 2, "session_id",
                        "identifier is not a pseudonym")) == 1


@pytest.mark.parametrize("text", ["Fatigue", "General disorders and administration site conditions",
                                  "Respiratory, thoracic and mediastinal disorders", "Death NOS",
                                  "FOLFIRI_cetuximab", "atezolizumab 1200 mg q3w", "Pain grade 2"])
def test_ordinary_free_text_is_accepted(text, tmp_path):
    tables = valid_tables()
    set_cell(tables, "adverse_events", 2, "ae_term", text)
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    assert not problems["rule"].str.contains("identifier").any(), problems.to_string()


def test_demo_registry_ids_and_text_pass_the_identifier_rules():
    from sirtstats.demo import validate_registry as validate_with_demo

    problems = validate_with_demo("demo")
    assert not problems["rule"].str.contains("identifier").any()
