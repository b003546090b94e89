"""Conformance of CTCAE v5.0 lab grading with admiral's own test suite.

pharmaverse/admiral ``tests/testthat/test-derive_var_atoxgr.R`` grades hand-made tables with
``derive_var_atoxgr_dir(meta_criteria = atoxgr_criteria_ctcv5 / _uscv)``. Its CTCAE v5 tables for
every analyte sirtstats grades are vendored in ``tests/golden/admiral/atoxgr_ctcv5_cases.csv``
(see PROVENANCE.md there: upstream commit, licence, and how each table was materialised) and
read here at test time. Each row is graded with :func:`sirtstats.ctcae.compute_ctcae_grade`
after converting its unit with :func:`sirtstats.units.compute_unit_factor`, and compared with
admiral's expected grade (missing = not gradable on both sides).

Adapter (admiral -> sirtstats), decided once here:

- ``ATOXDSCL``/``ATOXDSCH`` term -> sirtstats analyte (case-insensitive, :data:`TERMS`); "Not a
  term" and missing terms map to no analyte, which sirtstats does not grade.
- ``AVAL``, ``ANRLO``, ``ANRHI``, ``BASE`` -> value, LLN, ULN, baseline (× unit factor). The
  baseline is abnormal when ``BASE > ANRHI`` (admiral's tables set ``BNRIND = "HIGH"`` exactly
  when ``ANRHI = BASE - 1``, and ``"NORMAL"`` when ``BASE = ANRHI``), which is sirtstats' rule.
- A unit sirtstats refuses (``G/cL``, missing) gives no grade, like admiral. admiral leaves
  ``AVALU`` missing in its ULN/baseline-multiple tables (ALT, AST, ALP, GGT, bilirubin,
  creatinine, INR), where the unit cancels out; the adapter uses factor 1 there. (sirtstats'
  table-level :func:`~sirtstats.ctcae.derive_lab_grades` always requires a unit: stricter.)
- admiral grades without an anticoagulation flag and takes the worst case for symptoms, so the
  comparison uses ``inr_criteria="worse_of_both"`` and ``hyponatremia_125_129="symptomatic"``;
  the defaults (CTCAE v5.0 text) differ from admiral on the rows counted in
  :func:`test_defaults_follow_ctcae_text_not_admiral`.

Deliberate differences (:data:`DELIBERATE`): sirtstats keeps its own answer and says why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sirtstats import SirtDataError
from sirtstats.ctcae import compute_ctcae_grade
from sirtstats.units import compute_unit_factor, normalise_lab_units

CASES = Path(__file__).parent / "golden" / "admiral" / "atoxgr_ctcv5_cases.csv"

TERMS = {
    "anemia": "haemoglobin",
    "alanine aminotransferase increased": "alt",
    "alkaline phosphatase increased": "alp",
    "aspartate aminotransferase increased": "ast",
    "blood bilirubin increased": "bilirubin_total",
    "creatinine increased": "creatinine",
    "ggt increased": "ggt",
    "inr increased": "inr",
    "lymphocyte count decreased": "lymphocytes",
    "neutrophil count decreased": "neutrophils",
    "platelet count decreased": "platelets",
    "white blood cell decreased": "wbc",
    "hypoalbuminemia": "albumin",
    "hyponatremia": "sodium",
}

#: Analytes graded only on multiples of ULN/baseline (or the unit-free INR): no unit needed.
UNIT_FREE = {"alt", "ast", "alp", "ggt", "bilirubin_total", "creatinine", "inr"}

#: case_id -> (sirtstats grade, reason). Each is a place where admiral's expected grade and the
#: CTCAE v5.0 text disagree and sirtstats follows the text.
DELIBERATE = {
    166: (
        1,
        "GGT 80 U/L with abnormal baseline 40 U/L is exactly 2.0 x baseline. CTCAE v5.0 GGT "
        "increased grade 1: '2.0 - 2.5 x baseline if baseline was abnormal' includes 2.0 "
        "(admiral's own ALP test 14a, same wording, grades 80/40 as 1; its GGT test 30a as 0).",
    ),
}

OPTIONS = {"hyponatremia_125_129": "symptomatic", "inr_criteria": "worse_of_both"}


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return pd.read_csv(CASES, dtype={"expected_grade": "Int64", "case_id": "int64"})


def _analytes(cases: pd.DataFrame) -> pd.Series:
    return cases["term"].str.lower().map(TERMS)


def _factors(cases: pd.DataFrame) -> np.ndarray:
    out = []
    for analyte, unit in zip(_analytes(cases), cases["AVALU"], strict=True):
        if not isinstance(analyte, str):
            out.append(1.0)  # not a CTCAE term: ungraded whatever the unit
        elif pd.isna(unit) and analyte in UNIT_FREE:
            out.append(1.0)
        else:
            out.append(compute_unit_factor(analyte, unit))
    return np.asarray(out, dtype=float)


def _grade(cases: pd.DataFrame, **options) -> pd.Series:
    f = _factors(cases)
    analytes = _analytes(cases).fillna("not_a_ctcae_term").to_numpy(dtype=object)
    grades = compute_ctcae_grade(
        analytes,
        cases["AVAL"].to_numpy(float) * f,
        uln=cases["ANRHI"].to_numpy(float) * f,
        lln=cases["ANRLO"].to_numpy(float) * f,
        baseline=cases["BASE"].to_numpy(float) * f,
        **options,
    )
    out = pd.Series(grades.to_numpy(), index=cases.index, dtype="Int64")
    out[np.isnan(f)] = pd.NA  # unit refused: not graded
    return out


def _agree(a: pd.Series, b: pd.Series) -> np.ndarray:
    return (a.fillna(-1) == b.fillna(-1)).to_numpy()


def test_vendored_table_covers_every_graded_analyte(cases):
    from sirtstats.ctcae import load_ctcae_criteria

    graded = set(load_ctcae_criteria()["analyte"])
    assert set(_analytes(cases).dropna()) == graded
    assert len(cases) == 490
    assert cases["case_id"].is_unique


def test_admiral_atoxgr_ctcv5_cases(cases):
    got = _grade(cases, **OPTIONS)
    expected = cases["expected_grade"].copy()
    ids = cases["case_id"].to_numpy()
    for case_id, (grade, _why) in DELIBERATE.items():
        expected[ids == case_id] = grade
    agree = _agree(got, expected)
    shown = cases.assign(sirtstats=got)[~agree]
    assert agree.all(), shown[["case_id", "admiral_test", "term", "AVAL", "BASE", "sirtstats"]]


def test_deliberate_differences_really_differ_from_admiral(cases):
    # guards the list: if admiral's table or sirtstats changes, the exception must be revisited
    got = _grade(cases, **OPTIONS)
    upstream_agree = _agree(got, cases["expected_grade"])
    ids = cases["case_id"].to_numpy()
    assert sorted(ids[~upstream_agree].tolist()) == sorted(DELIBERATE)
    assert int(upstream_agree.sum()) == 489


def test_defaults_follow_ctcae_text_not_admiral(cases):
    # With the CTCAE-text defaults, sodium 129 mmol/L is grade 2 (asymptomatic 125-129) where
    # admiral gives 3 (tests 80a/80b, with and without LLN: 4 rows), and INR is graded on
    # absolute thresholds only where admiral also uses > 1 x baseline (test 36a: 1.2/1.0,
    # 1.2/0.8, 1.2/1.19 -> 0 not 1; 1.5/0.6 -> 1 not 2; 2.5/0.99 -> 2 not 3; 1.5/0.99 -> 1 not
    # 2; 1.2 with missing baseline -> 0 not NA: 7 rows).
    got = _grade(cases)
    disagree = cases[~_agree(got, cases["expected_grade"])]
    counts = disagree.groupby("admiral_test").size().to_dict()
    assert counts == {"30a": 1, "36a": 7, "80a": 2, "80b": 2}
    sodium = disagree[disagree["admiral_test"].isin(["80a", "80b"])]
    assert sodium["AVAL"].tolist() == [129.0] * 4


def test_rows_admiral_cannot_grade_for_their_unit_are_refused_by_normalise_lab_units(cases):
    bad = cases[cases["upstream_comment"].fillna("").str.contains("UNIT|Unit missing")]
    bad = bad[~_analytes(bad).isin(UNIT_FREE)]
    assert len(bad) == 20  # one per absolute-threshold table
    labs = pd.DataFrame(
        {
            "patient_id": [f"A{i}" for i in bad["case_id"]],
            "sample_date": pd.Timestamp("2024-01-01"),
            "analyte": _analytes(bad).to_numpy(),
            "value": bad["AVAL"].to_numpy(),
            "unit": bad["AVALU"].to_numpy(),
        }
    )
    with pytest.raises(SirtDataError, match="20 rows have a unit that is not accepted") as err:
        normalise_lab_units(labs)
    assert len(err.value.rows) == 20


@pytest.mark.parametrize("test_id", ["40c", "44b", "46c", "50b"])
def test_legacy_10e3_per_ml_tables_are_graded_through_the_unit_table(cases, test_id):
    # the legacy USCV unit 10^3/mL (= 1/µL) must not be refused: every row with a grade in
    # admiral gets the same grade here (covered above), and none of them is refused
    rows = cases[(cases["admiral_test"] == test_id) & (cases["AVALU"] == "10^3/mL")]
    assert len(rows) > 0
    assert not np.isnan(_factors(rows)).any()
