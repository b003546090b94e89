"""Smoke tests of the dosimetry and toxicity figures (issue #11 item 3).

Checked on small hand-made frames: dose axes are logarithmic, the fitted probability has its own
panel (no twin axes: no two Axes share a position), legends lie outside every data area, no
raw code reaches a label, and the AE heatmap colours a cell by its CTCAE grade, not its count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

RAW_CODES = ("Y90_glass", "Y90_resin", "Ho166_PLLA", "RECIST_1_1", "absorbed_dose_gy",
             "best_pct_change", "is_responder")


@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _points():
    rows = []
    for device, doses in (("Y90_glass", [60.0, 120.0, 250.0, 500.0, 1500.0]),
                          ("Y90_resin", [8.0, 30.0, 60.0, 120.0, 300.0]),
                          ("Ho166_PLLA", [40.0, 90.0])):
        for i, dose in enumerate(doses):
            rows.append({"patient_id": f"{device}-{i}", "device": device,
                         "criterion": "mRECIST", "absorbed_dose_gy": dose,
                         "best_pct_change": -60.0 if i % 2 else 5.0,
                         "is_responder": bool(i % 2)})
    return pd.DataFrame(rows)


def _summary():
    return pd.DataFrame({
        "device": ["Y90_glass", "Y90_resin", "Ho166_PLLA"], "criterion": "mRECIST",
        "is_estimable": [True, True, False], "n_lesions": [5, 5, 2], "n_patients": [5, 5, 2],
        "threshold_gy": [205.0, 120.0, np.nan],
        "note": ["", "", "not estimable: 2 evaluable lesions (< 20)"],
        "auc": [0.8, 0.7, np.nan], "auc_ci_lower": [0.6, 0.5, np.nan],
        "auc_ci_upper": [0.9, 0.9, np.nan], "youden_threshold_gy": [250.0, 60.0, np.nan],
    })


def _curves():
    frames = []
    for device, low, high in (("Y90_glass", 60.0, 1500.0), ("Y90_resin", 8.0, 300.0)):
        dose = np.geomspace(low, high, 11)
        p = np.linspace(0.1, 0.9, 11)
        frames.append(pd.DataFrame({"device": device, "criterion": "mRECIST", "dose_gy": dose,
                                    "probability": p, "ci_lower": p - 0.05,
                                    "ci_upper": p + 0.05}))
    return pd.concat(frames, ignore_index=True)


def _title(ax):
    """The title whatever its location (the theme puts titles on the left)."""
    return next((t for t in (ax.get_title(loc) for loc in ("left", "center", "right")) if t), "")


def _texts(fig):
    out = []
    for ax in fig.axes:
        out += [_title(ax), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.texts]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
            out.append(ax.get_legend().get_title().get_text())
    if fig._suptitle is not None:
        out.append(fig._suptitle.get_text())
    return out


def _assert_no_raw_code(fig):
    texts = _texts(fig)
    for code in RAW_CODES:
        assert not [t for t in texts if code in t], code


def _assert_no_twin_axes(fig):
    positions = [tuple(np.round(ax.get_position().bounds, 6)) for ax in fig.axes]
    assert len(positions) == len(set(positions)), "two Axes share a position (twin axes)"


def _assert_legends_outside(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible() and ax.axison:
                assert not box.overlaps(ax.get_window_extent(renderer)), _title(ax)


def test_dose_response_by_device_log_axes_own_probability_panel_readable(plt):
    from sirtstats.plotting.dosimetry import plot_dose_response_by_device

    grid = plot_dose_response_by_device(_points(), _curves(), _summary(), criterion="mRECIST")
    fig = grid[0, 0].figure
    assert grid.shape == (2, 3)
    assert all(ax.get_xscale() == "log" for ax in grid.ravel())
    assert len(fig.axes) == 6
    _assert_no_twin_axes(fig)
    for ax in grid[1]:
        assert ax.get_ylim() == (0.0, 1.0)
        assert ax.get_ylabel() in ("Probability of response", "")
    assert grid[1, 0].get_xlabel() == "Lesion absorbed dose (Gy)"
    # each device's own threshold line, none for Ho-166
    vlines = [[ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"]
              for ax in grid[0]]
    assert vlines == [[205.0], [120.0], []]
    assert "Not estimable" in grid[1, 2].texts[0].get_text()
    assert _title(grid[0, 0]).splitlines()[0] == "Y-90 glass · mRECIST"
    _assert_no_raw_code(fig)
    _assert_legends_outside(fig)


def test_plot_dose_response_single_device_has_no_twin_axis(plt):
    from sirtstats.plotting.dosimetry import plot_dose_response

    pts = _points()
    glass = pts[pts["device"] == "Y90_glass"]
    top, bottom = plot_dose_response(glass, _curves().query("device == 'Y90_glass'"),
                                     threshold_gy=205.0)
    fig = top.figure
    assert len(fig.axes) == 2
    _assert_no_twin_axes(fig)
    assert top.get_xscale() == bottom.get_xscale() == "log"
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), np.linspace(0.1, 0.9, 11))
    _assert_legends_outside(fig)
    _assert_no_raw_code(fig)


def test_roc_by_device_one_panel_per_device(plt):
    from sirtstats.plotting.dosimetry import plot_roc_by_device

    roc = pd.DataFrame({"device": ["Y90_glass"] * 3 + ["Y90_resin"] * 3,
                        "criterion": "mRECIST", "fpr": [0.0, 0.5, 1.0] * 2,
                        "tpr": [0.0, 1.0, 1.0] * 2,
                        "threshold": [np.inf, 250.0, 60.0, np.inf, 60.0, 8.0]})
    axes = plot_roc_by_device(roc, _summary(), criterion="mRECIST")
    assert axes.shape == (1, 3)
    assert _title(axes[0, 0]) == "Y-90 glass · mRECIST (5 lesions)"
    assert "AUC 0.80 (0.60–0.90)" in [t.get_text() for t in axes[0, 0].get_legend().get_texts()]
    assert axes[0, 2].texts[0].get_text() == "Not estimable"
    _assert_no_raw_code(axes[0, 0].figure)
    _assert_legends_outside(axes[0, 0].figure)


def test_dose_by_device_log_axes_and_device_labels(plt):
    from sirtstats.plotting.dosimetry import DEVICE_COLOURS, plot_dose_by_device

    df = pd.DataFrame({"device": ["Y90_glass", "Y90_resin", "Ho166_PLLA"],
                       "perfused_volume_ml": [300.0, 1200.0, 900.0],
                       "perfused_dose_gy": [250.0, 55.0, 60.0]})
    ax = plot_dose_by_device(df)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Y-90 glass (n = 1)", "Y-90 resin (n = 1)", "Ho-166 PLLA (n = 1)"]
    colours = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in ax.collections}
    assert len(colours) == 3
    assert "#00FF00" not in DEVICE_COLOURS.values()
    _assert_no_raw_code(ax.figure)
    _assert_legends_outside(ax.figure)


def test_survival_by_device_dose_group_has_risk_table_and_logrank_p(plt):
    import warnings

    from sirtstats.dose_response import (
        select_device_thresholds,
        summarise_survival_by_device_dose_group,
    )
    from sirtstats.exceptions import SirtStatsWarning
    from sirtstats.plotting.dosimetry import plot_survival_by_device_dose_group

    doses = pd.DataFrame({"patient_id": [f"P{i}" for i in range(8)],
                          "device": ["Y90_glass"] * 4 + ["Y90_resin"] * 4,
                          "absorbed_dose_gy": [100.0, 150.0, 250.0, 300.0] * 2})
    endpoints = pd.DataFrame({"patient_id": doses["patient_id"], "endpoint": "OS",
                              "time_months": [3.0, 7.0, 13.0, 20.0, 4.0, 9.0, 12.0, 15.0],
                              "event": [1, 1, 0, 1, 1, 0, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        res = summarise_survival_by_device_dose_group(endpoints, doses,
                                                      select_device_thresholds(["HCC"]))
        axes = plot_survival_by_device_dose_group(res.curve, res.risk_table, res.tests,
                                                  km=res.km)
    assert len(axes) == 2
    for ax, threshold in zip(axes, (205, 120), strict=True):
        risk = [t.get_text() for t in ax.texts if t.get_gid() == "risk_table"]
        assert risk
        assert ax.get_legend().get_title().get_text().startswith("log-rank p")
        assert f"{threshold} Gy" in _title(ax)
    _assert_no_raw_code(axes[0].figure)
    _assert_no_twin_axes(axes[0].figure)


def test_ae_heatmap_colours_cells_by_grade_not_by_count(plt):
    from matplotlib.colors import to_rgba

    from sirtstats.plotting.toxicity import GRADE_COLOURS, plot_ae_grades

    counts = pd.DataFrame({
        "ae_term": ["Fatigue"] * 5 + ["Hepatic failure"] * 5,
        "grade": [1, 2, 3, 4, 5] * 2,
        "n": [60, 20, 1, 0, 0, 0, 0, 0, 0, 2], "N": 100,
        "pct": [60.0, 20.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
    })
    ax = plot_ae_grades(counts, kind="heatmap")
    cells = ax.get_images()[0].get_array()
    # Fatigue grade 1 (60 patients) and grade 3 (1 patient): each its grade's colour
    np.testing.assert_allclose(cells[0, 0], to_rgba(GRADE_COLOURS[1]))
    np.testing.assert_allclose(cells[0, 2], to_rgba(GRADE_COLOURS[3]))
    # the two grade-5 events are black-ish: the darkest cell of the map
    np.testing.assert_allclose(cells[1, 4], to_rgba(GRADE_COLOURS[5]))
    luminance = cells[..., :3] @ np.array([0.2126, 0.7152, 0.0722])
    assert np.unravel_index(np.argmin(luminance), luminance.shape) == (1, 4)
    # empty cells share one neutral colour, whatever their grade
    np.testing.assert_allclose(cells[0, 3], cells[1, 0])
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["60", "20", "1", "0", "0", "0", "0", "0", "0", "2"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"Grade {g}" for g in range(1, 6)]
    _assert_legends_outside(ax.figure)


def test_grade_colours_are_ordinal_light_to_dark():
    from matplotlib.colors import to_rgb

    from sirtstats.plotting.toxicity import GRADE_COLOURS

    lum = [np.dot(to_rgb(GRADE_COLOURS[g]), [0.2126, 0.7152, 0.0722]) for g in range(1, 6)]
    assert lum == sorted(lum, reverse=True)


def _assert_readable_in_print(fig):
    from sirtstats.plotting import theme

    small = [(round(size, 1), text) for size, text in theme.printed_text_sizes(fig)
             if size < theme.MIN_PRINT_PT]
    assert not small, small[:5]


def test_per_device_grids_stay_readable_printed_at_two_columns(plt):
    """The dose-response grid was 12.5 in wide with 8 pt titles: 4.6 pt once printed 183 mm."""
    from sirtstats.plotting.dosimetry import plot_dose_response_by_device, plot_roc_by_device

    both = pd.concat([_points(), _points().assign(criterion="RECIST_1_1")], ignore_index=True)
    summary = pd.concat([_summary(), _summary().assign(criterion="RECIST_1_1")],
                        ignore_index=True)
    curves = pd.concat([_curves(), _curves().assign(criterion="RECIST_1_1")], ignore_index=True)
    grid = plot_dose_response_by_device(both, curves, summary,
                                        criterion=["mRECIST", "RECIST_1_1"])
    _assert_readable_in_print(grid[0, 0].figure)
    roc = pd.DataFrame({"device": "Y90_glass", "criterion": "mRECIST", "fpr": [0.0, 0.5, 1.0],
                        "tpr": [0.0, 0.8, 1.0], "threshold": [np.inf, 200.0, 50.0]})
    axes = plot_roc_by_device(roc, _summary(), criterion="mRECIST")
    _assert_readable_in_print(axes[0, 0].figure)


def test_log_dose_ticks_thin_out_on_a_wide_range(plt):
    """20-3,000 Gy in a 2.7 in panel: 1-2-5 steps wrote '5001000 2000' in one run."""
    from sirtstats.plotting.dosimetry import _MAX_LOG_TICKS, _fit_log_ticks, _log_dose_axis

    fig, ax = plt.subplots()
    _log_dose_axis(ax)
    for lo, hi, expected in ((20.0, 3000.0, [30, 100, 300, 1000, 3000]),
                             (8.0, 400.0, [10, 20, 50, 100, 200]),
                             (5.0, 1e5, [10, 100, 1000, 10000, 100000])):
        ax.set_xlim(lo, hi)
        _fit_log_ticks(ax)
        ticks = [round(t) for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks == expected
        assert len(ticks) <= _MAX_LOG_TICKS


def test_roc_panels_are_square(plt):
    """A ROC curve compares two rates on [0, 1]: its panel must be square (equal aspect)."""
    from sirtstats.plotting.dosimetry import plot_roc, plot_roc_by_device

    roc = pd.DataFrame({"device": ["Y90_glass"] * 3 + ["Y90_resin"] * 3,
                        "criterion": "mRECIST", "fpr": [0.0, 0.5, 1.0] * 2,
                        "tpr": [0.0, 1.0, 1.0] * 2,
                        "threshold": [np.inf, 250.0, 60.0, np.inf, 60.0, 8.0]})
    axes = plot_roc_by_device(roc, _summary(), criterion="mRECIST")
    _, wide = plt.subplots(figsize=(9.0, 3.0))  # a caller's wide axes
    plot_roc(roc.loc[roc["device"] == "Y90_glass", ["fpr", "tpr", "threshold"]], wide)
    for ax in [*axes.ravel(), wide]:
        ax.figure.canvas.draw()
        box = ax.get_window_extent()
        assert abs(box.width - box.height) <= 1.0, (box.width, box.height)
        assert ax.get_xlim() == ax.get_ylim()
