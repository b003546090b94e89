"""SDTM TU/TR/RS -> registry tumour tables (sirtstats.interop.sdtm) on hand-made records."""

from __future__ import annotations

import pandas as pd
import pytest

from sirtstats.exceptions import SirtDataError
from sirtstats.interop.sdtm import compute_imputed_date, convert_sdtm_tumour
from sirtstats.response import derive_timepoint_response
from sirtstats.schema import load_schema


def _tu(rows):
    return pd.DataFrame(rows, columns=["USUBJID", "TULNKID", "TUSTRESC", "TULOC", "VISITNUM",
                                       "TUEVAL", "TUEVALID", "TUMETHOD"])


def _tr(rows):
    return pd.DataFrame(rows, columns=["USUBJID", "TRLNKID", "TRGRPID", "TRTESTCD", "TRSTRESC",
                                       "TRSTRESN", "TRSTAT", "VISITNUM", "TRDTC", "TREVAL",
                                       "TREVALID"])


INV = "INVESTIGATOR"


@pytest.fixture
def sdtm():
    tu = _tu([
        ["S1", "T01", "TARGET", "LIVER", "1", INV, None, "MRI"],
        ["S1", "T02", "TARGET", "LYMPH NODE", "1", INV, None, "MRI"],
        ["S1", "NT01", "NON-TARGET", "BONE", "1", INV, None, "MRI"],
        ["S1", "NEW01", "NEW", None, "3", INV, None, "MRI"],
    ])
    tr = _tr([
        ["S1", "T01", "TARGET", "LDIAM", "40", "40", None, "1", "2024-01-03", INV, None],
        ["S1", "T01", "TARGET", "LPERP", "25", "25", None, "1", "2024-01-03", INV, None],
        ["S1", "T02", "TARGET", "LDIAM", "30", "30", None, "1", "2024-01-03", INV, None],
        ["S1", "T02", "TARGET", "LPERP", "20", "20", None, "1", "2024-01-03", INV, None],
        ["S1", "NT01", "NON-TARGET", "TUMSTATE", "PRESENT", None, None, "1", "2024-01-03",
         INV, None],
        ["S1", "T01", "TARGET", "LDIAM", "0", "0", None, "2", "2024-03", INV, None],
        ["S1", "T02", "TARGET", "LPERP", "8", "8", None, "2", "2024-03", INV, None],
        ["S1", "NT01", "NON-TARGET", "TUMSTATE", "ABSENT", None, None, "2", "2024-03", INV,
         None],
        ["S1", "NT01", "NON-TARGET", "TUMSTATE", "ABSENT", None, None, "2", "2024-03", INV,
         None],  # exact duplicate (pharmaverse quirk)
        ["S1", "T01", "TARGET", "LDIAM", None, None, "NOT DONE", "3", "2024-05-02", INV, None],
        ["S1", "T02", "TARGET", "LPERP", "9", "9", None, "3", "2024-05-02", INV, None],
        ["S1", "NT01", "NON-TARGET", "TUMSTATE", "UNEQUIVOCAL", None, None, "3", "2024-05-03",
         INV, None],
        ["S1", "NEW01", "NEW", "TUMSTATE", "EQUIVOCAL", None, None, "3", "2024-05-02", INV,
         None],
    ])
    rs = pd.DataFrame({"USUBJID": "S1", "RSTESTCD": "OVRLRESP", "RSSTRESC": ["CR", "PD"],
                       "VISITNUM": ["2", "3"], "RSDTC": ["2024-03", "2024-05-02"],
                       "RSEVAL": INV, "RSEVALID": None})
    return tu, tr, rs


def test_compute_imputed_date_first_and_last():
    s = pd.Series(["2014-02", "2014", "2014-02-12T11:45", None, "2016-02"])
    d, f = compute_imputed_date(s)
    assert d.dt.strftime("%Y-%m-%d").fillna("").tolist() == [
        "2014-02-01", "2014-01-01", "2014-02-12", "", "2016-02-01"]
    d, f = compute_imputed_date(s, imputation="last")
    assert d.dt.strftime("%Y-%m-%d").fillna("").tolist() == [
        "2014-02-28", "2014-12-31", "2014-02-12", "", "2016-02-29"]
    assert f.tolist() == ["D", "M", None, None, "D"]
    with pytest.raises(ValueError, match="'imputation' argument"):
        compute_imputed_date(s, imputation="mid")


def test_conversion_maps_lesions_values_states_and_visits(sdtm):
    tu, tr, rs = sdtm
    before = [x.copy() for x in sdtm]
    conv = convert_sdtm_tumour(tu, tr, rs)
    for b, a in zip(before, sdtm, strict=True):
        pd.testing.assert_frame_equal(b, a)
    les = conv["lesions"].set_index("lesion_id")
    assert list(conv["lesions"].columns) == load_schema("lesions").field_names
    assert les.loc["S1/T02", "organ"] == "lymph_node"
    assert bool(les.loc["S1/T02", "is_nodal"])
    assert les["recist_role"].tolist() == ["target", "target", "non_target"]
    m = conv["lesion_measurements"]
    base = m.loc[m["assessment_date"] == pd.Timestamp("2024-01-03")].set_index("lesion_id")
    assert base.loc["S1/T01", "diameter_mm"] == 40  # LDIAM for a non-nodal lesion
    assert base.loc["S1/T02", "diameter_mm"] == 20  # LPERP (short axis) for a node
    v2 = m.loc[m["assessment_date"] == pd.Timestamp("2024-03-01")].set_index("lesion_id")
    assert v2.loc["S1/T01", "state"] == "disappeared"
    assert v2.loc["S1/NT01", "nontarget_status"] == "CR"
    assert len(v2) == 3  # duplicate TUMSTATE dropped
    v3 = m.loc[m["assessment_date"] == pd.Timestamp("2024-05-02")].set_index("lesion_id")
    assert v3.loc["S1/T01", "state"] == "not_assessed"
    assert v3.loc["S1/NT01", "nontarget_status"] == "PD"
    a = conv["imaging_assessments"]
    assert a["new_lesion"].tolist() == ["NO", "NO", "EQUIVOCAL"]
    assert a["modality"].unique().tolist() == ["MRI"]
    assert a["reported_overall_response"].tolist()[1:] == ["CR", "PD"]
    assert conv.imputed_dates["domain"].tolist() == ["TR"] * 4 + ["RS"]  # one per record
    assert set(conv.imputed_dates["original"]) == {"2024-03"}
    assert "earliest date used" in conv.problems["problem"].iloc[0]


def test_converted_tables_run_through_the_engine(sdtm):
    conv = convert_sdtm_tumour(*sdtm)
    tp = derive_timepoint_response(conv["lesions"], conv["lesion_measurements"],
                                   conv["imaging_assessments"])
    assert tp["overall_response"].tolist() == ["CR", "PD"]
    assert tp["target_sum_mm"].tolist()[0] == 8


def test_reader_selection_and_errors(sdtm):
    tu, tr, rs = sdtm
    tr2 = pd.concat([tr, tr.assign(TREVAL="INDEPENDENT ASSESSOR", TREVALID="RADIOLOGIST 1"),
                     tr.assign(TREVAL="INDEPENDENT ASSESSOR", TREVALID="RADIOLOGIST 2")])
    with pytest.raises(ValueError, match="several readers"):
        convert_sdtm_tumour(tu, tr2, evaluator="INDEPENDENT ASSESSOR")
    tu2 = pd.concat([tu, tu.assign(TUEVAL="INDEPENDENT ASSESSOR", TUEVALID="RADIOLOGIST 1")])
    conv = convert_sdtm_tumour(tu2, tr2, evaluator="independent assessor",
                               evaluator_id="Radiologist 1")
    assert len(conv["lesions"]) == 3
    with pytest.raises(SirtDataError, match=r"TR: missing required column\(s\) \['TRDTC'\]"):
        convert_sdtm_tumour(tu, tr.drop(columns="TRDTC"))
    with pytest.raises(ValueError, match="'criterion' argument of convert_sdtm_tumour"):
        convert_sdtm_tumour(tu, tr, criterion="WHO")
