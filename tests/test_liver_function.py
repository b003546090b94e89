"""Tests for sirtstats.toxicity.liver: ALBI / Child-Pugh timepoints, change, REILD flags.

Expected ALBI and Child-Pugh values are sirt-domain.md Appendix A vectors (ALBI 17.1/40 ->
-2.586 grade 2, 10/45 -> -3.165 grade 1, 34.2/30 -> -1.538 grade 2; Child-Pugh 2.0 mg/dL,
3.5 g/dL, INR 1.2 -> 7, B); REILD cases are constructed around each rule by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sirtstats import SirtDataError
from sirtstats.toxicity import (
    LIVER_TIMEPOINTS,
    REILD_DEFINITIONS,
    derive_liver_function_change,
    derive_liver_function_timepoints,
    derive_reild,
    filter_reild_candidates,
    summarise_liver_function_change,
)

D = pd.Timestamp


def _labs(rows):
    """rows: (patient, date, analyte, value, unit[, lln, uln])."""
    full = [r + (np.nan,) * (7 - len(r)) for r in rows]
    return pd.DataFrame(
        full, columns=["patient_id", "sample_date", "analyte", "value", "unit", "lln", "uln"]
    ).assign(sample_date=lambda d: pd.to_datetime(d["sample_date"]))


@pytest.fixture
def tx():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2"],
            "session_id": ["S1", "S2", "S3"],
            "treatment_date": pd.to_datetime(["2024-01-10", "2024-03-01", "2024-01-10"]),
        }
    )


@pytest.fixture
def labs():
    return _labs(
        [
            ("P1", "2023-12-01", "bilirubin_total", 99.0, "µmol/L"),  # -40 d: outside
            ("P1", "2024-01-05", "bilirubin_total", 10.0, "µmol/L"),  # baseline
            ("P1", "2024-01-05", "albumin", 45.0, "g/L"),
            ("P1", "2024-01-05", "inr", 1.0, "ratio"),
            ("P1", "2024-01-30", "bilirubin_total", 50.0, "µmol/L"),  # day 20 (dist 10)
            ("P1", "2024-02-12", "bilirubin_total", 1.0, "mg/dL"),  # day 33 (dist 3): 17.1
            ("P1", "2024-02-12", "albumin", 4.0, "g/dL"),  # 40 g/L
            ("P1", "2024-02-12", "inr", 1.2, "ratio"),
            ("P1", "2024-04-14", "bilirubin_total", 34.2, "µmol/L"),  # day 95
            ("P1", "2024-04-14", "albumin", 30.0, "g/L"),
            ("P1", "2024-04-14", "inr", 1.2, "ratio"),
            ("P2", "2024-02-06", "bilirubin_total", 20.0, "µmol/L"),  # day 27 (dist 3)
            ("P2", "2024-02-12", "bilirubin_total", 30.0, "µmol/L"),  # day 33 (dist 3): tie
            ("P2", "2024-02-06", "albumin", 38.0, "g/L"),
        ]
    )


def test_timepoints_nearest_value_in_each_window(labs, tx):
    out = derive_liver_function_timepoints(labs, tx)
    assert out["timepoint"].tolist() == ["baseline", "month_1", "month_3", "month_6"] * 2
    p1 = out[out["patient_id"] == "P1"].set_index("timepoint")
    assert p1.loc["baseline", "bilirubin_umol_l"] == 10.0
    assert p1.loc["baseline", "bilirubin_day"] == -5
    assert p1.loc["month_1", "bilirubin_umol_l"] == pytest.approx(17.1)  # mg/dL converted
    assert p1.loc["month_1", "bilirubin_day"] == 33
    assert p1.loc["month_1", "albumin_g_l"] == pytest.approx(40.0)
    assert p1.loc["month_3", "bilirubin_day"] == 95
    assert np.isnan(p1.loc["month_6", "bilirubin_umol_l"])
    assert p1.loc["baseline", "albi_score"] == pytest.approx(-3.165, abs=5e-4)
    assert p1.loc["baseline", "albi_grade"] == 1
    assert p1.loc["month_1", "albi_score"] == pytest.approx(-2.586, abs=5e-4)
    assert p1.loc["month_1", "albi_grade"] == 2
    assert p1.loc["month_3", "albi_score"] == pytest.approx(-1.538, abs=5e-4)
    assert pd.isna(p1.loc["month_6", "albi_grade"])
    # equal distance from day 30: the earlier sample (day 27) wins
    p2 = out[out["patient_id"] == "P2"].set_index("timepoint")
    assert p2.loc["month_1", "bilirubin_umol_l"] == 20.0
    # no baseline clinical items: Child-Pugh unknown
    assert p1["child_pugh_points"].isna().all()
    assert (p1["clinical_source"] == "").all()


def test_timepoints_with_baseline_table_and_child_pugh(labs, tx):
    base = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "bilirubin_umol_l": [np.nan, 34.2],
            "albumin_g_l": [np.nan, 35.0],
            "inr": [np.nan, 1.2],
            "ascites": ["none", "none"],
            "encephalopathy": ["none", "none"],
        }
    )
    out = derive_liver_function_timepoints(labs, tx, df_baseline=base)
    p1 = out[out["patient_id"] == "P1"].set_index("timepoint")
    # P1 baseline labs come from the labs table (baseline table empty): 5 points, A
    assert p1.loc["baseline", "child_pugh_points"] == 5
    assert p1.loc["baseline", "clinical_source"] == "baseline"
    # month 3: bili 34.2 (2), alb 30 (2), INR 1.2 (1), none, none -> 7 B
    assert p1.loc["month_3", "child_pugh_points"] == 7
    assert p1.loc["month_3", "child_pugh_class"] == "B"
    assert p1.loc["month_3", "clinical_source"] == "carried_forward"
    # P2 baseline from the baseline table (Appendix A: 2.0 mg/dL, 3.5 g/dL, INR 1.2 -> 7 B)
    p2 = out[out["patient_id"] == "P2"].set_index("timepoint")
    assert p2.loc["baseline", "bilirubin_umol_l"] == 34.2
    assert pd.isna(p2.loc["baseline", "bilirubin_day"])
    assert p2.loc["baseline", "child_pugh_points"] == 7
    assert p2.loc["baseline", "child_pugh_class"] == "B"


def test_timepoints_ascites_from_adverse_events(labs, tx):
    base = pd.DataFrame({"patient_id": ["P1"], "ascites": ["none"], "encephalopathy": ["none"]})
    ae = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1"],
            "ae_term": ["Ascites", "ascites", "Fatigue"],
            "onset_date": pd.to_datetime(["2024-01-01", "2024-03-30", "2024-02-01"]),
            "resolution_date": pd.to_datetime(["2024-01-02", None, None]),
            "grade": [3, 3, 3],
        }
    )
    out = derive_liver_function_timepoints(labs, tx, df_baseline=base, df_ae=ae)
    p1 = out[out["patient_id"] == "P1"].set_index("timepoint")
    # pre-SIRT ascites ignored; day 80 grade 3 ascites (ongoing) -> moderate_severe at months 3, 6
    assert p1.loc["month_1", "ascites"] == "none"
    assert p1.loc["month_3", "ascites"] == "moderate_severe"
    assert p1.loc["month_6", "ascites"] == "moderate_severe"
    assert p1.loc["month_3", "clinical_source"] == "adverse_event"
    assert p1.loc["month_3", "child_pugh_points"] == 9  # 2 + 2 + 1 + 3 + 1


def test_timepoints_custom_table_and_unknown_unit(labs, tx):
    tps = LIVER_TIMEPOINTS.iloc[:2].assign(window_end_day=[0, 20])
    out = derive_liver_function_timepoints(labs, tx, timepoints=tps)
    p1 = out[out["patient_id"] == "P1"].set_index("timepoint")
    assert p1.loc["month_1", "bilirubin_day"] == 20  # day 33 now outside
    bad = labs.copy()
    bad.loc[3, "unit"] = "sec"
    with pytest.raises(SirtDataError, match=r"\(P1, 2024-01-05, inr, 'sec'\)"):
        derive_liver_function_timepoints(bad, tx)


def test_liver_function_change_and_summary(labs, tx):
    base = pd.DataFrame(
        {"patient_id": ["P1", "P2"], "ascites": ["none"] * 2, "encephalopathy": ["none"] * 2}
    )
    tp = derive_liver_function_timepoints(labs, tx, df_baseline=base)
    ch = derive_liver_function_change(tp)
    p1 = ch[ch["patient_id"] == "P1"].set_index("timepoint")
    # ALBI -3.165 -> -2.586: +0.579 (worse), grade 1 -> 2
    expected = (0.66 * np.log10(17.1) - 0.085 * 40) - (0.66 - 0.085 * 45)
    assert p1.loc["month_1", "albi_change"] == pytest.approx(expected)
    assert p1.loc["month_1", "is_albi_grade_worse"]
    assert p1.loc["baseline", "albi_change"] == 0.0
    assert not p1.loc["baseline", "is_albi_grade_worse"]
    assert p1.loc["month_3", "child_pugh_points_change"] == 2  # 5 -> 7
    assert p1.loc["month_3", "is_child_pugh_class_worse"]
    assert pd.isna(p1.loc["month_6", "is_albi_grade_worse"])
    # P2 has no baseline albumin: no paired ALBI
    p2 = ch[ch["patient_id"] == "P2"].set_index("timepoint")
    assert pd.isna(p2.loc["month_1", "albi_change"])

    summ = summarise_liver_function_change(ch).set_index("timepoint")
    assert summ.loc["month_1", "n_patients"] == 2
    assert summ.loc["month_1", "n_albi"] == 2  # P2: bili 20 + alb 38 on day 27
    assert summ.loc["month_1", "n_albi_paired"] == 1
    assert summ.loc["month_1", "n_albi_grade_worse"] == 1
    assert summ.loc["month_1", "albi_grade_worse"] == "1/1 (100%)"
    assert summ.loc["month_3", "child_pugh_class_worse"] == "1/1 (100%)"
    assert summ.loc["month_6", "albi_grade_worse"] == "-"


def test_liver_summary_by_group(labs, tx):
    tp = derive_liver_function_timepoints(labs, tx)
    ch = derive_liver_function_change(tp).merge(
        pd.DataFrame({"patient_id": ["P1", "P2"], "device": ["Y90_glass", "Y90_resin"]}),
        on="patient_id",
    )
    summ = summarise_liver_function_change(ch, groupby="device")
    assert summ["device"].unique().tolist() == ["Y90_glass", "Y90_resin", "All"]
    assert len(summ) == 12


def test_timepoints_do_not_mutate(labs, tx):
    before = labs.copy()
    derive_liver_function_timepoints(labs, tx)
    pd.testing.assert_frame_equal(labs, before)


# ------------------------------------------------------------------------------------ REILD


@pytest.fixture
def reild_data():
    first = "2024-01-01"
    pts = [f"R{i}" for i in range(1, 8)]
    tx = pd.DataFrame(
        {
            "patient_id": pts,
            "session_id": [f"S{p}" for p in pts],
            "treatment_date": pd.to_datetime([first] * len(pts)),
        }
    )
    day = lambda d: str((D(first) + pd.Timedelta(days=d)).date())  # noqa: E731
    labs = _labs(
        [
            # R1: bili 60 on day 40, ascites day 35, albumin 30 < LLN 35 -> both definitions
            ("R1", day(-3), "bilirubin_total", 15.0, "µmol/L", np.nan, 20.0),
            ("R1", day(40), "bilirubin_total", 60.0, "µmol/L", np.nan, 20.0),
            ("R1", day(40), "albumin", 30.0, "g/L", 35.0, 50.0),
            # R2: 3.0 mg/dL exactly (= 51.3 umol/L) on day 45 + ascites, but PD on day 55
            ("R2", day(45), "bilirubin_total", 3.0, "mg/dL", np.nan, 1.2),
            # R3: bili 45 (> ULN, > baseline 18) on day 20 + ascites day 20 + low albumin:
            #     too early and too low for Sangro, Braat candidate
            ("R3", day(-1), "bilirubin_total", 18.0, "µmol/L", np.nan, 20.0),
            ("R3", day(20), "bilirubin_total", 45.0, "µmol/L", np.nan, 20.0),
            ("R3", day(20), "albumin", 28.0, "g/L", np.nan, np.nan),  # LLN default 35
            # R4: bili 80 on day 90 + ascites day 90, no albumin: neither (reported REILD)
            ("R4", day(90), "bilirubin_total", 80.0, "µmol/L", np.nan, 20.0),
            # R5: bili 70 on day 40 + ascites, bile duct stenosis on day 30
            ("R5", day(40), "bilirubin_total", 70.0, "µmol/L", np.nan, 20.0),
            # R6: 2.99 mg/dL on day 28 (window start) + ascites: just below 3 mg/dL
            ("R6", day(28), "bilirubin_total", 2.99, "mg/dL", np.nan, 1.2),
            # R7: bili 60 on day 61 (window end) + ascites on day 61 -> Sangro candidate
            ("R7", day(61), "bilirubin_total", 60.0, "µmol/L", np.nan, 20.0),
            ("R7", day(62), "bilirubin_total", 90.0, "µmol/L", np.nan, 20.0),  # outside
        ]
    )
    ae = pd.DataFrame(
        {
            "patient_id": ["R1", "R2", "R3", "R4", "R5", "R5", "R6", "R7"],
            "ae_term": ["Ascites"] * 5 + ["Bile duct stenosis", "Ascites", "Ascites"],
            "onset_date": pd.to_datetime(
                [day(35), day(50), day(20), day(90), day(40), day(30), day(30), day(61)]
            ),
            "grade": [2, 3, 2, 3, 2, 3, 2, 2],
            "is_reild": [False, False, False, True, False, False, False, False],
        }
    )
    imaging = pd.DataFrame(
        {
            "patient_id": ["R2", "R1"],
            "assessment_date": pd.to_datetime([day(55), day(200)]),
            "reported_overall_response": ["PD", "PD"],
            "new_lesion": ["NO", "YES"],
        }
    )
    return labs, tx, ae, imaging


def test_reild_sangro(reild_data):
    labs, tx, ae, imaging = reild_data
    out = derive_reild(labs, tx, df_ae=ae, df_imaging=imaging, definition="sangro")
    status = out.set_index("patient_id")["reild_status"].to_dict()
    assert status == {
        "R1": "candidate",
        "R2": "excluded_progression",
        "R3": "not_met",
        "R4": "not_met",
        "R5": "excluded_biliary_obstruction",
        "R6": "not_met",
        "R7": "candidate",
    }
    r1 = out.set_index("patient_id").loc["R1"]
    assert r1["bilirubin_max_umol_l"] == 60.0
    assert r1["bilirubin_max_date"] == D("2024-02-10")
    assert r1["ascites_onset_date"] == D("2024-02-05")
    assert r1["ascites_grade"] == 2
    assert r1["session_id"] == "SR1"
    assert out["reild_definition"].unique().tolist() == ["sangro"]
    r2 = out.set_index("patient_id").loc["R2"]
    assert r2["is_bilirubin_met"]  # 3.0 mg/dL meets >= 3 mg/dL despite float conversion
    r7 = out.set_index("patient_id").loc["R7"]
    assert r7["bilirubin_max_umol_l"] == 60.0  # the day-62 sample is outside the window


def test_reild_braat(reild_data):
    labs, tx, ae, imaging = reild_data
    out = derive_reild(labs, tx, df_ae=ae, df_imaging=imaging, definition="Braat")
    status = out.set_index("patient_id")["reild_status"].to_dict()
    assert status["R1"] == "candidate"
    assert status["R3"] == "candidate"  # 45 > ULN 20 and > baseline 18, day 20, albumin 28
    assert status["R4"] == "not_met"  # no hypoalbuminaemia documented
    assert status["R7"] == "not_met"  # no albumin
    r3 = out.set_index("patient_id").loc["R3"]
    assert r3["bilirubin_baseline_umol_l"] == 18.0
    assert r3["is_hypoalbuminaemia_met"]
    assert r3["albumin_min_g_l"] == 28.0


def test_reild_listing_includes_reported(reild_data):
    labs, tx, ae, imaging = reild_data
    out = derive_reild(labs, tx, df_ae=ae, df_imaging=imaging)
    assert out.set_index("patient_id").loc["R4", "is_reild_reported"]
    listing = filter_reild_candidates(out)
    assert listing["patient_id"].tolist() == ["R1", "R4", "R7"]
    assert filter_reild_candidates(out, include_reported=False)["patient_id"].tolist() == [
        "R1",
        "R7",
    ]


def test_reild_custom_definition_and_no_ae(reild_data):
    labs, tx, ae, imaging = reild_data
    # a 14-120 day window with bilirubin >= 51.3 and ascites (the sirt-domain 4.3 suggestion)
    out = derive_reild(
        labs, tx, df_ae=ae, definition={"window_start_day": 14, "window_end_day": 120}
    )
    status = out.set_index("patient_id")["reild_status"]
    assert status["R4"] == "candidate"
    assert status["R2"] == "candidate"  # imaging not given: progression not checked
    no_ae = derive_reild(labs, tx)
    assert not no_ae["is_reild_candidate"].any()
    assert no_ae["is_reild_reported"].isna().all()


def test_reild_invalid_definition(reild_data):
    labs, tx, _, _ = reild_data
    with pytest.raises(ValueError, match=r"The 'definition' argument of derive_reild must be"):
        derive_reild(labs, tx, definition="kennedy")


def test_reild_definitions_are_data():
    assert set(REILD_DEFINITIONS) == {"sangro", "braat"}
    assert REILD_DEFINITIONS["braat"]["window_start_day"] == 14
    assert REILD_DEFINITIONS["braat"]["window_end_day"] == 120
    assert REILD_DEFINITIONS["sangro"]["bilirubin_min_umol_l"] == pytest.approx(3 * 17.1)


# --------------------------------------------------------------------- trajectories & plots


def test_summarise_lab_trajectories(tx):
    from sirtstats.ctcae import derive_lab_grades
    from sirtstats.toxicity import summarise_lab_trajectories

    labs = _labs(
        [
            ("P1", "2024-01-05", "bilirubin_total", 10.0, "µmol/L", np.nan, 20.0),
            ("P1", "2024-02-09", "bilirubin_total", 30.0, "µmol/L", np.nan, 20.0),  # day 30
            ("P1", "2024-02-19", "bilirubin_total", 99.0, "µmol/L", np.nan, 20.0),  # day 40
            ("P2", "2024-01-08", "bilirubin_total", 20.0, "µmol/L", np.nan, 20.0),
            ("P2", "2024-02-05", "bilirubin_total", 2.0, "mg/dL", np.nan, 1.0),  # 34.2, day 26
        ]
    )
    grades = derive_lab_grades(labs, df_treatments=tx)
    out = summarise_lab_trajectories(grades, analytes=("bilirubin_total",), min_patients=1)
    assert out["timepoint"].tolist() == ["baseline", "month_1"]
    m1 = out.set_index("timepoint").loc["month_1"]
    # one value per patient: P1 day 30 (30), P2 day 26 (34.2); P1's day-40 sample not used
    assert m1["n_patients"] == 2
    assert m1["median"] == pytest.approx(32.1)
    assert m1["q1"] == pytest.approx(31.05)
    assert m1["unit"] == "µmol/L"
    xuln = summarise_lab_trajectories(
        grades, analytes=("bilirubin_total",), scale="x_uln", min_patients=1
    )
    assert xuln.set_index("timepoint").loc["month_1", "median"] == pytest.approx((1.5 + 2.0) / 2)
    assert xuln["unit"].unique().tolist() == ["x ULN"]
    # with the default minimum of 10 patients per bin, the counts stay but not the medians
    sparse = summarise_lab_trajectories(grades, analytes=("bilirubin_total",))
    assert sparse["n_patients"].tolist() == [2, 2]
    assert sparse["median"].isna().all()


@pytest.fixture
def plt_agg():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_lab_trajectories(plt_agg, labs, tx):
    from sirtstats.ctcae import derive_lab_grades
    from sirtstats.plotting.toxicity import plot_lab_trajectories
    from sirtstats.toxicity import summarise_lab_trajectories

    traj = summarise_lab_trajectories(
        derive_lab_grades(labs, df_treatments=tx, missing_limits="ungraded"),
        analytes=("bilirubin_total", "albumin"),
        min_patients=1,
    )
    axes = plot_lab_trajectories(traj)
    assert len(axes) == 2
    assert axes[0].get_title() == "Total bilirubin"
    assert "µmol/L" in axes[0].get_ylabel()
    line = axes[0].get_lines()[0]
    np.testing.assert_allclose(
        line.get_ydata(),
        traj[traj["analyte"] == "bilirubin_total"]["median"].to_numpy(),
    )
    with pytest.raises(ValueError, match=r"'x_unit' argument of plot_lab_trajectories"):
        plot_lab_trajectories(traj, x_unit="weeks")


def test_plot_albi_change(plt_agg, labs, tx):
    from sirtstats.plotting.toxicity import plot_albi_change

    tp = derive_liver_function_timepoints(labs, tx)
    summary = summarise_liver_function_change(derive_liver_function_change(tp))
    ax = plot_albi_change(summary, df_timepoints=tp, title="ALBI")
    # the grade cut-offs are drawn
    hlines = {
        round(line.get_ydata()[0], 2) for line in ax.get_lines() if len(set(line.get_ydata())) == 1
    }
    assert {-2.6, -1.39} <= hlines
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Baseline", "Month 1", "Month 3"]
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['target_day'\]"):
        plot_albi_change(summary.drop(columns=["target_day"]))


def test_plot_albi_change_samples_patient_lines_above_max_patients(plt_agg):
    from matplotlib.collections import LineCollection

    from sirtstats.plotting.toxicity import plot_albi_change

    ids = np.repeat([f"P{i:02d}" for i in range(30)], 2)
    tp = pd.DataFrame(
        {
            "patient_id": ids,
            "target_day": np.tile([0.0, 30.0], 30),
            "albi_score": np.linspace(-3.0, -2.0, 60),
        }
    )
    summary = pd.DataFrame(
        {
            "timepoint": ["baseline", "month_1"],
            "target_day": [0, 30],
            "albi_median": [-2.8, -2.4],
            "albi_q1": [-2.9, -2.6],
            "albi_q3": [-2.6, -2.2],
            "n_albi": [30, 30],
            "n_albi_grade_worse": [np.nan, 4.0],
            "n_albi_paired": [np.nan, 30.0],
        }
    )

    def drawn(**kw):
        ax = plot_albi_change(summary, df_timepoints=tp, **kw)
        lines = next(c for c in ax.collections if isinstance(c, LineCollection))
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        return [p.tolist() for p in lines.get_segments()], legend

    all_lines, legend = drawn()
    assert len(all_lines) == 30
    assert legend[-1] == "Individual patients"
    ten, legend = drawn(max_patients=10, seed=3)
    assert len(ten) == 10
    assert legend[-1] == "Individual patients\n(random 10 of 30, seed 3)"
    assert drawn(max_patients=10, seed=3)[0] == ten  # seeded: the same figure every run
    assert drawn(max_patients=10, seed=4)[0] != ten


def test_appendix_a_child_pugh_vector_in_conventional_units(tx):
    # Appendix A: bili 2.0 mg/dL, alb 3.5 g/dL, INR 1.2, no ascites, no HE -> 2+2+1+1+1 = 7, B
    labs = _labs(
        [
            ("P2", "2024-01-08", "bilirubin_total", 2.0, "mg/dL"),
            ("P2", "2024-01-08", "albumin", 3.5, "g/dL"),
            ("P2", "2024-01-08", "inr", 1.2, "ratio"),
        ]
    )
    base = pd.DataFrame({"patient_id": ["P2"], "ascites": ["none"], "encephalopathy": ["none"]})
    out = derive_liver_function_timepoints(labs, tx, df_baseline=base)
    b = out[(out["patient_id"] == "P2") & (out["timepoint"] == "baseline")].iloc[0]
    assert b["child_pugh_points"] == 7
    assert b["child_pugh_class"] == "B"
    # ALBI of the same values: 0.66 log10(34.2) - 0.085 x 35
    assert b["albi_score"] == pytest.approx(0.66 * np.log10(34.2) - 0.085 * 35)
