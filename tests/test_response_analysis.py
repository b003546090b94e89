"""derive_response_analysis: analysis sets per criterion, agreement, reported source."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _response_helpers import case, combine, lesion, origin_frame  # noqa: E402

from sirtstats.response import derive_response_analysis, summarise_response_distribution


@pytest.fixture
def registry():
    # A: HCC with RECIST and mRECIST reads; B: RECIST only; C: in the cohort, no imaging
    a_r = case([lesion("L1", [60, 58, 57])], [56, 112], patient="A")
    a_m = case([lesion("L1", [50, 20, 15], arterial=True)], [56, 112], patient="A",
               criterion="mRECIST")
    b_r = case([lesion("L1", [40, 20, 20])], [56, 112], patient="B")
    les, meas, ass = combine(a_r, a_m, b_r)
    les = les.drop_duplicates("lesion_id")  # A's lesion carries both roles
    les.loc[les["lesion_id"] == "A-L1", "mrecist_role"] = "target"
    ass = ass.assign(reported_overall_response=None)
    ass.loc[ass["assessment_date"] > pd.Timestamp("2024-01-05"), "reported_overall_response"] = "SD"
    return {"lesions": les, "lesion_measurements": meas, "imaging_assessments": ass,
            "other_therapies": pd.DataFrame(columns=["patient_id", "start_date",
                                                     "is_planned_with_sirt"])}


def test_analysis_sets_bor_and_agreement(registry):
    a = derive_response_analysis(registry, origin_frame("ABC"))
    s = a.analysis_set.set_index("criterion")
    assert s.loc["RECIST_1_1", "n_measurable"] == 2
    assert s.loc["mRECIST", "n_measurable"] == 1
    bor = a.bor.set_index(["criterion", "patient_id"])["bor"].to_dict()
    assert bor == {("RECIST_1_1", "A"): "SD", ("RECIST_1_1", "B"): "PR",
                   ("mRECIST", "A"): "PR"}
    assert a.agreement.n_pairs == 1
    k = a.key_numbers()
    assert k["RECIST_1_1"]["n"] == 2
    assert k["mRECIST"]["orr_pct"] == 100.0
    # reported SD vs derived PR: B under RECIST and A under mRECIST, two visits each
    assert k["n_discordant_visits"] == 4
    assert set(a.best_change["criterion"]) == {"RECIST_1_1", "mRECIST"}
    assert len(a.lesion_response) == 3
    assert a.to_frame()["PR"].tolist() == [1, 1]


def test_derived_analysis_without_a_reported_response_column(registry):
    # hand-built imaging tables may lack the column: no discordance table, no KeyError
    registry["imaging_assessments"] = registry["imaging_assessments"].drop(
        columns="reported_overall_response")
    a = derive_response_analysis(registry, origin_frame("ABC"))
    assert a.bor.set_index(["criterion", "patient_id"])["bor"].to_dict() == {
        ("RECIST_1_1", "A"): "SD", ("RECIST_1_1", "B"): "PR", ("mRECIST", "A"): "PR"}
    assert a.key_numbers()["n_discordant_visits"] == 0


def test_reported_source_and_single_criterion(registry):
    a = derive_response_analysis(registry, origin_frame("ABC"), criteria=["recist_1_1"],
                                 source="reported", confirm=False)
    assert a.agreement is None
    assert a.bor["bor"].tolist() == ["SD", "SD"]
    d = summarise_response_distribution(a.bor)
    assert d.loc[d["bor"] == "SD", "n"].tolist() == [2]
    with pytest.raises(ValueError, match="'criteria' argument of derive_response_analysis"):
        derive_response_analysis(registry, origin_frame("ABC"), criteria=["WHO"])


def test_empty_registry_gives_missing_and_drawable_frames():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sirtstats.plotting.response import plot_spider, plot_waterfall
    from sirtstats.schema import empty_table

    reg = {t: empty_table(t) for t in ("lesions", "lesion_measurements", "imaging_assessments",
                                       "other_therapies")}
    a = derive_response_analysis(reg, origin_frame("A"))
    assert a.bor.empty  # nobody has measurable disease
    assert a.analysis_set["n_not_evaluable"].tolist() == [1, 1]
    plot_waterfall(a.best_change)
    plot_spider(a.timepoints, df_origin=origin_frame("A"), df_bor=a.bor)
    plt.close("all")
