"""Funnel plot of per-centre proportions (Spiegelhalter, Stat Med 2005), issue #16 item 8."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import theme

__all__ = ["plot_funnel"]


@theme.themed
def plot_funnel(rates: pd.DataFrame, *, ylabel: str = "Proportion (%)",
                title: str | None = None, ax=None):
    """Funnel plot: each centre's rate against its number of patients, with control limits.

    Parameters
    ----------
    rates : DataFrame
        :func:`sirtstats.comparative.centre_rates` output (``attrs["p0"]`` = pooled rate).
    ylabel : str
        Label of the y axis (the indicator, in %).
    title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Pooled rate (solid), 95 % limits (dashed) and 99.8 % limits (dotted) from exact
        binomial quantiles; centres labelled by their code.
    """
    from sirtstats.comparative.centres import funnel_limits

    p0 = rates.attrs["p0"]
    fig, ax = plt.subplots(figsize=theme.FIGSIZE["double"]) if ax is None else (ax.figure, ax)
    n_max = int(max(rates["n"].max() * 1.15, 10))
    grid = np.arange(1, n_max + 1)
    lim = funnel_limits(grid, p0)
    ax.axhline(100 * p0, color="black", lw=1.0, label=f"Pooled rate {100 * p0:.1f} %")
    for key, ls, lab in (("95", "--", "95 % control limits"),
                          ("99.8", ":", "99.8 % control limits")):
        ax.plot(grid, 100 * lim[f"lower_{key}"], color=theme.GREY, ls=ls, lw=1.0, label=lab,
                drawstyle="default")
        ax.plot(grid, 100 * lim[f"upper_{key}"], color=theme.GREY, ls=ls, lw=1.0)
    out = rates["outside_95"].astype(bool) if "outside_95" in rates else np.zeros(len(rates))
    ax.scatter(rates["n"][~out], 100 * rates["rate"][~out], s=30, color=theme.PALETTE[0],
               zorder=3, label="Centre within 95 % limits")
    if np.any(out):
        ax.scatter(rates["n"][out], 100 * rates["rate"][out], s=36, marker="D",
                   color=theme.PALETTE[5], zorder=3, label="Centre outside 95 % limits")
    for r in rates.itertuples():
        ax.annotate(str(r.centre), (r.n, 100 * r.rate), xytext=(5, 4),
                    textcoords="offset points", fontsize="small")
    ax.set_xlim(0, n_max)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Patients per centre (n)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    theme.legend_outside(ax)
    return fig
