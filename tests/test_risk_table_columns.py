"""Readable risk tables and print-sized CIF panels (decision D62)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sirtstats import survival as sv  # noqa: E402
from sirtstats.plotting import theme  # noqa: E402
from sirtstats.plotting.survival import MAX_RISK_COLUMNS, plot_cif, plot_km, thin_risk_times  # noqa: E402


def test_thin_risk_times_picks_the_smallest_6_or_12_month_step_that_fits():
    assert thin_risk_times(range(0, 49, 6)).tolist() == [0, 6, 12, 18, 24, 30, 36, 42, 48]
    assert thin_risk_times(range(0, 97, 6)).tolist() == list(range(0, 97, 12))
    # 0-216 months: 24-month steps would still give 10 columns
    assert thin_risk_times(range(0, 217, 6)).tolist() == list(range(0, 217, 36))
    assert thin_risk_times(range(0, 25, 3)).tolist() == list(range(0, 25, 3))  # 9 columns


def test_km_risk_table_with_17_times_prints_at_most_nine_columns():
    df = pd.DataFrame({"time_months": np.linspace(1, 100, 40), "event": [1, 0] * 20})
    ticks = list(range(0, 97, 6))  # 17 columns, as the resin panel of the OS-by-dose figure
    ax = plot_km(
        sv.compute_km_curve(df), risk_table=sv.compute_number_at_risk(df, ticks), min_at_risk=None
    )
    shown = sorted({t.xy[0] for t in ax.texts if t.get_gid() == "risk_table"})
    assert len(shown) <= MAX_RISK_COLUMNS
    assert shown == list(range(0, 97, 12))
    assert list(ax.get_xticks()) == shown
    plt.close("all")


def test_cif_with_three_groups_prints_near_full_size_at_two_columns():
    rng = np.random.default_rng(7)
    n = 90
    df = pd.DataFrame(
        {
            "time_months": rng.uniform(0.5, 30, n).round(1),
            "event_type": rng.choice(["progression", "death", "censored"], n),
            "albi_grade": np.repeat([1, 2, 3], 30),
        }
    )
    df["event"] = (df["event_type"] != "censored").astype(int)
    axes = plot_cif(
        sv.compute_cif_curve(df, by="albi_grade"),
        risk_table=sv.compute_number_at_risk(df, [0, 6, 12, 18, 24, 30], by="albi_grade"),
        title="Cumulative incidence",
    )
    fig = axes[0].figure
    fig.canvas.draw()
    # was 11.8 in wide (6.2 pt text in print); now two 3 in panels a row
    assert fig.get_figwidth() <= 8.0
    assert axes[0].get_position().width * fig.get_figwidth() >= 2.9
    assert min(size for size, _ in theme.printed_text_sizes(fig)) >= 8.0
    plt.close("all")
