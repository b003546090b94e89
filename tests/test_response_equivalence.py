"""The vectorised response engine equals a plain per-patient reference on random cohorts.

The reference (tests/_response_random.py) restates R1.3-R1.9 and R2.2 one patient and one visit
at a time in exact rationals; the cohorts are seeded and hold the edge cases listed there
(NE by missing rows, new lesions and equivocal runs, nadir ties and exact thresholds, nodes
around 10 mm, confirmation windows around 28 days, SD around 42 days). Both criteria, BOR
confirmed and unconfirmed. No timing here (benchmarks/bench_response.py times the engine).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _response_random import random_cohort, reference_bor, reference_timepoints  # noqa: E402

from sirtstats.response import derive_best_overall_response, derive_timepoint_response

SEEDS = (1, 2, 3)
CRITERIA = ("RECIST_1_1", "mRECIST")
TP_COLUMNS = ["n_targets", "n_targets_assessed", "target_sum_mm", "baseline_sum_mm",
              "nadir_sum_mm", "target_response", "nontarget_response", "new_lesion",
              "overall_response"]
_CACHE: dict = {}


def _cohort(seed):
    if seed not in _CACHE:
        _CACHE[seed] = random_cohort(seed, n_patients=150)
    return _CACHE[seed]


def _engine_tp(reg, criterion):
    return derive_timepoint_response(reg["lesions"], reg["lesion_measurements"],
                                     reg["imaging_assessments"], criterion=criterion)


def _norm(s: pd.Series) -> list:
    """Comparable values: NaN/None/NA -> None, numbers as float, codes as str."""
    out = []
    for v in s.astype(object):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, str | pd.Timestamp):
            out.append(v)
        else:
            out.append(float(v))
    return out


def _assert_same(ours: pd.DataFrame, ref: pd.DataFrame, keys, columns):
    ours = ours.sort_values(keys, ignore_index=True)
    ref = ref.sort_values(keys, ignore_index=True)
    assert ours[keys].astype(str).equals(ref[keys].astype(str)), "different rows"
    for col in columns:
        a, b = _norm(ours[col]), _norm(ref[col])
        bad = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        assert not bad, (col, ours.loc[bad[:5], keys].to_dict("records"),
                         [a[i] for i in bad[:5]], [b[i] for i in bad[:5]])


def test_random_cohorts_hold_the_edge_cases():
    """The generator does produce the cases the equivalence rests on (a test that can fail)."""
    reg = _cohort(1)
    m = reg["lesion_measurements"]
    assert {"not_assessed", "too_small", "disappeared", "merged"} <= set(m["state"].dropna())
    assert (m["fragment"] == 2).any()
    assert {"YES", "EQUIVOCAL", "NO"} <= set(reg["imaging_assessments"]["new_lesion"].dropna())
    assert reg["imaging_assessments"]["new_lesion"].isna().any()
    tp = pd.concat([reference_timepoints(reg, c) for c in CRITERIA])
    assert {"CR", "PR", "SD", "PD", "NE"} <= set(tp["target_response"].dropna())
    assert {"CR", "NON_CR_NON_PD", "NE", "PD"} <= set(tp["nontarget_response"].dropna())
    # exact thresholds: a sum exactly -30 % from baseline, and exactly +20 % over the nadir
    pct_b = 100 * (tp["target_sum_mm"] - tp["baseline_sum_mm"]) / tp["baseline_sum_mm"]
    assert np.isclose(pct_b, -30.0, atol=1e-9).any()
    pct_n = 100 * (tp["target_sum_mm"] - tp["nadir_sum_mm"]) / tp["nadir_sum_mm"]
    assert np.isclose(pct_n, 20.0, atol=1e-9).any()
    bor = reference_bor(tp.loc[tp["patient_id"].isin(reg["origin"]["patient_id"])
                               & (tp.index >= 0)], reg["origin"], confirm=True)
    assert {"PR", "SD", "PD", "MISSING"} <= set(bor["bor"])


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("seed", SEEDS)
def test_timepoints_equal_the_reference(seed, criterion):
    reg = _cohort(seed)
    ours = _engine_tp(reg, criterion)
    ref = reference_timepoints(reg, criterion)
    assert len(ours) > 300
    _assert_same(ours, ref, ["patient_id", "assessment_date"], TP_COLUMNS)


@pytest.mark.parametrize("confirm", [True, False])
@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("seed", SEEDS)
def test_bor_equals_the_reference(seed, criterion, confirm):
    reg = _cohort(seed)
    ours = derive_best_overall_response(_engine_tp(reg, criterion), reg["origin"],
                                        confirm=confirm)
    ref = reference_bor(reference_timepoints(reg, criterion), reg["origin"], confirm=confirm)
    _assert_same(ours, ref, ["patient_id"], ["bor", "bor_date"])
    assert ours["bor"].nunique() >= 4


@pytest.mark.parametrize("criterion", CRITERIA)
def test_row_order_of_the_inputs_does_not_matter(criterion):
    reg = _cohort(2)
    rng = np.random.default_rng(7)
    shuffled = {k: v.iloc[rng.permutation(len(v))].reset_index(drop=True)
                for k, v in reg.items()}
    a = _engine_tp(reg, criterion).sort_values(["patient_id", "assessment_date"],
                                               ignore_index=True)
    b = _engine_tp(shuffled, criterion).sort_values(["patient_id", "assessment_date"],
                                                    ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
