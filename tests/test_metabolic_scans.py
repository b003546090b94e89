"""PET engines with the tables grouped once: ties, row order, other rows, no baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.metabolic import (
    derive_eortc_response,
    derive_percist_baseline,
    derive_percist_response,
)

D0, D1, D2 = pd.Timestamp("2024-01-10"), pd.Timestamp("2024-04-10"), pd.Timestamp("2024-07-10")


def _pet(pids, dates):
    return pd.DataFrame(
        {
            "patient_id": pids,
            "scan_date": dates,
            "liver_sul_mean": 2.0,
            "liver_sul_sd": 0.3,
            "blood_pool_sul_mean": 1.5,
            "blood_pool_sul_sd": 0.2,
            "new_fdg_avid_lesion": "NO",
        }
    )


def _les(rows):
    return pd.DataFrame(
        rows, columns=["patient_id", "lesion_id", "scan_date", "sul_peak", "suv_max", "organ"]
    )


def test_hottest_tie_goes_to_first_lesion_id_whatever_the_row_order():
    pet = _pet(["P1", "P1"], [D0, D1])
    rows = [
        ("P1", "L2", D0, 8.0, 9.0, "liver"),
        ("P1", "L1", D0, 8.0, 9.0, "liver"),
        ("P1", "L3", D1, 5.0, 6.0, "liver"),
        ("P1", "L0", D1, 5.0, 6.0, "liver"),
    ]
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        r = derive_percist_response(pet.iloc[::-1], _les([rows[i] for i in order])).iloc[0]
        assert (r["baseline_lesion_id"], r["hottest_lesion_id"]) == ("L1", "L0")
        assert r["response"] == "PMR"  # 8.0 -> 5.0: -37.5 %, -3.0 SUL


def test_sul_sum_two_per_organ_after_sorting():
    # baseline sum: 10 + 9 (liver, two max) + 4 (lung) = 23; follow-up 5 + 5 + 4 = 14
    pet = _pet(["P1", "P1"], [D0, D1])
    les = _les(
        [
            ("P1", f"L{i}", d, s, 1.0, o)
            for d, vals in ((D0, [4.0, 10.0, 8.0, 9.0]), (D1, [4.0, 5.0, 5.0, 5.0]))
            for i, (s, o) in enumerate(zip(vals, ["lung", "liver", "liver", "liver"], strict=True))
        ]
    )
    r = derive_percist_response(pet, les).iloc[0]
    assert r["sul_sum_change_pct"] == float(100 * (14 - 23) / 23)


def test_other_patients_rows_and_unscanned_dates_are_not_read():
    pet = _pet(["P1", "P1", "P2", "P2"], [D0, D1, D0, D1])
    les = _les(
        [
            ("P1", "L1", D0, 8.0, 10.0, "liver"),
            ("P1", "L1", D1, 8.0, 10.0, "liver"),
            ("P2", "L9", D0, 8.0, 10.0, "lung"),
            ("P1", "L1", D2, 20.0, 30.0, "liver"),
        ]
    )
    per = derive_percist_response(pet, les)
    assert per["response"].tolist() == ["SMD", "NE"]
    assert per["reason"].iloc[1] == "no lesion measured at this scan"
    eo = derive_eortc_response(pet, les)
    assert eo["response"].tolist() == ["SMD", "NE"]
    assert eo["reason"].iloc[1] == "baseline lesions not all measured"


def test_baseline_rows_without_lesions_or_patient_id():
    pet = _pet(["P2", "P1", np.nan, "P1"], [D0, D1, D0, D0])
    les = _les([("P1", "L1", D0, 8.0, 10.0, "liver"), ("P2", "L2", D1, 8.0, 10.0, "lung")])
    b = derive_percist_baseline(pet, les)
    assert b["patient_id"].tolist() == ["P1", "P2"]
    assert b["reference"].tolist() == ["blood_pool", "liver"]
    assert b["is_measurable"].tolist() == [True, False]
    assert b["n_followup_scans"].tolist() == [1, 0]
    assert b["baseline_lesion_id"].tolist() == ["L1", None]
