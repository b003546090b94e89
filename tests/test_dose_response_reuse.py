"""Shared bootstrap draws, reused GEE fits and the lambda-free group sums (#13 item 9 / #17).

Each check compares the fast path with its definition: the draws of one seeded generator, a
fresh GEE fit, ``Series.sum(min_count=len(s))`` per group, the first device of a patient.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from sirtstats.dose_response import (
    _common,
    _logistic,
    _roc,
    compute_roc,
    compute_youden_threshold,
    fit_dose_response,
    summarise_response_by_threshold,
)
from sirtstats.dose_response._by_device import _single_device
from sirtstats.dose_response._common import _cluster_weights, _percentile_ci, _prepare
from sirtstats.dosimetry._registry import _sum_all_or_nan


def _reference_draws(seed, n_clusters, n, chunk):
    rng = np.random.default_rng(seed)
    p = np.full(n_clusters, 1.0 / n_clusters)
    return np.vstack(
        [rng.multinomial(n_clusters, p, size=min(chunk, n - s)) for s in range(0, n, chunk)]
    )


@pytest.mark.parametrize("n_clusters", [1, 7, 300])
def test_cluster_weights_are_the_draws_of_one_generator(n_clusters):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, n_clusters, 50)
    ref = _reference_draws(11, n_clusters, 400, 1)
    _common._COUNTS.clear()
    # out of order, overlapping, across chunk edges, and after another key was drawn
    for start, size in [(64, 64), (0, 3), (130, 200), (0, 400), (5, 1)]:
        got = _cluster_weights(11, codes, n_clusters, start, size)
        assert got.dtype == float
        np.testing.assert_array_equal(got, ref[start : start + size][:, codes])
        _cluster_weights(12, codes, n_clusters, 0, 2)


def _lesions(seed=3, n_patients=60):
    rng = np.random.default_rng(seed)
    pid = np.repeat([f"P{i}" for i in range(n_patients)], rng.integers(1, 4, n_patients))
    dose = rng.gamma(3.0, 50.0, len(pid))
    y = rng.random(len(pid)) < 1 / (1 + np.exp(-(dose - 150) / 40))
    return pd.DataFrame({"patient_id": pid, "absorbed_dose_gy": dose, "is_responder": y})


def test_threshold_rates_of_several_cuts_continue_one_generator():
    df = _lesions()
    cuts, n_boot, seed = [100.0, 205.0], 150, 5
    _common._COUNTS.clear()
    out = summarise_response_by_threshold(
        df, thresholds=cuts, ci_method="cluster_bootstrap", n_bootstrap=n_boot, seed=seed
    )
    data = _prepare(df, "absorbed_dose_gy", "is_responder", "patient_id", "test")
    rng = np.random.default_rng(seed)  # the draws as one generator made them, cut after cut
    p = np.full(data.n_clusters, 1.0 / data.n_clusters)
    expected = []
    for cut in cuts:
        w_all = rng.multinomial(data.n_clusters, p, size=n_boot)[:, data.codes].astype(float)
        for member in (data.dose < cut, data.dose >= cut):
            w = w_all[:, member]
            with np.errstate(divide="ignore", invalid="ignore"):
                expected.append(_percentile_ci((w * data.y[member]).sum(1) / w.sum(1), 0.05))
    np.testing.assert_array_equal(out[["ci_lower", "ci_upper"]].to_numpy(), np.array(expected))


def _fit_warnings(df):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_dose_response(df)
    return fit, [str(w.message) for w in caught]


def test_gee_fit_reused_for_the_same_data_only():
    df = _lesions(n_patients=15)  # < 20 clusters: warned about on every call
    _logistic._GEE_FITS.clear()
    first, w1 = _fit_warnings(df)
    again, w2 = _fit_warnings(df)
    assert again.model is first.model
    assert w1
    assert w1 == w2
    pd.testing.assert_frame_equal(again.to_frame(), first.to_frame())
    np.testing.assert_array_equal(again.covariance, first.covariance)
    _logistic._GEE_FITS.clear()
    fresh, _ = _fit_warnings(df)
    assert fresh.model is not first.model
    pd.testing.assert_frame_equal(fresh.to_frame(), first.to_frame())
    np.testing.assert_array_equal(fresh.covariance, first.covariance)
    changed = df.assign(is_responder=df["is_responder"].to_numpy()[::-1])
    other, _ = _fit_warnings(changed)
    assert other.model is not fresh.model
    assert other.slope_per_gy != fresh.slope_per_gy


def test_group_sums_are_series_sums():
    rng = np.random.default_rng(1)
    for trial in range(60):
        n = int(rng.integers(0, 300))
        keys = int(rng.integers(1, 6)) if trial % 3 else 200
        df = pd.DataFrame(
            {
                "a": rng.choice([f"P{i}" for i in range(keys)] + [None], n),
                "b": rng.choice(["S1", "S2", None], n),
                "v": np.where(
                    rng.random(n) < 0.03, np.nan, rng.random(n) * rng.choice([1e-3, 1.0, 1e5], n)
                ),
            }
        )
        grouped = df.groupby(["a", "b"], sort=False, dropna=False)
        expected = grouped["v"].agg(lambda s: s.sum(min_count=len(s))).to_numpy()
        got = _sum_all_or_nan(df["v"].to_numpy(float), grouped.ngroup().to_numpy(), len(expected))
        np.testing.assert_array_equal(got, expected)  # NaN where NaN, else the same floats


def test_single_device_is_the_device_of_all_sessions():
    rng = np.random.default_rng(2)
    for _ in range(40):
        n = int(rng.integers(0, 30))
        tx = pd.DataFrame(
            {
                "patient_id": rng.choice(["P1", "P2", "P3", None], n),
                "device": rng.choice(["Y90_glass", "Y90_resin", None], n, p=[0.6, 0.2, 0.2]),
            }
        )
        got = _single_device(tx)
        known = tx.dropna(subset=["device"])
        expected = {
            pid: (d.iloc[0] if d.nunique() == 1 else None)
            for pid, d in known.groupby("patient_id")["device"]
        }
        assert list(got.index) == sorted(expected)
        assert {k: (None if pd.isna(v) else v) for k, v in got.items()} == expected


def test_auc_and_youden_bootstraps_share_one_pass():
    df = _lesions(seed=4)
    data = _prepare(df, "absorbed_dose_gy", "is_responder", "patient_id", "test")
    aucs = np.concatenate([_roc._trapezoid(f, t) for f, t, _ in _roc._bootstrap_roc(data, 90, 8)])
    _roc._ROC_STATS.clear()
    alone = compute_youden_threshold(df, n_bootstrap=90, seed=8)
    _roc._ROC_STATS.clear()
    roc = compute_roc(df, n_bootstrap=90, seed=8)
    after_roc = compute_youden_threshold(df, n_bootstrap=90, seed=8)
    assert alone == after_roc
    assert roc.auc_ci == _percentile_ci(aucs, 0.05)
    other_seed = compute_youden_threshold(df, n_bootstrap=90, seed=9)
    assert other_seed.threshold_ci != alone.threshold_ci
