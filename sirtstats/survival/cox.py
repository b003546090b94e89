"""Cox proportional hazards models with R ``coxph`` conventions (public entry: sirtstats.survival).

Implements R6.5 (docs/rules/statistics.md) and docs/rules/statistics.md items 4–5:

* Efron ties (default; R and lifelines) by lifelines' ``CoxPHFitter`` with tightened
  convergence (``precision=1e-12``, ``r_precision=1e-15``), which matches R's coefficients to
  ≤ 5e-7 relative; Breslow ties (SAS PHREG's default) by statsmodels' ``PHReg``.
* Hazard ratios with Wald CIs ``exp(β ± z·se)``, the global Wald, likelihood-ratio and score
  (log-rank) tests, Harrell's concordance with R's standard error and pair counts
  (:mod:`sirtstats.survival.concordance`, R ``concordance()``).
* The proportional-hazards test of R survival ≥ 3.0 (``cox.zph``): the score test of the model
  augmented with ``X·g(t)``, per term and GLOBAL, with R's default transform ``"km"``
  (g = 1 − KM(t−)). lifelines' ``proportional_hazard_test`` is the pre-2019 approximation and is
  not used (docs/rules/statistics.md).

The score vector and information matrix needed for the score and PH tests, and the checks for
infinite coefficients, are computed in :mod:`sirtstats.survival._cox_likelihood` (vectorised
numpy; strata and counting-process (start, stop] data supported).

References: Cox DR. J R Stat Soc B 1972;34:187–220. Efron B. J Am Stat Assoc 1977;72:557–565.
Grambsch PM, Therneau TM. Biometrika 1994;81:515–526. Therneau TM, survival 3.x ``cox.zph``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.survival._common import (
    _as_list,
    _check_choice,
    _survival_columns,
    _timefix,
    check_guarantee_time,
)
from sirtstats.survival._cox_likelihood import COXPH_EPS as COXPH_EPS
from sirtstats.survival._cox_likelihood import COXPH_TOLER_INF as COXPH_TOLER_INF
from sirtstats.survival._cox_likelihood import _concordance as _concordance
from sirtstats.survival._cox_likelihood import (
    _cox_zph,
    _infinite_by_score,
    _monotone_columns,
    _score_info,
    _score_test,
)
from sirtstats.survival.concordance import compute_concordance

__all__ = ["CoxResult", "fit_cox", "fit_cox_univariable"]

#: lifelines Newton–Raphson options that reproduce R's coxph to ~1e-9 (docs/rules/statistics.md).
LIFELINES_FIT_OPTIONS = {"precision": 1e-12, "r_precision": 1e-15, "max_steps": 500}

#: Transforms of time for the proportional-hazards test (R ``cox.zph`` names).
PH_TRANSFORMS = ("km", "identity", "rank", "log")

_DEFAULT_REFERENCE = object()


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model: hazard-ratio table, global tests, PH test and the fitter.

    Attributes
    ----------
    hr_table : DataFrame
        One row per model column: ``variable``, ``level``, ``reference``, ``term``, ``coef``,
        ``se``, ``hr``, ``hr_lower``, ``hr_upper``, ``z``, ``p``.
    tests : DataFrame
        ``test`` (``wald``, ``likelihood_ratio``, ``score``), ``statistic``, ``df``, ``p``.
    ph_test : DataFrame or None
        ``term`` (one per variable, plus ``GLOBAL``), ``chisq``, ``df``, ``p``,
        ``transform``.
    concordance : float
        Harrell's C (R ``fit$concordance``).
    concordance_detail : ConcordanceResult or None
        The concordance with its standard error and concordant/discordant/tied pair counts
        (R ``concordance(fit)``); ``concordance_se`` is a shortcut to its ``se``.
    n, n_events, n_excluded : int
        Patients used, events, and rows excluded for missing covariates.
    ties : str
        ``"efron"`` or ``"breslow"``.
    conf_level : float
        Confidence level of the HR intervals.
    fitter : object or None
        The lifelines ``CoxPHFitter`` (Efron) or statsmodels ``PHRegResults`` (Breslow), for
        ``print_summary`` and diagnostics; None for :func:`fit_time_dependent_cox` and a model
        that was not fitted.
    """

    hr_table: pd.DataFrame
    tests: pd.DataFrame
    ph_test: pd.DataFrame | None
    concordance: float
    n: int
    n_events: int
    n_excluded: int
    ties: str
    conf_level: float
    fitter: Any = field(repr=False)
    concordance_detail: Any = field(default=None, repr=False)

    @property
    def concordance_se(self) -> float:
        """Standard error of the concordance (R ``sqrt(concordance(fit)$var)``)."""
        if self.concordance_detail is None:
            return float("nan")
        return float(self.concordance_detail.se)

    def to_frame(self) -> pd.DataFrame:
        """Return the hazard-ratio table."""
        return self.hr_table.copy()

    def _repr_html_(self) -> str:
        head = (f"<p>Cox model ({self.ties} ties): n = {self.n}, events = {self.n_events}, "
                f"excluded = {self.n_excluded}, concordance = {self.concordance:.3f} "
                f"(SE {self.concordance_se:.3f})</p>")
        parts = [head, self.hr_table.to_html(index=False), self.tests.to_html(index=False)]
        if self.ph_test is not None:
            parts.append(self.ph_test.to_html(index=False))
        return "".join(parts)


# --------------------------------------------------------------------------------------------
# design matrix
# --------------------------------------------------------------------------------------------
def _is_categorical(s: pd.Series) -> bool:
    return (isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s)
            or pd.api.types.is_string_dtype(s) or pd.api.types.is_bool_dtype(s))


def _categorical_references(categorical: Mapping | Sequence[str] | None) -> dict:
    """Covariate -> reference level (``_DEFAULT_REFERENCE``: the first observed level)."""
    if categorical is None:
        return {}
    if not isinstance(categorical, Mapping):  # a list of names: default reference levels
        return dict.fromkeys(categorical, _DEFAULT_REFERENCE)
    return dict(categorical)


def _observed_levels(s: pd.Series) -> list:
    """Levels of a categorical covariate present in the data, in category / sorted order."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [lv for lv in s.cat.categories if (s == lv).any()]
    if pd.api.types.is_bool_dtype(s):
        return [lv for lv in (False, True) if (s == lv).any()]
    return sorted(s.dropna().unique().tolist(), key=str)


def _design(df: pd.DataFrame, covariates: Sequence[str], categorical: Mapping | None,
            function: str):
    """Model matrix with treatment (dummy) coding; returns X, term map and level info."""
    categorical = _categorical_references(categorical)
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise SirtDataError(f"{function}: missing covariate column(s) {missing}.",
                            column=missing[0], rule="required column")
    cols: dict[str, np.ndarray] = {}
    info = []
    terms: dict[str, list[str]] = {}
    for var in covariates:
        s = df[var]
        if var in categorical or _is_categorical(s):
            levels = _observed_levels(s)
            ref = categorical.get(var, _DEFAULT_REFERENCE)
            if ref is _DEFAULT_REFERENCE:
                ref = levels[0] if levels else None
            if ref not in levels:
                raise ValueError(
                    f"The reference level of '{var}' in {function} must be one of {levels}. "
                    f"Got {ref!r} instead.")
            terms[var] = []
            for lv in levels:
                if lv == ref:
                    continue
                name = f"{var}[{lv}]"
                cols[name] = np.where(s.isna(), np.nan, (s == lv).astype(float))
                terms[var].append(name)
                info.append({"variable": var, "level": str(lv), "reference": str(ref),
                             "term": name})
        else:
            cols[var] = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
            terms[var] = [var]
            info.append({"variable": var, "level": "", "reference": "", "term": var})
    X = pd.DataFrame(cols, index=df.index)
    return X, terms, pd.DataFrame(info, columns=["variable", "level", "reference", "term"])


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def _hr_table(info, coef, se, conf_level):
    z = float(norm.ppf(1 - (1 - conf_level) / 2))
    out = info.copy()
    out["coef"] = coef
    out["se"] = se
    with np.errstate(over="ignore"):
        out["hr"] = np.exp(coef)
        out["hr_lower"] = np.exp(coef - z * se)
        out["hr_upper"] = np.exp(coef + z * se)
    out["z"] = coef / se
    out["p"] = 2 * norm.sf(np.abs(out["z"]))
    return out.reset_index(drop=True)


def _tests_frame(wald, lr, score, p):
    return pd.DataFrame({
        "test": ["wald", "likelihood_ratio", "score"],
        "statistic": [wald, lr, score],
        "df": [p, p, p],
        "p": chi2.sf([wald, lr, score], p),
    })


#: Categories with fewer patients than this (on either side of a dummy column) are left out
#: of a Cox fit that fails (monotone likelihood), see :func:`fit_cox`. A sirtstats convention,
#: not a published rule: it only applies after a failed fit, which R reports as "beta may be
#: infinite"; a fit that converges is never changed.
MIN_CATEGORY_N = 3


def fit_cox(
    df: pd.DataFrame,
    covariates: Sequence[str],
    *,
    time_col: str = "time_months",
    event_col: str = "event",
    strata: str | Sequence[str] | None = None,
    categorical: Mapping[str, Any] | Sequence[str] | None = None,
    ties: Literal["efron", "breslow"] = "efron",
    conf_level: float = 0.95,
    ph_transform: Literal["km", "identity", "rank", "log"] | None = "km",
    timefix: bool = True,
    check_type: Literal["error", "warning"] = "error",
) -> CoxResult:
    """Fit a Cox proportional hazards model and test its assumptions as R does.

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col`` (float, ≥ 0), ``event_col`` (0/1) and the
        covariates.
    covariates : sequence of str
        Covariate columns. Numeric columns enter as they are (HR per unit); text, categorical
        and boolean columns are dummy-coded against a reference level.
    time_col, event_col : str
        Column names.
    strata : str or list of str, optional
        Stratification column(s) (separate baseline hazards, R ``strata()``).
    categorical : mapping or sequence of str, optional
        ``{column: reference level}``, or column names (default reference); a column listed
        here is treated as categorical even if numeric. Default reference: the first category
        (categorical dtype order, else sorted; False for booleans).
    ties : {"efron", "breslow"}, default "efron"
        Tie handling (D16). Efron: lifelines; Breslow (SAS PHREG default): statsmodels PHReg.
    conf_level : float, default 0.95
        Level of the HR confidence intervals.
    ph_transform : {"km", "identity", "rank", "log"} or None, default "km"
        Time transform of the proportional-hazards test (R ``cox.zph``; None skips it).
    timefix : bool, default True
        R's ``timefix`` merging of near-tied times.
    check_type : {"error", "warning"}, default "error"
        Severity of the guarantee-time check (response covariates from the origin, R5.6).

    Returns
    -------
    CoxResult
        HR table, global tests (Wald, LR, score), PH test, concordance (with its SE and
        pair counts in ``concordance_detail``), counts and the fitter.

    Raises
    ------
    SirtDataError
        Missing columns, invalid times/events, no events, or a covariate derived from
        response used from the origin (guarantee-time bias).

    Warns
    -----
    SirtStatsWarning
        Rows excluded for missing covariates; fewer than 10 events per model column; the
        global PH test with p < 0.05; model columns with an infinite coefficient (monotone
        likelihood, where R's ``coxph`` warns "coefficient may be infinite"), left out and reported
        as not estimable (NaN HR); a fit that fails for another reason (e.g. collinearity)
        is refitted without the categories of fewer than :data:`MIN_CATEGORY_N` patients.

    Notes
    -----
    HR = exp(β) with Wald CI exp(β ± z·se); Wald = β′V⁻¹β; LR = 2(ℓ(β̂) − ℓ(0)); score =
    U(0)′I(0)⁻¹U(0) (equal to the log-rank test for one binary covariate). The PH test is the
    score test, at (β̂, 0), of the model with the extra covariates X·g(t), g = 1 − KM(t−) for
    ``"km"``, centred on its mean over the events; one test per variable (all its dummy
    columns) and a GLOBAL one (Grambsch & Therneau 1994, as in R survival ≥ 3.0).

    An infinite coefficient is detected without regard to how the solver stopped: first from
    the data (a 0/1 column such that, at every event time whose risk set holds both values,
    the events all have the same value, e.g. a category without events, or a single patient
    who dies first; the partial likelihood is then monotone in its coefficient), then on the
    fit by R ``coxph.fit``'s check (after two further exact Newton steps, the next step
    ``|I⁻¹U|`` exceeds ``eps = 1e-9`` and ``toler.inf·|β|``, ``toler.inf = sqrt(eps)``),
    which also finds combinations of columns that separate the events. Such columns are left
    out of the model (their patients count with the reference category) and reported with
    NaN estimates, where R reports a large finite β with a warning.

    References
    ----------
    R6.5 (docs/rules/statistics.md); docs/rules/statistics.md.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import fit_cox
    >>> df = pd.DataFrame({
    ...     "time_months": [2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 4, 6, 6, 9, 11, 14, 16, 18, 20, 24],
    ...     "event": [1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0],
    ...     "group": [1] * 10 + [0] * 10})
    >>> res = fit_cox(df, ["group"])
    >>> round(float(res.hr_table["hr"].iloc[0]), 4)
    2.0573
    """
    options = {"time_col": time_col, "event_col": event_col, "strata": strata,
               "categorical": categorical, "ties": ties, "conf_level": conf_level,
               "ph_transform": ph_transform, "timefix": timefix, "check_type": check_type}
    try:
        return _fit_cox(df, covariates, **options)
    except (np.linalg.LinAlgError, _lifelines_convergence_error()) as exc:
        X, _terms, _info = _design(df, list(covariates), categorical, "fit_cox")
        sparse = [c for c in X.columns if set(np.unique(X[c].dropna())) <= {0.0, 1.0}
                  and min(int((X[c] == 1).sum()), int((X[c] == 0).sum())) < MIN_CATEGORY_N]
        if not sparse or len(sparse) == X.shape[1]:
            raise SirtDataError(
                f"fit_cox: the Cox model cannot be fitted ({type(exc).__name__}: {exc}). "
                "Merge sparse categories or drop collinear covariates.",
                rule="Cox fit converges") from exc
        warnings.warn(
            f"fit_cox: the fit did not converge or its information matrix is singular; "
            f"column(s) {sparse} have fewer than {MIN_CATEGORY_N} patients on one side and "
            "were left out (not estimable: those patients count with the reference category). "
            "Merge sparse categories.", SirtStatsWarning, stacklevel=2)
        return _fit_cox(df, covariates, **options, drop_columns=sparse)


def _lifelines_convergence_error():
    from lifelines.exceptions import ConvergenceError

    return ConvergenceError


def _fit_cox(
    df: pd.DataFrame,
    covariates: Sequence[str],
    *,
    time_col: str = "time_months",
    event_col: str = "event",
    strata: str | Sequence[str] | None = None,
    categorical: Mapping[str, Any] | Sequence[str] | None = None,
    ties: Literal["efron", "breslow"] = "efron",
    conf_level: float = 0.95,
    ph_transform: Literal["km", "identity", "rank", "log"] | None = "km",
    timefix: bool = True,
    check_type: Literal["error", "warning"] = "error",
    drop_columns: Sequence[str] = (),
) -> CoxResult:
    """:func:`fit_cox` with the model columns ``drop_columns`` left out (not estimable)."""
    covariates = _checked_fit_args(covariates, ties, ph_transform)
    strata_cols = _as_list(strata)
    check_guarantee_time(df, covariates + strata_cols, function="fit_cox", check_type=check_type)
    t, e = _survival_columns(df, time_col, event_col, "fit_cox")
    X, terms, info = _design(df, covariates, categorical, "fit_cox")
    if drop_columns:
        X = X.drop(columns=list(drop_columns))
        terms = _without_columns(terms, drop_columns)
    ok = _analysed_rows(df, t, e, X, strata_cols)
    n_excluded = int((~ok).sum())
    X, info, terms = _drop_constant_columns(X.loc[ok], info, terms)
    tt = t[ok].to_numpy(dtype=float)
    ee = e[ok].to_numpy(dtype=float)
    if timefix:
        (tt,) = _timefix(tt)
    n_events = int(ee.sum())
    if n_events == 0:
        raise SirtDataError("fit_cox: no events in the analysed rows; a Cox model cannot be "
                            "fitted.", rule="events > 0")
    strata_codes = _strata_codes(df.loc[ok], strata_cols)
    X, terms, left_out, fitter, coef, cov = _fit_without_infinite(
        X, terms, list(drop_columns), tt, ee, strata_codes, ties, conf_level)
    Xv = X.to_numpy(dtype=float)
    p = Xv.shape[1]
    conc = compute_concordance(tt, ee, Xv @ coef, strata=strata_codes, timefix=False)
    if n_events < 10 * p:
        warnings.warn(f"fit_cox: {n_events} events for {p} model columns (fewer than "
                      "10 events per column).", SirtStatsWarning, stacklevel=2)
    se = np.sqrt(np.diag(cov))
    _t, _r, _v, _U, _I, ll_hat = _score_info(Xv, coef, tt, ee, strata_codes, ties=ties)
    _t, _r, _v, _U, _I, ll_0 = _score_info(Xv, np.zeros(p), tt, ee, strata_codes, ties=ties)
    wald = float(coef @ np.linalg.solve(cov, coef))
    lr = 2 * (ll_hat - ll_0)
    score = _score_test(Xv, tt, ee, strata_codes, ties=ties)
    ph = None
    if ph_transform is not None:
        ph = _ph_test(Xv, coef, tt, ee, strata_codes, terms, list(X.columns), ties,
                      ph_transform)
    return CoxResult(
        hr_table=_hr_table_with_left_out(info, X.columns, left_out, coef, se, conf_level),
        tests=_tests_frame(wald, lr, score, p),
        ph_test=ph,
        concordance=conc.concordance,
        concordance_detail=conc,
        n=int(ok.sum()),
        n_events=n_events,
        n_excluded=n_excluded,
        ties=ties,
        conf_level=conf_level,
        fitter=fitter,
    )


def _checked_fit_args(covariates, ties, ph_transform) -> list[str]:
    """Check the options of :func:`fit_cox`; the covariates as a non-empty list."""
    _check_choice(ties, ("efron", "breslow"), "ties", "fit_cox")
    if ph_transform is not None:
        _check_choice(ph_transform, PH_TRANSFORMS, "ph_transform", "fit_cox")
    covariates = list(covariates)
    if not covariates:
        raise ValueError("The 'covariates' argument of fit_cox must name at least one column.")
    return covariates


def _without_columns(terms: dict[str, list[str]], columns) -> dict[str, list[str]]:
    """The term map without the model ``columns``; variables left with none are dropped."""
    terms = {v: [c for c in cols if c not in columns] for v, cols in terms.items()}
    return {v: cols for v, cols in terms.items() if cols}


def _analysed_rows(df: pd.DataFrame, t, e, X: pd.DataFrame, strata_cols) -> pd.Series:
    """Rows with time, event, every model column and stratum (warns on the others)."""
    ok = t.notna() & e.notna() & X.notna().all(axis=1)
    for c in strata_cols:
        ok &= df[c].notna()
    n_excluded = int((~ok).sum())
    if n_excluded:
        warnings.warn(f"fit_cox: {n_excluded} rows with missing time, event, covariate or "
                      "stratum were excluded.", SirtStatsWarning, stacklevel=3)
    return ok


def _drop_constant_columns(X: pd.DataFrame, info: pd.DataFrame, terms):
    """Drop single-level covariates and model columns constant in the analysed rows (warns)."""
    single = [v for v, cols in terms.items() if not cols]
    if single:
        warnings.warn(f"fit_cox: covariate(s) {single} have a single level and were dropped.",
                      SirtStatsWarning, stacklevel=3)
        terms = {v: cols for v, cols in terms.items() if cols}
    constant = [c for c in X.columns if X[c].nunique() <= 1]
    if constant or X.shape[1] == 0:
        if len(constant) == X.shape[1]:
            raise SirtDataError(f"fit_cox: every model column is constant in the analysed rows "
                                f"({constant or single}).", rule="covariate varies",
                                column=(constant or single)[0])
        warnings.warn(f"fit_cox: model column(s) {constant} are constant in the analysed rows "
                      "and were dropped.", SirtStatsWarning, stacklevel=3)
        X = X.drop(columns=constant)
        info = info.loc[~info["term"].isin(constant)].reset_index(drop=True)
        terms = _without_columns(terms, constant)
    return X, info, terms


def _strata_codes(df: pd.DataFrame, strata_cols):
    """Integer code of each row's stratum (sorted combinations), None without strata."""
    if not strata_cols:
        return None
    codes = df[strata_cols].astype(str).agg("|".join, axis=1)
    return pd.factorize(codes, sort=True)[0]


def _fit_without_infinite(X: pd.DataFrame, terms, left_out: list, tt, ee, strata_codes,
                          ties: str, conf_level: float):
    """Fit, leaving out the columns with an infinite coefficient until none is left.

    Infinite coefficients are found from the data first (exact), then by R's ``toler.inf``
    check on the fit. Returns X, terms, the left-out columns, fitter, coefficients, covariance.
    """
    left_out = list(left_out)
    infinite = [X.columns[j] for j in _monotone_columns(X.to_numpy(dtype=float), tt, ee,
                                                         strata_codes)]
    while True:
        if infinite:
            _warn_not_estimable(X, infinite)
            X = X.drop(columns=infinite)
            left_out += infinite
            terms = _without_columns(terms, infinite)
            if X.shape[1] == 0:
                raise SirtDataError(f"fit_cox: the Cox model cannot be fitted: every model "
                                    f"column has an infinite coefficient ({left_out}). Merge "
                                    "sparse categories.", rule="Cox fit converges")
        Xv = X.to_numpy(dtype=float)
        fitter, coef, cov = _fit_engine(X, tt, ee, strata_codes, ties, conf_level)
        infinite = [X.columns[j] for j in _infinite_by_score(Xv, coef, tt, ee, strata_codes,
                                                              ties)]
        if not infinite:
            return X, terms, left_out, fitter, coef, cov


def _ph_test(Xv, coef, tt, ee, strata_codes, terms, columns, ties, ph_transform):
    """The PH test table (``cox.zph``); warns when its GLOBAL p is below 0.05."""
    ph = _cox_zph(Xv, coef, tt, ee, strata_codes, terms, columns, ties, ph_transform)
    glob = ph.loc[ph["term"] == "GLOBAL", "p"].iloc[0]
    if glob < 0.05:
        warnings.warn(f"fit_cox: proportional-hazards test GLOBAL p = {glob:.3g} "
                      f"(transform {ph_transform!r}).", SirtStatsWarning, stacklevel=3)
    return ph


def _hr_table_with_left_out(info, columns, left_out, coef, se, conf_level) -> pd.DataFrame:
    """Hazard-ratio table; left-out columns keep their row, without an estimate."""
    hr_table = _hr_table(info.loc[info["term"].isin(columns)], coef, se, conf_level)
    if left_out:  # kept in the table without an estimate
        hr_table = pd.concat([hr_table, info.loc[info["term"].isin(left_out)]])
        hr_table = hr_table.set_index("term").loc[info["term"]].reset_index()[
            list(hr_table.columns)]
    return hr_table


def _warn_not_estimable(X: pd.DataFrame, columns: Sequence[str]) -> None:
    """Warn that ``columns`` (infinite coefficients) are left out of the Cox model."""
    sparse = [c for c in columns if set(np.unique(X[c])) <= {0.0, 1.0}
              and min(int((X[c] == 1).sum()), int((X[c] == 0).sum())) < MIN_CATEGORY_N]
    other = [c for c in columns if c not in sparse]
    parts = []
    if sparse:
        parts.append(f"column(s) {sparse} have fewer than {MIN_CATEGORY_N} patients on one side")
    if other:
        parts.append(f"column(s) {other} separate the events")
    warnings.warn(
        f"fit_cox: the coefficient(s) of {list(columns)} are infinite (monotone likelihood; R "
        f"coxph warns 'coefficient may be infinite'); {' and '.join(parts)} and were left out (not "
        "estimable: those patients count with the reference category). Merge sparse "
        "categories.", SirtStatsWarning, stacklevel=5)


def _fit_engine(X: pd.DataFrame, tt, ee, strata_codes, ties: str, conf_level: float):
    """Fit the Cox model: lifelines (Efron) or statsmodels PHReg (Breslow)."""
    Xv = X.to_numpy(dtype=float)
    if ties == "efron":
        from lifelines import CoxPHFitter

        data = X.reset_index(drop=True).copy()
        data["__T"] = tt
        data["__E"] = ee
        if strata_codes is not None:
            data["__S"] = strata_codes
        fitter = CoxPHFitter(alpha=1 - conf_level)
        fitter.fit(data, "__T", "__E", strata=["__S"] if strata_codes is not None else None,
                   fit_options=dict(LIFELINES_FIT_OPTIONS))
        coef = fitter.params_.reindex(X.columns).to_numpy()
        cov = fitter.variance_matrix_.reindex(index=X.columns, columns=X.columns).to_numpy()
    else:
        from statsmodels.duration.hazard_regression import PHReg

        model = PHReg(tt, Xv, status=ee, strata=strata_codes, ties="breslow")
        fitter = model.fit()
        coef = np.asarray(fitter.params)
        cov = np.asarray(fitter.cov_params())
    return fitter, coef, cov


#: SirtDataError rules for which a univariable model is skipped (with a warning) rather than
#: failing: the covariate has one level in the analysed rows, there is no event, no fit.
_UNFITTABLE_RULES = ("covariate varies", "events > 0", "Cox fit converges")


def fit_cox_univariable(
    df: pd.DataFrame,
    covariates: Sequence[str],
    **options,
) -> pd.DataFrame:
    """Fit one Cox model per covariate and stack their hazard-ratio tables.

    Parameters
    ----------
    df : DataFrame
        As :func:`fit_cox`.
    covariates : sequence of str
        One model per column.
    **options
        Keyword options of :func:`fit_cox` (time/event columns, strata, ties, ...).

    Returns
    -------
    DataFrame
        The HR rows of every model (columns of :attr:`CoxResult.hr_table`) plus ``model``
        (``"univariable"``), ``n``, ``n_events`` and ``p_ph`` (the model's GLOBAL PH p-value).

    Warns
    -----
    SirtStatsWarning
        A covariate without a model: a single level in the analysed rows (e.g. primary tumour
        in an HCC-only cohort), no event, or a fit that cannot be made; it has no rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import fit_cox_univariable
    >>> df = pd.DataFrame({"time_months": [1, 2, 3, 4, 5, 6, 7, 8],
    ...                    "event": [1, 1, 0, 1, 1, 0, 1, 1],
    ...                    "x": [3, 1, 2, 0, 2, 1, 0, 1]})
    >>> fit_cox_univariable(df, ["x"])[["variable", "n", "n_events"]]
      variable  n  n_events
    0        x  8         6
    """
    frames = []
    for cov in covariates:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SirtStatsWarning)
                res = fit_cox(df, [cov], **options)
        except SirtDataError as exc:
            if exc.rule not in _UNFITTABLE_RULES:
                raise
            warnings.warn(f"fit_cox_univariable: no model for {cov!r}: {exc}",
                          SirtStatsWarning, stacklevel=2)
            continue
        tab = res.hr_table.assign(model="univariable", n=res.n, n_events=res.n_events)
        tab["p_ph"] = (res.ph_test.loc[res.ph_test["term"] == "GLOBAL", "p"].iloc[0]
                       if res.ph_test is not None else np.nan)
        frames.append(tab)
    if not frames:
        return pd.DataFrame(columns=["variable", "level", "reference", "term", "coef", "se", "hr",
                                     "hr_lower", "hr_upper", "z", "p", "model", "n", "n_events",
                                     "p_ph"])
    return pd.concat(frames, ignore_index=True)
