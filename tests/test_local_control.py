"""Local tumour response per lesion and local control, clustered within patients (R4.4).

Staged case of tests/test_response_territory.py: right lobe on 2024-01-10 (day 0), left lobe on
2024-02-21 (day 42); scans 2024-01-03, 02-14, 04-09, 07-08 (days -7, 35, 90, 180).
Per lesion, from its own territory baseline (D20 thresholds):
R1 40 -> 30, 24, 20: best -50 % (PR). R2 20 -> 18, 16, 14: exactly -30 % (PR, inclusive, D1).
L1 from day 35, 36 -> 30, 24: -33.3 % (PR); from day -7 its growth 30 -> 36 before its own
session would already be PD.
"""

from __future__ import annotations

import lifelines
import numpy as np
import pandas as pd
import pytest

from sirtstats.dose_response import derive_lesion_dose_response
from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.local_control import (
    LOCAL_CONTROL_COLUMNS,
    derive_local_control_dose,
    fit_local_control_cox,
    summarise_local_control,
)
from sirtstats.response import derive_lesion_response
from sirtstats.response.local import (
    LOCAL_PROGRESSION_COLUMNS,
    LOCAL_RESPONSE_COLUMNS,
    derive_local_response,
    derive_time_to_local_progression,
)
from sirtstats.response.territory import derive_territory_lesions

DATES = pd.to_datetime(["2024-01-03", "2024-02-14", "2024-04-09", "2024-07-08"])
TX = pd.DataFrame({"patient_id": "P1", "session_id": ["S1", "S2"],
                   "treatment_date": pd.to_datetime(["2024-01-10", "2024-02-21"]),
                   "territory": ["right_lobe", "left_lobe"], "couinaud_segments": None})
DIAMETERS = {"R1": [40, 30, 24, 20], "R2": [20, 18, 16, 14], "L1": [30, 36, 30, 24],
             "LU": [20, 20, 20, 20]}


def _lesions():
    return pd.DataFrame({
        "lesion_id": list(DIAMETERS), "patient_id": "P1", "baseline_date": DATES[0],
        "organ": ["liver", "liver", "liver", "lung"], "is_nodal": False,
        "recist_role": "target", "mrecist_role": "none",
        "in_treated_territory": [True, True, False, False],
        "couinaud_segments": ["7", "5", "3", None],
        "absorbed_dose_gy": [250.0, 120.0, 90.0, None]})


def _measurements(diameters=DIAMETERS, drop=()):
    rows = [(lid, d, float(v)) for lid, vals in diameters.items()
            for d, v in zip(DATES, vals, strict=True) if (lid, d) not in drop]
    m = pd.DataFrame(rows, columns=["lesion_id", "assessment_date", "diameter_mm"])
    return m.assign(criterion="RECIST_1_1", fragment=1, state="measured", nontarget_status=None)


# ------------------------------------------------------------------ local response


def test_local_response_from_each_lesions_territory_baseline():
    out = derive_local_response(_lesions(), _measurements(), TX)
    assert list(out.columns) == LOCAL_RESPONSE_COLUMNS
    assert out["lesion_id"].tolist() == ["R1", "R2", "L1"]  # the lung lesion has no local scope
    assert out["baseline_diameter_mm"].tolist() == [40.0, 20.0, 36.0]
    assert np.allclose(out["best_pct_change"], [-50.0, -30.0, -100 / 3])
    assert out["lesion_response"].tolist() == ["PR", "PR", "PR"]
    assert out["treating_session_id"].tolist() == ["S1", "S1", "S2"]
    assert out["territory_baseline_date"].tolist() == [DATES[0], DATES[0], DATES[1]]
    # from the patient's baseline, L1's growth before its own session (30 -> 36 mm, +20 %)
    # would be local progression
    fixed = derive_lesion_response(_lesions(), _measurements()).set_index("lesion_id")
    assert fixed.loc["L1", "lesion_response"] == "PD"
    assert fixed.loc["L1", "first_lesion_pd_date"] == DATES[1]


def test_local_response_per_visit_starts_after_the_territory_baseline():
    out = derive_local_response(_lesions(), _measurements(), TX, per_visit=True)
    l1 = out.loc[out["lesion_id"] == "L1"]
    assert l1["assessment_date"].tolist() == [DATES[2], DATES[3]]
    assert l1["lesion_response"].tolist() == ["SD", "PR"]


def test_local_response_joins_the_dose_response_analysis():
    lr = derive_local_response(_lesions(), _measurements(), TX)
    les = derive_territory_lesions(_lesions(), TX)
    dr = derive_lesion_dose_response(lr, les)
    assert dr["lesion_id"].tolist() == ["R1", "R2", "L1"]
    assert dr["absorbed_dose_gy"].tolist() == [250.0, 120.0, 90.0]
    assert dr["in_treated_territory"].tolist() == [True, True, True]  # derived, not recorded


# ------------------------------------------------------------------ time to local progression


def test_time_to_local_progression_from_the_treating_session():
    grown = {**DIAMETERS, "L1": [30, 36, 30, 36]}  # +20 % over its nadir 30 mm: PD (D1)
    out = derive_time_to_local_progression(_lesions(), _measurements(grown), TX)
    assert list(out.columns) == LOCAL_PROGRESSION_COLUMNS
    got = out.set_index("lesion_id")
    assert got.loc["L1", "origin_date"] == pd.Timestamp("2024-02-21")
    assert got.loc["L1", "event"] == 1
    assert got.loc["L1", "time_days"] == 138
    assert got.loc["L1", "reason"] == "local progression: +20.0 % over nadir 30 mm"
    assert got.loc["R1", "event"] == 0
    assert got.loc["R1", "time_days"] == 180
    assert got.loc["R1", "time_months"] == pytest.approx(180 / 30.4375)


def test_just_below_20_percent_is_not_local_progression():
    grown = {**DIAMETERS, "L1": [30, 36, 30, 35.9]}
    out = derive_time_to_local_progression(_lesions(), _measurements(grown), TX)
    assert out.set_index("lesion_id").loc["L1", "event"] == 0


def test_death_is_censored_by_default_or_a_competing_event():
    pts = pd.DataFrame({"patient_id": ["P1"], "death_date": pd.to_datetime(["2024-09-01"])})
    cens = derive_time_to_local_progression(_lesions(), _measurements(), TX, df_patients=pts)
    assert cens["event"].tolist() == [0, 0, 0]
    comp = derive_time_to_local_progression(_lesions(), _measurements(), TX, df_patients=pts,
                                            death="competing")
    assert comp["event"].tolist() == [2, 2, 2]
    assert comp["time_days"].tolist() == [235, 235, 193]
    with pytest.raises(ValueError, match="'df_patients' argument"):
        derive_time_to_local_progression(_lesions(), _measurements(), TX, death="competing")


def test_lesion_without_territory_baseline_value_is_counted_not_evaluable():
    out = derive_time_to_local_progression(
        _lesions(), _measurements(drop={("L1", DATES[1])}), TX).set_index("lesion_id")
    assert not out.loc["L1", "is_evaluable"]
    assert pd.isna(out.loc["L1", "time_days"])
    assert pd.isna(out.loc["L1", "event"])
    assert out.loc["L1", "reason"] == "not evaluable: no value on the territory baseline"


# ------------------------------------------------------------------ statistics


def _clustered(copies):
    """10 patients, ``copies`` identical lesions each; times 1..10 months, odd ones events."""
    t = np.repeat(np.arange(1.0, 11.0), copies)
    return pd.DataFrame({"patient_id": np.repeat([f"P{i}" for i in range(10)], copies),
                         "time_months": t, "event": (t % 2 == 1).astype(int)})


def test_km_local_control_hand_computed():
    # events at 1, 3, 5, 7, 9 with 10, 8, 6, 4, 2 at risk: S(6) = .9 * 7/8 * 5/6
    with pytest.warns(SirtStatsWarning, match="5 local progression"):
        out = summarise_local_control(_clustered(1), times=[0.5, 6, 12], n_boot=50)
    assert list(out.columns) == LOCAL_CONTROL_COLUMNS
    assert out["local_control"].iloc[0] == pytest.approx(1.0)
    assert out["local_control"].iloc[1] == pytest.approx(0.9 * 7 / 8 * 5 / 6)
    assert np.isnan(out["local_control"].iloc[2])  # beyond the last follow-up
    assert out["n_at_risk"].tolist() == [10, 5, 0]


def test_cluster_bootstrap_ci_is_wider_than_treating_lesions_as_independent():
    out = summarise_local_control(_clustered(3), times=[6], n_boot=400, seed=1)  # 15 events
    row = out.iloc[0]
    assert row["local_control"] == pytest.approx(0.9 * 7 / 8 * 5 / 6)
    assert row["lower"] <= row["local_control"] <= row["upper"]
    assert (row["upper"] - row["lower"]) > 1.3 * (row["upper_unclustered"]
                                                  - row["lower_unclustered"])
    assert row["n_lesions"] == 30
    assert row["n_patients"] == 10


def test_not_evaluable_and_competing_rows():
    df = _clustered(1).assign(is_evaluable=[True] * 9 + [False])
    df.loc[0, "event"] = 2  # a competing death at 1 month is censored in the KM
    with pytest.warns(SirtStatsWarning):
        out = summarise_local_control(df, times=[2], n_boot=20)
    assert out.attrs["n_excluded"] == 1
    assert out["n_lesions"].iloc[0] == 9
    assert out["local_control"].iloc[0] == pytest.approx(1.0)  # 8/9 if it were an event


def _cox_data(copies):
    rng = np.random.default_rng(7)
    n = 40
    dose = rng.uniform(0.5, 3.0, n)
    t = rng.exponential(12.0 * np.exp(0.6 * dose)) + 0.01 * np.arange(n)
    e = (rng.random(n) < 0.8).astype(int)
    df = pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)], "time_months": t,
                       "event": e, "absorbed_dose_100gy": dose})
    return pd.concat([df] * copies, ignore_index=True)


def test_cox_clustered_se_keeps_the_estimate_and_accounts_for_duplicated_lesions():
    single = fit_local_control_cox(_cox_data(1), ["absorbed_dose_100gy"])
    plain = lifelines.CoxPHFitter().fit(
        _cox_data(1)[["time_months", "event", "absorbed_dose_100gy"]], "time_months", "event")
    assert single.hr_table["coef"].iloc[0] == pytest.approx(plain.params_.iloc[0], rel=1e-6)
    dup = fit_local_control_cox(_cox_data(3), ["absorbed_dose_100gy"])
    naive = lifelines.CoxPHFitter().fit(
        _cox_data(3)[["time_months", "event", "absorbed_dose_100gy"]], "time_months", "event")
    assert dup.n_lesions == 120
    assert dup.n_patients == 40
    assert dup.hr_table["se_robust"].iloc[0] > 1.4 * naive.standard_errors_.iloc[0]
    assert dup.hr_table["se_robust"].iloc[0] == pytest.approx(
        single.hr_table["se_robust"].iloc[0], rel=0.2)


def test_cox_errors():
    with pytest.raises(SirtDataError, match="missing covariate column"):
        fit_local_control_cox(_cox_data(1), ["dose"])
    with pytest.raises(SirtDataError, match="no local progression"):
        fit_local_control_cox(_cox_data(1).assign(event=0), ["absorbed_dose_100gy"])


def test_dose_join_keeps_rows_without_dose():
    tt = derive_time_to_local_progression(_lesions(), _measurements(), TX)
    out = derive_local_control_dose(tt, _lesions())
    assert out["absorbed_dose_100gy"].tolist() == [2.5, 1.2, 0.9]
    with pytest.raises(SirtDataError, match="no column 'dose_gy'"):
        derive_local_control_dose(tt, _lesions(), dose_col="dose_gy")


def test_local_control_curve_for_plot_km_censors_competing_and_skips_not_evaluable():
    from sirtstats.local_control import compute_local_control_curve

    df = _clustered(1).assign(is_evaluable=[True] * 9 + [False])
    df.loc[0, "event"] = 2
    curve = compute_local_control_curve(df)
    assert set(curve["endpoint"]) == {"TTLP"}
    assert curve["n_risk"].iloc[0] == 9
    assert curve["n_event"].sum() == 4  # events at 3, 5, 7, 9; the death at 1 is censored
    # at risk 7, 5, 3, 1 at the events 3, 5, 7, 9
    at7 = curve.loc[curve["time"] == 7.0, "surv"].iloc[0]
    assert at7 == pytest.approx(6 / 7 * 4 / 5 * 2 / 3)
    assert curve["surv"].iloc[-1] == pytest.approx(0.0)
