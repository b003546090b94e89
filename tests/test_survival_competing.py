"""Competing risks: Aalen–Johansen CIF vs R survfit (multi-state) and WE27; Gray's test vs
cmprsk::cuminc. Fixtures and tolerance: tests/golden/survival (see PROVENANCE.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _survival_golden import assert_close, load, rq, rv

from sirtstats import survival as sv
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

CR_CASES = [("we27", None), ("mgus2_cr", "sex"), ("synth_ties_cr", "group"),
            ("synth_cr_noties", "group"), ("edge_cr_ties", "group")]


@pytest.mark.parametrize(("name", "group"), CR_CASES, ids=[c[0] for c in CR_CASES])
@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_cif_matches_survfit_multistate(name, group, conf_type):
    curve = sv.compute_cif_curve(load(name), time_col="time", cause_col="cause", censored=0,
                                 by=group, conf_type=conf_type)
    curve["group"] = curve[group].astype(str) if group else ""
    for cause in (1, 2):
        c = curve[curve["cause"] == cause]
        for ours, theirs in [("cif", f"cif.est.{cause}"), ("std_err", f"cif.se.{cause}"),
                             ("n_risk", "cif.n.risk"),
                             ("lower", f"cif.lower.{conf_type}.{cause}"),
                             ("upper", f"cif.upper.{conf_type}.{cause}")]:
            r = rq(name, theirs)
            if ours == "n_risk":
                r = r.drop_duplicates()
            m = r.merge(c, on=["group", "time"], how="left", validate="one_to_one")
            assert len(m) == len(c), f"{name}: curve times differ"
            py = m[ours].to_numpy(dtype=float)
            expected = m["value"].to_numpy(dtype=float)
            if ours in ("lower", "upper"):
                # R reports (0, 0) where CIF = 0 with SE 0; we report NaN (no interval).
                zero = m["cif"].to_numpy() == 0
                expected = np.where(zero, np.nan, expected)
            assert_close(py, expected, f"{name} cause {cause} {ours}")


def test_we27_aalen_johansen_table_and_one_minus_km_overestimate():
    df = pd.DataFrame({"time_months": [1, 2, 2, 3, 4, 4, 5, 6, 7, 8],
                       "event_type": ["progression", "death", "progression", "censored",
                                      "progression", "death", "censored", "progression",
                                      "censored", "death"]})
    curve = sv.compute_cif_curve(df).set_index(["cause", "time"])
    prog = {1: 0.1000, 2: 0.2000, 4: 0.3167, 6: 0.4722, 8: 0.4722}
    death = {1: 0.0, 2: 0.1000, 4: 0.2167, 6: 0.2167, 8: 0.5278}
    for t, v in prog.items():
        assert curve.loc[("progression", t), "cif"] == pytest.approx(v, abs=5e-5)
    for t, v in death.items():
        assert curve.loc[("death", t), "cif"] == pytest.approx(v, abs=5e-5)
    assert curve.loc[("progression", 4), "n_risk"] == 6
    km = sv.compute_km_curve(df.assign(event=(df["event_type"] == "progression").astype(int)))
    one_minus_km = 1 - km.set_index("time").loc[6, "surv"]
    assert one_minus_km == pytest.approx(0.5556, abs=5e-5)
    assert one_minus_km > curve.loc[("progression", 6), "cif"]


def test_summarise_cif_at_times():
    df = load("synth_ties_cr")
    tab = sv.summarise_cif(df, time_col="time", cause_col="cause", censored=0, by="group",
                           times=[6, 12], conf_type="log")
    curve = sv.compute_cif_curve(df, time_col="time", cause_col="cause", censored=0,
                                 by="group", conf_type="log")
    row = tab[(tab["group"] == "b") & (tab["cause"] == 1)].iloc[0]
    c = curve[(curve["group"] == "b") & (curve["cause"] == 1) & (curve["time"] <= 12)]
    assert row["cif_12"] == c["cif"].iloc[-1]
    assert row["cif_12_upper"] == c["upper"].iloc[-1]
    assert row["n_events"] == int(((df["group"] == "b") & (df["cause"] == 1)).sum())


@pytest.mark.parametrize(("name", "group"), [c for c in CR_CASES if c[1]],
                         ids=[c[0] for c in CR_CASES if c[1]])
def test_gray_test_matches_cuminc(name, group):
    res = sv.test_gray(load(name), group_col=group, time_col="time", cause_col="cause",
                       censored=0).set_index("cause")
    for cause in (1, 2):
        assert_close([res.loc[cause, "statistic"], res.loc[cause, "p"], res.loc[cause, "df"]],
                     [rv(name, "gray.stat", str(cause)), rv(name, "gray.p", str(cause)),
                      rv(name, "gray.df", str(cause))], f"{name} Gray cause {cause}")


def test_stratified_gray_test_matches_cuminc_strata():
    df = load("synth_ties_cr")
    res = sv.test_gray(df, group_col="group", time_col="time", cause_col="cause", censored=0,
                       strata="strat").set_index("cause")
    for cause in (1, 2):
        assert_close([res.loc[cause, "statistic"], res.loc[cause, "p"]],
                     [rv("synth_ties_cr", "gray.strat.stat", str(cause)),
                      rv("synth_ties_cr", "gray.strat.p", str(cause))], f"strat {cause}")
    assert res["stratified_by"].eq("strat").all()


def test_cif_does_not_jitter_and_is_deterministic():
    df = load("edge_cr_ties")
    a = sv.compute_cif_curve(df, time_col="time", cause_col="cause", censored=0)
    b = sv.compute_cif_curve(df, time_col="time", cause_col="cause", censored=0)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["time"]) == set(df["time"].astype(float))


def test_gray_with_a_single_group_raises_or_warns():
    df = pd.DataFrame({"time_months": [1.0, 2, 3, 4], "grade": [1, 1, 1, 1],
                       "event_type": ["progression", "death", "censored", "progression"]})
    with pytest.raises(SirtDataError, match="fewer than two groups"):
        sv.test_gray(df, group_col="grade")
    with pytest.warns(SirtStatsWarning, match="fewer than two groups"):
        res = sv.test_gray(df, group_col="grade", check_type="warning")
    assert res["p"].isna().all()
