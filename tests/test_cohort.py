"""Tests for sirtstats.cohort: first SIRT, baseline derivations, cohort selection and flow.

Expected values are written by hand (sirt-domain.md Appendix A and the formulas of section 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sirtstats.cohort import (
    CohortSelection,
    derive_baseline,
    derive_first_sirt,
    select_cohort,
    summarise_exclusions,
    summarise_registry,
)
from sirtstats.exceptions import SirtDataError
from sirtstats.registry import Registry
from sirtstats.schema import apply_dtypes

CUTOFF = "2026-09-30"


def _patients():
    return apply_dtypes(
        pd.DataFrame(
            {
                "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
                "centre_id": ["C1"] * 6,
                "sex": ["M", "F", "M", "F", "M", "F"],
                "birth_year": [1950, 1960, 1955, 1970, 1945, 1965],
                "height_cm": [175.0, 160.0, np.nan, 170.0, 180.0, 165.0],
                "weight_kg": [75.0, 60.0, np.nan, 70.0, 80.0, 65.0],
                "primary_tumour": ["HCC", "mCRC", "HCC", "ICC", "HCC", "HCC"],
                "diagnosis_date": ["2023-06-01"] * 6,
                "death_date": [None, None, None, None, "2025-08-01", "2027-01-01"],
                "last_contact_date": [
                    "2024-12-31",
                    "2024-06-30",
                    "2024-01-01",
                    "2026-12-15",
                    "2025-08-01",
                    "2027-01-01",
                ],
            }
        ),
        "patients",
    )


def _baseline():
    return apply_dtypes(
        pd.DataFrame(
            {
                "patient_id": ["P1", "P2", "P5", "P6"],
                "assessment_date": ["2024-01-05", "2024-01-25", "2025-04-25", "2023-05-28"],
                "ecog": [0, 1, 1, 0],
                "bclc_stage": ["B", None, "C", "A"],
                "ascites": ["none", "none", "mild", "none"],
                "encephalopathy": ["none", "none", "none", "none"],
                "bilirubin_umol_l": [17.1, 34.2, 60.0, 10.0],
                "albumin_g_l": [40.0, np.nan, 27.0, 45.0],
                "inr": [1.2, np.nan, 2.3, 1.0],
                "prothrombin_pct": [np.nan, 45.0, np.nan, np.nan],
                "creatinine_umol_l": [88.4, 70.0, 88.4, 60.0],
                "extrahepatic_disease": [False, True, False, False],
                "tumour_volume_ml": [200.0, np.nan, 300.0, 50.0],
                "liver_volume_ml": [1000.0, 1500.0, 1500.0, 1250.0],
                "treatment_intent": ["palliative", "palliative", "palliative", "downstaging"],
            }
        ),
        "baseline",
    )


def _treatments():
    return apply_dtypes(
        pd.DataFrame(
            {
                "injection_id": ["I1", "I2", "I3", "I4", "I5", "I6", "I7"],
                "session_id": ["S1", "S1", "S2", "S3", "S4", "S5", "S6"],
                "patient_id": ["P1", "P1", "P1", "P2", "P4", "P5", "P6"],
                "workup_id": ["W1", "W1", None, "W2", None, None, None],
                "treatment_date": [
                    "2024-01-10",
                    "2024-01-10",
                    "2024-03-01",
                    "2024-02-01",
                    "2026-12-01",
                    "2025-05-01",
                    "2023-06-01",
                ],
                "device": [
                    "Y90_glass",
                    "Y90_glass",
                    "Y90_resin",
                    "Y90_resin",
                    "Y90_glass",
                    "Y90_glass",
                    "Ho166_PLLA",
                ],
                "territory": ["right_lobe"] * 7,
                "delivered_activity_gbq": [1.0] * 7,
            }
        ),
        "treatments",
    )


def _workups():
    return apply_dtypes(
        pd.DataFrame(
            {
                "workup_id": ["W1", "W2", "W3", "W5"],
                "patient_id": ["P1", "P2", "P3", "P5"],
                "workup_date": ["2023-12-20", "2024-01-15", "2023-12-01", "2025-04-20"],
                "scout_agent": ["Tc99m_MAA"] * 4,
                "lsf_pct": [5.0, 12.0, 25.0, 7.5],
            }
        ),
        "workups",
    )


def _labs():
    return apply_dtypes(
        pd.DataFrame(
            {
                "patient_id": ["P2", "P2", "P2", "P1"],
                "sample_date": ["2024-01-22", "2023-12-20", "2024-02-03", "2024-01-08"],
                "analyte": ["albumin", "albumin", "albumin", "albumin"],
                "value": [3.5, 4.0, 38.0, 30.0],
                "unit": ["g/dL", "g/dL", "g/L", "g/L"],
            }
        ),
        "labs",
    )


def _imaging():
    return apply_dtypes(
        pd.DataFrame(
            {
                "patient_id": ["P1", "P2", "P5", "P6"],
                "assessment_date": ["2023-12-28", "2023-11-01", "2025-04-28", "2023-07-01"],
                "criterion": ["mRECIST", "RECIST_1_1", "mRECIST", "mRECIST"],
                "modality": ["CT", "CT", "MRI", "MRI"],
                "new_lesion": ["NO"] * 4,
            }
        ),
        "imaging_assessments",
    )


@pytest.fixture
def registry():
    return Registry(
        tables={
            "patients": _patients(),
            "baseline": _baseline(),
            "treatments": _treatments(),
            "workups": _workups(),
            "labs": _labs(),
            "imaging_assessments": _imaging(),
        },
    )


# ---------------------------------------------------------------------------- derive_first_sirt


def test_derive_first_sirt_counts_sessions_not_injections_and_keeps_first_device():
    out = derive_first_sirt(_treatments())
    expected = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P4", "P5", "P6"],
            "first_sirt_date": pd.to_datetime(
                ["2024-01-10", "2024-02-01", "2026-12-01", "2025-05-01", "2023-06-01"]
            ),
            "last_sirt_date": pd.to_datetime(
                ["2024-03-01", "2024-02-01", "2026-12-01", "2025-05-01", "2023-06-01"]
            ),
            "n_sessions": pd.array([2, 1, 1, 1, 1], dtype="Int64"),
            "n_injections": pd.array([3, 1, 1, 1, 1], dtype="Int64"),
            "first_device": ["Y90_glass", "Y90_resin", "Y90_glass", "Y90_glass", "Ho166_PLLA"],
            "devices": ["Y90_glass;Y90_resin", "Y90_resin", "Y90_glass", "Y90_glass", "Ho166_PLLA"],
            "first_workup_id": ["W1", "W2", None, None, None],
        }
    )
    pd.testing.assert_frame_equal(out, expected)


def test_derive_first_sirt_ignores_injections_after_cutoff():
    out = derive_first_sirt(_treatments(), cutoff_date="2024-02-15")
    assert list(out["patient_id"]) == ["P1", "P2", "P6"]
    p1 = out.set_index("patient_id").loc["P1"]
    assert p1["n_sessions"] == 1
    assert p1["last_sirt_date"] == pd.Timestamp("2024-01-10")


def test_derive_first_sirt_orders_by_date_not_row_order():
    tx = _treatments().iloc[::-1].reset_index(drop=True)
    out = derive_first_sirt(tx).set_index("patient_id")
    assert out.loc["P1", "first_device"] == "Y90_glass"
    assert out.loc["P1", "first_sirt_date"] == pd.Timestamp("2024-01-10")


def test_derive_first_sirt_does_not_mutate_input():
    tx = _treatments()
    before = tx.copy()
    derive_first_sirt(tx, cutoff_date="2024-01-31")
    pd.testing.assert_frame_equal(tx, before)


def test_derive_first_sirt_missing_date_raises_with_rows():
    tx = _treatments()
    tx.loc[2, "treatment_date"] = pd.NaT
    with pytest.raises(SirtDataError, match=r"treatments.treatment_date: 1 rows.*\(P1, I3\)") as e:
        derive_first_sirt(tx)
    assert list(e.value.rows["injection_id"]) == ["I3"]


def test_derive_first_sirt_empty_table_has_columns():
    out = derive_first_sirt(_treatments().iloc[:0])
    assert out.empty
    assert "first_sirt_date" in out.columns
    assert "n_sessions" in out.columns


# ------------------------------------------------------------------------------ derive_baseline


def test_derive_baseline_one_row_per_patient_in_patient_order(registry):
    out = derive_baseline(registry, cutoff_date=CUTOFF)
    assert list(out["patient_id"]) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert out.index.equals(pd.RangeIndex(6))


def test_derive_baseline_scores_match_appendix_a(registry):
    out = derive_baseline(registry, cutoff_date=CUTOFF).set_index("patient_id")
    p1 = out.loc["P1"]
    # Appendix A: BSA 175 cm / 75 kg = 1.9031; ALBI 17.1/40 = -2.586 grade 2
    assert p1["bsa_m2"] == pytest.approx(1.9031, abs=5e-5)
    assert p1["albi_score"] == pytest.approx(-2.586, abs=5e-4)
    assert p1["albi_grade"] == 2
    # bili 1 + alb 1 + INR 1 + ascites 1 + HE 1
    assert p1["child_pugh_points"] == 5
    assert p1["child_pugh_class"] == "A"
    # 10*(0.957 ln1 + 0.378 ln1 + 1.120 ln1.2 + 0.643) = 8.47 -> 8
    assert p1["meld"] == 8
    assert p1["age_at_first_sirt_years"] == 2024 - 1950
    assert p1["tumour_burden_pct"] == pytest.approx(20.0)
    assert p1["device"] == "Y90_glass"
    assert p1["n_sessions"] == 2
    assert p1["lsf_pct"] == 5.0


def test_derive_baseline_child_pugh_c_at_boundaries(registry):
    p5 = derive_baseline(registry, cutoff_date=CUTOFF).set_index("patient_id").loc["P5"]
    # bili 60 > 51.3 -> 3; alb 27 < 28 -> 3; INR 2.3 (boundary) -> 2; mild ascites 2; HE 1 = 11
    assert p5["child_pugh_points"] == 11
    assert p5["child_pugh_class"] == "C"
    # ALBI 0.66*log10(60) - 0.085*27 = 1.17357 - 2.295 = -1.1214 -> grade 3
    assert p5["albi_score"] == pytest.approx(-1.1214, abs=5e-4)
    assert p5["albi_grade"] == 3


def test_derive_baseline_lab_fallback_converts_units_and_is_reported(registry):
    out = derive_baseline(registry, cutoff_date=CUTOFF).set_index("patient_id")
    p2 = out.loc["P2"]
    # albumin missing at baseline; labs: 3.5 g/dL at -10 d (used, = 35 g/L), 4.0 g/dL at -43 d
    # (outside -30..0) and 38 g/L at +2 d (after the first SIRT)
    assert p2["albumin_g_l"] == pytest.approx(35.0)
    assert p2["labs_fallback_columns"] == "albumin_g_l"
    # INR missing -> TP 45 % scores 2; bili 34.2 -> 2; alb 35 -> 2; 1 + 1 = 8 -> B
    assert p2["child_pugh_points"] == 8
    assert p2["child_pugh_class"] == "B"
    # MELD needs INR: missing, not silently computed with INR floored to 1
    assert pd.isna(p2["meld"])
    # a baseline value present is never overwritten by the labs table (P1 albumin 40, labs 30)
    assert out.loc["P1", "albumin_g_l"] == 40.0
    assert out.loc["P1", "labs_fallback_columns"] == ""


def test_derive_baseline_lab_fallback_bilirubin_mg_dl_and_creatinine(registry):
    base = _baseline()
    base.loc[0, ["bilirubin_umol_l", "creatinine_umol_l"]] = np.nan
    extra = apply_dtypes(
        pd.DataFrame(
            {
                "patient_id": ["P1", "P1", "P1"],
                "sample_date": ["2024-01-08", "2023-12-11", "2024-01-09"],
                "analyte": ["bilirubin_total", "bilirubin_total", "creatinine"],
                "value": [1.0, 5.0, 1.0],
                "unit": ["mg/dL", "mg/dL", "mg/dL"],
            }
        ),
        "labs",
    )
    labs = pd.concat([_labs(), extra], ignore_index=True)
    reg = Registry(tables={**registry.tables, "baseline": base, "labs": labs})
    p1 = derive_baseline(reg).set_index("patient_id").loc["P1"]
    # 1.0 mg/dL at -2 d wins over 5.0 mg/dL at -30 d (also in the window, but further away)
    assert p1["bilirubin_umol_l"] == pytest.approx(17.1)
    assert p1["creatinine_umol_l"] == pytest.approx(88.4)
    assert p1["labs_fallback_columns"] == "bilirubin_umol_l;creatinine_umol_l"
    assert p1["albi_score"] == pytest.approx(-2.586, abs=5e-4)


def test_derive_baseline_lab_fallback_unknown_unit_raises(registry):
    labs = _labs()
    labs.loc[0, "unit"] = "furlong"
    reg = Registry(tables={**registry.tables, "labs": labs})
    with pytest.raises(SirtDataError, match=r"labs.unit: 1 rows.*furlong") as e:
        derive_baseline(reg)
    assert e.value.column == "unit"


def test_derive_baseline_lsf_falls_back_to_last_workup_before_first_sirt(registry):
    out = derive_baseline(registry, cutoff_date=CUTOFF).set_index("patient_id")
    assert out.loc["P5", "lsf_pct"] == 7.5  # no workup_id on the injection
    assert pd.isna(out.loc["P3", "lsf_pct"])  # work-up only, no SIRT


def test_derive_baseline_followup_respects_cutoff(registry):
    out = derive_baseline(registry, cutoff_date=CUTOFF).set_index("patient_id")
    p5, p6 = out.loc["P5"], out.loc["P6"]
    assert bool(p5["is_deceased"]) is True
    assert p5["followup_end_date"] == pd.Timestamp("2025-08-01")
    assert p5["followup_days"] == 92  # 2025-05-01 -> 2025-08-01
    # death after the cut-off: alive at cut-off, follow-up ends at the cut-off
    assert bool(p6["is_deceased"]) is False
    assert p6["followup_end_date"] == pd.Timestamp(CUTOFF)
    # P4's only session is after the cut-off: no first SIRT, no age
    assert pd.isna(out.loc["P4", "first_sirt_date"])
    assert pd.isna(out.loc["P4", "age_at_first_sirt_years"])


def test_derive_baseline_without_cutoff_counts_later_sessions(registry):
    out = derive_baseline(registry).set_index("patient_id")
    assert out.loc["P4", "first_sirt_date"] == pd.Timestamp("2026-12-01")
    assert bool(out.loc["P6", "is_deceased"]) is True


def test_derive_baseline_baseline_imaging_days(registry):
    out = derive_baseline(registry, cutoff_date=CUTOFF).set_index("patient_id")
    assert out.loc["P1", "baseline_imaging_days_before"] == 13
    assert out.loc["P2", "baseline_imaging_days_before"] == 92
    assert pd.isna(out.loc["P6", "baseline_imaging_days_before"])  # imaging after SIRT only


def test_derive_baseline_duplicate_baseline_raises(registry):
    base = pd.concat([_baseline(), _baseline().iloc[[0]]], ignore_index=True)
    reg = Registry(tables={**registry.tables, "baseline": base})
    with pytest.raises(SirtDataError, match=r"baseline.patient_id: 2 rows violate \"unique\""):
        derive_baseline(reg)


def test_derive_baseline_does_not_mutate_registry(registry):
    before = {k: v.copy() for k, v in registry.tables.items()}
    derive_baseline(registry, cutoff_date=CUTOFF)
    for k, v in registry.tables.items():
        pd.testing.assert_frame_equal(v, before[k])


def test_derive_baseline_french_bilirubin_cutoffs(registry):
    base = _baseline()
    base.loc[0, "bilirubin_umol_l"] = 34.5  # 2 points with 34.2, 1 point with French 35
    reg = Registry(tables={**registry.tables, "baseline": base})
    default = derive_baseline(reg).set_index("patient_id").loc["P1", "child_pugh_points"]
    french = (
        derive_baseline(reg, bilirubin_cutoffs_umol_l=(35, 50))
        .set_index("patient_id")
        .loc["P1", "child_pugh_points"]
    )
    assert (default, french) == (6, 5)


# -------------------------------------------------------------------------------- select_cohort


def _check_partition(sel: CohortSelection, registry: Registry):
    all_ids = set(registry["patients"]["patient_id"])
    inc = set(sel.patients["patient_id"])
    exc = list(sel.exclusions["patient_id"])
    assert len(exc) == len(set(exc))
    assert inc.isdisjoint(exc)
    assert inc | set(exc) == all_ids
    f = sel.flow
    assert (f["n_in"] - f["n_excluded"] == f["n_remaining"]).all()
    assert (f["n_in"].iloc[1:].to_numpy() == f["n_remaining"].iloc[:-1].to_numpy()).all()
    assert f["n_remaining"].iloc[-1] == len(inc)
    by_step = sel.exclusions.groupby("step").size()
    for _, row in f.iloc[1:].iterrows():
        assert by_step.get(row["step"], 0) == row["n_excluded"]


def test_select_cohort_default_steps(registry):
    sel = select_cohort(registry, cutoff_date=CUTOFF)
    expected_flow = pd.DataFrame(
        {
            "step": [0, 1, 2],
            "criterion": [
                "patients in registry",
                "at least one SIRT session",
                "first SIRT on or before cut-off 2026-09-30",
            ],
            "n_in": [6, 6, 5],
            "n_excluded": [0, 1, 1],
            "n_remaining": [6, 5, 4],
            "reason": ["", "no SIRT session recorded", "first SIRT after the data cut-off"],
        }
    )
    pd.testing.assert_frame_equal(sel.flow, expected_flow)
    expected_excl = pd.DataFrame(
        {
            "patient_id": ["P3", "P4"],
            "step": [1, 2],
            "reason": ["no SIRT session recorded", "first SIRT after the data cut-off"],
        }
    )
    pd.testing.assert_frame_equal(sel.exclusions, expected_excl)
    assert list(sel.patients["patient_id"]) == ["P1", "P2", "P5", "P6"]
    _check_partition(sel, registry)


def test_select_cohort_on_registry_cut_at_load_names_the_cutoff_in_step_1(registry):
    from sirtstats.registry import apply_cutoff

    cut = apply_cutoff(registry, CUTOFF)  # P4's only session (2026-12-01) is removed
    sel = select_cohort(cut)
    assert sel.flow["criterion"].tolist() == [
        "patients in registry",
        "at least one SIRT session on or before cut-off 2026-09-30",
    ]
    assert sel.exclusions.set_index("patient_id")["reason"].to_dict() == {
        "P3": "no SIRT session recorded by the data cut-off",
        "P4": "no SIRT session recorded by the data cut-off",
    }
    _check_partition(sel, cut)
    # a later explicit cut-off cannot bring back what the registry no longer holds
    later = select_cohort(cut, cutoff_date="2027-12-31")
    pd.testing.assert_frame_equal(later.flow, sel.flow)
    # an earlier one is applied on top, with its own step
    earlier = select_cohort(cut, cutoff_date="2024-01-31")
    assert earlier.flow["reason"].tolist()[1:] == [
        "no SIRT session recorded",
        "first SIRT after the data cut-off",
    ]
    assert earlier.registry.cutoff_date == pd.Timestamp("2024-01-31")


def test_select_cohort_filters_case_insensitive_and_partition(registry):
    sel = select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["hcc"], devices=["y90_GLASS"])
    assert list(sel.patients["patient_id"]) == ["P1", "P5"]
    assert sel.criteria["diagnoses"] == ["HCC"]
    excl = sel.exclusions.set_index("patient_id")["reason"].to_dict()
    assert excl == {
        "P3": "no SIRT session recorded",
        "P4": "first SIRT after the data cut-off",
        "P2": "primary tumour not selected",
        "P6": "device not selected",
    }
    _check_partition(sel, registry)


def test_select_cohort_first_sirt_window_is_inclusive(registry):
    sel = select_cohort(
        registry, cutoff_date=CUTOFF, first_sirt_from="2024-01-10", first_sirt_to="2025-05-01"
    )
    assert list(sel.patients["patient_id"]) == ["P1", "P2", "P5"]
    reasons = sel.exclusions.set_index("patient_id")["reason"]
    assert reasons["P6"] == "first SIRT before the selection window"
    _check_partition(sel, registry)
    sel2 = select_cohort(
        registry, cutoff_date=CUTOFF, first_sirt_from="2024-01-11", first_sirt_to="2025-04-30"
    )
    assert list(sel2.patients["patient_id"]) == ["P2"]
    _check_partition(sel2, registry)


def test_select_cohort_explicit_cutoff_overrides_registry(registry):
    sel = select_cohort(registry, cutoff_date="2024-01-31")
    assert list(sel.patients["patient_id"]) == ["P1", "P6"]
    # the included patient's later session is ignored
    assert sel.patients.set_index("patient_id").loc["P1", "n_sessions"] == 1
    _check_partition(sel, registry)


def test_select_cohort_intent_followup_and_imaging(registry):
    sel = select_cohort(registry, cutoff_date=CUTOFF, intents=["palliative"], min_followup_days=100)
    # P6 downstaging; P5 92 days of follow-up but died -> kept; P2 2024-02-01 -> 2024-06-30 = 150
    assert list(sel.patients["patient_id"]) == ["P1", "P2", "P5"]
    _check_partition(sel, registry)
    sel = select_cohort(registry, cutoff_date=CUTOFF, require_baseline_imaging=True)
    # P1 13 days, P5 3 days; P2 92 days (> 28); P6 none before SIRT
    assert list(sel.patients["patient_id"]) == ["P1", "P5"]
    _check_partition(sel, registry)
    sel = select_cohort(
        registry, cutoff_date=CUTOFF, require_baseline_imaging=True, baseline_imaging_max_days=None
    )
    assert list(sel.patients["patient_id"]) == ["P1", "P2", "P5"]


def test_select_cohort_empty_lists_mean_no_filter(registry):
    a = select_cohort(
        registry, cutoff_date=CUTOFF, diagnoses=[], devices=[], first_sirt_from="", first_sirt_to=""
    )
    b = select_cohort(registry, cutoff_date=CUTOFF)
    pd.testing.assert_frame_equal(a.flow, b.flow)


def test_select_cohort_registry_restricted_to_included(registry):
    sel = select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["HCC"])
    ids = {"P1", "P5", "P6"}
    for name, df in sel.registry.tables.items():
        assert set(df["patient_id"]) <= ids, name
    assert set(sel.registry["treatments"]["injection_id"]) == {"I1", "I2", "I3", "I6", "I7"}
    # the returned registry is cut at the cut-off (nothing after it counts)
    assert sel.registry.cutoff_date == pd.Timestamp(CUTOFF)
    # the input registry is untouched
    assert len(registry["patients"]) == 6


def test_select_cohort_everyone_excluded(registry):
    sel = select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["NET"])
    assert sel.patients.empty
    assert sel.flow["n_remaining"].iloc[-1] == 0
    _check_partition(sel, registry)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"diagnoses": ["HCCC"]},
            r"The 'diagnoses' argument of select_cohort must be .*"
            r"'HCC'.*Got 'HCCC' instead",
        ),
        ({"devices": "TheraSphere"}, r"The 'devices' argument .*Y90_glass.*Got 'TheraSphere'"),
        ({"intents": ["cure"]}, r"The 'intents' argument"),
        ({"first_sirt_from": "not a date"}, r"The 'first_sirt_from' argument .*ISO date"),
        (
            {"first_sirt_from": "2025-01-01", "first_sirt_to": "2024-01-01"},
            r"must be on or before 'first_sirt_to'",
        ),
        ({"min_followup_days": -1}, r"The 'min_followup_days' argument"),
        ({"min_followup_days": 1.5}, r"The 'min_followup_days' argument"),
    ],
)
def test_select_cohort_argument_errors(registry, kwargs, match):
    with pytest.raises(ValueError, match=match):
        select_cohort(registry, **kwargs)


def test_cohort_selection_frame_and_html(registry):
    sel = select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["HCC"])
    pd.testing.assert_frame_equal(sel.to_frame(), sel.flow)
    assert sel.to_frame() is not sel.flow
    html = sel._repr_html_()
    assert "3 included" in html
    assert "<table" in html
    assert "CohortSelection(n_included=3" in repr(sel)
    with pytest.raises(AttributeError):
        sel.patients = None


def test_select_cohort_on_demo_registry_partitions_everyone():
    pytest.importorskip("sirtstats.demo")
    from sirtstats.demo import load_registry

    reg = load_registry("demo", cutoff_date=CUTOFF)
    sel = select_cohort(reg)
    _check_partition(sel, reg)
    assert sel.n_included > 0


# ------------------------------------------------------------------------------------ plot_flow


def test_plot_flow_draws_one_box_per_step_and_one_per_exclusion(registry):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sirtstats.plotting.cohort import plot_flow

    sel = select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["HCC"])
    fig, ax = plt.subplots()
    try:
        out = plot_flow(sel.flow, ax=ax, title="Flow")
        assert out is ax
        from matplotlib.text import Annotation

        texts = [t.get_text() for t in ax.texts if not isinstance(t, Annotation)]
        assert sum(isinstance(t, Annotation) for t in ax.texts) == 2 * (len(sel.flow) - 1)
        assert len(texts) == 1 + 2 * (len(sel.flow) - 1)
        assert texts[0] == "Patients in registry\nn = 6"
        assert "Included: n = 3" in texts[-2]
        assert "Excluded: n = 1\nNo SIRT session recorded" in texts  # sentence case
        assert "Excluded: n = 1\nPrimary tumour not selected" in texts
        assert ax.get_title() == "Flow"
    finally:
        plt.close(fig)


def test_plot_flow_creates_figure_and_rejects_bad_input(registry):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sirtstats.plotting.cohort import plot_flow

    ax = plot_flow(select_cohort(registry, cutoff_date=CUTOFF).flow)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match=r"The 'flow' argument of plot_flow .*\['n_remaining'"):
        plot_flow(
            pd.DataFrame(
                {"step": [0], "criterion": ["x"], "n_in": [1], "n_excluded": [0], "reason": [""]}
            )
        )


# ------------------------------------------------------------------------------------ summaries


def test_summarise_registry_counts_rows_patients_and_problems(registry):
    problems = pd.DataFrame(
        {"table": ["labs", "labs", "patients"], "severity": ["warning", "error", "warning"]}
    )
    reg = Registry(tables=registry.tables, problems=problems)
    out = summarise_registry(reg)
    expected = pd.DataFrame(
        {
            "table": [
                "patients",
                "baseline",
                "workups",
                "treatments",
                "imaging_assessments",
                "labs",
            ],
            "n_rows": [6, 4, 4, 7, 4, 4],
            "n_patients": [6, 4, 4, 5, 4, 2],
            "n_errors": [0, 0, 0, 0, 0, 1],
            "n_warnings": [1, 0, 0, 0, 0, 1],
        }
    )
    pd.testing.assert_frame_equal(out, expected)


def test_summarise_exclusions_by_step_without_ids(registry):
    sel = select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["HCC"])
    out = summarise_exclusions(sel.exclusions)
    expected = pd.DataFrame(
        {
            "step": [1, 2, 3],
            "reason": [
                "no SIRT session recorded",
                "first SIRT after the data cut-off",
                "primary tumour not selected",
            ],
            "n_patients": [1, 1, 1],
        }
    )
    pd.testing.assert_frame_equal(out, expected)
    assert "patient_id" not in out.columns


# ------------------------------------------------------------------------- property: partition


def test_select_cohort_partition_holds_for_random_registries():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    diag = ["HCC", "ICC", "mCRC", "NET"]
    dev = ["Y90_glass", "Y90_resin", "Ho166_PLLA"]

    @st.composite
    def registries(draw):
        n = draw(st.integers(1, 12))
        ids = [f"P{i:02d}" for i in range(n)]
        pts = apply_dtypes(
            pd.DataFrame(
                {
                    "patient_id": ids,
                    "centre_id": "C1",
                    "sex": "M",
                    "birth_year": 1950,
                    "primary_tumour": draw(st.lists(st.sampled_from(diag), min_size=n, max_size=n)),
                    "diagnosis_date": "2022-01-01",
                    "last_contact_date": "2027-01-01",
                }
            ),
            "patients",
        )
        rows = []
        for i, pid in enumerate(ids):
            for j in range(draw(st.integers(0, 2))):
                day = draw(st.integers(0, 1800))
                rows.append(
                    {
                        "injection_id": f"I{i}_{j}",
                        "session_id": f"S{i}_{j}",
                        "patient_id": pid,
                        "treatment_date": pd.Timestamp("2022-06-01") + pd.Timedelta(days=day),
                        "device": draw(st.sampled_from(dev)),
                        "territory": "right_lobe",
                        "delivered_activity_gbq": 1.0,
                    }
                )
        tx = apply_dtypes(pd.DataFrame(rows), "treatments") if rows else None
        tables = {"patients": pts} | ({"treatments": tx} if tx is not None else {})
        return Registry(tables=tables)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        reg=registries(),
        diagnoses=st.lists(st.sampled_from(diag), max_size=2),
        devices=st.lists(st.sampled_from(dev), max_size=2),
        window=st.sampled_from([("", ""), ("2023-01-01", ""), ("2022-09-01", "2024-12-31")]),
    )
    def check(reg, diagnoses, devices, window):
        sel = select_cohort(
            reg,
            cutoff_date=CUTOFF,
            diagnoses=diagnoses,
            devices=devices,
            first_sirt_from=window[0],
            first_sirt_to=window[1],
        )
        _check_partition(sel, reg)

    check()


def test_centres_filter_keeps_only_the_selected_centres():
    """Issue #16 item 8: the ``centres`` filter is one flow step after the cut-off steps."""
    import dataclasses

    from sirtstats.demo import load_registry

    reg = load_registry()
    pts = reg.tables["patients"].copy()
    pts["centre_id"] = np.where(np.arange(len(pts)) % 3 == 0, "C02", "C01")
    reg = dataclasses.replace(reg, tables={**reg.tables, "patients": pts})
    full = select_cohort(reg)
    sel = select_cohort(reg, centres=["C02"])
    kept = set(pts.loc[pts["centre_id"] == "C02", "patient_id"])
    assert set(sel.patients["patient_id"]) == kept & set(full.patients["patient_id"])
    step = sel.flow[sel.flow["criterion"] == "centre in {C02}"]
    assert len(step) == 1
    assert step["reason"].iloc[0] == "centre not selected"
    assert sel.criteria["centres"] == ["C02"]
    assert select_cohort(reg, centres=[]).criteria["centres"] is None


@pytest.mark.parametrize("dtype", [object, "category"])
def test_derive_first_sirt_devices_and_first_workup_per_patient(dtype):
    tx = pd.DataFrame(
        {
            "injection_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
            "session_id": ["S1", "S1", "S2", "S3", "S4", "S4"],
            "patient_id": ["P1", "P1", "P1", "P2", "P3", "P3"],
            "treatment_date": pd.to_datetime(
                ["2024-01-10", "2024-01-10", "2024-03-01", "2024-02-01", "2024-05-01", "2024-05-01"]
            ),
            "device": pd.Series(
                ["Y90_resin", None, "Y90_glass", None, "Ho166_PLLA", "Ho166_PLLA"], dtype=dtype
            ),
            "workup_id": [None, "W1", "W2", "W3", "W4", None],
        }
    )
    out = derive_first_sirt(tx).set_index("patient_id")
    assert out["devices"].tolist() == ["Y90_glass;Y90_resin", "", "Ho166_PLLA"]
    assert out["first_workup_id"].tolist() == [None, "W3", "W4"]  # the first injection's
