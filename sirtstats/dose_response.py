"""Dose-response statistics: absorbed dose against tumour response or toxicity.

Lesion-level analyses have several lesions per patient, so every confidence interval here
respects that clustering: the logistic model is fitted by GEE with an exchangeable working
correlation and robust (sandwich) standard errors (Liang & Zeger, Biometrika 1986), or by
maximum likelihood with a cluster (patient) bootstrap; the ROC AUC, the Youden-optimal
threshold and above/below-threshold response rates get cluster-bootstrap percentile CIs
(Davison & Hinkley 1997, section 3.8: resampling whole clusters). Every random step takes a
``seed`` and uses its own ``numpy.random.Generator``.

Model: ``logit P(response) = b0 + b1 * dose``; the dose giving a 50 % response probability is
``D50 = -b0 / b1`` (CI by the delta method for GEE, by bootstrap percentiles otherwise); the
demo registry's truth is written ``logit P = slope * (dose - d50)``, i.e. ``b1 = slope`` and
``b0 = -slope * d50``.

Response definitions follow RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009) and mRECIST
(Lencioni & Llovet, Semin Liver Dis 2010) as derived by :mod:`sirtstats.response`; literature
thresholds (205 Gy glass HCC, DOSISPHERE-01; 100-120 Gy resin) are in
:data:`sirtstats.dosimetry.LITERATURE_DOSE_THRESHOLDS`.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from sirtstats.exceptions import SirtDataError, SirtStatsWarning

__all__ = [
    "DEFAULT_SEED",
    "LESION_DOSE_RESPONSE_COLUMNS",
    "THRESHOLD_SUMMARY_COLUMNS",
    "TOXICITY_OUTCOME_COLUMNS",
    "DoseGroupSurvival",
    "DoseResponseFit",
    "RESPONDER_CODES",
    "RocResult",
    "YoudenThreshold",
    "compute_dose_response_curve",
    "compute_roc",
    "compute_youden_threshold",
    "derive_dose_group",
    "derive_lesion_dose_response",
    "derive_patient_dose_outcome",
    "derive_toxicity_outcomes",
    "fit_dose_response",
    "summarise_response_by_threshold",
    "summarise_survival_by_dose_group",
]

#: Default seed of every bootstrap (the notebooks pass their own ``seed`` parameter).
DEFAULT_SEED = 20261127

#: Lesion/overall response codes counted as objective response (RECIST 1.1 / mRECIST).
RESPONDER_CODES: tuple[str, ...] = ("CR", "PR")

#: Lesion/overall responses that are evaluable (anything else -> outcome unknown).
_EVALUABLE_CODES: tuple[str, ...] = ("CR", "PR", "SD", "NON_CR_NON_PD", "PD")

#: Below this many events (or non-events), or clusters, a SirtStatsWarning is issued.
MIN_EVENTS = 10
MIN_CLUSTERS = 20

_BOOTSTRAP_CHUNK = 64
_IRLS_MAX_ITER = 60
_IRLS_TOL = 1e-10
_SEPARATION_BOUND = 40.0  # |coefficient| on the standardised dose scale


# --------------------------------------------------------------------------------------------
# argument and data checks
# --------------------------------------------------------------------------------------------
def _check_choice(value, allowed, argument, function):
    if isinstance(value, str):
        for a in allowed:
            if a.lower() == value.lower():
                return a
    allowed_txt = "{" + ", ".join(repr(a) for a in allowed) + "}"
    raise ValueError(
        f"The '{argument}' argument of {function} must be one of {allowed_txt}. "
        f"Got {value!r} instead."
    )


def _check_int(value, argument, function, *, minimum):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(
            f"The '{argument}' argument of {function} must be an int >= {minimum}. "
            f"Got {value!r} instead."
        )
    return int(value)


def _check_alpha(alpha, function):
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValueError(
            f"The 'alpha' argument of {function} must be a float in (0, 1). "
            f"Got {alpha!r} instead."
        )
    return float(alpha)


def _require_columns(df, columns, function):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{function} expects a DataFrame as 'df'. Got {type(df).__name__}.")
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise SirtDataError(
            f"{function}: missing column(s) {missing}; available: {list(df.columns)}.",
            column=missing[0],
            rule="required column",
        )


def _binary(series: pd.Series, column: str, function: str) -> np.ndarray:
    """0/1 float array with NaN for missing; bool, boolean and 0/1 numbers are accepted."""
    if pd.api.types.is_bool_dtype(series) or str(series.dtype) == "boolean":
        return series.astype("float64").to_numpy(dtype=float, na_value=np.nan)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(values) & ~np.isin(values, (0.0, 1.0))
    bad |= series.notna().to_numpy() & np.isnan(values)
    if bad.any():
        shown = ", ".join(repr(v) for v in series[bad].head(3))
        raise SirtDataError(
            f"{function}: {int(bad.sum())} values of '{column}' are not binary (True/False or "
            f"1/0); got {shown}. Derive the binary outcome first, e.g. with "
            f"derive_lesion_dose_response().",
            column=column,
            rule=f"{column} in {{0, 1}}",
            rows=series[bad].to_frame(),
        )
    return values


@dataclass(frozen=True)
class _Data:
    dose: np.ndarray
    y: np.ndarray
    codes: np.ndarray
    n_clusters: int
    n_excluded: int


def _prepare(df, dose_col, response_col, cluster_col, function) -> _Data:
    _require_columns(df, [dose_col, response_col, cluster_col], function)
    dose = pd.to_numeric(df[dose_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    negative = dose < 0
    if negative.any():
        raise SirtDataError(
            f"{function}: {int(negative.sum())} values of '{dose_col}' are negative; an "
            f"absorbed dose is >= 0 Gy.",
            column=dose_col,
            rule=f"{dose_col} >= 0",
            rows=df.loc[negative],
        )
    y = _binary(df[response_col], response_col, function)
    keep = ~np.isnan(dose) & ~np.isnan(y)
    if cluster_col is not None:
        keep &= df[cluster_col].notna().to_numpy()
        codes = pd.factorize(df.loc[keep, cluster_col])[0]
    else:
        codes = np.arange(int(keep.sum()))
    n_clusters = int(codes.max()) + 1 if len(codes) else 0
    return _Data(dose[keep], y[keep], codes, n_clusters, int((~keep).sum()))


def _check_enough(data: _Data, function: str, check_type: str = "error") -> bool:
    """Warn about small data; return False (after raising or warning) without both outcomes."""
    n_pos = int(data.y.sum())
    n_neg = len(data.y) - n_pos
    if n_pos == 0 or n_neg == 0:
        message = (
            f"{function}: needs both outcomes; got {n_pos} events and {n_neg} non-events among "
            f"{len(data.y)} complete rows ({data.n_excluded} excluded for missing values)."
        )
        if check_type == "error":
            raise SirtDataError(message, rule="at least one event and one non-event")
        warnings.warn(message + " Nothing is estimated (NaN results).", SirtStatsWarning,
                      stacklevel=3)
        return False
    if min(n_pos, n_neg) < MIN_EVENTS:
        warnings.warn(
            f"{function}: only {min(n_pos, n_neg)} {'events' if n_pos < n_neg else 'non-events'}"
            f" (< {MIN_EVENTS}); estimates and CIs are unstable.",
            SirtStatsWarning,
            stacklevel=3,
        )
    if data.n_clusters < MIN_CLUSTERS:
        warnings.warn(
            f"{function}: only {data.n_clusters} clusters (< {MIN_CLUSTERS}); cluster-robust "
            f"and cluster-bootstrap CIs are unreliable.",
            SirtStatsWarning,
            stacklevel=3,
        )
    return True


_NAN2 = (np.nan, np.nan)


def _range(values: np.ndarray) -> tuple[float, float]:
    return (float(values.min()), float(values.max())) if len(values) else _NAN2


def _cluster_weights(rng: np.random.Generator, codes: np.ndarray, n_clusters: int, size: int):
    """Observation weights of ``size`` cluster-bootstrap replicates (times each row is drawn)."""
    counts = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=size)
    return counts[:, codes].astype(float)


def _percentile_ci(values: np.ndarray, alpha: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (np.nan, np.nan)
    low, high = np.percentile(values, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return (float(low), float(high))


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
        structures = ([sm.cov_struct.Exchangeable] if cluster_col is not None else [])
        params = np.full(2, np.nan)
        for structure in [*structures, sm.cov_struct.Independence]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # statsmodels chatter; the result is checked
                model = sm.GEE(data.y, xs, groups=data.codes, family=sm.families.Binomial(),
                               cov_struct=structure()).fit()
            params = jac @ np.asarray(model.params, dtype=float)
            if np.isfinite(params).all():
                break
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
        rng = np.random.default_rng(seed)
        coefs = []
        for start in range(0, n_bootstrap, _BOOTSTRAP_CHUNK):
            size = min(_BOOTSTRAP_CHUNK, n_bootstrap - start)
            w = _cluster_weights(rng, data.codes, data.n_clusters, size)
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
    rng = np.random.default_rng(seed)
    for start in range(0, n_bootstrap, _BOOTSTRAP_CHUNK):
        size = min(_BOOTSTRAP_CHUNK, n_bootstrap - start)
        w = _cluster_weights(rng, codes, data.n_clusters, size)
        yield _weighted_roc(score, y, w)


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
    aucs = np.concatenate([_trapezoid(f, t) for f, t, _ in _bootstrap_roc(data, n_bootstrap,
                                                                          seed)])
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
    boot = []
    for f, t, distinct in _bootstrap_roc(data, n_bootstrap, seed):
        j = t - f
        valid = np.isfinite(j).all(1)
        idx = np.argmax(np.where(np.isfinite(j), j, -np.inf), axis=1)
        # column 0 is the (0, 0) corner (threshold +inf); column i is distinct[i - 1]
        values = np.where(idx > 0, distinct[np.maximum(idx - 1, 0)], np.inf)
        boot.append(np.where(valid, values, np.nan))
    boot = np.concatenate(boot)
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


# --------------------------------------------------------------------------------------------
# rates above / below thresholds, dose groups
# --------------------------------------------------------------------------------------------
#: Columns of :func:`summarise_response_by_threshold`, in order.
THRESHOLD_SUMMARY_COLUMNS = [
    "threshold_gy", "dose_group", "n", "n_events", "rate", "ci_lower", "ci_upper",
    "n_clusters", "ci_method",
]


def _group_labels(threshold: float) -> tuple[str, str]:
    return (f"< {threshold:g} Gy", f">= {threshold:g} Gy")


def summarise_response_by_threshold(
    df: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    response_col: str = "is_responder",
    thresholds: Sequence[float] = (120.0, 205.0),
    cluster_col: str | None = "patient_id",
    ci_method: Literal["wilson", "cluster_bootstrap"] = "wilson",
    n_bootstrap: int = 1000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Outcome rate below and at-or-above each dose threshold.

    Parameters
    ----------
    df : DataFrame
        One row per lesion (or patient): dose (float, Gy), binary outcome, cluster id.
    dose_col : str, default "absorbed_dose_gy"
        Dose column, Gy.
    response_col : str, default "is_responder"
        Binary outcome (response, or a toxicity).
    thresholds : sequence of float, default (120, 205)
        Dose thresholds, Gy (e.g. 205 Gy glass HCC, DOSISPHERE-01; 120 Gy resin HCC).
    cluster_col : str or None, default "patient_id"
        Cluster id, counted per group and used by the cluster bootstrap.
    ci_method : {"wilson", "cluster_bootstrap"}, default "wilson"
        Wilson score interval (statsmodels ``proportion_confint``; ignores clustering, so it
        is too narrow when lesions of a patient respond alike) or percentile interval from
        resampling clusters.
    n_bootstrap : int, default 1000
        Replicates for ``"cluster_bootstrap"``.
    seed : int, default 20261127
        Seed of the bootstrap.
    alpha : float, default 0.05
        1 - confidence level.

    Returns
    -------
    DataFrame
        Two rows per threshold (in the order given), columns
        :data:`THRESHOLD_SUMMARY_COLUMNS`: ``threshold_gy`` (float), ``dose_group``
        ("< 205 Gy", ">= 205 Gy"), ``n`` and ``n_events`` (int), ``rate`` (0-1, NaN for an
        empty group), ``ci_lower``, ``ci_upper`` (0-1), ``n_clusters`` (int), ``ci_method``.
        Rows with a missing dose or outcome are left out (count them with
        :func:`fit_dose_response`'s ``n_excluded``).

    Raises
    ------
    ValueError
        For invalid arguments (empty or negative thresholds, unknown ``ci_method``).
    SirtDataError
        As :func:`fit_dose_response`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P3"],
    ...                    "absorbed_dose_gy": [50.0, 300.0, 210.0, 80.0],
    ...                    "is_responder": [False, True, True, True]})
    >>> summarise_response_by_threshold(df, thresholds=[205])[
    ...     ["dose_group", "n", "n_events", "rate"]]
      dose_group  n  n_events  rate
    0   < 205 Gy  2         1   0.5
    1  >= 205 Gy  2         2   1.0
    """
    fn = "summarise_response_by_threshold"
    ci_method = _check_choice(ci_method, ("wilson", "cluster_bootstrap"), "ci_method", fn)
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", fn, minimum=1)
    seed = _check_int(seed, "seed", fn, minimum=0)
    alpha = _check_alpha(alpha, fn)
    try:
        cuts = [float(t) for t in np.atleast_1d(thresholds)]
    except (TypeError, ValueError):
        cuts = []
    if not cuts or not all(np.isfinite(c) and c >= 0 for c in cuts):
        raise ValueError(f"The 'thresholds' argument of {fn} must be a non-empty sequence of "
                         f"doses >= 0 Gy. Got {thresholds!r} instead.")
    data = _prepare(df, dose_col, response_col, cluster_col, fn)
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(seed)
    rows = []
    for cut in cuts:
        above = data.dose >= cut
        boot_w = (_cluster_weights(rng, data.codes, data.n_clusters, n_bootstrap)
                  if ci_method == "cluster_bootstrap" and data.n_clusters else None)
        for label, member in zip(_group_labels(cut), (~above, above), strict=True):
            n = int(member.sum())
            k = int(data.y[member].sum())
            if n == 0:
                ci = (np.nan, np.nan)
            elif boot_w is None:
                ci = tuple(float(v) for v in proportion_confint(k, n, alpha=alpha,
                                                                method="wilson"))
            else:
                w = boot_w[:, member]
                with np.errstate(divide="ignore", invalid="ignore"):
                    rates = (w * data.y[member]).sum(1) / w.sum(1)
                ci = _percentile_ci(rates, alpha)
            rows.append({
                "threshold_gy": cut, "dose_group": label, "n": n, "n_events": k,
                "rate": k / n if n else np.nan, "ci_lower": ci[0], "ci_upper": ci[1],
                "n_clusters": int(len(np.unique(data.codes[member]))), "ci_method": ci_method,
            })
    return pd.DataFrame(rows, columns=THRESHOLD_SUMMARY_COLUMNS)


def derive_dose_group(
    df: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    thresholds: Sequence[float] = (205.0,),
    group_col: str = "dose_group",
) -> pd.DataFrame:
    """Add an ordered dose-group column cut at the given thresholds.

    Parameters
    ----------
    df : DataFrame
        Any frame with the dose column (float, Gy).
    dose_col : str, default "absorbed_dose_gy"
        Dose column, Gy.
    thresholds : sequence of float, default (205,)
        Increasing cut points, Gy; a dose equal to a cut point goes to the upper group.
    group_col : str, default "dose_group"
        Name of the new column.

    Returns
    -------
    DataFrame
        A copy of ``df`` (same index and row order) with ``group_col``: ordered categorical,
        labels "< 205 Gy", ">= 205 Gy" (or "120-205 Gy" for a middle group); NaN for a missing
        dose. Use it as the group of a Kaplan-Meier analysis (survival by dose group).

    Raises
    ------
    ValueError
        For thresholds that are empty, negative or not increasing.
    SirtDataError
        If ``dose_col`` is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"absorbed_dose_gy": [100.0, 150.0, 205.0, None]})
    >>> derive_dose_group(df, thresholds=[120, 205])["dose_group"].tolist()
    ['< 120 Gy', '120-205 Gy', '>= 205 Gy', nan]
    """
    fn = "derive_dose_group"
    _require_columns(df, [dose_col], fn)
    cuts = [float(t) for t in np.atleast_1d(thresholds)]
    if not cuts or any(c < 0 for c in cuts) or any(np.diff(cuts) <= 0):
        raise ValueError(f"The 'thresholds' argument of {fn} must be increasing doses >= 0 Gy. "
                         f"Got {thresholds!r} instead.")
    labels = ([f"< {cuts[0]:g} Gy"]
              + [f"{a:g}-{b:g} Gy" for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
              + [f">= {cuts[-1]:g} Gy"])
    dose = pd.to_numeric(df[dose_col], errors="coerce")
    out = df.copy()
    out[group_col] = pd.cut(dose, bins=[-np.inf, *cuts, np.inf], labels=labels, right=False,
                            ordered=True)
    return out


#: Columns of :func:`derive_lesion_dose_response`, in order.
LESION_DOSE_RESPONSE_COLUMNS = [
    "patient_id", "lesion_id", "criterion", "absorbed_dose_gy", "best_pct_change",
    "lesion_response", "is_responder", "in_treated_territory",
]


def derive_lesion_dose_response(
    df_lesion_response: pd.DataFrame,
    df_lesions: pd.DataFrame,
    *,
    criterion: str | None = None,
    dose_col: str = "absorbed_dose_gy",
    responder_codes: Sequence[str] = RESPONDER_CODES,
    treated_only: bool = True,
) -> pd.DataFrame:
    """Join lesion-level response to lesion absorbed dose (one row per lesion with a dose).

    Parameters
    ----------
    df_lesion_response : DataFrame
        Output of ``sirtstats.response.derive_lesion_response``: ``patient_id``,
        ``lesion_id`` (str), ``criterion`` (str), ``best_pct_change`` (float, % change from
        baseline; negative = shrinkage), ``lesion_response`` (str, CR PR SD PD NE).
    df_lesions : DataFrame
        ``lesions`` table: ``lesion_id`` (str), the dose column (float, Gy),
        ``in_treated_territory`` (bool).
    criterion : str, optional
        Keep this criterion only (e.g. "mRECIST"); None keeps all.
    dose_col : str, default "absorbed_dose_gy"
        Lesion dose column of ``df_lesions`` (Gy); the output keeps its name.
    responder_codes : sequence of str, default ("CR", "PR")
        Lesion responses counted as response.
    treated_only : bool, default True
        Keep lesions in the treated territory only.

    Returns
    -------
    DataFrame
        Columns :data:`LESION_DOSE_RESPONSE_COLUMNS` (with ``dose_col`` in place of
        ``absorbed_dose_gy``), rows of ``df_lesion_response`` (order kept) whose lesion has a
        dose; ``is_responder`` is boolean, NA when the lesion response
        is not one of CR, PR, SD, PD (NE, MISSING or absent), so that the statistics count the
        lesion as excluded, not as a non-responder.

    Raises
    ------
    SirtDataError
        If a required column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> lr = pd.DataFrame({"patient_id": ["P1", "P1"], "lesion_id": ["L1", "L2"],
    ...                    "criterion": ["mRECIST", "mRECIST"],
    ...                    "best_pct_change": [-60.0, 5.0], "lesion_response": ["PR", "SD"]})
    >>> les = pd.DataFrame({"lesion_id": ["L1", "L2"], "absorbed_dose_gy": [250.0, 90.0],
    ...                     "in_treated_territory": [True, True]})
    >>> derive_lesion_dose_response(lr, les)[["lesion_id", "absorbed_dose_gy", "is_responder"]]
      lesion_id  absorbed_dose_gy  is_responder
    0        L1             250.0          True
    1        L2              90.0         False
    """
    fn = "derive_lesion_dose_response"
    _require_columns(df_lesion_response, ["patient_id", "lesion_id", "criterion",
                                          "best_pct_change", "lesion_response"], fn)
    _require_columns(df_lesions, ["lesion_id", dose_col], fn)
    lr = df_lesion_response
    if criterion is not None:
        lr = lr[lr["criterion"].astype(str).str.lower() == str(criterion).lower()]
    cols = ["lesion_id", dose_col]
    if "in_treated_territory" in df_lesions.columns:
        cols.append("in_treated_territory")
    les = df_lesions[cols].drop_duplicates("lesion_id").set_index("lesion_id")
    les = les.reindex(lr["lesion_id"].to_numpy())
    out = lr[["patient_id", "lesion_id", "criterion", "best_pct_change",
              "lesion_response"]].copy()
    out[dose_col] = pd.to_numeric(les[dose_col], errors="coerce").to_numpy(dtype=float)
    out["in_treated_territory"] = (les["in_treated_territory"].astype("boolean").to_numpy()
                                   if "in_treated_territory" in les.columns
                                   else pd.array([pd.NA] * len(out), dtype="boolean"))
    code = out["lesion_response"].astype("string")
    known = code.isin(list(_EVALUABLE_CODES)).fillna(False).astype(bool)
    out["is_responder"] = code.isin(list(responder_codes)).astype("boolean").where(known)
    keep = out[dose_col].notna()
    if treated_only:
        keep &= out["in_treated_territory"].fillna(False).astype(bool)
    columns = [dose_col if c == "absorbed_dose_gy" else c for c in LESION_DOSE_RESPONSE_COLUMNS]
    return out.loc[keep, columns]


def derive_patient_dose_outcome(
    df: pd.DataFrame,
    df_doses: pd.DataFrame,
    *,
    dose_col: str,
    subject_keys: Sequence[str] = ("patient_id",),
) -> pd.DataFrame:
    """Attach a patient-level dose to a patient-level outcome frame.

    Parameters
    ----------
    df : DataFrame
        One row per patient (best overall response, endpoints, toxicity flags ...), with the
        subject keys.
    df_doses : DataFrame
        One row per patient with the dose column, e.g.
        :func:`sirtstats.dosimetry.derive_patient_dose`.
    dose_col : str
        Dose column of ``df_doses`` (Gy).
    subject_keys : sequence of str, default ("patient_id",)
        Join keys.

    Returns
    -------
    DataFrame
        A copy of ``df`` (same rows, order and index) with ``dose_col`` added (NaN for a
        patient without dose); an existing ``dose_col`` in ``df`` is replaced.

    Raises
    ------
    SirtDataError
        If a column is missing or ``df_doses`` has several rows per patient.

    Examples
    --------
    >>> import pandas as pd
    >>> bor = pd.DataFrame({"patient_id": ["P2", "P1"], "is_responder": [True, False]})
    >>> doses = pd.DataFrame({"patient_id": ["P1", "P2"], "tumour_dose_gy": [90.0, 260.0]})
    >>> derive_patient_dose_outcome(bor, doses, dose_col="tumour_dose_gy")
      patient_id  is_responder  tumour_dose_gy
    0         P2          True           260.0
    1         P1         False            90.0
    """
    fn = "derive_patient_dose_outcome"
    keys = list(subject_keys)
    _require_columns(df, keys, fn)
    _require_columns(df_doses, [*keys, dose_col], fn)
    dup = df_doses.duplicated(keys, keep=False)
    if dup.any():
        raise SirtDataError(
            f"{fn}: df_doses has {int(dup.sum())} rows sharing {keys}; give one dose per "
            f"patient (see sirtstats.dosimetry.derive_patient_dose).",
            column=keys[0], rule="one row per patient", rows=df_doses.loc[dup, keys],
        )
    lookup = df_doses.set_index(keys)[dose_col]
    out = df.drop(columns=[dose_col], errors="ignore").copy()
    index = pd.MultiIndex.from_frame(df[keys]) if len(keys) > 1 else pd.Index(df[keys[0]])
    out[dose_col] = lookup.reindex(index).to_numpy()
    return out


#: Columns of :func:`derive_toxicity_outcomes`, in order.
TOXICITY_OUTCOME_COLUMNS = ["patient_id", "worst_lab_grade", "is_lab_toxicity", "is_reild"]


def derive_toxicity_outcomes(
    df_patients: pd.DataFrame,
    *,
    df_worst_lab_grades: pd.DataFrame | None = None,
    df_adverse_events: pd.DataFrame | None = None,
    analyte: str = "bilirubin_total",
    min_grade: int = 3,
    require_emergent: bool = True,
) -> pd.DataFrame:
    """Binary liver-toxicity outcomes per patient, for normal-liver dose-toxicity analyses.

    Parameters
    ----------
    df_patients : DataFrame
        One row per analysed patient (``patient_id``), e.g. the cohort's patients.
    df_worst_lab_grades : DataFrame, optional
        :func:`sirtstats.toxicity.summarise_worst_lab_grades` output: ``patient_id``,
        ``analyte``, ``grade`` (Int64, worst post-baseline CTCAE v5.0 grade in the window) and
        ``is_treatment_emergent`` (bool).
    df_adverse_events : DataFrame, optional
        ``adverse_events`` rows to consider (e.g. treatment-emergent ones): ``patient_id``,
        ``is_reild`` (bool).
    analyte : str, default "bilirubin_total"
        Lab analyte of the toxicity (``labs.analyte`` value).
    min_grade : int, default 3
        Toxicity when the worst grade is >= this.
    require_emergent : bool, default True
        Also require the grade to be worse than at baseline (treatment-emergent).

    Returns
    -------
    DataFrame
        One row per ``df_patients`` row (order kept): ``patient_id``, ``worst_lab_grade``
        (Int64; NA when the patient has no graded post-baseline sample), ``is_lab_toxicity``
        (boolean; NA when the grade is unknown, so the patient is excluded, not counted as
        free of toxicity), ``is_reild`` (boolean; False when no REILD event is listed, NA when
        ``df_adverse_events`` is None).

    Raises
    ------
    SirtDataError
        If a required column is missing.

    References
    ----------
    CTCAE v5.0 (bilirubin grade 3: > 3-10 x ULN); REILD: Sangro et al., Cancer 2008;
    Braat et al., Eur J Gastroenterol Hepatol 2017 (sirt-domain.md section 4.3).

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"patient_id": ["P1", "P2", "P3"]})
    >>> worst = pd.DataFrame({"patient_id": ["P1", "P2"], "analyte": "bilirubin_total",
    ...                       "grade": pd.array([3, 1], dtype="Int64"),
    ...                       "is_treatment_emergent": [True, True]})
    >>> ae = pd.DataFrame({"patient_id": ["P2"], "is_reild": [True]})
    >>> derive_toxicity_outcomes(pts, df_worst_lab_grades=worst, df_adverse_events=ae)
      patient_id  worst_lab_grade  is_lab_toxicity  is_reild
    0         P1                3             True     False
    1         P2                1            False      True
    2         P3             <NA>             <NA>     False
    """
    fn = "derive_toxicity_outcomes"
    _require_columns(df_patients, ["patient_id"], fn)
    min_grade = _check_int(min_grade, "min_grade", fn, minimum=1)
    ids = df_patients["patient_id"]
    out = pd.DataFrame({"patient_id": ids.to_numpy()}, index=df_patients.index)
    if df_worst_lab_grades is not None:
        _require_columns(df_worst_lab_grades, ["patient_id", "analyte", "grade"], fn)
        lab = df_worst_lab_grades[df_worst_lab_grades["analyte"] == analyte]
        grade = lab.groupby("patient_id")["grade"].max()
        out["worst_lab_grade"] = pd.array(grade.reindex(ids).to_numpy(), dtype="Int64")
        tox = (out["worst_lab_grade"] >= min_grade).astype("boolean")
        if require_emergent:
            _require_columns(df_worst_lab_grades, ["is_treatment_emergent"], fn)
            emergent = (lab[lab["grade"] >= min_grade].groupby("patient_id")
                        ["is_treatment_emergent"].any())
            is_emergent = emergent.reindex(ids).astype("boolean").fillna(False)
            tox = tox & is_emergent.to_numpy(dtype=bool)
        out["is_lab_toxicity"] = tox.mask(out["worst_lab_grade"].isna())
    else:
        out["worst_lab_grade"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["is_lab_toxicity"] = pd.array([pd.NA] * len(out), dtype="boolean")
    if df_adverse_events is not None:
        _require_columns(df_adverse_events, ["patient_id", "is_reild"], fn)
        reild = df_adverse_events.loc[
            df_adverse_events["is_reild"].astype("boolean").fillna(False).astype(bool),
            "patient_id"]
        out["is_reild"] = ids.isin(set(reild)).astype("boolean").to_numpy()
    else:
        out["is_reild"] = pd.array([pd.NA] * len(out), dtype="boolean")
    return out[TOXICITY_OUTCOME_COLUMNS]


@dataclass(frozen=True)
class DoseGroupSurvival:
    """Result of :func:`summarise_survival_by_dose_group`.

    Attributes
    ----------
    data : DataFrame
        The endpoint rows with a dose group: endpoint columns, ``dose_col``, ``dose_group``
        (ordered categorical). Pass it to ``sirtstats.survival.compute_km_curve``.
    km : DataFrame
        ``sirtstats.survival.summarise_km`` by ``dose_group``.
    logrank : object or None
        ``sirtstats.survival.LogrankResult``; None with fewer than two non-empty groups.
    logrank_p : float
        Overall log-rank p-value (NaN without a test).
    n_excluded : int
        Endpoint rows left out for a missing dose.
    """

    data: pd.DataFrame
    km: pd.DataFrame
    logrank: object
    logrank_p: float
    n_excluded: int

    def to_frame(self) -> pd.DataFrame:
        """KM table with the log-rank p-value and the exclusions as columns.

        Returns
        -------
        DataFrame
            ``km`` plus ``logrank_p`` and ``n_excluded_missing_dose``.
        """
        return self.km.assign(logrank_p=self.logrank_p, n_excluded_missing_dose=self.n_excluded)

    def _repr_html_(self) -> str:
        return (f"<p><b>DoseGroupSurvival</b>: log-rank p = {self.logrank_p:.3g}; "
                f"{self.n_excluded} rows without dose excluded.</p>"
                + self.km.to_html(index=False))


def summarise_survival_by_dose_group(
    df_endpoints: pd.DataFrame,
    df_doses: pd.DataFrame,
    *,
    dose_col: str,
    thresholds: Sequence[float] = (205.0,),
    endpoint: str | None = "OS",
    time_col: str = "time_months",
    event_col: str = "event",
) -> DoseGroupSurvival:
    """Kaplan-Meier summary and log-rank test of an endpoint by patient dose group.

    Parameters
    ----------
    df_endpoints : DataFrame
        ``sirtstats.endpoints.derive_endpoints`` output: ``patient_id``, ``endpoint``,
        ``time_col`` (months), ``event_col`` (0/1).
    df_doses : DataFrame
        One dose per patient (:func:`sirtstats.dosimetry.derive_patient_dose`).
    dose_col : str
        Dose column of ``df_doses``, Gy.
    thresholds : sequence of float, default (205,)
        Cut points of the dose groups (see :func:`derive_dose_group`).
    endpoint : str or None, default "OS"
        Keep the rows of this endpoint; None when ``df_endpoints`` has a single endpoint and
        no ``endpoint`` column.
    time_col, event_col : str
        Endpoint columns.

    Returns
    -------
    DoseGroupSurvival
        Rows analysed, KM table, log-rank result. With a single non-empty group the log-rank
        test is skipped with a SirtStatsWarning (the KM table is still given).

    Raises
    ------
    SirtDataError
        Missing columns, or no row with a dose.

    Warns
    -----
    SirtStatsWarning
        A single dose group; small groups (from ``summarise_km``).

    Notes
    -----
    The dose is fixed at treatment, i.e. at the time origin, so grouping by it carries no
    guarantee-time bias; dose groups are still not randomised (confounding by indication).
    """
    fn = "summarise_survival_by_dose_group"
    _require_columns(df_endpoints, ["patient_id", time_col, event_col]
                     + (["endpoint"] if endpoint is not None else []), fn)
    from sirtstats.survival import summarise_km, test_logrank

    rows = df_endpoints
    if endpoint is not None:
        rows = rows[rows["endpoint"] == endpoint]
    data = derive_dose_group(derive_patient_dose_outcome(rows, df_doses, dose_col=dose_col),
                             dose_col=dose_col, thresholds=thresholds)
    missing = data["dose_group"].isna()
    data = data[~missing]
    if data.empty:
        raise SirtDataError(f"{fn}: no {endpoint or 'endpoint'} row has a dose in '{dose_col}'.",
                            column=dose_col, rule="at least one patient with a dose")
    data = data.assign(dose_group=data["dose_group"].cat.remove_unused_categories())
    km = summarise_km(data, time_col=time_col, event_col=event_col, by="dose_group")
    if data["dose_group"].nunique() < 2:
        warnings.warn(f"{fn}: a single dose group ({data['dose_group'].iloc[0]}); no log-rank "
                      f"test.", SirtStatsWarning, stacklevel=2)
        logrank, p = None, np.nan
    else:
        logrank = test_logrank(data, group_col="dose_group", time_col=time_col,
                               event_col=event_col)
        p = float(logrank.table.loc[logrank.table["comparison"] == "overall", "p"].iloc[0])
    return DoseGroupSurvival(data=data, km=km, logrank=logrank, logrank_p=p,
                             n_excluded=int(missing.sum()))
