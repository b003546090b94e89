"""Treatment territories from sessions: segments, treating session, validation rules (R4.3)."""

from __future__ import annotations

import pandas as pd
import pytest

from sirtstats.crosschecks import CROSS_RULES
from sirtstats.schema import TABLE_ORDER, apply_dtypes, empty_table
from sirtstats.territory import (
    TERRITORY_SEGMENTS,
    compute_segments,
    derive_lesion_territory,
    derive_session_territories,
    format_segments,
)

RULES = {r.id: r for r in CROSS_RULES}


def _tx(rows):
    """treatments rows: (patient, session, date, territory, segments)."""
    return pd.DataFrame(rows, columns=["patient_id", "session_id", "treatment_date", "territory",
                                       "couinaud_segments"]).assign(
        treatment_date=lambda d: pd.to_datetime(d["treatment_date"]))


def _les(rows):
    """lesions rows: (lesion, patient, organ, flag, segments)."""
    return pd.DataFrame(rows, columns=["lesion_id", "patient_id", "organ", "in_treated_territory",
                                       "couinaud_segments"])


def _typed(**frames):
    out = {t: empty_table(t) for t in TABLE_ORDER}
    for name, df in frames.items():
        out[name] = apply_dtypes(df, name)
    return out


STAGED_TX = _tx([("P1", "S1", "2024-01-10", "right_lobe", None),
                 ("P1", "S2", "2024-02-21", "left_lobe", None)])


# --------------------------------------------------------------------------- segments


def test_compute_segments_parses_lists_and_keeps_missing():
    out = compute_segments(pd.Series(["5;6;7", "", None, "4"], index=[3, 1, 2, 0]))
    assert list(out.index) == [3, 1, 2, 0]
    assert out.tolist() == [frozenset({5, 6, 7}), None, None, frozenset({4})]


@pytest.mark.parametrize("bad", ["9", "5,6", "IV", "0;1"])
def test_compute_segments_rejects_codes_outside_1_to_8(bad):
    with pytest.raises(ValueError, match="digits 1-8 separated by ';'"):
        compute_segments(pd.Series([bad]))


def test_format_segments_sorts():
    assert format_segments(frozenset({8, 5, 1})) == "1;5;8"
    assert format_segments(None) is None


def test_lobes_follow_brisbane_2000_and_caudate_is_in_neither():
    assert TERRITORY_SEGMENTS["right_lobe"] == frozenset({5, 6, 7, 8})
    assert TERRITORY_SEGMENTS["left_lobe"] == frozenset({2, 3, 4})
    assert 1 not in TERRITORY_SEGMENTS["right_lobe"] | TERRITORY_SEGMENTS["left_lobe"]
    assert TERRITORY_SEGMENTS["whole_liver"] == frozenset(range(1, 9))
    assert TERRITORY_SEGMENTS["segmental"] is None


# --------------------------------------------------------------------------- sessions


def test_session_segments_union_of_injections_and_session_order():
    tx = _tx([("P1", "S2", "2024-02-21", "left_lobe", "2;3"),
              ("P1", "S1", "2024-01-10", "segmental", "5;6"),
              ("P1", "S1", "2024-01-10", "segmental", "7"),
              ("P2", "S9", "2024-03-01", "sector", None)])
    out = derive_session_territories(tx)
    assert out["session_id"].tolist() == ["S1", "S2", "S9"]
    assert out["session_no"].tolist() == [1, 2, 1]
    assert out["segments"].tolist() == [frozenset({5, 6, 7}), frozenset({2, 3}), None]
    assert out["segments_source"].tolist() == ["recorded", "recorded", "unknown"]


# --------------------------------------------------------------------------- lesions


def test_staged_lobes_each_lesion_treated_by_its_own_session():
    les = _les([("L1", "P1", "liver", True, "7"), ("L2", "P1", "liver", True, "3"),
                ("L3", "P1", "liver", False, "1"), ("L4", "P1", "lung", False, None)])
    out = derive_lesion_territory(les, STAGED_TX)
    assert out["treating_session_id"].tolist() == ["S1", "S2", None, None]
    assert out["treating_session_no"].tolist() == [1, 2, pd.NA, pd.NA]
    assert out["treating_session_date"].tolist()[:2] == [pd.Timestamp("2024-01-10"),
                                                         pd.Timestamp("2024-02-21")]
    # caudate (segment 1) is not treated by lobar sessions without listed segments
    assert out["is_treated"].tolist() == [True, True, False, False]
    assert out["territory_source"].tolist() == ["segments"] * 3 + ["extrahepatic"]


def test_segments_replace_the_flag_and_the_flag_is_the_fallback():
    tx = pd.concat([STAGED_TX, _tx([("P2", "S3", "2024-01-05", "sector", None)])])
    les = _les([("L1", "P1", "liver", False, "6"),       # segments: treated despite the flag
                ("L2", "P1", "liver", True, None),       # no segments: flag, first session
                ("L3", "P2", "liver", True, "6")])       # session extent unknown: flag
    out = derive_lesion_territory(les, tx)
    assert out["is_treated"].tolist() == [True, True, True]
    assert out["territory_source"].tolist() == ["segments", "flag", "flag"]
    assert out["treating_session_id"].tolist() == ["S1", "S1", "S3"]
    assert out["in_treated_territory_recorded"].tolist() == [False, True, True]


def test_lesion_across_lobes_any_versus_all_coverage():
    les = _les([("L1", "P1", "liver", True, "4;5")])
    assert derive_lesion_territory(les, STAGED_TX)["treating_session_id"].iloc[0] == "S1"
    assert derive_lesion_territory(les, STAGED_TX, coverage="ALL")[
        "treating_session_id"].iloc[0] == "S2"
    with pytest.raises(ValueError, match="'coverage' argument of derive_lesion_territory"):
        derive_lesion_territory(les, STAGED_TX, coverage="some")


def test_derive_lesion_territory_keeps_index_and_does_not_modify_inputs():
    les = _les([("L1", "P1", "liver", True, "7")]).set_axis([42])
    before_l, before_t = les.copy(), STAGED_TX.copy()
    out = derive_lesion_territory(les, STAGED_TX)
    assert list(out.index) == [42]
    pd.testing.assert_frame_equal(les, before_l)
    pd.testing.assert_frame_equal(STAGED_TX, before_t)


# --------------------------------------------------------------------------- validation rules


def _lesions_table(rows):
    base = {"baseline_date": pd.Timestamp("2024-01-03"), "is_nodal": False,
            "recist_role": "target", "mrecist_role": "none"}
    return _les(rows).assign(**base)


def _tx_table(rows):
    return _tx(rows).assign(injection_id=lambda d: "I" + d.index.astype(str),
                            device="Y90_resin", delivered_activity_gbq=1.5)


def test_rule_segments_outside_lobe():
    t = _typed(treatments=_tx_table([
        ("P1", "S1", "2024-01-10", "right_lobe", "1;5;6"),   # caudate allowed
        ("P1", "S2", "2024-02-21", "left_lobe", "3;5"),      # 5 is right lobe
        ("P2", "S3", "2024-01-10", "radiation_lobectomy", "4;5"),  # both lobes
        ("P3", "S4", "2024-01-10", "radiation_lobectomy", "2;3;4"),
        ("P4", "S5", "2024-01-10", "segmental", "4;5")]))   # segments may cross lobes
    assert RULES["session_segments_outside_lobe"].check(t).tolist() == [
        False, True, True, False, False]
    assert RULES["session_segments_outside_lobe"].severity == "error"


def test_rule_segments_on_extrahepatic_lesion():
    t = _typed(lesions=_lesions_table([("L1", "P1", "liver", True, "7"),
                                       ("L2", "P1", "lung", False, "7")]))
    assert RULES["lesion_segments_not_liver"].check(t).tolist() == [False, True]


def test_rule_session_segments_missing_only_when_lesions_have_segments():
    t = _typed(treatments=_tx_table([("P1", "S1", "2024-01-10", "sector", None),
                                     ("P2", "S2", "2024-01-10", "sector", None),
                                     ("P1", "S3", "2024-03-10", "right_lobe", None)]),
               lesions=_lesions_table([("L1", "P1", "liver", True, "7"),
                                       ("L2", "P2", "liver", True, None)]))
    assert RULES["session_segments_missing"].check(t).tolist() == [True, False, False]
    assert RULES["session_segments_missing"].severity == "warning"


def test_rule_liver_lesion_without_segment():
    t = _typed(lesions=_lesions_table([("L1", "P1", "liver", True, "7"),
                                       ("L2", "P1", "liver", True, None),
                                       ("L3", "P1", "lung", False, None),
                                       ("L4", "P2", "liver", True, None)]))
    assert RULES["liver_lesion_without_segment"].check(t).tolist() == [
        False, True, False, False]


def test_rule_territory_flag_disagrees():
    t = _typed(treatments=_tx_table([("P1", "S1", "2024-01-10", "right_lobe", None)]),
               lesions=_lesions_table([("L1", "P1", "liver", True, "7"),
                                       ("L2", "P1", "liver", True, "3"),    # left: untreated
                                       ("L3", "P1", "liver", False, "2"),
                                       ("L4", "P1", "liver", False, None)]))
    assert RULES["territory_flag_disagrees"].check(t).tolist() == [False, True, False, False]


def test_rule_new_lesion_segments_extrahepatic():
    ia = pd.DataFrame({"patient_id": "P1", "assessment_date": pd.to_datetime(
        ["2024-03-01", "2024-05-01"]), "criterion": "RECIST_1_1", "modality": "CT",
        "new_lesion": "YES", "new_lesion_site": ["intrahepatic", "extrahepatic"],
        "new_lesion_segments": ["3", "3"]})
    t = _typed(imaging_assessments=ia)
    assert RULES["new_lesion_segments_extrahepatic"].check(t).tolist() == [False, True]


# --------------------------------------------------------------------------- demo registry


@pytest.fixture(scope="module")
def demo():
    from sirtstats.demo import make_demo_registry

    return make_demo_registry(300, seed=1)


def test_demo_segments_agree_with_the_recorded_flag(demo):
    les, tx = demo["lesions"], demo["treatments"]
    liver = les["organ"] == "liver"
    assert les.loc[liver, "couinaud_segments"].notna().all()
    assert les.loc[~liver, "couinaud_segments"].isna().all()
    out = derive_lesion_territory(les, tx)
    seg = out["territory_source"] == "segments"
    assert seg.sum() == liver.sum()
    assert (out.loc[seg, "is_treated"].astype(bool)
            == les.loc[seg, "in_treated_territory"].astype(bool)).all()
    problems = {rid: int(RULES[rid].check(demo).sum()) for rid in (
        "lesion_segments_not_liver", "liver_lesion_without_segment", "territory_flag_disagrees",
        "session_segments_outside_lobe", "session_segments_missing",
        "new_lesion_segments_extrahepatic")}
    assert problems == dict.fromkeys(problems, 0)


def test_demo_has_staged_patients_whose_left_lobe_is_treated_by_the_second_session(demo):
    tx, les = demo["treatments"], demo["lesions"]
    s = tx.drop_duplicates("session_id").sort_values(["patient_id", "treatment_date"])
    first_two = s.groupby("patient_id").head(2).groupby("patient_id")
    plans = first_two["territory"].agg(tuple)
    gaps = first_two["treatment_date"].agg(lambda d: (d.max() - d.min()).days)
    staged = plans.index[plans == ("right_lobe", "left_lobe")]
    assert len(staged) >= 10
    assert gaps[staged].between(28, 56).all()
    out = derive_lesion_territory(les.loc[les["patient_id"].isin(staged)], tx)
    left = out["lesion_segments"].isin(["2", "3", "4"]) & out["is_treated"].astype(bool)
    assert left.any()
    assert (out.loc[left, "treating_session_no"] == 2).all()


def test_demo_new_lesion_segments_follow_the_in_field_flag(demo):
    from sirtstats.response.territory import derive_new_lesion_field

    ia = demo["imaging_assessments"]
    out = derive_new_lesion_field(ia, demo["treatments"])
    seg = out["field_source"] == "segments"
    assert seg.sum() >= 20
    rec = ia.loc[seg, "new_lesion_in_treated_territory"].astype(bool)
    assert (out.loc[seg, "is_in_field"].astype(bool) == rec).all()
