"""Waterfall / spider / swimmer: the frames they draw and Agg smoke tests."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _response_helpers import ORIGIN, case, combine, lesion, origin_frame  # noqa: E402

from sirtstats.plotting.response import plot_spider, plot_swimmer, plot_waterfall  # noqa: E402
from sirtstats.response import (  # noqa: E402
    BEST_CHANGE_COLUMNS,
    SWIMMER_COLUMNS,
    derive_best_overall_response,
    derive_best_percent_change,
    derive_swimmer_data,
    derive_timepoint_response,
)


@pytest.fixture
def cohort():
    c = combine(case([lesion("L1", [50, 30, 20, 22])], [56, 112, 168], patient="A"),
                case([lesion("L1", [50, 55, 70, 20])], [56, 112, 168], patient="B"),
                case([lesion("L1", [50, None, 45, 45])], [56, 112, 168], patient="C"))
    tp = derive_timepoint_response(*c, include_baseline=True)
    bor = derive_best_overall_response(tp, origin_frame("ABC"), confirm=True)
    return tp, bor


def test_best_percent_change_stops_at_pd_and_skips_partial(cohort):
    tp, bor = cohort
    best = derive_best_percent_change(tp, bor)
    assert list(best.columns) == BEST_CHANGE_COLUMNS
    b = best.set_index("patient_id")
    assert b.loc["A", "best_pct_change"] == -60.0
    assert b.loc["B", "best_pct_change"] == 10.0  # -60 % after PD is not used
    assert b.loc["C", "best_pct_change"] == -10.0  # the partial visit is skipped
    assert b.loc["A", "bor"] == "PR"
    assert derive_best_percent_change(tp, include_after_pd=True).set_index("patient_id").loc[
        "B", "best_pct_change"] == -60.0


def test_swimmer_frame(cohort):
    tp, _ = cohort
    treat = pd.DataFrame({"patient_id": ["A", "A", "B"],
                          "treatment_date": [ORIGIN, ORIGIN + pd.Timedelta(days=30), ORIGIN]})
    pts = pd.DataFrame({"patient_id": ["A", "B", "C"],
                        "death_date": [pd.NaT, ORIGIN + pd.Timedelta(days=200), pd.NaT],
                        "last_contact_date": [ORIGIN + pd.Timedelta(days=300),
                                              ORIGIN + pd.Timedelta(days=200),
                                              ORIGIN + pd.Timedelta(days=400)]})
    sw = derive_swimmer_data(tp, origin_frame("ABC"), df_treatments=treat, df_patients=pts,
                             cutoff_date=ORIGIN + pd.Timedelta(days=365))
    assert list(sw.columns) == SWIMMER_COLUMNS
    fu = sw.loc[sw["event"] == "follow_up"].set_index("patient_id")
    assert fu["day"].tolist() == [300, 200, 365]  # C capped at the cut-off
    assert fu["is_ongoing"].tolist() == [True, False, True]  # B died (and had PD)
    assert sw.loc[sw["patient_id"] == "A", "event"].tolist()[:2] == ["SIRT", "SIRT"]
    assert (sw["event"] == "death").sum() == 1


def test_plots_draw_and_return_axes(cohort):
    tp, bor = cohort
    best = derive_best_percent_change(tp, bor)
    ax = plot_waterfall(best, footnote="RECIST 1.1, confirmed")
    assert len(ax.patches) == 3
    assert {round(line.get_ydata()[0]) for line in ax.lines} >= {20, -30, 0}
    plt.close(ax.figure)
    fig, axes = plt.subplots(1, 2)
    assert plot_spider(tp, axes[0], df_origin=origin_frame("ABC"), df_bor=bor) is axes[0]
    assert plot_spider(tp, axes[1]) is axes[1]
    plt.close(fig)
    sw = derive_swimmer_data(tp, origin_frame("ABC"))
    ax = plot_swimmer(sw, time_unit="weeks")
    assert len(ax.get_yticklabels()) == 3
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="lacks column"):
        plot_waterfall(best.drop(columns="bor"))
    with pytest.raises(ValueError, match="'time_unit' argument of plot_swimmer"):
        plot_swimmer(sw, time_unit="years")


def _two_criteria(frame):
    return pd.concat([frame.assign(criterion="RECIST_1_1"), frame.assign(criterion="mRECIST")],
                     ignore_index=True)


def test_reference_labels_use_a_true_minus_and_sit_once_right_of_the_last_panel(cohort):
    tp, bor = cohort
    axes = plot_waterfall(_two_criteria(derive_best_percent_change(tp, bor)))
    labels = [[t.get_text() for t in a.texts if t.get_gid() == "reference_line_label"]
              for a in axes]
    assert labels == [[], ["+20 % (PD)", "\u221230 % (PR)"]]  # U+2212, not a hyphen
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    right_panel = axes[1].get_window_extent(renderer)
    for t in axes[1].texts:
        assert t.get_window_extent(renderer).x0 >= right_panel.x1  # outside every data area
    plt.close(fig)


def test_waterfall_footnote_is_as_large_as_the_tick_labels(cohort):
    tp, bor = cohort
    ax = plot_waterfall(derive_best_percent_change(tp, bor), footnote="RECIST 1.1, confirmed")
    note = next(t for t in ax.texts if t.get_gid() == "footnote")
    tick = ax.get_yticklabels()[0].get_fontsize()
    assert note.get_text().startswith("RECIST 1.1, confirmed")
    assert note.get_fontsize() >= tick
    plt.close(ax.figure)


def test_spider_draws_progression_last_and_thins_a_crowd(cohort):
    tp, _ = cohort
    # A is PD and comes first in the data: its line must be drawn last (on top)
    bor = pd.DataFrame({"patient_id": ["A", "B", "C"], "bor": ["PD", "SD", "PR"]})
    ax = plot_spider(tp, df_origin=origin_frame("ABC"), df_bor=bor)
    lines = next(c for c in ax.collections if c.get_gid() == "spider_lines")
    colours = [matplotlib.colors.to_hex(c) for c in lines.get_colors()]
    from sirtstats.plotting.response import RESPONSE_COLORS, _spider_line_style
    assert colours[-1] == RESPONSE_COLORS["PD"].lower()
    assert colours[0] == RESPONSE_COLORS["SD"].lower()
    assert _spider_line_style(300)[1] < _spider_line_style(10)[1]
    legend_widths = {h.get_linewidth() for h in ax.get_legend().legend_handles}
    assert min(legend_widths) >= 2
    plt.close(ax.figure)


def test_swimmer_says_which_lanes_are_shown_and_keeps_markers_off_the_axis_line(cohort):
    tp, _ = cohort
    sw = derive_swimmer_data(tp, origin_frame("ABC"))
    ax = plot_swimmer(sw, max_patients=2)
    note = [t.get_text() for t in ax.texts if t.get_gid() == "lane_note"]
    assert note == ["The 2 patients with the longest\nfollow-up of 3 shown"]
    assert ax.get_xlim()[0] < 0  # the SIRT markers at day 0 sit right of the y-axis line
    sizes = {t.get_fontsize() for t in ax.get_yticklabels()}
    assert min(sizes) >= 8  # lane labels were 6 pt (4.7 pt once printed at 183 mm)
    plt.close(ax.figure)
    ax = plot_swimmer(sw)
    assert not [t for t in ax.texts if t.get_gid() == "lane_note"]  # all lanes shown
    plt.close(ax.figure)


def test_waterfall_explains_pd_bars_below_the_pd_line():
    best = pd.DataFrame({"patient_id": ["A", "B", "C"], "best_pct_change": [-40.0, -10.0, 25.0],
                         "bor": ["PR", "PD", "PD"]})
    ax = plot_waterfall(best, footnote="RECIST 1.1")
    note = next(t for t in ax.texts if t.get_gid() == "footnote").get_text()
    first, *rest = note.splitlines()  # one note a line, each wrapped to the panel width
    assert first == "RECIST 1.1"
    assert " ".join(rest) == "PD below +20 % (1): new lesion or non-target progression"
    plt.close(ax.figure)
    ax = plot_waterfall(best.iloc[[0, 2]])
    assert not [t for t in ax.texts if t.get_gid() == "footnote"]
    plt.close(ax.figure)


def test_faceted_waterfall_footnotes_do_not_run_into_each_other():
    best = pd.DataFrame({"patient_id": list("ABCD"), "best_pct_change": [-40.0, -10.0, -5.0, 25.0],
                         "bor": ["PR", "PD", "PD", "PD"]})
    axes = plot_waterfall(_two_criteria(best), footnote="Overall response; BOR confirmed")
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    left, right = (next(t for t in a.texts if t.get_gid() == "footnote")
                   .get_window_extent(renderer) for a in axes)
    assert left.x1 < right.x0
    plt.close(fig)
