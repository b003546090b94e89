"""Tests for sirtstats.comparative (issue #16 items 1-5); expected values by hand or from R."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sirtstats.comparative import (
    balance_table,
    compare_estimates,
    compute_weights,
    evalue_hr,
    fit_propensity,
    kish_ess,
    match_nearest,
    smd,
    weighted_cox,
    weighted_km,
    weighted_km_median,
    weighted_rate_difference,
)

GOLD = Path(__file__).parent / "golden" / "comparative"

PS = np.array([0.2, 0.5, 0.8, 0.25, 0.5, 0.6])
T = np.array([1, 1, 1, 0, 0, 0])


def test_iptw_ate_unstabilised_by_hand():
    w = compute_weights(PS, T, estimand="ATE", stabilise=False)
    # treated 1/ps: 5, 2, 1.25; control 1/(1-ps): 4/3, 2, 2.5
    np.testing.assert_allclose(w, [5, 2, 1.25, 4 / 3, 2, 2.5])


def test_iptw_ate_stabilised_and_att_and_overlap_by_hand():
    # P(T=1) = 0.5: stabilised ATE halves every weight
    np.testing.assert_allclose(compute_weights(PS, T), [2.5, 1, 0.625, 2 / 3, 1, 1.25])
    # ATT: treated 1, control ps/(1-ps) = 1/3, 1, 1.5 (x (0.5/0.5) = same when stabilised)
    np.testing.assert_allclose(compute_weights(PS, T, estimand="ATT"), [1, 1, 1, 1 / 3, 1, 1.5])
    np.testing.assert_allclose(compute_weights(PS, T, estimand="overlap"),
                               [0.8, 0.5, 0.2, 0.25, 0.5, 0.6])


def test_trim_and_truncate():
    # trim at the 10th/90th percentiles of ps: 10th = 0.225, 90th = 0.7 -> rows 0 and 2 out
    w = compute_weights(PS, T, stabilise=False, trim=(10, 90))
    np.testing.assert_allclose(w, [0, 2, 0, 4 / 3, 2, 2.5])
    # truncate at the 0th/80th percentile of weights: sorted 1.25,4/3,2,2,2.5,5 -> 80th = 2.5
    w = compute_weights(PS, T, stabilise=False, truncate=(0, 80))
    np.testing.assert_allclose(w, [2.5, 2, 1.25, 4 / 3, 2, 2.5])


def test_kish_ess_by_hand():
    ess = kish_ess([5, 2, 1.25, 4 / 3, 2, 2.5], T)
    # treated (8.25)^2 / (25 + 4 + 1.5625) = 68.0625 / 30.5625
    assert ess[1] == pytest.approx(68.0625 / 30.5625)
    assert ess[0] == pytest.approx((35 / 6) ** 2 / (16 / 9 + 4 + 6.25))
    assert kish_ess([1, 1, 1, 1, 1, 1], T)[0] == pytest.approx(3)


def test_smd_by_hand():
    x = np.array([1.0, 2, 3, 2, 3, 4])
    # means 2 and 3, both variances 1 -> SMD = -1
    assert smd(x, T) == pytest.approx(-1.0)
    # weights (1,1,2 | 1,1,1): treated mean 9/4 -> (2.25 - 3) / 1
    assert smd(x, T, [1, 1, 2, 1, 1, 1]) == pytest.approx(-0.75)
    # binary: p1 = 2/3, p0 = 1/3: (1/3) / sqrt(2/9) = 0.7071
    b = np.array([1.0, 1, 0, 1, 0, 0])
    assert smd(b, T, binary=True) == pytest.approx((1 / 3) / np.sqrt(2 / 9))


def test_balance_table_levels_and_threshold():
    df = pd.DataFrame({"age": [1.0, 2, 3, 2, 3, 4], "site": list("aabbab")})
    out = balance_table(df, T, ["age", "site"], {"w": np.ones(6)})
    assert list(out["level"]) == ["", "a", "b"]
    assert out.loc[0, "smd_unadjusted"] == pytest.approx(-1.0)
    assert out.loc[1, "smd_w"] == pytest.approx((1 / 3) / np.sqrt(2 / 9))
    assert not out["balanced_w"].any()


def test_matching_caliper_excludes_one_treated():
    # logits: treated 0, 1, 5; controls 0.1, 1.05, 2.0. SD (ddof=1) of all six = 1.8445...
    x = np.array([0, 1, 5, 0.1, 1.05, 2.0])
    m = match_nearest(x, T, caliper_sd=0.2, seed=1)
    assert m.attrs["caliper"] == pytest.approx(0.2 * np.std(x, ddof=1))
    assert m.loc[2, "pair"] == -1
    assert m.loc[5, "pair"] == -1
    assert m.loc[0, "pair"] == m.loc[3, "pair"] >= 0
    assert m.loc[1, "pair"] == m.loc[4, "pair"] >= 0
    assert m["weight"].sum() == 4
    # deterministic for a seed
    pd.testing.assert_frame_equal(m, match_nearest(x, T, caliper_sd=0.2, seed=1))


def test_matching_without_replacement():
    # both treated nearest to control 0.0; the second visited gets control 0.3
    x = np.array([0.0, 0.05, 9, 0.0, 0.3, 9])
    m = match_nearest(x, np.array([1, 1, 1, 0, 0, 0]), caliper_sd=1.0, seed=0)
    assert sorted(m.loc[[3, 4, 5], "pair"]) == sorted(m.loc[[0, 1, 2], "pair"])


def test_propensity_missing_options():
    rng = np.random.default_rng(3)
    n = 200
    df = pd.DataFrame({"age": rng.normal(60, 10, n), "site": rng.choice(["a", "b"], n)})
    df["dev"] = np.where(rng.random(n) < 1 / (1 + np.exp(-(df["age"] - 60) / 10)), "G", "R")
    df.loc[:9, "age"] = np.nan
    cc = fit_propensity(df, "dev", ("R", "G"), ["age", "site"])
    assert cc.n_excluded == 10
    assert len(cc.frame) == 190
    ind = fit_propensity(df, "dev", ("R", "G"), ["age", "site"], missing="indicator")
    assert ind.n_excluded == 0
    assert "age_missing" in ind.model.params.index
    assert ((cc.frame["ps"] > 0) & (cc.frame["ps"] < 1)).all()
    np.testing.assert_allclose(cc.frame["logit_ps"], np.log(cc.frame["ps"] / (1 - cc.frame["ps"])))
    # age raises the score
    assert cc.model.params["age"] > 0


def test_weighted_km_matches_r():
    d = pd.read_csv(GOLD / "weighted_data.csv")
    ref = pd.read_csv(GOLD / "weighted_km_reference.csv")
    km = weighted_km(d["time"], d["event"], d["w"], d["x"])
    assert len(km) == len(ref)
    for c in ("group", "time", "n_risk", "n_event", "surv"):
        np.testing.assert_allclose(km[c], ref[c], atol=1e-6, rtol=0)
    med = pd.read_csv(GOLD / "weighted_km_median_reference.csv")
    np.testing.assert_allclose(weighted_km_median(km).to_numpy(), med["median"], atol=1e-6)


def test_weighted_cox_matches_r():
    d = pd.read_csv(GOLD / "weighted_data.csv")
    ref = pd.read_csv(GOLD / "weighted_cox_reference.csv").set_index("model")
    r = weighted_cox(d, "time", "event", "x", d["w"])
    assert r["coef"] == pytest.approx(ref.loc["robust", "coef"], abs=1e-6)
    assert r["se_robust"] == pytest.approx(ref.loc["robust", "se_robust"], abs=1e-6)
    rc = weighted_cox(d, "time", "event", "x", d["w"], cluster=d["pair"])
    assert rc["se_robust"] == pytest.approx(ref.loc["cluster_pair", "se_robust"], abs=1e-6)


def test_weighted_rate_difference_by_hand():
    y = np.array([1, 0, 1, 0, 0, 1])
    w = np.array([1, 1, 2, 1, 1, 1])
    out = weighted_rate_difference(y, T, w)
    assert out.loc["group 1", "estimate"] == pytest.approx(0.75)
    assert out.loc["group 0", "estimate"] == pytest.approx(1 / 3)
    assert out.loc["difference", "estimate"] == pytest.approx(0.75 - 1 / 3)
    # treated IF: w(y-p)/4 = .0625, -.1875, .125 -> var = (.00390625+.03515625+.015625)
    assert out.loc["group 1", "se"] == pytest.approx(np.sqrt(0.0546875))


def test_evalue_hand_values():
    e = evalue_hr(2.0, 1.5, 2.7)
    assert e["evalue_estimate"] == pytest.approx(2 + np.sqrt(2), abs=1e-12)   # 3.41
    assert e["evalue_ci"] == pytest.approx(1.5 + np.sqrt(1.5 * 0.5))
    assert evalue_hr(0.8, 0.6, 1.1)["evalue_ci"] == 1.0
    assert evalue_hr(0.5, 0.3, 0.8)["evalue_estimate"] == pytest.approx(2 + np.sqrt(2))
    # common outcome, HR 2: RR = (1-0.5^sqrt2)/(1-0.5^sqrt(1/2)) = 0.62484/0.38740 = 1.6129
    rr = (1 - 0.5 ** np.sqrt(2)) / (1 - 0.5 ** np.sqrt(0.5))
    assert evalue_hr(2.0, 1.5, 2.7, rare=False)["evalue_estimate"] == pytest.approx(
        rr + np.sqrt(rr * (rr - 1)))


def test_compare_estimates_table():
    tab = compare_estimates({"Unadjusted": {"hr": 2.0, "hr_lower": 1.5, "hr_upper": 2.7},
                             "IPTW": {"hr": 1.2, "hr_lower": 0.9, "hr_upper": 1.6}})
    assert list(tab["analysis"]) == ["Unadjusted", "IPTW"]
    assert tab.loc[1, "evalue_ci"] == 1.0


def test_estimates_table_matches_r_side_by_side():
    from sirtstats.comparative import estimates_table

    d = pd.read_csv(GOLD / "weighted_data.csv")
    ref = pd.read_csv(GOLD / "cox_estimates_reference.csv").set_index("analysis")
    cox = pd.read_csv(GOLD / "weighted_cox_reference.csv").set_index("model")
    tab = estimates_table(d, "time", "event", "x", ["w"], d["w"], weighted_label="IPTW")
    assert list(tab["analysis"]) == ["Unadjusted Cox", "Multivariable Cox", "IPTW"]
    for a in ref.index:
        row = tab.set_index("analysis").loc[a]
        assert row["hr"] == pytest.approx(ref.loc[a, "hr"], rel=1e-6)
        assert row["se"] == pytest.approx(ref.loc[a, "se"], abs=1e-6)
    w = tab.set_index("analysis").loc["IPTW"]
    assert w["hr"] == pytest.approx(np.exp(cox.loc["robust", "coef"]), rel=1e-6)
    hr = w["hr"]
    assert w["evalue_estimate"] == pytest.approx(hr + np.sqrt(hr * (hr - 1)))


def test_plots_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sirtstats.plotting.comparative import plot_love, plot_ps_overlap

    fig = plot_ps_overlap(PS, T)
    assert len(fig.axes[0].patches) == 40
    df = pd.DataFrame({"age": [1.0, 2, 3, 2, 3, 4], "site": list("aabbab")})
    fig2 = plot_love(balance_table(df, T, ["age", "site"], {"w": np.ones(6)}))
    assert len(fig2.axes[0].get_yticklabels()) == 3
    plt.close("all")
