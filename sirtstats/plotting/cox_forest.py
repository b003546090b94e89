"""Forest plot of Cox hazard ratios (:attr:`sirtstats.survival.CoxResult.hr_table`).

Moved out of :mod:`sirtstats.plotting.survival` (module size, issue #14 item 2), which still
re-exports :func:`plot_forest`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import blended_transform_factory

from sirtstats.labels import column_label, value_label
from sirtstats.plotting import theme
from sirtstats.plotting._frames import _check

__all__ = ["plot_forest"]


def _forest_label(row) -> str:
    """Readable row label: "ALBI grade: 2 vs 1", "ECOG PS, per 1-unit increase"."""
    name = column_label(str(row["variable"]))
    if row.get("level", "") in ("", None) or pd.isna(row.get("level", "")):
        return f"{name}, per 1-unit increase"
    return f"{name}: {value_label(row['level'])} vs {value_label(row['reference'])}"


@theme.themed
def plot_forest(
    hr_table: pd.DataFrame,
    *,
    ax=None,
    label_col: str | None = None,
    show_values: bool = True,
    xlabel: str = "Hazard ratio (95 % CI, log scale)",
    title: str | None = None,
):
    """Forest plot of hazard ratios with confidence intervals (log scale, reference line at 1).

    Parameters
    ----------
    hr_table : DataFrame
        :attr:`sirtstats.survival.CoxResult.hr_table` (or the
        :func:`~sirtstats.survival.fit_cox_univariable` table): ``hr``, ``hr_lower``,
        ``hr_upper`` and ``variable``/``level``/``reference`` (or ``label_col``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (height grows with the number of rows when None).
    label_col : str, optional
        Column with row labels (default: "variable: level vs reference").
    show_values : bool, default True
        Print "HR (lower–upper)" at the right of each row.
    xlabel, title : str
        Labels.

    Returns
    -------
    matplotlib.axes.Axes
        The axes (first table row at the top).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sirtstats.plotting.survival import plot_forest
    >>> tab = pd.DataFrame({"variable": ["albi_grade", "age"], "level": ["2", ""],
    ...                     "reference": ["1", ""], "hr": [1.6, 1.01],
    ...                     "hr_lower": [1.2, 0.99], "hr_upper": [2.1, 1.03]})
    >>> [t.get_text() for t in plot_forest(tab).get_yticklabels()]
    ['ALBI grade: 2 vs 1', 'Age, per 1-unit increase']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    _check(hr_table, {"hr", "hr_lower", "hr_upper"}, "hr_table")
    n = len(hr_table)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(5.0, 1.1 + 0.3 * n))
    labels = (hr_table[label_col].astype(str).tolist() if label_col
              else [_forest_label(r) for _, r in hr_table.iterrows()])
    y = np.arange(n)[::-1]
    hr = hr_table["hr"].to_numpy(dtype=float)
    lo = hr_table["hr_lower"].to_numpy(dtype=float)
    hi = hr_table["hr_upper"].to_numpy(dtype=float)
    # a degenerate interval (monotone likelihood) is labelled, not drawn
    ok = np.isfinite(hr) & np.isfinite(lo) & np.isfinite(hi) & (lo > 0) & (hi / lo < 1e6)
    ax.errorbar(hr[ok], y[ok], xerr=[hr[ok] - lo[ok], hi[ok] - hr[ok]], fmt="s",
                color=theme.PALETTE[0], ecolor="black", elinewidth=1.0, capsize=2.5,
                markersize=4.5)
    ax.axvline(1.0, color=theme.GREY, linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, pad=20 if show_values else 6)
    if show_values:
        trans = blended_transform_factory(ax.transAxes, ax.transData)
        for yi, h, a, b, good in zip(y, hr, lo, hi, ok, strict=True):
            text = f"{h:.2f} ({a:.2f}–{b:.2f})" if good else "not estimable"
            ax.text(1.03, yi, text, transform=trans, va="center", clip_on=False,
                    gid="forest_value")
        ax.text(1.03, n - 0.3, "HR (95 % CI)", transform=trans, va="bottom",
                fontweight="bold", clip_on=False, gid="forest_value_header")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    return ax
