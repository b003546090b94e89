"""ROC curve, AUC and the Youden-optimal threshold with cluster-bootstrap CIs."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.dose_response._common import (
    _BOOTSTRAP_CHUNK,
    _NAN2,
    DEFAULT_SEED,
    _arrays_digest,
    _check_alpha,
    _check_choice,
    _check_enough,
    _check_int,
    _cluster_weights,
    _Data,
    _percentile_ci,
    _prepare,
)
from sirtstats.exceptions import SirtStatsWarning

__all__ = [
    "RocResult",
    "YoudenThreshold",
    "compute_roc",
    "compute_youden_threshold",
]


# --------------------------------------------------------------------------------------------
# ROC, AUC and the Youden threshold
# --------------------------------------------------------------------------------------------
def _weighted_roc(score_desc: np.ndarray, y_desc: np.ndarray, w: np.ndarray):
    """ROC points of B weight vectors over rows sorted by decreasing score.

    Returns (fpr, tpr, distinct thresholds); fpr/tpr are B x (k + 1) with a leading (0, 0).
    Same convention as sklearn ``roc_curve``: positive when score >= threshold.
    """
    last = np.r_[np.flatnonzero(np.diff(score_desc) != 0), len(score_desc) - 1]
    tps = np.cumsum(w * y_desc, axis=1)[:, last]
    fps = np.cumsum(w * (1 - y_desc), axis=1)[:, last]
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = tps / tps[:, [-1]]
        fpr = fps / fps[:, [-1]]
    zeros = np.zeros((w.shape[0], 1))
    return np.hstack([zeros, fpr]), np.hstack([zeros, tpr]), score_desc[last]


def _trapezoid(fpr, tpr):
    return np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)


def _bootstrap_roc(data: _Data, n_bootstrap: int, seed: int):
    """Yield (fpr, tpr, thresholds) per chunk of cluster-bootstrap replicates (NaN if 1 class)."""
    order = np.argsort(-data.dose, kind="stable")
    score, y, codes = data.dose[order], data.y[order], data.codes[order]
    for start in range(0, n_bootstrap, _BOOTSTRAP_CHUNK):
        size = min(_BOOTSTRAP_CHUNK, n_bootstrap - start)
        w = _cluster_weights(seed, codes, data.n_clusters, start, size)
        yield _weighted_roc(score, y, w)


#: The last group's bootstrap statistics: digest of (data, replicates, seed) -> (AUCs,
#: Youden thresholds); :func:`compute_roc` and :func:`compute_youden_threshold` of one group
#: (same data, seed and replicates) compute the bootstrap ROC curves once.
_ROC_STATS: dict = {}
_ROC_STATS_LOCK = threading.Lock()


def _bootstrap_roc_stats(data: _Data, n_bootstrap: int, seed: int):
    """AUC and Youden-optimal threshold (Gy) of each cluster-bootstrap replicate.

    Returns two float arrays of ``n_bootstrap``: the trapezoidal AUC (NaN for a replicate with
    one outcome class) and the dose maximising ``TPR - FPR`` (NaN for such a replicate; +inf
    when the (0, 0) corner is the optimum).
    """
    key = (_arrays_digest(data.dose, data.y, data.codes), data.n_clusters, int(n_bootstrap),
           int(seed))
    with _ROC_STATS_LOCK:
        if key in _ROC_STATS:
            aucs, youden = _ROC_STATS[key]
            return aucs.copy(), youden.copy()
    aucs, youden = [], []
    for f, t, distinct in _bootstrap_roc(data, n_bootstrap, seed):
        aucs.append(_trapezoid(f, t))
        j = t - f
        valid = np.isfinite(j).all(1)
        idx = np.argmax(np.where(np.isfinite(j), j, -np.inf), axis=1)
        # column 0 is the (0, 0) corner (threshold +inf); column i is distinct[i - 1]
        values = np.where(idx > 0, distinct[np.maximum(idx - 1, 0)], np.inf)
        youden.append(np.where(valid, values, np.nan))
    aucs, youden = np.concatenate(aucs), np.concatenate(youden)
    with _ROC_STATS_LOCK:
        _ROC_STATS.clear()
        _ROC_STATS[key] = (aucs, youden)
    return aucs.copy(), youden.copy()


@dataclass(frozen=True)
class RocResult:
    """Result of :func:`compute_roc`.

    Attributes
    ----------
    curve : DataFrame
        ``fpr``, ``tpr`` (0-1) and ``threshold`` (dose, Gy; the first row is +inf), from
        :func:`sklearn.metrics.roc_curve`.
    auc, auc_ci : float, tuple of float
        Area under the curve and its cluster-bootstrap percentile CI.
    n_obs, n_events, n_clusters, n_excluded : int
        Rows used, events, clusters, rows excluded for missing values.
    n_bootstrap, n_bootstrap_failed : int
        Replicates drawn, and those with one outcome class only (left out).
    alpha : float
        1 - confidence level.
    dose_col, response_col : str
        Columns analysed.
    """

    curve: pd.DataFrame
    auc: float
    auc_ci: tuple[float, float]
    n_obs: int
    n_events: int
    n_clusters: int
    n_excluded: int
    n_bootstrap: int
    n_bootstrap_failed: int
    alpha: float
    dose_col: str
    response_col: str

    def to_frame(self) -> pd.DataFrame:
        """One-row summary: ``auc``, ``ci_lower``, ``ci_upper``, counts.

        Returns
        -------
        DataFrame
            One row.
        """
        return pd.DataFrame([{
            "dose_col": self.dose_col, "response_col": self.response_col, "auc": self.auc,
            "ci_lower": self.auc_ci[0], "ci_upper": self.auc_ci[1], "n_obs": self.n_obs,
            "n_events": self.n_events, "n_clusters": self.n_clusters,
            "n_excluded": self.n_excluded, "n_bootstrap": self.n_bootstrap,
        }])

    def _repr_html_(self) -> str:
        return (f"<p><b>RocResult</b>: AUC {self.auc:.3f} "
                f"({round(100 * (1 - self.alpha))} % CI {self.auc_ci[0]:.3f}-"
                f"{self.auc_ci[1]:.3f}), {self.n_obs} rows, {self.n_clusters} clusters.</p>")


def compute_roc(
    df: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    response_col: str = "is_responder",
    cluster_col: str | None = "patient_id",
    n_bootstrap: int = 1000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
    check_type: Literal["error", "warning"] = "error",
) -> RocResult:
    """ROC curve of dose as a predictor of response, with a cluster-bootstrap CI for the AUC.

    Parameters
    ----------
    df : DataFrame
        One row per lesion (or patient): dose (float, Gy), binary outcome, cluster id.
    dose_col : str, default "absorbed_dose_gy"
        Predictor; higher values predict the outcome.
    response_col : str, default "is_responder"
        Binary outcome.
    cluster_col : str or None, default "patient_id"
        Resampling unit of the bootstrap; None resamples rows.
    n_bootstrap : int, default 1000
        Bootstrap replicates.
    seed : int, default 20261127
        Seed of the bootstrap.
    alpha : float, default 0.05
        1 - confidence level.
    check_type : {"error", "warning"}, default "error"
        An outcome with a single class (no events, or only events) raises, or warns and
        returns NaN estimates (for reports that must run on small subgroups).

    Returns
    -------
    RocResult
        Curve, AUC (:func:`sklearn.metrics.roc_auc_score`) and percentile CI.

    Raises
    ------
    ValueError
        For invalid arguments.
    SirtDataError
        As :func:`fit_dose_response`.

    Warns
    -----
    SirtStatsWarning
        Few events or clusters; replicates with a single outcome class.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P3"],
    ...                    "absorbed_dose_gy": [50.0, 300.0, 120.0, 80.0],
    ...                    "is_responder": [False, True, True, False]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     roc = compute_roc(df, n_bootstrap=50)
    >>> roc.auc
    1.0
    """
    fn = "compute_roc"
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", fn, minimum=1)
    seed = _check_int(seed, "seed", fn, minimum=0)
    alpha = _check_alpha(alpha, fn)
    check_type = _check_choice(check_type, ("error", "warning"), "check_type", fn)
    data = _prepare(df, dose_col, response_col, cluster_col, fn)
    if not _check_enough(data, fn, check_type):
        return RocResult(
            curve=pd.DataFrame({"fpr": [], "tpr": [], "threshold": []}, dtype=float),
            auc=np.nan, auc_ci=_NAN2, n_obs=len(data.y), n_events=int(data.y.sum()),
            n_clusters=data.n_clusters, n_excluded=data.n_excluded, n_bootstrap=n_bootstrap,
            n_bootstrap_failed=0, alpha=alpha, dose_col=dose_col, response_col=response_col,
        )
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, thr = roc_curve(data.y, data.dose)
    auc = float(roc_auc_score(data.y, data.dose))
    aucs = _bootstrap_roc_stats(data, n_bootstrap, seed)[0]
    n_failed = int((~np.isfinite(aucs)).sum())
    if n_failed:
        warnings.warn(f"{fn}: {n_failed} of {n_bootstrap} bootstrap replicates had a single "
                      f"outcome class and were left out.", SirtStatsWarning, stacklevel=2)
    return RocResult(
        curve=pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr}),
        auc=auc, auc_ci=_percentile_ci(aucs, alpha), n_obs=len(data.y),
        n_events=int(data.y.sum()), n_clusters=data.n_clusters, n_excluded=data.n_excluded,
        n_bootstrap=n_bootstrap, n_bootstrap_failed=n_failed, alpha=alpha, dose_col=dose_col,
        response_col=response_col,
    )


@dataclass(frozen=True)
class YoudenThreshold:
    """Result of :func:`compute_youden_threshold`.

    Attributes
    ----------
    threshold_gy : float
        Dose maximising ``sensitivity + specificity - 1``; "dose >= threshold" predicts the
        outcome. It is an observed dose (the highest one among ties).
    threshold_ci : tuple of float
        Cluster-bootstrap percentile CI of the threshold, Gy.
    sensitivity, specificity, youden_j : float
        At the threshold (0-1).
    n_obs, n_events, n_clusters, n_excluded, n_bootstrap, n_bootstrap_failed : int
        Counts, as in :class:`RocResult`.
    alpha : float
        1 - confidence level.
    dose_col, response_col : str
        Columns analysed.
    """

    threshold_gy: float
    threshold_ci: tuple[float, float]
    sensitivity: float
    specificity: float
    youden_j: float
    n_obs: int
    n_events: int
    n_clusters: int
    n_excluded: int
    n_bootstrap: int
    n_bootstrap_failed: int
    alpha: float
    dose_col: str
    response_col: str

    def to_frame(self) -> pd.DataFrame:
        """One-row summary of the threshold, its CI, sensitivity and specificity.

        Returns
        -------
        DataFrame
            One row.
        """
        return pd.DataFrame([{
            "dose_col": self.dose_col, "response_col": self.response_col,
            "threshold_gy": self.threshold_gy, "ci_lower": self.threshold_ci[0],
            "ci_upper": self.threshold_ci[1], "sensitivity": self.sensitivity,
            "specificity": self.specificity, "youden_j": self.youden_j, "n_obs": self.n_obs,
            "n_events": self.n_events, "n_clusters": self.n_clusters,
            "n_bootstrap": self.n_bootstrap,
        }])

    def _repr_html_(self) -> str:
        return (f"<p><b>YoudenThreshold</b>: {self.threshold_gy:.4g} Gy "
                f"({round(100 * (1 - self.alpha))} % CI {self.threshold_ci[0]:.4g}-"
                f"{self.threshold_ci[1]:.4g}); sensitivity {self.sensitivity:.3f}, "
                f"specificity {self.specificity:.3f}.</p>")


def compute_youden_threshold(
    df: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    response_col: str = "is_responder",
    cluster_col: str | None = "patient_id",
    n_bootstrap: int = 1000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
    check_type: Literal["error", "warning"] = "error",
) -> YoudenThreshold:
    """Youden-optimal dose threshold with a cluster-bootstrap CI.

    Parameters
    ----------
    df : DataFrame
        One row per lesion (or patient): dose (float, Gy), binary outcome, cluster id.
    dose_col : str, default "absorbed_dose_gy"
        Dose column, Gy.
    response_col : str, default "is_responder"
        Binary outcome.
    cluster_col : str or None, default "patient_id"
        Resampling unit; None resamples rows.
    n_bootstrap : int, default 1000
        Bootstrap replicates.
    seed : int, default 20261127
        Seed of the bootstrap.
    alpha : float, default 0.05
        1 - confidence level.
    check_type : {"error", "warning"}, default "error"
        An outcome with a single class (no events, or only events) raises, or warns and
        returns NaN estimates (for reports that must run on small subgroups).

    Returns
    -------
    YoudenThreshold
        Threshold (Gy), CI, sensitivity, specificity, J.

    Raises
    ------
    ValueError
        For invalid arguments.
    SirtDataError
        As :func:`fit_dose_response`.

    Warns
    -----
    SirtStatsWarning
        Few events or clusters; replicates with a single outcome class.

    Notes
    -----
    ``J(t) = TPR(t) - FPR(t)`` over the ROC points of :func:`sklearn.metrics.roc_curve`
    (positive when dose >= t); ties are broken towards the higher dose. The optimum of a noisy
    curve is itself noisy: report the CI with the point estimate, and prefer pre-specified
    literature thresholds for inference (Youden, Cancer 1950;3:32-35).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P3"],
    ...                    "absorbed_dose_gy": [50.0, 300.0, 120.0, 80.0],
    ...                    "is_responder": [False, True, True, False]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     yt = compute_youden_threshold(df, n_bootstrap=50)
    >>> yt.threshold_gy, yt.sensitivity, yt.specificity
    (120.0, 1.0, 1.0)
    """
    fn = "compute_youden_threshold"
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", fn, minimum=1)
    seed = _check_int(seed, "seed", fn, minimum=0)
    alpha = _check_alpha(alpha, fn)
    check_type = _check_choice(check_type, ("error", "warning"), "check_type", fn)
    data = _prepare(df, dose_col, response_col, cluster_col, fn)
    if not _check_enough(data, fn, check_type):
        return YoudenThreshold(
            threshold_gy=np.nan, threshold_ci=_NAN2, sensitivity=np.nan, specificity=np.nan,
            youden_j=np.nan, n_obs=len(data.y), n_events=int(data.y.sum()),
            n_clusters=data.n_clusters, n_excluded=data.n_excluded, n_bootstrap=n_bootstrap,
            n_bootstrap_failed=0, alpha=alpha, dose_col=dose_col, response_col=response_col,
        )
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(data.y, data.dose, drop_intermediate=False)
    best = int(np.argmax(tpr - fpr))
    boot = _bootstrap_roc_stats(data, n_bootstrap, seed)[1]
    n_failed = int(np.isnan(boot).sum())
    if n_failed:
        warnings.warn(f"{fn}: {n_failed} of {n_bootstrap} bootstrap replicates had a single "
                      f"outcome class and were left out.", SirtStatsWarning, stacklevel=2)
    return YoudenThreshold(
        threshold_gy=float(thr[best]), threshold_ci=_percentile_ci(boot, alpha),
        sensitivity=float(tpr[best]), specificity=float(1 - fpr[best]),
        youden_j=float(tpr[best] - fpr[best]), n_obs=len(data.y), n_events=int(data.y.sum()),
        n_clusters=data.n_clusters, n_excluded=data.n_excluded, n_bootstrap=n_bootstrap,
        n_bootstrap_failed=n_failed, alpha=alpha, dose_col=dose_col, response_col=response_col,
    )


