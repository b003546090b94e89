"""The vectorised baseline states and territory baselines against plain per-row definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.response.baseline import _baseline_states
from sirtstats.response.territory import _territory_baselines


def _states_reference(m: pd.DataFrame) -> pd.Series:
    return m.groupby("lesion_id")["state"].agg(
        lambda s: ";".join(sorted({str(x) for x in s if pd.notna(x)})) or "measured"
    )


def test_baseline_states_match_the_per_group_definition():
    rng = np.random.default_rng(3)
    options = np.array(
        ["measured", "too_small", "disappeared", None, np.nan, "", 3, "b"], dtype=object
    )
    for _ in range(50):
        n = int(rng.integers(1, 60))
        m = pd.DataFrame(
            {
                "lesion_id": rng.choice(np.array(["A", "B", "C", "D", None], dtype=object), n),
                "state": options[rng.integers(0, len(options), n)],
            }
        )
        ref = _states_reference(m)
        got = _baseline_states(m, ref.index)
        assert got.tolist() == ref.tolist()


def test_baseline_state_empty_string_reads_measured():
    m = pd.DataFrame({"lesion_id": ["A", "B", "B"], "state": ["", "", "too_small"]})
    got = _baseline_states(m, pd.Index(["A", "B"], name="lesion_id"))
    assert got.tolist() == ["measured", ";too_small"]


def _baselines_reference(les, dates):
    base = les["baseline_date"].to_numpy()
    sess = les["treating_session_date"].to_numpy(dtype="datetime64[ns]")
    out = base.copy()
    by_patient = {p: g["date"].to_numpy() for p, g in dates.groupby("patient_id")}
    for i, (pid, b, s) in enumerate(zip(les["patient_id"], base, sess, strict=True)):
        d = by_patient.get(pid)
        if d is None or np.isnat(s) or np.isnat(b):
            continue
        ok = d[(d >= b) & (d <= s)]
        if len(ok):
            out[i] = ok.max()
    return out


def test_territory_baselines_match_the_per_lesion_definition():
    rng = np.random.default_rng(5)
    day0 = np.datetime64("2024-01-01", "ns")
    for _ in range(50):
        n_d, n_l = int(rng.integers(0, 40)), int(rng.integers(1, 30))
        dates = pd.DataFrame(
            {
                "patient_id": rng.choice(["P1", "P2", "P3"], n_d).astype(object),
                "date": day0 + rng.integers(0, 60, n_d).astype("timedelta64[D]"),
            }
        ).drop_duplicates()
        dates = dates.sort_values(["patient_id", "date"], kind="mergesort")
        base = day0 + rng.integers(0, 40, n_l).astype("timedelta64[D]")
        sess = (day0 + rng.integers(0, 60, n_l).astype("timedelta64[D]")).astype("datetime64[ns]")
        sess[rng.random(n_l) < 0.2] = np.datetime64("NaT")
        les = pd.DataFrame(
            {
                "patient_id": rng.choice(["P1", "P2", "P4"], n_l).astype(object),
                "baseline_date": pd.to_datetime(base),
                "treating_session_date": sess,
            }
        )
        np.testing.assert_array_equal(
            _territory_baselines(les, dates), _baselines_reference(les, dates)
        )
