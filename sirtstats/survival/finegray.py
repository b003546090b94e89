"""Fine–Gray subdistribution hazards: the weighted data set of R ``survival::finegray``.

Implements R6.6.1 (docs/rules/statistics.md). The subdistribution hazard of cause k keeps
the subjects who had a competing event in the risk set after their event time, with a
weight equal to the probability of still being uncensored (Fine & Gray, JASA
1999;94:496–509). R ``finegray()`` (Therneau, Crowson & Atkinson, vignette "Multi-state
models and competing risks", section 3) writes that as a counting-process data set:

* G(t) is the Kaplan–Meier estimate of the censoring distribution (censoring is the "event";
  at a tied time the events of any cause leave the risk set before the censorings);
* the censoring times c_1 < ... < c_m and the largest time of the stratum cut the time axis
  into intervals; ``G`` is constant on each;
* a subject with a competing event at T keeps its row, extended to the end of the interval
  that contains T (weight 1), plus one row per later interval that contains an event of
  cause k (intervals without such an event do not change the partial likelihood and are left
  out), weight G(start of the interval) / G(start of the interval containing T);
* every other subject keeps one row (0, T], weight 1, status 1 for cause k.

A Cox model fitted on (fgstart, fgstop] with weights ``fgwt`` (Efron ties) is the Fine–Gray
model; its coefficient equals ``coxph(Surv(fgstart, fgstop, fgstatus) ~ x, weights = fgwt)``
and the model-based SE is R's ``sqrt(diag(fit$var))`` (the fit here is lifelines'
``CoxTimeVaryingFitter`` with ``weights_col``). ``cmprsk::crr`` computes the weights at each
event time rather than per interval and a sandwich SE, so it differs slightly.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from sirtstats.exceptions import SirtDataError
from sirtstats.survival._common import _timefix
from sirtstats.survival.cox import LIFELINES_FIT_OPTIONS

__all__ = ["compare_finegray_cause_specific", "finegray_data", "fit_finegray"]

FG_COLUMNS = ("fgstart", "fgstop", "fgstatus", "fgwt")


def _censoring_km(t: np.ndarray, cens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Censoring times and G at them; an event at a censoring time has left the risk set."""
    ctime = np.unique(t[cens])
    at_risk = np.array([np.sum(t > c) + np.sum((t == c) & cens) for c in ctime])
    d = np.array([np.sum((t == c) & cens) for c in ctime])
    return ctime, np.cumprod(1 - d / at_risk)


def _split_stratum(t, status_event, competing, cens, zero):
    """Rows (original position, start, stop, status, weight) of one stratum."""
    times = np.unique(t[status_event])
    if len(times) == 0:
        return None
    ctime, cprob = _censoring_km(t, cens)
    ct2 = np.r_[ctime, t.max()]
    cp2 = np.r_[1.0, cprob]
    keep = np.zeros(len(ct2), dtype=bool)
    keep[0] = True
    idx = np.searchsorted(ct2, times, side="left")  # R findInterval(left.open = TRUE)
    keep[idx[idx >= 1]] = True
    rows = []
    for i in range(len(t)):
        if not competing[i]:
            rows.append((i, zero, t[i], float(status_event[i]), 1.0))
            continue
        j0 = int(np.searchsorted(ct2, t[i], side="left"))  # first ct2 >= T
        rows.append((i, zero, ct2[j0], 0.0, 1.0))
        rows.extend((i, ct2[j - 1], ct2[j], 0.0, cp2[j] / cp2[j0])
                    for j in range(j0 + 1, len(ct2)) if keep[j])
    return rows


def finegray_data(df: pd.DataFrame, time_col: str, cause_col: str, event, *,
                  censored=0, strata_col: str | None = None,
                  timefix: bool = True) -> pd.DataFrame:
    """Fine–Gray weighted counting-process data set (port of R ``survival::finegray``).

    Parameters
    ----------
    df : DataFrame
        One row per subject; every column is carried into the result.
    time_col : str
        Follow-up time (any unit, > 0 or >= 0).
    cause_col : str
        Cause of the end of follow-up: ``censored``, ``event`` or a competing cause (e.g.
        progression / death without progression / transplant or resection).
    event
        The cause whose subdistribution hazard is modelled (R ``etype``).
    censored
        The code of censoring (default 0).
    strata_col : str, optional
        The censoring distribution is estimated within strata (R ``strata()`` in the formula);
        strata without an event of interest are dropped, as in R.
    timefix : bool
        Merge times closer than sqrt(machine eps) first (R ``aeqSurv``, default in R).

    Returns
    -------
    DataFrame
        The columns of ``df`` (rows repeated) plus ``fgstart``, ``fgstop``, ``fgstatus``
        (1 = event of interest) and ``fgwt``, in R's row order (subject by subject, strata
        one after the other). Fit ``(fgstart, fgstop]`` with weights ``fgwt``.

    References
    ----------
    Fine JP, Gray RJ. J Am Stat Assoc 1999;94:496–509. R survival ``finegray`` (3.5).
    """
    for col in [time_col, cause_col] + ([strata_col] if strata_col else []):
        if col not in df.columns:
            raise SirtDataError(f"finegray_data: missing column {col!r}.", column=col,
                                rule="required column")
    data = df[df[time_col].notna() & df[cause_col].notna()].reset_index(drop=True)
    t = data[time_col].to_numpy(dtype=float)
    if timefix:
        (t,) = _timefix(t)
    cause = data[cause_col].to_numpy()
    tmin = float(t.min())
    zero = 0.0 if tmin > 0 else 2 * tmin - 1
    strat = (np.zeros(len(t), dtype=int) if strata_col is None
             else pd.factorize(data[strata_col], sort=True)[0])
    pieces = []
    for s in np.unique(strat):
        pos = np.flatnonzero(strat == s)
        cs = cause[pos]
        rows = _split_stratum(t[pos], cs == event, (cs != event) & (cs != censored),
                              cs == censored, zero)
        if rows is None:
            continue
        r = np.array(rows, dtype=float)
        out = data.iloc[pos[r[:, 0].astype(int)]].reset_index(drop=True)
        for k, name in enumerate(FG_COLUMNS, start=1):
            out[name] = r[:, k]
        out["fgstatus"] = out["fgstatus"].astype(int)
        pieces.append(out)
    if not pieces:
        raise SirtDataError(f"finegray_data: no subject has the event {event!r}.",
                            column=cause_col, rule="event of interest observed")
    return pd.concat(pieces, ignore_index=True)


def _risk_sums(X, r, sel):
    return r[sel].sum(), r[sel] @ X[sel], (X[sel] * r[sel, None]).T @ X[sel]


def _information_and_residuals(X, beta, start, stop, status, w):
    """Observed information and score residuals of the weighted (start, stop] Cox model.

    Efron ties, as R ``agfit4`` / ``agscore3``: at an event time with d tied events the k-th
    (k = 0..d−1) denominator removes k/d of the events' weighted risk, each term weighted
    by the mean case weight of the tied events; a tied event is at risk for a fraction
    (1 − k/d) of the k-th term. Returns (information, residuals); the residuals are per row,
    not multiplied by the case weight.
    """
    e = np.exp(X @ beta)
    r = w * e
    info = np.zeros((X.shape[1], X.shape[1]))
    resid = np.where(status[:, None] == 1, X, 0.0)
    for t in np.unique(stop[status == 1]):
        risk = (start < t) & (stop >= t)
        dead = (stop == t) & (status == 1)
        nd = int(dead.sum())
        s0, s1, s2 = _risk_sums(X, r, risk)
        d0, d1, d2 = _risk_sums(X, r, dead)
        meanwt = w[dead].mean()
        frac = np.arange(nd) / nd
        a0 = s0 - frac * d0
        means = (s1[None, :] - frac[:, None] * d1[None, :]) / a0[:, None]
        for k in range(nd):
            a2 = s2 - frac[k] * d2
            info += meanwt * (a2 / a0[k] - np.outer(means[k], means[k]))
        h = meanwt / a0
        alive = risk & ~dead
        resid[alive] -= e[alive, None] * (X[alive] * h.sum() - h @ means)
        hd = (1 - frac) * h
        resid[dead] -= means.mean(axis=0)
        resid[dead] -= e[dead, None] * (X[dead] * hd.sum() - hd @ means)
    return info, resid


def _cox_frame(coef, se, terms, conf_level) -> pd.DataFrame:
    z = norm.ppf(1 - (1 - conf_level) / 2)
    coef, se = np.asarray(coef, float), np.asarray(se, float)
    return pd.DataFrame({"term": list(terms), "coef": coef, "se": se, "hr": np.exp(coef),
                         "hr_lower": np.exp(coef - z * se), "hr_upper": np.exp(coef + z * se),
                         "p": 2 * norm.sf(np.abs(coef / se))})


def fit_finegray(df: pd.DataFrame, covariates: Sequence[str], time_col: str, cause_col: str,
                 event, *, censored=0, strata_col: str | None = None,
                 conf_level: float = 0.95) -> pd.DataFrame:
    """Fine–Gray subdistribution hazard ratios of numeric ``covariates`` for cause ``event``.

    Builds :func:`finegray_data` and fits the weighted counting-process Cox model (Efron ties,
    lifelines ``CoxTimeVaryingFitter(weights_col="fgwt")``, convergence 1e-12): R
    ``coxph(Surv(fgstart, fgstop, fgstatus) ~ covariates, weights = fgwt, data =
    finegray(...))``. Rows with a missing covariate are dropped first (complete case).

    Returns
    -------
    DataFrame
        One row per covariate: ``term``, ``coef``, ``se`` (model-based, as R prints),
        ``hr`` (subdistribution HR), ``hr_lower``, ``hr_upper``, ``p`` (Wald);
        ``attrs`` hold ``n``, ``n_events`` and ``n_rows`` (of the expanded data).
    """
    from lifelines import CoxTimeVaryingFitter

    covariates = list(covariates)
    d = df.dropna(subset=covariates).reset_index(drop=True)
    d = d.assign(__fgid=np.arange(len(d)))
    keep = [time_col, cause_col, "__fgid", *covariates] + ([strata_col] if strata_col else [])
    fg = finegray_data(d[keep], time_col, cause_col, event, censored=censored,
                       strata_col=strata_col)
    fit_df = fg[["__fgid", "fgstart", "fgstop", "fgstatus", "fgwt", *covariates]]
    with warnings.catch_warnings():  # lifelines warns that non-integer weights need a robust SE
        warnings.simplefilter("ignore")
        f = CoxTimeVaryingFitter(alpha=1 - conf_level).fit(
            fit_df, event_col="fgstatus", start_col="fgstart", stop_col="fgstop",
            weights_col="fgwt", id_col="__fgid", fit_options=dict(LIFELINES_FIT_OPTIONS))
    coef = f.params_.reindex(covariates).to_numpy()
    wt = fg["fgwt"].to_numpy()
    info, resid = _information_and_residuals(
        fg[covariates].to_numpy(dtype=float), coef, fg["fgstart"].to_numpy(),
        fg["fgstop"].to_numpy(), fg["fgstatus"].to_numpy(), wt)
    naive = np.linalg.inv(info)
    dfbeta = (wt[:, None] * resid) @ naive
    by_subject = pd.DataFrame(dfbeta).groupby(fg["__fgid"].to_numpy()).sum().to_numpy()
    se_model = np.sqrt(np.diag(naive))
    se_robust = np.sqrt(np.diag(by_subject.T @ by_subject))
    se_row = np.sqrt(np.diag(dfbeta.T @ dfbeta))
    out = _cox_frame(coef, se_robust, covariates, conf_level)
    out["se_model"] = se_model
    out["se_robust_rows"] = se_row
    out.attrs.update(n=len(d), n_events=int((d[cause_col] == event).sum()), n_rows=len(fg))
    return out


def compare_finegray_cause_specific(df: pd.DataFrame, covariates: Sequence[str],
                                    time_col: str, cause_col: str, event, *, censored=0,
                                    conf_level: float = 0.95) -> pd.DataFrame:
    """Fine–Gray subdistribution HR beside the cause-specific Cox HR, one row per covariate.

    The cause-specific Cox censors the competing events (R ``coxph(Surv(time, cause ==
    event) ~ covariates)``): it answers "does the covariate change the rate of the event
    among those still free of any event", the Fine–Gray model "does it change the cumulative
    incidence" (Austin, Lee & Fine, Circulation 2016;133:601–609). Columns ``term``,
    ``model`` ("Cause-specific Cox" / "Fine-Gray"), ``hr``, ``hr_lower``, ``hr_upper``,
    ``p``, ``se``.
    """
    from sirtstats.survival.cox import fit_cox

    covariates = list(covariates)
    d = df.dropna(subset=[time_col, cause_col, *covariates]).reset_index(drop=True)
    d = d.assign(__cs_event=(d[cause_col] == event).astype(int))
    cs = fit_cox(d, covariates, time_col=time_col, event_col="__cs_event", ph_transform=None)
    h = cs.hr_table.set_index("term").loc[covariates].reset_index()
    rows = [h.assign(model="Cause-specific Cox")[["term", "model", "hr", "hr_lower",
                                                  "hr_upper", "p", "se"]]]
    fg = fit_finegray(d, covariates, time_col, cause_col, event, censored=censored,
                      conf_level=conf_level)
    rows.append(fg.assign(model="Fine-Gray")[["term", "model", "hr", "hr_lower", "hr_upper",
                                              "p", "se"]])
    return pd.concat(rows, ignore_index=True).sort_values(["term", "model"],
                                                          ignore_index=True)
