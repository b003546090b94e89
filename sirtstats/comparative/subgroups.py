"""Treatment effect within prespecified subgroups, with interaction tests (tern style).

Response: the odds ratio of the treated level versus the control level within each subgroup
level (logistic regression, Wald CI; tern ``tabulate_rsp_subgroups``). Survival: the Cox
hazard ratio within each level (Efron ties, Wald CI; tern ``tabulate_survival_subgroups``).
The interaction p-value of a subgroup variable is the likelihood-ratio test of
``outcome ~ arm * subgroup`` against ``outcome ~ arm + subgroup`` on the patients with a known
value (df = number of levels − 1; R ``anova(fit0, fit1, test = "LRT")``). Subgroup analyses
are descriptive: the interaction test is the only inference about heterogeneity (Wang et al.,
N Engl J Med 2007;357:2189–2194).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import chi2, norm

from .._checks import require_columns
from ..survival._agcox import AgCoxFit, fit_ag_cox_summary
from ..survival.km import _findq

__all__ = ["subgroup_response", "subgroup_survival"]

ALL = "All patients"


def _fit_errors() -> tuple[type[BaseException], ...]:
    """Exceptions of a model that cannot be fitted (separation, collinearity, no events)."""
    from lifelines.exceptions import ConvergenceError
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    return (ConvergenceError, PerfectSeparationError, np.linalg.LinAlgError, ValueError)


def _levels(s: pd.Series) -> list:
    """Levels in their categorical order when the column is categorical, else sorted."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if (s == c).any()]
    return sorted(s.dropna().unique(), key=str)


def _arm(df, exposure, levels) -> pd.DataFrame:
    d = df[df[exposure].isin(list(levels))].copy()
    d["__arm"] = (d[exposure] == levels[1]).astype(float)
    return d


def _dummies(s: pd.Series, prefix: str) -> pd.DataFrame:
    return pd.get_dummies(s.astype(str).astype("category"), prefix=prefix, drop_first=True,
                          dtype=float)


def _logit_fit(y, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.Logit(y, sm.add_constant(X, has_constant="add")).fit(
            disp=0, method="newton", maxiter=100, tol=1e-12)


def _odds_ratio(d: pd.DataFrame, y: str, z: float) -> dict:
    """OR of the arm (Wald CI); not estimable when a 2x2 cell is empty."""
    counts = pd.crosstab(d["__arm"], d[y]).reindex(index=[0.0, 1.0], columns=[0, 1],
                                                   fill_value=0)
    if (counts.to_numpy() == 0).any():
        return {"or": np.nan, "or_lower": np.nan, "or_upper": np.nan}
    try:
        f = _logit_fit(d[y].astype(float), d[["__arm"]])
    except _fit_errors():
        return {"or": np.nan, "or_lower": np.nan, "or_upper": np.nan}
    b, se = float(f.params["__arm"]), float(f.bse["__arm"])
    return {"or": np.exp(b), "or_lower": np.exp(b - z * se), "or_upper": np.exp(b + z * se)}


def _response_row(d, y, z, name, level) -> dict:
    row = {"subgroup": name, "level": level, "n": len(d)}
    for arm, lab in ((0.0, "control"), (1.0, "treated")):
        m = d["__arm"] == arm
        row[f"n_{lab}"] = int(m.sum())
        row[f"responders_{lab}"] = int(d.loc[m, y].sum())
        row[f"orr_{lab}"] = float(d.loc[m, y].mean()) if m.any() else np.nan
    return {**row, **_odds_ratio(d, y, z)}


def _lrt_logit(d, y, col) -> float:
    d = d[d[col].notna()]
    if d[col].nunique() < 2:
        return np.nan
    s = _dummies(d[col], "s")
    X0 = pd.concat([d[["__arm"]], s], axis=1)
    X1 = pd.concat([X0, s.mul(d["__arm"], axis=0).add_prefix("arm:")], axis=1)
    try:
        ll0 = _logit_fit(d[y].astype(float), X0).llf
        ll1 = _logit_fit(d[y].astype(float), X1).llf
    except _fit_errors():  # not estimable (e.g. separation in a small level)
        return np.nan
    return float(chi2.sf(2 * (ll1 - ll0), s.shape[1]))


def subgroup_response(df: pd.DataFrame, response_col: str, exposure: str, levels,
                      subgroups: Sequence[str], *, conf_level: float = 0.95) -> pd.DataFrame:
    """Odds ratio of response (treated vs control) overall and within each subgroup level.

    Parameters
    ----------
    df : DataFrame
        One row per patient.
    response_col : str
        0/1 response (e.g. BOR in CR/PR for the ORR).
    exposure : str
        Exposure column; ``levels = (control, treated)``, other values are left out.
    subgroups : sequence of str
        Prespecified subgroup columns (categorical); patients with a missing value are left
        out of that subgroup's rows and interaction test.
    conf_level : float

    Returns
    -------
    DataFrame
        Rows "All patients" then each subgroup level (sorted): ``subgroup``, ``level``, ``n``,
        ``n_control``, ``n_treated``, ``responders_*``, ``orr_*`` (proportions), ``or``,
        ``or_lower``, ``or_upper`` (NaN when a 2×2 cell is empty or the fit fails: not
        estimable) and ``p_interaction`` (LRT, on every row of the subgroup; NaN when a
        model cannot be fitted).
    """
    require_columns(df, [response_col, exposure, *subgroups], "df", "subgroup_response")
    z = norm.ppf(1 - (1 - conf_level) / 2)
    d = _arm(df, exposure, levels)
    d = d[d[response_col].notna()]
    d[response_col] = d[response_col].astype(int)
    rows = [{**_response_row(d, response_col, z, ALL, ""), "p_interaction": np.nan}]
    for col in subgroups:
        p = _lrt_logit(d, response_col, col)
        for lv in _levels(d[col]):
            rows.append({**_response_row(d[d[col] == lv], response_col, z, col, str(lv)),
                         "p_interaction": p})
    return pd.DataFrame(rows)


def _cox(d, time_col, event_col, cols) -> AgCoxFit:
    """Efron Cox fit of ``cols`` (R ``coxph``); ``ValueError`` when it does not converge."""
    fit = fit_ag_cox_summary(d[cols].to_numpy(dtype=float), np.full(len(d), -np.inf),
                             d[time_col].to_numpy(dtype=float),
                             d[event_col].to_numpy(dtype=float))
    if not fit.converged:  # a monotone likelihood: an estimate runs to +-infinity
        raise ValueError("Cox model did not converge")
    return fit


def _median(t, e) -> float:
    ut = np.unique(t)
    d = np.array([np.sum((t == u) & (e == 1)) for u in ut])
    n = np.array([np.sum(t >= u) for u in ut])
    s = np.cumprod(1 - d / n)
    return _findq(np.r_[0.0, ut], np.r_[0.0, 1 - s], 0.5)


def _hazard_ratio(d, time_col, event_col, z) -> dict:
    ev = d.groupby("__arm")[event_col].sum().reindex([0.0, 1.0], fill_value=0)
    if (ev == 0).any():  # a zero-event arm: the HR runs to 0 or infinity
        return {"hr": np.nan, "hr_lower": np.nan, "hr_upper": np.nan}
    try:
        f = _cox(d, time_col, event_col, ["__arm"])
    except _fit_errors():
        return {"hr": np.nan, "hr_lower": np.nan, "hr_upper": np.nan}
    b, se = float(f.coef[0]), float(f.se[0])
    return {"hr": np.exp(b), "hr_lower": np.exp(b - z * se), "hr_upper": np.exp(b + z * se)}


def _survival_row(d, time_col, event_col, z, name, level) -> dict:
    row = {"subgroup": name, "level": level, "n": len(d),
           "events": int(d[event_col].sum())}
    for arm, lab in ((0.0, "control"), (1.0, "treated")):
        m = (d["__arm"] == arm).to_numpy()
        row[f"n_{lab}"] = int(m.sum())
        row[f"events_{lab}"] = int(d.loc[m, event_col].sum())
        row[f"median_{lab}"] = (_median(d.loc[m, time_col].to_numpy(float),
                                        d.loc[m, event_col].to_numpy(float))
                                if m.any() else np.nan)
    return {**row, **_hazard_ratio(d, time_col, event_col, z)}


def _lrt_cox(d, time_col, event_col, col) -> float:
    d = d[d[col].notna()]
    if d[col].nunique() < 2:
        return np.nan
    s = _dummies(d[col], "s")
    inter = s.mul(d["__arm"], axis=0).add_prefix("arm_x_")
    base = pd.concat([d[[time_col, event_col, "__arm"]], s, inter], axis=1)
    try:
        ll0 = _cox(base, time_col, event_col, ["__arm", *s.columns]).loglik
        ll1 = _cox(base, time_col, event_col, ["__arm", *s.columns, *inter.columns]).loglik
    except _fit_errors():  # not estimable (e.g. no events in an arm of a level)
        return np.nan
    return float(chi2.sf(2 * (ll1 - ll0), s.shape[1]))


def subgroup_survival(df: pd.DataFrame, time_col: str, event_col: str, exposure: str, levels,
                      subgroups: Sequence[str], *, conf_level: float = 0.95) -> pd.DataFrame:
    """Cox hazard ratio (treated vs control) overall and within each subgroup level.

    Parameters
    ----------
    df : DataFrame
        One row per patient with the time (any unit; medians are in the same unit) and the
        0/1 event.
    time_col, event_col : str
    exposure : str
        Exposure column; ``levels = (control, treated)``.
    subgroups : sequence of str
        Prespecified categorical subgroup columns.
    conf_level : float

    Returns
    -------
    DataFrame
        Rows "All patients" then each level: ``subgroup``, ``level``, ``n``, ``events``,
        ``n_*``, ``events_*``, ``median_*`` (KM median, R's rule; NaN = not reached), ``hr``,
        ``hr_lower``, ``hr_upper`` (NaN when an arm has no event) and ``p_interaction`` (LRT
        of the arm × subgroup Cox model).
    """
    require_columns(df, [time_col, event_col, exposure, *subgroups], "df",
                    "subgroup_survival")
    z = norm.ppf(1 - (1 - conf_level) / 2)
    d = _arm(df, exposure, levels)
    d = d[d[time_col].notna() & d[event_col].notna()]
    rows = [{**_survival_row(d, time_col, event_col, z, ALL, ""), "p_interaction": np.nan}]
    for col in subgroups:
        p = _lrt_cox(d, time_col, event_col, col)
        for lv in _levels(d[col]):
            rows.append({**_survival_row(d[d[col] == lv], time_col, event_col, z, col,
                                         str(lv)), "p_interaction": p})
    return pd.DataFrame(rows)
