"""Curves, ROC curves and metrics of the per-device dose-response summary (M2.6).

Part of :mod:`sirtstats.dose_response` (import from there); each estimate stays within one
device and one criterion (docs/rules/dosimetry.md, M2.6).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sirtstats.dose_response._by_device import (
    _complete,
    _groups,
)
from sirtstats.dose_response._common import (
    _check_alpha,
    _check_int,
    _require_columns,
)
from sirtstats.dose_response._logistic import compute_dose_response_curve, fit_dose_response
from sirtstats.dose_response._roc import compute_roc
from sirtstats.exceptions import SirtStatsWarning

__all__ = [
    "compute_dose_response_curves_by_device",
    "compute_roc_curves_by_device",
    "summarise_device_metrics",
]


def compute_dose_response_curves_by_device(
    df: pd.DataFrame,
    df_summary: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    response_col: str = "is_responder",
    device_col: str = "device",
    criterion_col: str = "criterion",
    cluster_col: str | None = "patient_id",
    n_points: int = 101,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Fitted response probability (GEE) on a dose grid, per estimable device and criterion.

    Parameters
    ----------
    df : DataFrame
        As for :func:`summarise_dose_response_by_device`.
    df_summary : DataFrame
        :func:`summarise_dose_response_by_device` output: only its estimable groups get a
        curve.
    dose_col, response_col, device_col, criterion_col, cluster_col : str
        Columns of ``df``.
    n_points : int, default 101
        Grid points per group, log-spaced between the group's smallest (at least 1 Gy) and
        largest dose: the curve is drawn on a log dose axis, within the observed doses.
    alpha : float, default 0.05
        1 - confidence level of the pointwise band.

    Returns
    -------
    DataFrame
        ``device``, ``criterion``, ``dose_gy`` (Gy), ``probability``, ``ci_lower``,
        ``ci_upper`` (0-1; :func:`compute_dose_response_curve`).

    Raises
    ------
    ValueError
        For invalid arguments.
    SirtDataError
        For missing columns.
    """
    fn = "compute_dose_response_curves_by_device"
    _require_columns(df_summary, ["device", "criterion", "is_estimable"], fn)
    n_points = _check_int(n_points, "n_points", fn, minimum=2)
    alpha = _check_alpha(alpha, fn)
    frames = []
    estimable = df_summary[df_summary["is_estimable"].astype(bool)]
    for device, criterion, sub in _groups(df, device_col, criterion_col, None, None):
        if not ((estimable["device"] == device) & (estimable["criterion"] == criterion)).any():
            continue
        complete = _complete(sub, dose_col, response_col, cluster_col)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SirtStatsWarning)  # reported by the summary
            fit = fit_dose_response(complete, dose_col=dose_col, response_col=response_col,
                                    cluster_col=cluster_col, alpha=alpha, check_type="warning")
        low, high = fit.dose_range_gy
        grid = np.geomspace(max(low, 1.0), max(high, low, 1.0) + 1e-9, n_points)
        curve = compute_dose_response_curve(fit, doses=grid)
        frames.append(curve.assign(device=device, criterion=criterion))
    columns = ["device", "criterion", "dose_gy", "probability", "ci_lower", "ci_upper"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def compute_roc_curves_by_device(
    df: pd.DataFrame,
    df_summary: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    response_col: str = "is_responder",
    device_col: str = "device",
    criterion_col: str = "criterion",
    cluster_col: str | None = "patient_id",
) -> pd.DataFrame:
    """ROC curve points of dose as a predictor of response, per estimable device and criterion.

    Parameters
    ----------
    df : DataFrame
        As for :func:`summarise_dose_response_by_device`.
    df_summary : DataFrame
        :func:`summarise_dose_response_by_device` output: only its estimable groups get a
        curve.
    dose_col, response_col, device_col, criterion_col, cluster_col : str
        Columns of ``df``.

    Returns
    -------
    DataFrame
        ``device``, ``criterion``, ``fpr``, ``tpr`` (0-1), ``threshold`` (Gy; +inf first), as
        :attr:`RocResult.curve` (:func:`sklearn.metrics.roc_curve`).

    Raises
    ------
    SirtDataError
        For missing columns.
    """
    fn = "compute_roc_curves_by_device"
    _require_columns(df_summary, ["device", "criterion", "is_estimable"], fn)
    estimable = df_summary[df_summary["is_estimable"].astype(bool)]
    frames = []
    for device, criterion, sub in _groups(df, device_col, criterion_col, None, None):
        if not ((estimable["device"] == device) & (estimable["criterion"] == criterion)).any():
            continue
        complete = _complete(sub, dose_col, response_col, cluster_col)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SirtStatsWarning)
            roc = compute_roc(complete, dose_col=dose_col, response_col=response_col,
                              cluster_col=cluster_col, n_bootstrap=1, check_type="warning")
        frames.append(roc.curve.assign(device=device, criterion=criterion))
    columns = ["device", "criterion", "fpr", "tpr", "threshold"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def summarise_device_metrics(
    df: pd.DataFrame,
    *,
    columns: Sequence[str] = ("n_lesions", "n_events", "auc", "d50_gy", "threshold_gy",
                              "rate_below", "rate_above"),
    criterion_col: str = "criterion",
) -> dict:
    """Key numbers of :func:`summarise_dose_response_by_device` as ``{device: {criterion: ...}}``.

    Parameters
    ----------
    df : DataFrame
        :func:`summarise_dose_response_by_device` output.
    columns : sequence of str
        Columns to keep.
    criterion_col : str, default "criterion"
        Second key column.

    Returns
    -------
    dict
        Nested dict (JSON-ready once NaN is mapped to null by
        :func:`sirtstats.outputs.save_metrics`), devices and criteria in frame order.

    Raises
    ------
    SirtDataError
        If a column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"device": ["Y90_glass"], "criterion": ["mRECIST"], "auc": [0.9]})
    >>> summarise_device_metrics(df, columns=["auc"])
    {'Y90_glass': {'mRECIST': {'auc': 0.9}}}
    """
    fn = "summarise_device_metrics"
    _require_columns(df, ["device", criterion_col, *columns], fn)
    out: dict = {}
    for row in df.to_dict("records"):
        values = {c: (v.item() if isinstance(v, np.generic) else v)
                  for c, v in ((c, row[c]) for c in columns)}
        out.setdefault(str(row["device"]), {})[str(row[criterion_col])] = values
    return out
