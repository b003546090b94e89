"""Curves curtailed where few remain at risk (Pocock, Clayton & Altman, Lancet 2002; D61)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sirtstats import survival as sv  # noqa: E402
from sirtstats.plotting.survival import curtail_curve, plot_cif, plot_km  # noqa: E402

# 10 patients, one event or censoring a month: n at risk 10, 9, ..., 1 at months 1 ... 10
_DF = pd.DataFrame({"time_months": np.arange(1.0, 11.0),
                    "event": [1, 0, 1, 1, 0, 1, 0, 1, 1, 0]})
_TICKS = [0, 2, 4, 6, 8, 10]


def _curve_xmax(ax):
    return max(float(np.nanmax(line.get_xdata())) for line in ax.get_lines()
               if line.get_gid() not in ("median_line",) and len(line.get_xdata()))


def test_curtail_keeps_the_rows_with_enough_at_risk():
    curve = sv.compute_km_curve(_DF)
    # n_risk 10..1 at months 1..10: >= 5 at risk up to month 6 (6 at risk at month 5 ...)
    assert curtail_curve(curve, 5)["time"].max() == 6.0
    assert curtail_curve(curve, 0.3)["time"].max() == 8.0  # ceil(0.3 * 10) = 3
    assert curtail_curve(curve, None)["time"].max() == 10.0


def test_km_stops_at_five_at_risk_and_the_axis_ends_there():
    curve = sv.compute_km_curve(_DF)
    ax = plot_km(curve, risk_table=sv.compute_number_at_risk(_DF, _TICKS))
    assert _curve_xmax(ax) == 6.0
    assert ax.get_xlim()[1] == pytest.approx(6.0 * 1.02)
    counts = [t for t in ax.texts if t.get_gid() == "risk_table"]
    assert [t.xy[0] for t in counts] == [0.0, 2.0, 4.0, 6.0]
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "curtail_note"]
    assert notes == ["Curves stop where fewer than 5 patients remain at risk "
                     "(Pocock et al., Lancet 2002)."]
    plt.close("all")


def test_km_without_curtailment_draws_the_full_curve():
    ax = plot_km(sv.compute_km_curve(_DF), risk_table=sv.compute_number_at_risk(_DF, _TICKS),
                 min_at_risk=None)
    assert _curve_xmax(ax) == 10.0
    assert not [t for t in ax.texts if t.get_gid() == "curtail_note"]
    plt.close("all")


def test_cif_panels_stop_at_five_at_risk():
    df = pd.DataFrame({"time_months": np.arange(1.0, 11.0),
                       "event_type": ["progression", "death", "censored", "progression",
                                      "censored", "death", "progression", "censored",
                                      "progression", "death"]})
    ax = plot_cif(sv.compute_cif_curve(df))
    assert _curve_xmax(ax) == 6.0
    assert ax.get_xlim()[1] == pytest.approx(6.0 * 1.02)
    assert any(t.get_gid() == "curtail_note" for t in ax.figure.texts)
    plt.close("all")


def test_local_control_plot_says_the_counts_are_lesions():
    """The legend and risk table said N = 469 without saying these are lesions."""
    ax = plot_km(sv.compute_km_curve(_DF), risk_table=sv.compute_number_at_risk(_DF, _TICKS),
                 count_noun="lesions")
    assert ax.get_legend().get_texts()[0].get_text() == "All lesions (N = 10 lesions)"
    titles = [t.get_text() for t in ax.texts if t.get_gid() == "risk_table_title"]
    assert titles == ["Number of lesions at risk"]
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "curtail_note"]
    assert "fewer than 5 lesions remain at risk" in notes[0]
    plt.close("all")
