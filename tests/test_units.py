"""Tests for sirtstats.units: accepted units per analyte and conversion to SI.

Expected factors are the published conversions (bilirubin 17.1, creatinine 88.4, g/dL x 10,
1/mm3 = 1e-3 x 10^9/L, 1 ukat/L = 60 U/L), written by hand, never read back from the table.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sirtstats import SirtDataError
from sirtstats.schema import load_schema
from sirtstats.units import (
    ACCEPTED_UNITS,
    CANONICAL_UNITS,
    compute_unit_factor,
    is_accepted_unit,
    normalise_lab_units,
    normalise_unit_label,
)


def _analyte_enum() -> list[str]:
    schema = load_schema("labs")
    fields = {f.name: f for f in schema.fields}
    return list(fields["analyte"].enum)


def test_every_schema_analyte_has_accepted_units_and_a_canonical_unit():
    analytes = _analyte_enum()
    assert sorted(analytes) == sorted(ACCEPTED_UNITS)
    assert sorted(analytes) == sorted(CANONICAL_UNITS)


@pytest.mark.parametrize("analyte", sorted(CANONICAL_UNITS))
def test_canonical_unit_is_accepted_with_factor_one(analyte):
    assert compute_unit_factor(analyte, CANONICAL_UNITS[analyte]) == 1.0


@pytest.mark.parametrize(
    ("analyte", "unit", "factor"),
    [
        ("bilirubin_total", "mg/dL", 17.1),
        ("bilirubin_total", "mg/L", 1.71),
        ("bilirubin_total", "µmol/L", 1.0),
        ("albumin", "g/dL", 10.0),
        ("albumin", "g/L", 1.0),
        ("creatinine", "mg/dL", 88.4),
        ("haemoglobin", "g/dL", 10.0),
        ("platelets", "/mm3", 0.001),
        ("platelets", "10^3/µL", 1.0),
        ("lymphocytes", "/µL", 0.001),
        ("neutrophils", "G/L", 1.0),
        ("alt", "µkat/L", 60.0),
        ("ast", "IU/L", 1.0),
        ("sodium", "mEq/L", 1.0),
        ("inr", "ratio", 1.0),
        ("prothrombin_pct", "%", 1.0),
    ],
)
def test_conversion_factors(analyte, unit, factor):
    assert compute_unit_factor(analyte, unit) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize(
    ("analyte", "spelling"),
    [
        ("bilirubin_total", "umol/l"),
        ("bilirubin_total", "μmol/L"),  # Greek mu (U+03BC), not the micro sign
        ("bilirubin_total", "µmol/L"),  # micro sign (U+00B5)
        ("bilirubin_total", "mcmol/L"),
        ("bilirubin_total", " mg/dl "),
        ("platelets", "x10^9/L"),
        ("platelets", "10*9/L"),
        ("platelets", "10E9/L"),
        ("platelets", "x 10^9 / L"),
        ("platelets", "/mm³"),
        ("platelets", "cells/µL"),
        ("platelets", "G/l"),
        ("alt", "iu/l"),
    ],
)
def test_spelling_variants_are_accepted(analyte, spelling):
    assert is_accepted_unit(analyte, spelling)


@pytest.mark.parametrize(
    ("analyte", "unit"),
    [
        ("albumin", "/mm3"),  # a count unit for a concentration
        ("albumin", "mg/dL"),
        ("bilirubin_total", "mmol/L"),  # 1000 x off: refused, not guessed
        ("platelets", "g/dL"),
        ("creatinine", "U/L"),
        ("alt", "mg/dL"),
        ("inr", "s"),  # prothrombin time seconds is not an INR
        ("no_such_analyte", "g/L"),
        ("albumin", None),
        ("albumin", ""),
    ],
)
def test_unknown_units_are_refused(analyte, unit):
    assert not is_accepted_unit(analyte, unit)
    assert math.isnan(compute_unit_factor(analyte, unit))


def test_g_per_l_means_grams_for_albumin_and_giga_for_counts():
    assert compute_unit_factor("albumin", "g/L") == 1.0
    assert compute_unit_factor("platelets", "G/L") == 1.0
    assert compute_unit_factor("albumin", "g/dL") == 10.0
    assert not is_accepted_unit("platelets", "g/dL")


def test_schema_example_units_are_all_accepted_somewhere():
    # labs.yaml unit description: µmol/L, mg/dL, g/L, g/dL, U/L, 10^9/L, /mm3, ratio, %
    examples = ["µmol/L", "mg/dL", "g/L", "g/dL", "U/L", "10^9/L", "/mm3", "ratio", "%"]
    for unit in examples:
        assert any(is_accepted_unit(a, unit) for a in ACCEPTED_UNITS), unit


def test_normalise_unit_label_examples():
    assert normalise_unit_label("µmol/L") == normalise_unit_label("umol/l") == "umol/l"
    assert normalise_unit_label("x10*9/L") == "10^9/l"
    assert normalise_unit_label(None) == ""
    assert normalise_unit_label(float("nan")) == ""


@pytest.fixture
def labs():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2", "P3"],
            "sample_date": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-03", "2024-01-04"]),
            "analyte": ["bilirubin_total", "albumin", "platelets", "creatinine"],
            "value": [2.0, 3.5, 150000.0, 1.0],
            "unit": ["mg/dL", "g/dL", "/mm3", "mg/dL"],
            "lln": [np.nan, 3.5, 150000.0, 0.6],
            "uln": [1.2, 5.0, 400000.0, 1.2],
        },
        index=[10, 11, 12, 13],
    )


def test_normalise_lab_units_converts_values_and_limits(labs):
    out = normalise_lab_units(labs)
    assert out.index.tolist() == [10, 11, 12, 13]
    np.testing.assert_allclose(out["value_si"], [34.2, 35.0, 150.0, 88.4])
    np.testing.assert_allclose(out["uln_si"], [20.52, 50.0, 400.0, 106.08])
    np.testing.assert_allclose(out["lln_si"], [np.nan, 35.0, 150.0, 53.04])
    assert out["unit_si"].tolist() == ["µmol/L", "g/L", "10^9/L", "µmol/L"]


def test_normalise_lab_units_does_not_mutate_input(labs):
    before = labs.copy()
    normalise_lab_units(labs)
    pd.testing.assert_frame_equal(labs, before)


def test_normalise_lab_units_without_limit_columns(labs):
    out = normalise_lab_units(labs.drop(columns=["lln", "uln"]))
    assert out["uln_si"].isna().all()
    assert out["lln_si"].isna().all()


def test_unknown_unit_error_names_the_rows(labs):
    bad = labs.copy()
    bad.loc[12, "unit"] = "mmol/L"
    bad.loc[13, "unit"] = "furlongs"
    with pytest.raises(SirtDataError, match=r"2 rows have a unit that is not accepted") as err:
        normalise_lab_units(bad)
    msg = str(err.value)
    assert "(P2, 2024-01-03, platelets, 'mmol/L')" in msg
    assert "(P3, 2024-01-04, creatinine, 'furlongs')" in msg
    assert "platelets: 10^9/L" in msg  # tells what is accepted
    assert err.value.table == "labs"
    assert err.value.column == "unit"
    assert err.value.rows.index.tolist() == [12, 13]


def test_unknown_analyte_is_refused(labs):
    bad = labs.copy()
    bad.loc[10, "analyte"] = "bilirubin_direct"
    with pytest.raises(SirtDataError, match=r"Unknown analyte\(s\): \['bilirubin_direct'\]"):
        normalise_lab_units(bad)


def test_missing_required_column(labs):
    with pytest.raises(SirtDataError, match=r"missing required column\(s\) \['unit'\]"):
        normalise_lab_units(labs.drop(columns=["unit"]))


# Cell-count spellings that laboratories export, each with a value converted by hand to 10^9/L:
# 150 x 10^3/µL = 150 x 10^9/L; 150,000 /µL = 150,000 x 10^-3 x 10^9/L = 150 x 10^9/L;
# admiral's legacy USCV 10^3/mL: 150,000 x 10^3/mL = 1.5e8 /mL = 1.5e11 /L = 150 x 10^9/L;
# 10^6/L: 150,000 x 10^6/L = 1.5e11 /L = 150 x 10^9/L; /nL = 10^9/L.
@pytest.mark.parametrize(
    ("spelling", "value", "expected_si"),
    [
        ("10^3/mL", 150_000.0, 150.0),
        ("10*3/mL", 150_000.0, 150.0),
        ("10^6/L", 150_000.0, 150.0),
        ("1/µL", 150_000.0, 150.0),
        ("1/mm3", 150_000.0, 150.0),
        ("10*3/uL", 150.0, 150.0),  # UCUM
        ("x10E3/uL", 150.0, 150.0),  # LabCorp
        ("K/uL", 150.0, 150.0),
        ("thou/µL", 150.0, 150.0),
        ("/nL", 150.0, 150.0),
        ("Giga/L", 150.0, 150.0),
    ],
)
@pytest.mark.parametrize("analyte", ["platelets", "lymphocytes", "neutrophils", "wbc"])
def test_exported_cell_count_spellings_convert_by_hand(analyte, spelling, value, expected_si):
    labs = pd.DataFrame(
        {
            "patient_id": ["P1"],
            "sample_date": pd.to_datetime(["2024-01-02"]),
            "analyte": [analyte],
            "value": [value],
            "unit": [spelling],
        }
    )
    out = normalise_lab_units(labs)
    assert out["value_si"].iloc[0] == pytest.approx(expected_si, rel=1e-12)
    assert out["unit_si"].iloc[0] == "10^9/L"


def test_admiral_legacy_unit_lymphocytes_worked_example():
    # admiral test 40c: 0.8 x 10^9/L is written 800 in 10^3/mL; LLN 1.1 x 10^9/L -> 1100
    assert compute_unit_factor("lymphocytes", "10^3/mL") * 800 == pytest.approx(0.8)
    assert compute_unit_factor("lymphocytes", "10^3/mL") * 1100 == pytest.approx(1.1)


@pytest.mark.parametrize(
    "unit",
    [
        "10^3",  # multiplier without a volume
        "K",
        "K/mL",  # kilo-count per mL, or a mistyped K/µL: ambiguous
        "10^3/L",  # a power of ten no laboratory uses for these counts
        "10^9/mL",
        "mL",
    ],
)
@pytest.mark.parametrize("analyte", ["platelets", "lymphocytes", "neutrophils", "wbc"])
def test_ambiguous_cell_count_units_are_refused(analyte, unit):
    assert not is_accepted_unit(analyte, unit)


def test_legacy_cell_units_are_refused_for_concentrations():
    assert not is_accepted_unit("albumin", "10^3/mL")
    assert not is_accepted_unit("haemoglobin", "10^6/L")
