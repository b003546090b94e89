"""Tests for the paste-ready table layer (sirtstats.formatting), the AE grade table and the
formatted XLSX / DOCX exports.

Expected strings are written by hand from the rules in the sirtstats.formatting docstring
(gtsummary/tern conventions); AE counts are hand-counted on a six-row frame.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sirtstats.formatting import (
    ReportTable,
    format_estimate_ci,
    format_frame,
    format_median_ci,
    format_median_iqr,
    format_n_pct,
    format_p,
    save_listing,
)
from sirtstats.report.export import _sheet_names, write_tables_docx, write_tables_workbook
from sirtstats.toxicity import format_ae_table, summarise_ae_grade_table

# ------------------------------------------------------------------------------ number rules


@pytest.mark.parametrize(("p", "text"), [
    (0.00099, "< 0.001"),
    (0.000999999, "< 0.001"),
    (0.001, "0.001"),
    (0.0034, "0.003"),
    (0.0495, "0.050"),     # 3 decimals below 0.1
    (0.0996, "0.10"),      # rounds to 0.100 -> shown with two decimals
    (0.4881890, "0.49"),
    (0.99, "0.99"),
    (0.9999755481, "> 0.99"),
    (1.0, "> 0.99"),
    (float("nan"), "—"),
    (None, "—"),
])
def test_format_p_boundaries(p, text):
    assert format_p(p) == text


@pytest.mark.parametrize(("n", "total", "text"), [
    (12, 29, "12 (41.4)"),
    (0, 13, "0 (0.0)"),    # gtsummary: 0 (0%) of a non-empty denominator
    (0, 0, "0"),           # no percentage of nobody, never "0 (nan)"
    (5, 5, "5 (100.0)"),
    (1, 3, "1 (33.3)"),
])
def test_format_n_pct(n, total, text):
    assert format_n_pct(n, total) == text


def test_format_estimate_ci_and_not_estimable():
    assert format_estimate_ci(1.4236, 1.0549, 1.9112, prefix="HR") == "HR 1.42 (1.05–1.91)"
    assert format_estimate_ci(1.4236, 1.0549, 1.9112) == "1.42 (1.05–1.91)"
    # the univariable pancreas row of the demo report: HR 1.878e-12, CI 0 to inf
    assert format_estimate_ci(1.878212812e-12, 0.0, math.inf) == "not estimable"
    assert format_estimate_ci(2.0, 1.0, float("nan")) == "not estimable"
    assert format_estimate_ci(float("nan"), 1.0, 2.0) == "not estimable"
    # differences may be negative: "to" instead of a dash that reads as a minus
    assert format_estimate_ci(-3.6094, -4.7429, -2.4758, ratio=False) == "-3.61 (-4.74 to -2.48)"


def test_format_median_ci_not_reached_and_median_iqr():
    assert format_median_ci(15.17864476, 13.30595483, 16.59137577) == "15.2 (13.3–16.6)"
    assert format_median_ci(float("nan"), 20.14, float("nan")) == "NR (20.1–NR)"
    assert format_median_ci(float("nan"), float("nan"), float("nan")) == "NR (NR–NR)"
    # 1 2 3 4: median 2.5, Q1 1.75, Q3 3.25 (linear interpolation)
    assert format_median_iqr([4, 1, 3, 2]) == "2.5 [1.8–3.2]"
    assert format_median_iqr([None, float("nan")]) == "—"


def test_format_frame_has_no_raw_floats_codes_or_index():
    df = pd.DataFrame({"device": ["Y90_glass", None], "rate": [21.3559322, 4.881890e-01],
                       "n": [3.0, 12.0], "flag": [True, False],
                       "p_value": [3.637979e-12, 0.04]}, index=[7, 8])
    out = format_frame(df)
    assert out.to_dict("list") == {"device": ["Y-90 glass", "—"], "rate": ["21.4", "0.5"],
                                   "n": ["3", "12"], "flag": ["Yes", "No"],
                                   "p_value": ["< 0.001", "0.040"]}
    assert list(out.index) == [0, 1]


def test_report_table_requires_one_indent_flag_per_row():
    with pytest.raises(ValueError, match=r"one flag per row \(2\). Got 1 instead"):
        ReportTable(pd.DataFrame({"a": ["x", "y"]}), "T", indent=(True,))


def test_report_table_html_is_self_contained_and_has_title_spanner_footnote():
    t = ReportTable(pd.DataFrame({"term": ["Fatigue"], "g1": ["1 (25.0)"], "g2": [None]}),
                    "Table 9. AEs", labels={"term": "Term", "g1": "Grade 1", "g2": "Grade 2"},
                    spanners=(("Worst grade", ("g1", "g2")),), footnotes=("n (%).",),
                    stub="term", name="04_x")
    html = t.to_html()
    for text in ("Table 9. AEs", "Worst grade", "Grade 1", "1 (25.0)", "n (%).", "—"):
        assert text in html
    assert "http://" not in html
    assert "https://" not in html
    assert 'id="sirt-04_x"' in html  # a CSS id must not start with a digit


# ------------------------------------------------------------------------------ AE grade table

@pytest.fixture
def six_ae():
    return pd.DataFrame({
        "patient_id": ["P1", "P1", "P1", "P2", "P3", "P9"],
        "ae_term": ["Fatigue", "Fatigue", "Nausea", "Fatigue", "Nausea", "Fatigue"],
        "soc": ["General disorders", "General disorders", "Gastrointestinal disorders",
                "General disorders", "Gastrointestinal disorders", "General disorders"],
        "grade": [1, 3, 2, 2, 5, 4],
    })


@pytest.fixture
def four_patients():
    return pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4"],
                         "device": ["Y90_glass", "Y90_glass", "Y90_resin", "Y90_resin"]})


def test_ae_grade_table_counts_worst_grade_1_to_5_per_term(six_ae, four_patients):
    # P9 is outside the population. Worst grade per patient and term:
    # Fatigue P1 3, P2 2; Nausea P1 2, P3 5; any AE P1 3, P2 2, P3 5; N = 4
    out = summarise_ae_grade_table(six_ae, four_patients)
    got = out[["ae_term", "n_grade_1", "n_grade_2", "n_grade_3", "n_grade_4", "n_grade_5",
               "n_any_grade", "n_grade_3plus"]]
    expected = pd.DataFrame({
        "ae_term": ["Any adverse event", "Fatigue", "Nausea"],
        "n_grade_1": [0, 0, 0], "n_grade_2": [1, 1, 1], "n_grade_3": [1, 1, 0],
        "n_grade_4": [0, 0, 0], "n_grade_5": [1, 0, 1],
        "n_any_grade": [3, 2, 2], "n_grade_3plus": [2, 1, 1],
    })
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    t = format_ae_table(out)
    assert t.column_labels == ["Adverse event (CTCAE term)", "Grade 1", "Grade 2", "Grade 3",
                               "Grade 4", "Grade 5", "Any grade", "Grade ≥ 3"]
    assert t.data.to_numpy().tolist() == [
        ["Any adverse event", "0 (0.0)", "1 (25.0)", "1 (25.0)", "0 (0.0)", "1 (25.0)",
         "3 (75.0)", "2 (50.0)"],
        ["Fatigue", "0 (0.0)", "1 (25.0)", "1 (25.0)", "0 (0.0)", "0 (0.0)", "2 (50.0)",
         "1 (25.0)"],
        ["Nausea", "0 (0.0)", "1 (25.0)", "0 (0.0)", "0 (0.0)", "1 (25.0)", "2 (50.0)",
         "1 (25.0)"],
    ]


def test_ae_grade_table_by_soc_and_by_group(six_ae, four_patients):
    soc = summarise_ae_grade_table(six_ae, four_patients, by="soc")
    assert soc["soc"].tolist() == ["Any adverse event", "Gastrointestinal disorders",
                                   "General disorders"]
    assert soc["n_grade_5"].tolist() == [1, 1, 0]
    by = summarise_ae_grade_table(six_ae, four_patients, groupby="device")
    t = format_ae_table(by, groupby="device")
    labels = t.data["ae_term"].tolist()
    # All block first, then glass (P1, P2; N = 2), then resin (P3, P4; N = 2)
    assert labels[0] == "All patients (N = 4)"
    assert labels[4] == "Y-90 glass (N = 2)"
    assert labels[8] == "Y-90 resin (N = 2)"
    glass_any = t.data.iloc[5].tolist()
    # glass any AE: P1 worst 3, P2 worst 2 -> grade 2: 1 (50.0), grade 3: 1 (50.0)
    assert glass_any == ["Any adverse event", "0 (0.0)", "1 (50.0)", "1 (50.0)", "0 (0.0)",
                         "0 (0.0)", "2 (100.0)", "1 (50.0)"]
    assert t.indent[0] is False
    assert t.indent[1] is True


# ------------------------------------------------------------------------------ XLSX and DOCX

def _write_tables(tmp_path):
    out = tmp_path / "report"
    ReportTable(pd.DataFrame({"characteristic": ["Sex", "Male", "Female"],
                              "overall": ["", "2 (66.7)", "1 (33.3)"]}),
                "Table 1. Baseline", labels={"characteristic": "Characteristic",
                                             "overall": "N = 3"},
                footnotes=("n (%).",), indent=(False, True, True), stub="characteristic",
                name="01_table1").save(output_dir=out)
    ReportTable(pd.DataFrame({"a": ["0.003"], "b": ["12"]}), "Tests",
                name="03_p").save(output_dir=out)
    listing = pd.DataFrame({"patient_id": ["P1", "P2"], "is_confirmed": [True, False],
                            "pct_change": [-31.23456789, 5.0],
                            "visit_date": pd.to_datetime(["2024-01-02", "2024-03-04"])})
    note = save_listing(listing, "02_timepoints", title="Per-visit listing", output_dir=out)
    # two stems that collide once cut to 31 characters
    for stem in ("05_reild_vs_normal_liver_dose_by_device",
                 "05_reild_vs_normal_liver_dose_by_centre"):
        pd.DataFrame({"x": [1]}).to_csv(out / "tables" / f"{stem}.csv", index=False)
    return out, note


def test_save_listing_returns_a_one_line_note(tmp_path):
    _, note = _write_tables(tmp_path)
    assert str(note) == ("Per-visit listing: 2 rows, in tables.xlsx and tables/02_timepoints.csv "
                         "(a listing, not shown on this page).")
    assert "<table" not in note._repr_html_()


def test_xlsx_round_trip_booleans_bold_headers_number_formats_unique_names(tmp_path):
    import openpyxl

    out, _ = _write_tables(tmp_path)
    path = write_tables_workbook(out / "tables", out / "tables.xlsx")
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    assert len(names) == len({n.lower() for n in names})
    assert all(len(n) <= 31 for n in names)
    assert "05_reild_vs_normal_liver_dose_b" in names
    assert "05_reild_vs_normal_liver_dose~2" in names
    ws = wb["02_timepoints"]
    assert [c.value for c in ws[1]] == ["Patient", "Is confirmed", "Change from baseline (%)",
                                        "Visit date"]
    assert all(c.font.bold for c in ws[1])
    assert ws["B2"].value is True
    assert ws["B3"].value is False
    assert isinstance(ws["B2"].value, bool)
    assert ws["C2"].value == pytest.approx(-31.23456789)
    assert ws["C2"].number_format == "0.0000"
    assert ws["D2"].is_date
    assert ws["D2"].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["C"].width >= len("Change from baseline (%)")
    t1 = wb["01_table1"]
    assert [c.value for c in t1[1]] == ["Characteristic", "N = 3"]
    assert t1["A3"].alignment.indent == 2
    assert t1["A2"].font.bold
    assert t1["A6"].value == "n (%)."  # footnote two rows under the table
    p = wb["03_p"]
    assert p["A2"].value == pytest.approx(0.003)
    assert p["A2"].number_format == "0.000"
    assert p["B2"].value == 12
    assert isinstance(p["B2"].value, int)
    contents = wb["contents"]
    assert [c.value for c in contents[1]] == ["sheet", "title", "kind", "table file", "rows"]
    kinds = {r[0]: r[2] for r in contents.iter_rows(min_row=2, values_only=True)}
    assert kinds["01_table1"] == "table"
    assert kinds["02_timepoints"] == "listing"


def test_sheet_names_are_unique_and_at_most_31_characters():
    stems = ["a" * 40, "a" * 40, "A" * 35, "x[1]:y"]
    names = _sheet_names(stems)
    assert names == ["a" * 31, "a" * 29 + "~2", "A" * 29 + "~3", "x_1__y"]


def test_docx_has_every_paste_ready_table_with_title_and_footnotes(tmp_path):
    import docx

    out, _ = _write_tables(tmp_path)
    path = write_tables_docx(out / "tables", out / "tables.docx")
    doc = docx.Document(str(path))
    assert len(doc.tables) == 2  # 01_table1 and 03_p; listings and data CSVs stay out
    first = doc.tables[0]
    assert [c.text for c in first.rows[0].cells] == ["Characteristic", "N = 3"]
    assert [c.text for c in first.rows[2].cells] == ["Male", "2 (66.7)"]
    texts = [p.text for p in doc.paragraphs]
    assert "Table 1. Baseline" in texts
    assert "n (%)." in texts
    assert "Tests" in texts
    again = write_tables_docx(out / "tables", tmp_path / "again.docx")
    assert again.read_bytes() == path.read_bytes()  # reproducible


def test_docx_none_without_paste_ready_tables(tmp_path):
    (tmp_path / "t").mkdir()
    pd.DataFrame({"x": [1]}).to_csv(tmp_path / "t" / "raw.csv", index=False)
    assert write_tables_docx(tmp_path / "t", tmp_path / "t.docx") is None
