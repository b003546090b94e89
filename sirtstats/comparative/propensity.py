"""Propensity scores for a two-level exposure (logistic regression, statsmodels)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .._checks import check_choice, require_columns

__all__ = ["PropensityResult", "design_matrix", "fit_propensity"]


@dataclass
class PropensityResult:
    """Propensity scores and the fitted model.

    Attributes
    ----------
    frame : DataFrame
        Analysed rows (original index) with ``treated`` (0/1), ``ps`` (P(treated | X)) and
        ``logit_ps``.
    n_total, n_excluded : int
        Rows given and rows dropped for a missing covariate (``missing="complete_case"``).
    missing : str
        The missing-data option used.
    model : statsmodels results
    """

    frame: pd.DataFrame
    n_total: int
    n_excluded: int
    missing: str
    model: Any = field(repr=False)


def design_matrix(df: pd.DataFrame, covariates: Sequence[str],
                  missing: str = "complete_case") -> pd.DataFrame:
    """Dummy-coded covariate matrix (first level of each categorical is the reference).

    With ``missing="indicator"`` a numeric covariate's missing values are set to the mean of
    the observed values and a 0/1 column ``<name>_missing`` is added; a categorical covariate
    gets a level ``"(missing)"``.
    """
    parts = []
    for c in covariates:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            s = s.astype(float)
            if missing == "indicator" and s.isna().any():
                parts.append(s.isna().astype(float).rename(f"{c}_missing"))
                s = s.fillna(s.mean())
            parts.append(s.rename(c))
        else:
            s = s.astype(object)
            if missing == "indicator":
                s = s.where(s.notna(), "(missing)")
            d = pd.get_dummies(s.astype("category"), prefix=c, prefix_sep="=", drop_first=True,
                               dtype=float)
            if s.isna().any():
                d.loc[s.isna(), :] = np.nan
            parts.append(d)
    return pd.concat(parts, axis=1)


def fit_propensity(df: pd.DataFrame, exposure: str, levels: tuple[Any, Any],
                   covariates: Sequence[str], *,
                   missing: str = "complete_case") -> PropensityResult:
    """Fit the propensity score P(exposure = levels[1] | covariates) by logistic regression.

    Parameters
    ----------
    df : DataFrame
        One row per patient.
    exposure : str
        Exposure column; rows with another value (or missing) are excluded.
    levels : (control, treated)
        The two exposure levels; ``treated`` = 1.
    covariates : sequence of str
        Prespecified baseline covariates; numeric enter linearly, others dummy-coded.
    missing : {"complete_case", "indicator"}
        ``"complete_case"`` drops rows with any missing covariate (counted in
        ``n_excluded``); ``"indicator"`` keeps them (mean imputation plus a missing
        indicator, or a ``"(missing)"`` level), so ``n_excluded`` counts only exposure.

    Returns
    -------
    PropensityResult

    References
    ----------
    Rosenbaum PR, Rubin DB. Biometrika 1983;70:41-55.
    """
    fn = "fit_propensity"
    check_choice(missing, ("complete_case", "indicator"), "missing", fn)
    require_columns(df, [exposure, *covariates], "df", fn)
    n_total = len(df)
    d = df[df[exposure].isin(list(levels))]
    X = design_matrix(d, covariates, missing)
    keep = X.notna().all(axis=1)
    X, d = X[keep], d[keep]
    t = (d[exposure] == levels[1]).astype(float)
    X = X.loc[:, X.std(ddof=0) > 0]
    model = sm.Logit(t, sm.add_constant(X, has_constant="add")).fit(disp=0)
    lp = np.asarray(model.fittedvalues, dtype=float)
    frame = pd.DataFrame({"treated": t.astype(int), "ps": 1 / (1 + np.exp(-lp)),
                          "logit_ps": lp}, index=d.index)
    return PropensityResult(frame, n_total, n_total - len(frame), missing, model)
