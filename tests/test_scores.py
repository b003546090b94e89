"""Tests for sirtstats.scores against sirt-domain.md Appendix A and the section 3 tables.

Expected values are hand-computed from the published formulas (Johnson 2015 ALBI, Pugh 1973
Child-Pugh, Kamath 2001 / UNOS MELD, DuBois 1916 BSA); each threshold is tested on both sides.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sirtstats.scores import (
    compute_albi,
    compute_albi_grade,
    compute_bsa_dubois,
    compute_child_pugh_class,
    compute_child_pugh_points,
    compute_meld,
    derive_liver_scores,
)

MG_DL = 17.1  # bilirubin mg/dL -> umol/L
CR_MG_DL = 88.4  # creatinine mg/dL -> umol/L

# ----------------------------------------------------------------------------------------- ALBI


@pytest.mark.parametrize(
    ("bili", "alb", "score", "grade"),
    [
        (17.1, 40.0, -2.586, 2),  # Appendix A "ALBI boundary"
        (10.0, 45.0, -3.165, 1),  # Appendix A "ALBI grade 1"
        (34.2, 30.0, -1.538, 2),  # Appendix A "ALBI grade 2"
        (60.0, 27.0, -1.121, 3),  # 0.66*1.77815 - 2.295
    ],
)
def test_albi_appendix_a_vectors(bili, alb, score, grade):
    assert compute_albi(bili, alb) == pytest.approx(score, abs=5e-4)
    assert compute_albi_grade(compute_albi(bili, alb)) == grade


@pytest.mark.parametrize(
    ("score", "grade"),
    [(-2.6001, 1), (-2.60, 1), (-2.5999, 2), (-1.3901, 2), (-1.39, 2), (-1.3899, 3)],
)
def test_albi_grade_both_sides_of_each_cutoff(score, grade):
    assert compute_albi_grade(score) == grade


def test_albi_nonpositive_bilirubin_is_nan_and_grade_na():
    assert math.isnan(compute_albi(0.0, 40.0))
    assert math.isnan(compute_albi(-1.0, 40.0))
    assert compute_albi_grade(float("nan")) is pd.NA


def test_albi_series_keeps_index():
    bili = pd.Series([17.1, 10.0, np.nan], index=["a", "b", "c"])
    alb = pd.Series([40.0, 45.0, 40.0], index=["a", "b", "c"])
    score = compute_albi(bili, alb)
    assert list(score.index) == ["a", "b", "c"]
    grade = compute_albi_grade(score)
    expected = pd.Series(pd.array([2, 1, pd.NA], dtype="Int64"), index=["a", "b", "c"])
    pd.testing.assert_series_equal(grade, expected)


def test_albi_uses_log10_not_ln():
    # bili 100 umol/L: log10 = 2 -> 1.32 - 0.085*40 = -2.08 (ln would give 3.04 - 3.4 = -0.36)
    assert compute_albi(100.0, 40.0) == pytest.approx(-2.08)


# ------------------------------------------------------------------------------------------ BSA


def test_bsa_dubois_appendix_a():
    assert compute_bsa_dubois(175, 75) == pytest.approx(1.9031, abs=5e-5)
    # not Mosteller (1.9094)
    assert abs(compute_bsa_dubois(175, 75) - 1.9094) > 5e-3


def test_bsa_dubois_series_and_missing():
    out = compute_bsa_dubois(pd.Series([175.0, np.nan]), pd.Series([75.0, 70.0]))
    assert out.iloc[0] == pytest.approx(1.9031, abs=5e-5)
    assert np.isnan(out.iloc[1])


# ----------------------------------------------------------------------------------- Child-Pugh


def _cp(bili=20.0, alb=40.0, inr=1.0, asc="none", enc="none", **kw):
    """Child-Pugh points with every other item at 1 point (baseline total 5)."""
    return compute_child_pugh_points(bili, alb, inr, asc, enc, **kw)


def test_child_pugh_appendix_a_vector():
    # bili 2.0 mg/dL, alb 3.5 g/dL, INR 1.2, no ascites, no HE: 2+2+1+1+1 = 7 -> B
    points = compute_child_pugh_points(2.0 * MG_DL, 3.5 * 10, 1.2, "none", "none")
    assert points == 7
    assert compute_child_pugh_class(points) == "B"


@pytest.mark.parametrize(
    ("bili", "points"),
    [(34.1, 5), (34.2, 6), (2.0 * MG_DL, 6), (51.3, 6), (3.0 * MG_DL, 6), (51.4, 7)],
)
def test_child_pugh_bilirubin_boundaries_score_2(bili, points):
    # 3.0 mg/dL * 17.1 = 51.300000000000004 in floating point: still the 2-point boundary
    assert _cp(bili=bili) == points


@pytest.mark.parametrize(
    ("bili", "points"), [(34.9, 5), (35.0, 6), (50.0, 6), (50.1, 7), (34.5, 5)]
)
def test_child_pugh_french_bilirubin_cutoffs(bili, points):
    assert _cp(bili=bili, bilirubin_cutoffs_umol_l=(35, 50)) == points


@pytest.mark.parametrize(
    ("alb", "points"),
    [(35.1, 5), (35.0, 6), (3.5 * 10, 6), (28.0, 6), (2.8 * 10, 6), (27.9, 7)],
)
def test_child_pugh_albumin_boundaries_score_2(alb, points):
    assert _cp(alb=alb) == points


@pytest.mark.parametrize(
    ("inr", "points"), [(1.69, 5), (1.7, 6), (2.3, 6), (2.31, 7)]
)
def test_child_pugh_inr_boundaries_score_2(inr, points):
    assert _cp(inr=inr) == points


@pytest.mark.parametrize(
    ("tp", "points"), [(51.0, 5), (50.0, 6), (40.0, 6), (39.0, 7)]
)
def test_child_pugh_prothrombin_ratio_used_when_inr_missing(tp, points):
    assert _cp(inr=np.nan, prothrombin_pct=tp) == points


def test_child_pugh_inr_takes_precedence_over_tp():
    # INR 1.2 (1 point) wins over TP 30 % (3 points)
    assert _cp(inr=1.2, prothrombin_pct=30.0) == 5


def test_child_pugh_missing_coagulation_is_na():
    assert _cp(inr=np.nan) is pd.NA
    assert _cp(inr=np.nan, prothrombin_pct=np.nan) is pd.NA


@pytest.mark.parametrize(
    ("asc", "enc", "points"),
    [
        ("none", "none", 5),
        ("mild", "none", 6),
        ("moderate_severe", "none", 7),
        ("none", "grade_1_2", 6),
        ("none", "grade_3_4", 7),
        ("moderate_severe", "grade_3_4", 9),
    ],
)
def test_child_pugh_ascites_and_encephalopathy(asc, enc, points):
    assert _cp(asc=asc, enc=enc) == points


def test_child_pugh_unknown_category_is_na_not_zero():
    assert _cp(asc="severe") is pd.NA
    assert _cp(enc=None) is pd.NA


def test_child_pugh_worst_case_is_15_class_c():
    points = compute_child_pugh_points(100.0, 20.0, 3.0, "moderate_severe", "grade_3_4")
    assert points == 15
    assert compute_child_pugh_class(points) == "C"


def test_child_pugh_vectorised_keeps_index():
    idx = ["x", "y", "z"]
    out = compute_child_pugh_points(
        pd.Series([20.0, 40.0, 60.0], index=idx),
        pd.Series([40.0, 30.0, 25.0], index=idx),
        pd.Series([1.0, np.nan, 2.5], index=idx),
        pd.Series(["none", "mild", "moderate_severe"], index=idx),
        pd.Series(["none", "none", "grade_3_4"], index=idx),
        prothrombin_pct=pd.Series([np.nan, 45.0, np.nan], index=idx),
    )
    # y: 2 + 2 + TP 45 -> 2 + 2 + 1 = 9; z: 3 + 3 + 3 + 3 + 3 = 15
    expected = pd.Series(pd.array([5, 9, 15], dtype="Int64"), index=idx)
    pd.testing.assert_series_equal(out, expected)


@pytest.mark.parametrize(
    ("points", "cls"), [(5, "A"), (6, "A"), (7, "B"), (9, "B"), (10, "C"), (15, "C")]
)
def test_child_pugh_class_both_sides_of_each_cutoff(points, cls):
    assert compute_child_pugh_class(points) == cls


def test_child_pugh_class_missing_and_out_of_range():
    out = compute_child_pugh_class(pd.Series(pd.array([6, pd.NA, 16], dtype="Int64")))
    assert out.iloc[0] == "A"
    assert out.iloc[1] is None
    assert out.iloc[2] is None


# ----------------------------------------------------------------------------------------- MELD


def test_meld_appendix_a_vector():
    # bili 2.0, INR 1.3, creat 1.0 mg/dL: 10*MELD(i) = 11.99 -> 12
    assert compute_meld(2.0 * MG_DL, 1.3, 1.0 * CR_MG_DL) == 12


def test_meld_floor_appendix_a():
    # all values 1: 6.43 -> 6; values below 1 are floored at 1
    assert compute_meld(1.0 * MG_DL, 1.0, 1.0 * CR_MG_DL) == 6
    assert compute_meld(0.3 * MG_DL, 0.9, 0.5 * CR_MG_DL) == 6


def test_meld_creatinine_capped_at_4_and_dialysis():
    # cr 4 mg/dL: 10*(0.957 ln 4 + 0.643) = 19.70 -> 20
    assert compute_meld(MG_DL, 1.0, 4.0 * CR_MG_DL) == 20
    assert compute_meld(MG_DL, 1.0, 6.0 * CR_MG_DL) == 20
    assert compute_meld(MG_DL, 1.0, 1.0 * CR_MG_DL, on_dialysis=True) == 20


def test_meld_upper_bound_40():
    # 10*(0.957 ln4 + 0.378 ln40 + 1.12 ln5 + 0.643) = 51.7 -> 40
    assert compute_meld(40 * MG_DL, 5.0, 4.0 * CR_MG_DL) == 40


def test_meld_rounds_after_multiplying_by_10():
    # INR 1.2: 10*(1.12 ln 1.2 + 0.643) = 8.472 -> 8 (rounding MELD(i) first: 0.8 -> 8 too);
    # bili 3 mg/dL, INR 1.5: 10*(0.378 ln3 + 1.12 ln1.5 + 0.643) = 15.10 -> 15
    assert compute_meld(MG_DL, 1.2, CR_MG_DL) == 8
    assert compute_meld(3 * MG_DL, 1.5, CR_MG_DL) == 15


def test_meld_missing_input_is_na():
    assert compute_meld(np.nan, 1.2, CR_MG_DL) is pd.NA
    out = compute_meld(pd.Series([2 * MG_DL, 20.0]), pd.Series([1.3, np.nan]),
                       pd.Series([CR_MG_DL, CR_MG_DL]))
    pd.testing.assert_series_equal(out, pd.Series(pd.array([12, pd.NA], dtype="Int64")))


def test_derive_liver_scores_adds_albi_and_child_pugh_without_touching_the_input():
    df = pd.DataFrame({"bilirubin_umol_l": [17.1, 60.0, None],
                       "albumin_g_l": [40.0, 27.0, 40.0], "inr": [1.0, None, 1.0],
                       "prothrombin_pct": [None, 35.0, None],
                       "ascites": ["none", "moderate_severe", "none"],
                       "encephalopathy": ["none", "grade_1_2", "none"]})
    before = df.copy()
    out = derive_liver_scores(df)
    pd.testing.assert_frame_equal(df, before)
    # row 1: ALBI -2.586 (grade 2, sirt-domain.md Appendix A); CP 1+1+1+1+1 = 5 (A)
    # row 2: bilirubin > 51.3 -> 3, albumin < 28 -> 3, TP 35 % < 40 -> 3, ascites 3, HE 2 = 14
    assert out["albi_grade"].tolist()[:2] == [2, 3]
    assert out["child_pugh_points"].tolist()[:2] == [5, 14]
    assert out["child_pugh_class"].tolist()[:2] == ["A", "C"]
    assert out["albi_grade"].isna().tolist() == [False, False, True]
    assert out["child_pugh_points"].isna().tolist() == [False, False, True]
