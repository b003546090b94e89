"""FDG-PET of the demo registry (sirtstats.demo._pet, issue 15): share, dates, consistency with
the CT truth, planted quality problems, other tables unchanged, REDCap round trip."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
import yaml

import sirtstats.demo as demo_pkg
from sirtstats.demo import make_demo_registry
from sirtstats.demo._pet import PET_TRUTH
from sirtstats.exceptions import SirtStatsWarning
from sirtstats.metabolic import (
    check_pet_quality,
    derive_best_metabolic_response,
    derive_percist_baseline,
    derive_percist_response,
)
from sirtstats.schema import PET_TABLES


@pytest.fixture(scope="module")
def big():
    return make_demo_registry(1500, seed=5)


def test_other_tables_do_not_change_when_pet_is_added(monkeypatch):
    with_pet = demo_pkg._generate(200, 3, "2026-11-15")
    monkeypatch.setattr(demo_pkg, "make_pet_tables", lambda *a, **k: {})
    without = demo_pkg._generate(200, 3, "2026-11-15")
    for table, df in without.items():
        if table in PET_TABLES:
            assert df.empty
            assert len(with_pet[table]) > 0
        else:
            pd.testing.assert_frame_equal(with_pet[table], df, obj=table)


def test_share_of_mcrc_icc_patients_with_baseline_and_followup_pet(big):
    pts, tr = big["patients"], big["treatments"]
    pet = big["pet_assessments"]
    with_pet = set(pet["patient_id"])
    tum = pts.set_index("patient_id")["primary_tumour"]
    assert set(tum[list(with_pet)]) <= {"mCRC", "ICC"}
    eligible = set(tr["patient_id"]) & set(tum.index[tum.isin(["mCRC", "ICC"])])
    share = len(with_pet) / len(eligible)
    assert 0.12 <= share <= 0.28, share  # truth 20 % of those with a follow-up CT
    first_sirt = tr.groupby("patient_id")["treatment_date"].min()
    per = pet.groupby("patient_id")["scan_date"].agg(["min", "size"])
    assert (per["min"] < first_sirt[per.index]).all()  # baseline before the first SIRT
    assert (per["size"] >= 2).all()                    # baseline + follow-ups
    assert (per["size"] > 3).any()                     # half: PET at every follow-up CT
    # follow-up PET/CT on the day of a CT assessment
    img = big["imaging_assessments"]
    ct_days = set(zip(img["patient_id"], img["assessment_date"], strict=True))
    fu = pet.loc[pet["scan_date"] > pet["patient_id"].map(first_sirt)]
    assert all(k in ct_days for k in zip(fu["patient_id"], fu["scan_date"], strict=True))
    assert (pet["tracer"] == "FDG").all()


def test_pet_follows_the_ct_truth(big):
    from sirtstats.cohort import select_cohort
    from sirtstats.endpoints import derive_origin
    from sirtstats.registry import load_registry
    from sirtstats.response import derive_response_analysis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        sel = select_cohort(load_registry(big), cutoff_date="2026-11-15")
        an = derive_response_analysis(sel.registry, derive_origin(sel.patients),
                                      criteria=["RECIST_1_1"], confirm=False)
    pa, pl, les = big["pet_assessments"], big["pet_lesions"], big["lesions"]
    bmr = derive_best_metabolic_response(derive_percist_response(pa, pl, df_lesions=les))
    m = bmr.merge(an.bor[["patient_id", "bor"]], on="patient_id", suffixes=("_pet", "_ct"))
    assert len(m) == len(bmr)
    # progression on CT is progression on PET; a CT responder is not SMD-or-worse by PET
    # more often than not; a PET responder rate at least the CT one (metabolic first)
    pd_ct = m["bor_ct"] == "PD"
    assert (m.loc[pd_ct, "bmr"] == "PMD").mean() >= 0.9
    resp_ct = m["bor_ct"].isin(["CR", "PR"])
    assert m.loc[resp_ct, "bmr"].isin(["CMR", "PMR"]).mean() >= 0.6
    assert m["bmr"].isin(["CMR", "PMR"]).mean() >= resp_ct.mean()


def test_reference_regions_and_planted_quality_problems(big):
    pa, pl, les = big["pet_assessments"], big["pet_lesions"], big["lesions"]
    base = derive_percist_baseline(pa, pl, df_lesions=les)
    assert (base["reference"] == "blood_pool").all()   # every PET patient has liver disease
    assert base["is_measurable"].mean() >= 0.9
    with pytest.warns(SirtStatsWarning, match="scan-quality"):
        q = check_pet_quality(pa)
    assert {"uptake_time_outside_50_70", "glucose_above_11_1",
            "blood_pool_reference_changed"} <= set(q["check"])
    assert q["scan_date"].nunique() <= 0.2 * len(pa)   # "a few"
    assert pa["uptake_time_min"].between(50, 70).mean() >= 0.9
    assert (pl["sul_peak"] >= 0).all()
    assert (pl["mtv_ml"] >= 0).all()


def test_demo_pet_tables_have_no_validation_error():
    from sirtstats.registry import validate_registry

    problems = validate_registry(make_demo_registry(400, seed=2))
    pet = problems.loc[problems["table"].isin(PET_TABLES)]
    assert (pet["severity"] != "error").all(), pet


def test_pet_tables_round_trip_through_redcap(tmp_path):
    from sirtstats.interop.redcap import import_redcap
    from sirtstats.interop.redcap_project import (
        make_redcap_dictionary,
        make_redcap_mapping,
        to_redcap_records,
    )

    tables = make_demo_registry(60, seed=4)
    assert len(tables["pet_assessments"]) > 0
    to_redcap_records(tables).to_csv(tmp_path / "records.csv", index=False)
    make_redcap_dictionary().to_csv(tmp_path / "dictionary.csv", index=False)
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(make_redcap_mapping()),
                                           encoding="utf-8")
    result = import_redcap(tmp_path / "records.csv", tmp_path / "dictionary.csv",
                           tmp_path / "mapping.yaml")
    assert result.problems.empty, result.problems
    for table in PET_TABLES:
        pd.testing.assert_frame_equal(result.tables[table], tables[table], obj=table)


def test_truth_is_documented():
    from pathlib import Path

    doc = Path(demo_pkg.__file__).resolve().parents[2] / "docs" / "demo-registry.md"
    text = doc.read_text(encoding="utf-8")
    assert "### 5.1 FDG-PET/CT" in text
    share = f"{PET_TRUTH['patient_fraction']:.0%}".replace("%", " %")
    assert f"{share} of the treated mCRC and ICC patients" in text
