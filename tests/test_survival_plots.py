"""Smoke and layout tests of sirtstats.plotting.survival (Agg backend; figures closed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sirtstats import survival as sv  # noqa: E402
from sirtstats.plotting.survival import (  # noqa: E402
    format_gray_annotation,
    format_hr_annotation,
    plot_cif,
    plot_forest,
    plot_km,
)

pytestmark = pytest.mark.filterwarnings("ignore::sirtstats.exceptions.SirtStatsWarning")

DF = pd.DataFrame({
    "time_months": [2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 4, 6, 6, 9, 11, 14, 16, 18, 20, 24],
    "event": [1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0],
    "arm": ["B"] * 10 + ["A"] * 10,
})


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_km_risk_table_numbers_sit_on_the_ticks():
    ticks = [0, 6, 12, 18, 24]
    curve = sv.compute_km_curve(DF, by="arm")
    risk = sv.compute_number_at_risk(DF, ticks, by="arm")
    # full curves: the geometry of every count, not the curtailment (tests/test_km_curtail.py)
    ax = plot_km(curve, risk_table=risk, min_at_risk=None)
    assert list(ax.get_xticks()) == ticks
    texts = [t for t in ax.texts if t.get_gid() == "risk_table"]
    assert len(texts) == 2 * len(ticks)
    assert sorted({t.xy[0] for t in texts}) == ticks
    # anchored in data x: after a change of limits each number is still centred on its tick
    ax.set_xlim(0, 30)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    tick_x = {round(float(v)): ax.transData.transform((v, 0))[0] for v in ticks}
    for t in texts:
        bbox = t.get_window_extent(renderer)
        assert (bbox.x0 + bbox.x1) / 2 == pytest.approx(tick_x[round(t.xy[0])], abs=0.5)
    # rows sit below the x-axis label
    label_box = ax.xaxis.label.get_window_extent(renderer)
    assert max(t.get_window_extent(renderer).y1 for t in texts) < label_box.y0
    # counts are the risk-table values, in group order A then B
    a = [t.get_text() for t in texts][: len(ticks)]
    assert a == [str(n) for n in risk.loc[risk["arm"] == "A", "n_risk"]]


def test_km_legend_n_censor_marks_median_lines_and_annotation():
    curve = sv.compute_km_curve(DF, by="arm")
    summ = sv.summarise_km(DF, by="arm", landmarks=())
    cox = sv.fit_cox(DF, ["arm"], ph_transform=None)
    lr = sv.test_logrank(DF, group_col="arm")
    text = format_hr_annotation(cox.hr_table, logrank=lr)
    assert text == "HR 2.06 (0.61–6.95); log-rank p = 0.223"
    ax = plot_km(curve, summary=summ, show_median=True, annotation=text, min_at_risk=None)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["A (N = 10)", "B (N = 10)", "Censored"]
    censors = [ln for ln in ax.get_lines() if ln.get_gid() == "censor_marks"]
    assert sum(len(ln.get_xdata()) for ln in censors) == int(
        (curve["n_censor"] > 0).sum())
    medians = [ln for ln in ax.get_lines() if ln.get_gid() == "median_line"]
    assert sorted(ln.get_xdata()[1] for ln in medians) == [8, 14]
    assert any(t.get_gid() == "annotation" and t.get_text() == text for t in ax.texts)


def test_km_single_curve_on_given_axes_returns_it():
    fig, ax = plt.subplots()
    out = plot_km(sv.compute_km_curve(DF), ax=ax, show_ci=False)
    assert out is ax
    assert ax.get_legend().get_texts()[0].get_text() == "All patients (N = 20)"


def test_km_step_curve_starts_at_one_and_follows_estimate():
    curve = sv.compute_km_curve(DF)
    ax = plot_km(curve, show_ci=False, show_censors=False, min_at_risk=None)
    line = ax.get_lines()[0]
    assert line.get_ydata()[0] == 1.0
    np.testing.assert_allclose(line.get_ydata()[1:], curve["surv"])


def test_cif_plot_lines_per_group_and_cause():
    df = DF.assign(event_type=np.where(DF["event"] == 1,
                                       np.where(np.arange(20) % 3 == 0, "death",
                                                "progression"), "censored"))
    axes = plot_cif(sv.compute_cif_curve(df, by="arm"),
                    risk_table=sv.compute_number_at_risk(df, [0, 6, 12, 18, 24], by="arm"),
                    min_at_risk=None)
    # one panel per group (the groups Gray's test compares), both causes in each
    assert [a.get_title() for a in axes] == ["A (N = 10)", "B (N = 10)"]
    for a in axes:
        assert [ln.get_label() for ln in a.get_lines()] == ["Progression",
                                                            "Death without progression"]
        assert a.get_ylim() == (0, 1)
    # the same colour for a cause in every panel, a different one per cause
    colours = [[ln.get_color() for ln in a.get_lines()] for a in axes]
    assert colours[0] == colours[1]
    assert colours[0][0] != colours[0][1]
    # at-risk row under each panel (time >= t): arm A times 4, 6, 6, 9, 11, 14, 16, 18, 20, 24
    # -> 10, 9, 5, 3, 1; arm B times 2, 3, 4, 5, 6, 7, 8, 10, 12, 15 -> 10, 6, 2, 0, 0
    counts = [[t.get_text() for t in a.texts if t.get_gid() == "risk_table"] for a in axes]
    assert counts == [["10", "9", "5", "3", "1"], ["10", "6", "2", "0", "0"]]


def test_format_gray_annotation_orders_progression_first():
    gray = pd.DataFrame({"cause": ["death", "progression"], "p": [0.5, 0.012]})
    assert format_gray_annotation(gray) == (
        "Gray's test: progression p = 0.012; death without progression p = 0.500")


def test_forest_rows_labels_and_values():
    tab = sv.fit_cox(DF.assign(x=np.arange(20) % 4), ["arm", "x"], ph_transform=None).hr_table
    ax = plot_forest(tab)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Arm: B vs A",
                                                            "X, per 1-unit increase"]
    values = [t.get_text() for t in ax.texts if t.get_gid() == "forest_value"]
    assert values[0] == f"{tab.loc[0, 'hr']:.2f} ({tab.loc[0, 'hr_lower']:.2f}–" \
                        f"{tab.loc[0, 'hr_upper']:.2f})"
    assert ax.get_xscale() == "log"


def test_plot_km_refuses_a_frame_that_is_not_a_curve():
    with pytest.raises(ValueError, match="compute_km_curve|curve lacks"):
        plot_km(DF)


def test_forest_labels_degenerate_interval_as_not_estimable():
    tab = pd.DataFrame({"variable": ["a", "b"], "level": ["x", ""], "reference": ["y", ""],
                        "hr": [2.0, 1e-12], "hr_lower": [1.0, 0.0], "hr_upper": [4.0, np.inf]})
    ax = plot_forest(tab)
    values = [t.get_text() for t in ax.texts if t.get_gid() == "forest_value"]
    assert values == ["2.00 (1.00–4.00)", "not estimable"]


def test_km_draws_the_median_lines_by_default_when_the_summary_is_given():
    curve = sv.compute_km_curve(DF, by="arm")
    summ = sv.summarise_km(DF, by="arm", landmarks=())

    def medians(ax):
        return sorted(ln.get_xdata()[1] for ln in ax.get_lines() if ln.get_gid() == "median_line")

    assert medians(plot_km(curve, summary=summ)) == [8, 14]
    assert medians(plot_km(curve, summary=summ, show_median=False)) == []
    assert medians(plot_km(curve)) == []  # no summary, no medians to draw


def test_km_leaves_the_median_lines_out_by_default_past_four_groups():
    df = pd.DataFrame({"time_months": np.tile([2.0, 4.0, 6.0, 8.0], 5),
                       "event": np.tile([1, 1, 0, 1], 5), "arm": np.repeat(list("ABCDE"), 4)})
    ax = plot_km(sv.compute_km_curve(df, by="arm"), summary=sv.summarise_km(df, by="arm",
                                                                           landmarks=()))
    assert not [ln for ln in ax.get_lines() if ln.get_gid() == "median_line"]


def test_km_risk_table_rows_follow_the_legend_order():
    # curves drawn B then A (order of appearance), risk table given A then B: the rows follow
    # the curves (legend), top to bottom, whatever the order of the risk table's rows
    curve = sv.compute_km_curve(DF.iloc[::-1], by="arm")
    curve = pd.concat([curve[curve["arm"] == "B"], curve[curve["arm"] == "A"]])
    risk = sv.compute_number_at_risk(DF, [0, 6, 12], by="arm").sort_values("arm")
    ax = plot_km(curve, risk_table=risk, min_at_risk=None)
    legend = [t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()][:2]
    rows = sorted((t for t in ax.texts if t.get_gid() == "risk_table_label"),
                  key=lambda t: -t.xyann[1])
    assert [t.get_text() for t in rows] == legend
    assert legend[0].endswith("B")
