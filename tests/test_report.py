"""Unit tests of the report machinery that need no Jupyter kernel: periods, parameters,
publication, workbook, HTML guard, activity counts, index deltas."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import fake_tables  # noqa: E402

from sirtstats.report import (
    InvalidParameterError,
    Period,
    parse_period,
    publish,
    validate_parameters,
)
from sirtstats.report.activity import summarise_activity
from sirtstats.report.export import export_notebook_html, merge_metrics, write_tables_workbook
from sirtstats.report.index_html import IndexContent, flatten_metrics, metric_deltas, render_index
from sirtstats.report.params import (
    ParameterOverride,
    overrides_from_mapping,
    parameter_type,
    parse_assignment,
    report_level_overrides,
    resolve_notebook_parameters,
)

TODAY = dt.date(2026, 11, 27)


# --- periods -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "expected"), [
    (dt.date(2026, 11, 27), "2026Q3"),   # the brief's "today"
    (dt.date(2026, 10, 1), "2026Q3"),    # first day of Q4: Q3 has just completed
    (dt.date(2026, 9, 30), "2026Q2"),    # last day of Q3: Q3 not completed yet
    (dt.date(2026, 1, 15), "2025Q4"),    # year boundary
])
def test_auto_period_is_last_completed_quarter(today, expected):
    assert parse_period("auto", today=today).label == expected


@pytest.mark.parametrize(("label", "start", "end"), [
    ("2026Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    ("2024Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
    ("2025Q4", dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
    ("2025q2", dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
])
def test_period_bounds(label, start, end):
    p = parse_period(label)
    assert (p.start, p.end) == (start, end)


def test_period_previous_and_next_cross_years():
    assert Period(2026, 1).previous() == Period(2025, 4)
    assert Period(2025, 4).next() == Period(2026, 1)


@pytest.mark.parametrize("bad", ["2026Q5", "2026-Q3", "Q3 2026", "26Q3", "", "latest"])
def test_bad_period_is_rejected_with_the_value(bad):
    with pytest.raises(ValueError, match=r"'period' argument .* Got "):
        parse_period(bad)


# --- parameters --------------------------------------------------------------------------------

def test_defaults_cutoff_is_period_end():
    p = validate_parameters({"period": "auto"}, today=TODAY)
    assert p.period.label == "2026Q3"
    assert p.cutoff_date == dt.date(2026, 9, 30)
    # diagnoses/devices/criterion not set: None, so each notebook keeps its own default
    assert (p.data_path, p.diagnoses, p.devices, p.criterion) == ("demo", None, None, None)


def test_explicit_empty_filter_is_kept_apart_from_not_set():
    assert validate_parameters({"diagnoses": []}, today=TODAY).diagnoses == ()
    assert validate_parameters({"diagnoses": ""}, today=TODAY).diagnoses == ()


def test_explicit_cutoff_is_parsed():
    p = validate_parameters({"period": "2026Q3", "cutoff_date": "2026-08-15"})
    assert p.cutoff_date == dt.date(2026, 8, 15)
    p = validate_parameters({"period": "2026Q3", "cutoff_date": dt.date(2026, 8, 1)})
    assert p.cutoff_date == dt.date(2026, 8, 1)


@pytest.mark.parametrize(("raw", "pattern"), [
    ({"period": 2026}, r"'period' parameter .* Got 2026 instead"),       # papermill -p period 2026
    ({"period": "2026Q3", "cutoff_date": 20260930}, r"'cutoff_date' .*ISO date.* Got 20260930"),
    ({"period": "2026Q3", "cutoff_date": "30/09/2026"}, r"'cutoff_date'.*Got '30/09/2026'"),
    ({"diagnoses": ["HCC", 3]}, r"'diagnoses' parameter .* list of str"),
    ({"diagnoses": 5}, r"'diagnoses' parameter .* list of str. Got 5 instead"),
    ({"devices": ["Y90"]}, r"'devices' parameter .* one of \{'Y90_glass', 'Y90_resin', "
                           r"'Ho166_PLLA'\}. Got 'Y90' instead"),
    ({"criterion": "RECIST"}, r"'criterion' .* one of \{'RECIST_1_1', 'mRECIST'\}. Got 'RECIST'"),
    ({"data_path": 1}, r"'data_path' parameter .* a str. Got 1 instead"),
    ({"data_path": "/no/such/registry"}, r"'data_path' .*existing registry folder"),
    ({"quarter": "2026Q3"}, r"Unknown parameter\(s\) \['quarter'\]"),
])
def test_invalid_parameters_are_refused_before_anything_runs(raw, pattern):
    with pytest.raises(InvalidParameterError, match=pattern):
        validate_parameters(raw, today=TODAY)


def test_invalid_parameter_error_is_value_and_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


def test_enum_values_are_matched_case_insensitively_and_canonicalised():
    p = validate_parameters({"diagnoses": "hcc, MCRC", "devices": ["y90_GLASS", "Y90_glass"],
                             "criterion": "mrecist"}, today=TODAY)
    assert p.diagnoses == ("HCC", "mCRC")
    assert p.devices == ("Y90_glass",)
    assert p.criterion == "mRECIST"


def test_data_path_folder_is_made_absolute(tmp_path, monkeypatch):
    (tmp_path / "reg").mkdir()
    monkeypatch.chdir(tmp_path)
    p = validate_parameters({"data_path": "reg"}, today=TODAY)
    assert p.data_path == str((tmp_path / "reg").resolve())


def test_for_notebook_passes_only_declared_names_and_json_types():
    p = validate_parameters({"period": "2026Q3", "diagnoses": ["HCC"]})
    got = p.for_notebook({"data_path", "cutoff_date", "output_dir", "diagnoses", "devices",
                          "criterion", "my_own"}, output_dir="/r/x")
    # devices and criterion are not set: the notebook keeps its own defaults
    assert got == {"data_path": "demo", "cutoff_date": "2026-09-30", "output_dir": "/r/x",
                   "diagnoses": ["HCC"]}
    p2 = validate_parameters({"period": "2026Q3", "criterion": "RECIST_1_1"})
    assert p2.for_notebook({"criterion"}, output_dir="x") == {"criterion": "RECIST_1_1"}
    assert json.loads(json.dumps(p.to_dict()))["cutoff_date"] == "2026-09-30"


def test_for_notebook_without_user_filters_injects_only_runner_parameters():
    """Issue 11 item 4: `sirtstats report` must not inject diagnoses=[] over 05's HCC."""
    p = validate_parameters({"period": "2026Q3"})
    got = p.for_notebook({"period", "data_path", "cutoff_date", "output_dir", "diagnoses",
                          "devices", "criterion"}, output_dir="/r/x")
    assert got == {"period": "2026Q3", "data_path": "demo", "cutoff_date": "2026-09-30",
                   "output_dir": "/r/x"}
    # an explicit [] is a choice (all diagnoses, 05 included) and is injected
    p_all = validate_parameters({"period": "2026Q3", "diagnoses": []})
    assert p_all.for_notebook({"diagnoses"}, output_dir="x") == {"diagnoses": []}


# --- notebook parameters (-p, --config) --------------------------------------------------------

def _info(annotation, default):
    return {"inferred_type_name": annotation, "default": default, "help": ""}


#: Two notebooks' parameters cells, as runner.read_notebook_parameters reads them.
DECLARED = {
    "03_survival": {
        "data_path": _info("str", '"demo"'), "cutoff_date": _info("str", '"2026-09-30"'),
        "output_dir": _info("str", '""'), "diagnoses": _info("list", "[]"),
        "criterion": _info("str", '"RECIST_1_1"'), "strata": _info("str", '"albi_grade"'),
        "landmark_months": _info("list", "[3, 6]"),
        "km_ticks_months": _info("list[float]", "[0, 6]"),
    },
    "04_toxicity": {
        "data_path": _info("str", '"demo"'), "cutoff_date": _info("str", '"2026-09-30"'),
        "output_dir": _info("str", '""'), "diagnoses": _info("list", "[]"),
        "window_days": _info("int", "90"), "strata": _info("str", '"device"'),
        "threshold_gy": _info("None", "205.0"), "confirm": _info("bool", "True"),
        "first_sirt_from": _info("str | None", "None"),
    },
}


def _resolve(*texts):
    return resolve_notebook_parameters(DECLARED, [parse_assignment(t) for t in texts])


@pytest.mark.parametrize(("info", "expected"), [
    (_info("str", '"x"'), "str"),
    (_info("int", "90"), "int"),
    (_info("bool", "True"), "bool"),
    (_info("list", "[3, 6]"), "list of int"),
    (_info("list", "[120.0, 205]"), "list of float"),
    (_info("list", '["a"]'), "list of str"),
    (_info("list", "[]"), "list of str"),
    (_info("list[float]", "[0, 6]"), "list of float"),
    (_info("None", "205.0"), "float"),            # no annotation: the default's type
    (_info("str | None", "None"), "str | None"),
    (_info("Optional[int]", "None"), "int | None"),
])
def test_parameter_type_from_annotation_else_default(info, expected):
    assert str(parameter_type(info)) == expected


def test_notebook_parameters_are_typed_from_text():
    got = _resolve("window_days=30", "threshold_gy=150", "confirm=no",
                   "landmark_months=3,6,12", "km_ticks_months=[0, 12]", "diagnoses=hcc,MCRC",
                   "first_sirt_from=null", "03:criterion=mrecist")
    assert got == {
        "03_survival": {"landmark_months": [3, 6, 12], "km_ticks_months": [0.0, 12.0],
                        "diagnoses": ["HCC", "mCRC"], "criterion": "mRECIST"},
        "04_toxicity": {"window_days": 30, "threshold_gy": 150.0, "confirm": False,
                        "diagnoses": ["HCC", "mCRC"], "first_sirt_from": None},
    }
    assert type(got["04_toxicity"]["threshold_gy"]) is float


def test_global_parameter_goes_to_every_notebook_declaring_it_and_one_notebook_wins():
    got = _resolve("03:strata=primary_tumour", "strata=ecog")  # order does not matter
    assert got == {"03_survival": {"strata": "primary_tumour"}, "04_toxicity": {"strata": "ecog"}}
    assert _resolve("strata=a", "strata=b")["04_toxicity"] == {"strata": "b"}  # last one wins
    assert _resolve("03_survival:strata=x") == {"03_survival": {"strata": "x"},
                                                "04_toxicity": {}}
    assert _resolve("diagnoses=", "04:diagnoses=[]")["03_survival"] == {"diagnoses": []}


def test_typed_values_from_yaml_are_checked_too():
    import yaml

    config = yaml.safe_load("window_days: 30\nfirst_sirt_from: 2024-01-01\n"
                            "'03': {landmark_months: [3, 12]}\n03:strata: ecog\n")
    got = resolve_notebook_parameters(DECLARED, overrides_from_mapping(config))
    assert got == {"03_survival": {"landmark_months": [3, 12], "strata": "ecog"},
                   "04_toxicity": {"window_days": 30, "first_sirt_from": "2024-01-01"}}
    with pytest.raises(InvalidParameterError, match=r"'window_days' parameter of notebook "
                                                    r"04_toxicity must be an int.*Got True"):
        resolve_notebook_parameters(DECLARED, overrides_from_mapping({"window_days": True}))


def test_unknown_name_is_refused_with_the_valid_names():
    with pytest.raises(InvalidParameterError, match=r"Unknown parameter 'strat' \(-p strat=x\)"
                                                    r": no report notebook declares it") as info:
        _resolve("strat=x")
    message = str(info.value)
    assert "03_survival: diagnoses, criterion, strata, landmark_months, km_ticks_months" in message
    assert "04_toxicity: diagnoses, window_days, strata, threshold_gy, confirm" in message
    assert "cutoff_date (--cutoff)" in message   # the runner's own, listed apart
    with pytest.raises(InvalidParameterError, match=r"Unknown parameter 'window_days' for "
                                                    r"notebook 03_survival") as info:
        _resolve("03:window_days=30")
    assert "strata: str = \"albi_grade\"" in str(info.value)
    with pytest.raises(InvalidParameterError, match=r"Unknown notebook '09' .*\['03_survival', "
                                                    r"'04_toxicity'\]"):
        _resolve("09:strata=x")


@pytest.mark.parametrize(("text", "pattern"), [
    ("window_days=30days", r"'window_days' parameter of notebook 04_toxicity must be an int "
                           r"\(declared window_days: int = 90\). Got '30days' instead"),
    ("window_days=30.5", r"must be an int"),
    ("threshold_gy=high", r"'threshold_gy' .* must be a number"),
    ("threshold_gy=inf", r"'threshold_gy' .* must be a number"),
    ("confirm=maybe", r"'confirm' .* must be true or false"),
    ("landmark_months=3,x", r"'landmark_months' .* must be a list of int .*Got '3,x'"),
    ("landmark_months=[3, [6]]", r"must be a list of int"),
    ("03:criterion=RECIST", r"'criterion' .* must be one of \{'RECIST_1_1', 'mRECIST'\}"),
    ("diagnoses=HCC,lung", r"'diagnoses' .* a list of values from \{'HCC'"),
])
def test_wrong_type_is_refused_with_declared_type_and_value(text, pattern):
    with pytest.raises(InvalidParameterError, match=pattern) as info:
        _resolve(text)
    assert "Notebook parameters" in str(info.value)   # and the valid names with their types


@pytest.mark.parametrize("name", ["data_path", "cutoff_date", "output_dir", "period"])
def test_runner_parameters_cannot_be_set_with_p(name):
    with pytest.raises(InvalidParameterError, match=rf"'{name}' parameter is set by the runner"):
        _resolve(f"{name}=x")
    with pytest.raises(InvalidParameterError, match="set by the runner"):
        _resolve(f"03:{name}=x")


@pytest.mark.parametrize("bad", ["strata", "=x", "3strata=x", "03:=x"])
def test_assignment_needs_name_equals_value(bad):
    with pytest.raises(InvalidParameterError, match=r"takes NAME=VALUE or NOTEBOOK:NAME=VALUE"):
        parse_assignment(bad)


def test_assignment_value_may_hold_colons_and_equals():
    o = parse_assignment("note=a:b=c")
    assert (o.notebook, o.name, o.value) == (None, "note", "a:b=c")


def test_report_level_names_given_globally_become_report_parameters():
    report, rest = report_level_overrides([parse_assignment("diagnoses=[]"),
                                           parse_assignment("devices=y90_glass,Y90_resin"),
                                           parse_assignment("criterion=mRECIST"),
                                           parse_assignment("05:diagnoses=HCC"),
                                           parse_assignment("strata=ecog")])
    assert report == {"diagnoses": [], "devices": ["y90_glass", "Y90_resin"],
                      "criterion": "mRECIST"}
    assert [(o.notebook, o.name) for o in rest] == [("05", "diagnoses"), (None, "strata")]
    p = validate_parameters(report, today=TODAY)
    assert (p.diagnoses, p.devices) == ((), ("Y90_glass", "Y90_resin"))


def test_overrides_from_mapping_refuses_non_mappings():
    with pytest.raises(InvalidParameterError, match="'parameters' block .* must be a mapping"):
        overrides_from_mapping(["strata=x"])
    with pytest.raises(InvalidParameterError, match="'03' block .* must be a mapping"):
        overrides_from_mapping({"03": "strata"})
    assert overrides_from_mapping({3: {"strata": "x"}}) == [
        ParameterOverride("strata", "x", "03", origin="config")]   # YAML reads 03 as 3


# --- publication -------------------------------------------------------------------------------

def _folder(path: Path, text: str) -> Path:
    path.mkdir(parents=True)
    (path / "index.html").write_text(text)
    (path / "sub").mkdir()
    (path / "sub" / "x.csv").write_text(text)
    return path


def test_publish_into_empty_root(tmp_path):
    attempt = _folder(tmp_path / ".2026Q3.tmp-1", "new")
    publish.publish_attempt(attempt, tmp_path / "2026Q3")
    assert (tmp_path / "2026Q3" / "index.html").read_text() == "new"
    assert not attempt.exists()


def test_publish_replaces_existing_report_whole(tmp_path):
    old = _folder(tmp_path / "2026Q3", "old")
    (old / "only_in_old.txt").write_text("stale")
    attempt = _folder(tmp_path / ".2026Q3.tmp-1", "new")
    publish.publish_attempt(attempt, tmp_path / "2026Q3")
    assert (tmp_path / "2026Q3" / "index.html").read_text() == "new"
    assert (tmp_path / "2026Q3" / "sub" / "x.csv").read_text() == "new"
    assert not (tmp_path / "2026Q3" / "only_in_old.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026Q3"]


def test_publish_fallback_two_renames_when_exchange_unsupported(tmp_path, monkeypatch):
    monkeypatch.setattr(publish, "_exchange", lambda a, b: False)
    _folder(tmp_path / "2026Q3", "old")
    attempt = _folder(tmp_path / ".2026Q3.tmp-1", "new")
    publish.publish_attempt(attempt, tmp_path / "2026Q3")
    assert (tmp_path / "2026Q3" / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026Q3"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_clean_stale_attempts_removes_dead_runs_only(tmp_path):
    dead = _dead_pid()
    alive = os.getppid()
    _folder(tmp_path / f".2026Q3.tmp-{dead}", "x")
    _folder(tmp_path / f".2026Q3.tmp-{alive}", "x")
    _folder(tmp_path / f".2026Q2.tmp-{dead}", "x")   # another period: not ours to clean
    _folder(tmp_path / "2026Q3", "good")
    removed = publish.clean_stale_attempts(tmp_path, "2026Q3")
    assert [p.name for p in removed] == [f".2026Q3.tmp-{dead}"]
    assert (tmp_path / f".2026Q3.tmp-{alive}").exists()
    assert (tmp_path / f".2026Q2.tmp-{dead}").exists()
    assert (tmp_path / "2026Q3" / "index.html").read_text() == "good"


def test_clean_stale_attempts_restores_backup_left_between_fallback_renames(tmp_path):
    dead = _dead_pid()
    _folder(tmp_path / f".2026Q3.old-{dead}", "good")
    publish.clean_stale_attempts(tmp_path, "2026Q3")
    assert (tmp_path / "2026Q3" / "index.html").read_text() == "good"


def test_keep_failed_attempt_moves_it_with_error_text(tmp_path):
    attempt = _folder(tmp_path / ".2026Q3.tmp-1", "partial")
    kept = publish.keep_failed_attempt(attempt, tmp_path, "2026Q3", "boom",
                                       now=dt.datetime(2026, 11, 27, 3, 4, 5))
    assert kept == tmp_path / "_failed" / "2026Q3-20261127T030405"
    assert (kept / "error.txt").read_text() == "boom\n"
    assert not attempt.exists()


# --- workbook, metrics -------------------------------------------------------------------------

def _write_csvs(folder: Path):
    folder.mkdir()
    (folder / "01_flow.csv").write_text("step,n,patient_id\nscreened,12,007\nincluded,10.5,P1\n")
    long = "02_" + "x" * 40
    (folder / f"{long}.csv").write_text("a,b\n1,\n")
    (folder / f"{long}y.csv").write_text("a\n2\n")
    return long


def test_workbook_is_byte_identical_across_writes_and_typed(tmp_path):
    import openpyxl

    long = _write_csvs(tmp_path / "tables")
    a = write_tables_workbook(tmp_path / "tables", tmp_path / "a.xlsx").read_bytes()
    b = write_tables_workbook(tmp_path / "tables", tmp_path / "b.xlsx").read_bytes()
    assert a == b
    wb = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert wb.sheetnames[0] == "contents"
    assert len(wb.sheetnames) == 4
    assert all(len(n) <= 31 for n in wb.sheetnames)
    assert len(set(wb.sheetnames)) == 4
    flow = wb["01_flow"]
    assert [c.value for c in flow[2]] == ["screened", 12, "007"]   # leading zero kept as text
    assert [c.value for c in flow[3]] == ["included", 10.5, "P1"]
    contents = [[c.value for c in row] for row in wb["contents"].iter_rows(min_row=2)]
    # sheet, title (the stem without a table sidecar), kind, file, rows
    assert contents[0] == ["01_flow", "01_flow", "data", "tables/01_flow.csv", 2]
    assert contents[1][3] == f"tables/{long}.csv"
    with zipfile.ZipFile(io.BytesIO(a)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "2000-01-01T00:00:00Z" in z.read("docProps/core.xml").decode()


def test_workbook_none_without_tables(tmp_path):
    assert write_tables_workbook(tmp_path / "missing", tmp_path / "t.xlsx") is None
    assert not (tmp_path / "t.xlsx").exists()


def test_merge_metrics_keys_by_notebook(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "02_b.json").write_text('{"x": 1}')
    (tmp_path / "m" / "01_a.json").write_text('{"n": 3, "s": {"y": 2}}')
    got = merge_metrics(tmp_path / "m", extra={"registry": {"n": 9}})
    assert got == {"01_a": {"n": 3, "s": {"y": 2}}, "02_b": {"x": 1}, "registry": {"n": 9}}


# --- HTML export guard -------------------------------------------------------------------------

def test_html_export_has_no_code_and_refuses_external_resources(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"),
                nbformat.v4.new_code_cell("secret_code_line = 41 + 1", outputs=[
                    nbformat.v4.new_output("execute_result", {"text/plain": "42"},
                                           execution_count=1)])]
    nbformat.write(nb, str(tmp_path / "ok.ipynb"))
    html = export_notebook_html(tmp_path / "ok.ipynb", tmp_path / "ok.html").read_text()
    assert "secret_code_line" not in html
    assert "42" in html
    assert "require.min.js" not in html
    assert "mathjax" not in html.lower().split("</style>")[-1]
    nb.cells[1].outputs = [nbformat.v4.new_output(
        "display_data", {"text/html": '<script src="https://cdn.example.org/x.js"></script>'})]
    nbformat.write(nb, str(tmp_path / "bad.ipynb"))
    with pytest.raises(RuntimeError, match="external resource"):
        export_notebook_html(tmp_path / "bad.ipynb", tmp_path / "bad.html")


# --- activity counts and index -----------------------------------------------------------------

def test_activity_counts_hand_computed():
    tables = fake_tables()
    total = summarise_activity(tables, end=dt.date(2026, 9, 30))
    assert total == {"n_patients_treated": 4, "n_sirt_sessions": 5, "n_imaging_assessments": 2,
                     "n_reported_progressions": 1, "n_adverse_events": 3,
                     "n_adverse_events_grade3plus": 2, "n_deaths": 1}
    new = summarise_activity(tables, start=dt.date(2026, 6, 30), end=dt.date(2026, 9, 30))
    assert new == {"n_patients_treated": 2, "n_sirt_sessions": 3, "n_imaging_assessments": 1,
                   "n_reported_progressions": 1, "n_adverse_events": 2,
                   "n_adverse_events_grade3plus": 1, "n_deaths": 1}
    only = summarise_activity(tables, start=dt.date(2026, 6, 30), end=dt.date(2026, 9, 30),
                              patient_ids={"P1"})
    assert (only["n_patients_treated"], only["n_sirt_sessions"], only["n_adverse_events"]) == \
        (0, 1, 1)


def test_activity_does_not_modify_tables():
    tables = fake_tables()
    before = {k: v.copy() for k, v in tables.items()}
    summarise_activity(tables, start=dt.date(2026, 6, 30), end=dt.date(2026, 9, 30))
    for k in tables:
        pd.testing.assert_frame_equal(tables[k], before[k])


def test_metric_deltas_numeric_leaves_only():
    cur = {"01": {"n": 12, "orr": 0.5, "label": "x", "sub": {"k": 3}}, "02": {"new": 1}}
    prev = {"01": {"n": 10, "orr": 0.25, "label": "y", "sub": {"k": 3}}}
    assert flatten_metrics(cur)["01.sub.k"] == 3
    assert metric_deltas(cur, prev) == [
        {"key": "01.n", "previous": 10, "current": 12, "delta": 2},
        {"key": "01.orr", "previous": 0.25, "current": 0.5, "delta": 0.25},
        {"key": "01.sub.k", "previous": 3, "current": 3, "delta": 0},
    ]


def test_index_escapes_values_and_shows_changes():
    content = IndexContent(
        period="2026Q3", cutoff_date="2026-09-30", data_source="demo <registry>",
        diagnoses=["HCC"], devices=[], criterion=None,
        metrics={"01_cohort": {"n_included": 42, "note": "<b>x</b>"}},
        activity={"n_patients_treated": 50},
        notebooks=[("01_cohort", "Cohort & flow")], tables=["01_flow"], figures=["01_bar"],
        has_workbook=True,
        previous={"period": "2026Q2", "cutoff_date": "2026-06-30",
                  "new": {"n_patients_treated": 7},
                  "deltas": [{"key": "01_cohort.n_included", "previous": 35, "current": 42,
                              "delta": 7}]})
    page = render_index(content)
    assert "<b>x</b>" not in page
    assert "demo &lt;registry&gt;" in page
    assert "Cohort &amp; flow" in page
    assert "Changes since 2026Q2" in page
    assert "+7" in page
    assert "<strong>42</strong> patients included" in page
    assert "<script" not in page
    assert "http" not in page
    assert "href='tables.xlsx'" in page
    assert "href='figures/01_bar.svg'" in page


# --- headline formatting (expected strings written by hand) ------------------------------------

def test_format_pct_ci_one_decimal_en_dash():
    from sirtstats.report.index_html import format_pct_ci

    assert format_pct_ci(21.3559322, 16.81846094, 26.47900566) == "21.4 % (16.8–26.5)"
    assert format_pct_ci(0.34, 0.0086, 1.87) == "0.3 % (0.0–1.9)"
    assert format_pct_ci(100.0, 88.4, 100.0) == "100.0 % (88.4–100.0)"
    assert format_pct_ci(3.08, None, 5.77) == "3.1 %"  # no half CI
    assert format_pct_ci(None) == "—"
    assert format_pct_ci(float("nan"), 1.0, 2.0) == "—"


def test_format_months_ci_nr_where_not_reached():
    from sirtstats.report.index_html import format_months_ci

    assert format_months_ci(15.17864476, 13.30595483, 16.59137577) == \
        "15.2 months (13.3–16.6)"
    assert format_months_ci(6.439425051, 5.223819302, 7.063655031) == "6.4 months (5.2–7.1)"
    assert format_months_ci(18.04, 12.5, None) == "18.0 months (12.5–NR)"
    assert format_months_ci(float("nan"), 20.0, float("nan")) == "NR (20.0–NR)"
    assert format_months_ci(None, None, None) == "NR"


def test_format_count_pct_and_delta_carry_units():
    from sirtstats.report.index_html import format_count_pct, format_delta

    assert format_count_pct(45, 15.25423729) == "45 (15.3 %)"
    assert format_count_pct(1184, None) == "1 184"
    # 21.36 -> 22.0 %: shown 21.4 % -> 22.0 %, a change of 0.6 percentage points
    assert format_delta(21.36, 22.0, "pct") == "+0.6 pp"
    # surv 0.5886 -> 0.5587: 58.9 % -> 55.9 %
    assert format_delta(0.5886, 0.5587, "prop") == "−3.0 pp"
    assert format_delta(15.18, 14.01, "months") == "−1.2 months"
    assert format_delta(280, 295, "count") == "+15"
    assert format_delta(21.36, 21.41, "pct") == "no change"  # both shown as 21.4 %
    assert format_delta(None, 3.0, "pct") == "—"
    with pytest.raises(ValueError, match="Got 'gy' instead"):
        format_delta(1, 2, "gy")


def _demo_like_metrics():
    """Numbers of the 2026Q3 demo report (metrics.json), abridged."""
    return {
        "01_cohort": {"n_included": 295, "n_registry": 300, "n_excluded": 5,
                      "n_by_diagnosis": {"HCC": 171, "ICC": 27}},
        "02_response": {"RECIST_1_1": {"n": 295, "n_responders": 63, "orr_pct": 21.36,
                                       "dcr_pct": 79.32},
                        "settings": {"confirm": True},
                        "rate_ci_pct": {"RECIST_1_1": {
                            "n_disease_control": 234, "orr_ci_lower_pct": 16.81846094,
                            "orr_ci_upper_pct": 26.47900566, "dcr_ci_lower_pct": 74.24638657,
                            "dcr_ci_upper_pct": 83.79790735}}},
        "03_survival": {"km": {"OS": {"n": 295, "n_events": 246, "median": 15.17864476,
                                      "median_lower": 13.30595483, "median_upper": 16.59137577,
                                      "surv_12": 0.5886497517, "surv_24": 0.2467786971},
                               "TTP": {"n": 295, "n_events": 168, "median": None,
                                       "median_lower": 20.0, "median_upper": None}},
                        "km_landmark_ci": {"OS": {"surv_12_lower": 0.5279544609,
                                                  "surv_12_upper": 0.6442669019}},
                        "median_followup_months": 75.1},
        "04_toxicity": {"n_patients": 295, "n_grade3plus_teae": 45,
                        "pct_grade3plus_teae": 15.25423729, "window_days": 90,
                        "mortality_30d_pct": 3.082191781, "mortality_30d_ci_low_pct": 1.41886789,
                        "mortality_30d_ci_high_pct": 5.770131253, "mortality_30d_n_deaths": 9,
                        "mortality_30d_n_evaluable": 292, "n_reild_candidates": 4,
                        "n_reild_reported": 9, "reild_definition": "sangro"},
    }


def test_headline_rows_read_as_a_clinician_writes_them():
    from sirtstats.report.index_html import headline_rows

    got = {r["label"]: (r["value"], r["detail"]) for r in headline_rows(_demo_like_metrics())}
    assert got == {
        "Patients included": ("295", ""),
        "ORR, RECIST 1.1": ("21.4 % (16.8–26.5)", "63 of 295 evaluable"),
        "DCR, RECIST 1.1": ("79.3 % (74.2–83.8)", "234 of 295 evaluable"),
        "Median overall survival": ("15.2 months (13.3–16.6)",
                                    "246 events in 295 patients"),
        "Median time to progression": ("NR (20.0–NR)", "168 events in 295 patients"),
        "Overall survival at 12 months": ("58.9 % (52.8–64.4)", ""),
        "Overall survival at 24 months": ("24.7 %", ""),  # CI not recorded: no CI
        "Grade ≥ 3 treatment-emergent AE (CTCAE v5.0)": (
            "45 (15.3 %)", "of 295 patients; window: first SIRT to last session + 90 days"),
        "30-day mortality after first SIRT": ("3.1 % (1.4–5.8)",
                                              "9 deaths of 292 evaluable"),
        "REILD": ("4 (1.4 %)", "screening-rule candidates (Sangro definition); "
                               "9 reported by the sites"),
    }


def test_index_changes_are_rounded_with_units_and_settings_apart():
    metrics = _demo_like_metrics()
    previous = _demo_like_metrics()
    previous["02_response"]["RECIST_1_1"]["orr_pct"] = 22.0
    previous["03_survival"]["km"]["OS"]["median"] = 14.01
    previous["04_toxicity"]["window_days"] = 0
    content = IndexContent(
        period="2026Q3", cutoff_date="2026-09-30", data_source="demo registry", diagnoses=[],
        devices=[], criterion=None, metrics=metrics, activity={}, figures=["03_km_os"],
        notebooks=[("03_survival", "Survival")],
        previous={"period": "2026Q2", "cutoff_date": "2026-06-30", "new": {},
                  "deltas": metric_deltas(metrics, previous)},
        previous_metrics=previous, figure_links={"03_km_os": "notebooks/03_survival.html#x"})
    page = render_index(content)
    assert ("<tr><td>ORR, RECIST 1.1</td><td class=num>22.0 %</td><td class=num>21.4 %</td>"
            "<td class=num>−0.6 pp</td></tr>") in page
    assert ("<tr><td>Median overall survival</td><td class=num>14.0 months</td>"
            "<td class=num>15.2 months</td><td class=num>+1.2 months</td></tr>") in page
    # a setting is not a result: no "window days" delta row, a warning instead
    assert "window days</td>" not in page
    assert "window days 0 &rarr; 90" in page
    assert "<td class=value>21.4 % (16.8–26.5)</td>" in page
    assert "<a href='notebooks/03_survival.html#x'><img src='figures/03_km_os.png'" in page
    assert not re.search(r"\bnan\b", page, re.IGNORECASE)
    assert "{" not in page.split("<body>", 1)[1]


def test_back_link_is_added_once(tmp_path):
    from sirtstats.report.index_html import add_back_link

    page = tmp_path / "01_cohort.html"
    page.write_text("<html><body class='jp-Notebook'><p>x</p></body></html>")
    add_back_link(page, period="2026Q3")
    add_back_link(page, period="2026Q3")
    text = page.read_text()
    assert text.count("href='../index.html'") == 2  # top and bottom, not four times
    assert text.index("href='../index.html'") < text.index("<p>x</p>")
    assert "Report 2026Q3: summary" in text


def test_figure_links_point_at_the_section_heading(tmp_path):
    from sirtstats.report.index_html import figure_links

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Overall survival", id="h-os"),
                nbformat.v4.new_code_cell('save_figure(ax, "03_km_os", output_dir=d)', id="c1"),
                nbformat.v4.new_markdown_cell("Some text, no heading", id="t1"),
                nbformat.v4.new_code_cell("save_figure(ax, '03_km_pfs', output_dir=d)", id="c2")]
    nbformat.write(nb, str(tmp_path / "03_survival.ipynb"))
    assert figure_links(tmp_path, ["03_km_os", "03_km_pfs", "03_other"]) == {
        "03_km_os": "notebooks/03_survival.html#cell-id=h-os",
        "03_km_pfs": "notebooks/03_survival.html#cell-id=h-os",
    }


def test_package_import_is_light():
    code = ("import sys, sirtstats.report; "
            "print(sorted(m for m in ('papermill','nbconvert','openpyxl','matplotlib',"
            "'lifelines','sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_benchmark_floor_keeps_parameters_and_imports_only(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_report

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"),
                nbformat.v4.new_code_cell("x: int = 1  # p", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import pandas as pd\nfrom os import path"),
                nbformat.v4.new_code_cell("import pandas as pd\ndf = pd.DataFrame()"),
                nbformat.v4.new_code_cell("df")]
    (tmp_path / "src").mkdir()
    nbformat.write(nb, str(tmp_path / "src" / "01_t.ipynb"))
    (floor,) = bench_report.make_floor_notebooks(tmp_path / "src", tmp_path / "floor")
    got = [c.source for c in nbformat.read(str(floor), as_version=4).cells]
    assert got == ["# T", "x: int = 1  # p", "import pandas as pd\nfrom os import path", "", ""]


def test_sirtstats_cli_has_the_report_subcommand(capsys):
    from sirtstats.cli import main

    assert main(["report", "--period", "2026Q9"]) == 2
    assert "Got '2026Q9' instead" in capsys.readouterr().err
    assert main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--period" in out
    assert "--quiet" in out
    assert "exit status" in out


def test_parallel_start_order_is_longest_first_from_latest_report(tmp_path):
    from sirtstats.report.runner import order_longest_first

    paths = [Path(f"{n}.ipynb") for n in ("01_a", "02_b", "03_c", "04_new")]
    assert order_longest_first(paths, tmp_path) == paths  # no previous report, unknown names
    bundled = [Path(f"{n}.ipynb") for n in ("01_cohort", "03_survival", "07_comparative", "x")]
    assert [p.stem for p in order_longest_first(bundled, tmp_path)] == [  # typical times
        "x", "03_survival", "07_comparative", "01_cohort"]
    for period, timings in (("2026Q1", {"01_a": 99.0, "02_b": 1.0, "03_c": 1.0}),
                            ("2026Q2", {"01_a": 2.0, "02_b": 9.0, "03_c": 5.0})):
        (tmp_path / period).mkdir()
        manifest = {"timings_s": {k: {"execute": v, "html": 0.1} for k, v in timings.items()}
                    | {"total": 20.0}}
        (tmp_path / period / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "_failed").mkdir()
    got = [p.stem for p in order_longest_first(paths, tmp_path)]
    assert got == ["04_new", "02_b", "03_c", "01_a"]  # unknown first, then by 2026Q2 times


def test_metric_labels_read_as_clinicians_write_them():
    from sirtstats.report.index_html import metric_label

    assert metric_label("RECIST_1_1.orr_pct") == "RECIST 1.1 · ORR %"
    assert metric_label("mRECIST.cr_rate_pct") == "mRECIST · CR rate %"
    assert metric_label("km.OS.median_lower") == "KM · OS · median lower"
    assert metric_label("d50_gy") == "D50 (Gy)"


def test_index_population_names_a_notebook_whose_own_default_restricts_it():
    from sirtstats.report.index_html import IndexContent, _population

    content = IndexContent(
        period="2026Q3", cutoff_date="2026-09-30", data_source="demo", diagnoses=[], devices=[],
        criterion=None, metrics={}, activity={},
        notebooks=[("05_dosimetry", "05 · Dosimetry")],
        notebook_parameters={"05_dosimetry": {"diagnoses": '["HCC"]', "devices": "None"},
                             "03_survival": {"strata": '"albi_grade"'}})
    population = _population(content)
    assert population["diagnoses"] == (
        "all diagnoses (except 05 · Dosimetry: HCC only, the notebook's own default)")
    assert population["devices"] == "all devices"
    # a filter the user set is shown as set
    content.diagnoses = ["ICC"]
    assert _population(content)["diagnoses"] == "iCCA"


def test_index_analysis_parameters_leave_out_the_runner_plumbing():
    from sirtstats.report._index_sections import IndexContent, _settings

    content = IndexContent(
        period="2026Q3", cutoff_date="2026-09-30", data_source="demo", diagnoses=[], devices=[],
        criterion=None, metrics={}, activity={}, notebooks=[("03_survival", "03 · Survival")],
        notebook_parameters={"03_survival": {"strata": '"albi_grade"', "data_path": '"demo"',
                                             "snapshot_path": '"reports/2026Q3/_snapshot"'}})
    assert _settings(content)["notebooks"] == [("03_survival", [("strata", '"albi_grade"')])]


def test_statistical_warnings_read_as_notes_on_a_notebook_page(tmp_path):
    from sirtstats.report.index_html import add_back_link

    page = tmp_path / "03_survival.html"
    page.write_text("<html><head></head><body><div class='jp-RenderedText' data-mime-type="
                    "'application/vnd.jupyter.stderr'><pre>SirtStatsWarning: summarise_km: "
                    "fewer than 10 patients.</pre></div></body></html>")
    add_back_link(page, period="2026Q3")
    text = page.read_text()
    assert "<pre>Note: summarise_km: fewer than 10 patients.</pre>" in text
    assert "SirtStatsWarning" not in text
    assert text.index("<style>") < text.index("</head>")
    add_back_link(page, period="2026Q3")
    assert page.read_text().count("<style>") == 1
