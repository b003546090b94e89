"""Logistic dose-response with clustered CIs (GEE, cluster bootstrap) and the fitted curve."""

from __future__ import annotations

import html
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from sirtstats.dose_response._common import (
    _BOOTSTRAP_CHUNK,
    _IRLS_MAX_ITER,
    _IRLS_TOL,
    _NAN2,
    _SEPARATION_BOUND,
    DEFAULT_SEED,
    _arrays_digest,
    _check_alpha,
    _check_choice,
    _check_enough,
    _check_int,
    _cluster_weights,
    _percentile_ci,
    _prepare,
    _range,
)
from sirtstats.exceptions import SirtStatsWarning

__all__ = [
    "DoseResponseFit",
    "compute_dose_response_curve",
    "fit_dose_response",
]


# --------------------------------------------------------------------------------------------
# logistic dose-response
# --------------------------------------------------------------------------------------------
def _irls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted logistic ML fits of y on (1, x) for each row of ``w`` (B x n); returns B x 2.

    Newton-Raphson on closed-form 2x2 systems; NaN rows for non-convergence or separation.
    """
    b = np.zeros((w.shape[0], 2))
    converged = np.zeros(w.shape[0], dtype=bool)
    for _ in range(_IRLS_MAX_ITER):
        p = expit(b[:, [0]] + b[:, [1]] * x)
        r = w * (y - p)
        g0, g1 = r.sum(1), (r * x).sum(1)
        v = w * p * (1 - p)
        h00, h01, h11 = v.sum(1), (v * x).sum(1), (v * x * x).sum(1)
        det = h00 * h11 - h01**2
        with np.errstate(divide="ignore", invalid="ignore"):
            s0 = (h11 * g0 - h01 * g1) / det
            s1 = (h00 * g1 - h01 * g0) / det
        step = np.column_stack([s0, s1])
        step[converged] = 0.0
        b = b + np.nan_to_num(step, nan=0.0)
        bad = ~np.isfinite(step).all(1) | (np.abs(b) > _SEPARATION_BOUND).any(1)
        b[bad] = np.nan
        converged |= (np.abs(step) < _IRLS_TOL).all(1) | bad
        if converged.all():
            break
    b[~converged] = np.nan
    return b


#: GEE fits last made: digest of the inputs -> (results, non-finite fits); a few entries.
_GEE_FITS: OrderedDict = OrderedDict()
_GEE_FITS_MAX = 8
_GEE_LOCK = threading.Lock()


def _fit_gee(y: np.ndarray, xs: np.ndarray, codes: np.ndarray, clustered: bool,
             jac: np.ndarray):
    """statsmodels GEE (binomial, logit) of ``y`` on ``xs`` in clusters ``codes``.

    Exchangeable working correlation when ``clustered`` (independence if that does not give
    finite estimates ``jac @ params``), independence otherwise. Returns (results, number of
    fits whose estimates were not finite: each is warned about by the caller).

    The fit is a deterministic function of its inputs: the last :data:`_GEE_FITS_MAX` fits
    are kept under a digest of the inputs and returned again (the same results object) for
    the same data, e.g. when the per-device curves refit the per-device summary's groups.
    """
    import statsmodels.api as sm

    key = (_arrays_digest(y, xs, codes, jac), bool(clustered))
    with _GEE_LOCK:
        if key in _GEE_FITS:
            _GEE_FITS.move_to_end(key)
            return _GEE_FITS[key]
    structures = [sm.cov_struct.Exchangeable] if clustered else []
    n_failed = 0
    for structure in [*structures, sm.cov_struct.Independence]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels chatter; the result is checked
            model = sm.GEE(y, xs, groups=codes, family=sm.families.Binomial(),
                           cov_struct=structure()).fit()
        if np.isfinite(jac @ np.asarray(model.params, dtype=float)).all():
            break
        n_failed += 1
    with _GEE_LOCK:
        _GEE_FITS[key] = (model, n_failed)
        while len(_GEE_FITS) > _GEE_FITS_MAX:
            _GEE_FITS.popitem(last=False)
    return model, n_failed


@dataclass(frozen=True)
class DoseResponseFit:
    """Result of :func:`fit_dose_response`.

    Attributes
    ----------
    method : str
        ``"gee"`` or ``"cluster_bootstrap"``.
    intercept, slope_per_gy : float
        ``b0`` and ``b1`` of ``logit P = b0 + b1 * dose`` (b1 in 1/Gy).
    intercept_ci, slope_ci : tuple of float
        Confidence intervals (robust normal for GEE, percentile for the bootstrap).
    d50_gy, d50_ci : float, tuple of float
        ``-b0 / b1`` in Gy and its CI (delta method for GEE, percentile for the bootstrap).
    covariance : ndarray
        2 x 2 covariance of (b0, b1): robust sandwich (GEE) or of the bootstrap replicates.
    n_obs, n_events, n_clusters, n_excluded : int
        Rows used, events among them, clusters, rows excluded for a missing dose, outcome or
        cluster.
    alpha : float
        1 - confidence level.
    dose_col, response_col : str
        Columns analysed.
    dose_range_gy : tuple of float
        Smallest and largest dose analysed.
    bootstrap : DataFrame or None
        Replicate coefficients ``intercept``, ``slope_per_gy`` (cluster bootstrap only).
    n_bootstrap_failed : int
        Replicates without a finite ML fit (separation), left out of the CIs.
    model : object or None
        The statsmodels results object (GEE or GLM) of the point estimate.
    """

    method: str
    intercept: float
    slope_per_gy: float
    intercept_ci: tuple[float, float]
    slope_ci: tuple[float, float]
    d50_gy: float
    d50_ci: tuple[float, float]
    covariance: np.ndarray
    n_obs: int
    n_events: int
    n_clusters: int
    n_excluded: int
    alpha: float
    dose_col: str
    response_col: str
    dose_range_gy: tuple[float, float]
    bootstrap: pd.DataFrame | None = None
    n_bootstrap_failed: int = 0
    model: object = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """Tidy estimates: one row per parameter.

        Returns
        -------
        DataFrame
            ``parameter`` (intercept, slope_per_gy, odds_ratio_per_100gy, d50_gy),
            ``estimate``, ``ci_lower``, ``ci_upper`` (float), ``method``, ``n_obs``,
            ``n_events``, ``n_clusters``, ``n_excluded``.
        """
        rows = [
            ("intercept", self.intercept, *self.intercept_ci),
            ("slope_per_gy", self.slope_per_gy, *self.slope_ci),
            ("odds_ratio_per_100gy", np.exp(100 * self.slope_per_gy),
             *np.exp(100 * np.asarray(self.slope_ci))),
            ("d50_gy", self.d50_gy, *self.d50_ci),
        ]
        out = pd.DataFrame(rows, columns=["parameter", "estimate", "ci_lower", "ci_upper"])
        for name in ("method", "n_obs", "n_events", "n_clusters", "n_excluded"):
            out[name] = getattr(self, name)
        return out

    def _repr_html_(self) -> str:
        level = round(100 * (1 - self.alpha))
        head = (
            f"<p><b>DoseResponseFit</b> ({html.escape(self.method)}): "
            f"{html.escape(self.response_col)} ~ {html.escape(self.dose_col)}; "
            f"{self.n_obs} rows in {self.n_clusters} clusters, {self.n_events} events, "
            f"{self.n_excluded} excluded; {level} % CIs.</p>"
        )
        return head + self.to_frame().iloc[:, :4].to_html(index=False, float_format="%.4g")


def fit_dose_response(
    df: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    response_col: str = "is_responder",
    cluster_col: str | None = "patient_id",
    method: Literal["gee", "cluster_bootstrap"] = "gee",
    n_bootstrap: int = 1000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
    check_type: Literal["error", "warning"] = "error",
) -> DoseResponseFit:
    """Logistic regression of a binary outcome on absorbed dose, with clustered CIs.

    Parameters
    ----------
    df : DataFrame
        One row per lesion (or patient) with the dose column (float, Gy, >= 0), the outcome
        column (bool or 0/1) and the cluster column (str, e.g. ``patient_id``).
    dose_col : str, default "absorbed_dose_gy"
        Dose column, Gy.
    response_col : str, default "is_responder"
        Binary outcome (objective response, or a toxicity such as grade >= 3 bilirubin).
    cluster_col : str or None, default "patient_id"
        Cluster of correlated rows; None treats rows as independent (patient-level data).
    method : {"gee", "cluster_bootstrap"}, default "gee"
        ``"gee"``: statsmodels GEE, binomial/logit, exchangeable working correlation
        (independence when ``cluster_col`` is None), robust covariance, normal CIs; D50 CI by the
        delta method. ``"cluster_bootstrap"``: ML logistic fit (statsmodels GLM) with percentile
        CIs from ``n_bootstrap`` resamples of whole clusters.
    n_bootstrap : int, default 1000
        Bootstrap replicates (``"cluster_bootstrap"`` only).
    seed : int, default 20261127
        Seed of the bootstrap.
    alpha : float, default 0.05
        1 - confidence level.
    check_type : {"error", "warning"}, default "error"
        An outcome with a single class (no events, or only events) raises, or warns and
        returns NaN estimates (for reports that must run on small subgroups).

    Returns
    -------
    DoseResponseFit
        Coefficients, D50 and CIs; ``.to_frame()`` gives a tidy table.

    Raises
    ------
    ValueError
        For invalid arguments.
    SirtDataError
        For missing columns, a negative dose, a non-binary outcome, or an outcome with one
        class only.

    Warns
    -----
    SirtStatsWarning
        Fewer than 10 events or non-events, fewer than 20 clusters, a slope CI that includes 0
        (D50 then undefined: its CI is not reported), or failed bootstrap replicates.

    See Also
    --------
    compute_dose_response_curve : fitted probability and pointwise CI on a dose grid.

    Notes
    -----
    GEE estimates the population-averaged (marginal) dose effect. With a patient-level random
    effect in the data-generating process, marginal slopes are smaller in magnitude than
    conditional ones; D50 is unaffected when the random effect is centred. The delta-method
    D50 CI uses the gradient ``(-1/b1, b0/b1**2)``; Fieller's interval would be preferable when
    the slope is imprecise.

    References
    ----------
    Liang KY, Zeger SL. Longitudinal data analysis using generalized linear models. Biometrika
    1986;73:13-22. Davison AC, Hinkley DV. Bootstrap methods and their application. 1997.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P3", "P3", "P4"],
    ...                    "absorbed_dose_gy": [50.0, 300.0, 120.0, 80.0, 250.0, 200.0],
    ...                    "is_responder": [False, True, True, False, True, False]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fit = fit_dose_response(df)
    >>> fit.n_obs, fit.n_clusters, fit.slope_per_gy > 0
    (6, 4, True)
    """
    fn = "fit_dose_response"
    method = _check_choice(method, ("gee", "cluster_bootstrap"), "method", fn)
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", fn, minimum=1)
    seed = _check_int(seed, "seed", fn, minimum=0)
    alpha = _check_alpha(alpha, fn)
    check_type = _check_choice(check_type, ("error", "warning"), "check_type", fn)
    data = _prepare(df, dose_col, response_col, cluster_col, fn)
    if not _check_enough(data, fn, check_type):
        return DoseResponseFit(
            method=method, intercept=np.nan, slope_per_gy=np.nan, intercept_ci=_NAN2,
            slope_ci=_NAN2, d50_gy=np.nan, d50_ci=_NAN2, covariance=np.full((2, 2), np.nan),
            n_obs=len(data.y), n_events=int(data.y.sum()), n_clusters=data.n_clusters,
            n_excluded=data.n_excluded, alpha=alpha, dose_col=dose_col,
            response_col=response_col, dose_range_gy=_range(data.dose),
        )
    import statsmodels.api as sm

    x = np.column_stack([np.ones(len(data.dose)), data.dose])
    z = stats.norm.ppf(1 - alpha / 2)
    boot = None
    n_failed = 0
    if method == "gee":
        # fitted on the standardised dose for numerical stability, then transformed back
        mean, sd = data.dose.mean(), data.dose.std() or 1.0
        xs = np.column_stack([np.ones(len(data.dose)), (data.dose - mean) / sd])
        jac = np.array([[1.0, -mean / sd], [0.0, 1.0 / sd]])
        model, n_nonfinite = _fit_gee(data.y, xs, data.codes, cluster_col is not None, jac)
        params = jac @ np.asarray(model.params, dtype=float)
        for _ in range(n_nonfinite):
            warnings.warn(
                f"{fn}: GEE with an exchangeable working correlation did not converge (too few "
                f"clusters with several rows); refitted with an independence working "
                f"correlation (robust SEs still account for clustering).",
                SirtStatsWarning,
                stacklevel=2,
            )
        cov = jac @ np.asarray(model.cov_params(), dtype=float) @ jac.T
        se = np.sqrt(np.diag(cov))
        b_ci = [(params[i] - z * se[i], params[i] + z * se[i]) for i in range(2)]
        b0, b1 = params
        grad = np.array([-1.0 / b1, b0 / b1**2])
        d50_se = float(np.sqrt(grad @ cov @ grad))
        d50 = -b0 / b1
        d50_ci = (d50 - z * d50_se, d50 + z * d50_se)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.GLM(data.y, x, family=sm.families.Binomial()).fit()
        params = np.asarray(model.params, dtype=float)
        b0, b1 = params
        d50 = -b0 / b1
        mean, sd = data.dose.mean(), data.dose.std() or 1.0
        xs = (data.dose - mean) / sd
        coefs = []
        for start in range(0, n_bootstrap, _BOOTSTRAP_CHUNK):
            size = min(_BOOTSTRAP_CHUNK, n_bootstrap - start)
            w = _cluster_weights(seed, data.codes, data.n_clusters, start, size)
            bs = _irls(xs, data.y, w)
            coefs.append(np.column_stack([bs[:, 0] - bs[:, 1] * mean / sd, bs[:, 1] / sd]))
        coefs = np.vstack(coefs)
        ok = np.isfinite(coefs).all(1)
        n_failed = int((~ok).sum())
        boot = pd.DataFrame(coefs, columns=["intercept", "slope_per_gy"])
        good = coefs[ok]
        cov = np.cov(good.T) if len(good) > 1 else np.full((2, 2), np.nan)
        b_ci = [_percentile_ci(good[:, i], alpha) for i in range(2)]
        with np.errstate(divide="ignore", invalid="ignore"):
            d50_ci = _percentile_ci(-good[:, 0] / good[:, 1], alpha)
        if n_failed:
            warnings.warn(
                f"{fn}: {n_failed} of {n_bootstrap} bootstrap replicates had no finite ML fit "
                f"(complete separation); they are left out of the CIs.",
                SirtStatsWarning,
                stacklevel=2,
            )
    if not b_ci[1][0] > 0 and not b_ci[1][1] < 0:
        warnings.warn(
            f"{fn}: the slope CI ({b_ci[1][0]:.3g}, {b_ci[1][1]:.3g}) per Gy includes 0; D50 is "
            f"not identified and its CI is not reported.",
            SirtStatsWarning,
            stacklevel=2,
        )
        d50_ci = (np.nan, np.nan)
    return DoseResponseFit(
        method=method,
        intercept=float(b0),
        slope_per_gy=float(b1),
        intercept_ci=tuple(float(v) for v in b_ci[0]),
        slope_ci=tuple(float(v) for v in b_ci[1]),
        d50_gy=float(d50),
        d50_ci=tuple(float(v) for v in d50_ci),
        covariance=cov,
        n_obs=len(data.y),
        n_events=int(data.y.sum()),
        n_clusters=data.n_clusters,
        n_excluded=data.n_excluded,
        alpha=alpha,
        dose_col=dose_col,
        response_col=response_col,
        dose_range_gy=_range(data.dose),
        bootstrap=boot,
        n_bootstrap_failed=n_failed,
        model=model,
    )


def compute_dose_response_curve(
    fit: DoseResponseFit, *, doses: Sequence[float] | np.ndarray | None = None,
    n_points: int = 101,
) -> pd.DataFrame:
    """Fitted response probability with a pointwise CI on a dose grid.

    Parameters
    ----------
    fit : DoseResponseFit
        Result of :func:`fit_dose_response`.
    doses : array-like, optional
        Doses in Gy; default ``n_points`` evenly spaced from 0 to the largest dose analysed.
    n_points : int, default 101
        Grid size when ``doses`` is None.

    Returns
    -------
    DataFrame
        ``dose_gy``, ``probability``, ``ci_lower``, ``ci_upper`` (float, 0-1): for GEE the
        Wald interval on the logit scale (robust covariance) transformed back; for the
        bootstrap the percentiles of the replicate curves.

    Raises
    ------
    ValueError
        For a ``fit`` that is not a DoseResponseFit, or ``n_points`` < 2.

    Examples
    --------
    >>> import numpy as np
    >>> fit = DoseResponseFit("gee", -3.6, 0.03, (-4, -3), (0.02, 0.04), 120.0, (100, 140),
    ...                       np.diag([0.04, 1e-5]), 100, 50, 40, 0, 0.05, "absorbed_dose_gy",
    ...                       "is_responder", (0.0, 400.0))
    >>> round(compute_dose_response_curve(fit, doses=[120.0])["probability"].item(), 6)
    0.5
    """
    fn = "compute_dose_response_curve"
    if not isinstance(fit, DoseResponseFit):
        raise ValueError(f"The 'fit' argument of {fn} must be a DoseResponseFit. "
                         f"Got {type(fit).__name__} instead.")
    if doses is None:
        n_points = _check_int(n_points, "n_points", fn, minimum=2)
        grid = np.linspace(0.0, max(fit.dose_range_gy[1], 1.0), n_points)
    else:
        grid = np.asarray(doses, dtype=float).ravel()
    eta = fit.intercept + fit.slope_per_gy * grid
    if fit.bootstrap is not None:
        b = fit.bootstrap.dropna().to_numpy()
        curves = expit(b[:, [0]] + b[:, [1]] * grid)
        low, high = np.percentile(curves, [100 * fit.alpha / 2, 100 * (1 - fit.alpha / 2)],
                                  axis=0)
    else:
        z = stats.norm.ppf(1 - fit.alpha / 2)
        xg = np.column_stack([np.ones_like(grid), grid])
        se = np.sqrt(np.einsum("ij,jk,ik->i", xg, fit.covariance, xg))
        low, high = expit(eta - z * se), expit(eta + z * se)
    return pd.DataFrame({"dose_gy": grid, "probability": expit(eta), "ci_lower": low,
                         "ci_upper": high})


