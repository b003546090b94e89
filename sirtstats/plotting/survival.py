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
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator

from sirtstats.labels import column_label, value_label
from sirtstats.plotting import theme
from sirtstats.plotting._frames import _check
from sirtstats.plotting.cox_forest import plot_forest  # re-exported: its home before the split

__all__ = ["CAUSE_LABELS", "KM_YLABELS", "MAX_RISK_COLUMNS", "MIN_AT_RISK", "TICK_MONTHS",
           "curtail_curve", "curtail_note", "format_gray_annotation", "format_hr_annotation",
           "plot_cif", "plot_forest", "plot_km", "thin_risk_times"]

_KM_COLUMNS = {"time", "n_risk", "n_event", "n_censor", "surv", "std_err", "std_err_log",
               "lower", "upper", "conf_type"}
_CIF_COLUMNS = {"cause", "time", "n_risk", "n_event", "n_event_any", "n_censor", "cif",
                "std_err", "lower", "upper", "conf_type"}
_RISK_COLUMNS = {"time", "n_risk", "n_events_cum"}


def _group_columns(frame: pd.DataFrame, known: set[str]) -> list[str]:
    return [c for c in frame.columns if c not in known]


def _label(key, cols) -> str:
    """Readable group label: coded values spelled out, a bare number prefixed by its column.

    ``("uveal_melanoma",)`` -> "Uveal melanoma"; ``albi_grade`` 2 -> "ALBI grade 2".
    """
    if not cols:
        return "All patients"
    key = key if isinstance(key, tuple) else (key,)
    parts = [f"{column_label(c)} {k:g}" if isinstance(k, int | float | np.number)
             and not isinstance(k, bool) else value_label(k)
             for c, k in zip(cols, key, strict=False)]
    return ", ".join(parts)


def _iter_groups(frame, cols):
    if not cols:
        yield (), frame
        return
    yield from frame.groupby(cols, sort=False, observed=True)


def _steps(t, y, start_y):
    """Step coordinates starting at (0, start_y), right-continuous."""
    x = np.concatenate([[0.0], np.asarray(t, dtype=float)])
    yy = np.concatenate([[start_y], np.asarray(y, dtype=float)])
    return x, yy


#: y-axis title of a KM plot per endpoint code (the probability the curve estimates).
KM_YLABELS: dict[str, str] = {
    "OS": "Overall survival probability",
    "PFS": "Progression-free survival probability",
    "hepatic_PFS": "Hepatic progression-free survival probability",
    "treated_PFS": "Treated-territory progression-free survival probability",
    "TTP": "Probability of remaining free of progression",
    "TTLP": "Probability of remaining free of local progression",
    "DoR": "Probability of remaining in response",
}

#: Spacing of the time ticks when no risk-table times are given (months; survminer's
#: ``break.time.by`` habit for SIRT cohorts followed for a few years).
TICK_MONTHS = 6.0

#: Default ``min_at_risk`` of :func:`plot_km` / :func:`plot_cif`: a curve stops where fewer than
#: 5 remain at risk (Pocock, Clayton & Altman, Lancet 2002;359:1686-9: the tail of a curve
#: drawn from a handful of patients is unreliable and draws the eye; decision D61).
MIN_AT_RISK = 5


def _at_risk_floor(n0: int, min_at_risk) -> int | None:
    """Smallest number at risk still drawn: ``min_at_risk`` (a count, or a fraction of ``n0``
    when below 1), never above ``n0`` (a group smaller than the floor keeps its first step)."""
    if min_at_risk is None:
        return None
    floor = int(np.ceil(min_at_risk * n0)) if 0 < min_at_risk < 1 else int(min_at_risk)
    return max(1, min(floor, int(n0)))


def curtail_curve(sub: pd.DataFrame, min_at_risk=MIN_AT_RISK) -> pd.DataFrame:
    """One group's curve rows while at least ``min_at_risk`` remain at risk.

    Parameters
    ----------
    sub : DataFrame
        One group's rows of a KM or CIF curve (``time``, ``n_risk``: at risk just before
        ``time``, non-increasing).
    min_at_risk : int, float or None, default :data:`MIN_AT_RISK`
        A count (>= 1), or a fraction (0-1) of the group's first ``n_risk``; None keeps all.

    Returns
    -------
    DataFrame
        The rows with ``n_risk`` >= the floor (Pocock et al., Lancet 2002;359:1686-9).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"time": [1.0, 2.0, 3.0], "n_risk": [8, 5, 4]})
    >>> curtail_curve(c, 5)["time"].tolist(), curtail_curve(c, 0.6)["time"].tolist()
    ([1.0, 2.0], [1.0, 2.0])
    """
    if sub.empty or "n_risk" not in sub.columns:
        return sub
    floor = _at_risk_floor(int(sub["n_risk"].max()), min_at_risk)
    return sub if floor is None else sub[sub["n_risk"] >= floor]


def curtail_note(min_at_risk, noun: str = "patients") -> str:
    """Footnote stating the curtailment rule ("" when ``min_at_risk`` is None).

    Examples
    --------
    >>> curtail_note(5)
    'Curves stop where fewer than 5 patients remain at risk (Pocock et al., Lancet 2002).'
    >>> curtail_note(0.1)
    'Curves stop where fewer than 10 % of the patients remain at risk (Pocock et al., Lancet 2002).'
    """
    if min_at_risk is None:
        return ""
    what = (f"{min_at_risk * 100:g} % of the {noun}" if 0 < min_at_risk < 1
            else f"{int(min_at_risk)} {noun}")
    return f"Curves stop where fewer than {what} remain at risk (Pocock et al., Lancet 2002)."


def _curtail_groups(frame, gcols, min_at_risk):
    """``frame`` with every group curtailed, and the last time still drawn (None if empty)."""
    if min_at_risk is None or frame.empty:
        return frame, None
    if not gcols:
        kept = curtail_curve(frame, min_at_risk)
    else:
        kept = pd.concat([curtail_curve(sub, min_at_risk)
                          for _, sub in _iter_groups(frame, gcols)])
    return kept, (float(kept["time"].max()) if len(kept) else None)


#: Layout of a KM figure created by :func:`plot_km`, in inches: the data area keeps its size
#: whatever the number of groups; the risk table adds height underneath.
_KM_AXES_IN = (5.2, 3.2)
_KM_LEFT_IN = 1.5
_KM_TOP_IN = 0.45
_KM_XLABEL_IN = 0.55


def _endpoint_ylabel(endpoint, curve):
    if endpoint is None and "endpoint" in curve.columns and curve["endpoint"].nunique() == 1:
        endpoint = curve["endpoint"].iloc[0]
    if endpoint is None:
        return "Survival probability"
    return KM_YLABELS.get(endpoint, f"{value_label(endpoint)} probability")


def _new_km_figure(n_rows: int, note: bool = False):
    """Figure whose data area is ``_KM_AXES_IN`` with room for ``n_rows`` risk-table rows
    (and a one-line footnote under them when ``note``)."""
    risk_in = ((_RISK_TITLE_PT + _RISK_ROW_PT * (n_rows + 0.5)) / 72) if n_rows else 0.0
    bottom_in = _KM_XLABEL_IN + risk_in + (_NOTE_PT / 72 if note else 0.0)
    w = _KM_LEFT_IN + _KM_AXES_IN[0] + 0.3
    h = _KM_TOP_IN + _KM_AXES_IN[1] + bottom_in
    fig = plt.figure(figsize=(w, h))
    ax = fig.add_axes((_KM_LEFT_IN / w, bottom_in / h, _KM_AXES_IN[0] / w, _KM_AXES_IN[1] / h))
    return fig, ax


@theme.themed
def plot_km(
    curve: pd.DataFrame,
    *,
    risk_table: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
    ax=None,
    endpoint: str | None = None,
    show_ci: bool | None = None,
    show_censors: bool = True,
    show_median: bool | None = None,
    annotation: str | None = None,
    colors: Mapping | None = None,
    xlabel: str = "Months since first SIRT",
    ylabel: str | None = None,
    title: str | None = None,
    min_at_risk: float | None = MIN_AT_RISK,
    count_noun: str = "patients",
    footnote: bool = True,
):
    """Kaplan–Meier curves with censor marks, N in the legend and a number-at-risk table.

    The legend is outside the data area, at the right; group labels are the readable labels of
    :mod:`sirtstats.labels`; colours follow :mod:`sirtstats.plotting.theme` (Okabe–Ito; past
    eight groups the colours repeat dashed).

    Parameters
    ----------
    curve : DataFrame
        :func:`sirtstats.survival.compute_km_curve` output; extra columns are the groups.
    risk_table : DataFrame, optional
        :func:`sirtstats.survival.compute_number_at_risk` output for the same groups. Its
        times become the x ticks (give them every 6 months), and the counts are printed
        under them. Without it the ticks are every :data:`TICK_MONTHS` months.
    summary : DataFrame, optional
        :func:`sirtstats.survival.summarise_km` output: gives N per group for the legend and
        the medians for ``show_median``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. When None a figure is created whose data area stays 5.2 × 3.2 in
        whatever the number of groups (the risk table adds height below it).
    endpoint : str, optional
        Endpoint code (``"OS"``, ``"PFS"``, ...): names the y axis (:data:`KM_YLABELS`).
        Taken from an ``endpoint`` column of ``curve`` with a single value when None.
    show_ci : bool, optional
        Shade the pointwise confidence band; default: only for one or two groups (the bands
        of more groups hide each other).
    show_censors : bool, default True
        Mark censoring times with "|".
    show_median : bool, optional
        Dashed lines at S = 0.5 to each reached median (needs ``summary``); default: drawn
        when ``summary`` is given and there are at most four groups (a reader reads the
        median off the curve; eight sets of drop lines would hide the curves).
    annotation : str, optional
        Text under the legend, e.g. from :func:`format_hr_annotation`.
    colors : mapping, optional
        Group label -> colour.
    xlabel : str, default "Months since first SIRT"
        Title of the x axis (time is in months).
    ylabel : str, optional
        Title of the y axis; default from ``endpoint`` ("Overall survival probability").
    title : str, optional
        Axes title.
    min_at_risk : int, float or None, default :data:`MIN_AT_RISK`
        Each curve stops where fewer than this many remain at risk (a fraction of the group
        when below 1; Pocock et al., Lancet 2002;359:1686-9, decision D61); the x axis ends
        at the last time drawn and risk-table columns past it are dropped. None draws the
        full curves. Only the drawing changes: medians and tables are computed elsewhere.
    count_noun : str, default "patients"
        What is at risk: "lesions" for local control makes the legend "(N = 469 lesions)",
        the risk-table title "Number of lesions at risk" and the footnote say so.
    footnote : bool, default True
        Write the curtailment rule (:func:`curtail_note`) under the axes.

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
    >>> ax = plot_km(compute_km_curve(df), risk_table=compute_number_at_risk(df, [0, 2, 4]),
    ...              endpoint="OS", min_at_risk=None)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "risk_table"][-3:]
    ['5', '4', '2']
    >>> ax.get_ylabel()
    'Overall survival probability'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    _check(curve, {"time", "surv", "n_risk", "n_censor"}, "curve")
    gcols = _group_columns(curve, _KM_COLUMNS)
    n_groups = max(1, len(curve.groupby(gcols, observed=True)) if gcols else 1)
    curve, t_end = _curtail_groups(curve, gcols, min_at_risk)
    note = curtail_note(min_at_risk, count_noun) if footnote else ""
    n_rows = 0 if risk_table is None else n_groups
    if ax is None:
        _fig, ax = _new_km_figure(n_rows, note=bool(note))
    if show_ci is None:
        show_ci = n_groups <= 2
    if show_median is None:
        show_median = summary is not None and n_groups <= 4
    colors = dict(colors or {})
    n_by_group = _n_by_group(summary, gcols)
    labels = []
    unit = "" if count_noun == "patients" else f" {count_noun}"
    for i, (key, sub) in enumerate(_iter_groups(curve, gcols)):
        label = _label(key, gcols) if gcols or not unit else f"All {count_noun}"
        labels.append(label)
        color = colors.setdefault(label, theme.colour(i))
        n = n_by_group.get(label, int(sub["n_risk"].iloc[0]) if len(sub) else 0)
        _draw_km_curve(ax, sub, f"{label} (N = {n}{unit})", color, theme.linestyle(i),
                       show_ci=show_ci, show_censors=show_censors)
        if show_median and summary is not None:
            _draw_median_line(ax, summary, gcols, key, color, t_end)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_locator(MultipleLocator(0.2))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or _endpoint_ylabel(endpoint, curve))
    if title:
        ax.set_title(title)
    _km_legend(ax, show_censors, annotation)
    if risk_table is not None:
        _draw_risk_table(ax, risk_table, gcols, labels, colors, t_end=t_end,
                         title="Number at risk" if not unit else f"Number of{unit} at risk")
    else:
        _plain_time_axis(ax, t_end)
    _draw_curtail_note(ax, note, n_rows)
    return ax


def _plain_time_axis(ax, t_end) -> None:
    """Ticks every :data:`TICK_MONTHS` months from 0, ending at ``t_end`` when given."""
    ax.set_xlim(left=0)
    if t_end is not None:
        ax.set_xlim(0, t_end * 1.02 or 1)
    ax.xaxis.set_major_locator(MultipleLocator(TICK_MONTHS))


#: Height of the curtailment footnote line under the risk table (points).
_NOTE_PT = 14


def _draw_curtail_note(ax, note: str, n_rows: int) -> None:
    """The curtailment rule, left-aligned under the risk table (or under the x-axis title)."""
    if not note:
        return
    below = (_RISK_TITLE_PT + _RISK_ROW_PT * (n_rows + 0.8)) if n_rows else _KM_XLABEL_IN * 72
    ax.annotate(note, xy=(0, 0), xycoords="axes fraction", xytext=(0, -below),
                textcoords="offset points", ha="left", va="top", gid="curtail_note",
                fontsize=plt.rcParams["xtick.labelsize"], annotation_clip=False)


def _n_by_group(summary, gcols) -> dict:
    """``{group label: N}`` from the summary's ``n`` column (empty without a summary)."""
    if summary is None or summary.empty:
        return {}
    return {_label(key, gcols): int(sub["n"].iloc[0])
            for key, sub in _iter_groups(summary, [c for c in gcols if c in summary.columns])}


def _draw_km_curve(ax, sub, label, color, linestyle, *, show_ci, show_censors) -> None:
    """One group's survival step curve, its CI band (``show_ci``) and censor marks."""
    x, y = _steps(sub["time"], sub["surv"], 1.0)
    ax.step(x, y, where="post", color=color, linestyle=linestyle, linewidth=1.4, label=label)
    if show_ci and {"lower", "upper"} <= set(sub.columns):
        _, lo = _steps(sub["time"], sub["lower"], 1.0)
        _, hi = _steps(sub["time"], sub["upper"], 1.0)
        ax.fill_between(x, lo, hi, step="post", color=color, alpha=0.15, linewidth=0)
    if show_censors:
        cens = sub[sub["n_censor"] > 0]
        ax.plot(cens["time"], cens["surv"], linestyle="none", marker="|", markersize=6,
                markeredgewidth=1.0, color=color, gid="censor_marks")


def _draw_median_line(ax, summary, gcols, key, color, t_end=None) -> None:
    """Dashed drop line at the group's median survival (none when not reached, nor past
    ``t_end``, the end of the curtailed curve)."""
    srow = summary
    for c, v in zip(gcols, key if isinstance(key, tuple) else (key,), strict=False):
        srow = srow[srow[c] == v]
    med = float(srow["median"].iloc[0]) if len(srow) else np.nan
    if np.isfinite(med) and (t_end is None or med <= t_end):
        ax.plot([0, med, med], [0.5, 0.5, 0], linestyle="--", linewidth=0.8,
                color=color, gid="median_line")


def _km_legend(ax, show_censors, annotation) -> None:
    """Legend outside at the right (with a "Censored" entry), the annotation under it."""
    censor_handle = Line2D([], [], linestyle="none", marker="|", markersize=6, color="0.3")
    handles, names = ax.get_legend_handles_labels()
    if show_censors:
        handles, names = [*handles, censor_handle], [*names, "Censored"]
    legend = theme.legend_outside(ax, handles=handles, labels=names)
    if annotation:
        # under the legend, outside the data area (no curve runs through it)
        ax.annotate(annotation, xy=(0, 0), xycoords=legend, xytext=(0, -8),
                    textcoords="offset points", ha="left", va="top", gid="annotation",
                    annotation_clip=False)

#: Vertical layout of the risk table, in points below the bottom of the axes (clear of the tick
#: labels and of the x-axis label).
_RISK_TITLE_PT = 40
_RISK_ROW_PT = 12
#: Gap between the risk-table row labels and the axes' left edge (clear of the counts at 0).
_RISK_LABEL_GAP_PT = 20


#: Most risk-table columns under one panel: past it the columns are thinned to a 12- (or 24-)
#: month step (17 columns in a 5 in panel left 0.3 in per count; decision D62).
MAX_RISK_COLUMNS = 9
_RISK_STEPS_MONTHS = (6.0, 12.0, 24.0, 36.0, 48.0, 60.0)


def thin_risk_times(times, max_columns: int = MAX_RISK_COLUMNS) -> np.ndarray:
    """Risk-table times kept under a panel: all when at most ``max_columns``, else those on
    the smallest step of 6, 12, 24 ... months that gives at most ``max_columns`` columns.

    Parameters
    ----------
    times : sequence of float
        Times of the risk table (months).
    max_columns : int, default :data:`MAX_RISK_COLUMNS`
        Most columns kept.

    Returns
    -------
    ndarray
        Sorted kept times (the first one always kept).

    Examples
    --------
    >>> thin_risk_times(range(0, 97, 6)).tolist()
    [0.0, 12.0, 24.0, 36.0, 48.0, 60.0, 72.0, 84.0, 96.0]
    >>> thin_risk_times([0, 6, 12]).tolist()
    [0.0, 6.0, 12.0]
    """
    t = np.sort(np.unique(np.asarray(times, dtype=float)))
    if len(t) <= max_columns:
        return t
    for step in _RISK_STEPS_MONTHS:
        kept = t[np.isclose(np.mod(t - t[0] + 1e-9, step), 0.0, atol=1e-6)]
        if 1 < len(kept) <= max_columns:
            return kept
    return t[:: int(np.ceil(len(t) / max_columns))]


def _draw_risk_table(ax, risk_table, gcols, labels, colors, *, title="Number at risk",
                     row_labels=True, t_end=None):
    _check(risk_table, {"time", "n_risk"}, "risk_table")
    rcols = [c for c in gcols if c in risk_table.columns]
    ticks = np.sort(risk_table["time"].unique().astype(float))
    right = ticks[-1]
    shown = thin_risk_times(ticks[ticks <= (t_end if t_end is not None else right)])
    risk_table = risk_table[risk_table["time"].astype(float).isin(shown)]
    if t_end is not None:
        # the axis ends where the (curtailed) curves end; no count past it
        right = min(right, t_end)
    ticks = shown
    ax.set_xticks(ticks)
    ax.set_xlim(ticks[0], right + 0.02 * (right - ticks[0] or 1))
    # x in data coordinates (the tick values), y a fixed offset in points under the axes
    size = plt.rcParams["xtick.labelsize"]
    common = {"textcoords": "offset points", "va": "center", "fontsize": size,
              "annotation_clip": False}
    # with row labels the title heads their column; without, it heads the counts
    ax.annotate(title, xy=(0, 0), xycoords="axes fraction",
                xytext=(-_RISK_LABEL_GAP_PT if row_labels else -10, -_RISK_TITLE_PT),
                ha="right" if row_labels else "left", fontweight="bold",
                gid="risk_table_title", **common)
    # rows in the legend's order: ``labels`` are the curves' groups as drawn
    order = {label: i for i, label in enumerate(labels)}
    rows = sorted(((_label(key, rcols), sub) for key, sub in _iter_groups(risk_table, rcols)),
                  key=lambda row: order.get(row[0], len(order)))
    for r, (label, sub) in enumerate(rows):
        dy = -_RISK_TITLE_PT - _RISK_ROW_PT * (r + 1)
        color = theme.on_white(colors.get(label, "black"))
        if row_labels:
            ax.annotate(label, xy=(0, 0), xycoords="axes fraction",
                        xytext=(-_RISK_LABEL_GAP_PT, dy), ha="right", color=color,
                        gid="risk_table_label", **common)
        for t, n in zip(sub["time"], sub["n_risk"], strict=True):
            ax.annotate(f"{int(n)}", xy=(float(t), 0), xycoords=("data", "axes fraction"),
                        xytext=(0, dy), ha="center", color=color, gid="risk_table", **common)


#: Readable names and colours of the competing causes (one colour per cause in every panel).
CAUSE_LABELS: dict[str, str] = {"progression": "Progression",
                                "death": "Death without progression"}
_CAUSE_COLOURS = (theme.PALETTE[5], theme.PALETTE[0], theme.PALETTE[1], theme.PALETTE[3])

#: Size of one CIF panel (inches) and panels per row: two 3 in panels and the legend above
#: them make a 7.7 in figure, printed at 94 % two columns wide (three 2.35 in panels and a
#: legend at the right made 11.8 in: 6.2 pt text in print; decision D62).
_CIF_PANEL_IN = (3.0, 2.1)
_CIF_MAX_COLS = 2
#: Top margin of a CIF figure (title, annotation and the legend row), inches.
_CIF_TOP_IN = 1.0
#: Strip under the last row of panels for the curtailment footnote (inches): the note's line
#: (``_NOTE_PT``) and a gap above it.
_CIF_NOTE_IN = 0.3


def _cif_axes(n_panels: int, n_risk_rows: int):
    ncols = min(n_panels, _CIF_MAX_COLS)
    nrows = -(-n_panels // ncols)
    risk_in = (_RISK_TITLE_PT + _RISK_ROW_PT * (n_risk_rows + 0.5)) / 72 if n_risk_rows else 0
    # Under each panel: its tick labels and x label, or the risk table, whose first 40 pt
    # ("At risk" title) already hold the x label.
    below_in = max(_KM_XLABEL_IN, risk_in)
    cell_h = _CIF_PANEL_IN[1] + below_in + 0.35
    left, gap_w, top = 0.75, 0.75 if n_risk_rows else 0.35, _CIF_TOP_IN
    w = left + ncols * _CIF_PANEL_IN[0] + (ncols - 1) * gap_w + 0.2
    h = top + nrows * cell_h + _CIF_NOTE_IN
    fig = plt.figure(figsize=(w, h))
    axes = []
    for k in range(n_panels):
        r, c = divmod(k, ncols)
        x0 = left + c * (_CIF_PANEL_IN[0] + gap_w)
        y0 = h - top - (r + 1) * cell_h + below_in
        axes.append(fig.add_axes((x0 / w, y0 / h, _CIF_PANEL_IN[0] / w,
                                  _CIF_PANEL_IN[1] / h)))
    return fig, axes


@theme.themed
def plot_cif(
    curve: pd.DataFrame,
    *,
    risk_table: pd.DataFrame | None = None,
    causes: Sequence | None = None,
    ax=None,
    show_ci: bool = True,
    annotation: str | None = None,
    xlabel: str = "Months since first SIRT",
    ylabel: str = "Cumulative incidence",
    title: str | None = None,
    min_at_risk: float | None = MIN_AT_RISK,
):
    """Cumulative incidence curves (Aalen–Johansen), one panel per group, a colour per cause.

    The panels are the groups that Gray's test compares (the group columns of ``curve``);
    each panel shows every cause in its own colour (:data:`CAUSE_LABELS`), with the number
    at risk (free of any event) under its time ticks.

    Parameters
    ----------
    curve : DataFrame
        :func:`sirtstats.survival.compute_cif_curve` output; extra columns are the groups.
    risk_table : DataFrame, optional
        :func:`sirtstats.survival.compute_number_at_risk` of the same rows and groups
        (events of any cause): its times become the x ticks, its counts a row under each
        panel. Without it the ticks are every :data:`TICK_MONTHS` months.
    causes : sequence, optional
        Causes to draw (default all in ``curve``).
    ax : matplotlib.axes.Axes or sequence of Axes, optional
        One axes per group (a single axes without groups); a figure is created when None.
    show_ci : bool, default True
        Shade the pointwise band.
    annotation : str, optional
        Text under the title, e.g. Gray's test p-value.
    xlabel, ylabel, title : str
        Labels (``title`` is the figure title when the figure is created here).
    min_at_risk : int, float or None, default :data:`MIN_AT_RISK`
        As in :func:`plot_km`: each panel's curves stop where fewer than this many remain at
        risk (free of any event), every panel's x axis ends at the last time drawn in any
        panel, and the rule is written under the figure (decision D61). None: full curves.

    Returns
    -------
    matplotlib.axes.Axes or ndarray of Axes
        The axes without groups; one axes per group otherwise (in group order).

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
    >>> len(ax.get_lines()), ax.figure.legends[0].get_texts()[0].get_text()
    (2, 'Progression')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    _check(curve, {"cause", "time", "cif"}, "curve")
    gcols = _group_columns(curve, _CIF_COLUMNS)
    curve, t_end = _curtail_groups(curve, gcols, min_at_risk)
    groups = list(_iter_groups(curve, gcols))
    causes = _cif_causes(curve, causes)
    rcols = [c for c in gcols if risk_table is not None and c in risk_table.columns]
    risk_by_label = ({_label(k, rcols): sub for k, sub in _iter_groups(risk_table, rcols)}
                     if risk_table is not None else {})
    if risk_table is not None:
        _check(risk_table, {"time", "n_risk"}, "risk_table")
    created = ax is None
    fig, axes = _cif_panels(ax, len(groups), risk_table is not None)
    cause_colour = {c: _CAUSE_COLOURS[j % len(_CAUSE_COLOURS)] for j, c in enumerate(causes)}
    for a, (key, sub) in zip(axes, groups, strict=True):
        glabel = _label(key, gcols)
        _draw_cif_curves(a, sub, causes, cause_colour, show_ci)
        a.set_ylim(0, 1)
        a.yaxis.set_major_locator(MultipleLocator(0.2))
        a.set_xlabel(xlabel)
        if not created or a is axes[0] or (axes.index(a) % _CIF_MAX_COLS == 0):
            a.set_ylabel(ylabel)
        if gcols:
            n0 = int(sub["n_risk"].iloc[0]) if "n_risk" in sub and len(sub) else None
            a.set_title(f"{glabel} (N = {n0})" if n0 is not None else glabel, fontsize=
                        plt.rcParams["axes.labelsize"])
        risk = risk_by_label.get(glabel if rcols else "All patients")
        if risk is not None:
            _draw_risk_table(a, risk.drop(columns=rcols), [], [], {}, title="At risk",
                             row_labels=False, t_end=t_end)
        else:
            _plain_time_axis(a, t_end)
    _cif_legend(fig, axes, created)
    _cif_figure_titles(fig, axes, created, title, annotation)
    if created and min_at_risk is not None:
        fig.text(0.75 / fig.get_figwidth(), 0.06 / fig.get_figheight(),
                 curtail_note(min_at_risk), ha="left", va="bottom", gid="curtail_note",
                 fontsize=plt.rcParams["xtick.labelsize"])
    return axes[0] if not gcols else np.asarray(axes, dtype=object)


def _cif_legend(fig, axes, created) -> None:
    """Causes in one row above the panels (new figure), else at the right of the last axes."""
    if not created:
        theme.legend_outside(axes[-1])
        return
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper left", ncols=len(names), frameon=False,
               bbox_to_anchor=(0.75 / fig.get_figwidth(), 1 - 0.62 / fig.get_figheight()),
               borderaxespad=0, handlelength=1.6)


def _cif_causes(curve, causes) -> list:
    """``causes``, or the curve's causes with the known ones (:data:`CAUSE_LABELS`) first."""
    if causes is None:
        found = list(pd.unique(curve["cause"]))
        causes = [c for c in CAUSE_LABELS if c in found] + [c for c in found
                                                            if c not in CAUSE_LABELS]
    return list(causes)


def _cif_panels(ax, n_groups: int, with_risk: bool):
    """``(figure, list of axes)``: new panels when ``ax`` is None, else one given per group."""
    if ax is None:
        return _cif_axes(n_groups, 1 if with_risk else 0)
    axes = list(np.atleast_1d(ax))
    if len(axes) != n_groups:
        raise ValueError(f"{n_groups} group(s) to draw but {len(axes)} axes given.")
    return axes[0].figure, axes


def _draw_cif_curves(a, sub, causes, cause_colour, show_ci) -> None:
    """One panel's cumulative incidence step curve per cause, with CI bands (``show_ci``)."""
    for cause in causes:
        c = sub[sub["cause"] == cause]
        if c.empty:
            continue
        color = cause_colour[cause]
        x, y = _steps(c["time"], c["cif"], 0.0)
        a.step(x, y, where="post", color=color, linewidth=1.4,
               label=CAUSE_LABELS.get(cause, value_label(cause)))
        if show_ci and {"lower", "upper"} <= set(c.columns):
            _, lo = _steps(c["time"], c["lower"].fillna(0.0), 0.0)
            _, hi = _steps(c["time"], c["upper"].fillna(0.0), 0.0)
            a.fill_between(x, lo, hi, step="post", color=color, alpha=0.15, linewidth=0)


def _cif_figure_titles(fig, axes, created, title, annotation) -> None:
    """Figure title at the top left (new figure) or first panel's title; the annotation."""
    if created and title:
        fig.suptitle(title, x=0.75 / fig.get_figwidth(), y=1 - 0.12 / fig.get_figheight(),
                     ha="left", va="top", fontweight="bold", fontsize=plt.rcParams[
                         "axes.titlesize"])
    elif title:
        axes[0].set_title(title)
    if annotation:
        fig.text(0.75 / fig.get_figwidth(), 1 - 0.42 / fig.get_figheight(), annotation,
                 ha="left", va="top", gid="annotation")


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


def format_gray_annotation(gray: pd.DataFrame | None, *, causes: Sequence | None = None) -> str:
    """Text "Gray's test: progression p = 0.012; death without progression p = 0.31".

    Parameters
    ----------
    gray : DataFrame or None
        :func:`sirtstats.survival.test_gray` output (one row per cause: ``cause``, ``p``).
    causes : sequence, optional
        Causes to show (default all rows, progression first).

    Returns
    -------
    str
        The annotation ("" when nothing is estimable).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.plotting.survival import format_gray_annotation
    >>> format_gray_annotation(pd.DataFrame({"cause": ["death", "progression"],
    ...                                      "p": [0.31, 0.0004]}))
    "Gray's test: progression p < 0.001; death without progression p = 0.310"
    """
    if gray is None or len(gray) == 0 or "p" not in gray.columns:
        return ""
    rows = gray.set_index("cause")["p"]
    order = list(causes) if causes is not None else (
        [c for c in CAUSE_LABELS if c in rows.index]
        + [c for c in rows.index if c not in CAUSE_LABELS])
    parts = []
    for cause in order:
        p = float(rows.get(cause, np.nan))
        if np.isnan(p):
            continue
        name = CAUSE_LABELS.get(cause, value_label(cause)).lower()
        parts.append(f"{name} p < 0.001" if p < 0.001 else f"{name} p = {p:.3f}")
    return "Gray's test: " + "; ".join(parts) if parts else ""

