"""Shared helpers of the survival R-parity tests: load fixtures of tests/golden/survival and
compare with the stated tolerance (see tests/golden/survival/PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

GOLDEN = Path(__file__).resolve().parent / "golden" / "survival"
RTOL = 1e-6
ATOL = 1e-12


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "data" / f"{name}.csv", float_precision="round_trip",
                       na_values=["NA"], keep_default_na=False)


_REF_CACHE: dict[str, pd.DataFrame] = {}


def ref(dataset: str) -> pd.DataFrame:
    if dataset not in _REF_CACHE:
        r = pd.read_csv(GOLDEN / "reference" / f"{dataset}.csv", float_precision="round_trip",
                        dtype={"group": str}, na_values=["NA"], keep_default_na=False)
        r["group"] = r["group"].fillna("")
        _REF_CACHE[dataset] = r
    return _REF_CACHE[dataset]


def rq(dataset: str, quantity: str, *, allow_empty: bool = False) -> pd.DataFrame:
    r = ref(dataset)
    out = r.loc[r["quantity"] == quantity, ["group", "time", "value"]]
    assert allow_empty or len(out), f"no reference {dataset}/{quantity}"
    return out.reset_index(drop=True)


def rv(dataset: str, quantity: str, group: str = "") -> float:
    r = rq(dataset, quantity)
    vals = r.loc[r["group"] == group, "value"]
    assert len(vals) == 1, (dataset, quantity, group)
    return float(vals.iloc[0])


def assert_close(py, r, what=""):
    py = np.asarray(py, dtype=float)
    r = np.asarray(r, dtype=float)
    assert py.shape == r.shape, what
    nan_py, nan_r = np.isnan(py), np.isnan(r)
    assert np.array_equal(nan_py, nan_r), f"{what}: NaN pattern differs\npy={py}\nR={r}"
    ok = ~nan_py
    diff = np.abs(py[ok] - r[ok])
    scale = np.maximum(np.abs(py[ok]), np.abs(r[ok]))
    bad = ~((diff <= RTOL * scale) | (diff < ATOL) | (py[ok] == r[ok]))
    assert not bad.any(), (f"{what}: max rel diff {np.max(diff / np.where(scale > 0, scale, 1))}"
                           f"\npy={py[ok][bad][:5]}\nR={r[ok][bad][:5]}")
