"""Response rates (ORR/DCR/CR with exact CIs) and RECIST-vs-mRECIST agreement: WE23, WE24."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.response import (
    RATE_COLUMNS,
    compute_exact_ci,
    summarise_criteria_agreement,
    summarise_response_rates,
)


@pytest.mark.parametrize(("x", "n", "lo", "hi"), [
    (7, 20, 15.39, 59.22),
    (15, 20, 50.90, 91.34),
    (0, 20, 0.00, 16.84),
    (20, 20, 83.16, 100.0),
    (1, 12, 0.21, 38.48),
])
def test_we23_clopper_pearson(x, n, lo, hi):
    got_lo, got_hi = compute_exact_ci(x, n)
    assert (round(100 * got_lo, 2), round(100 * got_hi, 2)) == (lo, hi)


def _bor(codes, **cols):
    return pd.DataFrame({"patient_id": [f"P{i:02d}" for i in range(len(codes))], "bor": codes,
                         **cols})


def test_we23_rates_keep_ne_and_missing_in_the_denominator():
    codes = ["CR"] * 2 + ["PR"] * 5 + ["SD"] * 7 + ["NON_CR_NON_PD"] + ["PD"] * 3 + ["NE",
                                                                                      "MISSING"]
    r = summarise_response_rates(_bor(codes, criterion="RECIST_1_1", confirmed=True))
    assert list(r.columns) == ["criterion", "confirmed", *RATE_COLUMNS]
    row = r.iloc[0]
    assert (row["n"], row["n_responders"], row["n_disease_control"], row["n_cr"]) == (20, 7, 15, 2)
    assert (row["n_ne"], row["n_missing"]) == (1, 1)
    assert round(row["orr_pct"], 2) == 35.0
    assert (round(row["orr_ci_lower_pct"], 2), round(row["orr_ci_upper_pct"], 2)) == (15.39, 59.22)
    assert (round(row["dcr_ci_lower_pct"], 2), round(row["dcr_ci_upper_pct"], 2)) == (50.90, 91.34)


def test_clinben_vals_choose_what_counts_as_disease_control():
    # same 20 patients as above: 2 CR, 5 PR, 7 SD, 1 NON_CR_NON_PD, 3 PD, NE, MISSING
    codes = ["CR"] * 2 + ["PR"] * 5 + ["SD"] * 7 + ["NON_CR_NON_PD"] + ["PD"] * 3 + ["NE",
                                                                                      "MISSING"]
    r = summarise_response_rates(_bor(codes), clinben_vals=("CR", "PR", "SD")).iloc[0]
    assert (r["n"], r["n_disease_control"], r["dcr_pct"]) == (20, 14, 70.0)
    assert r["n_responders"] == 7  # ORR unchanged
    r = summarise_response_rates(_bor(codes), clinben_vals=["CR", "PR"]).iloc[0]
    assert r["n_disease_control"] == 7
    with pytest.raises(ValueError, match=r"The 'clinben_vals' argument of "
                                         r"summarise_response_rates must be a non-empty subset"):
        summarise_response_rates(_bor(codes), clinben_vals=["CR", "NON-CR/NON-PD"])


def test_nd_bor_stays_in_the_denominator():
    with pytest.warns(SirtStatsWarning, match="fewer than 10"):
        r = summarise_response_rates(_bor(["PR", "ND", "MISSING"])).iloc[0]
    assert (r["n"], r["n_responders"], r["n_disease_control"], r["n_missing"]) == (3, 1, 1, 1)


def test_subgroups_from_df_patients_and_small_group_warning():
    bor = _bor(["PR"] * 12 + ["PD"] * 12)
    pts = pd.DataFrame({"patient_id": bor["patient_id"],
                        "device": ["Y90_glass"] * 12 + ["Y90_resin"] * 12,
                        "dose_group": ["high"] * 6 + ["low"] * 18})
    r = summarise_response_rates(bor, by="device", df_patients=pts)
    assert r.set_index("device")["orr_pct"].to_dict() == {"Y90_glass": 100.0, "Y90_resin": 0.0}
    with pytest.warns(SirtStatsWarning, match="fewer than 10 patients"):
        r2 = summarise_response_rates(bor, by=["device", "dose_group"], df_patients=pts)
    assert r2["n"].tolist() == [6, 6, 12]
    with pytest.raises(SirtDataError, match="subgroup column 'centre'"):
        summarise_response_rates(bor, by="centre", df_patients=pts)
    with pytest.raises(SirtDataError, match="bor.bor: 1 rows violate"):
        summarise_response_rates(_bor(["PR", "XX"]))


def test_we24_agreement_recist_vs_mrecist():
    ids = [f"P{i}" for i in range(20)]
    # both responders 4; mRECIST-only 8; RECIST-only 0; neither 8
    rec = pd.DataFrame({"patient_id": ids, "criterion": "RECIST_1_1",
                        "bor": ["PR"] * 4 + ["SD"] * 8 + ["SD"] * 4 + ["PD"] * 4})
    mre = pd.DataFrame({"patient_id": ids, "criterion": "mRECIST",
                        "bor": ["CR"] * 4 + ["PR"] * 8 + ["SD"] * 4 + ["PD"] * 4})
    a = summarise_criteria_agreement(rec, mre)
    assert round(a.kappa, 4) == 0.2857
    assert a.mcnemar_p == pytest.approx(0.0078125, rel=1e-12)  # 2 * 0.5**8
    assert (a.orr_a_pct, a.orr_b_pct) == pytest.approx((20.0, 60.0), rel=1e-12)
    assert a.labels == ("RECIST_1_1", "mRECIST")
    assert a.responder_table.to_numpy().tolist() == [[4, 0], [8, 8]]
    assert a.crosstab.loc["PR", "CR"] == 4
    assert a.crosstab.loc["total", "total"] == 20
    assert a.kappa_ci_lower < a.kappa < a.kappa_ci_upper
    f = a.to_frame()
    assert f.loc[0, "interpretation"] == "fair"
    # linear weighted kappa on CR>PR>SD>PD computed by hand:
    # table rows RECIST (CR,PR,SD,PD) x cols mRECIST: PR->CR 4, SD->PR 8, SD->SD 4, PD->PD 4
    # weights 1 - |i-j|/3; observed agreement p_o = (4*(2/3) + 8*(2/3) + 4 + 4)/20 = 0.8
    # marginals rows (0,4,12,4)/20, cols (4,8,4,4)/20 -> p_e = sum w_ij r_i c_j
    #   = 0.2*(2/15 + 2/5 + 2/15 + 1/15) + 0.6*(1/15 + 4/15 + 1/5 + 2/15) + 0.2*(2/15 + 2/15 + 1/5)
    #   = 0.14667 + 0.4 + 0.09333 = 0.64
    # kappa_w = (0.8 - 0.64) / (1 - 0.64) = 4/9
    assert a.weighted_kappa == pytest.approx(4 / 9, abs=1e-12)
    assert a.n_weighted == 20


def test_agreement_excludes_ne_from_weighted_kappa_and_requires_one_row_per_patient():
    rec = pd.DataFrame({"patient_id": ["A", "B", "C"], "bor": ["PR", "NE", "PD"]})
    mre = pd.DataFrame({"patient_id": ["A", "B", "D"], "bor": ["CR", "PR", "SD"]})
    a = summarise_criteria_agreement(rec, mre, labels=("R", "M"))
    assert (a.n_pairs, a.n_unpaired, a.n_weighted) == (2, 2, 1)
    assert np.isnan(a.weighted_kappa)
    with pytest.raises(SirtDataError, match="several rows per patient"):
        summarise_criteria_agreement(pd.concat([rec, rec]), mre)


def test_kappa_ci_is_truncated_to_the_range_of_kappa():
    # 5 pairs: 2 responders under both, 1 only under B, 2 under neither.
    # By hand: po = 4/5, pe = (2*3 + 3*2)/25 = 12/25, kappa = (0.8 - 0.48)/0.52 = 0.6154;
    # the Wald upper limit 1.24 exceeds 1 and is truncated.
    ids = [f"P{i}" for i in range(5)]
    a_bor = pd.DataFrame({"patient_id": ids, "criterion": "RECIST_1_1",
                          "bor": ["PR", "PR", "SD", "SD", "SD"]})
    b_bor = pd.DataFrame({"patient_id": ids, "criterion": "mRECIST",
                          "bor": ["PR", "PR", "PR", "SD", "SD"]})
    a = summarise_criteria_agreement(a_bor, b_bor)
    assert round(a.kappa, 4) == 0.6154
    assert a.kappa_ci_upper == 1.0
    assert -1.0 <= a.kappa_ci_lower < a.kappa
