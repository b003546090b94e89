"""Best overall response: worked examples WE5 and WE10-WE14 of response-criteria.md §8 and the
R1.9 rules (confirmation window, NE/SD between, SD minimum, PR after CR, new therapy)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _response_helpers import ORIGIN, case, lesion, origin_frame, timepoints  # noqa: E402

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.response import (
    BOR_COLUMNS,
    check_pr_after_cr,
    derive_best_overall_response,
    derive_timepoint_response,
)
from sirtstats.response import _borcore as core


def bor_of(sequence, confirm, **kw):
    out = derive_best_overall_response(timepoints(sequence), origin_frame(["P1"]),
                                       confirm=confirm, **kw)
    assert len(out) == 1
    return out.iloc[0]


def d(n):
    return ORIGIN + pd.Timedelta(days=n)


def test_we5_nodal_cr_then_pr_flags_and_confirmed_is_sd():
    base = [lesion("L1", [30, 0, 0]), lesion("N1", [18, 8, 12], organ="lymph_node", nodal=True)]
    tp = derive_timepoint_response(*case(base, [56, 112]))
    unc = derive_best_overall_response(tp, origin_frame(["P1"]), confirm=False).iloc[0]
    con = derive_best_overall_response(tp, origin_frame(["P1"]), confirm=True).iloc[0]
    assert (unc["bor"], unc["bor_date"]) == ("CR", d(56))
    assert (con["bor"], con["bor_date"]) == ("SD", d(56))
    assert unc["pr_after_cr_flag"]
    assert con["pr_after_cr_flag"]
    assert "PR after CR flagged" in con["rule"]


def test_we10_new_lesion_bor_pd_non_responder():
    tp = derive_timepoint_response(*case([lesion("L1", [60, 30])], [42], new=["YES"]))
    for confirm in (False, True):
        r = derive_best_overall_response(tp, origin_frame(["P1"]), confirm=confirm).iloc[0]
        assert (r["bor"], r["is_responder"], r["first_pd_date"]) == ("PD", False, d(42))


@pytest.mark.parametrize(("sequence", "unconfirmed", "confirmed"), [
    ([(28, "SD"), (84, "PD")], "PD", "PD"),            # WE11a
    ([(28, "SD")], "NE", "NE"),                        # WE11b
    ([(30, "PR"), (60, "PD")], "PR", "PD"),            # WE11c
    ([(56, "PR"), (112, "SD"), (168, "PD")], "PR", "SD"),  # WE12
])
def test_we11_we12_sd_minimum_and_unconfirmed_pr(sequence, unconfirmed, confirmed):
    assert bor_of(sequence, False)["bor"] == unconfirmed
    assert bor_of(sequence, True)["bor"] == confirmed


def test_we11b_ne_is_neither_responder_nor_disease_control():
    r = bor_of([(28, "SD")], True)
    assert (r["is_responder"], r["is_disease_control"]) == (False, False)


@pytest.mark.parametrize(("sequence", "unconfirmed", "confirmed"), [
    ([(56, "PR"), (84, "NE"), (112, "PR")], "PR", "PR"),
    ([(56, "PR"), (84, "NE"), (112, "NE"), (140, "PR")], "PR", "SD"),
    ([(56, "PR"), (84, "SD"), (112, "PR")], "PR", "SD"),
    ([(56, "PR"), (77, "PR")], "PR", "SD"),
    ([(35, "PR"), (63, "PR")], "PR", "PR"),
    ([(56, "CR"), (84, "CR")], "CR", "CR"),
    ([(56, "CR"), (83, "CR")], "CR", "SD"),
    ([(28, "PR"), (56, "CR")], "CR", "PR"),
    ([(56, "CR"), (112, "SD")], "CR", "SD"),
    ([(30, "CR"), (40, "PD")], "CR", "PD"),
])
def test_we13_confirmation_timing_and_ne_handling(sequence, unconfirmed, confirmed):
    assert bor_of(sequence, False)["bor"] == unconfirmed
    assert bor_of(sequence, True)["bor"] == confirmed


def test_we13_confirmed_dates_are_first_met_not_confirmation():
    r = bor_of([(28, "PR"), (56, "CR")], True)
    assert (r["bor_date"], r["first_response_date"]) == (d(28), d(28))
    assert "confirmed by CR on" in r["rule"]
    assert "(28 d later" in r["rule"]


def test_we13_accept_sd_between_and_max_ne_options():
    seq = [(56, "PR"), (84, "SD"), (112, "PR")]
    assert bor_of(seq, True, accept_sd_between=True)["bor"] == "PR"
    seq = [(56, "PR"), (84, "NE"), (112, "NE"), (140, "PR")]
    assert bor_of(seq, True, max_ne_between=2)["bor"] == "PR"
    assert bor_of([(56, "PR"), (77, "PR")], True, confirm_min_days=21)["bor"] == "PR"


@pytest.mark.parametrize(("sequence", "options", "confirmed"), [
    # one SD between, confirmation exactly 28 d after the PR: confirmed (admiralonco accept_sd)
    ([(56, "PR"), (70, "SD"), (84, "PR")], {"accept_sd_between": True}, "PR"),
    # the same at 27 d: not confirmed; d56 >= 42 gives SD
    ([(56, "PR"), (70, "SD"), (83, "PR")], {"accept_sd_between": True}, "SD"),
    # two SD between: at most one is accepted
    ([(56, "PR"), (63, "SD"), (70, "SD"), (84, "PR")], {"accept_sd_between": True}, "SD"),
    # ... unless the maximum is raised
    ([(56, "PR"), (63, "SD"), (70, "SD"), (84, "PR")],
     {"accept_sd_between": True, "max_sd_between": 2}, "PR"),
    # max_sd_between has no effect without accept_sd_between (the default rejects any SD)
    ([(56, "PR"), (70, "SD"), (84, "PR")], {"max_sd_between": 3}, "SD"),
    # SD never confirms a CR
    ([(56, "CR"), (70, "SD"), (84, "CR")], {"accept_sd_between": True}, "SD"),
])
def test_accept_sd_between_accepts_at_most_max_sd_between(sequence, options, confirmed):
    r = bor_of(sequence, True, **options)
    assert r["bor"] == confirmed
    assert r["bor_date"] == d(56)


def test_max_sd_between_is_validated_and_recorded():
    tp = timepoints([(56, "PR")])
    with pytest.raises(ValueError, match="'max_sd_between' argument of derive_best_overall_"
                                         "response must be a non-negative integer. Got -1"):
        derive_best_overall_response(tp, origin_frame(["P1"]), confirm=True,
                                     accept_sd_between=True, max_sd_between=-1)
    out = derive_best_overall_response(tp, origin_frame(["P1"]), confirm=True,
                                       accept_sd_between=True)
    assert out.attrs["settings"]["max_sd_between"] == 1
    out = derive_best_overall_response(tp, origin_frame(["P1"]), confirm=True)
    assert out.attrs["settings"]["max_sd_between"] == 0


def test_we14_pr_after_cr_modes():
    seq = [(56, "CR"), (112, "PR")]
    r = bor_of(seq, True)
    assert (bor_of(seq, False)["bor"], r["bor"], r["pr_after_cr_flag"]) == ("CR", "SD", True)
    assert bor_of([(56, "PR"), (112, "PR")], True)["bor"] == "PR"  # reader recoded d56
    assert bor_of(seq, True, pr_after_cr_mode="recode_cr_as_pr")["bor"] == "PR"
    early = [(30, "CR"), (60, "PR")]
    assert bor_of(early, True)["bor"] == "SD"
    assert bor_of(early, True, pr_after_cr_mode="treat_as_pd")["bor"] == "PD"


def test_sd_boundary_is_inclusive_and_configurable():
    assert bor_of([(42, "SD")], False)["bor"] == "SD"
    assert bor_of([(41, "SD")], False)["bor"] == "NE"
    assert bor_of([(41, "SD")], False, sd_min_days=35)["bor"] == "SD"
    assert bor_of([(42, "NON_CR_NON_PD")], False)["bor"] == "NON_CR_NON_PD"


def test_assessments_after_pd_and_before_origin_are_ignored():
    r = bor_of([(-5, "CR"), (30, "SD"), (50, "PD"), (90, "CR")], False)
    assert (r["bor"], r["first_pd_date"], r["n_assessments"]) == ("PD", d(50), 2)
    assert r["last_assessment_date"] == d(90)


def test_new_anticancer_therapy_cuts_later_assessments():
    tp = timepoints([(56, "SD"), (112, "PR"), (140, "PR")])
    ther = pd.DataFrame({"patient_id": ["P1", "P1"], "start_date": [d(100), d(20)],
                         "is_planned_with_sirt": [False, True]})
    r = derive_best_overall_response(tp, origin_frame(["P1"]), confirm=False,
                                     df_therapies=ther).iloc[0]
    assert r["bor"] == "SD"
    ther.loc[0, "start_date"] = d(112)  # assessment on the start day still counts
    r = derive_best_overall_response(tp, origin_frame(["P1"]), confirm=False,
                                     df_therapies=ther).iloc[0]
    assert r["bor"] == "PR"


def test_missing_patients_and_output_shape():
    tp = timepoints([(56, "PR")], criterion="mRECIST", scope="hepatic")
    out = derive_best_overall_response(tp, origin_frame(["P1", "P2"]), confirm=False)
    assert list(out.columns) == BOR_COLUMNS
    assert out["bor"].tolist() == ["PR", "MISSING"]
    assert out["criterion"].tolist() == ["mRECIST", "mRECIST"]
    assert out["scope"].tolist() == ["hepatic", "hepatic"]
    assert out["rule"].iloc[1].startswith("MISSING")


def test_same_day_duplicates_keep_the_worst():
    tp = timepoints([(56, "CR"), (56, "NE"), (84, "PD"), (84, "SD")])
    r = derive_best_overall_response(tp, origin_frame(["P1"]), confirm=False).iloc[0]
    assert r["bor"] == "CR"  # NE is the least bad on the same day
    assert r["first_pd_date"] == d(84)


def test_disease_control_date_is_earliest_qualifying():
    r = bor_of([(21, "SD"), (42, "PR"), (63, "CR")], False)
    assert (r["bor"], r["disease_control_date"]) == ("CR", d(42))
    r = bor_of([(21, "PR"), (42, "CR"), (63, "PD")], True)
    assert (r["bor"], r["disease_control_date"]) == ("SD", d(42))


def test_inputs_not_mutated_and_errors():
    tp = timepoints([(56, "PR"), (84, "XX")])
    orig = origin_frame(["P1"])
    tp0, orig0 = tp.copy(), orig.copy()
    with pytest.raises(SirtDataError, match=r"timepoints.overall_response: 1 rows violate") as e:
        derive_best_overall_response(tp, orig, confirm=True)
    assert e.value.rows["resp"].tolist() == ["XX"]
    pd.testing.assert_frame_equal(tp, tp0)
    pd.testing.assert_frame_equal(orig, orig0)
    with pytest.raises(ValueError, match=r"The 'pr_after_cr_mode' argument of "
                                         r"derive_best_overall_response must be one of"):
        derive_best_overall_response(tp, orig, confirm=True, pr_after_cr_mode="x")
    with pytest.raises(ValueError, match="'confirm' argument"):
        derive_best_overall_response(tp, orig, confirm="yes")
    dup = pd.concat([orig, orig])
    with pytest.raises(SirtDataError, match="duplicated patient_id"):
        derive_best_overall_response(tp.iloc[:1], dup, confirm=True)


def _pd_record(day, patient="P1"):
    return pd.DataFrame({"patient_id": [patient], "pd_date": [d(day)]})


def test_source_pd_ends_the_assessment_period_and_counts_as_pd():
    seq = [(56, "SD"), (84, "PR"), (112, "CR")]
    # investigator PD on d84 without a per-visit PD: d112 is not used; on d84 the PD record
    # and the PR share the day and the worst (PD) is kept, so the BOR is the d56 SD
    r = bor_of(seq, False, df_pd=_pd_record(84))
    assert (r["bor"], r["bor_date"], r["first_pd_date"]) == ("SD", d(56), d(84))
    assert r["n_assessments"] == 2
    # when the record only ends the period (admiralonco), the d84 PR is used
    r = bor_of(seq, False, df_pd=_pd_record(84), is_source_pd_an_assessment=False)
    assert (r["bor"], r["bor_date"], r["first_pd_date"]) == ("PR", d(84), pd.NaT)
    # PD before any per-visit response: BOR PD (RECIST) ...
    r = bor_of(seq, False, df_pd=_pd_record(40))
    assert (r["bor"], r["bor_date"]) == ("PD", d(40))
    # ... or MISSING as admiralonco's source_pd, which only ends the period
    r = bor_of(seq, False, df_pd=_pd_record(40), is_source_pd_an_assessment=False)
    assert (r["bor"], r["first_pd_date"]) == ("MISSING", pd.NaT)
    # a PD record of another patient, or with no date, changes nothing
    other = pd.DataFrame({"patient_id": ["P1", "P2"], "pd_date": [pd.NaT, d(40)]})
    assert bor_of(seq, False, df_pd=other)["bor"] == "CR"


def test_source_pd_before_confirmation_prevents_it():
    seq = [(56, "PR"), (84, "PR")]
    assert bor_of(seq, True)["bor"] == "PR"
    r = bor_of(seq, True, df_pd=_pd_record(70))
    assert (r["bor"], r["first_pd_date"]) == ("SD", d(70))


def test_nd_is_ignored_by_default_and_a_category_with_include_nd():
    seq = [(56, "ND")]
    assert bor_of(seq, False)["bor"] == "MISSING"
    r = bor_of(seq, False, include_nd=True)
    assert (r["bor"], r["bor_date"], r["n_assessments"]) == ("ND", d(56), 0)
    assert pd.isna(r["last_assessment_date"])
    assert bor_of([(20, "SD"), (56, "ND")], False, include_nd=True)["bor"] == "NE"
    # an ND between a PR and its confirmation breaks it only when ND rows are kept
    seq = [(56, "PR"), (70, "ND"), (84, "PR")]
    assert bor_of(seq, True)["bor"] == "PR"
    assert bor_of(seq, True, include_nd=True)["bor"] == "SD"


def test_missing_as_ne():
    out = derive_best_overall_response(timepoints([(56, "PR")]), origin_frame(["P1", "P2"]),
                                       confirm=False, missing_as_ne=True)
    assert out["bor"].tolist() == ["PR", "NE"]
    assert pd.isna(out["bor_date"].iloc[1])
    assert "missing_as_ne=True" in out["rule"].iloc[1]
    assert not out["is_responder"].iloc[1]
    with pytest.raises(SirtDataError, match=r"source_pd: missing required column\(s\) "
                                            r"\['pd_date'\]"):
        derive_best_overall_response(timepoints([(56, "PR")]), origin_frame(["P1"]),
                                     confirm=False, df_pd=pd.DataFrame({"patient_id": ["P1"]}))


def test_check_pr_after_cr_warns_or_raises_with_the_records():
    tp = timepoints([(30, "PR"), (56, "CR"), (84, "NE"), (112, "PR"), (140, "PD"), (168, "PR")])
    with pytest.warns(SirtStatsWarning, match=r"1 patient\(s\) have a CR followed by a PR"):
        check_pr_after_cr(tp)
    with pytest.raises(SirtDataError, match="CR followed by a PR") as e:
        check_pr_after_cr(tp, check_type="error")
    # the CR followed by a PR and the PR preceded by a CR; d30 (before the CR) and d168
    # (after the first PD) are not findings
    assert e.value.rows["assessment_date"].tolist() == [d(56), d(112)]
    assert check_pr_after_cr(timepoints([(30, "PR"), (56, "CR"), (84, "CR")])) is None
    with pytest.raises(ValueError, match="'check_type' argument of check_pr_after_cr"):
        check_pr_after_cr(tp, check_type="ERRORS")


# --- the array kernels of the BOR (sirtstats/response/_borcore.py) against plain loops -------


def _kernel_cases():
    """Seeded (gid, mask, day) rows: sorted groups, and contiguous groups numbered out of order
    (the pandas fallback paths)."""
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 7, 60)
    gid = np.repeat(np.arange(len(sizes)), sizes)
    day = np.concatenate([np.sort(rng.choice(400, k, replace=False)) for k in sizes])
    mask = rng.random(len(gid)) < 0.3
    perm = rng.permutation(len(sizes))  # same runs, group numbers shuffled: not sorted
    return [(gid, mask, day), (perm[gid], mask, day)]


@pytest.mark.parametrize("case_no", [0, 1])
def test_borcore_group_kernels_match_row_loops(case_no):
    gid, mask, _ = _kernel_cases()[case_no]
    n, n_g = len(gid), int(gid.max()) + 1
    same = [[k for k in range(n) if gid[k] == gid[i]] for i in range(n)]
    first = [min((k for k in range(n) if gid[k] == g and mask[k]), default=core.BIG)
             for g in range(n_g)]
    assert core.first_pos(mask, gid, n_g).tolist() == first
    assert core.earlier(mask, gid).tolist() == [any(mask[k] for k in s if k < i)
                                                for i, s in enumerate(same)]
    assert core.later(mask, gid).tolist() == [any(mask[k] for k in s if k > i)
                                              for i, s in enumerate(same)]
    assert core.count_before(mask, gid).tolist() == [sum(bool(mask[k]) for k in s if k < i)
                                                     for i, s in enumerate(same)]
    assert core.is_sorted(gid) == (case_no == 0)
    assert np.array_equal(core.first_pos(np.zeros(n, bool), gid, n_g), np.full(n_g, core.BIG))


@pytest.mark.parametrize("min_gap", [1, 28, 60])
def test_borcore_confirming_rows_match_a_scan(min_gap):
    gid, mask, day = _kernel_cases()[0]
    i = np.flatnonzero(mask)
    cand = np.flatnonzero(~mask | (day % 3 == 0))
    want = [next((int(j) for j in cand if gid[j] == gid[r] and day[j] >= day[r] + min_gap), -1)
            for r in i]
    assert core.confirming_rows(i, cand, gid, day, min_gap).tolist() == want
    assert core.confirming_rows(i, cand, _kernel_cases()[1][0], day, min_gap) is None
