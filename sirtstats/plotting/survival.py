"""Survival plots: Kaplan–Meier with a number-at-risk table, cumulative incidence, forest plot.

Draws only what sirtstats.survival computed (:func:`~sirtstats.survival.compute_km_curve`,
:func:`~sirtstats.survival.compute_number_at_risk`, :func:`~sirtstats.survival.summarise_km`,
:func:`~sirtstats.survival.compute_cif_curve`, :attr:`CoxResult.hr_table`). The number-at-risk
table is written under the x axis at the times of the risk-table frame, and those same times
become the x ticks, in data coordinates of the same axes: the numbers cannot drift from the
ticks (Morris et al., BMJ Open 2019;9:e030215 recommend showing numbers at risk under KM plots).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import blended_transform_factory

__all__ = ["format_hr_annotation", "plot_cif", "plot_forest", "plot_km"]

_KM_COLUMNS = {"time", "n_risk", "n_event", "n_censor", "surv", "std_err", "std_err_log",
               "lower", "upper", "conf_type"}
_CIF_COLUMNS = {"cause", "time", "n_risk", "n_event", "n_event_any", "n_censor", "cif",
                "std_err", "lower", "upper", "conf_type"}
_RISK_COLUMNS = {"time", "n_risk", "n_events_cum"}


def _group_columns(frame: pd.DataFrame, known: set[str]) -> list[str]:
    return [c for c in frame.columns if c not in known]


def _label(key, cols) -> str:
    """Group label: the values joined; a bare number is prefixed by its column name."""
    if not cols:
        return "All patients"
    key = key if isinstance(key, tuple) else (key,)
    parts = [f"{c} {k}" if isinstance(k, int | float | np.number) and not isinstance(k, bool)
             else str(k) for c, k in zip(cols, key, strict=False)]
    return ", ".join(parts)


def _iter_groups(frame, cols):
    if not cols:
        yield (), frame
        return
    yield from frame.groupby(cols, sort=False, observed=True)


def _check(frame, required, name):
    missing = sorted(set(required) - set(frame.columns))
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; pass the frame returned by the "
                         "matching sirtstats.survival function.")


def _steps(t, y, start_y):
    """Step coordinates starting at (0, start_y), right-continuous."""
    x = np.concatenate([[0.0], np.asarray(t, dtype=float)])
    yy = np.concatenate([[start_y], np.asarray(y, dtype=float)])
    return x, yy


def plot_km(
    curve: pd.DataFrame,
    *,
    risk_table: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
    ax=None,
    show_ci: bool = True,
    show_censors: bool = True,
    show_median: bool = False,
    annotation: str | None = None,
    colors: Mapping | None = None,
    xlabel: str = "Months since first SIRT",
    ylabel: str = "Survival probability",
    title: str | None = None,
):
    """Kaplan–Meier curves with censor marks, N in the legend and a number-at-risk table.

    Parameters
    ----------
    curve : DataFrame
        :func:`sirtstats.survival.compute_km_curve` output; extra columns are the groups.
    risk_table : DataFrame, optional
        :func:`sirtstats.survival.compute_number_at_risk` output for the same groups. Its
        times become the x ticks, and the counts are printed under them.
    summary : DataFrame, optional
        :func:`sirtstats.survival.summarise_km` output: gives N per group for the legend and
        the medians for ``show_median``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (a new 7 × 5 in figure when None).
    show_ci : bool, default True
        Shade the pointwise confidence band of the curve frame.
    show_censors : bool, default True
        Mark censoring times with "|".
    show_median : bool, default False
        Dashed lines at S = 0.5 to each reached median (needs ``summary``).
    annotation : str, optional
        Text in the upper right corner, e.g. from :func:`format_hr_annotation`.
    colors : mapping, optional
        Group label -> colour.
    xlabel, ylabel, title : str
        Axis labels and title.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; the risk-table numbers are annotations with ``gid="risk_table"`` whose
        anchor ``xy`` is (tick time in data units, axes bottom).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sirtstats.survival import compute_km_curve, compute_number_at_risk
    >>> from sirtstats.plotting.survival import plot_km
    >>> df = pd.DataFrame({"time_months": [1, 2, 3, 4, 5], "event": [1, 0, 1, 1, 0]})
    >>> ax = plot_km(compute_km_curve(df), risk_table=compute_number_at_risk(df, [0, 2, 4]))
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "risk_table"][-3:]
    ['5', '4', '2']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    _check(curve, {"time", "surv", "n_risk", "n_censor"}, "curve")
    gcols = _group_columns(curve, _KM_COLUMNS)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 5))
    colors = dict(colors or {})
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    n_by_group = {}
    if summary is not None and not summary.empty:
        for key, sub in _iter_groups(summary, [c for c in gcols if c in summary.columns]):
            n_by_group[_label(key, gcols)] = int(sub["n"].iloc[0])
    labels = []
    for i, (key, sub) in enumerate(_iter_groups(curve, gcols)):
        label = _label(key, gcols)
        labels.append(label)
        color = colors.setdefault(label, cycle[i % len(cycle)])
        n = n_by_group.get(label, int(sub["n_risk"].iloc[0]) if len(sub) else 0)
        x, y = _steps(sub["time"], sub["surv"], 1.0)
        ax.step(x, y, where="post", color=color, label=f"{label} (N = {n})")
        if show_ci and {"lower", "upper"} <= set(sub.columns):
            _, lo = _steps(sub["time"], sub["lower"], 1.0)
            _, hi = _steps(sub["time"], sub["upper"], 1.0)
            ax.fill_between(x, lo, hi, step="post", color=color, alpha=0.15, linewidth=0)
        if show_censors:
            cens = sub[sub["n_censor"] > 0]
            ax.plot(cens["time"], cens["surv"], linestyle="none", marker="|", markersize=8,
                    color=color, gid="censor_marks")
        if show_median and summary is not None:
            srow = summary
            for c, v in zip(gcols, key if isinstance(key, tuple) else (key,), strict=False):
                srow = srow[srow[c] == v]
            med = float(srow["median"].iloc[0]) if len(srow) else np.nan
            if np.isfinite(med):
                ax.plot([0, med, med], [0.5, 0.5, 0], linestyle="--", linewidth=0.8,
                        color=color, gid="median_line")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="lower left", frameon=False, fontsize=9)
    if annotation:
        ax.text(0.98, 0.97, annotation, transform=ax.transAxes, ha="right", va="top",
                fontsize=9, gid="annotation")
    if risk_table is not None:
        _draw_risk_table(ax, risk_table, gcols, labels, colors)
    else:
        ax.set_xlim(left=0)
    return ax


#: Vertical layout of the risk table, in points below the bottom of the axes (clear of the tick
#: labels and of the x-axis label).
_RISK_TITLE_PT = 46
_RISK_ROW_PT = 14


def _draw_risk_table(ax, risk_table, gcols, labels, colors):
    _check(risk_table, {"time", "n_risk"}, "risk_table")
    rcols = [c for c in gcols if c in risk_table.columns]
    ticks = np.sort(risk_table["time"].unique().astype(float))
    ax.set_xticks(ticks)
    ax.set_xlim(ticks[0], ticks[-1] + 0.02 * (ticks[-1] - ticks[0] or 1))
    # x in data coordinates (the tick values), y a fixed offset in points under the axes
    common = {"textcoords": "offset points", "va": "center", "fontsize": 9,
              "annotation_clip": False}
    ax.annotate("Number at risk", xy=(0, 0), xycoords="axes fraction",
                xytext=(-22, -_RISK_TITLE_PT), ha="right", fontweight="bold",
                gid="risk_table_title", **common)
    r = 0
    for r, (key, sub) in enumerate(_iter_groups(risk_table, rcols)):
        label = _label(key, rcols)
        dy = -_RISK_TITLE_PT - _RISK_ROW_PT * (r + 1)
        color = colors.get(label, "black")
        ax.annotate(label, xy=(0, 0), xycoords="axes fraction", xytext=(-22, dy), ha="right",
                    color=color, gid="risk_table_label", **common)
        for t, n in zip(sub["time"], sub["n_risk"], strict=True):
            ax.annotate(f"{int(n)}", xy=(float(t), 0), xycoords=("data", "axes fraction"),
                        xytext=(0, dy), ha="center", color=color, gid="risk_table", **common)
    fig_h_pt = ax.figure.get_figheight() * 72
    needed = (_RISK_TITLE_PT + _RISK_ROW_PT * (r + 2) + 10) / fig_h_pt
    ax.figure.subplots_adjust(bottom=min(0.6, max(needed, 0.11)), left=0.22)


def plot_cif(
    curve: pd.DataFrame,
    *,
    causes: Sequence | None = None,
    ax=None,
    show_ci: bool = True,
    colors: Mapping | None = None,
    xlabel: str = "Months since first SIRT",
    ylabel: str = "Cumulative incidence",
    title: str | None = None,
):
    """Cumulative incidence curves (Aalen–Johansen) per group and cause.

    Parameters
    ----------
    curve : DataFrame
        :func:`sirtstats.survival.compute_cif_curve` output.
    causes : sequence, optional
        Causes to draw (default all in ``curve``); later causes are dashed.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    show_ci : bool, default True
        Shade the pointwise band.
    colors : mapping, optional
        Group label -> colour.
    xlabel, ylabel, title : str
        Labels.

    Returns
    -------
    matplotlib.axes.Axes
        The axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sirtstats.survival import compute_cif_curve
    >>> from sirtstats.plotting.survival import plot_cif
    >>> df = pd.DataFrame({"time_months": [1, 2, 3, 4],
    ...                    "event_type": ["progression", "death", "censored", "progression"]})
    >>> ax = plot_cif(compute_cif_curve(df))
    >>> len(ax.get_lines())
    2
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    _check(curve, {"cause", "time", "cif"}, "curve")
    gcols = _group_columns(curve, _CIF_COLUMNS)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 5))
    causes = list(causes) if causes is not None else list(pd.unique(curve["cause"]))
    styles = ["-", "--", ":", "-."]
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    colors = dict(colors or {})
    for i, (key, sub) in enumerate(_iter_groups(curve, gcols)):
        glabel = _label(key, gcols)
        color = colors.setdefault(glabel, cycle[i % len(cycle)])
        for j, cause in enumerate(causes):
            c = sub[sub["cause"] == cause]
            if c.empty:
                continue
            x, y = _steps(c["time"], c["cif"], 0.0)
            lab = f"{cause}" if not gcols else f"{glabel}: {cause}"
            ax.step(x, y, where="post", color=color, linestyle=styles[j % len(styles)],
                    label=lab)
            if show_ci and {"lower", "upper"} <= set(c.columns):
                _, lo = _steps(c["time"], c["lower"].fillna(0.0), 0.0)
                _, hi = _steps(c["time"], c["upper"].fillna(0.0), 0.0)
                ax.fill_between(x, lo, hi, step="post", color=color, alpha=0.12, linewidth=0)
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return ax


def _forest_label(row) -> str:
    if row.get("level", "") in ("", None) or pd.isna(row.get("level", "")):
        return f"{row['variable']} (per unit)"
    return f"{row['variable']}: {row['level']} vs {row['reference']}"


def plot_forest(
    hr_table: pd.DataFrame,
    *,
    ax=None,
    label_col: str | None = None,
    show_values: bool = True,
    xlabel: str = "Hazard ratio (95% CI, log scale)",
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
    ['albi_grade: 2 vs 1', 'age (per unit)']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    _check(hr_table, {"hr", "hr_lower", "hr_upper"}, "hr_table")
    n = len(hr_table)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 1.2 + 0.4 * n))
    labels = (hr_table[label_col].astype(str).tolist() if label_col
              else [_forest_label(r) for _, r in hr_table.iterrows()])
    y = np.arange(n)[::-1]
    hr = hr_table["hr"].to_numpy(dtype=float)
    lo = hr_table["hr_lower"].to_numpy(dtype=float)
    hi = hr_table["hr_upper"].to_numpy(dtype=float)
    # a degenerate interval (monotone likelihood) is labelled, not drawn
    ok = np.isfinite(hr) & np.isfinite(lo) & np.isfinite(hi) & (lo > 0) & (hi / lo < 1e6)
    ax.errorbar(hr[ok], y[ok], xerr=[hr[ok] - lo[ok], hi[ok] - hr[ok]], fmt="s",
                color="black", ecolor="black", capsize=3, markersize=5)
    ax.axvline(1.0, color="0.5", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    if show_values:
        trans = blended_transform_factory(ax.transAxes, ax.transData)
        for yi, h, a, b, good in zip(y, hr, lo, hi, ok, strict=True):
            text = f"{h:.2f} ({a:.2f}–{b:.2f})" if good else "not estimable"
            ax.text(1.02, yi, text, transform=trans, va="center", fontsize=9, clip_on=False,
                    gid="forest_value")
    return ax


def format_hr_annotation(hr_table: pd.DataFrame | None = None, *, term: str | None = None,
                         logrank=None, digits: int = 2) -> str:
    """Text "HR 1.80 (1.20–2.70); log-rank p = 0.004" from already computed results.

    Parameters
    ----------
    hr_table : DataFrame, optional
        :attr:`CoxResult.hr_table`; the row ``term`` (default: the first) is shown.
    term : str, optional
        ``term`` value of the row to show.
    logrank : LogrankResult or DataFrame, optional
        :func:`sirtstats.survival.test_logrank` result; its overall p-value is shown.
    digits : int, default 2
        Decimals of the HR.

    Returns
    -------
    str
        The annotation ("" if nothing is given).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.plotting.survival import format_hr_annotation
    >>> tab = pd.DataFrame({"term": ["x"], "hr": [1.8], "hr_lower": [1.2], "hr_upper": [2.7]})
    >>> format_hr_annotation(tab)
    'HR 1.80 (1.20–2.70)'
    """
    parts = []
    if hr_table is not None and len(hr_table):
        row = hr_table.iloc[0] if term is None else hr_table.loc[hr_table["term"] == term].iloc[0]
        parts.append(f"HR {row['hr']:.{digits}f} ({row['hr_lower']:.{digits}f}–"
                     f"{row['hr_upper']:.{digits}f})")
    if logrank is not None:
        table = getattr(logrank, "table", logrank)
        p = float(table["p"].iloc[0])
        if not np.isnan(p):
            parts.append("log-rank p < 0.001" if p < 0.001 else f"log-rank p = {p:.3f}")
    return "; ".join(parts)
