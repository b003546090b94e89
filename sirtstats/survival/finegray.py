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

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.survival._agcox import ag_information_and_residuals, fit_ag_cox
from sirtstats.survival._common import _timefix

__all__ = ["compare_finegray_cause_specific", "finegray_data", "fit_finegray"]

FG_COLUMNS = ("fgstart", "fgstop", "fgstatus", "fgwt")


def _censoring_km(t: np.ndarray, cens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Censoring times and G at them; an event at a censoring time has left the risk set."""
    ctime, d = np.unique(t[cens], return_counts=True)
    beyond = len(t) - np.searchsorted(np.sort(t), ctime, side="right")  # sum(t > c)
    return ctime, np.cumprod(1 - d / (beyond + d))


def _split_stratum(t, status_event, competing, cens, zero):
    """Columns (original position, start, stop, status, weight) of one stratum's rows."""
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
    kept = np.flatnonzero(keep)
    j0 = np.where(competing, np.searchsorted(ct2, t, side="left"), 0)  # first ct2 >= T
    # a competing subject: its own row to the end of its interval, then one row per later
    # kept interval j, weight G(start of j) / G(start of its own interval)
    n_later = np.where(competing, len(kept) - np.searchsorted(kept, j0, side="right"), 0)
    counts = 1 + n_later
    pos = np.repeat(np.arange(len(t)), counts)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    k = np.arange(len(pos)) - first[pos]  # 0: the subject's own row
    later = k > 0
    j = np.zeros(len(pos), dtype=int)
    j[later] = kept[np.searchsorted(kept, j0[pos[later]], side="right") + k[later] - 1]
    own_stop = np.where(competing, ct2[j0], t)
    start = np.where(later, ct2[j - 1], zero)
    stop = np.where(later, ct2[j], own_stop[pos])
    status = np.where(later | competing[pos], 0.0, status_event[pos].astype(float))
    weight = np.where(later, cp2[j] / cp2[j0[pos]], 1.0)
    return np.column_stack([pos, start, stop, status, weight])


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
        r = _split_stratum(t[pos], cs == event, (cs != event) & (cs != censored),
                           cs == censored, zero)
        if r is None:
            continue
        out = data.iloc[pos[r[:, 0].astype(int)]].reset_index(drop=True)
        for k, name in enumerate(FG_COLUMNS, start=1):
            out[name] = r[:, k]
        out["fgstatus"] = out["fgstatus"].astype(int)
        pieces.append(out)
    if not pieces:
        raise SirtDataError(f"finegray_data: no subject has the event {event!r}.",
                            column=cause_col, rule="event of interest observed")
    return pd.concat(pieces, ignore_index=True)


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
    covariates = list(covariates)
    d = df.dropna(subset=covariates).reset_index(drop=True)
    d = d.assign(__fgid=np.arange(len(d)))
    keep = [time_col, cause_col, "__fgid", *covariates] + ([strata_col] if strata_col else [])
    fg = finegray_data(d[keep], time_col, cause_col, event, censored=censored,
                       strata_col=strata_col)
    X = fg[covariates].to_numpy(dtype=float)
    start, stop = fg["fgstart"].to_numpy(), fg["fgstop"].to_numpy()
    status, wt = fg["fgstatus"].to_numpy(), fg["fgwt"].to_numpy()
    coef, converged = fit_ag_cox(X, start, stop, status, wt)
    if not converged:
        warnings.warn(f"fit_finegray: Newton-Raphson did not converge for {covariates} "
                      "(monotone likelihood?); the estimates are not reliable.",
                      SirtStatsWarning, stacklevel=2)
    info, resid = ag_information_and_residuals(X, coef, start, stop, status, wt)
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
