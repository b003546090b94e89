"""The vectorised lab grading against a row-by-row reading of the criteria table.

For each lab row, the criteria of its analyte are read one by one as documented in
:func:`sirtstats.ctcae.load_ctcae_criteria` (Notes): a criterion applies when its condition
holds, is met when ``value <comparator> threshold x reference`` (values and limits at 12
significant digits), and cannot be decided without its reference unless
``if_reference_missing`` is "not_met".
"""

import operator

import numpy as np
import pandas as pd
import pytest

from sirtstats.ctcae import _criteria_with_options, _grade_chunk, _signif, load_ctcae_criteria

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def _applies(condition, row):
    return {
        "any": True,
        "baseline_normal": not row["abnormal"],
        "baseline_abnormal": bool(row["abnormal"]),
        "anticoagulated": bool(row["anticoagulated"]),
        "not_anticoagulated": not row["anticoagulated"],
    }[condition]


def _grade_row(row, crit):
    rules = [r for r in crit.to_dict("records") if r["analyte"] == row["analyte"]]
    if not rules:
        return None, np.nan, None, False, ""
    term = rules[0]["term"]
    value = _signif(row["value"]).item()
    applicable = [r for r in rules if _applies(r["condition"], row)]
    best, basis = 0, None
    for r in applicable:
        ref = {"ULN": row["uln"], "LLN": row["lln"], "baseline": row["baseline"]}.get(
            r["basis"], 1.0
        )
        r["_has_ref"] = not np.isnan(ref)
        limit = _signif(r["threshold"] * ref).item()
        if r["_has_ref"] and _OPS[r["comparator"]](value, limit) and r["grade"] > best:
            best, basis = r["grade"], r["basis"]
    if basis is None and applicable:
        basis = min(applicable, key=lambda r: r["grade"])["basis"]  # first of the lowest
    open_ = [
        r["basis"]
        for r in applicable
        if not r["_has_ref"] and r["if_reference_missing"] != "not_met" and r["grade"] > best
    ]
    if np.isnan(row["value"]):
        return term, np.nan, None, False, ""
    if open_:
        return term, np.nan, basis, True, ";".join(dict.fromkeys(open_))
    return term, float(best), basis, False, ""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grade_chunk_is_the_row_by_row_reading(seed):
    rng = np.random.default_rng(seed)
    crit = _criteria_with_options(
        load_ctcae_criteria(),
        ["asymptomatic", "symptomatic"][seed % 2],
        ["anticoagulation", "worse_of_both"][seed % 2],
    )
    if seed == 2:
        crit = crit.assign(if_reference_missing=rng.choice(["ungradable", "not_met"], len(crit)))
    n = 400
    analytes = [*dict.fromkeys(crit["analyte"]), "unknown_analyte", None]

    def holes(x, p):
        return np.where(rng.random(n) < p, np.nan, x)

    frame = pd.DataFrame(
        {
            "analyte": rng.choice(analytes, n),
            "value": holes(rng.uniform(0, 1, n) * rng.choice([1, 10, 100, 1000], n), 0.05),
            "uln": holes(rng.uniform(10, 60, n), 0.2),
            "lln": holes(rng.uniform(1, 10, n), 0.2),
            "baseline": holes(rng.uniform(0, 200, n), 0.4),
            "abnormal": rng.random(n) < 0.3,
            "anticoagulated": rng.random(n) < 0.2,
        }
    )
    on_limit = rng.random(n) < 0.2  # values exactly on a ULN multiple
    frame.loc[on_limit, "value"] = frame.loc[on_limit, "uln"] * rng.choice(
        [1, 1.5, 2, 3, 5, 20], on_limit.sum()
    )
    got = _grade_chunk(frame.set_axis(np.arange(n)[::-1]), crit)
    expected = pd.DataFrame(
        [_grade_row(r, crit) for r in frame.to_dict("records")],
        columns=["term", "grade", "basis", "undetermined", "missing_reference"],
    )
    assert got["undetermined"].any()
    pd.testing.assert_frame_equal(got, expected.astype({"grade": float}), check_dtype=False)
