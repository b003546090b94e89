"""Dosimetry plots: lesion dose-response and ROC per device, dose-volume by device, survival by
dose group within each device.

Each function draws frames computed by :mod:`sirtstats.dose_response` or
:mod:`sirtstats.dosimetry` and computes no statistic itself (sklearn ``RocCurveDisplay`` and
lifelines ``plotting`` pattern). Absorbed doses of different devices are not interchangeable,
so the per-device figures draw one panel per device, each with that device's own published
threshold, and never put two devices' doses on one dose-response curve.

Conventions: dose axes are logarithmic (lesion doses span two decades, 5-2,500 Gy); the fitted
probability of response has its own panel under the scatter (no twin y axes); colours are the
Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008; Wong, Nat Methods 2011;8:441), markers
also differ where colour carries a category; legends sit outside the data area; labels come
from :mod:`sirtstats.labels` (no raw codes such as ``Y90_glass``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.lines import Line2D

from sirtstats._checks import check_frame_argument as _require
from sirtstats.labels import column_label, value_label
from sirtstats.plotting import theme

__all__ = [
    "DEVICE_COLOURS",
    "OKABE_ITO",
    "plot_dose_by_device",
    "plot_dose_response",
    "plot_dose_response_by_device",
    "plot_roc",
    "plot_roc_by_device",
    "plot_survival_by_device_dose_group",
]

#: Okabe-Ito palette by name (the colours of :data:`sirtstats.plotting.theme.PALETTE`).
OKABE_ITO: dict[str, str] = dict(zip(
    ("blue", "orange", "bluish_green", "reddish_purple", "sky_blue", "vermillion", "black",
     "yellow"), theme.PALETTE, strict=True)) | {"grey": theme.GREY}
#: One colour per device, the same in every figure of the report.
DEVICE_COLOURS: dict[str, str] = {
    "Y90_glass": OKABE_ITO["blue"],
    "Y90_resin": OKABE_ITO["orange"],
    "Ho166_PLLA": OKABE_ITO["reddish_purple"],
}
#: Responders blue circles, non-responders vermillion triangles (shape and colour differ).
_OUTCOME_STYLE = {
    True: {"color": OKABE_ITO["blue"], "marker": "o", "label": "Responder (CR/PR)"},
    False: {"color": OKABE_ITO["vermillion"], "marker": "^", "label": "Non-responder"},
}
_UNKNOWN_STYLE = {"color": OKABE_ITO["grey"], "marker": "s", "label": "Not evaluable"}
#: Dose-group colours of the survival panels: below the threshold, at or above it.
_GROUP_COLOURS = (OKABE_ITO["vermillion"], OKABE_ITO["blue"])
#: Smallest dose drawn on a log axis (Gy); lower doses are drawn at it.
_DOSE_FLOOR_GY = 1.0
_LEGEND_BELOW = {"where": "bottom", "ncols": 1, "bbox_to_anchor": (0.5, -0.24)}
#: Panel sizes (inches) of the per-device grids: a column per device (three devices and the
#: legend print at two-column width, 183 mm, with no text under theme.MIN_PRINT_PT): a
#: dose-response column is the scatter and probability pair of one criterion.
_DR_PANEL_IN = (2.7, 5.0)
_ROC_PANEL_IN = (2.9, 4.0)


def _panel_title_pt() -> float:
    """Font size of the per-device panel titles (points): the theme's tick-label size."""
    return 0.9 * plt.rcParams["xtick.labelsize"]


def _legend(ax, handles):
    """Legend of ``handles`` right of ``ax``, outside its data area."""
    return theme.legend_outside(ax, handles=handles, labels=[h.get_label() for h in handles])


def _log_dose_axis(ax, axis: str = "x") -> None:
    """Log scale with plain-number ticks at 1-2-5 steps (10, 20, 50, 100, 200 ...)."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_locator(ticker.NullLocator())
    target.set_minor_formatter(ticker.NullFormatter())


#: Tick steps tried on a log dose axis, densest first, and the most labels a panel shows.
_LOG_SUBS = ((1.0, 2.0, 5.0), (1.0, 3.0), (1.0,))
_MAX_LOG_TICKS = 5


def _fit_log_ticks(ax, axis: str = "x") -> None:
    """Keep at most :data:`_MAX_LOG_TICKS` labelled ticks in the current limits: 1-2-5 steps,
    else 1-3 (30, 100, 300, 1000), else decades; on a narrow panel spanning two decades
    the 1-2-5 labels ran into each other ("5001000")."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    for subs in _LOG_SUBS:
        locator = ticker.LogLocator(base=10, subs=subs)
        ticks = [t for t in locator.tick_values(lo, hi) if lo <= t <= hi]
        if len(ticks) <= _MAX_LOG_TICKS:
            break
    target.set_major_locator(locator)


def _dose(values) -> np.ndarray:
    return np.maximum(np.asarray(values, dtype=float), _DOSE_FLOOR_GY)


def _outcome_handles(with_unknown: bool, curve: bool, threshold: bool) -> list:
    handles = [Line2D([], [], linestyle="none", markersize=5, markeredgecolor="none",
                      color=s["color"], marker=s["marker"], label=s["label"])
               for s in (_OUTCOME_STYLE[True], _OUTCOME_STYLE[False])]
    if with_unknown:
        handles.append(Line2D([], [], linestyle="none", markersize=5, markeredgecolor="none",
                              color=_UNKNOWN_STYLE["color"], marker=_UNKNOWN_STYLE["marker"],
                              label=_UNKNOWN_STYLE["label"]))
    if curve:
        handles.append(Line2D([], [], color="black", linewidth=1.8,
                              label="Fitted probability (95 % CI)"))
    if threshold:
        handles.append(Line2D([], [], color="0.2", linestyle="--", linewidth=1,
                              label="Published threshold"))
    return handles


@theme.themed
def plot_dose_response(
    df_points: pd.DataFrame,
    df_curve: pd.DataFrame | None = None,
    axes=None,
    *,
    dose_col: str = "absorbed_dose_gy",
    pct_change_col: str = "best_pct_change",
    response_col: str = "is_responder",
    threshold_gy: float | None = None,
    reference_pct: float | None = -30.0,
    note: str | None = None,
    legend: bool = True,
    title: str | None = None,
):
    """Lesion dose against best % change (top) and the fitted probability of response (bottom).

    Both panels share a logarithmic dose axis; the probability has its own panel and y axis
    (no twin axes).

    Parameters
    ----------
    df_points : DataFrame
        One row per lesion of ONE device (e.g. ``derive_lesion_dose_response_by_device``
        filtered on a device and criterion): dose (Gy), % change from baseline (negative =
        shrinkage) and the binary outcome (colour and marker; NA grey squares).
    df_curve : DataFrame, optional
        ``compute_dose_response_curve`` output: ``dose_gy``, ``probability``, ``ci_lower``,
        ``ci_upper`` (0-1). Without it (or empty) the lower panel says "Not estimable".
    axes : sequence of two matplotlib.axes.Axes, optional
        Upper and lower axes (same x); a new 2-row figure when None.
    dose_col, pct_change_col, response_col : str
        Columns of ``df_points``.
    threshold_gy : float, optional
        Vertical dashed line at the device's published threshold (e.g. 205 Gy for Y-90 glass
        in HCC); NaN or None for none.
    reference_pct : float or None, default -30
        Horizontal dotted line (the RECIST/mRECIST partial-response boundary); None for none.
    note : str, optional
        Text in the lower panel instead of "Not estimable" when there is no curve.
    legend : bool, default True
        Legend to the right of the upper panel, outside the data area.
    title : str, optional
        Title of the upper panel.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        ``[upper, lower]``.

    Raises
    ------
    ValueError
        If a frame lacks a column, or ``axes`` is not two Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"absorbed_dose_gy": [80.0, 250.0], "best_pct_change": [5.0, -60.0],
    ...                     "is_responder": [False, True]})
    >>> curve = pd.DataFrame({"dose_gy": [10.0, 300.0], "probability": [0.1, 0.9],
    ...                       "ci_lower": [0.05, 0.8], "ci_upper": [0.2, 0.95]})
    >>> top, bottom = plot_dose_response(pts, curve, threshold_gy=205)
    >>> bottom.get_xlabel(), bottom.get_xscale(), bottom.get_ylabel()
    ('Lesion absorbed dose (Gy)', 'log', 'Probability of response')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    fn = "plot_dose_response"
    _require(df_points, [dose_col, pct_change_col], "df_points", fn)
    top, bottom = axes = _upper_lower_axes(axes, fn)
    unknown = _scatter_outcomes(top, df_points, dose_col, pct_change_col, response_col)
    if reference_pct is not None:
        top.axhline(reference_pct, color="0.45", linestyle=":", linewidth=1)
    has_threshold = threshold_gy is not None and np.isfinite(threshold_gy)
    has_curve = df_curve is not None and len(df_curve) > 0
    if df_curve is not None:
        _require(df_curve, ["dose_gy", "probability"], "df_curve", fn)
    _draw_probability(bottom, df_curve if has_curve else None, note)
    for ax in (top, bottom):
        if has_threshold:
            ax.axvline(threshold_gy, color="0.2", linestyle="--", linewidth=1)
        _log_dose_axis(ax)
    doses = _dose(df_points[dose_col].dropna())
    if len(doses):
        extent = [*doses, threshold_gy] if has_threshold else doses
        bottom.set_xlim(float(np.min(extent)) / 1.25, float(np.max(extent)) * 1.25)
        for ax in (top, bottom):
            _fit_log_ticks(ax)
    bottom.set_ylim(0, 1)
    bottom.yaxis.set_major_locator(ticker.MultipleLocator(0.25))
    # two lines: one line ran into the probability panel's y-axis title below it
    top.set_ylabel(textwrap.fill(column_label(pct_change_col), 20))
    bottom.set_ylabel("Probability of response")
    bottom.set_xlabel(column_label(dose_col))
    top.tick_params(labelbottom=False)
    if legend:
        _legend(top, _outcome_handles(bool(unknown.any()), has_curve, has_threshold))
    if title:
        top.set_title(title)
    return axes


def _upper_lower_axes(axes, fn: str) -> np.ndarray:
    """``axes`` as an array of two Axes, or a new 2-row figure (3:2) sharing x when None."""
    if axes is None:
        _, axes = plt.subplots(2, 1, sharex=True, figsize=(6.5, 5.5), layout="constrained",
                               gridspec_kw={"height_ratios": (3, 2)})
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) != 2:
        raise ValueError(f"The 'axes' argument of {fn} must hold two Axes (upper, lower). "
                         f"Got {len(axes)} instead.")
    return axes


#: Points above which scatter layers are rasterised in vector output (as the spider plot).
_RASTER_ABOVE = 200


def _scatter_outcomes(ax, df_points, dose_col, pct_change_col, response_col) -> np.ndarray:
    """Responders, non-responders, then not-evaluable lesions; return the not-evaluable mask."""
    outcome = (df_points[response_col].astype("boolean") if response_col in df_points.columns
               else pd.Series(pd.NA, index=df_points.index, dtype="boolean"))
    raster = len(df_points) > _RASTER_ABOVE  # SVG/PDF of a large registry stays small
    for value in (True, False):
        style = _OUTCOME_STYLE[value]
        sel = (outcome == value).fillna(False).to_numpy(dtype=bool)
        ax.scatter(_dose(df_points.loc[sel, dose_col]), df_points.loc[sel, pct_change_col],
                   s=16, alpha=0.65, color=style["color"], marker=style["marker"],
                   label=style["label"], edgecolors="none", rasterized=raster)
    unknown = outcome.isna().to_numpy() & df_points[pct_change_col].notna().to_numpy()
    if unknown.any():
        ax.scatter(_dose(df_points.loc[unknown, dose_col]),
                   df_points.loc[unknown, pct_change_col], s=16, alpha=0.6,
                   color=_UNKNOWN_STYLE["color"], marker=_UNKNOWN_STYLE["marker"],
                   label=_UNKNOWN_STYLE["label"], edgecolors="none", rasterized=raster)
    return unknown


def _draw_probability(ax, df_curve, note) -> None:
    """Fitted probability with its CI band, or ``note`` ("Not estimable") without a curve."""
    if df_curve is None:
        ax.text(0.5, 0.5, note or "Not estimable", transform=ax.transAxes,
                ha="center", va="center", color="0.35", fontsize=9, wrap=True)
        return
    x = _dose(df_curve["dose_gy"])
    if {"ci_lower", "ci_upper"} <= set(df_curve.columns):
        ax.fill_between(x, df_curve["ci_lower"], df_curve["ci_upper"], color="black",
                        alpha=0.15, linewidth=0)
    ax.plot(x, df_curve["probability"], color="black", linewidth=1.8,
            label="Fitted probability (95 % CI)")


def _summary_row(df_summary, device, criterion):
    sel = df_summary[(df_summary["device"] == device) & (df_summary["criterion"] == criterion)]
    return sel.iloc[0] if len(sel) else None


def _criteria_rows(df_summary, criterion, fn):
    criteria = [criterion] if isinstance(criterion, str) else list(criterion)
    missing = [c for c in criteria if not (df_summary["criterion"] == c).any()]
    if not criteria or missing:
        raise ValueError(f"The 'df_summary' argument of {fn} has no row for criterion "
                         f"{missing or criteria!r}. Got criteria "
                         f"{sorted(set(df_summary['criterion']))} instead.")
    rows = df_summary[df_summary["criterion"].isin(criteria)]
    return criteria, list(dict.fromkeys(rows["device"]))


@theme.themed
def plot_dose_response_by_device(
    df_points: pd.DataFrame,
    df_curves: pd.DataFrame,
    df_summary: pd.DataFrame,
    *,
    criterion: str | Sequence[str],
    dose_col: str = "absorbed_dose_gy",
    pct_change_col: str = "best_pct_change",
    response_col: str = "is_responder",
    title: str | None = None,
):
    """One dose-response column per device (scatter above, fitted probability below).

    Parameters
    ----------
    df_points : DataFrame
        ``derive_lesion_dose_response_by_device`` output (``device``, ``criterion``, dose,
        % change, outcome).
    df_curves : DataFrame
        ``compute_dose_response_curves_by_device`` output.
    df_summary : DataFrame
        ``summarise_dose_response_by_device`` output: its rows give the devices (columns, in
        its order), counts, thresholds and the not-estimable notes.
    criterion : str or sequence of str
        Criterion (e.g. "mRECIST") or criteria to draw: one pair of rows per criterion.
    dose_col, pct_change_col, response_col : str
        Columns of ``df_points``.
    title : str, optional
        Figure title.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        Shape (2 x number of criteria, number of devices): for each criterion a row of
        scatters, then a row of fitted probabilities.

    Raises
    ------
    ValueError
        If a frame lacks a column or a criterion has no row in ``df_summary``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"device": ["Y90_glass", "Y90_resin"], "criterion": "mRECIST",
    ...                     "absorbed_dose_gy": [250.0, 90.0], "best_pct_change": [-60.0, 5.0],
    ...                     "is_responder": [True, False]})
    >>> summary = pd.DataFrame({"device": ["Y90_glass", "Y90_resin"], "criterion": "mRECIST",
    ...                         "is_estimable": False, "n_lesions": 1, "n_patients": 1,
    ...                         "threshold_gy": [205.0, 120.0], "note": "not estimable"})
    >>> axes = plot_dose_response_by_device(pts, pts.iloc[:0].assign(dose_gy=[],
    ...     probability=[]), summary, criterion="mRECIST")
    >>> axes.shape, axes[0, 0].get_title().splitlines()[0]
    ((2, 2), 'Y-90 glass · mRECIST')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    fn = "plot_dose_response_by_device"
    _require(df_points, ["device", "criterion", dose_col, pct_change_col], "df_points", fn)
    _require(df_curves, ["device", "criterion", "dose_gy", "probability"], "df_curves", fn)
    _require(df_summary, ["device", "criterion", "is_estimable", "n_lesions", "n_patients",
                          "threshold_gy", "note"], "df_summary", fn)
    criteria, devices = _criteria_rows(df_summary, criterion, fn)
    fig, grid = plt.subplots(2 * len(criteria), len(devices), sharey="row", squeeze=False,
                             figsize=(_DR_PANEL_IN[0] * len(devices) + 2.2,
                                      _DR_PANEL_IN[1] * len(criteria)),
                             layout="constrained",
                             gridspec_kw={"height_ratios": (3, 2) * len(criteria)})
    any_unknown = False
    for r, crit in enumerate(criteria):
        for j, device in enumerate(devices):
            pair = grid[2 * r: 2 * r + 2, j]
            row = _summary_row(df_summary, device, crit)
            if row is None:
                for ax in pair:
                    ax.axis("off")
                continue
            pts = df_points[(df_points["device"] == device) & (df_points["criterion"] == crit)]
            curve = df_curves[(df_curves["device"] == device) & (df_curves["criterion"] == crit)]
            note = None
            if not bool(row["is_estimable"]):
                reason = str(row["note"]).removeprefix("not estimable: ")
                note = f"Not estimable\n({reason})"
            plot_dose_response(pts, curve, pair, dose_col=dose_col,
                               pct_change_col=pct_change_col, response_col=response_col,
                               threshold_gy=row["threshold_gy"], note=note, legend=False)
            pair[0].sharex(pair[1])
            threshold = row["threshold_gy"]
            label = (f"Published threshold {threshold:g} Gy" if pd.notna(threshold)
                     else "No published threshold")
            pair[0].set_title(f"{value_label(device)} · {value_label(crit)}\n"
                              f"{int(row['n_lesions'])} lesions, {int(row['n_patients'])} "
                              f"patients\n{label}", fontsize=_panel_title_pt())
            if response_col in pts.columns:
                any_unknown |= bool((pts[response_col].isna()
                                     & pts[pct_change_col].notna()).any())
            if j:
                pair[0].set_ylabel("")
                pair[1].set_ylabel("")
    _legend(grid[0, -1], _outcome_handles(any_unknown, True, True))
    fig.suptitle(title or "Lesion dose-response by device (each device on its own doses)",
                 fontsize=11)
    return grid


@theme.themed
def plot_roc(
    df_curve: pd.DataFrame,
    ax=None,
    *,
    auc: float | None = None,
    auc_ci: tuple[float, float] | None = None,
    youden_threshold_gy: float | None = None,
    threshold_gy: float | None = None,
    colour: str = OKABE_ITO["blue"],
    legend: str | None = "right",
    title: str | None = None,
):
    """ROC curve of dose as a predictor, marking the Youden and a published threshold.

    Parameters
    ----------
    df_curve : DataFrame
        ``RocResult.curve``: ``fpr``, ``tpr`` (0-1), ``threshold`` (Gy; first row +inf).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new square figure when None.
    auc : float, optional
        AUC for the legend (``RocResult.auc``).
    auc_ci : tuple of float, optional
        Its CI (``RocResult.auc_ci``).
    youden_threshold_gy : float, optional
        ``YoudenThreshold.threshold_gy``; marked with a circle.
    threshold_gy : float, optional
        The device's published threshold (e.g. 205 Gy, Y-90 glass HCC); marked with a square
        at the curve point of the smallest ROC threshold >= it.
    colour : str, default Okabe-Ito blue
        Curve colour (e.g. the device's colour).
    legend : {"right", "below"} or None, default "right"
        Legend outside the data area, to the right or under the axes; None for none.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
        The axes.

    Raises
    ------
    ValueError
        If ``df_curve`` lacks a column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> curve = pd.DataFrame({"fpr": [0, 0, 0.5, 1], "tpr": [0, 0.5, 1, 1],
    ...                       "threshold": [np.inf, 250.0, 120.0, 50.0]})
    >>> ax = plot_roc(curve, auc=0.875, youden_threshold_gy=120.0, threshold_gy=205)
    >>> len(ax.lines)
    4
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    fn = "plot_roc"
    _require(df_curve, ["fpr", "tpr", "threshold"], "df_curve", fn)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.2), layout="constrained")
    label = _auc_label(auc, auc_ci)
    ax.plot(df_curve["fpr"], df_curve["tpr"], color=colour, linewidth=1.8,
            label=label if not df_curve.empty else "_nolegend_")
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1, label="Chance")
    if df_curve.empty:
        ax.text(0.5, 0.5, "Not estimable", ha="center", va="center", color="0.35",
                transform=ax.transAxes)
    else:
        _mark_roc_thresholds(ax, df_curve, youden_threshold_gy, threshold_gy)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    # square panel: equal units on both rates, and a square box whatever the caller's layout
    ax.set_aspect("equal")
    ax.set_box_aspect(1)
    ax.set_xlabel("1 − specificity")
    ax.set_ylabel("Sensitivity")
    if legend is not None:
        if legend == "below":
            theme.legend_outside(ax, **_LEGEND_BELOW)
        else:
            theme.legend_outside(ax)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def _auc_label(auc, auc_ci) -> str:
    """``"AUC 0.78 (0.70–0.85)"``, or ``"ROC curve"`` without a finite AUC."""
    if auc is None or not np.isfinite(auc):
        return "ROC curve"
    if auc_ci is not None and np.all(np.isfinite(auc_ci)):
        return f"AUC {auc:.2f} ({auc_ci[0]:.2f}–{auc_ci[1]:.2f})"
    return f"AUC {auc:.2f}"


def _mark_roc_thresholds(ax, df_curve, youden_threshold_gy, threshold_gy) -> None:
    """Mark the Youden optimum and the published threshold on a non-empty ROC curve.

    A dose threshold maps to the last curve point whose threshold is >= that dose (the first
    point when none is).
    """
    thresholds = df_curve["threshold"].to_numpy(dtype=float)

    def point(value):
        candidates = np.flatnonzero(thresholds >= value)
        return df_curve.iloc[candidates[-1]] if len(candidates) else df_curve.iloc[0]

    if youden_threshold_gy is not None and np.isfinite(youden_threshold_gy):
        p = point(youden_threshold_gy)
        ax.plot(p["fpr"], p["tpr"], "o", color="black", markerfacecolor="white",
                markersize=7, label=f"Youden optimum {youden_threshold_gy:.0f} Gy")
    if threshold_gy is not None and np.isfinite(threshold_gy):
        p = point(threshold_gy)
        ax.plot(p["fpr"], p["tpr"], "s", color="black", markersize=6,
                label=f"Published threshold {threshold_gy:g} Gy")

@theme.themed
def plot_roc_by_device(
    df_roc: pd.DataFrame,
    df_summary: pd.DataFrame,
    *,
    criterion: str | Sequence[str],
    title: str | None = None,
):
    """One ROC panel per device (and criterion), with AUC, Youden optimum and threshold.

    Parameters
    ----------
    df_roc : DataFrame
        ``compute_roc_curves_by_device`` output (``device``, ``criterion``, ``fpr``, ``tpr``,
        ``threshold``).
    df_summary : DataFrame
        ``summarise_dose_response_by_device`` output; its rows give the panels (``auc``,
        ``auc_ci_lower``, ``auc_ci_upper``, ``youden_threshold_gy``, ``threshold_gy``).
    criterion : str or sequence of str
        Criterion or criteria to draw: one row of panels per criterion.
    title : str, optional
        Figure title.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        Shape (number of criteria, number of devices).

    Raises
    ------
    ValueError
        If a frame lacks a column or a criterion has no row in ``df_summary``.
    """
    fn = "plot_roc_by_device"
    _require(df_roc, ["device", "criterion", "fpr", "tpr", "threshold"], "df_roc", fn)
    _require(df_summary, ["device", "criterion", "auc", "auc_ci_lower", "auc_ci_upper",
                          "youden_threshold_gy", "threshold_gy", "n_lesions"], "df_summary", fn)
    criteria, devices = _criteria_rows(df_summary, criterion, fn)
    fig, axes = plt.subplots(len(criteria), len(devices), squeeze=False,
                             figsize=(_ROC_PANEL_IN[0] * len(devices),
                                      _ROC_PANEL_IN[1] * len(criteria)),
                             layout="constrained")
    for r, crit in enumerate(criteria):
        for j, device in enumerate(devices):
            ax, row = axes[r, j], _summary_row(df_summary, device, crit)
            if row is None:
                ax.axis("off")
                continue
            curve = df_roc[(df_roc["device"] == device) & (df_roc["criterion"] == crit)]
            plot_roc(curve[["fpr", "tpr", "threshold"]], ax, auc=row["auc"],
                     auc_ci=(row["auc_ci_lower"], row["auc_ci_upper"]),
                     youden_threshold_gy=row["youden_threshold_gy"],
                     threshold_gy=row["threshold_gy"],
                     colour=DEVICE_COLOURS.get(device, OKABE_ITO["black"]), legend="below",
                     title=(f"{value_label(device)} · {value_label(crit)} "
                            f"({int(row['n_lesions'])} lesions)"))
    fig.suptitle(title or "Dose as a predictor of lesion response, by device", fontsize=11)
    return axes


@theme.themed
def plot_dose_by_device(
    df: pd.DataFrame,
    ax=None,
    *,
    volume_col: str = "perfused_volume_ml",
    dose_col: str = "perfused_dose_gy",
    device_col: str = "device",
    df_summary: pd.DataFrame | None = None,
    log_volume: bool = True,
    log_dose: bool = True,
    title: str | None = None,
):
    """Dose-volume scatter per device, with each device's median dose as a horizontal line.

    Parameters
    ----------
    df : DataFrame
        One row per injection (e.g. ``sirtstats.dosimetry.derive_injection_doses``): device,
        perfused volume (mL) and dose (Gy).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    volume_col, dose_col, device_col : str
        Columns of ``df``.
    df_summary : DataFrame, optional
        ``summarise_dose_by_device`` output; the ``median`` of ``dose_col`` per device is drawn
        as a dashed line.
    log_volume : bool, default True
        Log scale for the volume axis (segmental to whole-liver volumes span two decades).
    log_dose : bool, default True
        Log scale for the dose axis (segmentectomy doses reach ten times lobar ones).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
        The axes.

    Raises
    ------
    ValueError
        If a frame lacks a column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> df = pd.DataFrame({"device": ["Y90_glass", "Y90_resin"],
    ...                    "perfused_volume_ml": [300.0, 1200.0],
    ...                    "perfused_dose_gy": [250.0, 55.0]})
    >>> ax = plot_dose_by_device(df)
    >>> ax.get_ylabel(), ax.get_legend().get_texts()[0].get_text()
    ('Perfused dose (Gy)', 'Y-90 glass (n = 1)')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    fn = "plot_dose_by_device"
    _require(df, [volume_col, dose_col, device_col], "df", fn)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.5), layout="constrained")
    present = list(df[device_col].dropna().unique())
    devices = ([d for d in DEVICE_COLOURS if d in present]
               + sorted(d for d in present if d not in DEVICE_COLOURS))
    fallback = [OKABE_ITO[k] for k in ("bluish_green", "sky_blue", "vermillion", "black")]
    markers = ("o", "^", "s", "D", "v")
    medians: Mapping = {}
    if df_summary is not None:
        _require(df_summary, ["device", "quantity", "median"], "df_summary", fn)
        sel = df_summary[df_summary["quantity"] == dose_col]
        medians = dict(zip(sel["device"], sel["median"], strict=True))
    for i, device in enumerate(devices):
        colour = DEVICE_COLOURS.get(device, fallback[i % len(fallback)])
        sub = df[df[device_col] == device]
        ax.scatter(sub[volume_col], sub[dose_col], s=14, alpha=0.6, color=colour,
                   marker=markers[i % len(markers)], edgecolors="none",
                   label=f"{value_label(device)} (n = {len(sub)})")
        if device in medians and np.isfinite(medians[device]):
            ax.axhline(medians[device], color=colour, linestyle="--", linewidth=1,
                       label=f"{value_label(device)} median {medians[device]:.0f} Gy")
    if log_volume:
        _log_dose_axis(ax, "x")
    if log_dose:
        _log_dose_axis(ax, "y")
    ax.set_xlabel(column_label(volume_col))
    ax.set_ylabel(column_label(dose_col))
    theme.legend_outside(ax)
    if title:
        ax.set_title(title)
    return ax


def _p_text(p: float) -> str:
    if not np.isfinite(p):
        return "log-rank p not estimable"
    return "log-rank p < 0.001" if p < 0.001 else f"log-rank p = {p:.3f}"


@theme.themed
def plot_survival_by_device_dose_group(
    curve: pd.DataFrame,
    risk_table: pd.DataFrame,
    tests: pd.DataFrame,
    *,
    km: pd.DataFrame | None = None,
    ylabel: str = "Overall survival probability",
    xlabel: str = "Months since first SIRT",
    title: str | None = None,
):
    """Kaplan-Meier by dose group, one panel per device, with numbers at risk and log-rank p.

    Each panel is drawn by :func:`sirtstats.plotting.survival.plot_km` (censor marks, number
    at risk under the axis at the 6-monthly ticks); the legend is moved outside the data area.
    The curtailment rule (curves stop where fewer than 5 remain at risk) is written once,
    under the last panel.

    Parameters
    ----------
    curve, risk_table : DataFrame
        :attr:`DeviceDoseGroupSurvival.curve` and ``.risk_table`` (``device``, ``dose_group``
        and the survival columns).
    tests : DataFrame
        :attr:`DeviceDoseGroupSurvival.tests`: one row per device (``threshold_gy``,
        ``logrank_p``); devices with a curve get a panel, in this order.
    km : DataFrame, optional
        :attr:`DeviceDoseGroupSurvival.km` (N per group for the legend).
    ylabel, xlabel : str
        Axis labels (endpoint-specific y label).
    title : str, optional
        Figure title.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One Axes per device drawn (one blank Axes with a message when no device has a
        curve).

    Raises
    ------
    ValueError
        If a frame lacks a column.
    """
    from sirtstats.plotting.survival import plot_km

    fn = "plot_survival_by_device_dose_group"
    _require(tests, ["device", "threshold_gy", "logrank_p"], "tests", fn)
    drawn = [d for d in tests["device"]
             if not curve.empty and (curve["device"] == d).any()]
    if not drawn:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "No device with a published threshold and patients with a dose",
                ha="center", va="center", color="0.35")
        return np.array([ax], dtype=object)
    _require(curve, ["device", "dose_group", "time", "surv"], "curve", fn)
    _require(risk_table, ["device", "dose_group", "time", "n_risk"], "risk_table", fn)
    panel_in, table_in, gap_in = 3.0, 1.5, 0.55
    height = len(drawn) * (panel_in + table_in + gap_in) + 0.4
    fig, axes = plt.subplots(len(drawn), 1, figsize=(8.0, height), squeeze=False)
    axes = axes.ravel()
    for i, (ax, device) in enumerate(zip(axes, drawn, strict=True)):
        row = tests[tests["device"] == device].iloc[0]
        sub_curve = curve[curve["device"] == device].drop(columns="device")
        sub_risk = risk_table[risk_table["device"] == device].drop(columns="device")
        sub_km = (km[km["device"] == device].drop(columns="device")
                  if km is not None and not km.empty else None)
        groups = list(dict.fromkeys(sub_curve["dose_group"]))
        colours = dict(zip(groups, _GROUP_COLOURS, strict=False))
        plot_km(sub_curve, risk_table=sub_risk, summary=sub_km, ax=ax, colors=colours,
                xlabel=xlabel, ylabel=ylabel, footnote=i == len(drawn) - 1,
                title=(f"{value_label(device)}: mean lesion dose below / at or above "
                       f"{row['threshold_gy']:g} Gy"))
        handles, labels = ax.get_legend_handles_labels()
        theme.legend_outside(ax, handles=handles, labels=labels,
                             title=_p_text(float(row["logrank_p"])))
    top = 1 - 0.4 / height
    bottom_in = table_in + 0.35
    fig.subplots_adjust(left=0.2, right=0.74, top=top, bottom=bottom_in / height,
                        hspace=(table_in + gap_in) / panel_in)
    if title:
        fig.suptitle(title, fontsize=11)
    return axes
