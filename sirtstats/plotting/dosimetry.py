"""Dosimetry plots: dose vs % change with the fitted response curve, ROC, dose-volume by device.

Each function draws frames computed by :mod:`sirtstats.dose_response` or
:mod:`sirtstats.dosimetry` and computes no statistic itself (sklearn ``RocCurveDisplay`` and
lifelines ``plotting`` pattern). All accept ``ax=None`` and return the Axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker

from sirtstats._checks import check_frame_argument as _require

__all__ = ["plot_dose_by_device", "plot_dose_response", "plot_roc"]

_RESPONDER_COLOURS = {True: "#1b7837", False: "#b2182b"}
_UNITS = {"_gy": "Gy", "_ml": "mL", "_gbq": "GBq", "_kg": "kg", "_pct": "%"}
_DEVICE_COLOURS = {"Y90_glass": "#1f77b4", "Y90_resin": "#ff7f0e", "Ho166_PLLA": "#2ca02c"}


def _axis_label(column: str) -> str:
    """``perfused_dose_gy`` -> ``Perfused dose (Gy)``."""
    text = column
    for suffix, unit in _UNITS.items():
        if text.endswith(suffix):
            text = text[: -len(suffix)] + f" ({unit})"
            break
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def plot_dose_response(
    df_points: pd.DataFrame,
    df_curve: pd.DataFrame | None = None,
    ax=None,
    *,
    dose_col: str = "absorbed_dose_gy",
    pct_change_col: str = "best_pct_change",
    response_col: str = "is_responder",
    threshold_gy: float | None = None,
    reference_pct: float | None = -30.0,
    title: str | None = None,
):
    """Scatter of dose against % change, with the fitted response probability on a right axis.

    Parameters
    ----------
    df_points : DataFrame
        One row per lesion (e.g. ``derive_lesion_dose_response``): dose (Gy), % change from
        baseline (negative = shrinkage) and the binary outcome (colours the points; NA grey).
    df_curve : DataFrame, optional
        ``compute_dose_response_curve`` output: ``dose_gy``, ``probability``, ``ci_lower``,
        ``ci_upper``; drawn on a twin axis (0-1).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    dose_col, pct_change_col, response_col : str
        Columns of ``df_points``.
    threshold_gy : float, optional
        Vertical dashed line at this dose (e.g. the 205 Gy literature threshold).
    reference_pct : float or None, default -30
        Horizontal dotted line (the RECIST/mRECIST partial-response boundary); None for none.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
        The left (% change) axes; the probability axes is ``ax.right_ax``.

    Raises
    ------
    ValueError
        If a frame lacks a column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"absorbed_dose_gy": [80.0, 250.0], "best_pct_change": [5.0, -60.0],
    ...                     "is_responder": [False, True]})
    >>> curve = pd.DataFrame({"dose_gy": [0.0, 300.0], "probability": [0.1, 0.9],
    ...                       "ci_lower": [0.05, 0.8], "ci_upper": [0.2, 0.95]})
    >>> ax = plot_dose_response(pts, curve, threshold_gy=205)
    >>> ax.get_xlabel()
    'Absorbed dose (Gy)'
    """
    fn = "plot_dose_response"
    _require(df_points, [dose_col, pct_change_col], "df_points", fn)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.5))
    outcome = (df_points[response_col].astype("boolean") if response_col in df_points.columns
               else pd.Series(pd.NA, index=df_points.index, dtype="boolean"))
    groups = ((True, "responder"), (False, "non-responder"))
    for value, label in groups:
        sel = (outcome == value).fillna(False).to_numpy(dtype=bool)
        ax.scatter(df_points.loc[sel, dose_col], df_points.loc[sel, pct_change_col], s=14,
                   alpha=0.6, color=_RESPONDER_COLOURS[value], label=label, edgecolors="none")
    unknown = outcome.isna().to_numpy() & df_points[pct_change_col].notna().to_numpy()
    if unknown.any():
        ax.scatter(df_points.loc[unknown, dose_col], df_points.loc[unknown, pct_change_col],
                   s=14, alpha=0.5, color="0.6", label="not evaluable", edgecolors="none")
    if reference_pct is not None:
        ax.axhline(reference_pct, color="0.4", linestyle=":", linewidth=1)
    if threshold_gy is not None:
        ax.axvline(threshold_gy, color="0.2", linestyle="--", linewidth=1,
                   label=f"{threshold_gy:g} Gy")
    ax.set_xlabel("Absorbed dose (Gy)")
    ax.set_ylabel("Best % change from baseline")
    handles, labels = ax.get_legend_handles_labels()
    ax.right_ax = None
    if df_curve is not None:
        _require(df_curve, ["dose_gy", "probability"], "df_curve", fn)
        right = ax.twinx()
        if {"ci_lower", "ci_upper"} <= set(df_curve.columns):
            right.fill_between(df_curve["dose_gy"], df_curve["ci_lower"], df_curve["ci_upper"],
                               color="k", alpha=0.12, linewidth=0)
        (line,) = right.plot(df_curve["dose_gy"], df_curve["probability"], color="k",
                             linewidth=1.8, label="fitted P(response)")
        right.set_ylim(0, 1)
        right.set_ylabel("Probability of response")
        handles.append(line)
        labels.append(line.get_label())
        ax.right_ax = right
    ax.legend(handles, labels, loc="upper right", fontsize=8, framealpha=0.85)
    if title:
        ax.set_title(title)
    return ax


def plot_roc(
    df_curve: pd.DataFrame,
    ax=None,
    *,
    auc: float | None = None,
    auc_ci: tuple[float, float] | None = None,
    youden_threshold_gy: float | None = None,
    threshold_gy: float | None = None,
    title: str | None = None,
):
    """ROC curve of dose as a predictor, marking the Youden and a literature threshold.

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
        A pre-specified threshold (e.g. 205 Gy); marked with a square at the curve point of the
        smallest ROC threshold >= it.
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
    """
    fn = "plot_roc"
    _require(df_curve, ["fpr", "tpr", "threshold"], "df_curve", fn)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 5.0))
    label = "ROC"
    if auc is not None:
        label = f"AUC {auc:.2f}"
        if auc_ci is not None:
            label += f" ({auc_ci[0]:.2f}-{auc_ci[1]:.2f})"
    ax.plot(df_curve["fpr"], df_curve["tpr"], color="#1f77b4", linewidth=1.8, label=label,
            drawstyle="default")
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
    thresholds = df_curve["threshold"].to_numpy(dtype=float)

    def point(value):
        candidates = np.flatnonzero(thresholds >= value)
        return df_curve.iloc[candidates[-1]] if len(candidates) else df_curve.iloc[0]

    def usable(value):
        return value is not None and np.isfinite(value) and not df_curve.empty

    if df_curve.empty:
        ax.text(0.5, 0.5, "not estimable", ha="center", va="center", color="0.4")
    if usable(youden_threshold_gy):
        p = point(youden_threshold_gy)
        ax.plot(p["fpr"], p["tpr"], "o", color="#d62728", markersize=7,
                label=f"Youden {youden_threshold_gy:.0f} Gy")
    if usable(threshold_gy):
        p = point(threshold_gy)
        ax.plot(p["fpr"], p["tpr"], "s", color="0.15", markersize=6,
                label=f"{threshold_gy:g} Gy")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("Sensitivity")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_dose_by_device(
    df: pd.DataFrame,
    ax=None,
    *,
    volume_col: str = "perfused_volume_ml",
    dose_col: str = "perfused_dose_gy",
    device_col: str = "device",
    df_summary: pd.DataFrame | None = None,
    log_volume: bool = True,
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
    >>> ax.get_ylabel()
    'Perfused dose (Gy)'
    """
    fn = "plot_dose_by_device"
    _require(df, [volume_col, dose_col, device_col], "df", fn)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.5))
    devices = sorted(df[device_col].dropna().unique())
    fallback = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    medians = {}
    if df_summary is not None:
        _require(df_summary, ["device", "quantity", "median"], "df_summary", fn)
        sel = df_summary[df_summary["quantity"] == dose_col]
        medians = dict(zip(sel["device"], sel["median"], strict=True))
    for i, device in enumerate(devices):
        colour = _DEVICE_COLOURS.get(device, fallback[i % len(fallback)])
        sub = df[df[device_col] == device]
        ax.scatter(sub[volume_col], sub[dose_col], s=14, alpha=0.55, color=colour,
                   label=f"{device} (n = {len(sub)})", edgecolors="none")
        if device in medians and np.isfinite(medians[device]):
            ax.axhline(medians[device], color=colour, linestyle="--", linewidth=1)
    if log_volume:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel(_axis_label(volume_col))
    ax.set_ylabel(_axis_label(dose_col))
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax
