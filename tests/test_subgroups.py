"""Subgroup treatment effects with interaction tests and the forest plot (issue #16 item 7).

Expected values by hand (2x2 odds ratio) and from R glm / coxph / anova LRT on the fixture in
tests/golden/subgroups (make_reference.R).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sirtstats.comparative import subgroup_response, subgroup_survival  # noqa: E402
from sirtstats.plotting.forest import plot_subgroup_forest  # noqa: E402

GOLD = Path(__file__).parent / "golden" / "subgroups"


def _data():
    return pd.read_csv(GOLD / "subgroup_data.csv", dtype={"albi": str, "ecog": str})


def _ref():
    r = pd.read_csv(GOLD / "subgroup_reference.csv", dtype={"level": str})
    return r.fillna({"level": ""}).set_index(["subgroup", "level"]).sort_index()


def test_odds_ratio_by_hand():
    # control 2/6 responders, treated 4/6: OR = (4/2) / (2/4) = 4
    d = pd.DataFrame({"arm": ["c"] * 6 + ["t"] * 6, "y": [1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0],
                      "g": ["a", "b"] * 6})
    out = subgroup_response(d, "y", "arm", ("c", "t"), ["g"])
    row = out.iloc[0]
    assert row["or"] == pytest.approx(4.0)
    # Wald: se = sqrt(1/2 + 1/4 + 1/4 + 1/2) = sqrt(1.5)
    assert row["or_upper"] == pytest.approx(4 * np.exp(1.959964 * np.sqrt(1.5)), rel=1e-5)
    assert (row["responders_control"], row["responders_treated"]) == (2, 4)
    assert list(out["level"]) == ["", "a", "b"]


def test_empty_cell_is_not_estimable():
    d = pd.DataFrame({"arm": [0, 0, 1, 1, 0, 1], "y": [0, 0, 1, 1, 0, 1], "g": list("aaaabb")})
    out = subgroup_response(d, "y", "arm", (0, 1), ["g"])
    assert out["or"].isna().all()


def test_response_subgroups_match_r():
    ref = _ref()
    out = subgroup_response(_data(), "resp", "arm", (0, 1), ["albi", "ecog"])
    out = out.set_index(["subgroup", "level"]).sort_index()
    assert list(out.index) == list(ref.index)
    np.testing.assert_array_equal(out["n"], ref["n"])
    np.testing.assert_array_equal(out["n_treated"], ref["n_treated"])
    for c in ("or", "or_lower", "or_upper"):
        np.testing.assert_allclose(out[c], ref[c], rtol=1e-6)
    np.testing.assert_allclose(out["p_interaction"], ref["p_interaction_rsp"], rtol=1e-6)


def test_survival_subgroups_match_r():
    ref = _ref()
    out = subgroup_survival(_data(), "time", "event", "arm", (0, 1), ["albi", "ecog"])
    out = out.set_index(["subgroup", "level"]).sort_index()
    np.testing.assert_array_equal(out["events"], ref["events"])
    for c in ("hr", "hr_lower", "hr_upper"):
        np.testing.assert_allclose(out[c], ref[c], rtol=1e-6)
    np.testing.assert_allclose(out["p_interaction"], ref["p_interaction_surv"], rtol=1e-6)
    med = pd.read_csv(GOLD / "median_reference.csv")
    allp = out.loc[("All patients", "")]
    assert (allp["median_control"], allp["median_treated"]) == tuple(med["median"])


def _overlaps(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for a in fig.axes for t in a.texts if t.get_text()]
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if boxes[i].overlaps(boxes[j])]


@pytest.mark.parametrize("estimate", ["hr", "or"])
def test_forest_table_columns_and_no_overlapping_text(estimate):
    d = _data().rename(columns={"albi": "albi_grade"})
    tab = (subgroup_survival(d, "time", "event", "arm", (0, 1), ["albi_grade", "ecog"])
           if estimate == "hr" else
           subgroup_response(d, "resp", "arm", (0, 1), ["albi_grade", "ecog"]))
    fig = plot_subgroup_forest(tab, estimate=estimate, arm_labels=("Resin", "Glass"))
    texts = [t.get_text() for a in fig.axes for t in a.texts]
    assert "ALBI grade" in texts
    assert "All patients" in texts
    assert f"{estimate.upper()} [95 % CI]" in texts
    assert any(t.startswith("← Favours") for t in texts)
    forest = fig.axes[3]
    assert forest.get_xscale() == "log"
    assert any(np.allclose(line.get_xdata(), 1.0) for line in forest.lines)
    assert not _overlaps(fig)
    plt.close(fig)


def test_unfittable_subgroup_models_are_not_estimable_not_errors():
    # level "b": every treated patient has the event at once and controls never do -> the
    # within-level Cox and the interaction model diverge; the row is NaN, the table is built
    d = pd.DataFrame({"arm": [0, 1] * 6 + [0, 1, 0, 1],
                      "time": [5.0, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 30, 1, 30, 1],
                      "event": [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1],
                      "g": ["a"] * 12 + ["b"] * 4})
    out = subgroup_survival(d, "time", "event", "arm", (0, 1), ["g"])
    assert list(out["level"]) == ["", "a", "b"]
    assert np.isnan(out.loc[2, "hr"])
