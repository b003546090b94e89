"""Disclosure control (issue #13 items 5-6; decisions D38-D41, rule T4.5).

Hand-computed suppression cases, the shareable behaviour of tables, listings, figures and key
numbers, the CTCAE term coding, the schema-driven identifier scan of every free-text column, and
the report parameters. The end-to-end shareable report is in test_disclosure_report.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _registry_fixture import set_cell, valid_tables, write_registry  # noqa: E402

from sirtstats import disclosure as dc  # noqa: E402
from sirtstats.ctcae_terms import (  # noqa: E402
    UNCODED_LABEL,
    code_adverse_events,
    code_terms,
    list_uncoded_terms,
    load_ctcae_terms,
)


@pytest.fixture(autouse=True)
def _internal_after():
    yield
    dc.set_disclosure("internal")


def _mask(rows, threshold=5):
    return dc.suppression_mask(pd.DataFrame(rows), threshold).to_numpy().tolist()


# --------------------------------------------------------------------------- D41 algorithm

def test_no_small_cell_nothing_suppressed_and_zeros_are_shown():
    assert _mask([[0, 12], [7, 0]]) == [[False, False], [False, False]]


def test_single_small_cell_gets_a_row_and_a_column_complement():
    # 3 is primary; row 0 then holds one suppressed cell: next smallest positive = 8 (col b);
    # column a holds one (3): next smallest = 6 (row 1); column b holds one (8): next = 9;
    # row 1 now holds two (6, 9): done.
    rows = [[3, 8, 20], [6, 9, 30]]
    assert _mask(rows) == [[True, True, False], [True, True, False]]


def test_complement_prefers_a_positive_cell_over_a_zero():
    assert _mask([[2, 0, 11, 13]]) == [[True, False, True, False]]


def test_two_small_cells_in_a_line_need_no_complement_in_that_line():
    assert _mask([[1, 2, 40]]) == [[True, True, False]]


def test_threshold_is_a_parameter():
    assert _mask([[5, 10]], threshold=5) == [[False, False]]
    assert _mask([[5, 10, 30]], threshold=6) == [[True, True, False]]


def test_non_count_cells_are_left_alone():
    rows = pd.DataFrame({"a": [2.0, float("nan")], "b": [float("nan"), 30.0],
                         "c": [17.0, 40.0]})
    # 2 primary -> row 0 complement 17 -> column c complement 40 -> row 1 complement 30;
    # column b then has one count cell only (nothing to pair with); NaN cells never change
    assert dc.suppression_mask(rows).to_numpy().tolist() == [[True, False, True],
                                                             [False, True, True]]


# --------------------------------------------------------------------------- display tables

def _ae_table():
    return pd.DataFrame({
        "ae_term": ["Any adverse event", "Ascites", "Fatigue", "Nausea"],
        "N": ["40", "40", "40", "40"],
        "any_grade": ["20 (50.0 %)", "3 (7.5 %)", "12 (30.0 %)", "8 (20.0 %)"],
        "grade_3plus": ["6 (15.0 %)", "1 (2.5 %)", "0 (0.0 %)", "5 (12.5 %)"],
    })


def test_report_table_suppresses_small_cells_only_in_shareable_mode():
    from sirtstats.tables import report_table

    internal = report_table(_ae_table(), "AE").to_frame()
    assert "3 (7.5 %)" in internal.to_numpy()
    dc.set_disclosure("shareable")
    t = report_table(_ae_table(), "AE")
    data = t.data
    assert data.loc[1, "any_grade"] == "[c]"
    assert data.loc[1, "grade_3plus"] == "[c]"
    # column complements: 8 (next smallest of any_grade), 5 (of grade_3plus)
    assert data.loc[3, "any_grade"] == "[c]"
    assert data.loc[3, "grade_3plus"] == "[c]"
    assert data.loc[2, "grade_3plus"] == "0 (0.0 %)"
    assert data.loc[0, "any_grade"] == "20 (50.0 %)"
    assert any("[c]" in note for note in t.footnotes)


def test_a_column_of_a_small_group_is_suppressed_whole():
    from sirtstats.tables import report_table

    dc.set_disclosure("shareable")
    frame = pd.DataFrame({"characteristic": ["Age (years)", "Male"],
                          "overall": ["64.0 [56.5–71.0]", "218 (73.9)"],
                          "pancreas": ["64.0 [64.0–64.0]", "0 (0.0)"]})
    t = report_table(frame, "T1", labels={"overall": "Overall (N = 295)",
                                          "pancreas": "Pancreas (N = 1)"})
    assert t.data["pancreas"].tolist() == ["[c]", "[c]"]
    assert t.data["overall"].tolist() == ["64.0 [56.5–71.0]", "218 (73.9)"]
    assert t.label("pancreas") == "Pancreas (N < 5)"


def test_stacked_blocks_are_lines_of_their_own():
    # RECIST rows sum to their N: CR = 1 must get a complement inside the RECIST block even
    # though the whole column already holds two suppressed cells (CR of both criteria)
    counts = pd.DataFrame({"n": [1, 62, 23, 2, 60, 30]})
    groups = [["RECIST"] * 3 + ["mRECIST"] * 3]
    assert dc.suppression_mask(counts, groups=groups)["n"].tolist() == [
        True, False, True, True, False, True]
    assert dc.suppression_mask(counts)["n"].tolist() == [True, False, False, True, False,
                                                         False]


def test_shareable_table_drops_id_columns_and_derived_percentages():
    dc.set_disclosure("shareable")
    frame = pd.DataFrame({"patient_id": ["P1", "P2"], "group": ["a", "b"],
                          "n_events": [2, 10], "pct_events": [20.0, 50.0], "n_total": [10, 20]})
    out = dc.protect_frame(frame)
    assert "patient_id" not in out.columns
    assert out.loc[0, "n_events"] == "[c]"
    assert out.loc[0, "pct_events"] == "[c]"


def test_save_table_writes_the_protected_table(tmp_path):
    from sirtstats.outputs import save_table

    dc.set_disclosure("shareable")
    frame = pd.DataFrame({"patient_id": ["P1", "P2"], "n": [3, 40], "n_total": [50, 60]})
    save_table(frame, "t", output_dir=tmp_path)
    text = (tmp_path / "tables" / "t.csv").read_text()
    assert "P1" not in text
    assert "[c]" in text
    assert ",3," not in text


def test_listing_is_written_internal_and_withheld_shareable(tmp_path):
    from sirtstats.formatting import save_listing

    listing = pd.DataFrame({"patient_id": ["P1"], "value": [1]})
    note = save_listing(listing, "02_x", title="X listing", output_dir=tmp_path / "a")
    assert (tmp_path / "a" / "tables" / "02_x.csv").exists()
    assert not note.withheld
    dc.set_disclosure("shareable")
    note = save_listing(listing, "02_x", title="X listing", output_dir=tmp_path / "b")
    assert note.withheld
    assert "left out of a shareable report" in str(note)
    assert not (tmp_path / "b" / "tables").exists()


def test_metrics_small_counts_become_null():
    dc.set_disclosure("shareable")
    out = dc.protect_metrics({"n_included": 3, "n_by_diagnosis": {"HCC": 40, "ICC": 2},
                              "orr_pct": 3, "mortality_30d_n_deaths": 1,
                              "mortality_30d_pct": 0.4, "mortality_30d_ci_low_pct": 0.1,
                              "mortality_90d_pct": 9.0, "n_any_teae": 2, "pct_any_teae": 0.7})
    assert out == {"n_included": None, "n_by_diagnosis": {"HCC": 40, "ICC": None},
                   "orr_pct": 3, "mortality_30d_n_deaths": None, "mortality_30d_pct": None,
                   "mortality_30d_ci_low_pct": None, "mortality_90d_pct": 9.0,
                   "n_any_teae": None, "pct_any_teae": None}


def test_policy_values_are_checked():
    with pytest.raises(ValueError, match="'mode' argument of set_disclosure"):
        dc.set_disclosure("public")
    with pytest.raises(ValueError, match="small_cell_threshold"):
        dc.set_disclosure("shareable", 0)


# --------------------------------------------------------------------------------- figures

def test_figure_annotations_are_suppressed_but_tick_labels_kept():
    dc.set_disclosure("shareable")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="HCC (N = 3)")
    ax.legend()
    ax.annotate("2", xy=(0.5, 0.5))
    ax.annotate("12", xy=(0.2, 0.5))
    ax.set_title("Cox model (n = 4, events = 2)")
    ax.set_xticks([0, 1, 2])
    fig.canvas.draw()
    dc.protect_figure(fig)
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["<5", "12"]
    assert ax.get_legend().get_texts()[0].get_text() == "HCC (N < 5)"
    assert ax.get_title() == "Cox model (n < 5, events < 5)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    plt.close(fig)


def _swimmer():
    rows = []
    for i, pid in enumerate(["PZQ01", "PZQ02", "PZQ03"]):
        rows += [(pid, "follow_up", 100 + 50 * i, True), (pid, "SIRT", 0, False),
                 (pid, "PR", 60, False)]
    return pd.DataFrame(rows, columns=["patient_id", "event", "day", "is_ongoing"])


def test_swimmer_lanes_are_numbered_in_a_shareable_report(tmp_path):
    from sirtstats.outputs import save_figure
    from sirtstats.plotting.response import plot_swimmer

    ax = plot_swimmer(_swimmer())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["PZQ01", "PZQ02", "PZQ03"]
    plt.close(ax.figure)
    dc.set_disclosure("shareable")
    ax = plot_swimmer(_swimmer())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["3", "2", "1"]
    assert ax.get_ylabel() == "Patient (rank by follow-up)"
    save_figure(ax, "swimmer", output_dir=tmp_path)
    assert b"PZQ" not in (tmp_path / "figures" / "swimmer.svg").read_bytes()
    plt.close(ax.figure)


# ------------------------------------------------------------------------- T4.5 AE coding

def test_term_list_has_terms_and_socs():
    terms = load_ctcae_terms()
    assert list(terms.columns) == ["term", "soc"]
    assert terms["term"].is_unique
    assert terms["soc"].nunique() == 26
    assert terms.set_index("term").loc["Blood bilirubin increased", "soc"] == "Investigations"


def test_uncoded_terms_show_as_other_and_are_listed():
    ae = pd.DataFrame({"ae_term": ["fatigue", "Nausea - see notes", "Ascites"],
                       "soc": ["General disorders and administration site conditions",
                               "Gastro", "Gastrointestinal disorders"]})
    coded = code_adverse_events(ae)
    assert coded["ae_term"].tolist() == ["Fatigue", UNCODED_LABEL, "Ascites"]
    assert coded["soc"].tolist()[1] == UNCODED_LABEL
    listing = list_uncoded_terms(ae)
    assert listing.to_dict("list") == {"column": ["ae_term", "soc"],
                                       "reported": ["Nausea - see notes", "Gastro"],
                                       "n_events": [1, 1]}
    assert code_terms(pd.Series([None])).tolist() == [None]


def test_validator_warns_about_an_uncoded_term(tmp_path):
    from sirtstats.registry import validate_registry

    tables = valid_tables()
    set_cell(tables, "adverse_events", 2, "ae_term", "Tiredness")
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    hit = problems[(problems["column"] == "ae_term") & (problems["row"] == 2)]
    assert hit["severity"].tolist() == ["warning"]
    assert hit["value"].tolist() == ["Tiredness"]
    assert "not a CTCAE v5.0 term" in hit["rule"].item()


# ------------------------------------------------------- D38 every free-text column scanned

def _free_text_columns():
    from sirtstats.schema import TABLE_ORDER, load_schema

    tables = valid_tables()
    out = []
    for name in TABLE_ORDER:
        if name not in tables or len(tables[name]) < 2:
            continue
        for f in load_schema(name).fields:
            free = (f.type == "string" and f.enum is None and f.pattern is None
                    and not f.name.endswith("_id"))
            if free and f.name in tables[name][0]:
                out.append((name, f.name))
    return out


PLANTED = "Nausea - Mme DUPONTZZ Jeanne IPP 80012345 nee le 12/03/1952 06 12 34 56 78"


def test_every_free_text_column_of_the_schema_refuses_a_planted_identifier(tmp_path):
    from sirtstats.registry import validate_registry

    columns = _free_text_columns()
    assert ("adverse_events", "ae_term") in columns
    assert ("labs", "unit") in columns
    tables = valid_tables()
    for table, column in columns:
        set_cell(tables, table, 2, column, PLANTED)
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    refused = problems[problems["rule"].str.contains("direct identifier; remove it")]
    assert sorted(zip(refused["table"], refused["column"], strict=True)) == sorted(columns)
    assert set(refused["row"]) == {2}
    assert set(refused["severity"]) == {"error"}
    shown = problems.to_string()
    for secret in ("DUPONTZZ", "Jeanne", "80012345", "12/03/1952", "06 12 34 56 78"):
        assert secret not in shown


# ------------------------------------------------------------------- report parameters

def test_report_parameters_carry_the_mode_to_the_notebooks():
    from sirtstats.report import validate_parameters
    from sirtstats.report.params import InvalidParameterError

    p = validate_parameters({"period": "2026Q3"})
    assert (p.disclosure, p.small_cell_threshold) == ("internal", 5)
    p = validate_parameters({"period": "2026Q3", "disclosure": "Shareable",
                             "small_cell_threshold": "10"})
    assert p.for_notebook(["disclosure", "small_cell_threshold"], output_dir="x") == {
        "disclosure": "shareable", "small_cell_threshold": 10}
    assert p.to_dict()["disclosure"] == "shareable"
    with pytest.raises(InvalidParameterError, match="disclosure"):
        validate_parameters({"period": "2026Q3", "disclosure": "public"})
    with pytest.raises(InvalidParameterError, match="small_cell_threshold"):
        validate_parameters({"period": "2026Q3", "small_cell_threshold": 0})


def test_cli_option_reaches_the_report_parameters():
    import argparse

    from sirtstats.report.cli_report import _add_report_parser, _settings

    parser = argparse.ArgumentParser()
    report = _add_report_parser(parser.add_subparsers())
    args = report.parse_args(["--disclosure", "shareable", "--small-cell-threshold", "3"])
    raw = _settings(args)["raw"]
    assert (raw["disclosure"], raw["small_cell_threshold"]) == ("shareable", 3)


def test_display_table_blocks_come_from_the_label_columns():
    # each criterion's BOR counts sum to its N: its lone small CR needs a complement in its
    # own block (Missing, the smallest positive), though the column holds two small cells
    dc.set_disclosure("shareable")
    n = ["2", "62", "0", "23", "3", "60", "0", "15"]
    data = pd.DataFrame({"criterion": ["RECIST"] * 4 + ["mRECIST"] * 4,
                         "bor": ["CR", "PR", "NE", "Missing"] * 2, "n": n,
                         "pct": ["0.7", "21.0", "0.0", "7.8", "1.8", "36.4", "0.0", "9.1"]})
    out, _, n_suppressed = dc.protect_display(data)
    assert out["n"].tolist() == ["[c]", "62", "0", "[c]", "[c]", "60", "0", "[c]"]
    assert out["pct"].tolist() == ["[c]", "21.0", "0.0", "[c]", "[c]", "36.4", "0.0", "[c]"]
    assert n_suppressed == 8


def test_config_file_sets_the_mode(tmp_path):
    import argparse

    from sirtstats.report.cli_report import _add_report_parser, _settings

    config = tmp_path / "report.yaml"
    config.write_text("disclosure: shareable\nsmall_cell_threshold: 10\n")
    parser = argparse.ArgumentParser()
    report = _add_report_parser(parser.add_subparsers())
    raw = _settings(report.parse_args(["--config", str(config)]))["raw"]
    assert (raw["disclosure"], raw["small_cell_threshold"]) == ("shareable", 10)


@pytest.mark.parametrize("text", ["call 06 12 34 56 78", "tel. +33 6 12 34 56 78",
                                  "+1 212 555 0123", "+44 20 7946 0958", "(212) 555-0123",
                                  "0612345678"])
def test_phone_numbers_french_and_international_are_found(text):
    import re

    from sirtstats.validation import TEXT_IDENTIFIER_PATTERNS

    assert re.search(TEXT_IDENTIFIER_PATTERNS["a phone number"], text)


@pytest.mark.parametrize("text", ["atezolizumab 1200 mg q3w", "Y-90 1.8 GBq", "FOLFIRI + 5-FU",
                                  "Grade 3 (CTCAE v5.0)"])
def test_doses_and_versions_are_not_phone_numbers(text):
    import re

    from sirtstats.validation import TEXT_IDENTIFIER_PATTERNS

    assert not re.search(TEXT_IDENTIFIER_PATTERNS["a phone number"], text)


def test_display_labels_number_units_only_in_a_shareable_report():
    from sirtstats.disclosure import DisclosurePolicy, display_labels

    codes = pd.Series(["NICE", "LYON", None, "NICE", "BREST"])
    shared = display_labels(codes, "Centre", DisclosurePolicy("shareable"))
    # sorted codes BREST, LYON, NICE -> Centre 1, 2, 3; NA stays NA
    assert shared.tolist()[:2] == ["Centre 3", "Centre 2"]
    assert shared.tolist()[3:] == ["Centre 3", "Centre 1"]
    assert pd.isna(shared.iloc[2])
    internal = display_labels(codes, "Centre", DisclosurePolicy("internal"))
    assert internal.tolist()[:2] == ["NICE", "LYON"]
