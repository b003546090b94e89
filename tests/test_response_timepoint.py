"""Timepoint response: worked examples WE1-WE10 and WE15-WE20 of response-criteria.md §8,
plus hand-made edge cases. Expected values are the document's (computed by hand there)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _response_helpers import case, combine, lesion  # noqa: E402

from sirtstats.exceptions import SirtDataError
from sirtstats.response import (
    TIMEPOINT_COLUMNS,
    compute_bidimensional_response,
    compute_overall_response,
    compute_target_response,
    derive_lesion_response,
    derive_target_eligibility,
    derive_target_selection,
    derive_timepoint_response,
)


def tp_of(c, **kw):
    return derive_timepoint_response(*c, **kw)


# ---------------------------------------------------------------------------------- WE1-WE4


def test_we1_nadir_after_baseline_and_exact_minus_30_percent():
    c = case([lesion("L1", [60, 48, 36, 42, 44]), lesion("L2", [40, 32, 24, 28, 29])],
             [30, 60, 90, 120])
    tp = tp_of(c)
    assert tp["target_sum_mm"].tolist() == [80, 60, 70, 73]
    assert tp["nadir_sum_mm"].tolist() == [100, 80, 60, 60]
    assert tp["target_response"].tolist() == ["SD", "PR", "PR", "PD"]
    assert tp["overall_response"].tolist() == ["SD", "PR", "PR", "PD"]
    assert tp["pct_change_from_baseline"].round(1).tolist() == [-20.0, -40.0, -30.0, -27.0]
    assert tp["change_from_nadir_mm"].tolist() == [-20, -20, 10, 13]
    assert tp["rule"].iloc[3] == "PD: sum 73 mm is +21.7 % and +13 mm over nadir 60 mm (R1.4.1)"
    assert tp["rule"].iloc[2].startswith("PR: sum 70 mm is -30.0 % from baseline 100 mm")


def test_we2_twenty_percent_but_less_than_5mm_is_not_pd():
    tp = tp_of(case([lesion("L1", [20, 15, 19, 20])], [42, 84, 126]))
    assert tp["target_response"].tolist() == ["SD", "SD", "PD"]
    assert tp["change_from_nadir_mm"].tolist() == [-5, 4, 5]


def test_we3_5mm_but_less_than_20_percent_is_not_pd():
    tp = tp_of(case([lesion("L1", [150, 140, 165])], [42, 84]))
    assert tp["target_response"].tolist() == ["SD", "SD"]


def test_we4_floating_point_trap_exact_minus_30_percent_is_pr():
    assert not ((23.1 - 33) / 33 <= -0.3)  # the trap is real in IEEE doubles
    tp = tp_of(case([lesion("L1", [33.0, 23.1])], [56]))
    assert tp["target_response"].tolist() == ["PR"]
    assert compute_target_response(23.1, 33.0, 33.0).tolist() == ["PR"]


# ---------------------------------------------------------------------------------- WE5-WE7


def test_we5_nodal_target_cr_with_nonzero_sum_then_regrowth():
    base = [lesion("L1", [30, 0, 0]), lesion("N1", [18, 8, 12], organ="lymph_node", nodal=True)]
    tp = tp_of(case(base, [56, 112]))
    assert tp["target_sum_mm"].tolist() == [8, 12]
    assert tp["target_response"].tolist() == ["CR", "PR"]
    assert round(tp["pct_change_from_baseline"].iloc[0], 1) == -83.3
    alt = [lesion("L1", [30, 0, 0]), lesion("N1", [18, 8, 15], organ="lymph_node", nodal=True)]
    assert tp_of(case(alt, [56, 112]))["target_response"].tolist() == ["CR", "PD"]


def test_we6_too_small_counts_5mm_and_is_not_cr():
    tp = tp_of(case([lesion("L1", [25, "too_small"]), lesion("L2", [15, "disappeared"])], [56]))
    assert tp["target_sum_mm"].tolist() == [5]
    assert tp["target_response"].tolist() == ["PR"]
    tp = tp_of(case([lesion("L1", [25, 3]), lesion("L2", [15, "disappeared"])], [56]))
    assert (tp["target_sum_mm"].tolist(), tp["target_response"].tolist()) == ([3], ["PR"])
    tp = tp_of(case([lesion("L1", [25, "disappeared"]), lesion("L2", [15, "disappeared"])],
                    [56]))
    assert (tp["target_sum_mm"].tolist(), tp["target_response"].tolist()) == ([0], ["CR"])


def test_we7_missing_target_pd_from_partial_sum_else_ne_and_no_nadir():
    nt = lesion("NT", ["NON_CR_NON_PD"] * 3, role="non_target")
    c = case([lesion("L1", [20, 40, 20]), lesion("L2", [20, 40, 15]), lesion("L3", [10, None, 10]),
              nt], [42, 84])
    tp = tp_of(c)
    assert tp["target_response"].tolist()[0] == "PD"
    assert tp["overall_response"].tolist()[0] == "PD"
    assert tp["rule"].iloc[0].startswith("PD: partial sum 80 mm")
    c = case([lesion("L1", [20, 15, 20]), lesion("L2", [20, 15, 15]), lesion("L3", [10, None, 10]),
              nt], [42, 84])
    tp = tp_of(c)
    assert tp["target_response"].tolist() == ["NE", "SD"]
    assert tp["overall_response"].tolist() == ["NE", "SD"]
    # the partial sum 30 is not a nadir candidate: the nadir stays at baseline 50 (R1.5.3)
    assert tp["nadir_sum_mm"].tolist() == [50, 50]
    assert tp["n_targets_assessed"].tolist() == [2, 3]


# ---------------------------------------------------------------------------------- WE8


def _we8(slice_mm):
    les = pd.DataFrame({
        "lesion_id": ["H1", "H2", "H3", "H4", "LU", "NA", "NB"], "patient_id": "P1",
        "baseline_date": pd.Timestamp("2024-01-03"),
        "organ": ["liver"] * 4 + ["lung", "lymph_node", "lymph_node"],
        "is_nodal": [False] * 5 + [True, True]})
    meas = pd.DataFrame({"lesion_id": les["lesion_id"], "assessment_date":
                         pd.Timestamp("2024-01-03"), "criterion": "RECIST_1_1", "fragment": 1,
                         "state": "measured", "diameter_mm": [60, 45, 30, 22, 15, 18, 12]})
    return derive_target_selection(les, meas, slice_thickness_mm=slice_mm)


def test_we8_baseline_target_selection_and_sum():
    sel = _we8(5.0)
    targets = sel.loc[sel["proposed_role"] == "target"]
    assert sorted(targets["lesion_id"]) == ["H1", "H2", "LU", "NA"]
    assert targets["baseline_diameter_mm"].sum() == 138
    nontargets = sel.loc[sel["proposed_role"] == "non_target", "lesion_id"]
    assert sorted(nontargets) == ["H3", "H4", "NB"]
    sel8 = _we8(8.0)
    targets8 = sel8.loc[sel8["proposed_role"] == "target"]
    assert sorted(targets8["lesion_id"]) == ["H1", "H2", "NA"]
    assert targets8["baseline_diameter_mm"].sum() == 123
    assert sel8.set_index("lesion_id").loc["LU", "proposed_role"] == "non_target"


def test_target_eligibility_findings_keep_the_offending_rows():
    les, meas, _ = case([lesion("H1", [60, 50]), lesion("H2", [45, 40]), lesion("H3", [30, 30]),
                         lesion("N1", [12, 12], organ="lymph_node", nodal=True),
                         lesion("S1", [8, 8], organ="lung"),
                         lesion("NT", [9.0, 9.0], organ="lymph_node", nodal=True)],
                        [56])
    les.loc[les["lesion_id"] == "P1-NT", "recist_role"] = "non_target"
    res = derive_target_eligibility(les, meas)
    f = res.set_index("lesion_id")["finding"]
    assert "3 targets in liver > 2 per organ" in f["P1-H1"]
    assert f["P1-N1"] == "nodal target short axis 12 mm < 15 mm"
    assert f["P1-S1"] == "non-nodal target 8 mm < 10 mm minimum measurable size"
    assert f["P1-NT"] == "node short axis 9 mm < 10 mm is normal, not disease"
    assert len(res) == 6  # every lesion kept, nothing dropped or fixed
    assert res.set_index("lesion_id")["is_eligible_target"].sum() == 0


# ---------------------------------------------------------------------------------- WE9, WE10


@pytest.mark.parametrize(("target", "nontarget", "new", "expected"), [
    ("CR", "CR", "NO", "CR"),
    ("CR", "NON_CR_NON_PD", "NO", "PR"),
    ("CR", "NE", "NO", "PR"),
    ("SD", "NE", "NO", "SD"),
    ("NE", "NON_CR_NON_PD", "NO", "NE"),
    ("PR", "PD", "NO", "PD"),
    ("PR", "NON_CR_NON_PD", "YES", "PD"),
    ("NE", "NE", "YES", "PD"),
    (None, "NON_CR_NON_PD", "NO", "NON_CR_NON_PD"),
    (None, "CR", "NO", "CR"),
    ("PR", "NON_CR_NON_PD", "EQUIVOCAL", "PR"),
])
def test_we9_overall_timepoint_table(target, nontarget, new, expected):
    assert compute_overall_response([target], [nontarget], [new]).tolist() == [expected]


def test_we9_through_the_engine_nontarget_only_and_equivocal():
    nt_only = case([lesion("NT", ["NON_CR_NON_PD", "NON_CR_NON_PD", "CR"], role="non_target")],
                   [56, 112])
    assert tp_of(nt_only)["overall_response"].tolist() == ["NON_CR_NON_PD", "CR"]
    eq = case([lesion("L1", [50, 30]), lesion("NT", ["NON_CR_NON_PD"] * 2, role="non_target")],
              [56], new=["EQUIVOCAL"])
    tp = tp_of(eq)
    assert tp["overall_response"].tolist() == ["PR"]
    assert "equivocal new lesion" in tp["rule"].iloc[0]


def test_we10_new_lesion_at_first_follow_up_is_pd_despite_shrinkage():
    tp = tp_of(case([lesion("L1", [60, 30])], [42], new=["YES"]))
    assert tp["target_response"].tolist() == ["PR"]
    assert tp["overall_response"].tolist() == ["PD"]


# ---------------------------------------------------------------------------------- WE15-WE17


def test_we15_recist_vs_mrecist_same_hcc():
    rec = case([lesion("T", [60, 58, 57, 59])], [90, 180, 270])
    assert tp_of(rec)["target_response"].tolist() == ["SD", "SD", "SD"]
    mre = case([lesion("T", [50, 20, 0, 12], enhancing=[True, True, False, True],
                       arterial=True)], [90, 180, 270], criterion="mRECIST")
    tp = tp_of(mre, criterion="mRECIST")
    assert tp["target_response"].tolist() == ["PR", "CR", "PD"]
    assert tp["rule"].iloc[2].startswith("PD: viable sum 12 mm after nadir 0 mm")


def test_we16_mrecist_5mm_switch():
    c = case([lesion("T", [40, 20, 24], arterial=True)], [90, 180], criterion="mRECIST")
    assert tp_of(c, criterion="mRECIST")["target_response"].tolist() == ["PR", "PD"]
    on = tp_of(c, criterion="mRECIST", mrecist_pd_requires_5mm=True)
    assert on["target_response"].tolist() == ["PR", "PR"]
    assert on.attrs["settings"]["mrecist_pd_requires_5mm"] is True


def test_we17_porta_hepatis_node_recist_target_but_not_mrecist_disease():
    les = pd.DataFrame({"lesion_id": ["N"], "patient_id": "P1",
                        "baseline_date": pd.Timestamp("2024-01-03"), "organ": "lymph_node",
                        "is_nodal": True, "recist_role": "target", "mrecist_role": "target",
                        "is_porta_hepatis": True, "in_treated_territory": False})
    meas = pd.DataFrame({"lesion_id": "N", "assessment_date": pd.Timestamp("2024-01-03"),
                         "criterion": ["RECIST_1_1", "mRECIST"], "fragment": 1,
                         "state": "measured", "diameter_mm": 16.0})
    assert derive_target_eligibility(les, meas)["finding"].isna().all()
    m = derive_target_eligibility(les, meas, criterion="mRECIST")
    assert m["finding"].iloc[0] == "nodal target short axis 16 mm < 20 mm"
    assert m["rule"].iloc[0] == "R1.1"
    sel = derive_target_selection(les, meas, criterion="mRECIST")
    assert sel["proposed_role"].tolist() == ["none"]


def _hcc_case(sizes, typical, backdate=True):
    c = case([lesion("T", [30, 30, 30], arterial=True)], [90, 180], criterion="mRECIST",
             new=["YES", "YES"], new_site=["intrahepatic"] * 2, new_size=sizes,
             new_typical=typical)
    return tp_of(c, criterion="mRECIST", backdate_confirmed_equivocal=backdate)


def test_we17_atypical_nodule_confirmed_by_10mm_growth_is_backdated():
    tp = _hcc_case([12.0, 23.0], [False, False])
    assert tp["overall_response"].tolist() == ["PD", "PD"]
    assert "back-dated" in tp["rule"].iloc[0]
    tp = _hcc_case([12.0, 23.0], [False, False], backdate=False)
    assert tp["overall_response"].tolist() == ["SD", "PD"]
    assert tp["new_lesion"].tolist() == ["EQUIVOCAL", "YES"]
    tp = _hcc_case([12.0, 21.0], [False, False])  # +9 mm only: never HCC
    assert tp["overall_response"].tolist() == ["SD", "SD"]


def test_we17_subcentimetre_typical_nodule_backdated_when_it_reaches_10mm():
    tp = _hcc_case([8.0, 14.0], [True, True])
    assert tp["overall_response"].tolist() == ["PD", "PD"]
    assert tp["new_lesion_reported"].tolist() == ["YES", "YES"]


def test_we17_new_ascites_without_cytology_recorded_equivocal_is_not_pd():
    c = case([lesion("T", [30, 30, 30], arterial=True)], [90, 180], criterion="mRECIST",
             new=["NO", "EQUIVOCAL"], new_site=[None, "extrahepatic"])
    assert tp_of(c, criterion="mRECIST")["overall_response"].tolist() == ["SD", "SD"]


# ---------------------------------------------------------------------------------- WE18-WE20


def test_we18_easl_and_who_products():
    assert compute_bidimensional_response([500.0, 644.0], [1200.0, 1200.0],
                                          [1200.0, 500.0]).tolist() == ["PR", "PD"]
    assert compute_bidimensional_response(1710.0, 2000.0, 2000.0,
                                          criterion="WHO").tolist() == ["SD"]


def test_we19_lesion_level_vs_patient_level():
    c = case([lesion("L1", [40, 24]), lesion("L2", [22, 20])], [90])
    tp = tp_of(c)
    assert tp["target_response"].tolist() == ["SD"]
    assert round(tp["pct_change_from_baseline"].iloc[0], 2) == -29.03
    lr = derive_lesion_response(c[0], c[1]).set_index("lesion_id")
    assert lr.loc["P1-L1", "lesion_response"] == "PR"
    assert lr.loc["P1-L2", "lesion_response"] == "SD"
    assert lr["is_lesion_responder"].mean() == 0.5
    assert round(lr.loc["P1-L1", "best_pct_change"], 1) == -40.0


def test_we20_hepatic_vs_overall_scope():
    c = case([lesion("H1", [60, 33]), lesion("H2", [40, 22])], [84], new=["YES"],
             new_site=["extrahepatic"])
    assert tp_of(c)["overall_response"].tolist() == ["PD"]
    hep = tp_of(c, scope="hepatic")
    assert hep["overall_response"].tolist() == ["PR"]
    assert hep["pct_change_from_baseline"].round(1).tolist() == [-45.0]
    assert "outside the scope" in hep["rule"].iloc[0]


def test_treated_scope_uses_treated_liver_lesions_and_in_field_new_lesions():
    c = case([lesion("H1", [40, 20], treated=True), lesion("H2", [40, 60], treated=False)],
             [84], new=["YES"], new_site=["intrahepatic"], new_treated=[False])
    assert tp_of(c, scope="treated")["overall_response"].tolist() == ["PR"]
    assert tp_of(c, scope="hepatic")["overall_response"].tolist() == ["PD"]
    assert tp_of(c, scope="treated")["baseline_sum_mm"].tolist() == [40]


# ---------------------------------------------------------------------------------- edge cases


def test_split_lesion_fragments_are_summed():
    tp = tp_of(case([lesion("L1", [40, [12, 10]])], [56]))
    assert tp["target_sum_mm"].tolist() == [22]
    assert tp["target_response"].tolist() == ["PR"]


def test_merged_lesion_counts_zero_and_the_merged_mass_is_measured_once():
    tp = tp_of(case([lesion("L1", [20, 50]), lesion("L2", [20, "merged"])], [56]))
    assert tp["target_sum_mm"].tolist() == [50]
    assert tp["target_response"].tolist() == ["PD"]


def test_not_assessed_state_and_missing_row_are_both_ne():
    c = case([lesion("L1", [20, "not_assessed"]), lesion("L2", [20, 20])], [56])
    assert tp_of(c)["target_response"].tolist() == ["NE"]


def test_nadir_zero_recist_needs_5mm_and_mrecist_any_increase():
    c = case([lesion("L1", [20, 0, 4, 5])], [56, 112, 168])
    # 4 mm after a zero nadir: +4 mm < 5 mm so not PD; -80 % from baseline -> PR (R1.4.5)
    assert tp_of(c)["target_response"].tolist() == ["CR", "PR", "PD"]
    m = case([lesion("L1", [20, 0, 4], enhancing=[True, False, True])], [56, 112],
             criterion="mRECIST")
    assert tp_of(m, criterion="mRECIST")["target_response"].tolist() == ["CR", "PD"]


def test_mrecist_zero_viable_but_enhancing_flag_is_not_cr():
    m = case([lesion("L1", [20, 0], enhancing=[True, True])], [56], criterion="mRECIST")
    assert tp_of(m, criterion="mRECIST")["target_response"].tolist() == ["PR"]


def test_nontarget_pd_and_ne():
    c = case([lesion("L1", [40, 30, 30]), lesion("NT", ["NON_CR_NON_PD", "PD", None],
                                                 role="non_target")], [56, 112])
    tp = tp_of(c)
    assert tp["nontarget_response"].tolist() == ["PD", "NE"]
    assert tp["overall_response"].tolist() == ["PD", "SD"]


def test_target_without_baseline_measurement_is_ne_with_reason():
    c = case([lesion("L1", [None, 30])], [56])
    tp = tp_of(c)
    assert tp["target_response"].tolist() == ["NE"]
    assert "baseline" in tp["rule"].iloc[0]


def test_continuing_pr_display_column_only_after_confirmed_pr():
    tp = tp_of(case([lesion("L1", [100, 60, 60, 71])], [56, 112, 168]))
    assert tp["target_response"].tolist() == ["PR", "PR", "SD"]
    assert tp["target_response_continuing"].tolist() == ["PR", "PR", "PR"]
    tp = tp_of(case([lesion("L1", [100, 60, 71])], [56, 112]))  # PR never confirmed
    assert tp["target_response_continuing"].tolist() == ["PR", "SD"]


def test_baseline_row_is_optional_and_flagged():
    tp = tp_of(case([lesion("L1", [40, 30])], [56]), include_baseline=True)
    assert tp["is_baseline"].tolist() == [True, False]
    assert tp["overall_response"].iloc[0] is None
    assert list(tp.columns) == TIMEPOINT_COLUMNS


def test_more_than_one_decimal_and_rational_fallback_are_exact():
    tp = tp_of(case([lesion("L1", [32.32, 22.624])], [56]))  # exactly -30 %
    assert tp["target_response"].tolist() == ["PR"]
    tp = tp_of(case([lesion("L1", [1.0000001 * 30, 1.0000001 * 21])], [56]))
    assert tp["target_response"].tolist() == ["PR"]
    assert tp.attrs["settings"]["exact_scale_per_mm"] > 10**6


def test_several_patients_and_inputs_not_mutated():
    c = combine(case([lesion("L1", [40, 20])], [56], patient="A"),
                case([lesion("L1", [40, 60])], [56], patient="B"))
    copies = [x.copy(deep=True) for x in c]
    tp = tp_of(c)
    for before, after in zip(copies, c, strict=True):
        pd.testing.assert_frame_equal(before, after)
    assert tp.set_index("patient_id")["overall_response"].to_dict() == {"A": "PR", "B": "PD"}


def test_errors_name_the_rule_and_keep_the_rows():
    les, meas, ass = case([lesion("L1", [40, 20])], [56])
    bad = meas.copy()
    bad.loc[1, "diameter_mm"] = -3.0
    with pytest.raises(SirtDataError, match=r'lesion_measurements.diameter_mm: 1 rows violate '
                                            r'"diameter_mm >= 0"') as exc:
        derive_timepoint_response(les, bad, ass)
    assert len(exc.value.rows) == 1
    with pytest.raises(ValueError, match=r"The 'criterion' argument of derive_timepoint_response"
                                         r" must be one of .* Got 'RECIST' instead."):
        derive_timepoint_response(les, meas, ass, criterion="RECIST")
    with pytest.raises(SirtDataError, match="missing required column"):
        derive_timepoint_response(les.drop(columns="organ"), meas, ass)
    assert derive_timepoint_response(les, meas, ass, criterion="recist_1_1")[
        "criterion"].iloc[0] == "RECIST_1_1"


def test_no_imaging_assessment_row_is_noted():
    les, meas, ass = case([lesion("L1", [40, 20])], [56])
    tp = derive_timepoint_response(les, meas, ass.iloc[:1])
    assert "no imaging_assessments row" in tp["rule"].iloc[0]
    assert np.isclose(tp["target_sum_mm"].iloc[0], 20)


@pytest.mark.parametrize("decimals", [1, 6])
def test_rule_numbers_formatted_alike_on_the_grid_and_hashed(decimals):
    """fmt_many's table-lookup path (values on a 0.1 grid, > 1000 rows) gives the texts of
    formatting each value alone, as the hashed path does (the rule texts depend on it)."""
    from sirtstats.response._common import fmt_dmm, fmt_mm, fmt_pct
    from sirtstats.response._tprules import _distinct, fmt_many

    rng = np.random.default_rng(3)
    on_grid = np.round(rng.normal(0, 60, 5000), 1)
    on_grid[:4] = [0.0, -0.0, 0.1, -0.1]
    edges = np.where(rng.random(5000) < 0.01, -0.04, np.where(rng.random(5000) < 0.01,
                                                              0.05, on_grid))
    edges[:2] = [123456.7, 1234567.8]  # %g: six significant digits, then exponent
    off_grid = on_grid + np.where(rng.random(5000) < 0.01, 0.005, 0.0)  # forces hashing
    with_nan = np.where(rng.random(5000) < 0.05, np.nan, on_grid)
    for fmt in (fmt_mm, fmt_dmm, fmt_pct):
        for values in (on_grid, off_grid, with_nan, edges, np.abs(on_grid) * 10):
            alone = ["?" if not np.isfinite(x) else fmt(float(np.round(x, decimals) + 0.0))
                     for x in values]
            assert fmt_many(values, fmt, decimals).tolist() == alone
            assert fmt_many(values, fmt, decimals, cache={}).tolist() == alone
    uniq = _distinct(np.round(on_grid, decimals) + 0.0)[1]
    assert (np.diff(uniq) > 0).all()  # the table-lookup path (hashing keeps first-seen order)
