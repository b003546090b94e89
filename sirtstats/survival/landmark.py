"""Guarantee-time (immortal-time) bias: landmark analysis and time-dependent Cox.

Implements R5.6 (docs/rules/endpoints.md) (R5.6.1–R5.6.3): comparing survival between groups
defined after the origin (response, BOR) credits the responders with guaranteed event-free
time. sirtstats refuses such a naive analysis (:func:`check_guarantee_time`) and offers the
two remedies named by Giobbie-Hurder, Gelber & Regan (J Clin Oncol 2013;31:2963–2969):

* the conditional **landmark** method (Anderson, Cain & Gelber, J Clin Oncol 1983;1:710–719):
  :func:`derive_landmark`;
* the **time-dependent covariate** (Mantel & Byar, J Am Stat Assoc 1974;69:81–86): the
  counting-process layout :func:`derive_counting_process` (R ``tmerge``) and
  :func:`fit_time_dependent_cox` (R ``coxph(Surv(tstart, tstop, event) ~ resp)``; Efron
  ties, sirtstats' counting-process Cox core, decision D78).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.endpoints import DAYS_PER_MONTH
from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.survival._common import (
    RESPONSE_DERIVED_COLUMNS,
    _check_choice,
    check_guarantee_time,
)
from sirtstats.survival.cox import (
    CoxResult,
    _hr_table,
    _infinite_by_score,
    _monotone_columns,
    _score_info,
    _score_test,
    _tests_frame,
    fit_cox,
)
from sirtstats.survival.km import summarise_km
from sirtstats.survival.logrank import test_logrank

__all__ = [
    "RESPONSE_DERIVED_COLUMNS",
    "check_guarantee_time",
    "derive_counting_process",
    "derive_landmark",
    "fit_time_dependent_cox",
    "summarise_landmark",
]

def _response_days(df: pd.DataFrame, df_responses: pd.DataFrame, response_col: str,
                   function: str) -> pd.Series:
    """Days from each row's origin to its response (NaN = no response), aligned to df."""
    if "patient_id" not in df_responses.columns or response_col not in df_responses.columns:
        raise SirtDataError(
            f"{function}: df_responses needs columns 'patient_id' and {response_col!r}.",
            column=response_col, rule="required column")
    is_date = pd.api.types.is_datetime64_any_dtype(df_responses[response_col])
    for col in ["patient_id"] + (["origin_date"] if is_date else []):
        if col not in df.columns:
            raise SirtDataError(f"{function}: df needs column {col!r}.", column=col,
                                rule="required column")
    r = df_responses.loc[df_responses[response_col].notna(), ["patient_id", response_col]]
    if "is_responder" in df_responses.columns:
        r = r.loc[df_responses.loc[r.index, "is_responder"].astype("boolean").fillna(False)
                  .to_numpy()]
    if r["patient_id"].duplicated().any():
        raise SirtDataError(f"{function}: df_responses has several rows per patient.",
                            column="patient_id", rule="unique")
    resp = df["patient_id"].astype(str).map(r.set_index(r["patient_id"].astype(str))[
        response_col])
    if is_date:
        days = (pd.to_datetime(resp) - pd.to_datetime(df["origin_date"])).dt.days
    else:
        days = pd.to_numeric(resp, errors="coerce")
    return days.astype(float)


def derive_landmark(
    df: pd.DataFrame,
    df_responses: pd.DataFrame,
    *,
    landmark_days: float | None = None,
    landmark_months: float | None = None,
    response_col: str = "first_response_date",
    time_col: str = "time_days",
    event_col: str = "event",
) -> pd.DataFrame:
    """Landmark data set: patients event-free and followed at L, grouped by response by L.

    Parameters
    ----------
    df : DataFrame
        One endpoint's rows from :func:`sirtstats.endpoints.derive_endpoints` (``patient_id``,
        ``origin_date``, ``time_days``, ``event``; other columns are kept).
    df_responses : DataFrame
        ``patient_id`` and ``response_col``: the response date (datetime64) or the response day
        after the origin (number); optional ``is_responder``. Patients absent = no response.
    landmark_days, landmark_months : float
        The landmark L, in days or in months (× 30.4375); give exactly one.
    response_col : str, default "first_response_date"
        Response date/day column of ``df_responses``.
    time_col, event_col : str
        Time (days from the origin) and event columns of ``df``.

    Returns
    -------
    DataFrame
        Every row of ``df`` with added ``landmark_days``, ``response_days`` (NaN = none),
        ``is_responder_at_landmark`` (response day ≤ L), ``landmark_group``
        (``"responder"``/``"non-responder"``), ``is_included`` (time > L),
        ``exclusion_reason`` (``""``, ``"event on or before landmark"``, ``"censored on or
        before landmark"``) and, for included rows, ``time_days``/``time_months`` measured
        from L (NaN when excluded); the original times are kept as ``time_days_origin``.

    Notes
    -----
    R5.6.2: only patients still event-free and under follow-up after L are kept
    (``time > L``); responses after L count as non-response; time restarts at L. Run it for
    several L as a sensitivity analysis.

    References
    ----------
    Anderson JR, Cain KC, Gelber RD. J Clin Oncol 1983;1:710–719. R5.6.2
    (docs/rules/endpoints.md).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import derive_landmark
    >>> os_ = pd.DataFrame({"patient_id": ["1", "3"], "time_days": [400, 70],
    ...                     "event": [1, 1]})
    >>> resp = pd.DataFrame({"patient_id": ["1"], "response_day": [60]})
    >>> lm = derive_landmark(os_, resp, landmark_days=90, response_col="response_day")
    >>> lm[["patient_id", "is_included", "landmark_group", "time_days"]]
      patient_id  is_included landmark_group  time_days
    0          1         True      responder      310.0
    1          3        False  non-responder        NaN
    """
    if (landmark_days is None) == (landmark_months is None):
        raise ValueError("derive_landmark needs exactly one of 'landmark_days' and "
                         "'landmark_months'.")
    L = float(landmark_days if landmark_days is not None
              else landmark_months * DAYS_PER_MONTH)
    for col in ("patient_id", time_col, event_col):
        if col not in df.columns:
            raise SirtDataError(f"derive_landmark: df needs column {col!r}.", column=col,
                                rule="required column")
    days = _response_days(df, df_responses, response_col, "derive_landmark")
    t = pd.to_numeric(df[time_col]).astype(float)
    out = df.copy()
    out["time_days_origin"] = t.to_numpy()
    out["landmark_days"] = L
    out["response_days"] = days.to_numpy()
    resp = (days <= L).fillna(False).to_numpy()
    out["is_responder_at_landmark"] = resp
    out["landmark_group"] = np.where(resp, "responder", "non-responder")
    inc = (t > L).to_numpy()
    out["is_included"] = inc
    ev = pd.to_numeric(df[event_col]).to_numpy()
    out["exclusion_reason"] = np.where(
        inc, "", np.where(ev == 1, "event on or before landmark",
                          "censored on or before landmark"))
    out["time_days"] = np.where(inc, t - L, np.nan)
    out["time_months"] = out["time_days"] / DAYS_PER_MONTH
    return out


def derive_counting_process(
    df: pd.DataFrame,
    df_responses: pd.DataFrame,
    *,
    response_col: str = "first_response_date",
    time_col: str = "time_days",
    event_col: str = "event",
) -> pd.DataFrame:
    """Split follow-up at the response date: counting-process rows for a time-dependent Cox.

    Parameters
    ----------
    df : DataFrame
        One endpoint's rows (``patient_id``, ``origin_date`` when responses are dates,
        ``time_days``, ``event``).
    df_responses : DataFrame
        ``patient_id`` and ``response_col`` (date or day after the origin).
    response_col, time_col, event_col : str
        Column names.

    Returns
    -------
    DataFrame
        One or two rows per patient, sorted by patient and start: ``patient_id``,
        ``start_days``, ``stop_days``, ``is_responder`` (0 before the response, 1 from it),
        ``event`` (only on the last row), and ``start_months``/``stop_months``.

    Notes
    -----
    A patient responding at day r < time contributes (0, r, 0, 0) and (r, time, 1, event);
    otherwise (0, time, 0, event), as R ``tmerge(..., tdc(response_day))`` (R5.6.3, WE28).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import derive_counting_process
    >>> os_ = pd.DataFrame({"patient_id": ["1"], "time_days": [400], "event": [1]})
    >>> resp = pd.DataFrame({"patient_id": ["1"], "response_day": [60]})
    >>> derive_counting_process(os_, resp, response_col="response_day")[
    ...     ["patient_id", "start_days", "stop_days", "is_responder", "event"]]
      patient_id  start_days  stop_days  is_responder  event
    0          1         0.0       60.0             0      0
    1          1        60.0      400.0             1      1
    """
    days = _response_days(df, df_responses, response_col, "derive_counting_process")
    t = pd.to_numeric(df[time_col]).astype(float).to_numpy()
    ev = pd.to_numeric(df[event_col]).astype(int).to_numpy()
    r = days.to_numpy()
    pid = df["patient_id"].astype(str).to_numpy()
    split = ~np.isnan(r) & (r > 0) & (r < t)
    resp_at_0 = ~np.isnan(r) & (r <= 0)
    first = pd.DataFrame({"patient_id": pid, "start_days": 0.0,
                          "stop_days": np.where(split, r, t),
                          "is_responder": resp_at_0.astype(int),
                          "event": np.where(split, 0, ev), "_o": 0})
    second = pd.DataFrame({"patient_id": pid[split], "start_days": r[split],
                           "stop_days": t[split], "is_responder": 1, "event": ev[split],
                           "_o": 1})
    out = pd.concat([first, second], ignore_index=True)
    out = out.sort_values(["patient_id", "_o"], kind="mergesort").drop(columns="_o")
    out = out.reset_index(drop=True)
    out["start_months"] = out["start_days"] / DAYS_PER_MONTH
    out["stop_months"] = out["stop_days"] / DAYS_PER_MONTH
    return out


def fit_time_dependent_cox(
    df: pd.DataFrame,
    *,
    covariates: Sequence[str] = ("is_responder",),
    start_col: str = "start_days",
    stop_col: str = "stop_days",
    event_col: str = "event",
    id_col: str = "patient_id",
    conf_level: float = 0.95,
    check_type: Literal["error", "warning"] = "error",
):
    """Cox model with time-dependent covariates on counting-process rows (Efron ties).

    Parameters
    ----------
    df : DataFrame
        Counting-process rows, e.g. from :func:`derive_counting_process`.
    covariates : sequence of str, default ("is_responder",)
        Numeric (0/1 or continuous) covariate columns.
    start_col, stop_col, event_col, id_col : str
        Column names.
    conf_level : float, default 0.95
        Level of the HR intervals.

    check_type : {"error", "warning"}, default "error"
        A model that cannot be fitted raises SirtDataError, or warns and returns a result
        without estimates (NaN HR): a constant covariate, an infinite coefficient (monotone
        likelihood, e.g. no responder dying; found from the data or by R's ``toler.inf``
        check, see :func:`fit_cox`), or another failure of the fit (collinearity).

    Returns
    -------
    CoxResult
        HR table, Wald/LR/score tests (the score test of a binary time-dependent response is
        the Mantel–Byar test), no PH test; ``fitter`` is None (the model is fitted by
        sirtstats' own counting-process Cox core, D78, which lifelines'
        ``CoxTimeVaryingFitter`` took 20 s for at 20,000 patients).

    References
    ----------
    Mantel N, Byar DP. J Am Stat Assoc 1974;69:81–86. R5.6.3 (docs/rules/endpoints.md).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import fit_time_dependent_cox
    >>> cp = pd.DataFrame({"patient_id": ["1", "1", "2", "3", "4", "4", "5"],
    ...                    "start_days": [0, 60, 0, 0, 0, 30, 0],
    ...                    "stop_days": [60, 400, 300, 70, 30, 200, 500],
    ...                    "is_responder": [0, 1, 0, 0, 0, 1, 0],
    ...                    "event": [0, 1, 1, 1, 0, 1, 0]})
    >>> res = fit_time_dependent_cox(cp)
    >>> res.n, res.n_events
    (5, 4)
    """
    from sirtstats.survival._agcox import fit_ag_cox_summary

    _check_choice(check_type, ("error", "warning"), "check_type", "fit_time_dependent_cox")
    covariates = list(covariates)
    cols = [id_col, start_col, stop_col, event_col, *covariates]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SirtDataError(f"fit_time_dependent_cox: missing column(s) {missing}.",
                            column=missing[0], rule="required column")
    data = df[cols].dropna()
    n_excluded = len(df) - len(data)
    if n_excluded:
        warnings.warn(f"fit_time_dependent_cox: {n_excluded} rows with missing values were "
                      "excluded.", SirtStatsWarning, stacklevel=2)
    info = pd.DataFrame({"variable": covariates, "level": "", "reference": "",
                         "term": covariates})
    X = data[covariates].to_numpy(dtype=float)
    start = data[start_col].to_numpy(dtype=float)
    stop = data[stop_col].to_numpy(dtype=float)
    event = data[event_col].to_numpy(dtype=float)

    def not_fitted(reason, exc=None):
        message = f"fit_time_dependent_cox: the model cannot be fitted ({reason})."
        if check_type == "error":
            raise SirtDataError(message, rule="Cox fit converges") from exc
        warnings.warn(message.splitlines()[0], SirtStatsWarning, stacklevel=3)
        nan = np.full(len(covariates), np.nan)
        return CoxResult(
            hr_table=_hr_table(info, nan, nan, conf_level),
            tests=_tests_frame(np.nan, np.nan, np.nan, len(covariates)), ph_test=None,
            concordance=float("nan"), n=int(data[id_col].nunique()),
            n_events=int(data[event_col].sum()), n_excluded=n_excluded, ties="efron",
            conf_level=conf_level, fitter=None)

    # decided from the data and R's toler.inf check, not from whether lifelines raised
    constant = [c for c in covariates if data[c].nunique() <= 1]
    if constant:
        return not_fitted(f"covariate(s) {constant} are constant")
    infinite = [covariates[j] for j in _monotone_columns(X, stop, event, start=start)]
    if infinite:
        return not_fitted(f"covariate(s) {infinite} have an infinite coefficient: monotone "
                          "likelihood, R coxph warns 'coefficient may be infinite'")
    try:  # R coxph(Surv(start, stop, event) ~ x), Efron (D78)
        fit = fit_ag_cox_summary(X, start, stop, event)
    except np.linalg.LinAlgError as exc:  # a singular information matrix (collinearity)
        return not_fitted(str(exc), exc)
    if not fit.converged:
        return not_fitted("Newton-Raphson did not converge")
    coef, cov = fit.coef, np.linalg.inv(fit.information)
    se = np.sqrt(np.diag(cov))
    infinite = [covariates[j] for j in _infinite_by_score(X, coef, stop, event, start=start)]
    if infinite:
        return not_fitted(f"covariate(s) {infinite} have an infinite coefficient (R coxph: "
                          "'coefficient may be infinite')")
    ll_hat = _score_info(X, coef, stop, event, start=start)[-1]
    ll_0 = _score_info(X, np.zeros(len(coef)), stop, event, start=start)[-1]
    return CoxResult(
        hr_table=_hr_table(info, coef, se, conf_level),
        tests=_tests_frame(float(coef @ np.linalg.solve(cov, coef)), 2 * (ll_hat - ll_0),
                           _score_test(X, stop, event, start=start), len(coef)),
        ph_test=None,
        concordance=float("nan"),
        n=int(data[id_col].nunique()),
        n_events=int(event.sum()),
        n_excluded=n_excluded,
        ties="efron",
        conf_level=conf_level,
        fitter=None,
    )


def summarise_landmark(
    df: pd.DataFrame,
    df_responses: pd.DataFrame,
    *,
    landmarks_months: Sequence[float] = (3, 6),
    response_col: str = "first_response_date",
    time_col: str = "time_days",
    event_col: str = "event",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Landmark analysis of responders vs non-responders at several landmarks (R5.6.2).

    Parameters
    ----------
    df : DataFrame
        One endpoint's rows (as :func:`derive_landmark`).
    df_responses : DataFrame
        ``patient_id`` and ``response_col`` (date or day), optional ``is_responder``.
    landmarks_months : sequence of float, default (3, 6)
        Landmarks in months after the origin (× 30.4375 days); report several as a
        sensitivity analysis.
    response_col, time_col, event_col : str
        Column names.
    conf_level : float, default 0.95
        Level of the HR interval.

    Returns
    -------
    DataFrame
        One row per landmark: ``landmark_months``, ``n``, ``n_excluded_event``,
        ``n_excluded_censored``, ``n_included``, ``n_responders``, ``n_non_responders``,
        ``events_responders``, ``events_non_responders``, ``median_responders_months``,
        ``median_non_responders_months`` (from the landmark; NaN = not reached), ``hr``,
        ``hr_lower``, ``hr_upper`` (responders vs non-responders, Cox, Efron; NaN when the
        HR is infinite, monotone likelihood) and
        ``p_logrank`` (NaN when a group is empty or has no event).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.survival import summarise_landmark
    >>> os_ = pd.DataFrame({"patient_id": list("123456"),
    ...                     "time_days": [400, 500, 70, 300, 85, 200],
    ...                     "event": [1, 1, 1, 0, 0, 1]})
    >>> resp = pd.DataFrame({"patient_id": list("1256"), "response_day": [60, 150, 85, 90]})
    >>> tab = summarise_landmark(os_, resp, landmarks_months=[3], response_col="response_day")
    >>> tab[["n_included", "n_responders", "n_non_responders"]]
       n_included  n_responders  n_non_responders
    0           4             2                 2
    """
    rows = []
    for L in landmarks_months:
        lm = derive_landmark(df, df_responses, landmark_months=L, response_col=response_col,
                             time_col=time_col, event_col=event_col)
        inc = lm.loc[lm["is_included"]]
        resp = inc["is_responder_at_landmark"].astype(bool)
        ev = pd.to_numeric(inc[event_col])
        row = {
            "landmark_months": float(L), "n": len(lm),
            "n_excluded_event": int((lm["exclusion_reason"] == "event on or before landmark")
                                    .sum()),
            "n_excluded_censored": int((lm["exclusion_reason"]
                                        == "censored on or before landmark").sum()),
            "n_included": len(inc), "n_responders": int(resp.sum()),
            "n_non_responders": int((~resp).sum()),
            "events_responders": int(ev[resp].sum()),
            "events_non_responders": int(ev[~resp].sum()),
            "median_responders_months": np.nan, "median_non_responders_months": np.nan,
            "hr": np.nan, "hr_lower": np.nan, "hr_upper": np.nan, "p_logrank": np.nan,
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SirtStatsWarning)
            if len(inc):
                km = summarise_km(inc, time_col="time_months", event_col=event_col,
                                  by="landmark_group", landmarks=())
                med = km.set_index("landmark_group")["median"]
                row["median_responders_months"] = float(med.get("responder", np.nan))
                row["median_non_responders_months"] = float(med.get("non-responder", np.nan))
            if row["n_responders"] and row["n_non_responders"] and ev.sum() > 0:
                lr = test_logrank(inc, group_col="landmark_group", time_col="time_days",
                                  event_col=event_col)
                row["p_logrank"] = float(lr.table.loc[0, "p"])
                try:
                    cox = fit_cox(inc.assign(_responder=resp.astype(int)), ["_responder"],
                                  time_col="time_days", event_col=event_col,
                                  ph_transform=None, conf_level=conf_level)
                except SirtDataError as exc:  # infinite HR (monotone likelihood): NaN
                    if exc.rule != "Cox fit converges":
                        raise
                else:
                    hr = cox.hr_table.iloc[0]
                    row.update({"hr": hr["hr"], "hr_lower": hr["hr_lower"],
                                "hr_upper": hr["hr_upper"]})
        rows.append(row)
    return pd.DataFrame(rows)
