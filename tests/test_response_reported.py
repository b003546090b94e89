"""Reader-reported responses: timepoints, BOR on them, and the derived-vs-reported listing."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _response_helpers import ORIGIN, case, lesion, origin_frame  # noqa: E402

from sirtstats.exceptions import SirtDataError
from sirtstats.response import (
    DISCORDANCE_COLUMNS,
    TIMEPOINT_COLUMNS,
    derive_best_overall_response,
    derive_reported_timepoints,
    derive_timepoint_response,
    summarise_discordance,
)


def _with_reported(reported, treated=None):
    les, meas, ass = case([lesion("L1", [50, 30, 30, 60])], [56, 112, 168])
    ass = ass.assign(reported_overall_response=[None, *reported],
                     reported_treated_area_response=[None, *(treated or [None] * 3)])
    return les, meas, ass


def test_reported_timepoints_have_the_timepoint_columns_and_feed_bor():
    les, meas, ass = _with_reported(["PR", "PR", "PD"], treated=["CR", "CR", "SD"])
    rep = derive_reported_timepoints(ass)
    assert list(rep.columns) == TIMEPOINT_COLUMNS
    assert rep["overall_response"].tolist() == ["PR", "PR", "PD"]
    assert rep.attrs["n_without_response"] == 1  # the baseline row
    bor = derive_best_overall_response(rep, origin_frame(["P1"]), confirm=True).iloc[0]
    assert (bor["bor"], bor["bor_date"]) == ("PR", ORIGIN + pd.Timedelta(days=56))
    tr = derive_reported_timepoints(ass, scope="treated")
    assert tr["overall_response"].tolist() == ["CR", "CR", "SD"]
    assert set(tr["scope"]) == {"treated"}
    with pytest.raises(ValueError, match="'scope' argument of derive_reported_timepoints"):
        derive_reported_timepoints(ass, scope="hepatic")


def test_reported_invalid_code_raises_with_rows():
    _, _, ass = _with_reported(["PR", "IR/SD", "PD"])
    with pytest.raises(SirtDataError, match="reported_overall_response: 1 rows violate") as e:
        derive_reported_timepoints(ass)
    assert e.value.rows["reported_overall_response"].tolist() == ["IR/SD"]


def test_discordance_listing():
    les, meas, ass = _with_reported(["PR", "SD", "PD"])
    ass = ass.iloc[:3]  # the last imaging has measurements but no assessment row
    der = derive_timepoint_response(les, meas, ass)
    rep = derive_reported_timepoints(ass)
    lst = summarise_discordance(der, rep)
    assert list(lst.columns) == DISCORDANCE_COLUMNS
    # derived: PR (-40 %), PR (-40 %); reported PR, SD
    assert lst["status"].tolist() == ["discordant", "derived_only"]
    assert (lst["derived_response"].iloc[0], lst["reported_response"].iloc[0]) == ("PR", "SD")
    assert lst["derived_rule"].iloc[0].startswith("PR: sum 30 mm")
    assert lst.attrs["counts"] == {"concordant": 1, "discordant": 1, "derived_only": 1}
    full = summarise_discordance(der, rep, include_concordant=True)
    assert full["status"].tolist() == ["concordant", "discordant", "derived_only"]
