"""Response figures: waterfall, spider and swimmer plots.

Draw only what :mod:`sirtstats.response` computed: :func:`~sirtstats.response.
derive_best_percent_change` (waterfall), :func:`~sirtstats.response.derive_timepoint_response`
(spider) and :func:`~sirtstats.response.derive_swimmer_data` (swimmer). The reference lines are
the RECIST 1.1 / mRECIST thresholds (+20 % PD over the nadir, −30 % PR from baseline;
Eisenhauer et al., Eur J Cancer 2009; Lencioni & Llovet, Semin Liver Dis 2010).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MultipleLocator

from sirtstats._checks import _braced
from sirtstats._checks import check_frame_argument as _require
from sirtstats.disclosure import get_disclosure
from sirtstats.labels import value_label
from sirtstats.plotting import theme
from sirtstats.plotting._frames import MAX_PATIENT_LINES, sample_patients
from sirtstats.response._common import PD_REL_DEN, PD_REL_NUM, PR_REL_DEN, PR_REL_NUM

__all__ = ["RESPONSE_COLORS", "SPIDER_MAX_PATIENTS", "plot_spider", "plot_swimmer",
           "plot_waterfall"]

#: Colour of each response code (:data:`sirtstats.plotting.theme.RESPONSE_COLOURS`: CR/PR
#: blues, SD grey, PD vermillion; no red/green pair).
RESPONSE_COLORS: dict[str, str] = dict(theme.RESPONSE_COLOURS)
_LABELS = {"NON_CR_NON_PD": "Non-CR/non-PD", "MISSING": "No assessment", "death": "Death",
           "SIRT": "SIRT session"}

#: Patients above which the spider plot draws a random sample of lines (seeded, stated in
#: the figure) and rasterises them, so that a 20,000-patient cohort stays a few MB as SVG/PDF.
SPIDER_MAX_PATIENTS = MAX_PATIENT_LINES
#: Lines above which the spider lines are rasterised in vector output.
_RASTER_ABOVE = 200
_MARKERS = {"CR": "D", "PR": "o", "SD": "s", "NON_CR_NON_PD": "s", "PD": "X", "NE": ".",
            "SIRT": "v", "death": "*"}
_PD_PCT = 100.0 * PD_REL_NUM / PD_REL_DEN
_PR_PCT = -100.0 * PR_REL_NUM / PR_REL_DEN


def _ax(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


#: Size of one criterion panel when several are drawn side by side (inches): two panels, their
#: legend and reference-line labels then print at two-column width (183 mm) with no text under
#: :data:`sirtstats.plotting.theme.MIN_PRINT_PT`.
_FACET_PANEL_IN = (3.3, 3.4)


def _facets(df, ax, figsize):
    """Criteria to draw in separate panels (None when there is at most one) and their axes."""
    if "criterion" not in df.columns or df["criterion"].nunique() <= 1:
        return None, None
    crits = [c for c in ("RECIST_1_1", "mRECIST") if c in set(df["criterion"])] + sorted(
        set(df["criterion"].dropna()) - {"RECIST_1_1", "mRECIST"})
    if ax is None:
        _, axes = plt.subplots(1, len(crits), squeeze=False, sharey=True, figsize=(
            _FACET_PANEL_IN[0] * len(crits), _FACET_PANEL_IN[1]))
        axes[0, 0].figure.subplots_adjust(wspace=0.12)
        axes = axes[0]
    else:
        axes = np.atleast_1d(ax)
        if len(axes) != len(crits):
            raise ValueError(f"{len(crits)} criteria to draw but {len(axes)} axes given.")
    return crits, axes


_CRIT_LABEL = {"RECIST_1_1": "RECIST 1.1", "mRECIST": "mRECIST"}


def _one_legend(axes):
    """Keep the legend of the last panel only (the others would cover the next panel).

    The panels share the y axis: its title is written once, on the first panel, and the
    reference-line labels once, right of the last panel (between panels they would run into
    the next panel's data area).
    """
    for a in axes[:-1]:
        if a.get_legend() is not None:
            a.get_legend().remove()
        for t in [t for t in a.texts if t.get_gid() == "reference_line_label"]:
            t.remove()
    for a in axes[1:]:
        a.set_ylabel("")


#: Gap between the axes and a legend at their right, clear of the reference-line labels.
_LEGEND_PAD_PT = 72


def _label(code) -> str:
    return _LABELS.get(code, value_label(code))


def _signed_pct(value: float) -> str:
    """Return "+20 %" or "−30 %": explicit sign, typographic minus (U+2212), a space before %."""
    return f"{'+' if value > 0 else '−' if value < 0 else ''}{abs(value):g} %"


def _reference_lines(ax):
    _draw_reference_lines(ax, ((_PD_PCT, "PD"), (_PR_PCT, "PR")))


def _draw_reference_lines(ax, lines):
    """Dashed % thresholds labelled right of the axes, e.g. ``((20, "PD"), (-30, "PR"))``."""
    for y, name in lines:
        text = f"{_signed_pct(y)} ({name})"
        ax.axhline(y, color="0.35", lw=0.9, ls="--", zorder=1)
        ax.annotate(text, xy=(1.0, y), xycoords=("axes fraction", "data"), xytext=(2, 0),
                    textcoords="offset points", va="center", color="0.35",
                    fontsize=plt.rcParams["xtick.labelsize"], gid="reference_line_label")


@theme.themed
def plot_waterfall(
    df_best: pd.DataFrame,
    ax=None,
    *,
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
    footnote: str | None = None,
):
    """Waterfall of each patient's best % change of the target sum, coloured by BOR.

    Parameters
    ----------
    df_best : DataFrame
        Output of :func:`sirtstats.response.derive_best_percent_change` (``patient_id``,
        ``best_pct_change`` in %, ``bor``); patients without a value are not drawn (their
        number is written under the axis).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    colors : mapping, optional
        BOR code -> colour (default :data:`RESPONSE_COLORS`).
    title : str, optional
        Axes title.
    footnote : str, optional
        Text under the plot (e.g. criterion, confirmation, scope).

    Returns
    -------
    matplotlib.axes.Axes or ndarray of Axes
        One Axes; an array (one panel per criterion) when ``df_best`` holds several criteria.
    """
    _require(df_best, ["patient_id", "best_pct_change", "bor"], "df_best", "plot_waterfall")
    crits, axes = _facets(df_best, ax, (5.0, 4.0))
    if crits is not None:
        for a, c in zip(axes, crits, strict=True):
            plot_waterfall(df_best.loc[df_best["criterion"] == c], a, colors=colors,
                           title=_CRIT_LABEL.get(c, c) + (f" · {title}" if title else ""),
                           footnote=footnote)
        _one_legend(axes)
        return axes
    colors = {**RESPONSE_COLORS, **(colors or {})}
    ax = _ax(ax, (5.0, 4.0))
    d = df_best.loc[df_best["best_pct_change"].notna()].sort_values(
        "best_pct_change", ascending=False, kind="mergesort")
    n_missing = int(df_best["best_pct_change"].isna().sum())
    x = np.arange(len(d))
    bor = d["bor"].fillna("MISSING").astype(str).to_numpy()
    _waterfall_bars(ax, x, d["best_pct_change"].to_numpy(float),
                    [colors.get(b, "0.5") for b in bor])
    _reference_lines(ax)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks([])
    ax.set_xlim(-0.75, max(len(d), 1) - 0.25)
    ax.set_xlabel(f"Patients (n = {len(d)})")
    ax.set_ylabel("Best change in target sum from baseline (%)")
    present = [c for c in RESPONSE_COLORS if c in set(bor)]
    theme.legend_outside(ax, handles=[Patch(color=colors[c], label=_label(c)) for c in present],
                         title="Best overall response", pad_pt=_LEGEND_PAD_PT,
                         alignment="left")
    notes = [t for t in (footnote, _pd_below_threshold_note(d), f"{n_missing} patient(s) "
                         "without a complete follow-up assessment not shown" if n_missing
                         else None) if t]
    if notes:
        # one note a line, wrapped to the panel: on one line they ran under the next panel
        width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
        wrap = max(20, int(width_pt / (0.5 * plt.rcParams["xtick.labelsize"])))
        ax.annotate("\n".join(textwrap.fill(t, wrap) for t in notes), xy=(0, 0),
                    xycoords="axes fraction", xytext=(0, -28),
                    textcoords="offset points", fontsize=plt.rcParams["xtick.labelsize"],
                    color="0.3", va="top", gid="footnote")
    if title:
        ax.set_title(title)
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    return ax


#: Width of a waterfall bar (x units: one patient = 1).
_BAR_WIDTH = 0.85


def _waterfall_bars(ax, x: np.ndarray, heights: np.ndarray, bar_colors: list) -> None:
    """One bar per patient from 0 to its value: ``Axes.bar`` up to :data:`_RASTER_ABOVE` bars
    (vector output, one path each), else one rasterised ``PolyCollection`` of the same
    rectangles (a 20,000-patient waterfall: one artist instead of 20,000 patches, whose
    layout and drawing took most of notebook 02). Same corners, colours, no edge, zorder and
    data limits; like the bars, the collection holds y = 0 as a sticky edge of autoscaling.
    """
    if len(x) <= _RASTER_ABOVE:
        ax.bar(x, heights, color=bar_colors, width=_BAR_WIDTH, edgecolor="none", zorder=2)
        return
    from matplotlib.collections import PolyCollection

    left, right, zero = x - _BAR_WIDTH / 2, x + _BAR_WIDTH / 2, np.zeros(len(x))
    # corners in Rectangle's order: (x0, y0), (x1, y0), (x1, y1), (x0, y1)
    verts = np.stack([np.column_stack(c) for c in ((left, zero), (right, zero),
                                                   (right, heights), (left, heights))], axis=1)
    bars = PolyCollection(verts, closed=True, facecolors=bar_colors, edgecolors="none",
                          linewidths=0, zorder=2, rasterized=True)
    bars.sticky_edges.y.append(0)
    ax.add_collection(bars, autolim=True)


def _pd_below_threshold_note(d: pd.DataFrame) -> str | None:
    """Why PD bars can point down: progression by a new lesion or non-target disease while
    the target sum shrank (RECIST 1.1 §4.3; mRECIST), a reviewer's first question."""
    n = int(((d["bor"] == "PD") & (d["best_pct_change"] < _PD_PCT)).sum())
    if not n:
        return None
    return (f"PD below {_signed_pct(_PD_PCT)} ({n}): new lesion or non-target progression")


@theme.themed
def plot_spider(
    df_timepoints: pd.DataFrame,
    ax=None,
    *,
    df_origin: pd.DataFrame | None = None,
    df_bor: pd.DataFrame | None = None,
    time_unit: str = "months",
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
    max_patients: int | None = SPIDER_MAX_PATIENTS,
    seed: int = 0,
):
    """Spider plot: % change of the target sum over time, one line per patient.

    Large cohorts stay readable and small on disk: above ``max_patients`` patients a seeded
    random sample of ``max_patients`` is drawn (the figure says so), and above 200 lines the
    lines and markers are rasterised in SVG/PDF output (axes, labels and text stay vector).

    Parameters
    ----------
    df_timepoints : DataFrame
        Output of :func:`sirtstats.response.derive_timepoint_response` for one criterion and
        scope (``patient_id``, ``assessment_date``, ``pct_change_from_baseline``,
        ``n_targets``, ``n_targets_assessed``); with ``include_baseline=True`` the lines start
        at 0 %. Incomplete assessments are drawn as open markers.
    ax : matplotlib Axes, optional
        Axes to draw on.
    df_origin : DataFrame, optional
        ``patient_id``, ``origin_date``: time is counted from the origin; without it the x axis
        shows calendar dates.
    df_bor : DataFrame, optional
        ``patient_id``, ``bor``: colours the lines by BOR.
    time_unit : {"months", "weeks", "days"}, default "months"
        Unit of the time axis (months = days / 30.4375, the unit of the whole report).
    colors : mapping, optional
        BOR code -> colour.
    title : str, optional
        Axes title.
    max_patients : int or None, default :data:`SPIDER_MAX_PATIENTS`
        Draw a random sample of this many patients when there are more; None draws all.
    seed : int, default 0
        Seed of the sample (same figure on every run).

    Returns
    -------
    matplotlib.axes.Axes or ndarray of Axes
        One Axes; an array (one panel per criterion) when ``df_timepoints`` holds several.
    """
    fn = "plot_spider"
    _require(df_timepoints, ["patient_id", "assessment_date", "pct_change_from_baseline",
                             "n_targets", "n_targets_assessed"], "df_timepoints", fn)
    crits, axes = _facets(df_timepoints, ax, (5.0, 3.6))
    if crits is not None:
        for a, c in zip(axes, crits, strict=True):
            bor_c = (df_bor.loc[df_bor["criterion"] == c] if df_bor is not None
                     and "criterion" in df_bor else df_bor)
            plot_spider(df_timepoints.loc[df_timepoints["criterion"] == c], a,
                        df_origin=df_origin, df_bor=bor_c, time_unit=time_unit, colors=colors,
                        title=_CRIT_LABEL.get(c, c) + (f" · {title}" if title else ""),
                        max_patients=max_patients, seed=seed)
        _one_legend(axes)
        return axes
    div = {"weeks": 7.0, "months": 30.4375, "days": 1.0}
    if time_unit not in div:
        raise ValueError(f"The 'time_unit' argument of {fn} must be one of {_braced(div)}. "
                         f"Got {time_unit!r} instead.")
    colors = {**RESPONSE_COLORS, **(colors or {})}
    ax = _ax(ax, (5.0, 3.6))
    d = df_timepoints.loc[df_timepoints["pct_change_from_baseline"].notna()]
    d = _spider_sample(ax, d, max_patients, seed)
    raster = d["patient_id"].nunique() > _RASTER_ABOVE
    x = _spider_x(ax, d, df_origin, time_unit, div[time_unit], fn)
    bor = (d["patient_id"].map(df_bor.drop_duplicates("patient_id").set_index("patient_id")[
        "bor"]) if df_bor is not None else pd.Series(None, index=d.index))
    complete = (d["n_targets_assessed"] == d["n_targets"]).fillna(False).to_numpy(bool)
    point_colors = np.array([colors.get(c, "0.4") if pd.notna(c) else "0.4" for c in bor],
                            dtype=object)
    y = d["pct_change_from_baseline"].to_numpy(float)
    # draw in _DRAW_ORDER (stable): progression and responses on top of the stable-disease mass
    order = np.argsort(bor.map(_DRAW_RANK).fillna(0).to_numpy(float), kind="stable")
    x, y, complete, point_colors = x[order], y[order], complete[order], point_colors[order]
    # One LineCollection and two scatter calls for the whole cohort: a call per patient took
    # seconds for a few hundred patients.
    segments, seg_colors = _spider_segments(d["patient_id"].to_numpy()[order], x, y,
                                            point_colors)
    width, alpha = _spider_line_style(len(segments))
    ax.add_collection(LineCollection(segments, colors=seg_colors, linewidths=width,
                                     alpha=alpha, zorder=2, rasterized=raster,
                                     gid="spider_lines"))
    ax.scatter(x[complete], y[complete], c=list(point_colors[complete]), s=8, zorder=3,
               rasterized=raster, linewidths=0)
    ax.scatter(x[~complete], y[~complete], facecolors="white",
               edgecolors=list(point_colors[~complete]), s=10, zorder=3, rasterized=raster,
               linewidths=0.6)
    ax.autoscale_view()
    _reference_lines(ax)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("Change in target sum from baseline (%)")
    if df_bor is not None:
        present = [c for c in RESPONSE_COLORS if c in set(bor.dropna())]
        theme.legend_outside(
            ax, handles=[Line2D([], [], color=colors[c], linewidth=2.5, label=_label(c))
                         for c in present],
            title="Best overall response", pad_pt=_LEGEND_PAD_PT, alignment="left")
    if title:
        ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def _spider_sample(ax, d, max_patients, seed):
    """A random sample of ``max_patients`` patients (seeded), noted above the axes."""
    d, n_all, sampled = sample_patients(d, max_patients, seed)
    if not sampled:
        return d
    ax.annotate(f"Random sample of {max_patients:,} of {n_all:,} patients (seed {seed})",
                xy=(0, 1), xycoords="axes fraction", xytext=(0, 2),
                textcoords="offset points", va="bottom", color="0.3",
                fontsize=plt.rcParams["xtick.labelsize"], gid="sample_note")
    return d


def _spider_x(ax, d, df_origin, time_unit, unit_days, fn) -> np.ndarray:
    """x positions: time since first SIRT in ``time_unit``, or imaging dates (date axis)."""
    if df_origin is None:
        ax.set_xlabel("Imaging date")
        ax.xaxis_date()
        return mdates.date2num(pd.to_datetime(d["assessment_date"]))
    _require(df_origin, ["patient_id", "origin_date"], "df_origin", fn)
    org = df_origin.drop_duplicates("patient_id").set_index("patient_id")["origin_date"]
    x_all = (pd.to_datetime(d["assessment_date"])
             - pd.to_datetime(d["patient_id"].map(org))).dt.days / unit_days
    ax.set_xlabel(f"Time since first SIRT ({time_unit})")
    return x_all.to_numpy(float)


#: Drawing order of the spider lines by best overall response: the common stable disease
#: underneath, then responses, progression on top (the lines a reader looks for first).
_DRAW_ORDER = ("MISSING", "NE", "SD", "NON_CR_NON_PD", "PR", "CR", "PD")
_DRAW_RANK = {c: i for i, c in enumerate(_DRAW_ORDER)}


def _spider_line_style(n_lines: int) -> tuple[float, float]:
    """``(line width in pt, alpha)``: thinner and more transparent as lines add up (a crowd
    of a few hundred lines stays a density, not a solid block)."""
    if n_lines <= 30:
        return 1.0, 0.9
    if n_lines <= 100:
        return 0.8, 0.7
    return 0.6, 0.5


def _spider_segments(patient_ids, x, y, point_colors):
    """One polyline per patient with two or more points, in time order, and its colour.

    Patients keep the order of their first point (the caller's drawing order).
    """
    pts = pd.DataFrame({"patient_id": patient_ids, "x": x})
    first = pd.Series(np.arange(len(pts))).groupby(pts["patient_id"].to_numpy()).transform("min")
    pts["first"] = first.to_numpy()
    order = pts.sort_values(["first", "x"], kind="mergesort").index.to_numpy()
    starts = np.flatnonzero(np.r_[True, pts["patient_id"].to_numpy()[order][1:]
                                  != pts["patient_id"].to_numpy()[order][:-1]])
    segments, seg_colors = [], []
    for pos in np.split(order, starts[1:]):
        if len(pos) > 1:
            segments.append(np.column_stack([x[pos], y[pos]]))
            seg_colors.append(point_colors[pos[0]])
    return segments, seg_colors

#: Swimmer figure width and height per lane (inches): 60 lanes print at two-column width
#: within a page height, with lane labels at 8 pt.
_SWIMMER_WIDTH_IN = 5.6
_SWIMMER_LANE_IN = 0.15


def _lane_labels(ax, patient_ids) -> None:
    """Write the lane labels (one per lane, bottom to top) on the y axis.

    The one place where swimmer lanes are named: a de-identified report changes only this.
    """
    ax.set_yticks(np.arange(len(patient_ids)))
    ax.set_yticklabels([str(p) for p in patient_ids],
                       fontsize=0.8 * plt.rcParams["ytick.labelsize"])


@theme.themed
def plot_swimmer(
    df_swimmer: pd.DataFrame,
    ax=None,
    *,
    time_unit: str = "months",
    colors: Mapping[str, str] | None = None,
    max_patients: int | None = 60,
    title: str | None = None,
    show_ids: bool | None = None,
):
    """Swimmer plot: follow-up per patient with SIRT sessions, responses, PD and death.

    Parameters
    ----------
    df_swimmer : DataFrame
        Output of :func:`sirtstats.response.derive_swimmer_data` (``patient_id``, ``event``,
        ``day``, ``is_ongoing``). Lanes are sorted by follow-up; an arrow marks patients alive
        without PD at the end of follow-up.
    ax : matplotlib Axes, optional
        Axes to draw on.
    time_unit : {"months", "weeks", "days"}, default "months"
        Unit of the time axis (months = days / 30.4375).
    colors : mapping, optional
        Response code -> colour.
    max_patients : int or None, default 60
        Draw at most this many lanes (the longest follow-up first); None draws all.
    title : str, optional
        Axes title.
    show_ids : bool, optional
        Label the lanes with the pseudonymous ``patient_id`` (True) or number them from the
        longest follow-up (False). Default: ids, except in a shareable report
        (:func:`sirtstats.disclosure.get_disclosure`, decision D40).

    Returns
    -------
    matplotlib.axes.Axes
    """
    fn = "plot_swimmer"
    _require(df_swimmer, ["patient_id", "event", "day", "is_ongoing"], "df_swimmer", fn)
    div = {"weeks": 7.0, "months": 30.4375, "days": 1.0}
    if time_unit not in div:
        raise ValueError(f"The 'time_unit' argument of {fn} must be one of {_braced(div)}. "
                         f"Got {time_unit!r} instead.")
    colors = {**RESPONSE_COLORS, **(colors or {})}
    fu = df_swimmer.loc[df_swimmer["event"] == "follow_up"].sort_values("day", ascending=True,
                                                                         kind="mergesort")
    n_all = len(fu)
    if max_patients is not None:
        fu = fu.tail(max_patients)
    lane = {pid: i for i, pid in enumerate(fu["patient_id"])}
    ax = _ax(ax, (_SWIMMER_WIDTH_IN, max(3.0, _SWIMMER_LANE_IN * len(lane) + 1.4)))
    u = div[time_unit]
    ends = fu["day"].astype(float).to_numpy() / u
    ax.barh(np.arange(len(lane)), ends, color="0.85", height=0.6, zorder=1)
    arrows = fu["is_ongoing"].fillna(False).to_numpy(bool)
    ax.scatter(ends[arrows], np.arange(len(lane))[arrows], marker=">", color="0.3", s=25,
               zorder=4)
    ev = df_swimmer.loc[df_swimmer["patient_id"].isin(lane) & (df_swimmer["event"] !=
                                                               "follow_up")]
    handles = []
    for event in ["SIRT", *RESPONSE_COLORS, "death"]:
        e = ev.loc[ev["event"] == event]
        if e.empty:
            continue
        col = "black" if event in ("SIRT", "death") else colors.get(event, "0.5")
        ax.scatter(e["day"].astype(float) / u, e["patient_id"].map(lane), marker=_MARKERS.get(
            event, "o"), color=col, s=30 if event != "death" else 60, zorder=3,
                   edgecolors="black" if event in RESPONSE_COLORS else None, linewidths=0.3)
        handles.append(Line2D([], [], ls="", marker=_MARKERS.get(event, "o"), color=col,
                              label=_label(event) if event != "SIRT" else "SIRT session"))
    handles.append(Line2D([], [], ls="", marker=">", color="0.3",
                          label="Alive without progression"))
    if show_ids is None:
        show_ids = not get_disclosure().shareable
    # without ids (shareable report, D40) lanes are numbered from the longest follow-up down
    _lane_labels(ax, list(lane) if show_ids else [str(len(lane) - i) for i in range(len(lane))])
    ax.set_xlabel(f"Time since first SIRT ({time_unit})")
    ax.set_ylabel("Patient" if show_ids else "Patient (rank by follow-up)")
    left = min(0.0, float(ev["day"].min() / u) if len(ev) else 0.0)
    right = max(float(ends.max()) if len(ends) else 1.0, 1e-9)
    # a margin left of 0 so that the session markers at day 0 are not cut by the axis line
    ax.set_xlim(left - 0.015 * (right - left), right * 1.03)
    if time_unit == "months":
        ax.xaxis.set_major_locator(MultipleLocator(12))
    ax.set_ylim(-0.8, len(lane) - 0.2)
    legend = theme.legend_outside(ax, handles=handles, title="Events", alignment="left")
    if len(lane) < n_all:
        # which patients are shown, under the legend (outside the data area)
        ax.annotate(f"The {len(lane)} patients with the longest\nfollow-up of {n_all} shown",
                    xy=(0, 0), xycoords=legend, xytext=(0, -8), textcoords="offset points",
                    ha="left", va="top", color="0.3", gid="lane_note",
                    fontsize=plt.rcParams["legend.fontsize"], annotation_clip=False)
    if title:
        ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
