"""SDTM TR FDG-PET records -> pet_assessments / pet_lesions (sirtstats.interop.sdtm_pet) and
through import_sdtm, on hand-made records; expected values written out from the records."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.interop.sdtm_pet import convert_sdtm_pet
from sirtstats.interop.sdtm_subjects import import_sdtm
from sirtstats.metabolic import derive_percist_response

TR_COLS = ["USUBJID", "TRLNKID", "TRTESTCD", "TRSTRESC", "TRSTRESN", "TRSTRESU", "TRLOC",
           "TRMETHOD", "VISITNUM", "TRDTC", "TREVAL"]
TU_COLS = ["USUBJID", "TULNKID", "TUSTRESC", "TULOC", "VISITNUM", "TUEVAL"]


def _tr_rows(sid, visit, date, lesions, refs, method="FDG PET/CT"):
    rows = []
    for lid, values in lesions.items():
        for test, v in values.items():
            unit = {"SULPEAK": "g/mL", "SUVMAX": "g/mL", "MTV": "mL", "TLG": "g"}[test]
            rows.append([sid, lid, test, str(v), str(v), unit, "LIVER", method, visit, date,
                         "INVESTIGATOR"])
    for (loc, test), v in refs.items():
        rows.append([sid, None, test, str(v), str(v), "g/mL", loc, method, visit, date,
                     "INVESTIGATOR"])
    return rows


@pytest.fixture
def domains():
    refs0 = {("LIVER", "SULMEAN"): 2.0, ("LIVER", "SULSD"): 0.3,
             ("BLOOD POOL", "SULMEAN"): 1.5, ("BLOOD POOL", "SULSD"): 0.2}
    rows = (_tr_rows("S1", "1", "2024-01-10", {"T01": {"SULPEAK": 8.0, "SUVMAX": 12.1,
                                                         "MTV": 30.5, "TLG": 150.0}}, refs0)
            + _tr_rows("S1", "2", "2024-04-10", {"T01": {"SULPEAK": 5.6, "SUVMAX": 8.4}},
                       {("AORTA", "SULMEAN"): 1.5, ("AORTA", "SULSD"): 0.2,
                        ("LIVER", "SULMEAN"): 2.1, ("LIVER", "SULSD"): 0.3})
            + _tr_rows("S2", "1", "2024-02", {"T01": {"SULPEAK": 6.0}}, refs0)
            + _tr_rows("S2", "2", "2024-05-20", {"T01": {"SULPEAK": 6.2}}, refs0)
            + _tr_rows("S3", "1", "2024-01-12", {"T01": {"SULPEAK": 9.0}}, refs0,
                       method="68GA-PSMA PET"))
    # CT diameters (not PET) and a new lesion's state at S2 visit 2
    rows += [["S1", "T01", "LDIAM", "40", "40", "mm", "LIVER", "CT", "1", "2024-01-08",
              "INVESTIGATOR"],
             ["S2", "N01", "TUMSTATE", "EQUIVOCAL", None, None, "LUNG", "FDG PET/CT", "2",
              "2024-05-20", "INVESTIGATOR"]]
    tr = pd.DataFrame(rows, columns=TR_COLS, dtype=object)
    tu = pd.DataFrame([["S1", "T01", "TARGET", "LIVER", "1", "INVESTIGATOR"],
                       ["S2", "T01", "TARGET", "LIVER", "1", "INVESTIGATOR"],
                       ["S2", "N01", "NEW", "LUNG", "2", "INVESTIGATOR"]],
                      columns=TU_COLS, dtype=object)
    return {"TR": tr, "TU": tu}


def test_lesion_uptake_and_reference_regions(domains):
    conv = convert_sdtm_pet(domains["TR"], domains["TU"])
    les = conv["pet_lesions"]
    assert les["lesion_id"].tolist() == ["S1/T01", "S1/T01", "S2/T01", "S2/T01"]
    assert les["sul_peak"].tolist() == [8.0, 5.6, 6.0, 6.2]
    assert les["suv_max"].tolist()[:2] == [12.1, 8.4]
    assert les["mtv_ml"].iloc[0] == 30.5
    assert les["tlg_g"].iloc[0] == 150.0
    assert np.isnan(les["mtv_ml"].iloc[1])
    pet = conv["pet_assessments"].set_index(["patient_id", "scan_date"])
    s1 = pet.loc[("S1", pd.Timestamp("2024-04-10"))]
    assert (s1["liver_sul_mean"], s1["blood_pool_sul_mean"], s1["blood_pool_sul_sd"]) == (
        2.1, 1.5, 0.2)  # AORTA is the blood pool
    assert (conv["pet_assessments"]["tracer"] == "FDG").all()


def test_partial_date_new_lesion_and_other_tracer(domains):
    conv = convert_sdtm_pet(domains["TR"], domains["TU"])
    pet = conv["pet_assessments"]
    # "2024-02" -> 2024-02-01 (first); S3's PSMA scan left out and listed
    assert pet.loc[pet["patient_id"] == "S2", "scan_date"].tolist() == [
        pd.Timestamp("2024-02-01"), pd.Timestamp("2024-05-20")]
    assert "S3" not in set(pet["patient_id"])
    assert conv.problems["problem"].str.contains("not an FDG-PET").tolist() == [True]
    assert pet.loc[pet["patient_id"] == "S2", "new_fdg_avid_lesion"].tolist() == [
        "NO", "EQUIVOCAL"]
    last = convert_sdtm_pet(domains["TR"], domains["TU"], date_imputation="last")
    assert pd.Timestamp("2024-02-29") in set(last["pet_assessments"]["scan_date"])


def test_converted_tables_feed_percist(domains):
    conv = convert_sdtm_pet(domains["TR"], domains["TU"])
    les = conv["pet_lesions"].assign(organ="liver")
    out = derive_percist_response(conv["pet_assessments"], les)
    # S1: 8.0 -> 5.6 is -30 % and -2.4 SUL exactly -> PMR; S2: 6.0 -> 6.2 -> SMD (EQUIVOCAL)
    assert out["response"].tolist() == ["PMR", "SMD"]


def test_import_sdtm_reads_pet_from_tr(domains, tmp_path):
    dm = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "SEX": ["F", "M", "M"],
                       "RFSTDTC": ["2024-01-15", "2024-02-10", "2024-01-20"]})
    dm.to_csv(tmp_path / "dm.csv", index=False)
    domains["TR"].to_csv(tmp_path / "tr.csv", index=False)
    domains["TU"].to_csv(tmp_path / "tu.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        res = import_sdtm(tmp_path, primary_tumour="mCRC")
    assert list(res)[-2:] == ["pet_assessments", "pet_lesions"]
    assert len(res["pet_lesions"]) == 4
    assert set(res["pet_lesions"]["lesion_id"]) <= set(res["lesions"]["lesion_id"])
    p = res.problems
    assert ((p["domain"] == "TR") & p["problem"].str.contains("FDG-PET")).sum() == 1


def test_import_sdtm_without_pet_records_has_no_pet_tables(domains, tmp_path):
    pd.DataFrame({"USUBJID": ["S1"], "SEX": ["F"], "RFSTDTC": ["2024-01-15"]}).to_csv(
        tmp_path / "dm.csv", index=False)
    tr = domains["TR"]
    tr.loc[tr["TRTESTCD"] == "LDIAM"].to_csv(tmp_path / "tr.csv", index=False)
    domains["TU"].iloc[:1].to_csv(tmp_path / "tu.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        res = import_sdtm(tmp_path, primary_tumour="mCRC")
    assert "pet_assessments" not in res.tables
