"""SDTM DM/DS/EX/AE -> registry (sirtstats.interop.sdtm_subjects) on hand-made records.

Expected values are written out by hand from the SDTM records and the documented rules
(partial dates to the first/last day, activity units, severity -> grade, admiral's
first-treatment floor for imputed AE starts), never re-derived with the code under test.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.interop.sdtm_subjects import (
    convert_sdtm_adverse_events,
    convert_sdtm_patients,
    convert_sdtm_treatments,
    find_sdtm_files,
    import_sdtm,
    load_sdtm_file,
)


def _frame(columns, rows):
    return pd.DataFrame(rows, columns=columns, dtype=object)


DM_COLS = ["USUBJID", "SITEID", "SEX", "BRTHDTC", "AGE", "AGEU", "RFSTDTC", "RFPENDTC",
           "DMDTC", "RFICDTC", "DTHDTC", "DTHFL"]
EX_COLS = ["USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXLOC", "EXSTDTC", "EXENDTC"]
AE_COLS = ["USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AESEV", "AETOXGR", "AEREL",
           "AESER", "AESTDTC", "AEENDTC"]


@pytest.fixture
def domains():
    dm = _frame(DM_COLS, [
        ["S1", "C7", "F", "1950-12-26", "63", "YEARS", "2014-01-02", "2014-07-02T11:45",
         "2013-12-26", None, None, None],
        ["S2", "C7", "M", None, "70", "YEARS", "2013-05-10", "2013-09-01", "2013-05-01",
         "2013-04-20", "2013-08", "Y"],
        ["S3", "C8", "F", "1948", None, None, None, None, "2012-03-03", None, None, None],
    ])
    ds = _frame(["USUBJID", "DSDECOD", "DSSTDTC"], [
        ["S1", "RANDOMIZED", "2014-01-02"], ["S1", "COMPLETED", "2014-06-30"],
        ["S2", "RANDOMIZED", "2013-05-10"], ["S3", "SCREEN FAILURE", "2012-03-05"],
    ])
    ex = _frame(EX_COLS, [
        ["S1", "1", "TheraSphere Y-90 glass microspheres", "2.5", "GBq", "LIVER, RIGHT LOBE",
         "2014-01-02T10:30", "2014-01-02"],
        ["S1", "2", "SIR-Spheres", "1500", "MBq", "LIVER, SEGMENT 4", "2014-03-01",
         "2014-03-01"],
        ["S2", "1", "QuiremSpheres", "40", "mCi", "WHOLE LIVER", "2013-05-10", "2013-05-10"],
    ])
    ae = _frame(AE_COLS, [
        ["S1", "1", "tiredness", "FATIGUE", "GENERAL DISORDERS", "MODERATE", None, "POSSIBLE",
         "N", "2014-01", "2014-02-03"],
        ["S1", "2", "ascites", "ASCITES", "GI", "SEVERE", "3", "PROBABLE", "Y", "2014-02-10",
         None],
        ["S2", "1", "REILD", "RADIOEMBOLIZATION-INDUCED LIVER DISEASE", "HEPATOBILIARY",
         "SEVERE", None, "DEFINITE", "Y", "2013-06-20", "2013-09"],
        ["S2", "2", "nausea", "NAUSEA", "GI", "MILD", None, "REMOTE", "N", "2013", None],
        ["S2", "3", "old knee pain", "ARTHRALGIA", "MUSCULOSKELETAL", "MILD", None, "NONE",
         "N", "1987", None],
    ])
    return {"DM": dm, "DS": ds, "EX": ex, "AE": ae}


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        return func(*args, **kwargs)


# --------------------------------------------------------------------------- DM


def test_patients_from_dm_ds_and_study_dates(domains):
    out = _quiet(convert_sdtm_patients, domains, primary_tumour="HCC").set_index("patient_id")
    assert out.loc["S1", "centre_id"] == "C7"
    assert out.loc["S2", "sex"] == "M"
    # BRTHDTC year; S2: RFSTDTC year 2013 - AGE 70; S3: partial BRTHDTC "1948"
    assert out["birth_year"].tolist() == [1950, 1943, 1948]
    # diagnosis: earliest study date (S2: RFICDTC 2013-04-20; S3: DMDTC 2012-03-03)
    assert out["diagnosis_date"].tolist() == pd.to_datetime(
        ["2013-12-26", "2013-04-20", "2012-03-03"]).tolist()
    # S2 died 2013-08 -> first of month; last contact = death date
    assert out.loc["S2", "death_date"] == pd.Timestamp("2013-08-01")
    assert out.loc["S2", "last_contact_date"] == pd.Timestamp("2013-08-01")
    assert out.loc["S2", "cause_of_death"] == "unknown"
    # S1 alive: latest of RFPENDTC 2014-07-02, DS 2014-06-30, EX, AE 2014-02-10 / 2014-02-03
    assert out.loc["S1", "last_contact_date"] == pd.Timestamp("2014-07-02")
    assert pd.isna(out.loc["S1", "death_date"])
    assert pd.isna(out.loc["S1", "cause_of_death"])
    # S3 screen failure: DS 2012-03-05
    assert out.loc["S3", "last_contact_date"] == pd.Timestamp("2012-03-05")
    assert (out["primary_tumour"] == "HCC").all()


def test_death_date_last_imputation_and_from_ds(domains):
    out = _quiet(convert_sdtm_patients, domains, primary_tumour="HCC",
                 date_imputation="last").set_index("patient_id")
    assert out.loc["S2", "death_date"] == pd.Timestamp("2013-08-31")
    d = dict(domains)
    d["DM"] = domains["DM"].assign(DTHDTC=None, DTHFL=None)
    d["DS"] = pd.concat([domains["DS"], _frame(["USUBJID", "DSDECOD", "DSSTDTC"],
                                               [["S1", "DEATH", "2014-07-20"]])])
    out = _quiet(convert_sdtm_patients, d, primary_tumour="HCC").set_index("patient_id")
    assert out.loc["S1", "death_date"] == pd.Timestamp("2014-07-20")
    assert out["death_date"].notna().tolist() == [True, False, False]


def test_every_imputed_patient_value_is_listed_and_warned(domains):
    with pytest.warns(SirtStatsWarning) as record:
        res = import_sdtm_from(domains, primary_tumour="mCRC", quiet=False)
    messages = [str(w.message) for w in record]
    assert any("primary_tumour='mCRC' set for 3 record" in m for m in messages)
    assert any("4 AE grade(s) taken from AESEV" in m for m in messages)
    imp = res.imputed
    by = imp.groupby(["table", "column"]).size().to_dict()
    assert by[("patients", "primary_tumour")] == 3
    assert by[("patients", "diagnosis_date")] == 3
    assert imp.query("column == 'birth_year'")[["patient_id", "original", "imputed"]].values \
        .tolist() == [["S2", "70", "1943"]]
    assert imp.query("column == 'death_date'")[["patient_id", "original", "imputed"]].values \
        .tolist() == [["S2", "2013-08", "2013-08-01"]]


def test_missing_primary_tumour_and_bad_sex_are_errors(domains):
    d = dict(domains)
    d["DM"] = domains["DM"].assign(SEX=["F", "U", "F"])
    res = import_sdtm_from(d, device="Y90_glass", territory="whole_liver")
    err = res.problems.query("severity == 'error'")
    assert res.has_errors
    assert err.query("variable == 'SEX'")[["patient_id", "value"]].values.tolist() == [
        ["S2", "U"]]
    assert sorted(err.loc[err["problem"].str.contains("primary_tumour"), "patient_id"]) == [
        "S1", "S2", "S3"]
    assert res["patients"]["sex"].isna().tolist() == [False, True, False]


# --------------------------------------------------------------------------- EX


def test_treatments_devices_units_territories_sessions(domains):
    tx = convert_sdtm_treatments(domains["EX"])
    assert tx["injection_id"].tolist() == ["S1/EX1", "S1/EX2", "S2/EX1"]
    # one session per patient and day, numbered in date order (no date in an identifier)
    assert tx["session_id"].tolist() == ["S1/S1", "S1/S2", "S2/S1"]
    assert tx["device"].tolist() == ["Y90_glass", "Y90_resin", "Ho166_PLLA"]
    assert tx["territory"].tolist() == ["right_lobe", "segmental", "whole_liver"]
    # 2.5 GBq; 1500 MBq = 1.5 GBq; 40 mCi x 0.037 = 1.48 GBq
    assert tx["delivered_activity_gbq"].tolist() == pytest.approx([2.5, 1.5, 1.48], abs=1e-12)
    assert tx["administration_datetime"].iloc[0] == pd.Timestamp("2014-01-02 10:30")
    assert tx["administration_datetime"].iloc[1:].isna().all()


def test_non_sirt_exposure_needs_options_and_warns_when_used():
    ex = _frame(EX_COLS, [
        ["S1", "1", "XANOMELINE", "54", "mg", None, "2014-01-02", "2014-01-16"],
        ["S1", "2", "XANOMELINE", "0", "mg", None, "2014-01-17", "2014-02-01"],
        ["S2", "1", "PLACEBO", "0", "mg", None, "2014-02", "2014-03-20"],
    ])
    res = import_sdtm_from({"DM": _frame(["USUBJID", "SITEID", "SEX", "BRTHDTC"], [
        ["S1", "1", "F", "1950"], ["S2", "1", "M", "1951"]]), "EX": ex}, primary_tumour="other")
    err = res.problems.query("severity == 'error'")
    assert set(err["variable"]) == {"EXTRT", "EXLOC", "EXDOSU"}
    assert len(err) == 6  # 2 administered records (placebo kept, dose-0 drug skipped) x 3
    skipped = res.problems.query("severity == 'warning' and variable == 'EXDOSE'")
    assert skipped[["patient_id", "value"]].values.tolist() == [["S1", "2"]]
    with pytest.warns(SirtStatsWarning) as record:
        tx = convert_sdtm_treatments(ex, device="Y90_resin", territory="left_lobe",
                                     activity_gbq=1.0, include_exposure_end=True)
    assert len(record) == 3
    assert tx[["injection_id", "treatment_date", "delivered_activity_gbq"]].astype(str).values \
        .tolist() == [["S1/EX1", "2014-01-02", "1.0"], ["S1/END", "2014-01-16", "0.0"],
                      ["S2/EX1", "2014-02-01", "1.0"], ["S2/END", "2014-03-20", "0.0"]]
    assert set(tx["device"]) == {"Y90_resin"}
    assert set(tx["territory"]) == {"left_lobe"}


# --------------------------------------------------------------------------- AE


def test_adverse_events_mapping_rules(domains):
    first = pd.Series(pd.to_datetime(["2014-01-02", "2013-05-10"]), index=["S1", "S2"])
    death = pd.Series(pd.to_datetime(["2013-08-01"]), index=["S2"])
    with pytest.warns(SirtStatsWarning, match="AESEV"):
        ae = convert_sdtm_adverse_events(domains["AE"], first_treatment=first,
                                         death_dates=death)
    assert ae["ae_id"].tolist() == ["S1/AE1", "S1/AE2", "S2/AE1", "S2/AE2"]  # 1987 dropped
    assert ae["ae_term"].tolist() == ["FATIGUE", "ASCITES",
                                      "RADIOEMBOLIZATION-INDUCED LIVER DISEASE", "NAUSEA"]
    # AETOXGR wins over AESEV (S1/AE2); else MODERATE 2, SEVERE 3, MILD 1
    assert ae["grade"].tolist() == [2, 3, 3, 1]
    assert ae["attribution"].tolist() == ["possible", "probable", "definite", "unlikely"]
    assert ae["serious"].tolist() == [False, True, True, False]
    assert ae["is_reild"].tolist() == [False, False, True, False]
    # "2014-01" first of month -> 2014-01-01, but not before the first SIRT 2014-01-02 of that
    # month (admiral min_dates); "2013" -> 2013-01-01 -> 2013-05-10 (same year)
    assert ae["onset_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2014-01-02", "2014-02-10", "2013-06-20", "2013-05-10"]
    # "2013-09" end -> 2013-09-30, capped at death 2013-08-01
    assert ae["resolution_date"].dt.strftime("%Y-%m-%d").fillna("").tolist() == [
        "2014-02-03", "", "2013-08-01", ""]


def test_adverse_events_last_imputation_and_old_onsets_reported(domains):
    res = import_sdtm_from(domains, primary_tumour="HCC", date_imputation="last")
    ae = res["adverse_events"].set_index("ae_id")
    assert ae.loc["S1/AE1", "onset_date"] == pd.Timestamp("2014-01-31")
    assert ae.loc["S2/AE2", "onset_date"] == pd.Timestamp("2013-12-31")
    old = res.problems.query("variable == 'AESTDTC'")
    assert old[["patient_id", "value", "severity"]].values.tolist() == [["S2", "1987",
                                                                        "warning"]]
    assert "not imported" in old["problem"].item()


def test_unknown_relation_is_a_warning_missing_grade_an_error(domains):
    ae = domains["AE"].copy()
    ae.loc[0, "AEREL"] = "MAYBE"
    ae.loc[3, "AESEV"] = None
    log_res = import_sdtm_from({**domains, "AE": ae}, primary_tumour="HCC")
    p = log_res.problems
    assert p.query("variable == 'AEREL'")[["patient_id", "value", "severity"]].values \
        .tolist() == [["S1", "MAYBE", "warning"]]
    assert p.query("variable == 'AESEV'")[["patient_id", "severity"]].values.tolist() == [
        ["S2", "error"]]


# --------------------------------------------------------------------------- folder / files


def import_sdtm_from(domains, tmp=None, *, quiet=True, **options):
    """Write the domains as CSV in a temporary folder and import them."""
    import tempfile
    from pathlib import Path

    folder = Path(tmp or tempfile.mkdtemp())
    for name, df in domains.items():
        df.to_csv(folder / f"{name.lower()}.csv", index=False)
    if not quiet:
        return import_sdtm(folder, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        return import_sdtm(folder, **options)


def test_import_sdtm_assembles_tables_and_is_a_mapping(domains, tmp_path):
    res = import_sdtm_from(domains, tmp_path, primary_tumour="HCC")
    assert list(res) == ["patients", "treatments", "adverse_events"]
    assert dict(res)["patients"] is res.tables["patients"]
    assert not res.has_errors, res.problems
    assert set(res.files) == {"DM", "DS", "EX", "AE"}
    assert res.to_frame()["rows"].tolist() == [3, 3, 4]


def test_xpt_reads_like_csv(domains, tmp_path):
    import pyreadstat

    csv_dir, xpt_dir = tmp_path / "csv", tmp_path / "xpt"
    csv_dir.mkdir()
    xpt_dir.mkdir()
    for name, df in domains.items():
        df.to_csv(csv_dir / f"{name.lower()}.csv", index=False)
        typed = df.copy()
        for col in ("AESEQ", "EXSEQ", "EXDOSE", "AGE", "AETOXGR"):  # numeric in real XPT files
            if col in typed:
                typed[col] = pd.to_numeric(typed[col])
        typed = typed.apply(lambda s: s.fillna("") if s.dtype == object else s)
        pyreadstat.write_xport(typed, str(xpt_dir / f"{name}.xpt"), table_name=name,
                               file_format_version=5)
    for name in domains:
        a = load_sdtm_file(csv_dir / f"{name.lower()}.csv")
        b = load_sdtm_file(xpt_dir / f"{name}.xpt")
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)
    ra = _quiet(import_sdtm, csv_dir, primary_tumour="HCC")
    rb = _quiet(import_sdtm, xpt_dir, primary_tumour="HCC")
    for table in ra:
        pd.testing.assert_frame_equal(ra[table], rb[table], obj=table)


def test_folder_errors(domains, tmp_path):
    with pytest.raises(SirtDataError, match="SDTM folder not found"):
        import_sdtm(tmp_path / "none")
    (tmp_path / "ae.csv").write_text("USUBJID,AESTDTC\nS1,2014-01-01\n")
    with pytest.raises(SirtDataError, match="no DM domain"):
        import_sdtm(tmp_path)
    (tmp_path / "DM.xpt").write_bytes(b"")
    (tmp_path / "dm.csv").write_text("USUBJID\nS1\n")
    with pytest.raises(SirtDataError, match=r"DM: several files \(DM.xpt, dm.csv\)"):
        find_sdtm_files(tmp_path)
    (tmp_path / "DM.xpt").unlink()
    with pytest.raises(SirtDataError, match="TU: file not found"):
        find_sdtm_files(tmp_path, files={"TU": "tu_onco.csv"})
    with pytest.raises(ValueError, match="'files' argument of import_sdtm must have keys"):
        find_sdtm_files(tmp_path, files={"LB": "lb.csv"})
    (tmp_path / "tu.csv").write_text("USUBJID,TULNKID,TUSTRESC,VISITNUM\nS1,T01,TARGET,1\n")
    with pytest.raises(SirtDataError, match="TU and TR go together"):
        _quiet(import_sdtm, tmp_path, primary_tumour="HCC")


def test_orphan_subjects_are_errors(domains):
    ex = pd.concat([domains["EX"], _frame(EX_COLS, [
        ["S9", "1", "SIR-Spheres", "1.2", "GBq", "LEFT LOBE", "2014-01-05", "2014-01-05"]])])
    res = import_sdtm_from({**domains, "EX": ex}, primary_tumour="HCC")
    err = res.problems.query("severity == 'error'")
    assert err[["patient_id", "domain", "problem"]].values.tolist() == [
        ["S9", "EX", "subject not in DM"]]


@pytest.mark.parametrize(("option", "value", "message"), [
    ("device", "Y90", r"The 'device' argument of import_sdtm must be one of \{'Y90_glass'"),
    ("territory", "liver", "The 'territory' argument of import_sdtm must be one of"),
    ("primary_tumour", "hcc", "The 'primary_tumour' argument of import_sdtm must be one of"),
    ("date_imputation", "mid", r"The 'date_imputation' argument of import_sdtm must be one of "
                               r"\{'first', 'last'\}. Got 'mid' instead."),
    ("activity_gbq", 50, "The 'activity_gbq' argument of import_sdtm must be between 0 and 30"),
])
def test_invalid_options(tmp_path, option, value, message):
    (tmp_path / "dm.csv").write_text("USUBJID\nS1\n")
    with pytest.raises(ValueError, match=message):
        import_sdtm(tmp_path, **{option: value})


def test_inputs_not_modified(domains):
    before = {k: v.copy() for k, v in domains.items()}
    _quiet(convert_sdtm_patients, domains, primary_tumour="HCC")
    _quiet(convert_sdtm_treatments, domains["EX"])
    _quiet(convert_sdtm_adverse_events, domains["AE"])
    for k, v in domains.items():
        pd.testing.assert_frame_equal(v, before[k])


# --------------------------------------------------------------------------- command line


def _write_domains(domains, folder):
    folder.mkdir()
    for name, df in domains.items():
        df.to_csv(folder / f"{name.lower()}.csv", index=False)
    return folder


def test_cli_import_sdtm_writes_a_valid_registry(domains, tmp_path, capsys):
    from sirtstats.cli import main
    from sirtstats.registry import load_registry

    src = _write_domains(domains, tmp_path / "sdtm")
    out = tmp_path / "registry"
    assert main(["import-sdtm", str(src), "--out", str(out), "--primary-tumour", "HCC"]) == 0
    text = capsys.readouterr().out
    assert "Imputed values" in text
    assert "patients.primary_tumour" in text
    assert f"Registry written to {out}" in text
    registry = load_registry(out)
    res = import_sdtm_from(domains, primary_tumour="HCC")
    for table, df in res.items():
        pd.testing.assert_frame_equal(registry[table], df, obj=table)


def test_cli_import_sdtm_errors_write_nothing(domains, tmp_path, capsys):
    from sirtstats.cli import main

    src = _write_domains(domains, tmp_path / "sdtm")
    out = tmp_path / "registry"
    # no primary tumour: an error per subject, nothing written
    assert main(["import-sdtm", str(src), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert "3 x primary tumour unknown in SDTM" in text
    assert "Nothing written" in text
    assert not out.exists()
    # an import that passes but makes an invalid registry (death before the first SIRT)
    bad = {**domains, "DM": domains["DM"].assign(DTHDTC=[None, "2013-05-01", None])}
    src2 = _write_domains(bad, tmp_path / "sdtm2")
    assert main(["import-sdtm", str(src2), "--out", str(out), "--primary-tumour", "HCC"]) == 1
    text = capsys.readouterr().out
    assert "death before the first SIRT" in text
    assert "the imported registry is invalid" in text
    assert not out.exists()


@pytest.mark.parametrize("extra", [["--domain", "TU"], ["--device", "Y90"],
                                   ["--date-imputation", "middle"]])
def test_cli_import_sdtm_bad_arguments_exit_2(domains, tmp_path, extra):
    from sirtstats.cli import main

    src = _write_domains(domains, tmp_path / "sdtm")
    out = tmp_path / "registry"
    assert main(["import-sdtm", str(src), "--out", str(out), "--primary-tumour", "HCC",
                 *extra]) == 2
    assert main(["import-sdtm", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert not out.exists()
