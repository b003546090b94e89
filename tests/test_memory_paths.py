"""The lower-memory paths of #13 item 9 give what the paths they replaced gave.

``_in_window`` (toxicity) against ``_window(...)["in_window"]``; the positional baseline
lookup of ``derive_lab_grades`` against a left merge on (patient_id, analyte); the
restriction of ``select_cohort`` against ``df[mask].copy()``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sirtstats.cohort._restrict import _restrict
from sirtstats.ctcae import derive_lab_grades
from sirtstats.registry import Registry
from sirtstats.toxicity._common import _in_window, _sessions, _window


def _random_dates(rng, n, missing=0.1):
    days = rng.integers(0, 400, n)
    dates = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"))
    dates[rng.random(n) < missing] = pd.NaT
    return dates


@pytest.mark.parametrize("end", ["last_session", "each_session"])
@pytest.mark.parametrize("seed", range(20))
def test_in_window_is_window_in_window(seed, end):
    rng = np.random.default_rng(seed)
    n_tx = int(rng.integers(1, 12))
    tx = pd.DataFrame(
        {
            "patient_id": rng.choice(["P1", "P2", "P3"], n_tx),
            "session_id": [f"S{i}" for i in range(n_tx)],
            "treatment_date": _random_dates(rng, n_tx, missing=0.0),
        }
    )
    n = int(rng.integers(0, 60))
    ids = pd.Series(rng.choice(["P1", "P2", "P3", "P4"], n), index=rng.permutation(n) + 7)
    dates = _random_dates(rng, n).set_axis(ids.index)
    sessions = _sessions(tx)
    offset, days = int(rng.integers(0, 3)), int(rng.integers(0, 120))
    expected = _window(ids, dates, sessions, start_offset_days=offset, window_days=days, end=end)
    got = _in_window(ids, dates, sessions, start_offset_days=offset, window_days=days, end=end)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, expected["in_window"].to_numpy(dtype=bool))


@pytest.mark.parametrize("seed", range(15))
def test_lab_baseline_is_the_left_merge(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    labs = pd.DataFrame(
        {
            "patient_id": pd.Series(rng.choice(["P1", "P2", "P3", None], n), dtype=object),
            "sample_date": _random_dates(rng, n, missing=0.0),
            "analyte": rng.choice(["alt", "ast", "bilirubin_total", "albumin"], n),
            "value": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(5, 200, n)),
            "unit": "U/L",
            "lln": np.nan,
            "uln": np.where(rng.random(n) < 0.1, np.nan, 40.0),
        }
    )
    labs.loc[labs["analyte"] == "bilirubin_total", "unit"] = "mg/dL"
    labs.loc[labs["analyte"] == "albumin", "unit"] = "g/L"
    labs.loc[labs["analyte"] == "albumin", "lln"] = 35.0
    tx = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "treatment_date": pd.to_datetime(["2024-04-01", "2024-06-15", "2024-09-01"]),
        }
    )
    out = derive_lab_grades(labs, df_treatments=tx, missing_limits="ungraded")
    # the reference: the last non-missing value of the pair in the window, by a left merge
    days = out["days_from_first_sirt"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    work = out.assign(_pos=np.arange(n), _days=days)
    cand = work[(work["_days"] >= -30) & (work["_days"] <= 0) & work["value_si"].notna()]
    cand = cand.sort_values(["patient_id", "analyte", "sample_date", "_pos"], kind="mergesort")
    base = cand.drop_duplicates(["patient_id", "analyte"], keep="last")[
        ["patient_id", "analyte", "sample_date", "value_si", "uln_si"]
    ].set_axis(["patient_id", "analyte", "b_date", "b_value", "b_uln"], axis=1)
    joined = work[["patient_id", "analyte"]].merge(base, on=["patient_id", "analyte"], how="left")
    np.testing.assert_array_equal(out["baseline_value_si"].to_numpy(), joined["b_value"].to_numpy())
    np.testing.assert_array_equal(out["baseline_uln_si"].to_numpy(), joined["b_uln"].to_numpy())
    np.testing.assert_array_equal(
        out["baseline_sample_date"].to_numpy(), joined["b_date"].to_numpy("datetime64[ns]")
    )
    assert out["is_baseline_sample"].sum() == len(base)


def test_restrict_is_the_masked_copy():
    patients = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "x": [1.0, 2.0, 3.0]})
    lesions = pd.DataFrame({"lesion_id": ["L1", "L2", "L3"], "patient_id": ["P1", "P3", "P3"]})
    measures = pd.DataFrame({"lesion_id": ["L3", "L1", "L2", "L9"], "d": [1, 2, 3, 4]})
    other = pd.DataFrame({"code": ["a", "b"]})
    reg = Registry(
        tables={
            "patients": patients,
            "lesions": lesions,
            "lesion_measurements": measures,
            "other": other,
        }
    )
    out = _restrict(reg, {"P3", "P4"})
    pd.testing.assert_frame_equal(out["patients"], patients[patients["patient_id"] == "P3"])
    pd.testing.assert_frame_equal(out["lesions"], lesions.iloc[[1, 2]])
    pd.testing.assert_frame_equal(out["lesion_measurements"], measures.iloc[[0, 2]])
    pd.testing.assert_frame_equal(out["other"], other)
    for name, df in out.tables.items():  # copies: writing into them leaves the registry as it was
        assert df is not reg.tables[name]
        assert df._is_copy is None
        for col in df.columns:
            assert not np.shares_memory(df[col].to_numpy(), reg.tables[name][col].to_numpy())
