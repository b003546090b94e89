"""Tests for sirtstats.ctcae: CTCAE v5.0 laboratory grading.

Expected grades come from sirt-domain.md Appendix A (CTCAE rows) and from the CTCAE v5.0 text
(section 4.1 table) applied by hand: every threshold is tested on both sides, in both branches of
the v5 baseline rule where it has two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sirtstats import SirtDataError
from sirtstats.ctcae import compute_ctcae_grade, derive_lab_grades, load_ctcae_criteria
from sirtstats.units import ACCEPTED_UNITS

# ------------------------------------------------------------------------------ Appendix A


@pytest.mark.parametrize(
    ("analyte", "uln", "base", "value", "grade"),
    [
        ("alt", 40, 30, 130, 2),  # normal baseline
        ("alt", 40, 80, 130, 1),  # abnormal baseline, 1.625 x base
        ("alt", 40, 80, 100, 0),  # gap: 1.25 x base
        ("alt", 40, 150, 200, 0),  # high baseline, 5 x ULN but 1.33 x base
        ("bilirubin_total", 21, 30, 35, 1),  # abnormal baseline
        ("bilirubin_total", 21, 30, 95, 3),  # abnormal baseline
        ("bilirubin_total", 21, 15, 40, 2),  # normal baseline
        ("bilirubin_total", 21, 15, 70, 3),  # normal baseline
    ],
)
def test_appendix_a_ctcae_vectors(analyte, uln, base, value, grade):
    assert compute_ctcae_grade(analyte, value, uln=uln, baseline=base) == grade


def _labs_with_baseline(analyte, uln, base, value, unit="U/L"):
    labs = pd.DataFrame(
        {
            "patient_id": ["P1", "P1"],
            "sample_date": pd.to_datetime(["2024-01-05", "2024-02-10"]),
            "analyte": [analyte, analyte],
            "value": [float(base), float(value)],
            "unit": [unit, unit],
            "lln": [np.nan, np.nan],
            "uln": [float(uln), float(uln)],
        }
    )
    tx = pd.DataFrame({"patient_id": ["P1"], "treatment_date": pd.to_datetime(["2024-01-10"])})
    return labs, tx


@pytest.mark.parametrize(
    ("analyte", "unit", "uln", "base", "value", "grade", "basis"),
    [
        ("alt", "U/L", 40, 30, 130, 2, "ULN"),
        ("alt", "U/L", 40, 80, 130, 1, "baseline"),
        ("alt", "U/L", 40, 80, 100, 0, "baseline"),
        ("alt", "U/L", 40, 150, 200, 0, "baseline"),
        ("bilirubin_total", "µmol/L", 21, 30, 35, 1, "baseline"),
        ("bilirubin_total", "µmol/L", 21, 30, 95, 3, "baseline"),
        ("bilirubin_total", "µmol/L", 21, 15, 40, 2, "ULN"),
        ("bilirubin_total", "µmol/L", 21, 15, 70, 3, "ULN"),
    ],
)
def test_appendix_a_vectors_end_to_end(analyte, unit, uln, base, value, grade, basis):
    labs, tx = _labs_with_baseline(analyte, uln, base, value, unit)
    out = derive_lab_grades(labs, df_treatments=tx)
    assert out["ctcae_grade"].iloc[1] == grade
    assert out["grade_basis"].iloc[1] == basis
    assert out["baseline_value_si"].iloc[1] == base


# ------------------------------------------------------- both sides of every threshold

HIGH_ULN_CASES = {
    # analyte: (ULN, [(value, grade), ...]) with a normal (or no) baseline
    "bilirubin_total": (
        20,
        [(20, 0), (20.1, 1), (30, 1), (30.1, 2), (60, 2), (60.1, 3), (200, 3), (200.1, 4)],
    ),
    "alt": (
        40,
        [(40, 0), (40.1, 1), (120, 1), (120.1, 2), (200, 2), (200.1, 3), (800, 3), (800.1, 4)],
    ),
    "ast": (
        35,
        [(35, 0), (35.1, 1), (105, 1), (105.1, 2), (175, 2), (175.1, 3), (700, 3), (700.1, 4)],
    ),
    "alp": (
        120,
        [(120, 0), (120.1, 1), (300, 1), (300.1, 2), (600, 2), (600.1, 3), (2400, 3), (2400.1, 4)],
    ),
    "ggt": (
        60,
        [(60, 0), (60.1, 1), (150, 1), (150.1, 2), (300, 2), (300.1, 3), (1200, 3), (1200.1, 4)],
    ),
    "creatinine": (
        100,
        [(100, 0), (100.1, 1), (150, 1), (150.1, 2), (300, 2), (300.1, 3), (600, 3), (600.1, 4)],
    ),
}


@pytest.mark.parametrize(
    ("analyte", "value", "grade"),
    [(a, v, g) for a, (_, cases) in HIGH_ULN_CASES.items() for v, g in cases],
)
def test_uln_thresholds_both_sides(analyte, value, grade):
    uln = HIGH_ULN_CASES[analyte][0]
    assert compute_ctcae_grade(analyte, value, uln=uln) == grade
    # a normal baseline changes nothing
    assert compute_ctcae_grade(analyte, value, uln=uln, baseline=uln) == grade or (
        analyte == "creatinine"
    )


ABNORMAL_BASELINE_CASES = {
    # analyte: (ULN, baseline, [(value, grade), ...]) with baseline > ULN
    "bilirubin_total": (
        20,
        30,
        [(30, 0), (30.1, 1), (45, 1), (45.1, 2), (90, 2), (90.1, 3), (300, 3), (300.1, 4)],
    ),
    "alt": (
        40,
        80,
        [(119.9, 0), (120, 1), (240, 1), (240.1, 2), (400, 2), (400.1, 3), (1600, 3), (1600.1, 4)],
    ),
    "ast": (
        35,
        70,
        [(104.9, 0), (105, 1), (210, 1), (210.1, 2), (350, 2), (350.1, 3), (1400, 3), (1400.1, 4)],
    ),
    "alp": (
        120,
        200,
        [
            (399.9, 0),
            (400, 1),
            (500, 1),
            (500.1, 2),
            (1000, 2),
            (1000.1, 3),
            (4000, 3),
            (4000.1, 4),
        ],
    ),
    "ggt": (
        60,
        100,
        [(199.9, 0), (200, 1), (250, 1), (250.1, 2), (500, 2), (500.1, 3), (2000, 3), (2000.1, 4)],
    ),
}


@pytest.mark.parametrize(
    ("analyte", "value", "grade"),
    [(a, v, g) for a, (_, _, cases) in ABNORMAL_BASELINE_CASES.items() for v, g in cases],
)
def test_abnormal_baseline_thresholds_both_sides(analyte, value, grade):
    uln, base, _ = ABNORMAL_BASELINE_CASES[analyte]
    assert compute_ctcae_grade(analyte, value, uln=uln, baseline=base) == grade


def test_baseline_exactly_at_uln_is_normal():
    # baseline == ULN is "normal": graded on ULN (value 130 = 3.25 x ULN -> 2)
    assert compute_ctcae_grade("alt", 130, uln=40, baseline=40) == 2
    # just above ULN switches to the baseline branch (130 / 40.1 = 3.24 x baseline -> 2)
    assert compute_ctcae_grade("alt", 130, uln=40, baseline=40.1) == 2
    assert compute_ctcae_grade("alt", 100, uln=40, baseline=40.1) == 1  # 2.49 x base
    assert compute_ctcae_grade("alt", 100, uln=40, baseline=80) == 0  # 1.25 x base


def test_baseline_uln_decides_the_branch():
    # baseline 45 with its own ULN 50 is normal although the current ULN is 40: 60 > ULN -> 1;
    # judged against ULN 40 it is abnormal: 60 / 45 = 1.33 x baseline -> 0
    assert compute_ctcae_grade("alt", 60, uln=40, baseline=45, baseline_uln=50) == 1
    assert compute_ctcae_grade("alt", 60, uln=40, baseline=45, baseline_uln=40) == 0


LOW_CASES = {
    # analyte: (LLN, [(value, grade), ...])
    "albumin": (35, [(35, 0), (34.9, 1), (30, 1), (29.9, 2), (20, 2), (19.9, 3)]),
    "platelets": (
        150,
        [(150, 0), (149.9, 1), (75, 1), (74.9, 2), (50, 2), (49.9, 3), (25, 3), (24.9, 4)],
    ),
    "lymphocytes": (
        1.0,
        [(1.0, 0), (0.99, 1), (0.8, 1), (0.79, 2), (0.5, 2), (0.49, 3), (0.2, 3), (0.19, 4)],
    ),
    "neutrophils": (
        2.0,
        [(2.0, 0), (1.99, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3), (0.5, 3), (0.49, 4)],
    ),
    "wbc": (
        4.0,
        [(4.0, 0), (3.99, 1), (3.0, 1), (2.99, 2), (2.0, 2), (1.99, 3), (1.0, 3), (0.99, 4)],
    ),
    "haemoglobin": (130, [(130, 0), (129, 1), (100, 1), (99, 2), (80, 2), (79, 3), (40, 3)]),
    "sodium": (
        135,
        [(135, 0), (134, 1), (130, 1), (129, 2), (125, 2), (124, 3), (120, 3), (119, 4)],
    ),
}


@pytest.mark.parametrize(
    ("analyte", "value", "grade"),
    [(a, v, g) for a, (_, cases) in LOW_CASES.items() for v, g in cases],
)
def test_low_thresholds_both_sides(analyte, value, grade):
    assert compute_ctcae_grade(analyte, value, lln=LOW_CASES[analyte][0]) == grade


@pytest.mark.parametrize(
    ("value", "grade"), [(1.2, 0), (1.21, 1), (1.5, 1), (1.51, 2), (2.5, 2), (2.51, 3), (6.0, 3)]
)
def test_inr_absolute_thresholds(value, grade):
    assert compute_ctcae_grade("inr", value) == grade
    assert compute_ctcae_grade("inr", value, baseline=1.0) == grade  # not anticoagulated


@pytest.mark.parametrize(
    ("value", "grade"), [(2.0, 0), (2.01, 1), (2.6, 1), (3.0, 1), (3.01, 2), (5.0, 2), (5.01, 3)]
)
def test_inr_on_anticoagulation_uses_baseline_multiples(value, grade):
    assert compute_ctcae_grade("inr", value, baseline=2.0, anticoagulated=True) == grade


def test_inr_anticoagulated_without_baseline_is_not_gradable():
    assert compute_ctcae_grade("inr", 2.0, anticoagulated=True) is pd.NA


@pytest.mark.parametrize(
    ("value", "base", "grade"),
    [
        (90, 60, 0),  # 1.5 x baseline exactly, below ULN
        (90.1, 60, 2),  # > 1.5 x baseline although below ULN: the worse criterion wins
        (180, 60, 2),  # 3.0 x baseline exactly; 1.8 x ULN -> 2
        (180.1, 60, 3),  # > 3 x baseline
        (120, 100, 1),  # 1.2 x ULN and 1.2 x baseline
        (601, 300, 4),  # > 6 x ULN
    ],
)
def test_creatinine_takes_the_worse_of_uln_and_baseline(value, base, grade):
    assert compute_ctcae_grade("creatinine", value, uln=100, baseline=base) == grade


def test_vectorised_and_series_index_kept():
    values = pd.Series([130.0, 100.0, np.nan], index=["a", "b", "c"])
    out = compute_ctcae_grade("alt", values, uln=40, baseline=80)
    assert out.index.tolist() == ["a", "b", "c"]
    assert out.dtype == "Int64"
    assert out.tolist()[:2] == [1, 0]
    assert out.isna().tolist() == [False, False, True]


def test_analyte_without_criteria_is_not_graded():
    assert compute_ctcae_grade("afp", 1000.0, uln=10) is pd.NA


# ------------------------------------------------------------- derive_lab_grades


@pytest.fixture
def labs():
    return pd.DataFrame(
        {
            "patient_id": ["P1"] * 6 + ["P2"] * 3,
            "sample_date": pd.to_datetime(
                [
                    "2023-12-01",  # -40 d: outside the baseline window
                    "2023-12-20",  # -21 d
                    "2024-01-10",  # day 0: baseline (last in window), not post-baseline
                    "2024-02-10",  # +31 d
                    "2024-01-10",  # day 0, platelets
                    "2024-02-10",  # +31 d, platelets
                    "2024-01-01",
                    "2024-02-01",
                    "2024-03-01",
                ]
            ),
            "analyte": ["alt", "alt", "alt", "alt", "platelets", "platelets"]
            + ["bilirubin_total"] * 3,
            "value": [300.0, 35.0, 80.0, 130.0, 200.0, 60000.0, 1.5, 3.0, 0.5],
            "unit": ["U/L"] * 4 + ["10^9/L", "/mm3"] + ["mg/dL"] * 3,
            "lln": [np.nan] * 4 + [150.0, 150000.0] + [np.nan] * 3,
            "uln": [40.0] * 4 + [400.0, 400000.0] + [1.0] * 3,
        },
        index=range(100, 109),
    )


@pytest.fixture
def tx():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2"],
            "treatment_date": pd.to_datetime(["2024-01-10", "2024-03-01", "2024-01-05"]),
        }
    )


def test_derive_lab_grades_baseline_selection_and_branches(labs, tx):
    out = derive_lab_grades(labs, df_treatments=tx)
    assert out.index.tolist() == list(range(100, 109))
    p1 = out.loc[100:103]
    assert p1["days_from_first_sirt"].tolist() == [-40, -21, 0, 31]
    assert p1["is_baseline_sample"].tolist() == [False, False, True, False]
    assert p1["is_post_baseline"].tolist() == [False, False, False, True]
    assert (p1["baseline_value_si"] == 80.0).all()
    assert p1["is_baseline_abnormal"].tolist() == [True] * 4
    # pre-SIRT rows graded on ULN: 300 = 7.5 x ULN -> 3, 35 -> 0, 80 = 2 x ULN -> 1
    # post-SIRT row graded on baseline (abnormal): 130 / 80 = 1.625 -> 1
    assert p1["ctcae_grade"].tolist() == [3, 0, 1, 1]
    assert p1["grade_basis"].tolist() == ["ULN", "ULN", "ULN", "baseline"]
    assert p1["ctcae_term"].iloc[0] == "Alanine aminotransferase increased"


def test_derive_lab_grades_converts_units_before_grading(labs, tx):
    out = derive_lab_grades(labs, df_treatments=tx)
    # platelets 60,000/mm3 = 60 x 10^9/L -> grade 2 (< 75)
    assert out.loc[105, "value_si"] == pytest.approx(60.0)
    assert out.loc[105, "ctcae_grade"] == 2
    assert out.loc[105, "grade_basis"] == "absolute"
    assert out.loc[104, "ctcae_grade"] == 0
    assert out.loc[104, "grade_basis"] == "LLN"
    # bilirubin in mg/dL, ULN 1 mg/dL; baseline 1.5 mg/dL (abnormal), day +27: 3.0 mg/dL is
    # exactly 2.0 x baseline -> grade 2 (not 3); the conversion to umol/L must not flip it.
    p2 = out.loc[106:108]
    assert p2["baseline_value_si"].iloc[1] == pytest.approx(25.65)
    assert p2["ctcae_grade"].tolist() == [1, 2, 0]
    assert p2["grade_basis"].tolist() == ["ULN", "baseline", "baseline"]


def test_unit_conversion_noise_does_not_decide_a_grade():
    # 3 mg/dL with ULN 1 mg/dL is exactly 3.0 x ULN: grade 2, although 3 x 17.1 != 51.3 in floats
    labs = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "sample_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "analyte": ["bilirubin_total"] * 2,
            "value": [3.0, 51.3],
            "unit": ["mg/dL", "µmol/L"],
            "uln": [1.0, 17.1],
        }
    )
    assert derive_lab_grades(labs)["ctcae_grade"].tolist() == [2, 2]


def test_without_treatments_no_baseline_is_used(labs):
    out = derive_lab_grades(labs)
    assert out["baseline_value_si"].isna().all()
    assert out["first_sirt_date"].isna().all()
    assert out.loc[103, "ctcae_grade"] == 2  # 130 = 3.25 x ULN
    assert out["is_baseline_abnormal"].isna().all()


def test_missing_baseline_grades_on_uln(labs, tx):
    labs = labs.drop(index=[101, 102])  # no ALT in the -30..0 window
    out = derive_lab_grades(labs, df_treatments=tx)
    assert np.isnan(out.loc[103, "baseline_value_si"])
    assert out.loc[103, "ctcae_grade"] == 2
    assert out.loc[103, "grade_basis"] == "ULN"


def test_baseline_window_is_configurable(labs, tx):
    out = derive_lab_grades(labs, df_treatments=tx, baseline_window_days=(-60, -30))
    # only the -40 d sample (300 U/L) is in the window; 130 / 300 -> grade 0 (abnormal branch)
    assert out.loc[103, "baseline_value_si"] == 300.0
    assert out.loc[103, "ctcae_grade"] == 0


def test_missing_uln_error_names_the_row(labs, tx):
    bad = labs.copy()
    bad.loc[[101, 103], "uln"] = np.nan
    with pytest.raises(SirtDataError, match=r"labs\.uln: 1 rows cannot be graded") as err:
        derive_lab_grades(bad, df_treatments=tx)
    # row 101 is pre-SIRT (needs ULN); row 103 is graded on its abnormal baseline (no ULN needed)
    # but its baseline ULN is known -> only 101 fails
    assert "(P1, 2023-12-20, alt, ULN)" in str(err.value)
    assert err.value.rows.index.tolist() == [101]
    assert err.value.column == "uln"


def test_missing_uln_on_normal_baseline_branch_fails(tx):
    labs = pd.DataFrame(
        {
            "patient_id": ["P1", "P1"],
            "sample_date": pd.to_datetime(["2024-01-05", "2024-02-10"]),
            "analyte": ["ast", "ast"],
            "value": [20.0, 50.0],
            "unit": ["U/L", "U/L"],
            "uln": [40.0, np.nan],
        }
    )
    with pytest.raises(SirtDataError, match=r"\(P1, 2024-02-10, ast, ULN\)"):
        derive_lab_grades(labs, df_treatments=tx)
    out = derive_lab_grades(labs, df_treatments=tx, missing_limits="ungraded")
    assert out["ctcae_grade"].isna().tolist() == [False, True]


def test_missing_lln_only_matters_when_it_decides_the_grade():
    labs = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "sample_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "analyte": ["platelets", "platelets"],
            "value": [60.0, 120.0],
            "unit": ["10^9/L"] * 2,
            "lln": [np.nan, np.nan],
        }
    )
    with pytest.raises(SirtDataError, match=r"labs\.lln: 1 rows .*\(P2, 2024-01-01, platelets"):
        derive_lab_grades(labs)
    out = derive_lab_grades(labs, missing_limits="ungraded")
    assert out["ctcae_grade"].iloc[0] == 2  # < 75 whatever the LLN
    assert out["ctcae_grade"].isna().iloc[1]


def test_unknown_unit_error_through_derive_lab_grades(labs, tx):
    bad = labs.copy()
    bad.loc[107, "unit"] = "mmol/L"
    with pytest.raises(SirtDataError, match=r"\(P2, 2024-02-01, bilirubin_total, 'mmol/L'\)"):
        derive_lab_grades(bad, df_treatments=tx)


def test_anticoagulated_column(tx):
    labs = pd.DataFrame(
        {
            "patient_id": ["P1", "P1"],
            "sample_date": pd.to_datetime(["2024-01-05", "2024-02-10"]),
            "analyte": ["inr", "inr"],
            "value": [2.0, 2.6],
            "unit": ["ratio", "ratio"],
            "on_vka": [True, True],
        }
    )
    plain = derive_lab_grades(labs, df_treatments=tx)
    assert plain["ctcae_grade"].tolist() == [2, 3]
    anti = derive_lab_grades(labs, df_treatments=tx, anticoagulated_col="on_vka")
    # on anticoagulation every sample is graded on multiples of baseline: 1.0 -> 0, 1.3 -> 1
    assert anti["ctcae_grade"].tolist() == [0, 1]
    assert anti["grade_basis"].tolist() == ["baseline", "baseline"]


def test_non_ctcae_analytes_pass_through_ungraded(tx):
    labs = pd.DataFrame(
        {
            "patient_id": ["P1"],
            "sample_date": pd.to_datetime(["2024-02-01"]),
            "analyte": ["afp"],
            "value": [800.0],
            "unit": ["ng/mL"],
        }
    )
    out = derive_lab_grades(labs, df_treatments=tx)
    assert out["ctcae_grade"].isna().all()
    assert out["ctcae_term"].isna().all()


def test_missing_value_is_not_graded_and_not_an_error(tx):
    labs = pd.DataFrame(
        {
            "patient_id": ["P1"],
            "sample_date": pd.to_datetime(["2024-02-01"]),
            "analyte": ["alt"],
            "value": [np.nan],
            "unit": ["U/L"],
            "uln": [np.nan],
        }
    )
    assert derive_lab_grades(labs, df_treatments=tx)["ctcae_grade"].isna().all()


def test_derive_lab_grades_does_not_mutate_inputs(labs, tx):
    before_labs, before_tx = labs.copy(), tx.copy()
    derive_lab_grades(labs, df_treatments=tx)
    pd.testing.assert_frame_equal(labs, before_labs)
    pd.testing.assert_frame_equal(tx, before_tx)


def test_invalid_options(labs):
    with pytest.raises(
        ValueError,
        match=r"The 'missing_limits' argument of derive_lab_grades "
        r"must be one of \{'error', 'ungraded'\}\. Got 'skip'",
    ):
        derive_lab_grades(labs, missing_limits="skip")
    with pytest.raises(ValueError, match=r"'baseline_window_days'"):
        derive_lab_grades(labs, baseline_window_days=(0, -30))
    with pytest.raises(ValueError, match=r"'version' argument of load_ctcae_criteria"):
        load_ctcae_criteria("6.0")


def test_options_are_case_insensitive(labs):
    derive_lab_grades(labs.drop(index=[104, 105]), missing_limits="ERROR")


# ------------------------------------------------------------ the criteria table itself


def test_criteria_table_is_consistent():
    crit = load_ctcae_criteria()
    assert set(crit["analyte"]) <= set(ACCEPTED_UNITS)
    assert crit.groupby("analyte")["term"].nunique().max() == 1
    for (_analyte, _condition, basis), g in crit.groupby(["analyte", "condition", "basis"]):
        g = g.sort_values("grade")
        assert g["grade"].is_unique
        if basis == "absolute" and g["direction"].iloc[0] == "low":
            assert g["threshold"].is_monotonic_decreasing
        elif basis != "absolute":
            assert g["threshold"].is_monotonic_increasing


def test_load_ctcae_criteria_returns_a_copy():
    a = load_ctcae_criteria()
    a.loc[0, "threshold"] = 99.0
    assert load_ctcae_criteria().loc[0, "threshold"] == 1.0


# --- options (issue #12 item 4): off by default, where the default follows the CTCAE v5.0 text


@pytest.mark.parametrize(
    ("value", "default_grade", "symptomatic_grade"),
    [
        (130.0, 1, 1),  # < LLN 135, not < 130
        (129.9, 2, 3),
        (125.0, 2, 3),  # 125-129: grade 2 asymptomatic, grade 3 symptomatic (CTCAE v5.0)
        (124.9, 3, 3),  # 120-124 regardless of symptoms
        (119.9, 4, 4),
    ],
)
def test_hyponatremia_125_129_option(value, default_grade, symptomatic_grade):
    assert compute_ctcae_grade("sodium", value, lln=135) == default_grade
    got = compute_ctcae_grade("sodium", value, lln=135, hyponatremia_125_129="symptomatic")
    assert got == symptomatic_grade


@pytest.mark.parametrize(
    ("value", "base", "default_grade", "worse_grade"),
    [
        (1.2, 1.0, 0, 1),  # absolute 0 (not > 1.2); > 1.0 x baseline -> 1 (admiral 36a #7)
        (1.2, 1.2, 0, 0),  # neither criterion (admiral 36a #14)
        (2.5, 0.99, 2, 3),  # 2.525 x baseline > 2.5 -> 3 (admiral 36a #9)
        (2.51, 2.6, 3, 3),  # absolute > 2.5 although below baseline (admiral 36a #3)
        (1.5, 0.6, 1, 2),  # 2.5 x baseline exactly is not > 2.5 -> 2 (admiral 36a #10)
    ],
)
def test_inr_worse_of_both_option(value, base, default_grade, worse_grade):
    assert compute_ctcae_grade("inr", value, baseline=base) == default_grade
    got = compute_ctcae_grade("inr", value, baseline=base, inr_criteria="worse_of_both")
    assert got == worse_grade


def test_inr_worse_of_both_without_baseline_is_undetermined_unless_absolute_decides():
    assert compute_ctcae_grade("inr", 1.2, inr_criteria="worse_of_both") is pd.NA
    # > 2.5 is grade 3 whatever the baseline, the top grade: decided
    assert compute_ctcae_grade("inr", 2.6, inr_criteria="worse_of_both") == 3


def _inr_labs():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1"],
            "sample_date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-10"]),
            "analyte": ["inr"] * 3,
            "value": [1.0, 1.2, 1.6],
            "unit": ["ratio"] * 3,
            "lln": [np.nan] * 3,
            "uln": [np.nan] * 3,
        }
    )


def test_derive_lab_grades_inr_worse_of_both(tx):
    labs = _inr_labs()
    default = derive_lab_grades(labs, df_treatments=tx)
    worse = derive_lab_grades(labs, df_treatments=tx, inr_criteria="worse_of_both")
    # baseline 1.0 (2024-01-05): 1.2 -> absolute 0 / 1.2 x baseline 1; 1.6 -> absolute 2 / 1.6 x 1
    assert default["ctcae_grade"].tolist() == [0, 0, 2]
    assert worse["ctcae_grade"].tolist() == [0, 1, 2]
    assert worse["grade_basis"].tolist()[1] == "baseline"


def test_derive_lab_grades_hyponatremia_option(tx):
    labs = pd.DataFrame(
        {
            "patient_id": ["P1"],
            "sample_date": pd.to_datetime(["2024-02-10"]),
            "analyte": ["sodium"],
            "value": [127.0],
            "unit": ["mmol/L"],
            "lln": [135.0],
            "uln": [145.0],
        }
    )
    assert derive_lab_grades(labs, df_treatments=tx)["ctcae_grade"].tolist() == [2]
    out = derive_lab_grades(labs, df_treatments=tx, hyponatremia_125_129="Symptomatic")
    assert out["ctcae_grade"].tolist() == [3]


def test_invalid_grading_options_are_refused():
    with pytest.raises(ValueError, match="'hyponatremia_125_129' argument of compute_ctcae_grade"):
        compute_ctcae_grade("sodium", 128, lln=135, hyponatremia_125_129="yes")
    with pytest.raises(ValueError, match="'inr_criteria' argument of derive_lab_grades"):
        derive_lab_grades(_inr_labs(), inr_criteria="max")


def test_options_do_not_change_the_bundled_table():
    before = load_ctcae_criteria()
    compute_ctcae_grade("sodium", 128, lln=135, hyponatremia_125_129="symptomatic")
    compute_ctcae_grade("inr", 1.3, baseline=1.0, inr_criteria="worse_of_both")
    pd.testing.assert_frame_equal(load_ctcae_criteria(), before)
