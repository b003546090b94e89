"""comparative_frame / run_comparison (issue #16 item 9): coding by hand, the three methods."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sirtstats.comparative import (
    balance_labels,
    comparative_frame,
    comparison_metrics,
    numbers_at_risk,
    run_comparison,
)


def _patients():
    return pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P4"], "followup_days": [30.0, 100, 200, 60],
        "is_deceased": [True, True, False, False], "albi_grade": [1, 2, 3, np.nan],
        "bclc_stage": ["A", "C", "D", None], "ecog": [0, 1, 2, np.nan],
        "primary_tumour": ["HCC", "HCC", "HCC", "breast"],
        "tumour_burden_pct": [10.0, 30, 60, np.nan],
        "first_sirt_date": pd.to_datetime(["2024-01-01"] * 4)})


def test_comparative_frame_coding_by_hand():
    ae = pd.DataFrame({"patient_id": ["P1", "P2", "P2"], "grade": [3, 2, 4],
                       "onset_date": pd.to_datetime(["2024-02-01", "2024-01-05", "2023-12-01"])})
    bor = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "bor": ["PR", "SD", "CR"]})
    d = comparative_frame(_patients(), ae, bor)
    assert list(d["albi_grade"].fillna("NA")) == ["1", "2", "3", "NA"]
    assert list(d["bclc_C"]) == [0, 1, 0, 0]
    assert list(d["bclc_D"]) == [0, 0, 1, 0]
    assert list(d["primary"]) == ["HCC", "HCC", "HCC", "other"]
    assert list(d["bclc_group"].fillna("NA")) == ["0/A/B", "C", "D", "NA"]
    assert list(d["tumour_burden"].astype(object).fillna("NA")) == ["≤ 25 %", "25–50 %",
                                                                     "> 50 %", "NA"]
    # death within 90 days: P1 yes; P2 died at day 100: no; P4 alive at 60 days: unknown
    assert d["death_90d"].tolist()[:3] == [1.0, 0.0, 0.0]
    assert np.isnan(d["death_90d"].iloc[3])
    # grade >= 3 on/after the first SIRT: P1 (grade 3); P2's grade 4 is before it
    assert list(d["ae_grade3"]) == [1, 0, 0, 0]
    assert d["responder"].tolist()[:3] == [1.0, 0.0, 1.0]
    assert np.isnan(d["responder"].iloc[3])


@pytest.fixture(scope="module")
def frame():
    from sirtstats.cohort import select_cohort
    from sirtstats.demo import load_registry

    return comparative_frame(select_cohort(load_registry()).patients)


COVS = ["albi_grade", "bclc_C", "bclc_D", "ecog_ge1", "primary"]


@pytest.mark.parametrize(("method", "label"), [("iptw", "IPTW ATT"), ("overlap", "Overlap weights"),
                                                ("matching", "Matched")])
def test_run_comparison_methods(frame, method, label):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_comparison(frame, "device", ("Y90_resin", "Y90_glass"), COVS, estimand="ATT",
                             method=method, seed=3)
    assert list(res.estimates["analysis"]) == ["Unadjusted Cox", "Multivariable Cox", label]
    assert f"smd_{label}" in res.balance.columns
    assert set(res.frame["device"]) == {"Y90_resin", "Y90_glass"}
    if method == "matching":
        pairs = res.frame.loc[res.frame["pair"] >= 0, "pair"].value_counts()
        assert (pairs == 2).all()
        assert res.estimates["se_type"].iloc[2] == "robust, clustered"
    m = comparison_metrics(res)
    assert m["n_analysed"] == len(res.frame)
    assert set(m["hr"]) == set(res.estimates["analysis"])
    assert "SMD, unadjusted" in balance_labels(res.balance).values()


def test_numbers_at_risk_are_unweighted_counts(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_comparison(frame, "device", ("Y90_resin", "Y90_glass"), COVS)
    risk = numbers_at_risk(res, ["Resin", "Glass"], months=[0, 12])
    at0 = risk[risk["time"] == 0].set_index("group")["n_risk"]
    assert at0["Glass"] == int(res.frame["treated"].sum())
    assert at0["Resin"] == int((res.frame["treated"] == 0).sum())
    in12 = (res.frame["os_days"] / 30.4375 >= 12) & (res.frame["treated"] == 1)
    assert risk[(risk["time"] == 12) & (risk["group"] == "Glass")]["n_risk"].iloc[0] == in12.sum()


def test_adjusted_km_and_love_plot_read_well(frame):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sirtstats.plotting.comparative import plot_adjusted_km, plot_love

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_comparison(frame, "device", ("Y90_resin", "Y90_glass"), COVS)
    labels = ["Y-90 resin", "Y-90 glass"]
    ax = plot_adjusted_km(res.km, labels=labels, risk_table=numbers_at_risk(res, labels),
                          weights_label="IPTW ATE")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    n_glass = int(res.frame["treated"].sum())
    assert f"Y-90 glass (N = {n_glass})" in legend  # unweighted N, not the sum of weights
    assert "IPTW ATE" in ax.get_ylabel()
    fig = plot_love(res.balance)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "BCLC C" in ticks
    assert "Primary tumour: iCCA" in ticks
    assert not any("_" in t for t in ticks)
    plt.close("all")


def test_competing_progression_by_hand():
    from sirtstats.comparative import competing_progression

    origin = pd.Timestamp("2024-01-01")
    pfs = pd.DataFrame({"patient_id": ["A", "B", "C", "D"], "time_days": [50.0, 80, 120, 200],
                        "event": [1, 1, 0, 1],
                        "event_type": ["progression", "death", "censored", "progression"],
                        "origin_date": origin,
                        "event_date": origin + pd.to_timedelta([50, 80, 120, 200], "D")})
    ther = pd.DataFrame({"patient_id": ["C", "D", "A"],
                         "therapy_type": ["transplant", "resection", "systemic"],
                         "start_date": origin + pd.to_timedelta([150, 90, 10], "D")})
    out = competing_progression(pfs, ther)
    # C: censored at 120, transplant at 150 -> competing event at 150; D: resection at 90,
    # before its progression at 200 -> competing event at 90; A: systemic therapy is no surgery
    assert list(out["cause"]) == ["progression", "death", "transplant_resection",
                                  "transplant_resection"]
    assert list(out["time_days"]) == [50.0, 80.0, 150.0, 90.0]
