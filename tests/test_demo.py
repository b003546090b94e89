"""Tests of the demo registry generator (sirtstats.demo).

Expected values come from the schema (data_schema/*.yaml), the formulas of sirt-domain.md §2
(recomputed here by hand, not with sirtstats code), and the generating truth DEMO_TRUTH, which
is recovered with independent estimators (statsmodels logistic regression, lifelines Cox).
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sirtstats.demo import DEMO_TRUTH, make_demo_registry, write_demo_registry
from sirtstats.schema import PET_TABLES, TABLE_ORDER, apply_dtypes, load_schema, load_schemas

SNAPSHOT = pd.Timestamp("2026-11-15")


@pytest.fixture(scope="module")
def demo():
    return make_demo_registry()


@pytest.fixture(scope="module")
def large():
    return make_demo_registry(3000, seed=11)


# ------------------------------------------------------------------ small schema validator


def schema_errors(tables: dict[str, pd.DataFrame]) -> list[tuple]:
    """Every violation of the data_schema constraints (required, enum, range, pattern, keys)."""
    errors = []
    for name, sch in load_schemas().items():
        df = tables[name]
        for f in sch.fields:
            s = df[f.name]
            nn = s.dropna()
            if f.required and s.isna().any():
                errors.append((name, f.name, "required", int(s.isna().sum())))
            if f.enum is not None and (~nn.astype(str).isin(f.enum)).any():
                errors.append((name, f.name, "enum", sorted(set(nn.astype(str)) - set(f.enum))))
            if f.minimum is not None and (nn.astype(float) < f.minimum).any():
                errors.append((name, f.name, "minimum", nn.min()))
            if f.maximum is not None and (nn.astype(float) > f.maximum).any():
                errors.append((name, f.name, "maximum", nn.max()))
            if f.pattern is not None and (~nn.astype(str).str.fullmatch(f.pattern)).any():
                errors.append((name, f.name, "pattern"))
            if f.unique and s.duplicated().any():
                errors.append((name, f.name, "unique"))
        if df.duplicated(list(sch.primary_key)).any():
            errors.append((name, sch.primary_key, "primary key"))
        for fk in sch.foreign_keys:
            ref = tables[fk["reference"]["resource"]][fk["reference"]["fields"][0]]
            col = df[fk["fields"][0]].dropna()
            if (~col.isin(ref)).any():
                errors.append((name, fk["fields"], "foreign key", int((~col.isin(ref)).sum())))
    return errors


def test_the_validator_catches_violations(demo):
    broken = {k: v.copy() for k, v in demo.items()}
    broken["baseline"].loc[0, "ecog"] = 7
    broken["lesions"].loc[0, "patient_id"] = "NOBODY"
    broken["labs"].loc[0, "analyte"] = "glucose"
    kinds = {(e[0], e[2]) for e in schema_errors(broken)}
    assert {("baseline", "maximum"), ("lesions", "foreign key"), ("labs", "enum")} <= kinds


def test_default_registry_is_valid_against_the_schema(demo):
    assert schema_errors(demo) == []


def test_large_registry_is_valid_against_the_schema(large):
    assert schema_errors(large) == []


# ------------------------------------------------------------------ API, determinism, typing


def test_every_table_typed_with_apply_dtypes_and_sorted_by_primary_key(demo):
    assert list(demo) == list(TABLE_ORDER)
    for name, df in demo.items():
        assert isinstance(df.index, pd.RangeIndex)
        pd.testing.assert_frame_equal(df, apply_dtypes(df, name))
        pk = list(load_schema(name).primary_key)
        assert df.equals(df.sort_values(pk, kind="mergesort").reset_index(drop=True)), name
        assert len(df) > 0 or name in PET_TABLES, name  # PET: 20 % of mCRC/ICC (may be none)


def test_two_calls_give_identical_frames():
    a = make_demo_registry(150, seed=3)
    b = make_demo_registry(150, seed=3)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_default_call_is_deterministic_and_returns_copies(demo):
    again = make_demo_registry()
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(demo[name], again[name])
    again["patients"].loc[0, "sex"] = "X"
    assert make_demo_registry()["patients"].loc[0, "sex"] in {"M", "F"}


def test_other_seeds_give_other_registries(demo):
    other = make_demo_registry(seed=1)
    assert not demo["baseline"]["albumin_g_l"].equals(other["baseline"]["albumin_g_l"])


def test_patient_count_and_ids(demo):
    pats = demo["patients"]
    assert len(pats) == 300
    assert pats["patient_id"].str.fullmatch(r"P\d{5}").all()


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True])
def test_bad_n_patients_raises_sklearn_style(bad):
    with pytest.raises(ValueError, match=r"The 'n_patients' argument of make_demo_registry"):
        make_demo_registry(bad)


def test_demo_truth_is_read_only():
    with pytest.raises(TypeError):
        DEMO_TRUTH["os_model"]["shape"] = 2.0  # type: ignore[index]
    assert DEMO_TRUTH["lesion_dose_response"]["HCC"]["d50_gy"] == 120.0


# ------------------------------------------------------------------ CSV


def _digest(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_csv_written_twice_is_byte_identical(tmp_path):
    a = write_demo_registry(tmp_path / "a", n_patients=120, seed=5)
    b = write_demo_registry(tmp_path / "b", n_patients=120, seed=5)
    assert [p.name for p in a] == [f"{t}.csv" for t in TABLE_ORDER]
    assert _digest(a) == _digest(b)


def test_csv_format_iso_dates_plain_booleans_empty_missing(tmp_path):
    paths = write_demo_registry(tmp_path, n_patients=120, seed=5)
    text = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    tr = pd.read_csv(tmp_path / "treatments.csv", dtype=str, keep_default_na=False)
    assert tr["treatment_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert tr["administration_datetime"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}").all()
    assert set(tr["delivery_complete"]) <= {"true", "false"}
    for name, body in text.items():
        assert "nan" not in body.lower().split(","), name
        assert not re.search(r"(^|,)(NaT|None|<NA>)(,|$)", body, re.M), name
        assert "\r" not in body


def test_csv_round_trips_to_the_same_tables(tmp_path):
    tables = make_demo_registry(120, seed=5)
    write_demo_registry(tmp_path, n_patients=120, seed=5)
    for name in TABLE_ORDER:
        raw = pd.read_csv(tmp_path / f"{name}.csv", dtype=str, keep_default_na=False)
        sch = load_schema(name)
        raw = raw.replace("", None)
        for f in sch.fields:
            if f.type == "boolean":
                raw[f.name] = raw[f.name].map({"true": True, "false": False, None: None})
        back = apply_dtypes(raw, name)
        pd.testing.assert_frame_equal(back, tables[name], check_exact=False, rtol=1e-12)


def test_csv_passes_the_registry_validator_if_present(tmp_path):
    registry = pytest.importorskip("sirtstats.registry")
    if not hasattr(registry, "validate_registry"):
        pytest.skip("validate_registry not available")
    write_demo_registry(tmp_path, n_patients=300)
    problems = registry.validate_registry(tmp_path)
    errors = problems.loc[problems["severity"] == "error"] if len(problems) else problems
    assert len(errors) == 0, errors.head(20).to_string()


# ------------------------------------------------------------------ dates and keys


def _first_sirt(tables):
    return tables["treatments"].groupby("patient_id")["treatment_date"].min()


def test_dates_are_ordered(large):
    p = large["patients"].set_index("patient_id")
    first = _first_sirt(large)
    work = large["workups"].groupby("patient_id")["workup_date"].min()
    assert (p["diagnosis_date"] <= work.reindex(p.index)).all()
    assert (work.reindex(first.index) <= first).all()
    assert (first <= p.loc[first.index, "last_contact_date"]).all()
    assert (p["last_contact_date"] <= SNAPSHOT).all()
    dead = p["death_date"].notna()
    assert (p.loc[dead, "death_date"] == p.loc[dead, "last_contact_date"]).all()
    assert p.loc[dead, "cause_of_death"].notna().all()
    assert p.loc[~dead, "cause_of_death"].isna().all()
    les = large["lesions"].set_index("lesion_id")
    m = large["lesion_measurements"]
    lp = les.loc[m["lesion_id"], "patient_id"].to_numpy()
    assert (m["assessment_date"].to_numpy() >= les.loc[m["lesion_id"], "baseline_date"]
            .to_numpy()).all()
    assert (m["assessment_date"].to_numpy() <= p.loc[lp, "last_contact_date"].to_numpy()).all()
    for table, col in [("labs", "sample_date"), ("adverse_events", "onset_date"),
                       ("other_therapies", "start_date"), ("imaging_assessments",
                                                           "assessment_date"),
                       ("post_dosimetry", "scan_date"), ("treatments", "treatment_date")]:
        d = large[table]
        assert (d[col].to_numpy() <= p.loc[d["patient_id"], "last_contact_date"].to_numpy()
                ).all(), table
    ae = large["adverse_events"]
    assert (ae["onset_date"].to_numpy() >= first.loc[ae["patient_id"]].to_numpy()).all()
    base = large["baseline"].set_index("patient_id").loc[first.index, "assessment_date"]
    assert ((first - base).dt.days.between(0, 30)).all()


def test_first_sirt_dates_span_about_ten_years(demo):
    first = _first_sirt(demo)
    assert first.min() >= pd.Timestamp("2016-01-01")
    assert first.max() <= pd.Timestamp("2026-10-31")
    assert first.min() < pd.Timestamp("2017-01-01")
    assert first.max() > pd.Timestamp("2025-12-31")


def test_workups_are_7_to_28_days_before_their_session(large):
    tr = large["treatments"].drop_duplicates("session_id")
    w = large["workups"].set_index("workup_id").loc[tr["workup_id"], "workup_date"].to_numpy()
    days = (tr["treatment_date"].to_numpy() - w) / np.timedelta64(1, "D")
    assert days.min() >= 7
    assert days.max() <= 28


def test_treatment_workups_belong_to_the_same_patient(large):
    tr = large["treatments"]
    owner = large["workups"].set_index("workup_id").loc[tr["workup_id"], "patient_id"]
    assert (owner.to_numpy() == tr["patient_id"].to_numpy()).all()


# ------------------------------------------------------------------ case mix and cohort shape


def test_case_mix_shares(large):
    share = large["patients"]["primary_tumour"].value_counts(normalize=True)
    assert 0.55 <= share["HCC"] <= 0.65
    assert 0.18 <= share["mCRC"] <= 0.26
    assert 0.05 <= share["ICC"] <= 0.11
    assert 0.02 <= share["NET"] <= 0.06
    p = large["patients"]
    hcc = p["primary_tumour"] == "HCC"
    assert 0.70 <= (p.loc[hcc, "sex"] == "M").mean() <= 0.85
    assert 0.70 <= p.loc[hcc, "cirrhosis"].mean() <= 0.85
    assert p.loc[~hcc, "hcc_aetiology"].isna().all()
    b = large["baseline"].set_index("patient_id")
    bclc = b.loc[p.loc[hcc, "patient_id"], "bclc_stage"].value_counts(normalize=True)
    assert 0.45 <= bclc["C"] <= 0.65
    assert b.loc[p.loc[~hcc, "patient_id"], "bclc_stage"].isna().all()
    assert 0.80 <= (b.loc[p.loc[hcc, "patient_id"], "ecog"] <= 1).mean() <= 0.95


def test_sessions_devices_and_lsf(large):
    tr = large["treatments"]
    per_patient = tr.groupby("patient_id")["session_id"].nunique()
    assert 1.15 <= per_patient.mean() <= 1.5
    first = tr.drop_duplicates("patient_id").merge(large["patients"], on="patient_id")
    hcc = first["primary_tumour"] == "HCC"
    assert (first.loc[hcc, "device"] == "Y90_glass").mean() > 0.6
    assert (first.loc[~hcc, "device"] == "Y90_resin").mean() > 0.6
    lsf = large["workups"].drop_duplicates("patient_id")["lsf_pct"]
    assert 5 <= lsf.median() <= 8
    assert lsf.mean() > lsf.median()  # right-skewed
    assert tr.groupby("device")["delivered_activity_gbq"].median().between(0.5, 5).all()


def test_patients_the_cohort_must_exclude(demo):
    treated = set(demo["treatments"]["patient_id"])
    untreated = demo["patients"].loc[~demo["patients"]["patient_id"].isin(treated)]
    assert len(untreated) >= 1
    w = demo["workups"].loc[demo["workups"]["patient_id"].isin(untreated["patient_id"])]
    assert ((w["lsf_pct"] > 20) | w["extrahepatic_uptake"]).all()
    first = _first_sirt(demo)
    # baseline imaging older than 28 days for a few patients
    les = demo["lesions"].groupby("patient_id")["baseline_date"].min()
    gap = (first.loc[les.index] - les).dt.days
    assert (gap > 28).sum() >= 1
    assert (gap >= 1).all()


# ------------------------------------------------------------------ dosimetry


def test_recorded_perfused_dose_follows_mird_with_a_few_planted_discrepancies(large):
    """D = K * A * (1 - LSF) / m, m = V * 1.03 / 1000 (sirt-domain.md §2.1-2.2)."""
    tr = large["treatments"]
    w = large["workups"].set_index("workup_id").loc[tr["workup_id"]]
    k = np.where(tr["device"] == "Ho166_PLLA", 15.87, 49.67)
    mass = tr["perfused_volume_ml"].to_numpy() * 1.03 / 1000
    expected = k * tr["delivered_activity_gbq"] * (1 - w["lsf_pct"].to_numpy() / 100) / mass
    rel = (tr["perfused_dose_gy"] - expected).abs() / expected
    share = (rel > 0.05).mean()
    assert 0.002 <= share <= 0.025
    lung = k * tr["delivered_activity_gbq"] * w["lsf_pct"].to_numpy() / 100 / 1.0
    assert np.allclose(tr["lung_dose_gy"], lung, atol=0.06)
    delivered = tr["measured_activity_gbq"] - tr["residual_activity_gbq"]
    assert np.allclose(tr["delivered_activity_gbq"], delivered, atol=1e-9)


def test_partition_model_doses(large):
    """D_N = K A (1 - LSF) / (TNR m_T + m_N), D_T = TNR D_N (sirt-domain.md §2.5)."""
    tr = large["treatments"]
    w = large["workups"].set_index("workup_id").loc[tr["workup_id"]]
    k = np.where(tr["device"] == "Ho166_PLLA", 15.87, 49.67)
    mt = tr["perfused_tumour_volume_ml"].to_numpy() * 1.03 / 1000
    mn = tr["perfused_volume_ml"].to_numpy() * 1.03 / 1000 - mt
    tnr = w["tnr"].to_numpy()
    dn = k * tr["delivered_activity_gbq"] * (1 - w["lsf_pct"].to_numpy() / 100) / (tnr * mt + mn)
    assert np.allclose(tr["normal_liver_dose_gy"], dn, atol=0.06)
    assert np.allclose(tr["tumour_dose_gy"], tnr * dn, atol=0.06)


def test_vial_holds_the_measured_activity_at_administration(large):
    tr = large["treatments"]
    hours = (tr["administration_datetime"] - tr["vial_calibration_datetime"]).dt.total_seconds(
    ) / 3600
    half = np.where(tr["device"] == "Ho166_PLLA", 26.8, 64.1)
    at_admin = tr["vial_calibration_activity_gbq"] * 2.0 ** (-hours / half)
    assert (tr["measured_activity_gbq"] <= at_admin + 1e-6).all()
    assert (hours > 0).all()


def test_lesion_doses_only_for_treated_liver_lesions(large):
    les = large["lesions"]
    has = les["absorbed_dose_gy"].notna()
    assert (les.loc[has, "organ"] == "liver").all()
    assert les.loc[has, "in_treated_territory"].all()
    treated_liver = (les["organ"] == "liver") & les["in_treated_territory"]
    assert 0.75 <= has[treated_liver].mean() <= 0.97  # most sessions have post-dosimetry
    ratio = len(large["post_dosimetry"]) / large["treatments"]["session_id"].nunique()
    assert 0.75 <= ratio <= 0.97


# ------------------------------------------------------------------ lesions and imaging


def test_lesion_roles_follow_recist_and_mrecist_rules(large):
    les = large["lesions"]
    base = large["lesion_measurements"].merge(les[["lesion_id", "baseline_date"]])
    base = base.loc[(base["assessment_date"] == base["baseline_date"])]
    for crit, role_col in [("RECIST_1_1", "recist_role"), ("mRECIST", "mrecist_role")]:
        t = les.loc[les[role_col] == "target"]
        assert t.groupby(["patient_id", "organ"]).size().max() <= 2
        assert t.groupby("patient_id").size().max() <= 5
        b = base.loc[base["criterion"] == crit].set_index("lesion_id")
        d = b.loc[t["lesion_id"], "diameter_mm"].to_numpy()
        min_mm = np.where(t["is_nodal"], 15.0, 10.0)
        assert (d >= min_mm).all(), crit
    hcc = les["patient_id"].isin(
        large["patients"].loc[large["patients"]["primary_tumour"] == "HCC", "patient_id"])
    assert (les.loc[~hcc, "mrecist_role"] == "none").all()
    assert (les.loc[hcc, "mrecist_role"] != "none").all()
    liver_t = les.loc[hcc & (les["organ"] == "liver") & (les["mrecist_role"] == "target")]
    assert liver_t["is_arterially_enhancing"].astype(bool).all()
    n_liver = les.loc[les["organ"] == "liver"].groupby("patient_id").size()
    assert n_liver.between(1, 5).all()
    assert les.loc[les["is_nodal"], "organ"].eq("lymph_node").all()


def test_mrecist_rows_only_for_hcc_and_imaging_rows_for_every_date(large):
    ia = large["imaging_assessments"]
    hcc_ids = set(large["patients"].loc[large["patients"]["primary_tumour"] == "HCC",
                                        "patient_id"])
    assert ia.loc[ia["criterion"] == "mRECIST", "patient_id"].isin(hcc_ids).all()
    rec = ia.loc[ia["criterion"] == "RECIST_1_1"].set_index(["patient_id", "assessment_date"])
    mrec = ia.loc[ia["criterion"] == "mRECIST"].set_index(["patient_id", "assessment_date"])
    hcc_rec = rec.loc[rec.index.get_level_values(0).isin(hcc_ids)]
    assert set(hcc_rec.index) == set(mrec.index)
    les = large["lesions"].set_index("lesion_id")
    m = large["lesion_measurements"]
    keys = set(zip(les.loc[m["lesion_id"], "patient_id"], m["assessment_date"], strict=True))
    assert keys <= set(rec.index)
    base = les.groupby("patient_id")["baseline_date"].min()
    assert set(zip(base.index, base, strict=True)) <= set(rec.index)


def test_imaging_schedule(large):
    ia = large["imaging_assessments"].loc[lambda d: d["criterion"] == "RECIST_1_1"]
    first = _first_sirt(large)
    post = ia.loc[ia["assessment_date"] > first.loc[ia["patient_id"]].to_numpy()]
    fu1 = post.groupby("patient_id")["assessment_date"].min()
    days = (fu1 - first.loc[fu1.index]).dt.days
    assert days.quantile(0.9) <= 91  # 6-10 weeks unless a visit was missed
    assert days.min() >= 42
    gaps = post.groupby("patient_id")["assessment_date"].diff().dt.days.dropna()
    assert gaps.min() >= 56
    assert gaps.median() <= 91


def test_measurement_states_and_fragments(large):
    m = large["lesion_measurements"]
    les = large["lesions"].set_index("lesion_id")
    role = np.where(m["criterion"] == "mRECIST", les.loc[m["lesion_id"], "mrecist_role"],
                    les.loc[m["lesion_id"], "recist_role"])
    target = role == "target"
    states = m.loc[target, "state"].value_counts()
    for s in ("measured", "too_small", "disappeared", "not_assessed"):
        assert states.get(s, 0) > 0, s
    measured = m["state"] == "measured"
    assert m.loc[measured, "diameter_mm"].notna().all()
    assert m.loc[m["state"] == "disappeared", "diameter_mm"].eq(0).all()
    assert m.loc[m["state"].isin(["too_small", "not_assessed"]), "diameter_mm"].isna().all()
    assert (m["fragment"] == 2).sum() > 0
    d = m["diameter_mm"].dropna()
    assert np.allclose(d, d.round(1))
    # non-target rows carry a status
    assert m.loc[~target, "nontarget_status"].notna().all()
    # mRECIST viable diameter never exceeds the RECIST long axis at baseline
    base = m.merge(les[["baseline_date"]], left_on="lesion_id", right_index=True)
    base = base.loc[base["assessment_date"] == base["baseline_date"]]
    wide = base.pivot_table(index="lesion_id", columns="criterion", values="diameter_mm")
    wide = wide.dropna()
    assert (wide["mRECIST"] <= wide["RECIST_1_1"] + 1e-9).all()


def test_new_lesions_and_reader_reports(large):
    ia = large["imaging_assessments"]
    yes = ia["new_lesion"] == "YES"
    assert yes.sum() > 100
    assert (ia["new_lesion"] == "EQUIVOCAL").sum() > 5
    assert ia.loc[yes, "new_lesion_site"].notna().all()
    assert ia.loc[yes, "new_lesion_size_mm"].ge(10).all()
    hcc_ids = large["patients"].loc[large["patients"]["primary_tumour"] == "HCC", "patient_id"]
    hcc_intra = yes & ia["patient_id"].isin(hcc_ids) & (ia["new_lesion_site"] == "intrahepatic")
    assert ia.loc[hcc_intra, "new_lesion_typical_hcc"].astype(bool).all()
    post = ia.loc[ia["reported_overall_response"].notna()]
    assert post.loc[post["new_lesion"] == "YES", "reported_overall_response"].eq("PD").mean() > 0.9
    miss = ia["reported_overall_response"].isna().mean()
    assert 0.1 <= miss <= 0.4  # baseline rows + ~10 % missing reports


def test_no_sum_progression_before_the_progression_visit(large):
    """Before the PD imaging, no RECIST target sum rises >= 20 % and >= 5 mm over its nadir."""
    m = large["lesion_measurements"].loc[lambda d: d["criterion"] == "RECIST_1_1"]
    les = large["lesions"].set_index("lesion_id")
    m = m.loc[les.loc[m["lesion_id"], "recist_role"].to_numpy() == "target"].copy()
    m["patient_id"] = les.loc[m["lesion_id"], "patient_id"].to_numpy()
    val = np.select([m["state"] == "measured", m["state"] == "too_small",
                     m["state"] == "disappeared"], [m["diameter_mm"], 5.0, 0.0], np.nan)
    m["val"] = val
    g = m.groupby(["patient_id", "assessment_date"])["val"]
    s = pd.DataFrame({"sum": g.sum(), "na": g.apply(lambda v: v.isna().any())}).reset_index()
    s = s.loc[~s["na"]].sort_values(["patient_id", "assessment_date"])
    s["nadir"] = s.groupby("patient_id")["sum"].cummin().groupby(s["patient_id"]).shift(1)
    pdv = (s["sum"] - s["nadir"] >= 0.2 * s["nadir"]) & (s["sum"] - s["nadir"] >= 5)
    # a growth PD may only be the patient's last imaging
    last = s.groupby("patient_id")["assessment_date"].transform("max")
    assert not (pdv & (s["assessment_date"] < last)).any()


# ------------------------------------------------------------------ labs, AEs, therapies


def test_baseline_labs_repeat_the_baseline_table(demo):
    b = demo["baseline"].set_index("patient_id")
    labs = demo["labs"]
    bil = labs.loc[labs["analyte"] == "bilirubin_total"].merge(
        b[["assessment_date", "bilirubin_umol_l"]], left_on=["patient_id", "sample_date"],
        right_on=["patient_id", "assessment_date"])
    assert len(bil) == len(b)
    si = np.where(bil["unit"] == "mg/dL", bil["value"] * 17.1, bil["value"])
    assert np.allclose(si, bil["bilirubin_umol_l"], atol=0.1)
    alb = labs.loc[labs["analyte"] == "albumin"].merge(
        b[["assessment_date", "albumin_g_l"]], left_on=["patient_id", "sample_date"],
        right_on=["patient_id", "assessment_date"])
    assert np.allclose(alb["value"], alb["albumin_g_l"])


def test_lab_units_and_limits(large):
    labs = large["labs"]
    bil = labs.loc[labs["analyte"] == "bilirubin_total"]
    units = bil["unit"].value_counts(normalize=True)
    assert 0.05 <= units["mg/dL"] <= 0.2
    assert units["µmol/L"] > 0.8
    assert bil.loc[bil["unit"] == "mg/dL", "uln"].eq(1.2).all()
    assert bil.loc[bil["unit"] == "µmol/L", "uln"].eq(21.0).all()
    assert labs["uln"].notna().all()
    assert labs["lln"].notna().all()
    first = _first_sirt(large)
    lym = labs.loc[labs["analyte"] == "lymphocytes"].copy()
    lym["t"] = (lym["sample_date"] - first.reindex(lym["patient_id"]).to_numpy()).dt.days
    before = lym.loc[lym["t"] < 0, "value"].median()
    after = lym.loc[lym["t"].between(20, 100), "value"].median()
    assert after < 0.8 * before  # lymphopenia after Y-90


def test_reild_cases(large):
    ae = large["adverse_events"]
    treated = large["treatments"]["patient_id"].nunique()
    reild = ae.loc[ae["is_reild"]]
    assert 0.01 <= reild["patient_id"].nunique() / treated <= 0.06
    first = _first_sirt(large)
    days = (reild["onset_date"] - first.loc[reild["patient_id"]].to_numpy()).dt.days
    assert days.min() >= 14
    labs = large["labs"].loc[lambda d: d["analyte"] == "bilirubin_total"].copy()
    labs["umol"] = np.where(labs["unit"] == "mg/dL", labs["value"] * 17.1, labs["value"])
    j = labs.merge(reild[["patient_id", "onset_date"]], on="patient_id")
    j = j.loc[(j["sample_date"] >= j["onset_date"])
              & (j["sample_date"] <= j["onset_date"] + pd.Timedelta(days=120))]
    assert (j.groupby("patient_id")["umol"].max() >= 51.3).all()
    asc = ae.loc[ae["ae_term"] == "Ascites", "patient_id"]
    assert reild["patient_id"].isin(asc).all()


def test_adverse_event_profile(large):
    ae = large["adverse_events"]
    terms = ae["ae_term"].value_counts()
    assert terms.index[0] == "Fatigue"
    assert (ae["grade"] == 5).sum() >= 1
    assert (ae["grade"] == 5).mean() < 0.03
    assert ae.loc[ae["grade"] >= 3, "serious"].all()
    p = large["patients"].set_index("patient_id")
    g5 = ae.loc[ae["grade"] == 5]
    assert p.loc[g5["patient_id"], "death_date"].notna().all()
    first = _first_sirt(large)
    days = (ae["onset_date"] - first.loc[ae["patient_id"]].to_numpy()).dt.days
    assert (days <= 90).mean() > 0.8


def test_other_therapies(large):
    ot = large["other_therapies"]
    assert {"systemic", "TACE", "transplant", "resection", "ablation"} <= set(ot["therapy_type"])
    assert ot["is_planned_with_sirt"].any()
    assert (~ot["is_planned_with_sirt"]).any()
    sysl = ot.loc[ot["therapy_type"] == "systemic"]
    assert sysl["systemic_line"].notna().all()
    assert ot.loc[ot["therapy_type"] != "systemic", "systemic_line"].isna().all()
    ended = ot["end_date"].notna()
    assert (ot.loc[ended, "end_date"] >= ot.loc[ended, "start_date"]).all()


# ------------------------------------------------------------------ survival shape


def _os_frame(tables):
    p = tables["patients"].set_index("patient_id")
    first = _first_sirt(tables)
    df = p.loc[first.index].join(tables["baseline"].set_index("patient_id"))
    end = df["death_date"].fillna(df["last_contact_date"])
    df["months"] = (end - first).dt.days / 30.4375
    df["event"] = df["death_date"].notna().astype(int)
    return df


def _km_median(t, e):
    """Kaplan-Meier median (smallest time with S(t) <= 0.5), hand-written."""
    order = np.lexsort((1 - e, t))
    t, e = np.asarray(t)[order], np.asarray(e)[order]
    at_risk = len(t) - np.arange(len(t))
    s = np.cumprod(1 - e / at_risk)
    hit = np.nonzero(s <= 0.5)[0]
    return t[hit[0]] if len(hit) else math.inf


def test_median_os_by_stage_plausible(large):
    df = _os_frame(large)
    hcc = df["primary_tumour"] == "HCC"
    med = {st: _km_median(df.loc[hcc & (df["bclc_stage"] == st), "months"],
                          df.loc[hcc & (df["bclc_stage"] == st), "event"]) for st in "ABC"}
    assert 14 <= med["A"] <= 32
    assert 12 <= med["B"] <= 28
    assert 7 <= med["C"] <= 15
    assert med["C"] < med["B"]
    crc = df["primary_tumour"] == "mCRC"
    assert 8 <= _km_median(df.loc[crc, "months"], df.loc[crc, "event"]) <= 18
    lost = (df["event"] == 0) & (df["last_contact_date"] < SNAPSHOT - pd.Timedelta(days=31))
    assert 0.02 <= lost.mean() <= 0.09
    d30 = ((df["event"] == 1) & (df["months"] * 30.4375 <= 30)).mean()
    assert d30 <= 0.03


# ------------------------------------------------------------------ recovery of the truth


def _lesion_best_change(tables, criterion):
    """Best % change of each target lesion over its follow-up (hand-written, R4.1)."""
    les = tables["lesions"]
    role = "mrecist_role" if criterion == "mRECIST" else "recist_role"
    m = tables["lesion_measurements"].loc[lambda d: d["criterion"] == criterion]
    m = m.merge(les.loc[les[role] == "target", ["lesion_id", "baseline_date"]])
    val = np.select([m["state"] == "measured", m["state"] == "too_small",
                     m["state"] == "disappeared"], [m["diameter_mm"], 5.0, 0.0], np.nan)
    m = m.assign(val=val).groupby(["lesion_id", "assessment_date", "baseline_date"],
                                  as_index=False)["val"].sum(min_count=1)
    base = m.loc[m["assessment_date"] == m["baseline_date"]].set_index("lesion_id")["val"]
    fu = m.loc[m["assessment_date"] > m["baseline_date"]].dropna(subset=["val"])
    best = fu.groupby("lesion_id")["val"].min()
    return 100 * (best - base.loc[best.index]) / base.loc[best.index]


@pytest.mark.parametrize(("tumour", "criterion"), [("HCC", "mRECIST"), ("other", "RECIST_1_1")])
def test_lesion_dose_response_truth_is_recovered(large, tumour, criterion):
    sm = pytest.importorskip("statsmodels.api")
    truth = DEMO_TRUTH["lesion_dose_response"][tumour]
    assert truth["criterion"] == criterion
    p = large["patients"]
    hcc = p["primary_tumour"] == "HCC"
    ids = p.loc[hcc if tumour == "HCC" else ~hcc, "patient_id"]
    les = large["lesions"].loc[lambda d: d["patient_id"].isin(ids)
                               & d["absorbed_dose_gy"].notna()].set_index("lesion_id")
    best = _lesion_best_change(large, criterion)
    best = best.loc[best.index.isin(les.index)]
    dose = les.loc[best.index, "absorbed_dose_gy"].to_numpy()
    y = (best.to_numpy() <= -30).astype(float)
    fit = sm.GLM(y, sm.add_constant(dose), family=sm.families.Binomial()).fit()
    b0, b1 = fit.params
    lo, hi = fit.conf_int()[1]
    assert len(y) > 800
    assert lo < truth["slope_per_gy"] < hi
    d50 = -b0 / b1
    # delta-method SE of d50
    cov = fit.cov_params()
    grad = np.array([-1 / b1, b0 / b1 ** 2])
    se = math.sqrt(grad @ cov @ grad)
    # 99 % (not 95 %): a 95 % check fails for one registry in twenty (it did when issue #16
    # changed the device draws of the large registry: 2.05 SE)
    assert abs(d50 - truth["d50_gy"]) < 2.576 * se + 1e-9


@pytest.mark.parametrize(("tumour", "criterion"), [("HCC", "mRECIST"), ("other", "RECIST_1_1")])
def test_lesion_classification_has_a_margin_around_minus_30_percent(large, tumour, criterion):
    """Under the primary criterion, responders reach <= -34 % and non-responders stay above
    -25 % (DEMO_TRUTH: no lesion is a near-miss, so the response call is unambiguous)."""
    p = large["patients"]
    hcc = p["primary_tumour"] == "HCC"
    ids = p.loc[hcc if tumour == "HCC" else ~hcc, "patient_id"]
    lesion_ids = large["lesions"].loc[large["lesions"]["patient_id"].isin(ids), "lesion_id"]
    best = _lesion_best_change(large, criterion)
    best = best.loc[best.index.isin(lesion_ids)]
    assert len(best) > 500
    assert not best.between(-33.5, -25.0).any()


@pytest.mark.slow
def test_os_hazard_ratios_are_recovered_by_cox():
    lifelines = pytest.importorskip("lifelines")
    from sirtstats.scores import compute_albi, compute_albi_grade

    tables = make_demo_registry(5000, seed=7)
    df = _os_frame(tables)
    grade = compute_albi_grade(compute_albi(df["bilirubin_umol_l"], df["albumin_g_l"]))
    tum = df["primary_tumour"]
    X = pd.DataFrame({
        "T": df["months"], "E": df["event"],
        "albi_grade_2": (grade == 2).astype(int), "albi_grade_3": (grade == 3).astype(int),
        "bclc_C": (df["bclc_stage"] == "C").astype(int),
        "bclc_D": (df["bclc_stage"] == "D").astype(int),
        "ecog_ge1": (df["ecog"] >= 1).astype(int),
        "primary_mCRC": (tum == "mCRC").astype(int), "primary_ICC": (tum == "ICC").astype(int),
        "primary_NET": (tum == "NET").astype(int),
        "primary_other": tum.isin(DEMO_TRUTH["os_model"]["primary_other_includes"]).astype(int),
    })
    # issue #16: the first-session device acts on OS (device_effect), so it is in the model
    eff = DEMO_TRUTH["device_effect"]
    tx = tables["treatments"].sort_values(["patient_id", "treatment_date"])
    first_device = tx.groupby("patient_id")["device"].first()
    X["device_treated"] = (first_device.reindex(df.index) == eff["treated"]).astype(int)
    cph = lifelines.CoxPHFitter().fit(X, "T", "E")
    ci = np.exp(cph.confidence_intervals_)
    truth = {**DEMO_TRUTH["os_model"]["hazard_ratios"], "device_treated": eff["hr"]}
    for name, hr in truth.items():
        lo, hi = ci.loc[name].to_numpy()
        assert lo < hr < hi, (name, lo, hr, hi)


def test_generation_does_not_depend_on_global_random_state():
    np.random.seed(0)  # noqa: NPY002 - the legacy global state must not matter
    a = make_demo_registry(80, seed=9)
    np.random.seed(1)  # noqa: NPY002
    b = make_demo_registry(80, seed=9)
    pd.testing.assert_frame_equal(a["labs"], b["labs"])


def test_snapshot_date_moves_the_registry():
    tables = make_demo_registry(80, seed=9, snapshot_date="2024-06-30")
    assert tables["patients"]["last_contact_date"].max() <= pd.Timestamp("2024-06-30")
    assert tables["treatments"]["treatment_date"].min() >= pd.Timestamp("2013-07-01")


def test_write_returns_paths_in_table_order(tmp_path):
    paths = write_demo_registry(tmp_path / "x", n_patients=60, seed=1)
    assert [Path(p).stem for p in paths] == list(TABLE_ORDER)
    assert all(Path(p).exists() for p in paths)


def test_treated_area_reports_for_about_half_of_the_patients(large):
    ia = large["imaging_assessments"]
    post = ia.loc[ia["reported_overall_response"].notna() | ia["reported_treated_area_response"]
                  .notna()]
    has = post.groupby("patient_id")["reported_treated_area_response"].apply(
        lambda s: s.notna().any())
    assert 0.35 <= has.mean() <= 0.65
    both = ia.dropna(subset=["reported_overall_response", "reported_treated_area_response"])
    # extrahepatic or out-of-territory progression: overall PD with a non-PD treated area
    assert ((both["reported_overall_response"] == "PD")
            & (both["reported_treated_area_response"] != "PD")).any()
