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
