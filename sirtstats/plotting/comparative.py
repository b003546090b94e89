"""Comparative-analysis figures: propensity-score overlap and the love plot (issue #16)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import theme

__all__ = ["plot_love", "plot_ps_overlap"]


@theme.themed
def plot_ps_overlap(ps, treated, *, labels: Sequence[str] = ("Control", "Treated"),
                    bins: int = 20, ax=None):
    """Histograms of the propensity score by group (mirrored: treated up, control down).

    Returns
    -------
    matplotlib.figure.Figure
    """
    ps = np.asarray(ps, float)
    t = np.asarray(treated).astype(int)
    fig, ax = plt.subplots() if ax is None else (ax.figure, ax)
    edges = np.linspace(0, 1, bins + 1)
    h1, _ = np.histogram(ps[t == 1], edges)
    h0, _ = np.histogram(ps[t == 0], edges)
    width = np.diff(edges)
    ax.bar(edges[:-1], h1, width, align="edge", color=theme.PALETTE[1], label=labels[1])
    ax.bar(edges[:-1], -h0, width, align="edge", color=theme.PALETTE[0], label=labels[0])
    ax.axhline(0, color=theme.GREY, lw=0.8)
    ax.set_xlabel("Propensity score")
    ax.set_ylabel("Patients (treated up, control down)")
    theme.legend_outside(ax)
    return fig


@theme.themed
def plot_love(balance: pd.DataFrame, *, threshold: float = 0.1, ax=None):
    """Love plot: |SMD| per covariate (level) for each column ``smd_*`` of a balance table.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cols = [c for c in balance.columns if c.startswith("smd_")]
    names = [v if not lv else f"{v}: {lv}" for v, lv in zip(balance["variable"],
                                                            balance["level"], strict=True)]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(names) + 1.5)) if ax is None else (ax.figure, ax)
    for i, c in enumerate(cols):
        ax.plot(balance[c].abs(), y, "o", color=theme.PALETTE[i % len(theme.PALETTE)],
                label=c.removeprefix("smd_"))
    ax.axvline(threshold, color=theme.GREY, ls="--", lw=0.8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("Absolute standardised mean difference")
    theme.legend_outside(ax)
    return fig
