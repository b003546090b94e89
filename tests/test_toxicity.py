"""Tests for sirtstats.toxicity: treatment-emergent window, AE tables, lab shifts, mortality.

Expected counts are written by hand from the small inline frames; the Clopper-Pearson limits are
recomputed with scipy's beta quantiles (an independent route from statsmodels).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from sirtstats import SirtDataError, SirtStatsWarning
from sirtstats.ctcae import derive_lab_grades
from sirtstats.toxicity import (
    derive_first_worst_flag,
    derive_treatment_emergent,
    filter_lab_adverse_events,
    filter_treatment_emergent,
    pivot_ae_table,
    summarise_ae_grade_counts,
    summarise_ae_table,
    summarise_early_mortality,
    summarise_lab_vs_reported,
    summarise_shift_table,
    summarise_worst_grade,
    summarise_worst_lab_grades,
)

D = pd.Timestamp


@pytest.fixture
def tx():
    # P1: two sessions (2 injections in S1) on 2024-01-10 and 2024-04-10; P2: one session.
    return pd.DataFrame(
        {
            "injection_id": ["I1", "I2", "I3", "I4"],
            "session_id": ["S1", "S1", "S2", "S3"],
            "patient_id": ["P1", "P1", "P1", "P2"],
            "treatment_date": pd.to_datetime(
                ["2024-01-10", "2024-01-10", "2024-04-10", "2024-02-01"]
            ),
        }
    )


@pytest.fixture
def ae():
    return pd.DataFrame(
        {
            "ae_id": [f"A{i}" for i in range(1, 9)],
            "patient_id": ["P1", "P1", "P1", "P1", "P1", "P2", "P2", "P3"],
            "ae_term": [
                "Fatigue",
                "Abdominal pain",
                "Fatigue",
                "Ascites",
                "Nausea",
                "Fatigue",
                "Fever",
                "Fatigue",
            ],
            "onset_date": pd.to_datetime(
                [
                    "2024-01-09",  # P1 day -1: before SIRT
                    "2024-01-10",  # day 0
                    "2024-04-09",  # day 90 after S1 (the day before S2)
                    "2024-07-09",  # S2 + 90
                    "2024-07-10",  # S2 + 91
                    "2024-02-01",  # P2 day 0
                    "2024-05-02",  # P2 day 91
                    "2024-01-01",  # P3 has no SIRT
                ]
            ),
            "grade": [1, 2, 3, 3, 1, 2, 1, 2],
        },
        index=list("abcdefgh"),
    )


# ------------------------------------------------------------------ treatment-emergent window


def test_treatment_emergent_last_session_window(ae, tx):
    out = derive_treatment_emergent(ae, tx)
    assert out.index.tolist() == list("abcdefgh")
    assert out["is_treatment_emergent"].tolist() == [
        False,  # before SIRT
        True,  # SIRT day
        True,
        True,  # last session + 90 is inside
        False,  # + 91 outside
        True,
        False,  # P2 day 91
        False,  # no SIRT at all
    ]
    assert out["days_from_first_sirt"].tolist()[:5] == [-1, 0, 90, 181, 182]
    assert out["reference_session_id"].tolist()[:5] == [np.nan, "S1", "S1", "S2", "S2"]
    assert out["days_from_session"].tolist()[3] == 90
    assert out["first_sirt_date"].iloc[0] == D("2024-01-10")
    assert out["last_sirt_date"].iloc[0] == D("2024-04-10")
    assert pd.isna(out["first_sirt_date"].iloc[7])


def test_treatment_emergent_each_session_window(ae, tx):
    out = derive_treatment_emergent(ae, tx, window_days=30, end="each_session")
    # day 90 after S1 is outside S1 + 30; S2 + 90 outside S2 + 30
    assert out["is_treatment_emergent"].tolist() == [
        False,
        True,
        False,
        False,
        False,
        True,
        False,
        False,
    ]
    last = derive_treatment_emergent(ae, tx, window_days=30, end="last_session")
    # with one window from S1 to S2 + 30, day 90 after S1 is inside
    assert last["is_treatment_emergent"].tolist()[2] is True


def test_treatment_emergent_start_offset(ae, tx):
    out = derive_treatment_emergent(ae, tx, start_offset_days=1)
    assert out["is_treatment_emergent"].tolist()[1] is False  # SIRT day no longer counts
    assert out["is_treatment_emergent"].tolist()[5] is False
    out = derive_treatment_emergent(ae, tx, start_offset_days=-1)
    assert out["is_treatment_emergent"].tolist()[0] is True  # the day before counts


def test_treatment_emergent_window_boundary_both_sides(tx):
    ae = pd.DataFrame(
        {
            "patient_id": ["P2"] * 4,
            "onset_date": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-03-02", "2024-03-03"]),
        }
    )
    # 30-day window from 2024-02-01: day -1 out, day 0 in, day 30 in, day 31 out
    out = derive_treatment_emergent(ae, tx, window_days=30)
    assert out["is_treatment_emergent"].tolist() == [False, True, True, False]


def test_treatment_emergent_missing_onset_names_the_row(ae, tx):
    bad = ae.copy()
    bad.loc["c", "onset_date"] = pd.NaT
    with pytest.raises(SirtDataError, match=r"onset_date: 1 rows .*\(A3, P1\)") as err:
        derive_treatment_emergent(bad, tx)
    assert err.value.rows.index.tolist() == ["c"]


def test_treatment_emergent_invalid_arguments(ae, tx):
    with pytest.raises(
        ValueError,
        match=r"The 'end' argument of derive_treatment_emergent must be one of "
        r"\{'last_session', 'each_session'\}\. Got 'first' instead\.",
    ):
        derive_treatment_emergent(ae, tx, end="first")
    with pytest.raises(ValueError, match=r"'window_days' .* must be >= 0"):
        derive_treatment_emergent(ae, tx, window_days=-1)
    with pytest.raises(SirtDataError, match=r"treatments: missing required column"):
        derive_treatment_emergent(ae, tx.drop(columns=["treatment_date"]))


def test_treatment_emergent_does_not_mutate(ae, tx):
    a, t = ae.copy(), tx.copy()
    derive_treatment_emergent(ae, tx)
    pd.testing.assert_frame_equal(ae, a)
    pd.testing.assert_frame_equal(tx, t)


def test_sessions_without_session_id_are_days(ae, tx):
    out = derive_treatment_emergent(ae, tx.drop(columns=["session_id"]))
    assert out["reference_session_id"].iloc[3] == "2024-04-10"
    assert out["is_treatment_emergent"].sum() == 4


def test_filter_treatment_emergent(ae, tx):
    te = filter_treatment_emergent(derive_treatment_emergent(ae, tx))
    assert te.index.tolist() == ["b", "c", "d", "f"]


def test_first_worst_flag(ae, tx):
    te = derive_treatment_emergent(ae, tx)
    out = derive_first_worst_flag(te)
    # P1 TEAEs: b(2), c(3, 2024-04-09), d(3, 2024-07-09) -> c; P2: f
    assert out.index[out["is_first_worst"]].tolist() == ["c", "f"]
    per_term = derive_first_worst_flag(te, subject_keys=("patient_id", "ae_term"))
    assert per_term.index[per_term["is_first_worst"]].tolist() == ["b", "c", "d", "f"]


# ------------------------------------------------------------------------------- AE tables


@pytest.fixture
def population():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4", "P5"],
            "device": ["Y90_glass", "Y90_resin", "Y90_glass", "Y90_resin", "Y90_glass"],
        }
    )


@pytest.fixture
def te_ae():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P2", "P2", "P3", "P9"],
            "ae_term": ["Fatigue", "Fatigue", "Ascites", "Fatigue", "Nausea", "Nausea", "Fatigue"],
            "soc": [
                "General disorders",
                "General disorders",
                "Gastrointestinal disorders",
                "General disorders",
                None,
                "Gastrointestinal disorders",
                "General disorders",
            ],
            "grade": [1, 3, 2, 2, 1, 3, 4],
        }
    )


def test_summarise_worst_grade(te_ae):
    out = summarise_worst_grade(te_ae)
    expected = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2", "P2", "P3", "P9"],
            "ae_term": ["Ascites", "Fatigue", "Fatigue", "Nausea", "Nausea", "Fatigue"],
            "worst_grade": pd.array([2, 3, 2, 1, 3, 4], dtype="Int64"),
            "n_events": [1, 2, 1, 1, 1, 1],
        }
    )
    pd.testing.assert_frame_equal(out, expected)


def test_summarise_ae_table_counts_patients_at_worst_grade(te_ae, population):
    out = summarise_ae_table(te_ae, population)
    # P9 is outside the population: ignored. N = 5.
    expected = pd.DataFrame(
        {
            "ae_term": ["Any adverse event", "Fatigue", "Nausea", "Ascites"],
            "N": [5, 5, 5, 5],
            "n_any_grade": [3, 2, 2, 1],
            "pct_any_grade": [60.0, 40.0, 40.0, 20.0],
            "n_grade_3plus": [2, 1, 1, 0],
            "pct_grade_3plus": [40.0, 20.0, 20.0, 0.0],
            "any_grade": ["3 (60.0%)", "2 (40.0%)", "2 (40.0%)", "1 (20.0%)"],
            "grade_3plus": ["2 (40.0%)", "1 (20.0%)", "1 (20.0%)", "0 (0.0%)"],
        }
    )
    pd.testing.assert_frame_equal(out, expected)


def test_summarise_ae_table_by_group_with_total(te_ae, population):
    out = summarise_ae_table(te_ae, population, groupby="device")
    assert out["device"].unique().tolist() == ["Y90_glass", "Y90_resin", "All"]
    glass = out[out["device"] == "Y90_glass"].set_index("ae_term")
    resin = out[out["device"] == "Y90_resin"].set_index("ae_term")
    assert (glass["N"] == 3).all()
    assert (resin["N"] == 2).all()
    # glass: P1 (Fatigue 3, Ascites 2), P3 (Nausea 3), P5 none
    assert glass.loc["Any adverse event", "n_any_grade"] == 2
    assert glass.loc["Any adverse event", "n_grade_3plus"] == 2
    assert glass.loc["Fatigue", "any_grade"] == "1 (33.3%)"
    assert glass.loc["Nausea", "n_grade_3plus"] == 1
    # resin: P2 (Fatigue 2, Nausea 1), P4 none; Ascites row present with 0
    assert resin.loc["Ascites", "n_any_grade"] == 0
    assert resin.loc["Fatigue", "grade_3plus"] == "0 (0.0%)"
    assert resin.loc["Any adverse event", "any_grade"] == "1 (50.0%)"
    total = out[out["device"] == "All"].set_index("ae_term")
    assert total.loc["Any adverse event", "N"] == 5
    wide = pivot_ae_table(out, groupby="device")
    assert wide.loc["Fatigue", "Y90_glass (N=3) any grade"] == "1 (33.3%)"
    assert wide.loc["Nausea", "All (N=5) grade ≥ 3"] == "1 (20.0%)"


def test_summarise_ae_table_by_soc_and_high_grade(te_ae, population):
    out = summarise_ae_table(te_ae, population, by="soc", high_grade=2, include_any=False)
    out = out.set_index("soc")
    assert out.index.tolist() == [
        "Gastrointestinal disorders",
        "General disorders",
        "SOC not given",
    ]
    assert out.loc["Gastrointestinal disorders", "n_any_grade"] == 2  # P1 ascites, P3 nausea
    assert out.loc["Gastrointestinal disorders", "n_grade_2plus"] == 2
    assert out.loc["SOC not given", "n_grade_2plus"] == 0
    with pytest.raises(ValueError, match=r"The 'by' argument of summarise_ae_table"):
        summarise_ae_table(te_ae, population, by="term")


def test_summarise_ae_table_empty_events(population):
    empty = pd.DataFrame({"patient_id": [], "ae_term": [], "grade": []})
    out = summarise_ae_table(empty, population)
    assert out["ae_term"].tolist() == ["Any adverse event"]
    assert out["any_grade"].tolist() == ["0 (0.0%)"]


def test_summarise_ae_grade_counts(te_ae, population):
    out = summarise_ae_grade_counts(te_ae, population)
    fatigue = out[out["ae_term"] == "Fatigue"].set_index("grade")["n"]
    assert fatigue.tolist() == [0, 1, 1, 0, 0]  # P1 worst 3, P2 worst 2
    assert out["N"].unique().tolist() == [5]
    assert out["ae_term"].unique().tolist() == ["Fatigue", "Nausea", "Ascites"]


# ----------------------------------------------------------------------- lab-derived AEs


@pytest.fixture
def lab_grades(tx):
    labs = pd.DataFrame(
        {
            "patient_id": ["P1"] * 5 + ["P2"] * 3,
            "sample_date": pd.to_datetime(
                [
                    "2024-01-05",  # baseline bili 15 (ULN 20): grade 0
                    "2024-02-10",  # 35 = 1.75 x ULN: grade 2
                    "2024-07-20",  # S2 + 101: outside the 90-day window
                    "2024-01-05",  # baseline platelets 100 (LLN 150): grade 1
                    "2024-02-10",  # 60: grade 2
                    "2024-01-20",  # P2 baseline bili 30 (abnormal, ULN 20): grade 1
                    "2024-02-20",  # 40 = 1.33 x baseline: grade 1 -> not worse
                    "2024-03-01",  # 50 = 1.67 x baseline: grade 2
                ]
            ),
            "analyte": ["bilirubin_total"] * 3 + ["platelets"] * 2 + ["bilirubin_total"] * 3,
            "value": [15.0, 35.0, 250.0, 100.0, 60.0, 30.0, 40.0, 50.0],
            "unit": ["µmol/L"] * 3 + ["10^9/L"] * 2 + ["µmol/L"] * 3,
            "lln": [np.nan] * 3 + [150.0, 150.0] + [np.nan] * 3,
            "uln": [20.0] * 3 + [400.0, 400.0] + [20.0] * 3,
        }
    )
    return derive_lab_grades(labs, df_treatments=tx)


def test_summarise_worst_lab_grades(lab_grades, tx):
    out = summarise_worst_lab_grades(lab_grades, tx)
    expected = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2"],
            "analyte": ["bilirubin_total", "platelets", "bilirubin_total"],
            "ae_term": ["Blood bilirubin increased", "Platelet count decreased"]
            + ["Blood bilirubin increased"],
            "baseline_grade": pd.array([0, 1, 1], dtype="Int64"),
            "grade": pd.array([2, 2, 2], dtype="Int64"),
            "onset_date": pd.to_datetime(["2024-02-10", "2024-02-10", "2024-03-01"]),
            "worst_value_si": [35.0, 60.0, 50.0],
            "unit_si": ["µmol/L", "10^9/L", "µmol/L"],
            "n_post_samples": [1, 1, 2],
            "is_treatment_emergent": [True, True, True],
        }
    )
    pd.testing.assert_frame_equal(out, expected)


def test_worst_lab_grade_window_and_no_post_sample(lab_grades, tx):
    out = summarise_worst_lab_grades(lab_grades, tx, window_days=200)
    # the 250 umol/L sample (S2 + 101) is now inside: 12.5 x ULN -> grade 4
    p1 = out[(out["patient_id"] == "P1") & (out["analyte"] == "bilirubin_total")]
    assert p1["grade"].item() == 4
    short = summarise_worst_lab_grades(lab_grades, tx, window_days=10, end="each_session")
    p2 = short[short["patient_id"] == "P2"]
    # P2 session 2024-02-01: samples on +19 and +29 are outside a 10-day window
    assert pd.isna(p2["grade"].item())
    assert p2["n_post_samples"].item() == 0
    assert not p2["is_treatment_emergent"].item()


def test_filter_lab_adverse_events(lab_grades, tx):
    worst = summarise_worst_lab_grades(lab_grades, tx)
    assert len(filter_lab_adverse_events(worst)) == 3
    assert len(filter_lab_adverse_events(worst, min_grade=3)) == 0


def test_shift_table(lab_grades, tx):
    out = summarise_shift_table(summarise_worst_lab_grades(lab_grades, tx))
    bili = out[out["ae_term"] == "Blood bilirubin increased"].set_index("baseline_grade")
    assert bili.index.tolist() == ["0", "1", "2", "3", "4"]
    assert bili.loc["0", "post_grade_2"] == 1  # P1: 0 -> 2
    assert bili.loc["1", "post_grade_2"] == 1  # P2: 1 -> 2
    assert bili["n"].tolist() == [1, 1, 0, 0, 0]
    plt_ = out[out["ae_term"] == "Platelet count decreased"].set_index("baseline_grade")
    assert plt_.loc["1", "post_grade_2"] == 1
    # a 10-day window after each session holds no post-baseline sample: all "missing"
    short = summarise_worst_lab_grades(lab_grades, tx, window_days=10, end="each_session")
    out = summarise_shift_table(short)
    bili = out[out["ae_term"] == "Blood bilirubin increased"].set_index("baseline_grade")
    assert bili.loc["0", "post_missing"] == 1
    assert bili.loc["1", "post_missing"] == 1
    assert bili[[f"post_grade_{g}" for g in range(5)]].to_numpy().sum() == 0
    assert list(out.columns) == [
        "ae_term",
        "baseline_grade",
        "post_grade_0",
        "post_grade_1",
        "post_grade_2",
        "post_grade_3",
        "post_grade_4",
        "post_missing",
        "n",
    ]


def test_shift_table_counts_missing_baseline():
    worst = pd.DataFrame(
        {
            "ae_term": ["Anemia", "Anemia", "Anemia"],
            "baseline_grade": pd.array([pd.NA, 0, 0], dtype="Int64"),
            "grade": pd.array([1, 0, 3], dtype="Int64"),
        }
    )
    out = summarise_shift_table(worst).set_index("baseline_grade")
    assert out.index.tolist() == ["0", "1", "2", "3", "4", "missing"]
    assert out.loc["0", ["post_grade_0", "post_grade_3", "n"]].tolist() == [1, 1, 2]
    assert out.loc["missing", "post_grade_1"] == 1


def test_lab_vs_reported(lab_grades, tx, population):
    lab_ae = filter_lab_adverse_events(summarise_worst_lab_grades(lab_grades, tx))
    reported = pd.DataFrame(
        {
            "patient_id": ["P1", "P3", "P3"],
            "ae_term": ["blood bilirubin increased", "Platelet count decreased", "Fatigue"],
            "grade": [3, 1, 2],
        }
    )
    out = summarise_lab_vs_reported(lab_ae, reported, population).set_index("ae_term")
    assert out.loc["Blood bilirubin increased", "n_lab_any"] == 2
    assert out.loc["Blood bilirubin increased", "n_reported_any"] == 1
    assert out.loc["Blood bilirubin increased", "n_reported_high"] == 1
    assert out.loc["Platelet count decreased", "lab_any_grade"] == "1 (20.0%)"
    assert out.loc["Platelet count decreased", "reported_any_grade"] == "1 (20.0%)"
    assert "Fatigue" not in out.index  # not a lab term
    assert out.loc["Anemia", "n_lab_any"] == 0


# -------------------------------------------------------------------------- early mortality


@pytest.fixture
def patients():
    first = D("2024-01-01")
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "device": ["Y90_glass"] * 3 + ["Y90_resin"] * 3,
            "first_sirt_date": [first] * 5 + [pd.NaT],
            "death_date": pd.to_datetime(
                ["2024-01-31", "2024-02-01", None, None, "2024-03-20", None]
            ),
            "last_contact_date": pd.to_datetime(
                ["2024-01-31", "2024-02-01", "2024-01-25", "2024-06-01", "2024-03-20", "2024-06-01"]
            ),
        }
    )


def test_early_mortality_counts_and_exact_ci(patients):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        out = summarise_early_mortality(patients)
    d30 = out.set_index("horizon_days").loc[30]
    # P1 dies on day 30 (counts), P2 on day 31 (does not); P3 alive, followed 24 d: excluded;
    # P4 followed; P5 dies day 79; P6 has no SIRT date.
    assert d30["n_patients"] == 6
    assert d30["n_no_origin"] == 1
    assert d30["n_incomplete_followup"] == 1
    assert d30["n_evaluable"] == 4
    assert d30["n_deaths"] == 1
    assert d30["mortality_pct"] == pytest.approx(25.0)
    assert d30["ci_low_pct"] == pytest.approx(100 * beta.ppf(0.025, 1, 4))
    assert d30["ci_high_pct"] == pytest.approx(100 * beta.ppf(0.975, 2, 3))
    d90 = out.set_index("horizon_days").loc[90]
    assert d90["n_deaths"] == 3
    assert d90["n_evaluable"] == 4  # P4 (152 d) still evaluable
    assert d90["mortality"] == (
        f"75.0% ({100 * beta.ppf(0.025, 3, 2):.1f}-{100 * beta.ppf(0.975, 4, 1):.1f})"
    )


def test_early_mortality_zero_deaths_has_upper_limit():
    pts = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(12)],
            "first_sirt_date": [D("2024-01-01")] * 12,
            "death_date": [pd.NaT] * 12,
            "last_contact_date": [D("2025-01-01")] * 12,
        }
    )
    out = summarise_early_mortality(pts, days=(30,))
    assert out["mortality_pct"].item() == 0.0
    assert out["ci_low_pct"].item() == 0.0
    assert out["ci_high_pct"].item() == pytest.approx(100 * (1 - 0.025 ** (1 / 12)))


def test_early_mortality_cutoff(patients):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        out = summarise_early_mortality(patients, cutoff_date="2024-02-15", days=(30, 90))
    d90 = out.set_index("horizon_days").loc[90]
    # at the cut-off P4 has only 45 days of follow-up and P5's death is after it
    assert d90["n_deaths"] == 2
    assert d90["n_evaluable"] == 2


def test_early_mortality_by_group_and_warning(patients):
    with pytest.warns(SirtStatsWarning) as record:
        out = summarise_early_mortality(patients, groupby="device", days=(30,))
    messages = [str(w.message) for w in record]
    assert "30-day mortality in group 'Y90_glass': only 2 evaluable patients" in messages[0]
    assert len(messages) == 3
    assert out["device"].tolist() == ["Y90_glass", "Y90_resin", "All"]
    assert out["n_evaluable"].tolist() == [2, 2, 4]
    assert out["n_deaths"].tolist() == [1, 0, 1]


def test_early_mortality_prefers_followup_end_date(patients):
    pts = patients.assign(followup_end_date=pd.to_datetime(["2024-01-31"] * 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        out = summarise_early_mortality(pts, days=(90,))
    # only deaths keep these patients evaluable at 90 days
    assert out["n_evaluable"].item() == 3


def test_early_mortality_missing_column(patients):
    with pytest.raises(SirtDataError, match=r"missing required column\(s\) \['death_date'\]"):
        summarise_early_mortality(patients.drop(columns=["death_date"]))


# ------------------------------------------------------------------------------------ plots


@pytest.fixture
def plt_agg():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.mark.parametrize("kind", ["bar", "heatmap"])
def test_plot_ae_grades_draws_the_counts(plt_agg, te_ae, population, kind):
    from sirtstats.plotting.toxicity import plot_ae_grades

    counts = summarise_ae_grade_counts(te_ae, population)
    ax = plot_ae_grades(counts, kind=kind, title="TEAE")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Fatigue", "Nausea", "Ascites"]
    if kind == "bar":
        # Fatigue: grade 2 (20 %) and grade 3 (20 %) stacked -> widths by grade
        widths = [p.get_width() for p in ax.patches]
        assert sorted(w for w in widths if w > 0) == [20.0, 20.0, 20.0, 20.0, 20.0]
    else:
        texts = {t.get_text() for t in ax.texts}
        assert texts <= {"0", "1"}
    assert ax.get_title() == "TEAE"


def test_plot_ae_grades_rejects_bad_input(plt_agg, te_ae, population):
    from sirtstats.plotting.toxicity import plot_ae_grades

    counts = summarise_ae_grade_counts(te_ae, population)
    with pytest.raises(ValueError, match=r"The 'kind' argument of plot_ae_grades"):
        plot_ae_grades(counts, kind="pie")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['pct'\]"):
        plot_ae_grades(counts.drop(columns=["pct"]))


def test_plot_ae_grades_uses_given_axes(plt_agg, te_ae, population):
    from sirtstats.plotting.toxicity import plot_ae_grades

    fig, ax = plt_agg.subplots()
    assert plot_ae_grades(summarise_ae_grade_counts(te_ae, population), ax) is ax


def test_pivot_without_group(te_ae, population):
    wide = pivot_ae_table(summarise_ae_table(te_ae, population))
    assert wide.columns.tolist() == ["All (N=5) any grade", "All (N=5) grade ≥ 3"]
    assert wide.loc["Any adverse event", "All (N=5) any grade"] == "3 (60.0%)"


def test_toxicity_metrics(te_ae, population, patients):
    from sirtstats.toxicity import summarise_toxicity_metrics

    table = summarise_ae_table(te_ae, population, groupby="device")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        mort = summarise_early_mortality(patients, groupby="device")
    reild = pd.DataFrame(
        {
            "reild_definition": ["sangro"] * 3,
            "is_reild_candidate": [True, False, False],
            "is_reild_reported": pd.array([True, True, pd.NA], dtype="boolean"),
        }
    )
    m = summarise_toxicity_metrics(table, mort, reild)
    assert m["n_patients"] == 5
    assert m["n_any_teae"] == 3
    assert m["pct_grade3plus_teae"] == pytest.approx(40.0)
    assert m["mortality_30d_n_evaluable"] == 4
    assert m["mortality_30d_pct"] == pytest.approx(25.0)
    assert m["mortality_90d_n_deaths"] == 3
    assert m["n_reild_candidates"] == 1
    assert m["n_reild_reported"] == 2
    assert m["reild_definition"] == "sangro"
    import json

    json.dumps(m)  # plain Python types only
