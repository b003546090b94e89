"""R parity of sirtstats.survival: every number compared with R survival 3.5-3 / cmprsk 2.2-11.

Fixtures: tests/golden/survival/ (make_reference.R wrote data/*.csv and reference/*.csv; see
PROVENANCE.md). Tolerance: |R − py| ≤ 1e-6 · max(|R|, |py|) or < 1e-12 absolute (the Cox fits
stop on R's own eps = 1e-9 criterion; non-iterative statistics agree to ~1e-13). NA in R must be
NaN here and vice versa, except where a test says otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _survival_golden import assert_close, load, rq, rv

from sirtstats import survival as sv
from sirtstats.exceptions import SirtStatsWarning


def _grp(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# ------------------------------------------------------------------------------------------
# Kaplan-Meier
# ------------------------------------------------------------------------------------------
# (reference dataset, data file, group column, landmark times, taus, entry column)
KM_CASES = [
    ("we25a", "we25a", None, [6, 12, 24, 40], [20, 39], None),
    ("we25b", "we25b", None, [5, 10], None, None),
    ("we25c", "we25c", None, None, None, None),
    ("we26", "we26", "group", [6, 12], [12, 20], None),
    ("lung", "lung", None, [180, 365, 730], [365, 730, 965], None),
    ("lung_by_sex", "lung", "sex", [180, 365, 730], [365, 730], None),
    ("veteran_by_trt", "veteran", "trt", [30, 90, 180], [180, 365], None),
    ("synth_ties", "synth_ties", "group", [6, 12, 24], [12, 24], None),
    ("entry", "entry", None, [6, 12, 24], None, "entry"),
    ("entry_by_group", "entry", "group", None, None, "entry"),
    ("edge_all_censored", "edge_all_censored", None, [2, 4], None, None),
    ("edge_not_reached", "edge_not_reached", None, [2, 4], None, None),
    ("edge_single_event", "edge_single_event", None, [2, 4], None, None),
    ("edge_half_plateau", "edge_half_plateau", None, [2, 4], None, None),
    ("edge_last_event", "edge_last_event", None, [2, 4], None, None),
    ("edge_fp_ties", "edge_fp_ties", None, [2, 4], None, None),
    ("edge_tied_event_censor", "edge_tied_event_censor", "group", None, None, None),
]
KM_IDS = [c[0] for c in KM_CASES]


def _km_kwargs(case):
    _name, _file, group, _times, _taus, entry = case
    return {"time_col": "time", "event_col": "status", "by": group, "entry_col": entry}


@pytest.mark.parametrize("case", KM_CASES, ids=KM_IDS)
@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_km_curve_matches_survfit(case, conf_type):
    name, file, group = case[0], case[1], case[2]
    curve = sv.compute_km_curve(load(file), conf_type=conf_type, **_km_kwargs(case))
    curve["group"] = curve[group].map(_grp) if group else ""
    for ours, theirs in [("n_risk", "km.n.risk"), ("n_event", "km.n.event"),
                         ("n_censor", "km.n.censor"), ("surv", "km.surv"),
                         ("std_err_log", "km.std.err"), ("lower", f"km.lower.{conf_type}"),
                         ("upper", f"km.upper.{conf_type}")]:
        r = rq(name, theirs)
        merged = r.merge(curve, left_on=["group", "time"], right_on=["group", "time"],
                         how="left", validate="one_to_one")
        assert len(merged) == len(curve), f"{name}: number of curve times differs"
        py = merged[ours].to_numpy(dtype=float)
        if ours == "std_err_log":  # R: Inf/NaN after a last event that takes S to 0
            py = np.where(merged["surv"] == 0, np.nan, py)
            rvals = np.where(merged["surv"] == 0, np.nan, merged["value"])
            assert_close(py, rvals, f"{name} {ours}")
        else:
            assert_close(py, merged["value"], f"{name} {ours}")


@pytest.mark.parametrize("case", KM_CASES, ids=KM_IDS)
@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_median_and_ci_match_quantile_survfit(case, conf_type):
    name, file, group, times = case[0], case[1], case[2], case[3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        tab = sv.summarise_km(load(file), conf_type=conf_type, landmarks=times or (),
                              **_km_kwargs(case))
    tab["group"] = tab[group].map(_grp) if group else ""
    for ours, theirs in [("median", "median"), ("median_lower", "median.lower"),
                         ("median_upper", "median.upper")]:
        r = rq(name, f"{theirs}.{conf_type}").merge(tab, on="group", validate="one_to_one")
        assert_close(r[ours], r["value"], f"{name} {ours}")
    if times:
        for t in times:
            lab = f"{t:g}"
            for ours, theirs in [(f"surv_{lab}", "at.surv"), (f"n_risk_{lab}", "at.n.risk"),
                                 (f"surv_{lab}_lower", f"at.lower.{conf_type}"),
                                 (f"surv_{lab}_upper", f"at.upper.{conf_type}")]:
                r = rq(name, theirs, allow_empty=True)  # R drops times after the last one
                r = r.loc[r["time"] == t].merge(tab, on="group", how="right")
                py = r[ours].to_numpy(dtype=float)
                expected = r["value"].to_numpy(dtype=float)
                if theirs == "at.n.risk":  # R drops rows after the last time; we give 0
                    expected = np.where(np.isnan(expected), 0, expected)
                assert_close(py, expected, f"{name} {ours}")


@pytest.mark.parametrize("case", [c for c in KM_CASES if c[3]], ids=[c[0] for c in KM_CASES
                                                                      if c[3]])
@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_landmarks_with_extend_match_summary_survfit_extend(case, conf_type):
    """summarise_km(extend=True) = R summary(fit, times=, extend=TRUE), times after a curve's
    last time included (the last value, its CI, 0 at risk)."""
    name, file, group, times = case[0], case[1], case[2], case[3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        tab = sv.summarise_km(load(file), conf_type=conf_type, landmarks=times, extend=True,
                              **_km_kwargs(case))
    tab["group"] = tab[group].map(_grp) if group else ""
    for t in times:
        lab = f"{t:g}"
        for ours, theirs in [(f"surv_{lab}", "ext.surv"), (f"n_risk_{lab}", "ext.n.risk"),
                             (f"surv_{lab}_lower", f"ext.lower.{conf_type}"),
                             (f"surv_{lab}_upper", f"ext.upper.{conf_type}")]:
            r = rq(name, theirs)
            r = r.loc[r["time"] == t].merge(tab, on="group", validate="one_to_one")
            assert len(r) == len(tab), f"{name} {ours}: a group without an R row"
            assert_close(r[ours], r["value"], f"{name} {ours} extend")


@pytest.mark.parametrize("case", [c for c in KM_CASES if c[5] is None],
                         ids=[c[0] for c in KM_CASES if c[5] is None])
@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_reverse_km_median_followup_matches_r(case, conf_type):
    name, file, group = case[0], case[1], case[2]
    fu = sv.compute_median_followup(load(file), conf_type=conf_type, **{
        k: v for k, v in _km_kwargs(case).items() if k != "entry_col"})
    fu["group"] = fu[group].map(_grp) if group else ""
    for ours, theirs in [("median_followup", "fu.median"), ("median_followup_lower", "fu.lower"),
                         ("median_followup_upper", "fu.upper")]:
        r = rq(name, f"{theirs}.{conf_type}").merge(fu, on="group", validate="one_to_one")
        assert_close(r[ours], r["value"], f"{name} {ours}")


@pytest.mark.parametrize("case", [c for c in KM_CASES if c[4]], ids=[c[0] for c in KM_CASES
                                                                      if c[4]])
def test_rmst_and_se_match_print_survfit_rmean(case):
    name, file, group, taus = case[0], case[1], case[2], case[4]
    for tau in taus:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SirtStatsWarning)
            tab = sv.compute_rmst(load(file), tau=tau, time_col="time", event_col="status",
                                  by=group)
        tab["group"] = tab[group].map(_grp) if group else ""
        for ours, theirs in [("rmst", "rmst"), ("se", "rmst.se")]:
            r = rq(name, theirs)
            r = r.loc[r["time"] == tau].merge(tab, on="group", validate="one_to_one")
            assert_close(r[ours], r["value"], f"{name} tau={tau} {ours}")


def test_rmst_point_estimate_equals_lifelines_but_not_its_variance():
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    df = load("lung")
    tab = sv.compute_rmst(df, tau=730, time_col="time", event_col="status")
    kmf = KaplanMeierFitter().fit(df["time"], df["status"])
    mean, var = restricted_mean_survival_time(kmf, t=730, return_variance=True)
    assert_close([tab["rmst"].iloc[0]], [mean], "rmst vs lifelines")
    # lifelines' "variance" is Var(min(T, tau)), not the estimator's: several times larger
    assert np.sqrt(var) > 5 * tab["se"].iloc[0]


# ------------------------------------------------------------------------------------------
# log-rank
# ------------------------------------------------------------------------------------------
LOGRANK_CASES = [("we26", "we26", "group", None), ("lung", "lung", "sex", "ph_ecog"),
                 ("lung_ecog", "lung", "ph_ecog", None),
                 ("veteran", "veteran", "trt", "prior"),
                 ("veteran_cell", "veteran", "celltype", None),
                 ("synth_ties", "synth_ties", "group", "strat"),
                 ("edge_tied_event_censor", "edge_tied_event_censor", "group", None),
                 ("edge_no_expected", "edge_no_expected", "group", None)]  # df = 1, not 2


@pytest.mark.parametrize("case", LOGRANK_CASES, ids=[c[0] for c in LOGRANK_CASES])
def test_logrank_matches_survdiff(case):
    name, file, group, strata = case
    df = load(file)
    res = sv.test_logrank(df, group_col=group, time_col="time", event_col="status",
                          pairwise=True)
    overall = res.table.iloc[0]
    assert_close([overall["chisq"], overall["df"], overall["p"]],
                 [rv(name, "logrank.chisq"), rv(name, "logrank.df"), rv(name, "logrank.p")],
                 f"{name} log-rank")
    g = res.groups.assign(group=res.groups["group"].map(_grp))
    for ours, theirs in [("observed", "logrank.obs"), ("expected", "logrank.exp")]:
        r = rq(name, theirs).merge(g, on="group", validate="one_to_one")
        assert_close(r[ours], r["value"], f"{name} {ours}")
    if strata:
        st = sv.test_logrank(df, group_col=group, time_col="time", event_col="status",
                             strata=strata).table.iloc[0]
        assert_close([st["chisq"], st["p"]], [rv(name, "logrank.strat.chisq"),
                                              rv(name, "logrank.strat.p")], f"{name} strat")
        assert st["method"] == "stratified log-rank"
    pairs = res.table.iloc[1:]
    if len(pairs):
        r = rq(name, "logrank.pair.chisq")
        r["comparison"] = r["group"].str.replace("|", " vs ", regex=False)
        m = r.merge(pairs, on="comparison", validate="one_to_one")
        assert len(m) == len(pairs)
        assert_close(m["chisq"], m["value"], f"{name} pairwise")


def test_stratified_logrank_numpy_equals_lifelines_with_one_stratum():
    df = load("synth_ties").assign(one="s")
    a = sv.test_logrank(df, group_col="group", time_col="time", event_col="status")
    b = sv.test_logrank(df, group_col="group", time_col="time", event_col="status",
                        strata="one")
    assert_close(a.table["chisq"], b.table["chisq"], "numpy vs lifelines")


# ------------------------------------------------------------------------------------------
# Cox
# ------------------------------------------------------------------------------------------
COX_CASES = {
    "we26": ("we26", ["group"], None, {}),
    "lung": ("lung", ["age", "sex", "ph_ecog"], None, {"sex": "male"}),
    "veteran": ("veteran", ["trt", "celltype", "karno", "diagtime", "age", "prior"], None,
                {"celltype": "squamous"}),
    "synth_ties": ("synth_ties", ["group", "x1", "x2"], None, {}),
    "synth_cr_noties": ("synth_cr_noties", ["group", "x1"], None, {}),
}
COX_STRAT = {"lung": ("lung", ["age", "sex"], "ph_ecog", {"sex": "male"}),
             "synth_ties": ("synth_ties", ["group", "x1", "x2"], "strat", {})}


def _cox_data(file):
    df = load(file)
    if file == "synth_cr_noties":
        df = df.assign(status=(df["cause"] > 0).astype(int))
    return df


def _r_term(row):
    return row["variable"] + row["level"]


def _fit(case, label, ties="efron"):
    file, covs, strata, cat = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        return sv.fit_cox(_cox_data(file), covs, time_col="time", event_col="status",
                          strata=strata, categorical=cat, ties=ties,
                          ph_transform="km" if label == "cox" else None)


@pytest.mark.parametrize("name", list(COX_CASES))
def test_cox_efron_matches_coxph(name):
    res = _fit(COX_CASES[name], "cox")
    tab = res.hr_table.assign(group=lambda d: d.apply(_r_term, axis=1))
    for ours, theirs in [("coef", "coef"), ("se", "se"), ("z", "z"), ("p", "p"), ("hr", "hr"),
                         ("hr_lower", "hr.lower"), ("hr_upper", "hr.upper")]:
        r = rq(name, f"cox.{theirs}").merge(tab, on="group", validate="one_to_one")
        assert len(r) == len(tab)
        assert_close(r[ours], r["value"], f"{name} {ours}")
    tests = res.tests.set_index("test")["statistic"]
    assert_close([tests["wald"], tests["likelihood_ratio"], tests["score"]],
                 [rv(name, "cox.wald"), rv(name, "cox.lr"), rv(name, "cox.score")],
                 f"{name} global tests")
    assert_close([res.concordance, res.n, res.n_events],
                 [rv(name, "cox.concordance"), rv(name, "cox.n"), rv(name, "cox.nevent")],
                 f"{name} concordance/n")
    _check_concordance_detail(res, name, "cox")


_R_COUNTS = {"concordant": "concordant", "discordant": "discordant", "tied_risk": "tied.x",
             "tied_time": "tied.y", "tied_both": "tied.xy"}


def _check_concordance_detail(res, name, label):
    """concordance(fit): SE (sqrt of the infinitesimal-jackknife var) and the pair counts."""
    detail = res.concordance_detail
    assert_close([detail.concordance, detail.se, res.concordance_se],
                 [rv(name, f"{label}.concordance"), rv(name, f"{label}.concordance.se"),
                  rv(name, f"{label}.concordance.se")], f"{name} {label} concordance SE")
    for ours, theirs in _R_COUNTS.items():
        assert getattr(detail, ours) == rv(name, f"{label}.concordance.count", theirs), ours


@pytest.mark.parametrize("name", list(COX_CASES))
@pytest.mark.parametrize("transform", ["km", "identity"])
def test_ph_test_matches_cox_zph(name, transform):
    file, covs, strata, cat = COX_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        res = sv.fit_cox(_cox_data(file), covs, time_col="time", event_col="status",
                         categorical=cat, ph_transform=transform)
    ph = res.ph_test.rename(columns={"term": "group"})
    for col in ("chisq", "df", "p"):
        r = rq(name, f"cox.zph.{transform}.{col}").merge(ph, on="group", validate="one_to_one")
        assert len(r) == len(ph)
        assert_close(r[col], r["value"], f"{name} zph {transform} {col}")


@pytest.mark.parametrize("name", list(COX_CASES))
def test_cox_breslow_matches_coxph_breslow(name):
    res = _fit(COX_CASES[name], "cox", ties="breslow")
    tab = res.hr_table.assign(group=lambda d: d.apply(_r_term, axis=1))
    for ours, theirs in [("coef", "breslow.coef"), ("se", "breslow.se")]:
        r = rq(name, f"cox.{theirs}").merge(tab, on="group", validate="one_to_one")
        assert_close(r[ours], r["value"], f"{name} breslow {ours}")


@pytest.mark.parametrize("name", list(COX_STRAT))
def test_stratified_cox_matches_coxph_strata(name):
    res = _fit(COX_STRAT[name], "coxstrat")
    tab = res.hr_table.assign(group=lambda d: d.apply(_r_term, axis=1))
    for ours, theirs in [("coef", "coef"), ("se", "se"), ("p", "p")]:
        r = rq(name, f"coxstrat.{theirs}").merge(tab, on="group", validate="one_to_one")
        assert len(r) == len(tab)
        assert_close(r[ours], r["value"], f"{name} strat {ours}")
    tests = res.tests.set_index("test")["statistic"]
    assert_close([tests["wald"], tests["likelihood_ratio"], tests["score"]],
                 [rv(name, "coxstrat.wald"), rv(name, "coxstrat.lr"),
                  rv(name, "coxstrat.score")], f"{name} strat tests")
    assert_close([res.concordance], [rv(name, "coxstrat.concordance")], f"{name} strat C")
    _check_concordance_detail(res, name, "coxstrat")


@pytest.mark.parametrize("name", list(COX_STRAT))
def test_breslow_concordance_is_computed_within_strata(name):
    """The Breslow fit's C uses R's pooled within-stratum pairs; checked against the Efron
    path's lifelines concordance evaluated on the same linear predictor."""
    from sirtstats.survival.cox import _concordance

    res = _fit(COX_STRAT[name], "coxstrat")
    file, covs, strata, cat = COX_STRAT[name]
    df = _cox_data(file)
    lp = np.zeros(len(df))
    for _, row in res.hr_table.iterrows():
        col = (df[row["variable"]].astype(str) == row["level"]) if row["level"] else df[
            row["variable"]]
        lp += row["coef"] * col.to_numpy(dtype=float)
    c = _concordance(df["time"].to_numpy(float), lp, df["status"].to_numpy(float),
                     pd.factorize(df[strata], sort=True)[0])
    assert_close([c], [rv(name, "coxstrat.concordance")], f"{name} pooled C")


# ------------------------------------------------------------------------------------------
# infinite coefficients (monotone likelihood)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("column", ["first", "noevent", "lastonly", "mixed"])
def test_infinite_coefficient_flagged_where_coxph_warns(column):
    """R warns 'Loglik converged before variable 1; coefficient may be infinite' for exactly
    the columns the data check finds, and its toler.inf check agrees at R's own beta.
    Deliberate difference: R then reports that beta (22.0, -18.3, -20.5); fit_cox reports
    the column as not estimable (here the only column: SirtDataError)."""
    from sirtstats.exceptions import SirtDataError
    from sirtstats.survival.cox import _infinite_by_score, _monotone_columns

    df = load("edge_infinite")
    x = df[[column]].to_numpy(dtype=float)
    t, e = df["time"].to_numpy(dtype=float), df["status"].to_numpy(dtype=float)
    infinite = rv("edge_infinite", "cox.infinite", column) == 1
    assert (_monotone_columns(x, t, e) == [0]) is infinite
    beta_r = np.array([rv("edge_infinite", "cox.coef", column)])
    assert (_infinite_by_score(x, beta_r, t, e) == [0]) is infinite
    if infinite:
        with pytest.raises(SirtDataError, match="infinite coefficient"):
            _fit(("edge_infinite", [column], None, {}), "cox")
    else:
        res = _fit(("edge_infinite", [column], None, {}), "cox")
        assert_close(res.hr_table["coef"], [beta_r[0]], f"{column} coef")
