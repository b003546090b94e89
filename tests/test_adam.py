"""ADaM export (sirtstats.interop.adam): hand-computed values, round trips, labels, files.

* a 3-patient registry with expected ADRS/ADTTE/ADAE/ADSL values written by hand
  (response-criteria.md R1.9 confirmation >= 28 days, SD >= 42 days; FDA and admiral
  durations);
* registry -> ADaM equals the direct derivations (response, endpoints, toxicity) on a demo
  registry;
* CSV and SAS transport files read back with the same values, labels and dataset labels.
"""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from sirtstats.demo import make_demo_registry
from sirtstats.endpoints import derive_endpoints
from sirtstats.exceptions import SirtStatsWarning
from sirtstats.interop.adam import (
    ADAM_LABELS,
    DATASET_LABELS,
    derive_adae,
    derive_adam,
    derive_adrs,
    derive_adsl,
    derive_adtte,
    write_adam,
)
from sirtstats.registry import Registry
from sirtstats.response import derive_best_overall_response, derive_timepoint_response
from sirtstats.schema import TABLE_ORDER, apply_dtypes, empty_table
from sirtstats.toxicity import derive_treatment_emergent


def _registry(**tables) -> Registry:
    typed = {t: apply_dtypes(pd.DataFrame(tables[t]), t) if t in tables else empty_table(t)
             for t in TABLE_ORDER}
    return Registry(tables=typed, source="test")


@pytest.fixture
def small() -> Registry:
    return _registry(
        patients={"patient_id": ["P1", "P2", "P3"], "centre_id": "C1", "sex": ["F", "M", "M"],
                  "birth_year": [1950, 1960, 1955], "primary_tumour": ["HCC", "mCRC", "HCC"],
                  "diagnosis_date": ["2023-10-01", "2023-11-01", "2023-12-01"],
                  "death_date": [None, "2024-03-05", None],
                  "cause_of_death": [None, "tumour_progression", None],
                  "last_contact_date": ["2024-09-01", "2024-03-05", "2024-05-01"]},
        treatments={"injection_id": ["I1", "I2"], "session_id": ["S1", "S2"],
                    "patient_id": ["P1", "P2"], "treatment_date": ["2024-01-10", "2024-02-01"],
                    "device": ["Y90_glass", "Y90_resin"], "territory": "right_lobe",
                    "delivered_activity_gbq": [2.0, 1.5]},
        lesions={"lesion_id": ["P1-L1"], "patient_id": ["P1"], "baseline_date": ["2024-01-02"],
                 "organ": ["liver"], "is_nodal": [False], "recist_role": ["target"],
                 "mrecist_role": ["target"], "in_treated_territory": [True]},
        imaging_assessments={
            "patient_id": ["P1", "P1", "P1", "P2"],
            "assessment_date": ["2024-03-10", "2024-04-15", "2024-06-20", "2024-02-20"],
            "criterion": "RECIST_1_1", "modality": "CT", "new_lesion": "NO",
            "reported_overall_response": ["PR", "PR", "PD", "SD"]},
        adverse_events={"ae_id": ["P1-AE2", "P1-AE10", "P2-AE1"],
                        "patient_id": ["P1", "P1", "P2"], "ae_term": ["Fatigue", "Ascites",
                                                                      "Nausea"],
                        "onset_date": ["2024-01-11", "2024-05-01", "2024-02-02"],
                        "grade": [2, 3, 1], "serious": [False, True, False],
                        "is_reild": [False, False, False]},
    )


def _by(df, *keys):
    return df.set_index(list(keys))


def test_adrs_hand_computed_parameters(small):
    adrs = derive_adrs(small, source="reported")
    got = _by(adrs.query("PARAMCD != 'OVR'"), "USUBJID", "PARAMCD")
    expected = {  # (AVALC, ADT, AVAL)
        ("P1", "BOR"): ("PR", "2024-03-10", 2), ("P1", "CBOR"): ("PR", "2024-03-10", 2),
        ("P1", "RSP"): ("Y", "2024-03-10", 1), ("P1", "CRSP"): ("Y", "2024-03-10", 1),
        ("P1", "BCP"): ("Y", "2024-03-10", 1), ("P1", "CBCP"): ("Y", "2024-03-10", 1),
        ("P1", "CB"): ("Y", "2024-03-10", 1), ("P1", "CCB"): ("Y", "2024-03-10", 1),
        ("P1", "PD"): ("Y", "2024-06-20", 1), ("P1", "DEATH"): ("N", None, 0),
        ("P1", "LSTA"): ("PD", "2024-06-20", 5), ("P1", "MDIS"): ("Y", None, 1),
        # P2: SD 19 days after SIRT (< 42) -> NE; died
        ("P2", "BOR"): ("NE", "2024-02-20", 6), ("P2", "CBOR"): ("NE", "2024-02-20", 6),
        ("P2", "RSP"): ("N", None, 0), ("P2", "CB"): ("N", None, 0),
        ("P2", "PD"): ("N", None, 0), ("P2", "DEATH"): ("Y", "2024-03-05", 1),
        ("P2", "LSTA"): ("SD", "2024-02-20", 3), ("P2", "MDIS"): ("N", None, 0),
        # P3: never treated
        ("P3", "BOR"): ("MISSING", None, 7), ("P3", "CBOR"): ("MISSING", None, 7),
        ("P3", "RSP"): ("N", None, 0), ("P3", "LSTA"): (None, None, None),
    }
    for key, (avalc, adt, aval) in expected.items():
        row = got.loc[key]
        assert (row["AVALC"] if pd.notna(row["AVALC"]) else None) == avalc, key
        if adt is None:
            assert pd.isna(row["ADT"]), key
        else:
            assert row["ADT"] == pd.Timestamp(adt), key
        assert (None if pd.isna(row["AVAL"]) else row["AVAL"]) == aval, key
    assert len(adrs.query("PARAMCD != 'OVR'")) == 3 * 12
    ovr = adrs.query("PARAMCD == 'OVR'")
    assert ovr[["USUBJID", "AVALC", "AVAL", "ANL02FL", "ADY"]].astype(object).where(
        ovr[["USUBJID", "AVALC", "AVAL", "ANL02FL", "ADY"]].notna(), None).values.tolist() == [
        ["P1", "PR", 2, "Y", 61], ["P1", "PR", 2, "Y", 97], ["P1", "PD", 5, "Y", 163],
        ["P2", "SD", 3, "Y", 20]]
    assert adrs.groupby("USUBJID")["ASEQ"].apply(list).to_dict()["P2"] == list(range(1, 14))
    assert set(adrs["PARCAT3"].dropna()) == {"RECIST 1.1"}
    assert set(adrs.loc[adrs["PARAMCD"] == "DEATH", "PARCAT1"]) == {"Reference Event"}


@pytest.mark.parametrize(("convention", "plus"), [("fda", 0), ("admiral", 1)])
def test_adtte_hand_computed(small, convention, plus):
    tte = derive_adtte(small, source="reported", convention=convention,
                       endpoints=["OS", "PFS", "TTP", "DoR"])
    got = _by(tte, "USUBJID", "PARAMCD")
    # P1: SIRT 2024-01-10; alive 2024-09-01 (235 d); PD 2024-06-20 (162 d); DoR from PR
    # 2024-03-10 to PD (102 d). P2: SIRT 2024-02-01, death 2024-03-05 (33 d).
    expected = {("P1", "OS"): ("2024-01-10", "2024-09-01", 235, 1, "Alive"),
                ("P1", "PFS"): ("2024-01-10", "2024-06-20", 162, 0, "Disease Progression"),
                ("P1", "TTP"): ("2024-01-10", "2024-06-20", 162, 0, "Disease Progression"),
                ("P1", "RSD"): ("2024-03-10", "2024-06-20", 102, 0, "Disease Progression"),
                ("P2", "OS"): ("2024-02-01", "2024-03-05", 33, 0, "Death"),
                ("P2", "PFS"): ("2024-02-01", "2024-03-05", 33, 0, "Death")}
    for key, (start, adt, aval, cnsr, desc) in expected.items():
        row = got.loc[key]
        assert (row["STARTDT"], row["ADT"]) == (pd.Timestamp(start), pd.Timestamp(adt)), key
        assert (row["AVAL"], row["CNSR"], row["EVNTDESC"]) == (aval + plus, cnsr, desc), key
    assert "P3" not in set(tte["USUBJID"])  # untreated: no time origin
    assert set(tte["AVALU"]) == {"DAYS"}
    assert got.loc[("P1", "OS"), "CNSDTDSC"] == "censored: last known alive"


def test_adae_treatment_emergent_and_first_worst(small):
    ae = derive_adae(small)  # 90 days after the last session
    assert ae[["USUBJID", "AESEQ", "AESPID", "ASTDY", "TRTEMFL", "AOCCIFL"]].astype(object) \
        .where(ae[["USUBJID", "AESEQ", "AESPID", "ASTDY", "TRTEMFL", "AOCCIFL"]].notna(),
               None).values.tolist() == [
        ["P1", 1, "P1-AE2", 2, "Y", "Y"], ["P1", 2, "P1-AE10", 113, None, None],
        ["P2", 1, "P2-AE1", 2, "Y", "Y"]]
    wide = derive_adae(small, te_window_days=120)  # 2024-05-01 is 112 days after 2024-01-10
    assert wide["TRTEMFL"].tolist() == ["Y", "Y", "Y"]
    assert wide["AOCCIFL"].tolist() == [None, "Y", "Y"]  # grade 3 is now the worst
    assert ae["ATOXGR"].tolist() == ["2", "3", "1"]
    assert ae["AESER"].tolist() == ["N", "Y", "N"]


def test_adsl_values(small):
    adsl = derive_adsl(small, studyid="S")
    assert adsl["USUBJID"].tolist() == ["P1", "P2", "P3"]
    assert adsl["SAFFL"].tolist() == ["Y", "Y", "N"]
    assert adsl["TRT01A"].tolist()[:2] == ["Y90_glass", "Y90_resin"]
    assert adsl["AGE"].tolist()[:2] == [74, 64]  # 2024 - birth year
    assert adsl["DTHFL"].tolist() == [None, "Y", None]
    assert adsl["NSESS"].tolist()[:2] == [1, 1]
    assert set(adsl["STUDYID"]) == {"S"}


def test_inputs_not_modified(small):
    before = {t: df.copy() for t, df in small.tables.items()}
    derive_adam(small, source="reported", endpoints=["OS", "PFS"])
    for t, df in small.tables.items():
        pd.testing.assert_frame_equal(df, before[t], obj=t)


def test_invalid_options_and_skipped_scoped_endpoints(small):
    with pytest.raises(ValueError, match=r"The 'criterion' argument of derive_adam must be one "
                                         r"of \{'RECIST_1_1', 'mRECIST'\}. Got 'recist' instead"):
        derive_adam(small, criterion="recist")
    with pytest.raises(ValueError, match="The 'source' argument of derive_adrs"):
        derive_adrs(small, source="reader")
    with pytest.raises(ValueError, match="The 'endpoints' argument of derive_adtte"):
        derive_adtte(small, endpoints=["EFS"])
    with pytest.warns(SirtStatsWarning, match=r"\['hepatic_PFS'\] skipped"):
        tte = derive_adtte(small, source="reported", endpoints=["OS", "hepatic_PFS"])
    assert set(tte["PARAMCD"]) == {"OS"}


# --------------------------------------------------------------------------- round trips


@pytest.fixture(scope="module")
def demo():
    return Registry(tables=make_demo_registry(60, seed=5), source="demo60")


@pytest.fixture(scope="module")
def demo_adam(demo):
    return derive_adam(demo, endpoints=["OS", "PFS", "hepatic_PFS", "TTP", "DoR"])


def test_round_trip_adrs_equals_direct_best_response(demo, demo_adam):
    t = demo.tables
    tp = derive_timepoint_response(t["lesions"], t["lesion_measurements"],
                                   t["imaging_assessments"])
    first = t["treatments"].groupby("patient_id")["treatment_date"].min()
    origin = pd.DataFrame({"patient_id": first.index, "origin_date": first.to_numpy()})
    for confirm, param in ((False, "BOR"), (True, "CBOR")):
        direct = derive_best_overall_response(tp, origin, confirm=confirm,
                                              df_therapies=t["other_therapies"])
        direct = direct.set_index("patient_id")
        adrs = demo_adam["ADRS"].loc[demo_adam["ADRS"]["PARAMCD"] == param].set_index("USUBJID")
        code = direct["bor"].replace({"NON_CR_NON_PD": "NON-CR/NON-PD"})
        assert (adrs.loc[direct.index, "AVALC"] == code).all()
        assert (adrs.loc[direct.index, "ADT"].fillna(pd.Timestamp(0))
                == direct["bor_date"].fillna(pd.Timestamp(0))).all()
    ovr = demo_adam["ADRS"].query("PARAMCD == 'OVR'")
    assert len(ovr) == len(tp.loc[tp["patient_id"].isin(origin["patient_id"])])


def test_round_trip_adtte_equals_direct_endpoints(demo, demo_adam):
    t = demo.tables
    first = t["treatments"].groupby("patient_id")["treatment_date"].min()
    pts = t["patients"].set_index("patient_id").loc[first.index].reset_index()
    pts["origin_date"] = first.to_numpy()
    visits = pd.concat([derive_timepoint_response(
        t["lesions"], t["lesion_measurements"], t["imaging_assessments"], scope=s)
        for s in ("overall", "hepatic")])
    direct = derive_endpoints(pts, visits, t["other_therapies"],
                              endpoints=["OS", "PFS", "hepatic_PFS", "TTP", "DoR"])
    code = {"OS": "OS", "PFS": "PFS", "hepatic_PFS": "HPFS", "TTP": "TTP", "DoR": "RSD"}
    direct = direct.assign(PARAMCD=direct["endpoint"].map(code)).set_index(
        ["patient_id", "PARAMCD"]).sort_index()
    adtte = demo_adam["ADTTE"].set_index(["USUBJID", "PARAMCD"]).sort_index()
    assert adtte.index.equals(direct.index)
    assert (adtte["AVAL"].to_numpy() == direct["time_days"].to_numpy()).all()
    assert (adtte["CNSR"].to_numpy() == 1 - direct["event"].to_numpy()).all()
    assert (adtte["ADT"].to_numpy() == direct["event_date"].to_numpy()).all()


def test_round_trip_adae_equals_direct_toxicity(demo, demo_adam):
    t = demo.tables
    direct = derive_treatment_emergent(t["adverse_events"], t["treatments"])
    te = direct.set_index("ae_id")["is_treatment_emergent"]
    adae = demo_adam["ADAE"].set_index("AESPID")
    assert len(adae) == len(te)
    assert ((adae["TRTEMFL"] == "Y") == te.reindex(adae.index)).all()
    first_worst = adae.loc[adae["AOCCIFL"] == "Y"]
    assert first_worst["USUBJID"].is_unique
    worst = adae.loc[adae["TRTEMFL"] == "Y"].groupby("USUBJID")["ATOXGRN"].max()
    assert (first_worst.set_index("USUBJID")["ATOXGRN"] == worst.loc[
        first_worst["USUBJID"]]).all()


# --------------------------------------------------------------------------- files


def test_write_csv_and_xpt_round_trip(small, tmp_path):
    adam = derive_adam(small, source="reported", endpoints=["OS", "PFS"])
    paths = write_adam(adam, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        [f"{n}.{e}" for n in ("adsl", "adrs", "adtte", "adae") for e in ("csv", "xpt")]
        + ["variables.csv"])
    for name, df in adam.items():
        data, meta = pyreadstat.read_xport(str(tmp_path / f"{name.lower()}.xpt"))
        assert meta.table_name == name
        assert meta.file_label == DATASET_LABELS[name]
        assert meta.column_names_to_labels == {c: ADAM_LABELS[name][c] for c in df.columns}
        csv = pd.read_csv(tmp_path / f"{name.lower()}.csv", dtype=str, keep_default_na=False)
        assert list(csv.columns) == list(df.columns) == list(data.columns)
        for c in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[c]):
                assert meta.original_variable_types[c] == "DATE9"
                iso = df[c].dt.strftime("%Y-%m-%d").fillna("")
                assert csv[c].tolist() == iso.tolist(), (name, c)
                back = pd.to_datetime(data[c]).dt.strftime("%Y-%m-%d").fillna("")
                assert back.tolist() == iso.tolist(), (name, c)
            elif pd.api.types.is_numeric_dtype(df[c]):
                assert data[c].fillna(-1).tolist() == df[c].astype(float).fillna(-1).tolist()
            else:
                assert data[c].tolist() == df[c].fillna("").tolist(), (name, c)
    variables = pd.read_csv(tmp_path / "variables.csv")
    assert variables.query("dataset == 'ADTTE' and variable == 'CNSR'")["label"].item() == \
        "Censor"


def test_write_refuses_non_transport_names_and_bad_format(small, tmp_path):
    adsl = derive_adsl(small)
    with pytest.raises(ValueError, match=r"ADSL: variables not writable.*LONGNAME1"):
        write_adam({"ADSL": adsl.assign(LONGNAME1=1)}, tmp_path)
    with pytest.raises(ValueError, match=r"NEWVAR \(no label\)"):
        write_adam({"ADSL": adsl.assign(NEWVAR=1)}, tmp_path)
    with pytest.raises(ValueError, match="The 'formats' argument of write_adam"):
        write_adam({"ADSL": adsl}, tmp_path, formats=["sas7bdat"])


def test_every_label_fits_transport_v5():
    for labels in ADAM_LABELS.values():
        for name, label in labels.items():
            assert len(name) <= 8
            assert len(label) <= 40


# --------------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    from sirtstats.demo import write_demo_registry

    folder = tmp_path_factory.mktemp("demo20")
    write_demo_registry(folder, n_patients=20, seed=2)
    return folder


def test_cli_export_adam_writes_the_datasets(demo_folder, tmp_path, capsys):
    from sirtstats.cli import main
    from sirtstats.registry import load_registry

    out = tmp_path / "adam"
    assert main(["export-adam", "--data", str(demo_folder), "--out", str(out), "--cutoff",
                 "2024-06-30", "--criterion", "mRECIST", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert "(mRECIST, derived responses, fda conventions)" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "adae.csv", "adrs.csv", "adsl.csv", "adtte.csv", "variables.csv"]
    expected = derive_adam(load_registry(demo_folder, cutoff_date="2024-06-30"),
                           criterion="mRECIST")
    for name, df in expected.items():
        got = pd.read_csv(out / f"{name.lower()}.csv", dtype=str, keep_default_na=False)
        assert len(got) == len(df), name
    adsl = pd.read_csv(out / "adsl.csv", dtype=str, keep_default_na=False)
    assert set(adsl["CUTOFFDT"]) == {"2024-06-30"}
    adrs = pd.read_csv(out / "adrs.csv", dtype=str, keep_default_na=False)
    assert set(adrs["PARCAT3"]) - {""} == {"mRECIST"}
    assert adrs.loc[adrs["PARAMCD"] == "OVR", "ADT"].max() <= "2024-06-30"


def test_cli_export_adam_exit_codes(demo_folder, tmp_path, capsys):
    from sirtstats.cli import main

    out = tmp_path / "adam"
    assert main(["export-adam", "--data", str(demo_folder), "--out", str(out), "--cutoff",
                 "not-a-date"]) == 2
    assert main(["export-adam", "--data", str(demo_folder), "--out", str(out), "--criterion",
                 "RECIST"]) == 2
    assert main(["export-adam", "--data", str(tmp_path / "none"), "--out", str(out)]) == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "patients.csv").write_text(
        (demo_folder / "patients.csv").read_text().replace(",HCC,", ",liver,", 1))
    assert main(["export-adam", "--data", str(broken), "--out", str(out)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert not out.exists()
