"""Tests for sirtstats.tables (Table 1 via tableone).

Expected counts, percentages and quartiles are computed by hand from the inline frames
(quartiles by linear interpolation between order statistics, as pandas/numpy do by default).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.tables import format_table1, make_table1


def _baseline_frame():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "age_at_first_sirt_years": pd.array([60, 70, 80, 50, 65, pd.NA], dtype="Int64"),
            "sex": ["M", "F", "M", "M", "F", "M"],
            "primary_tumour": ["HCC", "HCC", "HCC", "mCRC", "mCRC", None],
            "ecog": pd.array([0, 1, 0, 2, pd.NA, 1], dtype="Int64"),
            "cirrhosis": pd.array([True, True, False, False, None, False], dtype="boolean"),
            "child_pugh_class": ["B", "A", "A", None, None, "A"],
            "albi_grade": pd.array([1, 2, 2, 1, 1, 3], dtype="Int64"),
            "tumour_burden_pct": [10.0, 20.0, 30.0, 40.0, np.nan, 50.0],
            "device": [
                "Y90_resin",
                "Y90_glass",
                "Y90_glass",
                "Y90_resin",
                "Ho166_PLLA",
                "Y90_glass",
            ],
            "n_sessions": pd.array([1, 2, 1, 1, 1, 1], dtype="Int64"),
        }
    )


def _quiet_table1(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        return make_table1(df, **kw)


def _cell(flat, variable, level, column):
    row = flat[(flat["variable"] == variable) & (flat["level"] == level)]
    assert len(row) == 1, (variable, level)
    return row[column].iloc[0]


def test_table1_overall_counts_percent_and_median():
    flat = format_table1(_quiet_table1(_baseline_frame()))
    assert _cell(flat, "n", "", "Overall") == "6"
    # age: 50 60 65 70 80 -> median 65, Q1 60, Q3 70; one missing
    assert _cell(flat, "Age at first SIRT, years", "", "Overall") == "65.0 [60.0,70.0]"
    assert _cell(flat, "Age at first SIRT, years", "", "Missing") == "1"
    # sex: 4 M / 2 F of 6
    assert _cell(flat, "Sex", "M", "Overall") == "4 (66.7)"
    assert _cell(flat, "Sex", "F", "Overall") == "2 (33.3)"
    # ECOG: integer codes shown as levels, % of the 5 non-missing, 1 missing
    assert _cell(flat, "ECOG performance status", "0", "Overall") == "2 (40.0)"
    assert _cell(flat, "ECOG performance status", "2", "Overall") == "1 (20.0)"
    assert _cell(flat, "ECOG performance status", "0", "Missing") == "1"
    # cirrhosis boolean -> yes/no: 2 yes / 3 no of 5
    assert _cell(flat, "Cirrhosis", "yes", "Overall") == "2 (40.0)"
    assert _cell(flat, "Cirrhosis", "no", "Overall") == "3 (60.0)"
    # Child-Pugh: 3 A, 1 B of 4, 2 missing
    assert _cell(flat, "Child-Pugh class", "A", "Overall") == "3 (75.0)"
    assert _cell(flat, "Child-Pugh class", "A", "Missing") == "2"


def test_table1_levels_follow_schema_order_not_frequency():
    flat = format_table1(_quiet_table1(_baseline_frame()))
    device = flat.loc[flat["variable"] == "Device (first session)", "level"].tolist()
    assert device == ["Y90_glass", "Y90_resin", "Ho166_PLLA"]
    cp = flat.loc[flat["variable"] == "Child-Pugh class", "level"].tolist()
    assert cp == ["A", "B"]  # only levels present
    assert flat.loc[flat["variable"] == "Sex", "level"].tolist() == ["M", "F"]


def test_table1_grouped_has_missing_group_and_group_counts():
    with pytest.warns(SirtStatsWarning, match="fewer than 10 patients"):
        t1 = make_table1(_baseline_frame(), groupby="primary_tumour")
    flat = format_table1(t1)
    assert list(flat.columns) == [
        "variable",
        "statistic",
        "level",
        "Missing",
        "Overall",
        "HCC",
        "mCRC",
        "(missing)",
    ]
    assert _cell(flat, "n", "", "HCC") == "3"
    assert _cell(flat, "n", "", "mCRC") == "2"
    assert _cell(flat, "n", "", "(missing)") == "1"
    # HCC ages 60 70 80 -> 70 [65, 75]
    assert _cell(flat, "Age at first SIRT, years", "", "HCC") == "70.0 [65.0,75.0]"
    assert _cell(flat, "Sex", "M", "HCC") == "2 (66.7)"
    assert "Primary tumour" not in set(flat["variable"])


def test_table1_never_shows_patient_id_and_is_deterministic():
    df = _baseline_frame()
    a = format_table1(_quiet_table1(df, groupby="device"))
    b = format_table1(_quiet_table1(df.sample(frac=1, random_state=1), groupby="device"))
    pd.testing.assert_frame_equal(a, b)
    text = a.to_string()
    assert "P1" not in text
    assert "patient_id" not in text


def test_table1_rejects_identifier_columns():
    with pytest.raises(ValueError, match=r"must not contain identifiers. Got \['patient_id'\]"):
        make_table1(_baseline_frame(), columns=["sex", "patient_id"])


def test_table1_unknown_columns_and_groupby():
    with pytest.raises(ValueError, match=r"The 'columns' argument of make_table1 .*'bmi'"):
        make_table1(_baseline_frame(), columns=["bmi"])
    with pytest.raises(ValueError, match=r"The 'groupby' argument of make_table1 .*'arm'"):
        make_table1(_baseline_frame(), groupby="arm")


def test_table1_all_missing_variable_warns_and_is_left_out():
    df = _baseline_frame().assign(bclc_stage=None)
    with pytest.warns(SirtStatsWarning, match=r"\['bclc_stage'\] are missing for every patient"):
        t1 = make_table1(df, columns=["sex", "bclc_stage"])
    assert "BCLC stage" not in set(format_table1(t1)["variable"])


def test_table1_custom_categorical_nonnormal_and_labels():
    df = _baseline_frame()
    flat = format_table1(
        _quiet_table1(
            df,
            columns=["tumour_burden_pct", "n_sessions"],
            categorical=["n_sessions"],
            nonnormal=[],
            labels={"tumour_burden_pct": "Burden %"},
        )
    )
    # mean of 10 20 30 40 50 = 30, SD = sqrt(250) = 15.8
    assert _cell(flat, "Burden %", "", "Overall") == "30.0 (15.8)"
    assert _cell(flat, "Burden %", "", "statistic") == "mean (SD)"
    assert _cell(flat, "SIRT sessions, n", "1", "Overall") == "5 (83.3)"


def test_table1_does_not_mutate_input():
    df = _baseline_frame()
    before = df.copy()
    _quiet_table1(df, groupby="primary_tumour")
    pd.testing.assert_frame_equal(df, before)


def test_format_table1_replaces_nan_summaries_of_empty_groups_with_dash():
    df = pd.DataFrame(
        {
            "primary_tumour": ["HCC", "HCC", "mCRC"],
            "bclc_stage": ["A", "C", None],
            "meld": [8.0, 10.0, np.nan],
        }
    )
    flat = format_table1(
        _quiet_table1(df, groupby="primary_tumour", columns=["bclc_stage", "meld"])
    )
    assert _cell(flat, "BCLC stage", "A", "mCRC") == "0 (–)"
    assert _cell(flat, "BCLC stage", "A", "HCC") == "1 (50.0)"
    assert _cell(flat, "MELD", "", "mCRC") == "–"
    assert _cell(flat, "MELD", "", "HCC") == "9.0 [8.5,9.5]"


# ------------------------------------------------------------------ summarise_table1 (paste-ready)

from sirtstats.tables import (  # noqa: E402
    report_table,
    summarise_cox_table,
    summarise_km_table,
    summarise_table1,
)


def _row(table, label, occurrence=0):
    rows = table.data.index[table.data["characteristic"] == label].tolist()
    return table.data.loc[rows[occurrence]]


def test_summarise_table1_counts_of_known_values_with_unknown_row():
    t1 = summarise_table1(_baseline_frame(), columns=["sex", "ecog", "age_at_first_sirt_years"])
    assert t1.column_labels == ["Characteristic", "N = 6"]
    # ECOG 0 0 1 2 <NA> 1: known 5 -> 0: 2 (40.0), 1: 2 (40.0), 2: 1 (20.0), Unknown 1
    assert _row(t1, "0")["overall"] == "2 (40.0)"
    assert _row(t1, "2")["overall"] == "1 (20.0)"
    assert _row(t1, "Unknown", 0)["overall"] == "1"
    # age 50 60 65 70 80 (one missing): median 65, Q1 60, Q3 70
    assert _row(t1, "Age at first SIRT (years)")["overall"] == "65.0 [60.0–70.0]"
    assert _row(t1, "Unknown", 1)["overall"] == "1"
    # sex: no missing value -> no Unknown row under it (rows: Sex, Male, Female)
    sex = t1.data.index[t1.data["characteristic"] == "Sex"][0]
    assert t1.data["characteristic"].iloc[sex + 1:sex + 3].tolist() == ["Male", "Female"]
    assert t1.indent[sex:sex + 3] == (False, True, True)


def test_summarise_table1_bclc_only_for_hcc_and_footnoted():
    df = pd.DataFrame({"primary_tumour": ["HCC", "HCC", "HCC", "mCRC", "mCRC"],
                       "bclc_stage": ["A", "C", None, "B", None]})  # mCRC "B" is a data error
    t1 = summarise_table1(df, groupby="primary_tumour", columns=["bclc_stage"])
    assert t1.column_labels == ["Characteristic", "Overall (N = 5)", "HCC (N = 3)",
                                "mCRC (N = 2)"]
    assert t1.data["characteristic"].tolist() == ["BCLC stage*", "A", "C", "Unknown"]
    # HCC: A 1 of 2 known, C 1 of 2, Unknown 1; overall = the HCC patients only
    assert _row(t1, "A").tolist() == ["A", "1 (50.0)", "1 (50.0)", "—"]
    assert _row(t1, "Unknown").tolist() == ["Unknown", "1", "1", "—"]
    assert any(n.startswith("* BCLC stage is described for HCC only") for n in t1.footnotes)
    assert t1.spanners == (("Primary tumour", ("group_HCC", "group_mCRC")),)


def test_summarise_table1_has_no_nan_and_zero_of_nonempty_group_is_0_0():
    df = _baseline_frame()
    t1 = summarise_table1(df, groupby="primary_tumour")
    text = t1.to_frame().to_csv()
    assert "nan" not in text.lower()
    assert "(–)" not in text
    # mCRC is P4 (M) and P5 (F): Male 1 of 2
    male = _row(t1, "Male")
    assert male["group_mCRC"] == "1 (50.0)"
    # ECOG 3 absent everywhere -> no row; ECOG 0 in mCRC (P4 2, P5 <NA>): 0 of 1 known
    assert _row(t1, "0")["group_mCRC"] == "0 (0.0)"
    assert t1.column_labels[-1] == "(missing) (N = 1)"


def test_summarise_table1_page_and_csv_are_the_same_text(tmp_path):
    t1 = summarise_table1(_baseline_frame(), groupby="device")
    t1.save(output_dir=tmp_path)
    csv = pd.read_csv(tmp_path / "tables" / "01_table1.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(csv, t1.to_frame())
    html = t1.to_html()
    for cell in t1.data.to_numpy().ravel():
        if cell:
            assert cell.replace("&", "&amp;") in html
    assert "nan" not in html.replace("nan-", "")


def test_summarise_table1_does_not_mutate_input():
    df = _baseline_frame()
    before = df.copy()
    summarise_table1(df, groupby="primary_tumour")
    pd.testing.assert_frame_equal(df, before)


def test_summarise_table1_argument_errors():
    with pytest.raises(ValueError, match=r"'groupby' argument of summarise_table1 .*'arm'"):
        summarise_table1(_baseline_frame(), groupby="arm")
    with pytest.raises(ValueError, match=r"must not contain identifiers. Got \['patient_id'\]"):
        summarise_table1(_baseline_frame(), columns=["patient_id"])


# ------------------------------------------------------------------ Cox and KM tables

def _cox_frame(model):
    return pd.DataFrame({
        "variable": ["albi_grade", "ecog", "primary_tumour", "primary_tumour"],
        "level": ["2", None, "mCRC", "pancreas"],
        "reference": ["1", None, "HCC", "HCC"],
        "hr": [1.581738243, 1.455792099, 1.293656433, 1.878212812e-12],
        "hr_lower": [1.220392816, 1.209198698, 0.9508494304, 0.0],
        "hr_upper": [2.050074234, 1.7526736, 1.760054655, np.inf],
        "p": [0.0005299428342, 7.307906811e-05, 0.1011898731, 0.9999755481],
        **({"n": [295] * 4, "n_events": [246] * 4} if model == "uni" else {}),
    })


def test_summarise_cox_table_uni_and_multivariable_in_one_table():
    t = summarise_cox_table(_cox_frame("uni"), _cox_frame("multi"))
    rows = t.data.to_numpy().tolist()
    assert rows == [
        ["ALBI grade", "", "", "", ""],
        ["1", "—", "", "—", ""],
        ["2", "1.58 (1.22–2.05)", "< 0.001", "1.58 (1.22–2.05)", "< 0.001"],
        ["ECOG PS, per unit", "1.46 (1.21–1.75)", "< 0.001", "1.46 (1.21–1.75)", "< 0.001"],
        ["Primary tumour", "", "", "", ""],
        ["HCC", "—", "", "—", ""],
        ["mCRC", "1.29 (0.95–1.76)", "0.10", "1.29 (0.95–1.76)", "0.10"],
        ["Pancreas", "not estimable", "—", "not estimable", "—"],
    ]
    assert [s[0] for s in t.spanners] == ["Univariable (n = 295, events = 246)",
                                          "Multivariable"]
    assert any(n.startswith("not estimable:") for n in t.footnotes)
    assert t.column_labels == ["Characteristic", "HR (95 % CI)", "p", "HR (95 % CI)", "p"]


def test_summarise_km_table_not_reached():
    km = pd.DataFrame({"endpoint": ["OS", "PFS"], "n": [10, 10], "n_events": [3, 6],
                       "median": [np.nan, 6.4394], "median_lower": [12.05, 5.2238],
                       "median_upper": [np.nan, 7.0637], "surv_12": [0.7, 0.2125],
                       "surv_12_lower": [0.33, 0.1655], "surv_12_upper": [0.89, 0.2637]})
    t = summarise_km_table(km, landmarks_months=(12, 24))
    assert t.data.to_numpy().tolist() == [
        ["Overall survival", "10", "3", "NR (12.1–NR)", "70.0 (33.0–89.0)"],
        ["Progression-free survival", "10", "6", "6.4 (5.2–7.1)", "21.2 (16.6–26.4)"],
    ]


def test_report_table_merges_ci_and_has_no_raw_floats_or_index():
    df = pd.DataFrame({"device": ["Y90_glass", "Y90_resin"], "n": [137, 145],
                       "orr_pct": [21.3559322, 43.63636364],
                       "orr_ci_lower_pct": [16.81846094, 35.94263491],
                       "orr_ci_upper_pct": [26.47900566, 51.56285344],
                       "p": [0.4881890, 3.637979e-12], "is_confirmed": [True, False]},
                      index=[5, 9])
    t = report_table(df, "ORR")
    assert t.column_labels == ["Device", "n", "ORR, % (95 % CI)", "p", "Is confirmed"]
    assert t.data.to_numpy().tolist() == [
        ["Y-90 glass", "137", "21.4 (16.8–26.5)", "0.49", "Yes"],
        ["Y-90 resin", "145", "43.6 (35.9–51.6)", "< 0.001", "No"],
    ]
    assert list(t.data.index) == [0, 1]


def test_report_table_proportion_shown_as_percent_with_ci():
    df = pd.DataFrame({"dose_group": ["< 120 Gy"], "rate": [0.2727272727],
                       "ci_lower": [0.1909574468], "ci_upper": [0.3604329897]})
    t = report_table(df, "Response by dose", percent=["rate"])
    assert t.to_frame().to_dict("list") == {"Dose group": ["< 120 Gy"],
                                           "Rate, % (95 % CI)": ["27.3 (19.1–36.0)"]}


def test_summarise_cox_table_reads_empty_level_as_continuous():
    df = _cox_frame("multi").assign(level=["2", "", "mCRC", "pancreas"],
                                    reference=["1", "", "HCC", "HCC"])
    t = summarise_cox_table(None, df)
    assert t.data["characteristic"].tolist()[3] == "ECOG PS, per unit"
    assert t.column_labels == ["Characteristic", "HR (95 % CI)", "p"]


def test_report_table_one_number_of_decimals_per_column_and_median_nr():
    df = pd.DataFrame({"pct": [0.0, 0.3389830508], "n": [0.0, 1.0],
                       "median_followup": [75.10472279, 12.0],
                       "median_followup_lower": [41.79055441, 10.0],
                       "median_followup_upper": [float("nan"), 14.0]})
    t = report_table(df, "Follow-up")
    assert t.to_frame().to_dict("list") == {
        "%": ["0.0", "0.3"], "n": ["0", "1"],
        "Median follow-up, months (95 % CI)": ["75.1 (41.8–NR)", "12.0 (10.0–14.0)"]}


def test_summarise_landmark_table_labels_and_leaves_out_the_exclusion_counts():
    from sirtstats.tables import summarise_landmark_table

    landmarks = pd.DataFrame({
        "landmark_months": [3], "n": [295], "n_excluded_event": [26], "n_excluded_censored": [7],
        "n_included": [262], "n_responders": [40], "n_non_responders": [222],
        "events_responders": [35], "events_non_responders": [185],
        "median_responders_months": [15.24], "median_non_responders_months": [9.06],
        "hr": [0.8123], "hr_lower": [0.553], "hr_upper": [1.1931], "p_logrank": [0.2874]})
    frame = summarise_landmark_table(landmarks).to_frame()
    assert frame.columns.tolist() == [
        "Landmark (months)", "At landmark", "R", "NR", "Deaths, R", "Deaths, NR",
        "Median OS, R", "Median OS, NR", "HR, R vs NR (95 % CI)", "Log-rank p"]
    assert frame.iloc[0].tolist() == ["3", "262", "40", "222", "35", "185", "15.2", "9.1",
                                      "0.81 (0.55–1.19)", "0.29"]


def test_summarise_cif_table_in_percent_with_readable_causes():
    from sirtstats.tables import summarise_cif_table

    cif = pd.DataFrame({"cause": ["death", "progression"], "n": [20, 20], "n_events": [3, 9],
                        "cif_12": [0.15, 0.4637], "cif_12_lower": [0.0412, 0.25],
                        "cif_12_upper": [0.33, 0.66], "conf_type": ["log-log", "log-log"]})
    table = summarise_cif_table(cif)
    frame = table.to_frame()
    assert frame.columns.tolist() == ["Event", "n", "Events", "12 months, % (95 % CI)"]
    assert frame["Event"].tolist() == ["Death without progression", "Progression"]
    assert frame["12 months, % (95 % CI)"].tolist() == ["15.0 (4.1–33.0)", "46.4 (25.0–66.0)"]
    assert "log-log" in table.footnotes[0]


def test_cox_table_spanners_sit_over_their_own_columns_in_word(tmp_path):
    """Both spanners named "HR (95 % CI)" and "p": looked up by label, the Word table put
    "Multivariable" over the univariable columns and nothing over the multivariable ones."""
    import docx

    from sirtstats.report.export import write_tables_docx

    t = summarise_cox_table(_cox_frame("uni"), _cox_frame("multi"))
    assert t.metadata()["spanner_columns"] == [
        ["Univariable (n = 295, events = 246)", [1, 2]], ["Multivariable", [3, 4]]]
    t.save("03_cox", output_dir=tmp_path)
    doc = docx.Document(str(write_tables_docx(tmp_path / "tables", tmp_path / "t.docx")))
    spanner_row = [c.text for c in doc.tables[0].rows[0].cells]
    assert spanner_row == ["", "Univariable (n = 295, events = 246)",
                           "Univariable (n = 295, events = 246)", "Multivariable",
                           "Multivariable"]  # a merged cell repeats its text per grid cell
    assert [c.text for c in doc.tables[0].rows[1].cells] == [
        "Characteristic", "HR (95 % CI)", "p", "HR (95 % CI)", "p"]


def test_early_mortality_headers_are_words_not_column_names():
    """The table printed 'N no origin' and 'N incomplete followup'."""
    from sirtstats.tables import report_table

    frame = pd.DataFrame({"horizon_days": [30], "n_patients": [10], "n_no_origin": [0],
                          "n_incomplete_followup": [1], "n_evaluable": [9], "n_deaths": [1]})
    labels = report_table(frame, "Early mortality").column_labels
    assert labels == ["Within (days of first SIRT)", "Patients", "No first-SIRT date (n)",
                      "Alive, followed < window (n)", "Evaluable", "Deaths"]


def test_km_table_lists_overall_survival_first_and_names_landmarks_for_any_endpoint():
    """Rows came alphabetically (Duration of response first) and every landmark column said
    'survival', also for PFS and duration of response."""
    def row(endpoint):
        return {"endpoint": endpoint, "n": 10, "n_events": 5, "median": 6.0,
                "median_lower": 4.0, "median_upper": 8.0, "surv_12": 0.4,
                "surv_12_lower": 0.2, "surv_12_upper": 0.6}

    km = pd.DataFrame([row(e) for e in ("DoR", "OS", "PFS", "TTP", "hepatic_PFS", "XYZ")])
    t = summarise_km_table(km, landmarks_months=(12,))
    assert t.data["label"].tolist()[:5] == [
        "Overall survival", "Progression-free survival", "Hepatic progression-free survival",
        "Time to progression", "Duration of response"]
    assert t.data["label"].tolist()[5] not in ("Overall survival",)  # unknown ones last
    assert t.column_labels[-1] == "At 12 months, % (95 % CI)"


def test_cox_table_sheet_names_which_model_each_repeated_column_belongs_to(tmp_path):
    """The workbook has one header row: 'HR (95 % CI)' twice said nothing of the model."""
    import openpyxl

    from sirtstats.report.export import write_tables_workbook

    summarise_cox_table(_cox_frame("uni"), _cox_frame("multi")).save("03_cox",
                                                                      output_dir=tmp_path)
    wb = openpyxl.load_workbook(write_tables_workbook(tmp_path / "tables", tmp_path / "t.xlsx"))
    assert [c.value for c in wb["03_cox"][1]] == [
        "Characteristic", "Univariable (n = 295, events = 246): HR (95 % CI)",
        "Univariable (n = 295, events = 246): p", "Multivariable: HR (95 % CI)",
        "Multivariable: p"]


def test_cox_table_csv_columns_are_unique_and_name_their_model(tmp_path):
    """The CSV had two columns "HR (95 % CI)" and two "p" (decision D63)."""
    t = summarise_cox_table(_cox_frame("uni"), _cox_frame("multi"))
    t.save("03_cox", output_dir=tmp_path)
    header = pd.read_csv(tmp_path / "tables" / "03_cox.csv", nrows=0).columns.tolist()
    assert header == ["Characteristic", "Univariable (n = 295, events = 246): HR (95 % CI)",
                      "Univariable (n = 295, events = 246): p", "Multivariable: HR (95 % CI)",
                      "Multivariable: p"]
    assert t.metadata()["columns"] == header


def test_repeated_labels_without_spanner_are_numbered():
    from sirtstats.formatting import ReportTable

    t = ReportTable(data=pd.DataFrame({"a": ["1"], "b": ["2"]}), title="t",
                    labels={"a": "n", "b": "n"})
    assert t.to_frame().columns.tolist() == ["n", "n (2)"]


def test_response_rate_table_has_no_lowercase_codes():
    """The rate table showed "all" (level) and "overall" (scope) as stored."""
    from sirtstats.tables import report_table

    rates = pd.DataFrame({"subgroup": ["all", "device"], "level": ["all", "Y90_glass"],
                          "criterion": ["RECIST_1_1"] * 2, "scope": ["overall", "hepatic"],
                          "n": [10, 4]})
    out = report_table(rates, "Rates", column_values=["subgroup"]).to_frame()
    assert out["Level"].tolist() == ["All patients", "Y-90 glass"]
    assert out["Scope"].tolist() == ["Overall", "Hepatic"]
    assert out["Subgroup"].tolist()[0] == "All"
