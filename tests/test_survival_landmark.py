"""Guarantee-time bias remedies: WE28 (response-criteria.md §8) and R parity of the landmark
analysis and the time-dependent Cox model (tmerge + coxph counting process)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _survival_golden import assert_close, load, rq, rv

from sirtstats import survival as sv
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

# WE28: OS, origin = SIRT, L = 90 d; response day per patient (None = no response)
WE28_OS = pd.DataFrame({"patient_id": ["1", "2", "3", "4", "5", "6"],
                        "endpoint": "OS",
                        "time_days": [400, 500, 70, 300, 85, 200],
                        "event": [1, 1, 1, 0, 0, 1]})
WE28_RESP = pd.DataFrame({"patient_id": ["1", "2", "5", "6"], "response_day": [60, 150, 85, 90]})


def test_we28_landmark_table():
    lm = sv.derive_landmark(WE28_OS, WE28_RESP, landmark_days=90, response_col="response_day")
    inc = lm[lm["is_included"]]
    assert inc["patient_id"].tolist() == ["1", "2", "4", "6"]
    assert inc["landmark_group"].tolist() == ["responder", "non-responder", "non-responder",
                                              "responder"]
    assert inc["time_days"].tolist() == [310, 410, 210, 110]
    assert inc["event"].tolist() == [1, 1, 0, 1]
    exc = lm[~lm["is_included"]].set_index("patient_id")
    assert exc.loc["3", "exclusion_reason"] == "event on or before landmark"
    assert exc.loc["5", "exclusion_reason"] == "censored on or before landmark"
    assert lm["time_days_origin"].tolist() == WE28_OS["time_days"].tolist()


def test_we28_counting_process_rows():
    cp = sv.derive_counting_process(WE28_OS, WE28_RESP, response_col="response_day")
    expected = pd.DataFrame({
        "patient_id": ["1", "1", "2", "2", "3", "4", "5", "6", "6"],
        "start_days": [0, 60, 0, 150, 0, 0, 0, 0, 90.0],
        "stop_days": [60, 400, 150, 500, 70, 300, 85, 90, 200.0],
        "is_responder": [0, 1, 0, 1, 0, 0, 0, 0, 1],
        "event": [0, 1, 0, 1, 1, 0, 0, 0, 1],
    })
    pd.testing.assert_frame_equal(cp[expected.columns], expected, check_dtype=False)


def test_we28_naive_grouping_raises_guarantee_time_error():
    naive = WE28_OS.assign(is_responder=WE28_OS["patient_id"].isin(WE28_RESP["patient_id"]))
    with pytest.raises(SirtDataError, match="guarantee-time"):
        sv.summarise_km(naive, time_col="time_days", by="is_responder")
    lm = sv.derive_landmark(WE28_OS, WE28_RESP, landmark_days=90, response_col="response_day")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        tab = sv.summarise_km(lm[lm["is_included"]], time_col="time_days",
                              by="is_responder_at_landmark", landmarks=())
    assert tab["n"].tolist() == [2, 2]


def test_landmark_months_and_response_dates():
    os_ = WE28_OS.assign(origin_date=pd.Timestamp("2024-01-01"))
    resp = pd.DataFrame({"patient_id": ["1"],
                         "first_response_date": pd.to_datetime(["2024-03-01"])})  # day 60
    lm = sv.derive_landmark(os_, resp, landmark_months=3)
    assert lm["landmark_days"].iloc[0] == pytest.approx(91.3125)
    assert lm.set_index("patient_id").loc["1", "response_days"] == 60
    assert bool(lm.set_index("patient_id").loc["1", "is_responder_at_landmark"])
    with pytest.raises(ValueError, match="exactly one"):
        sv.derive_landmark(os_, resp, landmark_days=90, landmark_months=3)


# ------------------------------------------------------------------------------------------
# R parity on td_pat (response without effect on death)
# ------------------------------------------------------------------------------------------
def _td():
    pat = load("td_pat")
    df = pd.DataFrame({"patient_id": pat["patient_id"], "time_days": pat["time"],
                       "event": pat["status"]})
    resp = pat.loc[pat["response_day"].notna(), ["patient_id", "response_day"]]
    return df, resp


def test_counting_process_and_time_dependent_cox_match_tmerge_coxph():
    df, resp = _td()
    cp = sv.derive_counting_process(df, resp, response_col="response_day")
    assert len(cp) == rv("td", "td.nrows")
    res = sv.fit_time_dependent_cox(cp)
    row = res.hr_table.iloc[0]
    assert_close([row["coef"], row["se"], row["p"], row["hr_lower"], row["hr_upper"]],
                 [rv("td", "td.coef", "resp"), rv("td", "td.se", "resp"),
                  rv("td", "td.p", "resp"), rv("td", "td.hr.lower", "resp"),
                  rv("td", "td.hr.upper", "resp")], "time-dependent Cox")
    tests = res.tests.set_index("test")["statistic"]
    assert_close([tests["score"], tests["likelihood_ratio"]],
                 [rv("td", "td.score"), rv("td", "td.lr")], "Mantel-Byar score / LR")
    assert res.n == 300


@pytest.mark.parametrize("landmark", [90, 180])
def test_landmark_analysis_matches_r(landmark):
    df, resp = _td()
    lm = sv.derive_landmark(df, resp, landmark_days=landmark, response_col="response_day")
    inc = lm[lm["is_included"]]
    assert len(inc) == _at(landmark, "landmark.n")
    assert int(inc["is_responder_at_landmark"].sum()) == _at(landmark, "landmark.nresp")
    lr = sv.test_logrank(inc, group_col="landmark_group", time_col="time_days")
    assert_close([lr.table.loc[0, "chisq"]], [_at(landmark, "landmark.chisq")], "landmark LR")
    cox = sv.fit_cox(inc.assign(resp=inc["is_responder_at_landmark"].astype(int)), ["resp"],
                     time_col="time_days", ph_transform=None)
    assert_close([cox.hr_table.loc[0, "coef"], cox.hr_table.loc[0, "se"]],
                 [_at(landmark, "landmark.coef", "resp"), _at(landmark, "landmark.se", "resp")],
                 "landmark Cox")


def _at(landmark, quantity, group=""):
    r = rq("td", quantity)
    vals = r.loc[(r["time"] == landmark) & (r["group"] == group), "value"]
    assert len(vals) == 1
    return float(vals.iloc[0])


def test_landmark_inputs_not_modified():
    os_, resp = WE28_OS.copy(), WE28_RESP.copy()
    sv.derive_landmark(os_, resp, landmark_days=90, response_col="response_day")
    sv.derive_counting_process(os_, resp, response_col="response_day")
    pd.testing.assert_frame_equal(os_, WE28_OS)
    pd.testing.assert_frame_equal(resp, WE28_RESP)
    assert np.all(os_.columns == WE28_OS.columns)


def test_summarise_landmark_we28_and_r_parity():
    tab = sv.summarise_landmark(WE28_OS, WE28_RESP, landmarks_months=[90 / 30.4375],
                                response_col="response_day")
    row = tab.iloc[0]
    assert (row["n"], row["n_excluded_event"], row["n_excluded_censored"]) == (6, 1, 1)
    assert (row["n_included"], row["n_responders"], row["n_non_responders"]) == (4, 2, 2)
    assert (row["events_responders"], row["events_non_responders"]) == (2, 1)
    df, resp = _td()
    tab = sv.summarise_landmark(df, resp, landmarks_months=[90 / 30.4375, 180 / 30.4375],
                                response_col="response_day")
    for L, (_, row) in zip([90, 180], tab.iterrows(), strict=True):
        assert row["n_included"] == _at(L, "landmark.n")
        assert_close([np.log(row["hr"])], [_at(L, "landmark.coef", "resp")], "landmark HR")


def test_fit_time_dependent_cox_that_cannot_converge_raises_or_warns():
    # a small cohort without any responder (5 breast-cancer patients of the demo registry):
    # the response covariate is constant and lifelines stops with NaN in the Hessian
    df = pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4", "P5"], "start_days": 0.0,
                       "stop_days": [275.0, 426.0, 867.0, 940.0, 71.0],
                       "event": [1, 1, 0, 1, 1], "is_responder": 0})
    with pytest.raises(SirtDataError, match="cannot be fitted"):
        sv.fit_time_dependent_cox(df)
    with pytest.warns(SirtStatsWarning, match="cannot be fitted"):
        res = sv.fit_time_dependent_cox(df, check_type="warning")
    assert np.isnan(res.hr_table["hr"].iloc[0])


def test_summarise_landmark_we28_infinite_hr_is_not_estimable():
    # included: responders die at 110 and 310 d, non-responders censored 210, die 410 d (alone
    # at risk then): the partial likelihood increases without bound in the HR (monotone)
    tab = sv.summarise_landmark(WE28_OS, WE28_RESP, landmarks_months=[90 / 30.4375],
                                response_col="response_day")
    assert np.isnan(tab.loc[0, ["hr", "hr_lower", "hr_upper"]].astype(float)).all()


def test_fit_time_dependent_cox_with_no_responder_dying_is_not_estimable():
    # patient 1 responds at day 60 and is censored at 400; every death is a non-responder's
    # while a responder is at risk: the HR of response runs to 0 (monotone likelihood)
    cp = pd.DataFrame({"patient_id": ["1", "1", "2", "3", "4", "5"],
                       "start_days": [0, 60, 0, 0, 0, 0],
                       "stop_days": [60, 400, 300, 70, 30, 500],
                       "is_responder": [0, 1, 0, 0, 0, 0],
                       "event": [0, 0, 1, 1, 1, 0]})
    with pytest.raises(SirtDataError, match=r"\['is_responder'\] have an infinite coefficient"):
        sv.fit_time_dependent_cox(cp)
    with pytest.warns(SirtStatsWarning, match="infinite coefficient"):
        res = sv.fit_time_dependent_cox(cp, check_type="warning")
    assert np.isnan(res.hr_table["hr"].iloc[0])


def test_monotone_check_uses_the_counting_process_risk_set():
    from sirtstats.survival.cox import _monotone_columns

    # the x=1 row (patient 1 from day 60) dies at 400; deaths at 30 and 50 come before it
    # enters, so at every death the risk set is homogeneous or the x=1 row dies: beta -> +inf
    x = np.array([[0.0], [1], [0], [0], [0]])
    start = np.array([0.0, 60, 0, 0, 0])
    stop = np.array([60.0, 400, 50, 30, 500])
    event = np.array([0.0, 1, 1, 1, 0])
    assert _monotone_columns(x, stop, event, start=start) == [0]
    # without delayed entry the x=1 row would be at risk at 30 and 50 (mixed, x=0 dies)
    assert _monotone_columns(x, stop, event) == []
