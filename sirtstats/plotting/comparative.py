"""Comparative-analysis figures: propensity-score overlap, love plot, adjusted KM (issue #16)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from . import theme

__all__ = ["plot_adjusted_km", "plot_love", "plot_ps_overlap"]


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
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{abs(v):g}"))
    ax.set_xlabel(f"Propensity score, P({labels[1]})")
    ax.set_ylabel(f"Patients ({labels[1]} up, {labels[0]} down)")
    theme.legend_outside(ax)
    return fig


#: Readable names of the covariates of :func:`sirtstats.comparative.comparative_frame`.
COVARIATE_LABELS = {"albi_grade": "ALBI grade", "bclc_C": "BCLC C", "bclc_D": "BCLC D",
                    "ecog_ge1": "ECOG PS ≥ 1", "primary": "Primary tumour",
                    "tumour_burden_pct": "Tumour burden (%)"}


def _covariate_name(variable: str, level: str, labels) -> str:
    from sirtstats.labels import column_label, value_label

    name = labels.get(variable) or column_label(variable)
    return name if not level else f"{name}: {value_label(level)}"


@theme.themed
def plot_love(balance: pd.DataFrame, *, threshold: float = 0.1, labels=None, ax=None):
    """Love plot: |SMD| per covariate (level) for each column ``smd_*`` of a balance table.

    ``labels`` maps covariate names to readable names (default :data:`COVARIATE_LABELS`, then
    :func:`sirtstats.labels.column_label`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    labels = {**COVARIATE_LABELS, **(labels or {})}
    cols = [c for c in balance.columns if c.startswith("smd_")]
    names = [_covariate_name(v, lv, labels) for v, lv in zip(balance["variable"],
                                                             balance["level"], strict=True)]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(names) + 1.5)) if ax is None else (ax.figure, ax)
    for i, c in enumerate(cols):
        lab = c.removeprefix("smd_")
        ax.plot(balance[c].abs(), y, "o", color=theme.PALETTE[i % len(theme.PALETTE)],
                label="Unadjusted" if lab == "unadjusted" else lab)
    ax.axvline(threshold, color=theme.GREY, ls="--", lw=0.8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("Absolute standardised mean difference")
    theme.legend_outside(ax)
    return fig


@theme.themed
def plot_adjusted_km(km: pd.DataFrame, *, labels: Sequence[str] = ("Control", "Treated"),
                     risk_table: pd.DataFrame | None = None, days_per_month: float = 30.4375,
                     weights_label: str = "weighted", title: str | None = None,
                     annotation: str | None = None):
    """Adjusted (weighted) Kaplan–Meier curves of OS, drawn like every KM of the report.

    Parameters
    ----------
    km : DataFrame
        :func:`sirtstats.comparative.weighted_km` output (``group`` 0/1, time in days).
    labels : (control, treated)
        Curve labels.
    risk_table : DataFrame, optional
        Unweighted numbers at risk, :func:`sirtstats.survival.compute_number_at_risk` with a
        ``group`` column holding ``labels`` (times in months).
    days_per_month : float
        Days per month of the time axis (30.4375).
    weights_label : str
        Named in the y-axis title ("Overall survival probability (IPTW ATE)").
    title, annotation : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sirtstats.plotting.survival import plot_km

    names = dict(enumerate(labels))
    curve = pd.DataFrame({"group": km["group"].map(names), "time": km["time"] / days_per_month,
                          "n_risk": km["n_risk"], "n_event": km["n_event"], "n_censor": 0,
                          "surv": km["surv"], "lower": np.nan, "upper": np.nan})
    from sirtstats.comparative import weighted_km_median

    # the legend's N: unweighted, from the numbers at risk at time 0; the median drop lines
    # (D57): the weighted medians, R's rule (NaN = not reached)
    med = weighted_km_median(km) / days_per_month
    summary = pd.DataFrame({"group": [names[int(k)] for k in med.index],
                            "median": med.to_numpy()})
    if risk_table is None:
        summary = None
    else:
        first = risk_table.sort_values("time").groupby("group", sort=False)["n_risk"].first()
        summary["n"] = summary["group"].map(first).astype(int)
    return plot_km(curve, risk_table=risk_table, summary=summary, show_ci=False,
                   show_censors=False,
                   ylabel=f"Overall survival probability ({weights_label})", title=title,
                   annotation=annotation)
