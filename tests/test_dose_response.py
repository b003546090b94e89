"""Tests for sirtstats.dose_response on seeded simulated data with known truth.

The simulations state their generating dose-response curve (``logit P = slope * (dose - d50)``)
and the tests check that the estimates and CIs recover it; hand-computable small cases check
the ROC/Youden/threshold arithmetic (expected values from Mann-Whitney U and the Wilson formula
written out here, not from the code under test).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit

from sirtstats.dose_response import (
    DoseResponseFit,
    compute_dose_response_curve,
    compute_roc,
    compute_youden_threshold,
    derive_dose_group,
    derive_lesion_dose_response,
    derive_patient_dose_outcome,
    derive_toxicity_outcomes,
    fit_dose_response,
    summarise_response_by_threshold,
    summarise_survival_by_dose_group,
)
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

TRUE_D50 = 120.0
TRUE_SLOPE = 0.03


def simulate(n_patients=800, *, seed=1, slope=TRUE_SLOPE, d50=TRUE_D50, patient_sd=0.0,
             lesions=(1, 5), lesion_dose_sd=0.35):
    """Lesion frame with patient-clustered doses; optional patient random effect on the logit."""
    rng = np.random.default_rng(seed)
    n_les = rng.integers(lesions[0], lesions[1], size=n_patients)
    pid = np.repeat(np.arange(n_patients), n_les)
    patient_level = rng.normal(np.log(150), 0.35, size=n_patients)[pid]
    dose = np.exp(patient_level + rng.normal(0, lesion_dose_sd, size=len(pid)))
    u = rng.normal(0, patient_sd, size=n_patients)[pid]
    p = expit(slope * (dose - d50) + u)
    return pd.DataFrame({
        "patient_id": [f"P{i:04d}" for i in pid],
        "absorbed_dose_gy": dose,
        "is_responder": rng.random(len(pid)) < p,
    })


@pytest.fixture(scope="module")
def sim():
    return simulate()


# ------------------------------------------------------------------------ fit_dose_response


def test_gee_recovers_true_slope_and_d50_within_cis(sim):
    before = sim.copy()
    fit = fit_dose_response(sim, method="gee")
    pd.testing.assert_frame_equal(sim, before)
    assert fit.slope_ci[0] < TRUE_SLOPE < fit.slope_ci[1]
    assert fit.d50_ci[0] < TRUE_D50 < fit.d50_ci[1]
    assert fit.intercept_ci[0] < -TRUE_SLOPE * TRUE_D50 < fit.intercept_ci[1]
    assert fit.n_obs == len(sim)
    assert fit.n_clusters == sim["patient_id"].nunique()
    assert fit.n_excluded == 0
    assert fit.n_events == int(sim["is_responder"].sum())
    assert fit.d50_gy == pytest.approx(-fit.intercept / fit.slope_per_gy)
    # CIs are reasonably tight, not trivially wide
    assert fit.d50_ci[1] - fit.d50_ci[0] < 30


def test_cluster_bootstrap_recovers_truth_and_agrees_with_glm(sim):
    import statsmodels.api as sm

    fit = fit_dose_response(sim, method="cluster_bootstrap", n_bootstrap=300, seed=7)
    x = sm.add_constant(sim["absorbed_dose_gy"].to_numpy())
    glm = sm.GLM(sim["is_responder"].astype(float).to_numpy(), x,
                 family=sm.families.Binomial()).fit()
    assert fit.intercept == pytest.approx(glm.params[0], rel=1e-6)
    assert fit.slope_per_gy == pytest.approx(glm.params[1], rel=1e-6)
    assert fit.slope_ci[0] < TRUE_SLOPE < fit.slope_ci[1]
    assert fit.d50_ci[0] < TRUE_D50 < fit.d50_ci[1]
    assert len(fit.bootstrap) == 300
    assert fit.n_bootstrap_failed == 0
    # the bootstrap replicates are centred on the ML estimate and spread like the robust SE
    gee = fit_dose_response(sim, method="gee")
    boot_sd = fit.bootstrap["slope_per_gy"].std()
    assert fit.bootstrap["slope_per_gy"].mean() == pytest.approx(fit.slope_per_gy,
                                                                 abs=0.5 * boot_sd)
    assert boot_sd == pytest.approx(math.sqrt(gee.covariance[1, 1]), rel=0.25)


def test_bootstrap_is_reproducible_with_seed(sim):
    a = fit_dose_response(sim, method="cluster_bootstrap", n_bootstrap=50, seed=3)
    b = fit_dose_response(sim, method="cluster_bootstrap", n_bootstrap=50, seed=3)
    c = fit_dose_response(sim, method="cluster_bootstrap", n_bootstrap=50, seed=4)
    pd.testing.assert_frame_equal(a.bootstrap, b.bootstrap)
    assert a.d50_ci == b.d50_ci
    assert a.d50_ci != c.d50_ci


def test_cis_widen_for_patient_clustered_responses():
    # one dose per patient and a strong patient random effect: lesions of a patient respond
    # alike, so a naive logistic SE (independent lesions) understates the uncertainty by about
    # sqrt(1 + (m - 1) rho); GEE's robust SE and the cluster bootstrap must be wider.
    import statsmodels.api as sm

    df = simulate(400, seed=11, patient_sd=2.0, lesions=(3, 6), lesion_dose_sd=0.0)
    x = sm.add_constant(df["absorbed_dose_gy"].to_numpy())
    naive = sm.GLM(df["is_responder"].astype(float).to_numpy(), x,
                   family=sm.families.Binomial()).fit()
    naive_se = naive.bse[1]
    gee = fit_dose_response(df, method="gee")
    boot = fit_dose_response(df, method="cluster_bootstrap", n_bootstrap=200)
    assert math.sqrt(gee.covariance[1, 1]) > 1.2 * naive_se
    assert boot.bootstrap["slope_per_gy"].std() > 1.2 * naive_se


def test_to_frame_and_curve(sim):
    fit = fit_dose_response(sim)
    t = fit.to_frame()
    assert t["parameter"].tolist() == ["intercept", "slope_per_gy", "odds_ratio_per_100gy",
                                       "d50_gy"]
    orow = t.set_index("parameter").loc["odds_ratio_per_100gy"]
    assert orow["estimate"] == pytest.approx(math.exp(100 * fit.slope_per_gy))
    assert "DoseResponseFit" in fit._repr_html_()
    curve = compute_dose_response_curve(fit, doses=[0.0, fit.d50_gy, 400.0])
    assert list(curve.columns) == ["dose_gy", "probability", "ci_lower", "ci_upper"]
    assert curve.loc[1, "probability"] == pytest.approx(0.5)
    assert (curve["ci_lower"] <= curve["probability"]).all()
    assert (curve["probability"] <= curve["ci_upper"]).all()
    # the true curve lies inside the pointwise band at D50
    true_p = expit(TRUE_SLOPE * (curve["dose_gy"] - TRUE_D50))
    assert curve.loc[1, "ci_lower"] < true_p[1] < curve.loc[1, "ci_upper"]
    grid = compute_dose_response_curve(fit, n_points=11)
    assert grid["dose_gy"].iloc[0] == 0
    assert grid["dose_gy"].iloc[-1] == pytest.approx(sim["absorbed_dose_gy"].max())
    boot = fit_dose_response(sim, method="cluster_bootstrap", n_bootstrap=100)
    bc = compute_dose_response_curve(boot, doses=[TRUE_D50])
    assert bc.loc[0, "ci_lower"] < 0.5 < bc.loc[0, "ci_upper"]


def test_patient_level_without_clusters():
    rng = np.random.default_rng(5)
    dose = rng.uniform(0, 100, 3000)
    y = rng.random(3000) < expit(0.08 * (dose - 40))
    df = pd.DataFrame({"normal_liver_dose_gy": dose, "grade3_bilirubin": y})
    fit = fit_dose_response(df, dose_col="normal_liver_dose_gy",
                            response_col="grade3_bilirubin", cluster_col=None)
    assert fit.n_clusters == 3000
    assert fit.slope_ci[0] < 0.08 < fit.slope_ci[1]
    assert fit.d50_ci[0] < 40 < fit.d50_ci[1]


def test_missing_values_are_counted_not_dropped_silently(sim):
    df = sim.copy()
    df["is_responder"] = df["is_responder"].astype("boolean")
    df.loc[:9, "absorbed_dose_gy"] = np.nan
    df.loc[10:14, "is_responder"] = pd.NA
    fit = fit_dose_response(df)
    assert fit.n_excluded == 15
    assert fit.n_obs == len(df) - 15


def test_flat_dose_response_warns_and_reports_no_d50_ci():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"patient_id": np.arange(300).astype(str),
                       "absorbed_dose_gy": rng.uniform(50, 300, 300),
                       "is_responder": rng.random(300) < 0.4})
    with pytest.warns(SirtStatsWarning, match="includes 0; D50 is not identified"):
        fit = fit_dose_response(df)
    assert all(np.isnan(fit.d50_ci))


def test_small_data_warnings():
    df = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P3", "P3", "P4"],
                       "absorbed_dose_gy": [50.0, 300.0, 120.0, 80.0, 250.0, 200.0],
                       "is_responder": [False, True, True, False, True, False]})
    with pytest.warns(SirtStatsWarning) as record:
        fit_dose_response(df)
    messages = " ".join(str(w.message) for w in record)
    assert "only 3 " in messages
    assert "only 4 clusters" in messages


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "glmm"}, r"The 'method' argument of fit_dose_response must be one of "
                             r"\{'gee', 'cluster_bootstrap'\}. Got 'glmm' instead."),
        ({"n_bootstrap": 0}, r"The 'n_bootstrap' argument of fit_dose_response must be an int"),
        ({"alpha": 1.5}, r"The 'alpha' argument of fit_dose_response must be a float in"),
        ({"seed": -1}, r"The 'seed' argument"),
    ],
)
def test_invalid_arguments(sim, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_dose_response(sim, **kwargs)


def test_method_keyword_is_case_insensitive(sim):
    assert fit_dose_response(sim, method="GEE").method == "gee"


def test_data_errors(sim):
    with pytest.raises(SirtDataError, match=r"missing required column\(s\) \['dose_gy'\]"):
        fit_dose_response(sim, dose_col="dose_gy")
    bad = sim.copy()
    bad.loc[0, "absorbed_dose_gy"] = -5.0
    with pytest.raises(SirtDataError, match="1 values of 'absorbed_dose_gy' are negative"):
        fit_dose_response(bad)
    bad = sim.assign(is_responder=np.where(sim["is_responder"], "PR", "SD"))
    with pytest.raises(SirtDataError, match="not binary"):
        fit_dose_response(bad)
    one_class = sim.assign(is_responder=True)
    with pytest.raises(SirtDataError, match="needs both outcomes"):
        fit_dose_response(one_class)


# ------------------------------------------------------------------------------ ROC and AUC


def test_roc_auc_equals_mann_whitney_and_ci_covers_it(sim):
    roc = compute_roc(sim, n_bootstrap=300, seed=1)
    pos = sim.loc[sim["is_responder"], "absorbed_dose_gy"]
    neg = sim.loc[~sim["is_responder"], "absorbed_dose_gy"]
    u = stats.mannwhitneyu(pos, neg).statistic
    assert roc.auc == pytest.approx(u / (len(pos) * len(neg)), abs=1e-12)
    assert roc.auc_ci[0] < roc.auc < roc.auc_ci[1]
    assert list(roc.curve.columns) == ["fpr", "tpr", "threshold"]
    assert roc.curve["fpr"].iloc[0] == 0
    assert roc.curve["tpr"].iloc[-1] == 1
    assert roc.n_bootstrap_failed == 0
    assert roc.to_frame().loc[0, "auc"] == roc.auc


def test_roc_bootstrap_ci_matches_an_explicit_cluster_resampling(sim):
    # reference: resample patients with replacement, concatenate their lesions, sklearn AUC
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(99)
    rows = list(sim.groupby("patient_id").indices.values())
    y, dose = sim["is_responder"].to_numpy(), sim["absorbed_dose_gy"].to_numpy()
    aucs = []
    for _ in range(300):
        take = np.concatenate([rows[i] for i in rng.integers(0, len(rows), size=len(rows))])
        aucs.append(roc_auc_score(y[take], dose[take]))
    ref_low, ref_high = np.percentile(aucs, [2.5, 97.5])
    roc = compute_roc(sim, n_bootstrap=300, seed=5)
    assert roc.auc_ci[0] == pytest.approx(ref_low, abs=0.012)
    assert roc.auc_ci[1] == pytest.approx(ref_high, abs=0.012)


def test_roc_small_hand_example():
    df = pd.DataFrame({"patient_id": list("ABCDEFGH"),
                       "absorbed_dose_gy": [10.0, 20, 30, 40, 50, 60, 70, 80],
                       "is_responder": [0, 0, 1, 0, 1, 0, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        roc = compute_roc(df, n_bootstrap=20)
    # pairs (pos > neg): 30>{10,20}; 50>{10,20,40}; 70,80>all 4 -> 2+3+4+4 = 13 of 16
    assert roc.auc == pytest.approx(13 / 16)


# ---------------------------------------------------------------------------------- Youden


def test_youden_small_hand_example():
    df = pd.DataFrame({"patient_id": list("ABCDEFGH"),
                       "absorbed_dose_gy": [10.0, 20, 30, 40, 50, 60, 70, 80],
                       "is_responder": [0, 0, 1, 0, 1, 0, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        yt = compute_youden_threshold(df, n_bootstrap=20)
    # >= 70: sens 2/4, spec 4/4, J 0.5; >= 50: 3/4, 3/4, J 0.5; >= 30: 4/4, 2/4, J 0.5
    # ties -> the highest dose
    assert yt.threshold_gy == 70.0
    assert yt.sensitivity == 0.5
    assert yt.specificity == 1.0
    assert yt.youden_j == pytest.approx(0.5)


def test_youden_recovers_the_population_optimum_with_ci():
    # With logistic truth the population Youden optimum is the dose where P(response | dose)
    # equals the prevalence pi (d/dt [TPR - FPR] = 0), i.e. t* = d50 + logit(pi) / slope;
    # pi is integrated numerically over the Uniform(50, 350) dose distribution (t* = 157.3 Gy).
    # Over 60 seeds the 95 % percentile CI covered t* in 97 % of runs, estimate SD ~8 Gy.
    grid = np.linspace(50, 350, 300_001)
    pi = expit(TRUE_SLOPE * (grid - TRUE_D50)).mean()
    t_star = TRUE_D50 + math.log(pi / (1 - pi)) / TRUE_SLOPE
    rng = np.random.default_rng(0)
    n_pat = 600
    pid = np.repeat(np.arange(n_pat), rng.integers(1, 4, n_pat))
    dose = rng.uniform(50, 350, len(pid))
    y = rng.random(len(pid)) < expit(TRUE_SLOPE * (dose - TRUE_D50))
    df = pd.DataFrame({"patient_id": pid, "absorbed_dose_gy": dose, "is_responder": y})
    yt = compute_youden_threshold(df, n_bootstrap=400, seed=2)
    assert yt.threshold_ci[0] <= t_star <= yt.threshold_ci[1]
    assert abs(yt.threshold_gy - t_star) < 25
    assert yt.threshold_gy in set(dose)  # an observed dose
    assert yt.youden_j == pytest.approx(yt.sensitivity + yt.specificity - 1)
    assert yt.to_frame().loc[0, "threshold_gy"] == yt.threshold_gy


# ----------------------------------------------------------------- threshold summary tables


def _wilson(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_summarise_response_by_threshold_counts_and_wilson_ci():
    df = pd.DataFrame({
        "patient_id": ["P1", "P1", "P2", "P3", "P4", "P5", "P6", "P6"],
        "absorbed_dose_gy": [100.0, 205.0, 204.9, 300.0, 50.0, 120.0, 119.9, np.nan],
        "is_responder": [False, True, False, True, False, True, True, True],
    })
    before = df.copy()
    out = summarise_response_by_threshold(df, thresholds=(120, 205))
    pd.testing.assert_frame_equal(df, before)
    assert out["dose_group"].tolist() == ["< 120 Gy", ">= 120 Gy", "< 205 Gy", ">= 205 Gy"]
    # 120 cut: below {100 F, 50 F, 119.9 T} ; at/above {205 T, 204.9 F, 300 T, 120 T}
    assert out["n"].tolist() == [3, 4, 5, 2]
    assert out["n_events"].tolist() == [1, 3, 2, 2]
    assert out["n_clusters"].tolist() == [3, 4, 5, 2]
    np.testing.assert_allclose(out["rate"], [1 / 3, 3 / 4, 2 / 5, 1.0])
    for row, (k, n) in zip(out.itertuples(), [(1, 3), (3, 4), (2, 5), (2, 2)], strict=True):
        low, high = _wilson(k, n)
        assert row.ci_lower == pytest.approx(low, abs=1e-9)
        assert row.ci_upper == pytest.approx(high, abs=1e-9)


def test_summarise_response_by_threshold_cluster_bootstrap(sim):
    out = summarise_response_by_threshold(sim, thresholds=[205], ci_method="cluster_bootstrap",
                                          n_bootstrap=300)
    wil = summarise_response_by_threshold(sim, thresholds=[205])
    for b, w in zip(out.itertuples(), wil.itertuples(), strict=True):
        assert b.ci_lower < b.rate < b.ci_upper
        # same order of magnitude as Wilson, usually a little wider with clustering
        assert 0.5 < (b.ci_upper - b.ci_lower) / (w.ci_upper - w.ci_lower) < 2.5
    assert (out["ci_method"] == "cluster_bootstrap").all()


def test_summarise_response_by_threshold_errors(sim):
    with pytest.raises(ValueError, match=r"The 'thresholds' argument"):
        summarise_response_by_threshold(sim, thresholds=[])
    with pytest.raises(ValueError, match=r"The 'ci_method' argument"):
        summarise_response_by_threshold(sim, ci_method="exact")


# ------------------------------------------------------------------------- data assembly


def test_derive_dose_group_boundaries_and_no_mutation():
    df = pd.DataFrame({"absorbed_dose_gy": [119.99, 120.0, 204.99, 205.0, np.nan]},
                      index=[5, 3, 1, 2, 4])
    before = df.copy()
    out = derive_dose_group(df, thresholds=(120, 205))
    pd.testing.assert_frame_equal(df, before)
    assert list(out.index) == [5, 3, 1, 2, 4]
    assert out["dose_group"].astype(object).tolist()[:4] == [
        "< 120 Gy", "120-205 Gy", "120-205 Gy", ">= 205 Gy"]
    assert pd.isna(out["dose_group"].iloc[4])
    assert out["dose_group"].cat.ordered
    with pytest.raises(ValueError, match="increasing"):
        derive_dose_group(df, thresholds=(205, 120))


def test_derive_lesion_dose_response_joins_and_handles_ne():
    lr = pd.DataFrame({
        "patient_id": ["P1", "P1", "P2", "P2", "P3"],
        "lesion_id": ["L1", "L2", "L3", "L4", "L5"],
        "criterion": ["mRECIST", "mRECIST", "mRECIST", "RECIST_1_1", "mRECIST"],
        "best_pct_change": [-100.0, -20.0, np.nan, -40.0, 10.0],
        "lesion_response": ["CR", "SD", "NE", "PR", "PD"],
    })
    les = pd.DataFrame({
        "lesion_id": ["L1", "L2", "L3", "L4", "L5"],
        "absorbed_dose_gy": [300.0, 100.0, 150.0, 250.0, np.nan],
        "in_treated_territory": [True, True, True, True, True],
    })
    out = derive_lesion_dose_response(lr, les, criterion="mrecist")
    assert out["lesion_id"].tolist() == ["L1", "L2", "L3"]
    assert out["is_responder"].tolist()[:2] == [True, False]
    assert pd.isna(out["is_responder"].iloc[2])
    assert out["absorbed_dose_gy"].tolist() == [300.0, 100.0, 150.0]
    les.loc[1, "in_treated_territory"] = False
    assert derive_lesion_dose_response(lr, les, criterion="mRECIST")["lesion_id"].tolist() == [
        "L1", "L3"]
    assert len(derive_lesion_dose_response(lr, les, treated_only=False)) == 4


def test_curve_rejects_non_fit():
    with pytest.raises(ValueError, match="must be a DoseResponseFit"):
        compute_dose_response_curve({"intercept": 0})
    assert DoseResponseFit.__dataclass_params__.frozen


# ---------------------------------------------------------------------------------- plots


@pytest.fixture
def agg():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plots_draw_computed_frames(sim, agg):
    from sirtstats.dosimetry import derive_injection_doses, summarise_dose_by_device
    from sirtstats.plotting.dosimetry import plot_dose_by_device, plot_dose_response, plot_roc

    fit = fit_dose_response(sim)
    curve = compute_dose_response_curve(fit)
    rng = np.random.default_rng(0)
    pts = sim.assign(best_pct_change=np.where(sim["is_responder"], -60.0, 0.0)
                     + rng.normal(0, 10, len(sim)))
    top, bottom = plot_dose_response(pts, curve, threshold_gy=205, title="t")
    assert bottom.get_ylim() == (0.0, 1.0)
    assert len(top.collections) == 2  # responders, non-responders
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), curve["probability"])
    roc = compute_roc(sim, n_bootstrap=20)
    yt = compute_youden_threshold(sim, n_bootstrap=20)
    fig, axes = agg.subplots(1, 2)
    out = plot_roc(roc.curve, axes[0], auc=roc.auc, auc_ci=roc.auc_ci,
                   youden_threshold_gy=yt.threshold_gy, threshold_gy=205)
    assert out is axes[0]
    youden_marker = out.lines[2]
    assert youden_marker.get_xdata()[0] == pytest.approx(1 - yt.specificity)
    assert youden_marker.get_ydata()[0] == pytest.approx(yt.sensitivity)
    assert "AUC" in out.get_legend().get_texts()[0].get_text()
    tx = pd.DataFrame({
        "injection_id": ["I1", "I2", "I3"], "session_id": ["S1", "S2", "S3"],
        "patient_id": ["P1", "P2", "P3"], "device": ["Y90_glass", "Y90_glass", "Y90_resin"],
        "delivered_activity_gbq": [2.0, 3.0, 1.5], "perfused_volume_ml": [500.0, 900.0, 1400.0],
    })
    doses = derive_injection_doses(tx)
    summary = summarise_dose_by_device(doses)
    ax = plot_dose_by_device(doses.assign(perfused_dose_gy=[190.0, 160.0, 52.0]), axes[1],
                             df_summary=summary)
    assert ax.get_xscale() == "log"
    assert len(ax.collections) == 2


def test_plot_errors(agg):
    from sirtstats.plotting.dosimetry import plot_dose_response, plot_roc

    with pytest.raises(ValueError, match=r"The 'df_curve' argument of plot_roc lacks column"):
        plot_roc(pd.DataFrame({"fpr": [0.0]}))
    with pytest.raises(ValueError, match=r"'df_points' argument of plot_dose_response"):
        plot_dose_response(pd.DataFrame({"x": [1]}))


def test_derive_patient_dose_outcome_keeps_rows_and_order():
    bor = pd.DataFrame({"patient_id": ["P3", "P1", "P2"], "is_responder": [True, False, True]},
                       index=[7, 8, 9])
    doses = pd.DataFrame({"patient_id": ["P1", "P2"], "tumour_dose_gy": [90.0, 260.0]})
    out = derive_patient_dose_outcome(bor, doses, dose_col="tumour_dose_gy")
    assert list(out.index) == [7, 8, 9]
    np.testing.assert_array_equal(out["tumour_dose_gy"], [np.nan, 90.0, 260.0])
    assert "tumour_dose_gy" not in bor.columns
    with pytest.raises(SirtDataError, match="rows sharing"):
        derive_patient_dose_outcome(bor, pd.concat([doses, doses]), dose_col="tumour_dose_gy")


def test_derive_toxicity_outcomes():
    pts = pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4"]})
    worst = pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P1"],
        "analyte": ["bilirubin_total", "bilirubin_total", "bilirubin_total", "alt"],
        "grade": pd.array([3, 4, 2, 4], dtype="Int64"),
        "is_treatment_emergent": [True, False, True, True],
    })
    ae = pd.DataFrame({"patient_id": ["P3", "P4"], "is_reild": [True, False]})
    out = derive_toxicity_outcomes(pts, df_worst_lab_grades=worst, df_adverse_events=ae)
    assert out["worst_lab_grade"].tolist()[:3] == [3, 4, 2]
    assert pd.isna(out["worst_lab_grade"].iloc[3])
    # P2 grade 4 already at baseline -> not treatment-emergent
    assert out["is_lab_toxicity"].tolist()[:3] == [True, False, False]
    assert pd.isna(out["is_lab_toxicity"].iloc[3])
    assert out["is_reild"].tolist() == [False, False, True, False]
    loose = derive_toxicity_outcomes(pts, df_worst_lab_grades=worst, require_emergent=False)
    assert loose["is_lab_toxicity"].tolist()[:3] == [True, True, False]
    assert loose["is_reild"].isna().all()


def test_single_outcome_class_can_warn_instead_of_raise(sim):
    one_class = sim.assign(is_responder=False)
    with pytest.warns(SirtStatsWarning, match="needs both outcomes"):
        fit = fit_dose_response(one_class, check_type="warning")
    assert np.isnan(fit.d50_gy)
    assert fit.n_obs == len(sim)
    assert fit.n_events == 0
    assert fit.to_frame()["estimate"].isna().all()
    with pytest.warns(SirtStatsWarning, match="needs both outcomes"):
        roc = compute_roc(one_class, check_type="warning", n_bootstrap=5)
    assert np.isnan(roc.auc)
    assert roc.curve.empty
    with pytest.warns(SirtStatsWarning, match="needs both outcomes"):
        yt = compute_youden_threshold(one_class.iloc[:0], check_type="warning", n_bootstrap=5)
    assert np.isnan(yt.threshold_gy)
    assert yt.n_obs == 0
    with pytest.raises(ValueError, match=r"The 'check_type' argument of compute_roc"):
        compute_roc(sim, check_type="ignore")


# ------------------------------------------------------------ recovery on the demo registry


@pytest.fixture(scope="module")
def large_demo():
    demo = pytest.importorskip("sirtstats.demo", reason="the demo registry is not available yet")
    if not hasattr(demo, "make_demo_registry"):
        pytest.skip("the demo registry is not available yet")
    return demo.make_demo_registry(n_patients=4000, seed=20261127), demo.DEMO_TRUTH


@pytest.mark.slow
@pytest.mark.parametrize(("tumour", "criterion"), [("HCC", "mRECIST"), ("other", "RECIST_1_1")])
def test_demo_lesion_dose_response_truth_within_cis(large_demo, tumour, criterion):
    """The demo's generating curve logit P = slope * (dose - d50) is recovered (GEE CIs)."""
    from sirtstats.response import derive_lesion_response

    reg, truth = large_demo
    true = truth["lesion_dose_response"][tumour]
    assert true["criterion"] == criterion
    is_hcc = reg["patients"]["primary_tumour"] == "HCC"
    ids = set(reg["patients"].loc[is_hcc if tumour == "HCC" else ~is_hcc, "patient_id"])
    lesions = reg["lesions"][reg["lesions"]["patient_id"].isin(ids)]
    lesion_response = derive_lesion_response(lesions, reg["lesion_measurements"],
                                             criterion=criterion)
    df = derive_lesion_dose_response(lesion_response, lesions, criterion=criterion)
    assert (df["absorbed_dose_gy"] > 0).all()
    fit = fit_dose_response(df, method="gee")
    assert fit.n_obs > 1000
    assert fit.slope_ci[0] < true["slope_per_gy"] < fit.slope_ci[1]
    assert fit.d50_ci[0] < true["d50_gy"] < fit.d50_ci[1]


@pytest.mark.slow
def test_demo_reild_normal_liver_dose_truth_within_cis(large_demo):
    """REILD: logit P = intercept + per_gy x (max over sessions of session-mean normal-liver
    dose); recovered at patient level by logistic regression (no clustering)."""
    from sirtstats.dosimetry import derive_patient_dose

    reg, truth = large_demo
    true = truth["toxicity"]["reild_logit"]
    treated = reg["treatments"]
    dose = derive_patient_dose(treated, dose_col="normal_liver_dose_gy", session_col="session_id")
    tox = derive_toxicity_outcomes(dose, df_adverse_events=reg["adverse_events"])
    df = derive_patient_dose_outcome(tox, dose, dose_col="normal_liver_dose_gy")
    fit = fit_dose_response(df, dose_col="normal_liver_dose_gy", response_col="is_reild",
                            cluster_col=None)
    assert fit.slope_ci[0] < true["per_gy_normal_liver"] < fit.slope_ci[1]
    assert fit.intercept_ci[0] < true["intercept"] < fit.intercept_ci[1]


def test_summarise_survival_by_dose_group():
    endpoints = pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P1"],
        "endpoint": ["OS"] * 7 + ["PFS"],
        "time_months": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 0.5],
        "event": [1, 1, 1, 1, 1, 1, 0, 1],
    })
    doses = pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
                          "absorbed_dose_gy": [100.0, 150.0, 204.0, 205.0, 300.0, 400.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)  # groups of 3 patients
        res = summarise_survival_by_dose_group(endpoints, doses, dose_col="absorbed_dose_gy")
    assert res.n_excluded == 1  # P7 has no dose
    assert res.km["dose_group"].astype(str).tolist() == ["< 205 Gy", ">= 205 Gy"]
    # KM medians by hand: deaths at 1, 2, 3 -> S = 2/3, 1/3, 0 -> median 2; 4, 5, 6 -> 5
    assert res.km["median"].tolist() == [2.0, 5.0]
    # log-rank by hand: at t = 1, 2, 3 all deaths in group A with risk sets (3,3), (2,3),
    # (1,3): E_A = 3/6 + 2/5 + 1/4 = 1.15, V = sum n_A n_B / n^2 (d = 1) = .25 + .24 + .1875
    o_minus_e = 3 - (3 / 6 + 2 / 5 + 1 / 4)
    var = 9 / 36 + 6 / 25 + 3 / 16
    assert res.logrank_p == pytest.approx(stats.chi2.sf(o_minus_e**2 / var, 1), rel=1e-9)
    assert "logrank_p" in res.to_frame().columns
    one = doses.assign(absorbed_dose_gy=50.0)
    with pytest.warns(SirtStatsWarning, match="a single dose group"):
        single = summarise_survival_by_dose_group(endpoints, one, dose_col="absorbed_dose_gy")
    assert np.isnan(single.logrank_p)
    assert single.logrank is None


def test_plots_survive_empty_results(agg):
    from sirtstats.plotting.dosimetry import plot_dose_response, plot_roc

    empty = pd.DataFrame({"patient_id": pd.Series(dtype=object),
                          "absorbed_dose_gy": pd.Series(dtype=float),
                          "best_pct_change": pd.Series(dtype=float),
                          "is_responder": pd.Series(dtype="boolean")})
    with pytest.warns(SirtStatsWarning):
        fit = fit_dose_response(empty, check_type="warning")
    with pytest.warns(SirtStatsWarning):
        roc = compute_roc(empty, check_type="warning", n_bootstrap=5)
    top, bottom = plot_dose_response(empty, compute_dose_response_curve(fit), threshold_gy=205)
    assert bottom.get_ylim() == (0.0, 1.0)
    ax = plot_roc(roc.curve, auc=roc.auc, auc_ci=roc.auc_ci, youden_threshold_gy=np.nan,
                  threshold_gy=205)
    assert ax.texts[0].get_text() == "Not estimable"


def test_survival_by_dose_group_without_any_dose_warns_or_raises():
    endpoints = pd.DataFrame({"patient_id": ["P1", "P2"], "endpoint": ["OS", "OS"],
                              "time_months": [1.0, 2.0], "event": [1, 0]})
    doses = pd.DataFrame({"patient_id": ["P9"], "absorbed_dose_gy": [100.0]})
    with pytest.raises(SirtDataError, match="no OS row has a dose"):
        summarise_survival_by_dose_group(endpoints, doses, dose_col="absorbed_dose_gy")
    with pytest.warns(SirtStatsWarning, match="no OS row has a dose"):
        res = summarise_survival_by_dose_group(endpoints, doses, dose_col="absorbed_dose_gy",
                                               check_type="warning")
    assert res.data.empty
    assert np.isnan(res.logrank_p)


# --- per device: never pooled -----------------------------------------------------------------
def _two_devices(ho166_lesions: int = 0) -> pd.DataFrame:
    """Six glass and six resin lesions (one per patient), same outcome pattern F T F F T T.

    Glass doses 100-350 Gy, resin 20-120 Gy: within each device the AUC is 7/9; pooled, the
    resin responders at 100-120 Gy sit below glass non-responders at 100-250 Gy.
    """
    pattern = [False, True, False, False, True, True]
    glass = [100.0, 150.0, 200.0, 250.0, 300.0, 350.0]
    resin = [20.0, 40.0, 60.0, 80.0, 100.0, 120.0]
    ho = [50.0 * (i + 1) for i in range(ho166_lesions)]
    doses = glass + resin + ho
    return pd.DataFrame({
        "patient_id": [f"P{i:02d}" for i in range(len(doses))],
        "device": ["Y90_glass"] * 6 + ["Y90_resin"] * 6 + ["Ho166_PLLA"] * ho166_lesions,
        "criterion": "mRECIST",
        "absorbed_dose_gy": doses,
        "best_pct_change": [-50.0 if r else 0.0 for r in pattern * 2]
                           + [0.0] * ho166_lesions,
        "is_responder": pattern * 2 + [True, False][:ho166_lesions]
                        + [False] * max(ho166_lesions - 2, 0),
    })


def _by_device(df, **kwargs):
    from sirtstats.dose_response import select_device_thresholds, summarise_dose_response_by_device

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        return summarise_dose_response_by_device(
            df, df_thresholds=select_device_thresholds(["HCC"]), min_lesions=6, min_events=3,
            n_bootstrap=50, **kwargs)


def test_dose_response_by_device_differs_from_pooling_and_uses_each_devices_threshold():
    df = _two_devices()
    out = _by_device(df).set_index("device")
    assert list(out.index) == ["Y90_glass", "Y90_resin"]
    # within a device: positives (150, 300, 350) vs negatives (100, 200, 250): 7 of 9 pairs
    assert out.loc["Y90_glass", "auc"] == pytest.approx(7 / 9)
    assert out.loc["Y90_resin", "auc"] == pytest.approx(7 / 9)
    # pooled (what must not be reported): 1 + 3.5 + 4 + 4 + 6 + 6 = 24.5 of 36 pairs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        pooled = compute_roc(df, n_bootstrap=10)
    assert pooled.auc == pytest.approx(24.5 / 36)
    # Youden: dose >= 300 (glass) / >= 100 (resin) gives TPR 2/3, FPR 0
    assert out.loc["Y90_glass", "youden_threshold_gy"] == 300.0
    assert out.loc["Y90_resin", "youden_threshold_gy"] == 100.0
    assert out.loc["Y90_glass", "youden_sensitivity"] == pytest.approx(2 / 3)
    assert out.loc["Y90_glass", "youden_specificity"] == pytest.approx(1.0)
    # each device against its own published threshold: glass 205 Gy, resin 120 Gy
    assert out.loc["Y90_glass", "threshold_gy"] == 205.0
    assert out.loc["Y90_resin", "threshold_gy"] == 120.0
    assert "DOSISPHERE-01" in out.loc["Y90_glass", "threshold_source"]
    assert "Levillain" in out.loc["Y90_resin", "threshold_source"]
    # glass: < 205 -> 100, 150, 200 (1 responder); >= 205 -> 250, 300, 350 (2)
    assert (out.loc["Y90_glass", "n_below"], out.loc["Y90_glass", "n_above"]) == (3, 3)
    assert out.loc["Y90_glass", "rate_below"] == pytest.approx(1 / 3)
    assert out.loc["Y90_glass", "rate_above"] == pytest.approx(2 / 3)
    # resin: < 120 -> 20 ... 100 (responders 40, 100); >= 120 -> 120 (responder)
    assert (out.loc["Y90_resin", "n_below"], out.loc["Y90_resin", "n_above"]) == (5, 1)
    assert out.loc["Y90_resin", "rate_below"] == pytest.approx(2 / 5)
    assert out.loc["Y90_resin", "rate_above"] == pytest.approx(1.0)
    assert out["is_estimable"].all()
    assert out["n_lesions"].tolist() == [6, 6]
    assert out["n_events"].tolist() == [3, 3]


def test_dose_response_by_device_small_device_is_a_not_estimable_row_with_a_warning():
    from sirtstats.dose_response import select_device_thresholds, summarise_dose_response_by_device

    df = _two_devices(ho166_lesions=2)
    with pytest.warns(SirtStatsWarning, match=r"Ho-166 PLLA, mRECIST: 2 evaluable lesions"):
        out = summarise_dose_response_by_device(
            df, df_thresholds=select_device_thresholds(["HCC"]), min_lesions=6, min_events=3,
            n_bootstrap=20, devices=["Y90_glass", "Y90_resin", "Ho166_PLLA"])
    ho = out.set_index("device").loc["Ho166_PLLA"]
    assert not ho["is_estimable"]
    assert ho["n_lesions"] == 2
    assert ho["note"] == "not estimable: 2 evaluable lesions (< 6)"
    assert np.isnan(ho["auc"])
    assert np.isnan(ho["d50_gy"])
    assert np.isnan(ho["threshold_gy"])
    # the other devices are untouched by the Ho-166 lesions
    assert out.set_index("device").loc["Y90_glass", "auc"] == pytest.approx(7 / 9)


def test_dose_response_by_device_lists_requested_devices_and_criteria_without_lesions():
    out = _by_device(_two_devices(), devices=["Ho166_PLLA"], criteria=["RECIST_1_1"])
    keys = list(zip(out["device"], out["criterion"], strict=True))
    assert keys == [("Y90_glass", "mRECIST"), ("Y90_glass", "RECIST_1_1"),
                    ("Y90_resin", "mRECIST"), ("Y90_resin", "RECIST_1_1"),
                    ("Ho166_PLLA", "mRECIST"), ("Ho166_PLLA", "RECIST_1_1")]
    assert out.loc[out["criterion"] == "RECIST_1_1", "n_lesions"].tolist() == [0, 0, 0]
    assert not out.loc[out["criterion"] == "RECIST_1_1", "is_estimable"].any()


def test_dose_response_by_device_few_events_is_not_estimable():
    df = _two_devices()
    df.loc[df["device"] == "Y90_resin", "is_responder"] = [False] * 5 + [True]
    out = _by_device(df).set_index("device")
    assert not out.loc["Y90_resin", "is_estimable"]
    assert "1 with and 5 without the outcome (< 3 of one)" in out.loc["Y90_resin", "note"]


def test_dose_response_by_device_does_not_modify_input():
    df = _two_devices()
    before = df.copy()
    _by_device(df)
    pd.testing.assert_frame_equal(df, before)


def test_curves_by_device_stay_within_each_devices_doses():
    from sirtstats.dose_response import (
        compute_dose_response_curves_by_device,
        compute_roc_curves_by_device,
    )

    df = _two_devices(ho166_lesions=2)
    summary = _by_device(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        curves = compute_dose_response_curves_by_device(df, summary, n_points=5)
    assert set(curves["device"]) == {"Y90_glass", "Y90_resin"}  # Ho-166: not estimable
    glass = curves[curves["device"] == "Y90_glass"]["dose_gy"]
    assert glass.iloc[0] == pytest.approx(100.0)
    assert glass.iloc[-1] == pytest.approx(350.0)
    resin = curves[curves["device"] == "Y90_resin"]["dose_gy"]
    np.testing.assert_allclose(resin, [20.0 * 6 ** (k / 4) for k in range(5)])  # log-spaced
    roc = compute_roc_curves_by_device(df, summary)
    glass_roc = roc[roc["device"] == "Y90_glass"]
    assert glass_roc["threshold"].iloc[0] == np.inf
    assert glass_roc["tpr"].iloc[-1] == 1.0


def test_select_device_thresholds_one_diagnosis_only_with_sources():
    from sirtstats.dose_response import select_device_thresholds

    hcc = select_device_thresholds(["HCC"])
    assert hcc["device"].tolist() == ["Y90_glass", "Y90_resin"]
    assert hcc["threshold_gy"].tolist() == [205.0, 120.0]
    assert hcc["indication"].tolist() == ["HCC", "HCC"]
    assert "Lancet Gastroenterol Hepatol 2021" in hcc.loc[0, "source"]
    assert "EJNMMI 2021" in hcc.loc[1, "source"]
    assert select_device_thresholds([]).empty  # all tumours: no tumour-specific threshold
    assert select_device_thresholds(["HCC", "mCRC"]).empty
    assert select_device_thresholds("mCRC")["threshold_gy"].tolist() == [189.0, 100.0]
    own = select_device_thresholds(["HCC"], thresholds_gy={"Ho166_PLLA": 150, "Y90_glass": 250})
    assert own["device"].tolist() == ["Y90_glass", "Y90_resin", "Ho166_PLLA"]
    assert own["threshold_gy"].tolist() == [250.0, 120.0, 150.0]
    assert own.loc[0, "source"] == "pre-specified (parameter)"
    with pytest.raises(ValueError, match=r"'thresholds_gy' argument of select_device_thresholds"):
        select_device_thresholds(["HCC"], thresholds_gy={"Y90_glass": -1})


def test_derive_patient_dose_by_device_means_one_criterions_lesions():
    from sirtstats.dose_response import derive_patient_dose_by_device

    df = pd.DataFrame({
        "patient_id": ["P1", "P1", "P1", "P2", "P3"],
        "device": ["Y90_glass", "Y90_glass", "Y90_glass", "Y90_resin", None],
        "criterion": ["mRECIST", "mRECIST", "RECIST_1_1", "mRECIST", "mRECIST"],
        "absorbed_dose_gy": [100.0, 200.0, 900.0, 60.0, 70.0],
    })
    expected = pd.DataFrame({"patient_id": ["P1", "P2"], "device": ["Y90_glass", "Y90_resin"],
                             "absorbed_dose_gy": [150.0, 60.0], "n_lesions": [2, 1]})
    pd.testing.assert_frame_equal(derive_patient_dose_by_device(df, criterion="mRECIST"),
                                  expected)


def test_derive_patient_dose_outcome_carries_the_device():
    bor = pd.DataFrame({"patient_id": ["P2", "P1"], "is_responder": [True, False]})
    doses = pd.DataFrame({"patient_id": ["P1", "P2"], "device": ["Y90_glass", "Y90_resin"],
                          "absorbed_dose_gy": [90.0, 260.0]})
    out = derive_patient_dose_outcome(bor, doses, dose_col="absorbed_dose_gy",
                                      carry_cols=["device"])
    assert out["device"].tolist() == ["Y90_resin", "Y90_glass"]
    assert out["absorbed_dose_gy"].tolist() == [260.0, 90.0]


def test_survival_by_device_dose_group_cuts_each_device_at_its_own_threshold():
    from sirtstats.dose_response import (
        select_device_thresholds,
        summarise_survival_by_device_dose_group,
    )

    doses = pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(7)],
        "device": ["Y90_glass"] * 3 + ["Y90_resin"] * 3 + ["Ho166_PLLA"],
        "absorbed_dose_gy": [150.0, 210.0, 300.0, 100.0, 150.0, 210.0, 150.0],
    })
    endpoints = pd.DataFrame({"patient_id": doses["patient_id"], "endpoint": "OS",
                              "time_months": [3.0, 9.0, 14.0, 5.0, 8.0, 13.0, 4.0],
                              "event": [1, 1, 0, 1, 0, 1, 1]})
    with pytest.warns(SirtStatsWarning, match="Ho-166 PLLA: no published threshold"):
        res = summarise_survival_by_device_dose_group(endpoints, doses,
                                                      select_device_thresholds(["HCC"]))
    tests = res.tests.set_index("device")
    # 150 Gy is below the glass threshold (205 Gy) but above the resin one (120 Gy)
    assert (tests.loc["Y90_glass", "n_below"], tests.loc["Y90_glass", "n_above"]) == (1, 2)
    assert (tests.loc["Y90_resin", "n_below"], tests.loc["Y90_resin", "n_above"]) == (1, 2)
    groups = res.data.set_index("patient_id")["dose_group"]
    assert groups["P0"] == "< 205 Gy"
    assert groups["P4"] == "≥ 120 Gy"
    assert "P6" not in groups.index
    assert res.n_excluded == 1
    assert np.isnan(tests.loc["Ho166_PLLA", "logrank_p"])
    assert 0 <= tests.loc["Y90_glass", "logrank_p"] <= 1
    # number at risk every 6 months up to each device's longest time
    glass_risk = res.risk_table[res.risk_table["device"] == "Y90_glass"]
    assert sorted(glass_risk["time"].unique()) == [0.0, 6.0, 12.0]
    above = glass_risk[glass_risk["dose_group"] == "≥ 205 Gy"].set_index("time")["n_risk"]
    assert above.tolist() == [2, 2, 1]
