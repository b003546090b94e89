"""Staged treatment: each territory from its own baseline; in-field vs out-of-field (R4.3).

The hand-computed case: right lobe session on day 0 (2024-01-10), left lobe on day 42
(2024-02-21); scans on days -7, 35, 90 and 180 (2024-01-03, 02-14, 04-09, 07-08).

======  =======  ====  ====  ====  ====
lesion  segment   -7    35    90   180
======  =======  ====  ====  ====  ====
R1      7         40    30    24    20
R2      5         20    18    16    14
L1      3         30    36    30    24
LU      lung      20    20    20    20
======  =======  ====  ====  ====  ====

Right territory (baseline day -7, sum 60): 48 (-20 %, SD), 40 (-33.3 %, PR), 34 (-43.3 %, PR).
Left territory (baseline day 35, the last scan before its session, sum 36): 30 (-16.7 %, SD),
24 (-33.3 %, PR). From the patient's baseline instead, L1 would be 30 -> 24 = -20 % (SD).
Treated scope (R1+R2+L1 from day -7, sum 90): 84 (-6.7 %), 70 (-22.2 %), 58 (-35.6 %, PR).
"""

from __future__ import annotations

import pandas as pd
import pytest

from sirtstats.response.territory import (
    TERRITORY_TIMEPOINT_COLUMNS,
    derive_new_lesion_field,
    derive_out_of_field_progression,
    derive_scope_timepoints,
    derive_territory_lesions,
    derive_territory_response,
)

DATES = pd.to_datetime(["2024-01-03", "2024-02-14", "2024-04-09", "2024-07-08"])
TX = pd.DataFrame({"patient_id": "P1", "session_id": ["S1", "S2"], "injection_id": ["I1", "I2"],
                   "treatment_date": pd.to_datetime(["2024-01-10", "2024-02-21"]),
                   "territory": ["right_lobe", "left_lobe"], "couinaud_segments": None})
DIAMETERS = {"R1": [40, 30, 24, 20], "R2": [20, 18, 16, 14], "L1": [30, 36, 30, 24],
             "LU": [20, 20, 20, 20]}
ORIGIN = pd.DataFrame({"patient_id": ["P1"], "origin_date": pd.to_datetime(["2024-01-10"])})


def _lesions(segments=None, flags=None):
    segments = segments or {"R1": "7", "R2": "5", "L1": "3", "LU": None}
    flags = flags or {"R1": True, "R2": True, "L1": False, "LU": False}
    ids = list(DIAMETERS)
    return pd.DataFrame({
        "lesion_id": ids, "patient_id": "P1", "baseline_date": DATES[0],
        "organ": ["liver", "liver", "liver", "lung"], "is_nodal": False,
        "recist_role": "target", "mrecist_role": "none",
        "in_treated_territory": [flags[i] for i in ids],
        "couinaud_segments": [segments[i] for i in ids]})


def _measurements(drop=()):
    rows = [(lid, d, float(v)) for lid, vals in DIAMETERS.items()
            for d, v in zip(DATES, vals, strict=True) if (lid, d) not in drop]
    m = pd.DataFrame(rows, columns=["lesion_id", "assessment_date", "diameter_mm"])
    return m.assign(criterion="RECIST_1_1", fragment=1, state="measured", nontarget_status=None)


def _assessments(new=None):
    """new: {scan index: segments of a new intrahepatic lesion}."""
    new = new or {}
    return pd.DataFrame({
        "patient_id": "P1", "assessment_date": DATES, "criterion": "RECIST_1_1",
        "new_lesion": ["YES" if i in new else "NO" for i in range(4)],
        "new_lesion_site": ["intrahepatic" if i in new else None for i in range(4)],
        "new_lesion_segments": [new.get(i) for i in range(4)],
        "new_lesion_in_treated_territory": None})


def _by_territory(tp):
    return {(r.territory_id, r.assessment_date.strftime("%m-%d")):
            (round(r.pct_change_from_baseline, 1), r.overall_response)
            for r in tp.itertuples()}


def test_each_lobe_is_measured_from_the_scan_before_its_own_session():
    tp = derive_territory_response(_lesions(), _measurements(), _assessments(), TX)
    assert list(tp.columns) == TERRITORY_TIMEPOINT_COLUMNS
    assert _by_territory(tp) == {
        ("S1", "02-14"): (-20.0, "SD"), ("S1", "04-09"): (-33.3, "PR"),
        ("S1", "07-08"): (-43.3, "PR"),
        ("S2", "04-09"): (-16.7, "SD"), ("S2", "07-08"): (-33.3, "PR")}
    s2 = tp.loc[tp["territory_id"] == "S2"].iloc[0]
    assert s2["territory_baseline_date"] == pd.Timestamp("2024-02-14")
    assert s2["baseline_sum_mm"] == 36.0
    assert s2["session_no"] == 2
    assert s2["territory_segments"] == "2;3;4"
    assert set(tp["scope"]) == {"territory"}


def test_new_lesion_in_an_untreated_segment_is_out_of_field_not_in_field():
    ass = _assessments({3: "1"})  # caudate: treated by neither lobar session
    tp = derive_territory_response(_lesions(), _measurements(), ass, TX)
    assert _by_territory(tp)[("S1", "07-08")] == (-43.3, "PR")
    assert _by_territory(tp)[("S2", "07-08")] == (-33.3, "PR")
    scopes = derive_scope_timepoints(_lesions(), _measurements(), ass, TX,
                                     scopes=["treated", "hepatic", "overall"])
    last = scopes.loc[scopes["assessment_date"] == DATES[3]].set_index("scope")
    assert last.loc["treated", "overall_response"] == "PR"
    assert round(last.loc["treated", "pct_change_from_baseline"], 1) == -35.6
    assert last.loc["hepatic", "overall_response"] == "PD"
    assert last.loc["overall", "overall_response"] == "PD"
    oof = derive_out_of_field_progression(ass, TX, ORIGIN)
    assert oof[["event", "time_days"]].iloc[0].tolist() == [1, 180]


def test_new_lesion_in_the_left_lobe_is_in_field_for_the_left_territory_only():
    tp = derive_territory_response(_lesions(), _measurements(), _assessments({2: "3"}), TX)
    assert _by_territory(tp)[("S2", "04-09")] == (-16.7, "PD")
    assert _by_territory(tp)[("S1", "04-09")] == (-33.3, "PR")
    oof = derive_out_of_field_progression(_assessments({2: "3"}), TX, ORIGIN)
    assert oof[["event", "time_days", "reason"]].iloc[0].tolist() == [
        0, 180, "censored at the last imaging"]


def test_field_of_a_new_lesion_follows_the_sessions_given_by_then():
    out = derive_new_lesion_field(_assessments({1: "3", 2: "3;1", 3: "6"}), TX)
    assert out["new_lesion_field"].tolist() == [None, "out_of_field", "both", "in_field"]
    assert out["treated_segments_at_visit"].tolist() == [
        "", "5;6;7;8", "2;3;4;5;6;7;8", "2;3;4;5;6;7;8"]
    assert out["new_lesion_in_treated_territory"].tolist() == [pd.NA, False, True, True]
    assert out["field_source"].tolist() == [None, "segments", "segments", "segments"]


def test_new_lesion_without_segments_uses_the_recorded_flag():
    ass = _assessments({2: None}).assign(new_lesion_in_treated_territory=[
        None, None, False, None])
    out = derive_new_lesion_field(ass, TX)
    assert out["new_lesion_field"].iloc[2] == "out_of_field"
    assert out["field_source"].iloc[2] == "flag"


def test_segments_replace_the_fixed_flag():
    les = derive_territory_lesions(_lesions(), TX, df_measurements=_measurements())
    assert les["in_treated_territory"].tolist() == [True, True, True, False]
    assert les["in_treated_territory_recorded"].tolist() == [True, True, False, False]
    assert les["treating_session_id"].tolist() == ["S1", "S1", "S2", None]
    assert les["territory_baseline_date"].tolist() == [DATES[0], DATES[0], DATES[1], DATES[0]]


def test_without_segments_the_flag_and_the_first_session_decide():
    les = _lesions(segments={"R1": None, "R2": None, "L1": None, "LU": None},
                   flags={"R1": True, "R2": True, "L1": True, "LU": False})
    tp = derive_territory_response(les, _measurements(), _assessments(), TX)
    assert set(tp["territory_id"]) == {"S1"}
    assert tp["territory_segments"].isna().all()
    # R1 + R2 + L1 from day -7: 90 -> 84, 70, 58
    assert tp["target_sum_mm"].tolist() == [84.0, 70.0, 58.0]


def test_missing_measurement_on_the_territory_baseline_is_not_evaluable():
    tp = derive_territory_response(_lesions(), _measurements(drop={("L1", DATES[1])}),
                                   _assessments(), TX)
    left = tp.loc[tp["territory_id"] == "S2"]
    assert left["overall_response"].tolist() == ["NE", "NE"]


def test_inputs_are_not_modified():
    les, meas, ass, tx = _lesions(), _measurements(), _assessments({3: "1"}), TX.copy()
    copies = [x.copy() for x in (les, meas, ass, tx)]
    derive_scope_timepoints(les, meas, ass, tx)
    derive_out_of_field_progression(ass, tx, ORIGIN)
    for before, after in zip(copies, (les, meas, ass, tx), strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_unknown_scope_raises():
    with pytest.raises(ValueError, match="'scopes' argument of derive_scope_timepoints"):
        derive_scope_timepoints(_lesions(), _measurements(), _assessments(), TX,
                                scopes=["local"])


def test_response_analysis_treated_scope_uses_the_derived_territory():
    from sirtstats.response import derive_response_analysis

    tables = {"lesions": _lesions(), "lesion_measurements": _measurements(),
              "imaging_assessments": _assessments({3: "1"}).assign(reported_overall_response=None),
              "treatments": TX}
    res = derive_response_analysis(tables, ORIGIN, criteria=["RECIST_1_1"], scope="treated",
                                   confirm=False)
    tp = res.timepoints.loc[~res.timepoints["is_baseline"]]
    # L1 is recorded outside the treated territory but lies in segment 3 (left-lobe session)
    assert tp["baseline_sum_mm"].tolist() == [90.0, 90.0, 90.0]
    assert tp["overall_response"].tolist() == ["SD", "SD", "PR"]  # caudate new lesion: out of field
