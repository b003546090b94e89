"""PERCIST 1.0 (Wahl et al., J Nucl Med 2009): rules P1.1-P1.10, hand-computed boundary cases."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.metabolic import (
    check_pet_quality,
    derive_best_metabolic_response,
    derive_percist_response,
    is_measurable,
)
from sirtstats.response.rates import summarise_response_rates

D0, D1, D2 = pd.Timestamp("2024-01-10"), pd.Timestamp("2024-04-10"), pd.Timestamp("2024-07-10")


def _pet(n=2, *, liver=(2.0, 0.3), bp=(1.5, 0.2), new=None, pid="P1"):
    """Scans with liver threshold 1.5*2.0+2*0.3 = 3.6 and blood-pool 2*1.5+2*0.2 = 3.4."""
    dates = [D0, D1, D2][:n]
    return pd.DataFrame({
        "patient_id": pid, "scan_date": dates, "liver_sul_mean": liver[0],
        "liver_sul_sd": liver[1], "blood_pool_sul_mean": bp[0], "blood_pool_sul_sd": bp[1],
        "new_fdg_avid_lesion": ["NO"] + [new or "NO"] * (n - 1)})


def _les(values, *, organ="liver", tlg=None, pid="P1"):
    """values: {lesion_id: [SULpeak per scan]}."""
    rows = []
    for lid, suls in values.items():
        for i, s in enumerate(suls):
            rows.append({"patient_id": pid, "lesion_id": lid, "scan_date": [D0, D1, D2][i],
                         "sul_peak": s, "organ": organ if isinstance(organ, str) else organ[lid],
                         "tlg_g": None if tlg is None else tlg[lid][i]})
    return pd.DataFrame(rows)


def _resp(pet, les, **kw):
    return derive_percist_response(pet, les, **kw)["response"].tolist()


# P1.6 PMR: >= 30 % and >= 0.8 SUL units down --------------------------------------------

def test_exactly_30_percent_down_is_pmr():
    # 8.0 -> 5.6: down 2.4 = 30 % exactly (and 2.4 >= 0.8); floating 8.0 - 5.6 is 2.4000000000000004
    assert _resp(_pet(), _les({"L1": [8.0, 5.6]})) == ["PMR"]


def test_29_9_percent_down_is_smd():
    # 10.0 -> 7.01: down 29.9 %
    assert _resp(_pet(), _les({"L1": [10.0, 7.01]})) == ["SMD"]


def test_exactly_0_8_units_down_is_pmr_and_0_79_is_smd():
    # blood pool 1.0 / 0.1 -> threshold 2.2, background limit 1.2.
    pet = _pet(bp=(1.0, 0.1))
    # 2.6 -> 1.8: down 0.8 exactly = 30.77 % -> PMR
    assert _resp(pet, _les({"L1": [2.6, 1.8]})) == ["PMR"]
    # 2.6 -> 1.81: down 0.79 (30.38 %, but < 0.8 units) -> SMD
    assert _resp(pet, _les({"L1": [2.6, 1.81]})) == ["SMD"]


# P1.8 PMD -------------------------------------------------------------------------------

def test_exactly_30_percent_up_is_pmd_and_just_below_is_smd():
    assert _resp(_pet(), _les({"L1": [8.0, 10.4]})) == ["PMD"]   # +2.4 = +30 %
    assert _resp(_pet(), _les({"L1": [8.0, 10.39]})) == ["SMD"]  # +29.875 %


def test_new_fdg_avid_lesion_is_pmd_even_with_a_response():
    assert _resp(_pet(new="YES"), _les({"L1": [8.0, 4.0]})) == ["PMD"]
    # EQUIVOCAL is not progression: the -50 % is a PMR
    assert _resp(_pet(new="EQUIVOCAL"), _les({"L1": [8.0, 4.0]})) == ["PMR"]


def test_tlg_up_75_percent_without_sul_decline_is_pmd():
    les = _les({"L1": [8.0, 8.0]}, tlg={"L1": [100.0, 175.0]})
    assert _resp(_pet(), les) == ["PMD"]                        # +75 % exactly
    les = _les({"L1": [8.0, 8.0]}, tlg={"L1": [100.0, 174.9]})
    assert _resp(_pet(), les) == ["SMD"]                        # +74.9 %
    les = _les({"L1": [8.0, 7.9]}, tlg={"L1": [100.0, 200.0]})
    assert _resp(_pet(), les) == ["SMD"]                        # SULpeak declined
    les = _les({"L1": [8.0, 8.0]}, tlg={"L1": [100.0, 175.0]})
    assert _resp(_pet(), les, include_tlg=False) == ["SMD"]


# P1.3 hottest lesion, P1.5 CMR, P1.4 sum ------------------------------------------------------

def test_hottest_lesion_may_switch_between_scans():
    # baseline hottest L1 8.0; follow-up L1 3.0, L2 6.0 -> hottest L2: 6.0 vs 8.0 = -25 % -> SMD
    # (following L1 alone would give -62.5 %, a PMR)
    out = derive_percist_response(_pet(), _les({"L1": [8.0, 3.0], "L2": [4.0, 6.0]}))
    assert out["baseline_lesion_id"].tolist() == ["L1"]
    assert out["hottest_lesion_id"].tolist() == ["L2"]
    assert out["sul_peak_change_pct"].iloc[0] == pytest.approx(-25.0)
    assert out["response"].tolist() == ["SMD"]


def test_cmr_when_every_lesion_is_at_background():
    # background limit: blood pool 1.5 + 2 x 0.2 = 1.9
    assert _resp(_pet(), _les({"L1": [8.0, 1.9], "L2": [5.0, 1.0]})) == ["CMR"]
    assert _resp(_pet(), _les({"L1": [8.0, 1.9], "L2": [5.0, 1.91]})) == ["PMR"]
    # liver reference: also below the liver mean 2.0 (lung lesion -> auto = liver)
    assert _resp(_pet(liver=(1.8, 0.3)), _les({"L1": [8.0, 1.85]}, organ="lung")) == ["PMR"]
    assert _resp(_pet(liver=(1.8, 0.3)), _les({"L1": [8.0, 1.75]}, organ="lung")) == ["CMR"]


def test_sul_sum_takes_five_hottest_two_per_organ():
    organ = {"L1": "liver", "L2": "liver", "L3": "liver", "L4": "lung", "L5": "lung",
             "L6": "lung", "L7": "bone"}
    base = {"L1": 10, "L2": 9, "L3": 8, "L4": 5, "L5": 4, "L6": 3.5, "L7": 2}
    les = _les({k: [float(v), v / 2] for k, v in base.items()}, organ=organ)
    out = derive_percist_response(_pet(), les)
    # baseline: measurable (>= 3.4) L1-L6; 2 per organ -> 10 + 9 + 5 + 4 = 28
    # follow-up: 5 + 4.5 (liver) + 2.5 + 2 (lung) + 1 (bone) = 15 -> (15 - 28) / 28
    assert out["sul_sum_change_pct"].iloc[0] == pytest.approx(100 * (15 - 28) / 28)


# P1.1 / P1.2 measurability and reference ---------------------------------------------------

def test_measurability_thresholds():
    assert is_measurable(3.6, reference_mean=2.0, reference_sd=0.3, reference="liver")
    assert not is_measurable(3.59, reference_mean=2.0, reference_sd=0.3, reference="liver")
    assert is_measurable(3.4, reference_mean=1.5, reference_sd=0.2)
    assert not is_measurable(3.39, reference_mean=1.5, reference_sd=0.2)


def test_reference_switch_changes_measurability():
    les = _les({"L1": [3.5, 2.0]})  # hepatic: 3.5 >= 3.4 (blood pool) but < 3.6 (liver)
    auto = derive_percist_response(_pet(), les)
    assert auto["reference"].tolist() == ["blood_pool"]
    assert auto["threshold_sul"].iloc[0] == pytest.approx(3.4)
    assert auto["response"].tolist() == ["PMR"]  # 3.5 -> 2.0: -42.9 %, -1.5
    liver = derive_percist_response(_pet(), les, reference="liver")
    assert liver["reference"].tolist() == ["liver"]
    assert liver["response"].tolist() == ["NE"]
    # extrahepatic disease only: auto chooses the liver
    lung = derive_percist_response(_pet(), _les({"L1": [3.5, 2.0]}, organ="lung"))
    assert lung["reference"].tolist() == ["liver"]
    assert lung["response"].tolist() == ["NE"]


def test_bad_reference_raises():
    with pytest.raises(ValueError, match="'reference' argument of derive_percist_response"):
        derive_percist_response(_pet(), _les({"L1": [8.0, 4.0]}), reference="spleen")


def test_inputs_not_modified():
    pet, les = _pet(), _les({"L1": [8.0, 4.0]})
    p0, l0 = pet.copy(), les.copy()
    derive_percist_response(pet, les)
    pd.testing.assert_frame_equal(pet, p0)
    pd.testing.assert_frame_equal(les, l0)


# P1.9 best metabolic response --------------------------------------------------------------

def _r(codes, pid="P1"):
    return pd.DataFrame({"patient_id": pid, "scan_date": [D1, D2, D2 + pd.Timedelta(days=90)]
                         [:len(codes)], "response": codes})


@pytest.mark.parametrize(("codes", "unconfirmed", "confirmed"), [
    (["PMR", "SMD"], "PMR", "SMD"),
    (["PMR", "CMR"], "CMR", "PMR"),
    (["CMR", "CMR"], "CMR", "CMR"),
    (["PMR", "NE", "PMR"], "PMR", "PMR"),
    (["SMD", "PMD"], "SMD", "SMD"),
    (["PMD"], "PMD", "PMD"),
])
def test_best_metabolic_response(codes, unconfirmed, confirmed):
    assert derive_best_metabolic_response(_r(codes))["bmr"].item() == unconfirmed
    assert derive_best_metabolic_response(_r(codes), confirm=True)["bmr"].item() == confirmed


def test_best_response_feeds_the_rates():
    r = pd.concat([_r(["PMR", "PMR"], "P1"), _r(["CMR"], "P2"), _r(["SMD"], "P3"),
                   _r(["PMD"], "P4")])
    bmr = derive_best_metabolic_response(r)
    assert bmr["bor"].tolist() == ["PR", "CR", "SD", "PD"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        rates = summarise_response_rates(bmr)
    assert rates["n_responders"].item() == 2
    assert rates["orr_pct"].item() == pytest.approx(50.0)


# P1.10 scan quality ------------------------------------------------------------------------

def test_quality_checks_at_their_boundaries():
    pet = pd.DataFrame({
        "patient_id": ["P1", "P1", "P1", "P2", "P2"],
        "scan_date": [D0, D1, D2, D0, D1],
        "uptake_time_min": [55, 70, 70.5, 49, 60],
        "blood_glucose_mmol_l": [5.0, 11.1, 11.2, 6.0, 6.0],
        "liver_sul_mean": [2.0, 2.4, 2.5, 1.0, 1.25],
        "blood_pool_sul_mean": [1.5, 1.5, 1.5, 1.5, 1.5]})
    with pytest.warns(SirtStatsWarning, match="scan-quality"):
        q = check_pet_quality(pet)
    got = sorted(zip(q["patient_id"], q["scan_date"], q["check"], strict=True))
    assert got == sorted([
        ("P1", D2, "uptake_time_outside_50_70"),            # 70.5 > 70 (70 passes)
        ("P1", D2, "uptake_time_differs_from_baseline"),    # 15.5 > 15 (15 passes)
        ("P1", D2, "glucose_above_11_1"),                   # 11.2 (11.1 passes)
        ("P1", D2, "liver_reference_changed"),              # +0.5: > 20 % and > 0.3
        ("P2", D0, "uptake_time_outside_50_70"),            # 49 < 50
    ])  # 2.0 -> 2.4 (+20 % exactly) and 1.0 -> 1.25 (+25 % but 0.25 units) pass


# Data model: the PET tables are validated like the rest (foreign keys, P1.3 cross-rule) -----

def _registry_problems(tmp_path, edit):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from _registry_fixture import valid_tables, write_registry

    from sirtstats.registry import validate_registry

    tables = valid_tables()
    edit(tables)
    problems = validate_registry(write_registry(tmp_path / "r", tables))
    return problems.loc[problems["table"].str.startswith("pet_"),
                        ["table", "row", "column", "severity"]].values.tolist()


def test_valid_pet_tables_have_no_problems(tmp_path):
    assert _registry_problems(tmp_path, lambda t: None) == []


def test_pet_lesion_of_another_patient_is_an_error(tmp_path):
    # L01 belongs to P01; the P01 scan row makes the scan foreign key hold
    def edit(t):
        t["pet_assessments"].append(["P01", "2023-02-16", "FDG", "60", "5", "250", "1.8",
                                     "0.2", "1.4", "0.2", "NO", ""])
        t["pet_lesions"].append(["L01", "P02", "2023-01-03", "6", "", "", "", ""])
    assert ["pet_lesions", 4, "patient_id", "error"] in _registry_problems(tmp_path, edit)


def test_pet_lesion_without_its_scan_is_a_foreign_key_error(tmp_path):
    def edit(t):
        t["pet_lesions"].append(["L03", "P02", "2023-02-01", "6", "", "", "", ""])
    got = _registry_problems(tmp_path, edit)
    assert [r[:2] for r in got] == [["pet_lesions", 4]]
    assert got[0][3] == "error"
