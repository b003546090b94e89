"""PERCIST analyses (rules P1.11-P1.14): analysis set, rates with exact CIs, agreement with
RECIST (kappa, cross-table), time to metabolic progression, best SULpeak change and its
waterfall. Expected values worked by hand."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from sirtstats.exceptions import SirtStatsWarning  # noqa: E402
from sirtstats.metabolic import (  # noqa: E402
    derive_best_metabolic_response,
    derive_best_sul_change,
    derive_metabolic_endpoints,
    derive_percist_baseline,
    derive_percist_response,
    summarise_metabolic_agreement,
    summarise_metabolic_response_rates,
)
from sirtstats.plotting.metabolic import METABOLIC_COLORS, plot_metabolic_waterfall  # noqa: E402

D0, D1, D2 = pd.Timestamp("2024-01-10"), pd.Timestamp("2024-04-10"), pd.Timestamp("2024-07-10")
ORIGIN = pd.Timestamp("2024-01-15")


def _pet(pid, n=2, *, new=("NO", "NO", "NO"), bp=(1.5, 0.2)):
    """Blood-pool threshold 2 x 1.5 + 2 x 0.2 = 3.4 SUL; background limit 1.9 SUL."""
    return pd.DataFrame({"patient_id": pid, "scan_date": [D0, D1, D2][:n],
                         "liver_sul_mean": 2.0, "liver_sul_sd": 0.3,
                         "blood_pool_sul_mean": bp[0], "blood_pool_sul_sd": bp[1],
                         "new_fdg_avid_lesion": list(new[:n])})


def _les(pid, values, organ="liver"):
    rows = [{"patient_id": pid, "lesion_id": f"{pid}-{lid}", "scan_date": [D0, D1, D2][i],
             "sul_peak": s, "organ": organ}
            for lid, suls in values.items() for i, s in enumerate(suls)]
    return pd.DataFrame(rows)


def _cohort(cases):
    pet = pd.concat([_pet(pid, len(next(iter(v.values()))), new=new) for pid, (v, new)
                     in cases.items()], ignore_index=True)
    les = pd.concat([_les(pid, v) for pid, (v, _new) in cases.items()], ignore_index=True)
    return pet, les


# P1.11 analysis set and rates -----------------------------------------------------------------

CASES = {
    "P1": ({"L1": [8.0, 1.8]}, ("NO", "NO")),            # all at background -> CMR
    "P2": ({"L1": [8.0, 5.6]}, ("NO", "NO")),            # -30 % exactly, -2.4 -> PMR
    "P3": ({"L1": [8.0, 7.0]}, ("NO", "NO")),            # -12.5 % -> SMD
    "P4": ({"L1": [8.0]}, ("NO",)),                      # baseline only -> MISSING
    "P5": ({"L1": [3.39, 2.0]}, ("NO", "NO")),           # 3.39 < 3.4: not measurable
}


def test_baseline_measurability_and_reference():
    pet, les = _cohort(CASES)
    base = derive_percist_baseline(pet, les)
    assert base["is_measurable"].tolist() == [True, True, True, True, False]
    assert base["reference"].unique().tolist() == ["blood_pool"]  # hepatic disease (P1.2)
    assert base["threshold_sul"].iloc[0] == pytest.approx(3.4)
    assert base["n_followup_scans"].tolist() == [1, 1, 1, 0, 1]
    liver = derive_percist_baseline(pet, les, reference="liver")   # 1.5 x 2.0 + 2 x 0.3 = 3.6
    assert liver["threshold_sul"].iloc[0] == pytest.approx(3.6)


def test_rates_have_exact_clopper_pearson_cis_and_measurable_denominator():
    pet, les = _cohort(CASES)
    resp = derive_percist_response(pet, les)
    bmr = derive_best_metabolic_response(resp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        r = summarise_metabolic_response_rates(bmr, derive_percist_baseline(pet, les)).iloc[0]
    # analysis set P1-P4 (P5 not measurable); P4 without follow-up is a non-responder
    assert (r["n"], r["n_not_measurable"], r["n_missing"]) == (4, 1, 1)
    assert (r["n_responders"], r["n_cmr"], r["n_disease_control"]) == (2, 1, 3)
    assert r["mrr_pct"] == pytest.approx(50.0)
    # Clopper-Pearson 2/4: Beta(0.025; 2, 3) = 0.0676, Beta(0.975; 3, 2) = 0.9324
    assert (r["mrr_ci_lower_pct"], r["mrr_ci_upper_pct"]) == pytest.approx((6.76, 93.24),
                                                                           abs=0.01)
    # 1/4: (1 - 0.975^(1/4), Beta(0.975; 2, 3)) = (0.63 %, 80.59 %)
    assert (r["cmr_ci_lower_pct"], r["cmr_ci_upper_pct"]) == pytest.approx((0.63, 80.59),
                                                                           abs=0.01)


def test_small_analysis_set_warns():
    pet, les = _cohort(CASES)
    bmr = derive_best_metabolic_response(derive_percist_response(pet, les))
    with pytest.warns(SirtStatsWarning, match="PERCIST analysis set"):
        summarise_metabolic_response_rates(bmr, derive_percist_baseline(pet, les))


# P1.13 agreement with RECIST ------------------------------------------------------------------

def test_agreement_kappa_and_crosstab_in_metabolic_codes():
    ids = [f"P{i}" for i in range(10)]
    bmr = pd.DataFrame({"patient_id": ids,
                        "bmr": ["CMR", "PMR", "PMR", "PMR", "PMR"] + ["SMD"] * 3 + ["PMD"] * 2})
    bor = pd.DataFrame({"patient_id": ids,
                        "bor": ["PR", "PR", "PR", "SD", "SD"] + ["SD"] * 3 + ["PD"] * 2})
    a = summarise_metabolic_agreement(bmr, bor)
    # responder 2x2: both 3, PET only 2, RECIST only 0, neither 5: po = 0.8,
    # pe = 0.5 x 0.3 + 0.5 x 0.7 = 0.5 -> kappa = 0.3 / 0.5 = 0.6
    assert a.kappa == pytest.approx(0.6)
    assert a.responder_table.to_numpy().tolist() == [[3, 2], [0, 5]]
    assert a.crosstab.loc["CMR", "PR"] == 1
    assert a.crosstab.loc["PMR", "SD"] == 2
    assert a.crosstab.loc["PMD", "PD"] == 2
    assert "NON_CR_NON_PD" not in a.crosstab.index
    assert a.crosstab.index.name == "PERCIST_1_0"
    # exact McNemar on the 2 discordant pairs (2 vs 0): p = 2 x 0.5^2 = 0.5
    assert a.mcnemar_p == pytest.approx(0.5)
    assert a.to_frame()["statistic"].str.contains("PERCIST 1.0").any()


def test_agreement_rejects_recist_codes_in_bmr():
    bmr = pd.DataFrame({"patient_id": ["P1"], "bmr": ["PR"]})
    with pytest.raises(ValueError, match="metabolic codes"):
        summarise_metabolic_agreement(bmr, pd.DataFrame({"patient_id": ["P1"], "bor": ["PR"]}))


# P1.14 time to metabolic progression ----------------------------------------------------------

def _patients(ids, death=None):
    return pd.DataFrame({"patient_id": ids, "origin_date": ORIGIN,
                         "death_date": [death.get(i, pd.NaT) if death else pd.NaT for i in ids],
                         "last_contact_date": pd.Timestamp("2024-12-01")})


def test_ttmp_event_at_exactly_30_percent_and_0_8_units_up():
    # Q1: 8.0 -> 10.4 (+30 %, +2.4) -> PMD at D1; Q2: 8.0 -> 10.39 (+29.9 %) -> SMD, censored
    # Q3: blood pool 1.0/0.1 (threshold 2.2): 2.6 -> 3.4 (+0.8 exactly, +30.8 %) -> PMD;
    # Q4: 2.6 -> 3.39 (+0.79) -> SMD
    pet = pd.concat([_pet("Q1"), _pet("Q2"), _pet("Q3", bp=(1.0, 0.1)),
                     _pet("Q4", bp=(1.0, 0.1))], ignore_index=True)
    les = pd.concat([_les("Q1", {"L1": [8.0, 10.4]}), _les("Q2", {"L1": [8.0, 10.39]}),
                     _les("Q3", {"L1": [2.6, 3.4]}), _les("Q4", {"L1": [2.6, 3.39]})])
    resp = derive_percist_response(pet, les)
    assert resp["response"].tolist() == ["PMD", "SMD", "PMD", "SMD"]
    ep = derive_metabolic_endpoints(_patients(["Q1", "Q2", "Q3", "Q4"]), resp)
    assert ep["endpoint"].unique().tolist() == ["TTMP"]
    # D1 - origin = 2024-04-10 - 2024-01-15 = 86 days; censored at the last adequate scan
    assert ep["event"].tolist() == [1, 0, 1, 0]
    assert ep["time_days"].tolist() == [86, 86, 86, 86]
    assert ep["reason"].iloc[0].startswith("metabolic progression (PMD")


def test_new_lesion_is_an_event_and_death_counts_only_for_metabolic_pfs():
    pet = pd.concat([_pet("R1", 3, new=("NO", "NO", "YES")), _pet("R2", 2)],
                    ignore_index=True)
    les = pd.concat([_les("R1", {"L1": [8.0, 4.0, 3.0]}), _les("R2", {"L1": [8.0, 7.0]})])
    resp = derive_percist_response(pet, les)
    assert resp["response"].tolist() == ["PMR", "PMD", "SMD"]
    pts = _patients(["R1", "R2"], death={"R2": pd.Timestamp("2024-06-01")})
    ep = derive_metabolic_endpoints(pts, resp, endpoints=["TTMP", "metabolic_PFS"])
    got = ep.set_index(["endpoint", "patient_id"])[["time_days", "event"]]
    assert got.loc[("TTMP", "R1")].tolist() == [177, 1]             # 2024-07-10 (new lesion)
    assert got.loc[("TTMP", "R2")].tolist() == [86, 0]              # death censored (D8)
    assert got.loc[("metabolic_PFS", "R2")].tolist() == [138, 1]    # death 2024-06-01


def test_endpoints_restricted_to_measurable_baseline_and_bad_endpoint_raises():
    pet, les = _cohort(CASES)
    resp = derive_percist_response(pet, les)
    ep = derive_metabolic_endpoints(_patients(list(CASES)), resp,
                                    df_baseline=derive_percist_baseline(pet, les))
    assert ep["patient_id"].tolist() == ["P1", "P2", "P3", "P4"]
    assert ep.loc[ep["patient_id"] == "P4", "time_days"].item() == 0  # no follow-up scan
    with pytest.raises(ValueError, match="'endpoints' argument of derive_metabolic_endpoints"):
        derive_metabolic_endpoints(_patients(["P1"]), resp, endpoints=["PFS"])


# P1.12 best SULpeak change and waterfall ------------------------------------------------------

def test_best_change_follows_the_hottest_lesion_and_stops_at_first_pmd():
    # S1: baseline hottest L1 8.0; D1 L1 3.0 / L2 6.0 -> hottest L2: -25 % (not -62.5 %)
    # S2: D1 -50 % (PMR), D2 new lesion (PMD) with -75 %: the bar is -75 % (the PMD scan is
    #     kept, later scans would not be)
    # S3: D1 +40 % (PMD), D2 -50 %: the bar is +40 % (after the first PMD nothing counts)
    pet = pd.concat([_pet("S1"), _pet("S2", 3, new=("NO", "NO", "YES")), _pet("S3", 3)],
                    ignore_index=True)
    les = pd.concat([_les("S1", {"L1": [8.0, 3.0], "L2": [4.0, 6.0]}),
                     _les("S2", {"L1": [8.0, 4.0, 2.0]}), _les("S3", {"L1": [8.0, 11.2, 4.0]})])
    resp = derive_percist_response(pet, les)
    best = derive_best_sul_change(resp, derive_best_metabolic_response(resp))
    assert best["best_sul_change_pct"].tolist() == pytest.approx([-25.0, -75.0, 40.0])
    assert best["bmr"].tolist() == ["SMD", "PMR", "PMD"]
    assert best["best_scan_date"].tolist() == [D1, D2, D1]


def test_waterfall_bars_colours_thresholds_and_n_in_title():
    d = pd.DataFrame({"patient_id": ["A", "B", "C", "D", "E"],
                      "best_sul_change_pct": [-80.0, -35.0, 5.0, 45.0, np.nan],
                      "bmr": ["CMR", "PMR", "SMD", "PMD", "MISSING"]})
    ax = plot_metabolic_waterfall(d)
    bars = ax.patches[:4]
    assert [b.get_height() for b in bars] == [45.0, 5.0, -35.0, -80.0]  # descending
    assert [to_hex(b.get_facecolor()) for b in bars] == [
        METABOLIC_COLORS[c].lower() for c in ("PMD", "SMD", "PMR", "CMR")]
    assert ax.get_title() == "Best SULpeak change, PERCIST 1.0 (n = 4)"
    ys = sorted(round(line.get_ydata()[0], 6) for line in ax.get_lines())
    assert ys == [-30.0, 0.0, 30.0]
    notes = " ".join(t.get_text() for t in ax.texts)
    assert "1 patient(s) without an evaluable follow-up scan" in notes
    assert "0.8 SUL" in notes
    plt.close(ax.figure)


@pytest.mark.parametrize(("codes", "expected"), [
    (["PMD", "PMR", "PMR"], "PMD"),   # a response after progression does not count (D22)
    (["SMD", "PMD", "CMR"], "SMD"),
    (["PMR", "PMD"], "PMR"),          # unconfirmed; confirmed: the next scan is PMD -> SMD
])
def test_best_metabolic_response_stops_at_the_first_pmd(codes, expected):
    r = pd.DataFrame({"patient_id": "P1", "scan_date": [D1, D2, D2 + pd.Timedelta(days=90)]
                      [:len(codes)], "response": codes})
    assert derive_best_metabolic_response(r)["bmr"].item() == expected
    confirmed = derive_best_metabolic_response(r, confirm=True)["bmr"].item()
    assert confirmed == ("SMD" if expected == "PMR" else expected)
