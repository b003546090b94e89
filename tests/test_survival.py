"""Unit tests of sirtstats.survival: worked examples WE25–WE28 (response-criteria.md §8),
argument/data errors, warnings and input immutability. Expected numbers are the document's."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sirtstats import survival as sv
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

WE25A = pd.DataFrame({
    "time_months": [1, 3, 5, 6, 8, 9, 13, 16, 19, 20, 21, 22, 23, 24, 25, 26, 32, 33, 38, 39],
    "event": [1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1],
})
WE25B = pd.DataFrame({"time_months": [2, 3, 4, 5, 6, 7, 8, 10, 12, 15],
                      "event": [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]})
WE26 = pd.concat([
    WE25B.assign(group=1),
    pd.DataFrame({"time_months": [4, 6, 6, 9, 11, 14, 16, 18, 20, 24],
                  "event": [1, 1, 1, 0, 1, 1, 0, 1, 0, 0], "group": 0}),
], ignore_index=True)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------------------------------
# WE25: KM, median, CIs
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("conf_type", "lower", "upper"),
                         [("log", 19, 38), ("log-log", 16, 32), ("plain", 19, 32)])
def test_we25a_median_22_and_ci_by_transform(conf_type, lower, upper):
    tab = sv.summarise_km(WE25A, conf_type=conf_type, landmarks=())
    assert tab.loc[0, ["median", "median_lower", "median_upper"]].tolist() == [22, lower, upper]
    assert tab.loc[0, "median_text"] == f"22.0 ({lower:.1f}–{upper:.1f})"


def test_we25a_table_rows():
    curve = sv.compute_km_curve(WE25A, conf_type="log-log").set_index("time")
    # t: (n, d, S, sigma, log-log band) from the WE25 table
    expected = {13: (14, 1, 0.7866, 0.1214, 0.5238, 0.9147),
                16: (13, 1, 0.7261, 0.1454, 0.4586, 0.8768),
                22: (9, 1, 0.4840, 0.2506, 0.2398, 0.6916),
                38: (2, 1, 0.0756, 0.9422, 0.0051, 0.2829)}
    for t, (n, d, s, sigma, lo, hi) in expected.items():
        row = curve.loc[t]
        assert (row["n_risk"], row["n_event"]) == (n, d)
        assert row["surv"] == pytest.approx(s, abs=5e-5)
        assert row["std_err_log"] == pytest.approx(sigma, abs=5e-5)
        assert row["lower"] == pytest.approx(lo, abs=5e-5)
        assert row["upper"] == pytest.approx(hi, abs=5e-5)
    log = sv.compute_km_curve(WE25A, conf_type="log").set_index("time")
    assert log.loc[19, "lower"] == pytest.approx(0.4775, abs=5e-5)
    assert log.loc[38, "upper"] == pytest.approx(0.4794, abs=5e-5)


def test_we25b_median_8_upper_not_reached_and_reverse_km_followup_10():
    tab = _quiet(sv.summarise_km, WE25B, conf_type="log", landmarks=())
    assert tab.loc[0, "median"] == 8
    assert tab.loc[0, "median_lower"] == 5
    assert np.isnan(tab.loc[0, "median_upper"])
    assert tab.loc[0, "median_text"] == "8.0 (5.0–NR)"
    ll = _quiet(sv.summarise_km, WE25B, landmarks=())
    assert ll.loc[0, "median_lower"] == 2
    fu = sv.compute_median_followup(WE25B, conf_type="log")
    assert fu.loc[0, "median_followup"] == 10
    assert fu.loc[0, "median_followup_lower"] == 7
    assert np.isnan(fu.loc[0, "median_followup_upper"])


def test_we25c_exact_half_plateau_gives_midpoint_2_5():
    df = pd.DataFrame({"time_months": [1, 2, 3, 4], "event": [1, 1, 1, 1]})
    assert _quiet(sv.summarise_km, df, landmarks=()).loc[0, "median"] == 2.5


def test_median_not_reached_is_nan_with_warning():
    df = pd.DataFrame({"time_months": np.arange(1, 13), "event": [1, 0] + [0] * 10})
    with pytest.warns(SirtStatsWarning, match="median not reached"):
        tab = sv.summarise_km(df, landmarks=(6,))
    assert np.isnan(tab.loc[0, "median"])
    assert tab.loc[0, "median_text"].startswith("NR")


def test_landmark_after_last_time_is_nan_and_counts_zero_at_risk():
    tab = _quiet(sv.summarise_km, WE25B, landmarks=(12, 16))
    assert tab.loc[0, "surv_12"] == pytest.approx(0.2143, abs=5e-5)
    assert np.isnan(tab.loc[0, "surv_16"])
    assert tab.loc[0, "n_risk_16"] == 0


def test_km_by_group_rows_sorted_and_counts():
    tab = _quiet(sv.summarise_km, WE26, by="group", landmarks=())
    assert tab["group"].tolist() == [0, 1]
    assert tab["n"].tolist() == [10, 10]
    assert tab["n_events"].tolist() == [6, 6]
    assert tab["median"].tolist() == [14, 8]


def test_number_at_risk_on_given_ticks():
    nar = sv.compute_number_at_risk(WE26, [0, 5, 10, 15, 20], by="group")
    assert nar.loc[nar["group"] == 1, "n_risk"].tolist() == [10, 7, 3, 1, 0]
    assert nar.loc[nar["group"] == 0, "n_risk"].tolist() == [10, 9, 6, 4, 2]


def test_delayed_entry_changes_risk_set():
    df = pd.DataFrame({"time_months": [5, 6, 7, 8], "event": [1, 1, 1, 1],
                       "entry_months": [0, 0, 6.5, 0]})
    curve = sv.compute_km_curve(df, entry_col="entry_months").set_index("time")
    # at t=6 the subject entering at 6.5 is not at risk: n = 2 (times 6 and 8)
    assert curve.loc[6, "n_risk"] == 2
    assert curve.loc[7, "n_risk"] == 2


def test_timefix_merges_floating_point_near_ties():
    df = pd.DataFrame({"time_months": [0.1 + 0.2, 0.3, 0.5], "event": [1, 0, 1]})
    curve = sv.compute_km_curve(df)
    assert len(curve) == 2  # 0.30000000000000004 and 0.3 are one time
    assert curve.loc[0, "n_event"] == 1
    assert curve.loc[0, "n_censor"] == 1
    assert len(sv.compute_km_curve(df, timefix=False)) == 3


# ------------------------------------------------------------------------------------------
# WE26: log-rank, Cox ties, PH test
# ------------------------------------------------------------------------------------------
def test_we26_logrank():
    res = sv.test_logrank(WE26, group_col="group")
    row = res.table.iloc[0]
    assert row["chisq"] == pytest.approx(1.4879, abs=5e-5)
    assert row["p"] == pytest.approx(0.2225, abs=5e-5)
    obs = res.groups.set_index("group")
    assert obs.loc[1, "observed"] == 6
    assert obs.loc[1, "expected"] == pytest.approx(4.12, abs=5e-3)
    assert obs.loc[0, "expected"] == pytest.approx(7.88, abs=5e-3)


def test_we26_cox_efron_breslow_and_zph():
    res = _quiet(sv.fit_cox, WE26, ["group"])
    hr = res.hr_table.iloc[0]
    assert hr["coef"] == pytest.approx(0.72142, abs=5e-6)
    assert hr["hr"] == pytest.approx(2.0573, abs=5e-5)
    assert hr["hr_lower"] == pytest.approx(0.6091, abs=5e-5)
    assert hr["hr_upper"] == pytest.approx(6.9496, abs=5e-5)
    ph = res.ph_test.set_index("term")
    assert ph.loc["group", "chisq"] == pytest.approx(0.0189, abs=5e-5)
    assert ph.loc["GLOBAL", "p"] == pytest.approx(0.89, abs=5e-3)
    assert ph["transform"].eq("km").all()
    bres = _quiet(sv.fit_cox, WE26, ["group"], ties="breslow")
    assert bres.hr_table.loc[0, "coef"] == pytest.approx(0.72726, abs=5e-6)
    assert bres.hr_table.loc[0, "hr"] == pytest.approx(2.0694, abs=5e-5)


def test_cox_score_test_equals_logrank_for_one_binary_covariate_without_ties():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"time_months": rng.permutation(60) + 1.0,
                       "event": rng.integers(0, 2, 60), "arm": rng.integers(0, 2, 60)})
    cox = _quiet(sv.fit_cox, df, ["arm"], ph_transform=None)
    lr = sv.test_logrank(df, group_col="arm")
    score = cox.tests.set_index("test").loc["score", "statistic"]
    assert score == pytest.approx(lr.table.loc[0, "chisq"], rel=1e-10)


def test_cox_categorical_reference_and_labels():
    df = WE26.assign(arm=np.where(WE26["group"] == 1, "B", "A"))
    res = _quiet(sv.fit_cox, df, ["arm"], categorical={"arm": "A"}, ph_transform=None)
    row = res.hr_table.iloc[0]
    assert (row["variable"], row["level"], row["reference"], row["term"]) == (
        "arm", "B", "A", "arm[B]")
    assert row["coef"] == pytest.approx(0.72142, abs=5e-6)
    flipped = _quiet(sv.fit_cox, df, ["arm"], categorical={"arm": "B"}, ph_transform=None)
    assert flipped.hr_table.iloc[0]["coef"] == pytest.approx(-0.72142, abs=5e-6)


def test_cox_univariable_table_stacks_models():
    df = WE26.assign(x=np.arange(20) % 3)
    tab = _quiet(sv.fit_cox_univariable, df, ["group", "x"])
    assert tab["variable"].tolist() == ["group", "x"]
    assert (tab["n"] == 20).all()
    assert tab.loc[0, "coef"] == pytest.approx(0.72142, abs=5e-6)


def test_cox_excludes_missing_covariates_with_warning():
    df = WE26.assign(x=[np.nan] + list(range(19)))
    with pytest.warns(SirtStatsWarning, match="1 rows with missing"):
        res = sv.fit_cox(df, ["group", "x"], ph_transform=None)
    assert res.n == 19
    assert res.n_excluded == 1


# ------------------------------------------------------------------------------------------
# errors, guarantee-time check, immutability
# ------------------------------------------------------------------------------------------
def test_argument_errors_are_sklearn_style():
    with pytest.raises(ValueError, match=r"The 'conf_type' argument of summarise_km must be "
                                         r"one of \{'log-log', 'log', 'plain'\}\. Got 'loglog' "
                                         r"instead\."):
        sv.summarise_km(WE25A, conf_type="loglog")
    with pytest.raises(ValueError, match="The 'ties' argument of fit_cox"):
        sv.fit_cox(WE26, ["group"], ties="exact")
    with pytest.raises(ValueError, match="The 'ph_transform' argument of fit_cox"):
        sv.fit_cox(WE26, ["group"], ph_transform="ranks")


def test_invalid_times_or_events_raise_sirt_data_error_with_rows():
    bad = WE25A.assign(event=[2] + [1] * 19)
    with pytest.raises(SirtDataError, match="event in") as err:
        sv.compute_km_curve(bad)
    assert len(err.value.rows) == 1
    with pytest.raises(SirtDataError, match="no events"):
        sv.fit_cox(WE26.assign(event=0), ["group"])


@pytest.mark.parametrize("column", ["bor", "is_responder"])
def test_naive_survival_by_response_from_origin_is_refused(column):
    df = WE26.assign(**{column: WE26["group"]})
    with pytest.raises(SirtDataError, match="guarantee-time"):
        sv.summarise_km(df, by=column)
    with pytest.raises(SirtDataError, match="derive_landmark"):
        sv.test_logrank(df, group_col=column)
    with pytest.raises(SirtDataError, match="R5.6.1"):
        sv.fit_cox(df, [column])
    with pytest.warns(SirtStatsWarning, match="guarantee-time"):
        _ = sv.test_logrank(df, group_col=column, check_type="warning")


def test_inputs_not_modified():
    df = WE26.copy()
    _quiet(sv.summarise_km, df, by="group")
    sv.compute_km_curve(df, by="group")
    sv.test_logrank(df, group_col="group", pairwise=True)
    _quiet(sv.fit_cox, df, ["group"])
    _quiet(sv.compute_rmst, df, tau=10, by="group")
    pd.testing.assert_frame_equal(df, WE26)


def test_pairwise_logrank_holm():
    df = pd.concat([WE26, WE25B.assign(group=2, time_months=WE25B["time_months"] * 3)],
                   ignore_index=True)
    res = sv.test_logrank(df, group_col="group", pairwise=True)
    pairs = res.table.iloc[1:]
    assert pairs["comparison"].tolist() == ["0 vs 1", "0 vs 2", "1 vs 2"]
    p = pairs["p"].to_numpy()
    order = np.argsort(p)
    holm = np.maximum.accumulate(np.minimum(1, (3 - np.arange(3)) * p[order]))
    assert pairs["p_holm"].to_numpy()[order] == pytest.approx(holm)


def test_no_events_logrank_p_is_nan_with_warning():
    with pytest.warns(SirtStatsWarning, match="no events"):
        res = sv.test_logrank(WE26.assign(event=0), group_col="group")
    assert np.isnan(res.table.loc[0, "p"])


def test_cox_categorical_as_list_uses_first_level_and_missing_group_warns():
    df = WE26.assign(grade=np.where(WE26["group"] == 1, 2, 1))
    res = _quiet(sv.fit_cox, df, ["grade"], categorical=["grade"], ph_transform=None)
    assert res.hr_table.loc[0, "term"] == "grade[2]"
    assert res.hr_table.loc[0, "coef"] == pytest.approx(0.72142, abs=5e-6)
    with pytest.warns(SirtStatsWarning, match="1 rows with a missing grade"):
        sv.compute_km_curve(df.assign(grade=[np.nan] + [1] * 19), by="grade")


def test_zero_entry_column_equals_no_entry_and_metrics_dict():
    a = sv.compute_km_curve(WE25A)
    b = sv.compute_km_curve(WE25A.assign(entry_months=0.0), entry_col="entry_months")
    pd.testing.assert_frame_equal(a, b)
    km = _quiet(sv.summarise_km, WE26.assign(endpoint="OS"), by="endpoint", landmarks=(12,))
    m = sv.compute_km_metrics(km, landmarks=(12,))
    assert set(m) == {"OS"}
    assert m["OS"]["n"] == 20
    assert m["OS"]["n_events"] == 12
    assert m["OS"]["surv_12"] == km.loc[0, "surv_12"]


def test_cox_drops_constant_columns_and_warns_on_monotone_likelihood():
    df = WE26.assign(site="liver", rare=0)
    df.loc[df.index[[9, 19]], "rare"] = 1  # two censored patients only: no event when rare=1
    with pytest.warns(SirtStatsWarning, match=r"\['site'\] have a single level") as rec:
        res = sv.fit_cox(df, ["group", "site", "rare"], categorical=["site"], ph_transform=None)
    assert any("not estimable" in str(w.message) for w in rec)
    assert res.hr_table["term"].tolist() == ["group", "rare"]
    with pytest.raises(SirtDataError, match="every model column is constant"):
        sv.fit_cox(df, ["site"], categorical=["site"])


def test_fit_cox_leaves_out_a_single_patient_category_with_monotone_likelihood():
    """One patient in category B dies first: beta_B runs to infinity (R: 'beta may be
    infinite'); the fit is redone without it, B is reported as not estimable, ecog kept."""
    rng = np.random.default_rng(3)
    n = 40
    df = pd.DataFrame({"time_months": np.round(rng.exponential(10, n), 2) + 0.5,
                       "event": rng.integers(0, 2, n), "ecog": rng.integers(0, 3, n),
                       "site": ["A"] * n})
    first = df["time_months"].idxmin()
    df.loc[first, ["site", "event"]] = ["B", 1]
    with pytest.warns(SirtStatsWarning, match=r"\['site\[B\]'\] have fewer than 3 patients"):
        res = sv.fit_cox(df, ["ecog", "site"], categorical=["site"])
    table = res.hr_table.set_index("term")
    assert list(table.index) == ["ecog", "site[B]"]
    assert np.isnan(table.loc["site[B]", "hr"])
    without_b = sv.fit_cox(df.drop(index=first), ["ecog"])
    assert res.n == n  # patient B is analysed, within the reference category
    assert table.loc["ecog", "hr"] != pytest.approx(float(without_b.hr_table["hr"].iloc[0]))


def test_fit_cox_univariable_skips_a_single_level_covariate_with_a_warning():
    df = pd.DataFrame({"time_months": [1.0, 2, 3, 4, 5, 6, 7, 8],
                       "event": [1, 1, 0, 1, 1, 0, 1, 1],
                       "x": [3, 1, 2, 0, 2, 1, 0, 1], "tumour": ["HCC"] * 8})
    with pytest.warns(SirtStatsWarning, match="no model for 'tumour'"):
        out = sv.fit_cox_univariable(df, ["x", "tumour"], categorical=["tumour"])
    assert out["variable"].tolist() == ["x"]
    with pytest.warns(SirtStatsWarning, match="no model for 'tumour'"):
        empty = sv.fit_cox_univariable(df, ["tumour"], categorical=["tumour"])
    assert empty.empty
    assert "hr" in empty.columns


def test_logrank_with_a_single_group_raises_or_warns():
    df = pd.DataFrame({"time_months": [1.0, 2, 3], "event": [1, 0, 1], "grade": [1, 1, 1]})
    with pytest.raises(SirtDataError, match="fewer than two groups"):
        sv.test_logrank(df, group_col="grade")
    with pytest.warns(SirtStatsWarning, match="fewer than two groups"):
        res = sv.test_logrank(df, group_col="grade", check_type="warning")
    assert np.isnan(res.table["p"].iloc[0])


# ------------------------------------------------------------------------------------------
# infinite coefficients: found from the data and by R's toler.inf check, not from the solver
# ------------------------------------------------------------------------------------------
# six patients, deaths at 1, 2, 4, 6, censored at 3 and 5: risk sets {1..6}, {2..6}, {4,5,6}, {6}
SIX = pd.DataFrame({"time_months": [1.0, 2, 3, 4, 5, 6], "event": [1, 1, 0, 1, 0, 1]})


@pytest.mark.parametrize(("x", "infinite"), [
    ([1, 0, 0, 0, 0, 0], True),   # dies first, alone in its category: beta -> +inf
    ([0, 0, 1, 0, 1, 0], True),   # no events in the category: beta -> -inf
    ([0, 0, 1, 0, 0, 1], True),   # its only death (t=6) when nobody outside is at risk: -inf
    ([1, 0, 1, 1, 0, 0], False),  # t=1: a death with x=1, t=2: a death with x=0, both mixed
    ([0, 1, 0, 0, 1, 1], False),  # t=1: x=0 dies, t=2: x=1 dies, both risk sets mixed
])
def test_monotone_likelihood_is_found_from_the_data(x, infinite):
    from sirtstats.survival.cox import _monotone_columns

    X = np.column_stack([x, [0, 1, 0, 1, 1, 0]])  # 2nd column: deaths 2 (x=1), 1 (x=0)
    got = _monotone_columns(X, SIX["time_months"].to_numpy(), SIX["event"].to_numpy())
    assert got == ([0] if infinite else [])


def test_monotone_likelihood_is_checked_within_strata():
    from sirtstats.survival.cox import _monotone_columns

    x = np.array([[1.0], [0], [0], [1], [0], [0]])
    t, e = SIX["time_months"].to_numpy(), SIX["event"].to_numpy()
    assert _monotone_columns(x, t, e) == []  # t=1: x=1 dies; t=2: x=0 dies, x=1 (t=4) at risk
    # strata {1,2,3} and {4,5,6}: in each, the x=1 patient dies first -> +inf
    assert _monotone_columns(x, t, e, strata=np.array([0, 0, 0, 1, 1, 1])) == [0]


def test_r_toler_inf_check_fires_far_out_on_a_monotone_likelihood_only():
    """R coxph.fit: |I^-1 U| > eps and > sqrt(eps)|beta| after convergence. The check is run
    at several betas a solver could stop at: it fires for the infinite coefficient wherever
    the solver stopped, and never at (or near) a finite maximum (WE26: beta = 0.72142, R)."""
    from sirtstats.survival.cox import _infinite_by_score

    t, e = SIX["time_months"].to_numpy(), SIX["event"].to_numpy().astype(float)
    dies_first = np.array([[1.0], [0], [0], [0], [0], [0]])
    for beta in (8.0, 15.0, 30.0):
        assert _infinite_by_score(dies_first, np.array([beta]), t, e) == [0]
    ordered = np.array([[6.0], [5], [4], [3], [2], [1]])  # continuous: the larger dies first
    assert _infinite_by_score(ordered, np.array([20.0]), t, e) == [0]
    x = WE26[["group"]].to_numpy(dtype=float)
    tt, ee = WE26["time_months"].to_numpy(float), WE26["event"].to_numpy(float)
    for beta in (0.72142, 0.72142 + 1e-4, 0.72142 - 1e-3):
        assert _infinite_by_score(x, np.array([beta]), tt, ee) == []
        assert _infinite_by_score(x, np.array([beta]), tt, ee, ties="breslow") == []


def test_fit_cox_leaves_out_an_infinite_column_before_the_solver_sees_it():
    """The left-out column never reaches lifelines: no lifelines convergence warning or error
    whatever the machine's floating point."""
    from lifelines.exceptions import ConvergenceWarning

    df = WE26.assign(site=["B"] + ["A"] * 19)  # patient 0 (B) dies at 2, the first death
    df.loc[df["time_months"] < 2, "site"] = "A"
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        warnings.simplefilter("error", ConvergenceWarning)
        res = sv.fit_cox(df, ["group", "site"], categorical=["site"], ph_transform=None)
    texts = [str(w.message) for w in rec if issubclass(w.category, SirtStatsWarning)]
    assert any("['site[B]'] have fewer than 3 patients on one side" in m
               and "not estimable" in m for m in texts)
    table = res.hr_table.set_index("term")
    assert np.isnan(table.loc["site[B]", "hr"])
    assert np.isfinite(table.loc["group", "hr"])


def test_fit_cox_leaves_out_a_larger_category_without_events():
    df = WE26.assign(site="A")
    df.loc[[2, 5, 7, 9], "site"] = "C"  # four censored patients, no events in C
    with pytest.warns(SirtStatsWarning, match=r"\['site\[C\]'\] separate the events and were "
                                              r"left out \(not estimable"):
        res = sv.fit_cox(df, ["group", "site"], categorical=["site"], ph_transform=None)
    assert np.isnan(res.hr_table.set_index("term").loc["site[C]", "coef"])


def test_fit_cox_with_only_an_infinite_column_cannot_be_fitted():
    df = SIX.assign(x=[1, 0, 0, 0, 0, 0])
    with pytest.raises(SirtDataError, match="every model column has an infinite coefficient"):
        _quiet(sv.fit_cox, df, ["x"])


def test_logrank_df_leaves_out_a_group_with_no_expected_events():
    """Group C is censored (0.5) before the first event, so E_C = 0 and R survdiff reports
    df = sum(E > 0) - 1 = 1. A vs B by hand: t=1 (n 4, A dies) E_A 1/2, V 1/4; t=2 (n 3, B)
    E_A 1/3, V 2/9; t=3 (n 2, A) E_A 1/2, V 1/4. O_A - E_A = 2/3, V = 13/18, chi2 = 8/13."""
    df = pd.DataFrame({"time_months": [1.0, 3, 2, 4, 0.5, 0.5], "event": [1, 1, 1, 0, 0, 0],
                       "arm": ["A", "A", "B", "B", "C", "C"]})
    row = sv.test_logrank(df, group_col="arm").table.iloc[0]
    assert row["chisq"] == pytest.approx(8 / 13, rel=1e-12)
    assert row["df"] == 1
    assert row["p"] == pytest.approx(0.432768, abs=5e-7)  # 2 (1 - Phi(sqrt(8/13)))
    exp = sv.test_logrank(df, group_col="arm").groups.set_index("group")["expected"]
    assert exp["C"] == 0
    strat = sv.test_logrank(df.assign(site="x"), group_col="arm", strata="site").table.iloc[0]
    assert (strat["df"], strat["chisq"]) == (1, pytest.approx(8 / 13, rel=1e-12))


def test_landmark_after_last_time_with_extend_carries_the_last_value():
    """R summary(fit, times = 16, extend = TRUE): WE25B's last time is 15 (censored), S = 3/14
    (0.2143) carried with its CI and 0 at risk; the default stays NaN."""
    tab = _quiet(sv.summarise_km, WE25B, landmarks=(12, 16, 20), extend=True)
    for lab in ("12", "16", "20"):
        assert tab.loc[0, f"surv_{lab}"] == pytest.approx(3 / 14, rel=1e-12)
        assert tab.loc[0, f"surv_{lab}_lower"] == pytest.approx(0.0129166, abs=5e-7)  # R
        assert tab.loc[0, f"surv_{lab}_upper"] == pytest.approx(0.5794907, abs=5e-7)  # R
    assert tab.loc[0, ["n_risk_12", "n_risk_16", "n_risk_20"]].tolist() == [2, 0, 0]
    default = _quiet(sv.summarise_km, WE25B, landmarks=(16,))
    assert np.isnan(default.loc[0, "surv_16"])


def test_landmark_after_a_curve_that_reached_zero_is_zero_with_extend():
    df = pd.DataFrame({"time_months": [1.0, 2, 3, 4], "event": [1, 1, 0, 1]})  # S(4) = 0
    tab = _quiet(sv.summarise_km, df, landmarks=(2, 6), extend=True)
    assert tab.loc[0, "surv_2"] == pytest.approx(0.5, rel=1e-12)
    assert tab.loc[0, "surv_6"] == 0
    assert tab.loc[0, "n_risk_6"] == 0
    assert np.isnan(tab.loc[0, "surv_6_lower"])  # R: NA (log-log band undefined at S = 0)


def test_compute_concordance_counts_and_jackknife_se_by_hand():
    """Pairs (event first): (1,2) C, (1,3) C, (1,4) C, (2,3) D, (2,4) C: C = 4, D = 1, N = 5,
    Somers' d = 3/5. dfbeta_i = (C_i - D_i)/N - d (C_i + D_i + T_i)/N: 0.24, -0.16, -0.24,
    0.16; var = sum(dfbeta^2)/4 = 0.0416 (R concordance(..., reverse = TRUE): se 0.2039608)."""
    res = sv.compute_concordance([1, 2, 3, 4], [1, 1, 0, 1], [3, 1, 2, 0])
    assert (res.concordant, res.discordant, res.tied_risk, res.tied_time, res.tied_both) == (
        4, 1, 0, 0, 0)
    assert res.concordance == pytest.approx(0.8, rel=1e-12)
    assert res.se == pytest.approx(np.sqrt(0.0416), rel=1e-12)
    # ties: two events at t=2 (equal scores: tied_both), a censored time equal to an event
    # time counts as longer (comparable), equal scores in a comparable pair: tied_risk
    tie = sv.compute_concordance([1, 2, 2, 2, 3], [1, 1, 1, 0, 1], [2, 1, 1, 1, 0])
    assert (tie.concordant, tie.discordant, tie.tied_risk, tie.tied_time, tie.tied_both) == (
        6, 0, 2, 0, 1)  # a: 4 C; b, c: C with 3, tied risk with the censored 2
    strat = sv.compute_concordance([1, 2, 3, 4], [1, 1, 0, 1], [3, 1, 2, 0],
                                   strata=["a", "a", "b", "b"])
    assert (strat.concordant, strat.discordant) == (1, 0)  # only (1,2) and (3,4): 3 censored
    assert sv.fit_cox(WE26, ["group"], ph_transform=None).concordance_detail.concordant == 48


def test_compute_concordance_rejects_missing_and_unequal_inputs():
    with pytest.raises(SirtDataError, match="same length"):
        sv.compute_concordance([1, 2], [1, 0, 1], [0, 1])
    with pytest.raises(SirtDataError, match="1 rows with a missing"):
        sv.compute_concordance([1, np.nan], [1, 0], [0, 1])
