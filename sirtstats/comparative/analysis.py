"""One comparative analysis end to end (the calls of notebook 07, issue #16 item 9).

:func:`comparative_frame` turns the cohort's patient rows into the analysis frame (OS from the
first SIRT, the standard confounders coded as in ``DEMO_TRUTH`` and the prespecified subgroup
variables, per-patient 0/1 indicators for the centre table); :func:`run_comparison` fits the
propensity score, weights or matches, and collects balance, adjusted KM and the HR table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_choice, require_columns
from ..exceptions import SirtDataError
from .adjusted import weighted_km, weighted_km_median
from .balance import balance_table
from .matching import match_nearest
from .propensity import PropensityResult, fit_propensity
from .sensitivity import estimates_table
from .subgroups import _fit_errors
from .weights import compute_weights, kish_ess

__all__ = ["ESTIMATE_LABELS", "ComparativeResult", "balance_labels", "comparative_frame",
           "comparison_metrics", "competing_progression", "finegray_by_exposure",
           "numbers_at_risk", "run_comparison"]

#: Primary tumours kept apart in ``primary`` (the others are pooled, as in the demo truth).
PRIMARY_LEVELS = ("HCC", "mCRC", "ICC", "NET")
METHODS = ("iptw", "overlap", "matching")


def _burden(pct: pd.Series) -> pd.Series:
    return pd.cut(pct, [-np.inf, 25, 50, np.inf], labels=["≤ 25 %", "25–50 %", "> 50 %"])


def comparative_frame(patients: pd.DataFrame, adverse_events: pd.DataFrame | None = None,
                      bor: pd.DataFrame | None = None) -> pd.DataFrame:
    """Analysis frame of the cohort (one row per patient, index = ``patient_id``).

    Parameters
    ----------
    patients : DataFrame
        ``select_cohort(...).patients``.
    adverse_events : DataFrame, optional
        The registry's AE table: ``ae_grade3`` = any AE of grade >= 3 with onset on or after
        the first SIRT (0/1).
    bor : DataFrame, optional
        ``derive_best_overall_response`` output: ``responder`` = BOR CR or PR (0/1; missing
        for patients without a BOR row).

    Returns
    -------
    DataFrame
        Patient columns plus ``os_days`` (first SIRT to death or last contact, days),
        ``os_event`` (death), ``albi_grade`` (text "1"-"3"), ``bclc_C``, ``bclc_D``,
        ``ecog_ge1`` (0/1), ``primary`` (HCC, mCRC, ICC, NET, other), subgroup labels
        ``bclc_group``, ``ecog_group``, ``tumour_burden`` (tumour / liver volume: ≤ 25, 25–50,
        > 50 %), ``death_90d`` (death within 90 days; missing if alive and followed less),
        and the indicators above.
    """
    require_columns(patients, ["patient_id", "followup_days", "is_deceased", "albi_grade",
                               "bclc_stage", "ecog", "primary_tumour"], "patients",
                    "comparative_frame")
    d = patients.set_index("patient_id", drop=False).rename_axis(None).copy()
    d["os_days"] = d["followup_days"].astype(float)
    d["os_event"] = d["is_deceased"].fillna(False).astype(int)
    d["albi_grade"] = d["albi_grade"].astype("Int64").astype(str).replace("<NA>", np.nan)
    d["bclc_C"] = (d["bclc_stage"] == "C").astype(int)
    d["bclc_D"] = (d["bclc_stage"] == "D").astype(int)
    d["ecog_ge1"] = (d["ecog"] >= 1).astype(float).where(d["ecog"].notna())
    d["primary"] = d["primary_tumour"].where(d["primary_tumour"].isin(PRIMARY_LEVELS), "other")
    d["bclc_group"] = d["bclc_stage"].astype(object).replace({"0": "0/A/B", "A": "0/A/B",
                                                              "B": "0/A/B"})
    d["ecog_group"] = np.where(d["ecog"].isna(), None, np.where(d["ecog"] >= 1, "≥ 1", "0"))
    if "tumour_burden_pct" in d.columns:
        d["tumour_burden"] = _burden(d["tumour_burden_pct"])
    early = d["os_event"].astype(bool) & (d["os_days"] <= 90)
    d["death_90d"] = early.astype(float).where(early | (d["os_days"] >= 90))
    if adverse_events is not None:
        first = adverse_events["patient_id"].map(d["first_sirt_date"])
        hit = adverse_events.loc[(adverse_events["grade"] >= 3)
                                 & (adverse_events["onset_date"] >= first), "patient_id"]
        d["ae_grade3"] = d["patient_id"].isin(set(hit)).astype(int)
    if bor is not None:
        resp = bor.set_index("patient_id")["bor"].isin(["CR", "PR"]).astype(int)
        d["responder"] = resp.reindex(d.index).astype(float)
    return d


@dataclass
class ComparativeResult:
    """Everything notebook 07 shows.

    Attributes
    ----------
    frame : DataFrame
        Analysed rows (complete cases of the propensity model) with ``treated``, ``ps``,
        ``weight`` and, for matching, ``pair``.
    propensity : PropensityResult
    balance : DataFrame
        SMD before and after (:func:`balance_table`).
    km : DataFrame
        Weighted KM of OS per group (0 = control, 1 = treated).
    medians : Series
        Weighted KM median per group (days).
    estimates : DataFrame
        Unadjusted, multivariable and weighted Cox HR with E-values.
    ess : Series
        Kish effective sample size per group.
    settings : dict
    """

    frame: pd.DataFrame
    propensity: PropensityResult
    balance: pd.DataFrame
    km: pd.DataFrame
    medians: pd.Series
    estimates: pd.DataFrame
    ess: pd.Series
    settings: dict = field(default_factory=dict)
    extra: Any = None


def _weights(ps: PropensityResult, method: str, estimand: str, seed: int,
             caliper_sd: float):
    f = ps.frame
    if method == "matching":
        m = match_nearest(f["logit_ps"], f["treated"], caliper_sd=caliper_sd, seed=seed,
                          index=f.index)
        return m["weight"].to_numpy(), m["pair"].to_numpy(), "Matched"
    est = "overlap" if method == "overlap" else estimand
    label = "Overlap weights" if method == "overlap" else f"IPTW {estimand}"
    return compute_weights(f["ps"], f["treated"], estimand=est), None, label


def run_comparison(df: pd.DataFrame, exposure: str, levels: Sequence, covariates: Sequence[str],
                   *, estimand: str = "ATE", method: str = "iptw",
                   time_col: str = "os_days", event_col: str = "os_event",
                   missing: str = "complete_case", caliper_sd: float = 0.2,
                   seed: int = 0) -> ComparativeResult:
    """Propensity score, weights (or matching), balance, weighted KM and the HR table.

    Parameters
    ----------
    df : DataFrame
        :func:`comparative_frame` output (or any frame with the columns).
    exposure : str
        Exposure column; ``levels = (control, treated)``.
    covariates : sequence of str
        Prespecified confounders of the propensity model and of the multivariable Cox.
    estimand : {"ATE", "ATT"}
        Of the IPTW weights (``method="iptw"``); overlap weights target the overlap
        population, matching the treated (ATT-like).
    method : {"iptw", "overlap", "matching"}
    time_col, event_col : str
        Survival outcome (days, 0/1).
    missing : {"complete_case", "indicator"}
    caliper_sd, seed : float, int
        Matching caliper (SD of the logit) and seed of the matching order.

    Returns
    -------
    ComparativeResult
    """
    check_choice(method, METHODS, "method", "run_comparison")
    check_choice(estimand, ("ATE", "ATT"), "estimand", "run_comparison")
    levels = tuple(levels)
    ps = fit_propensity(df, exposure, levels, covariates, missing=missing)
    w, pair, label = _weights(ps, method, estimand, seed, caliper_sd)
    frame = df.loc[ps.frame.index].copy()
    frame = frame.assign(treated=ps.frame["treated"], ps=ps.frame["ps"], weight=w)
    if pair is not None:
        frame["pair"] = pair
    t = frame["treated"].to_numpy()
    bal = balance_table(frame, t, covariates, {label: w})
    km = weighted_km(frame[time_col], frame[event_col], w, t)
    est = estimates_table(frame, time_col, event_col, "treated", covariates, w,
                          cluster=pair, weighted_label=label)
    settings = {"exposure": exposure, "control": levels[0], "treated": levels[1],
                "covariates": list(covariates), "estimand": estimand, "method": method,
                "weights": label, "missing": missing, "n_excluded": ps.n_excluded}
    return ComparativeResult(frame=frame, propensity=ps, balance=bal, km=km,
                             medians=weighted_km_median(km), estimates=est,
                             ess=kish_ess(w, t), settings=settings)


def numbers_at_risk(result: ComparativeResult, labels: Sequence[str],
                    months: Sequence[float] = (0, 6, 12, 18, 24, 30, 36, 42, 48),
                    time_col: str = "os_days", event_col: str = "os_event",
                    days_per_month: float = 30.4375) -> pd.DataFrame:
    """Unweighted numbers at risk of the analysed groups at ``months`` (``group`` = label)."""
    from ..survival import compute_number_at_risk

    f = result.frame
    d = pd.DataFrame({"time_months": f[time_col].to_numpy(float) / days_per_month,
                      "event": f[event_col].to_numpy(int),
                      "group": np.where(f["treated"].to_numpy() == 1, labels[1], labels[0])})
    return compute_number_at_risk(d, list(months), by="group")


def comparison_metrics(result: ComparativeResult,
                       days_per_month: float = 30.4375) -> dict:
    """Key numbers of a comparison for ``save_metrics`` (HRs, E-values, ESS, medians)."""
    est = result.estimates.set_index("analysis")
    hr = {k: {c: float(est.loc[k, c]) for c in ("hr", "hr_lower", "hr_upper", "p",
                                                "evalue_estimate", "evalue_ci")}
          for k in est.index}
    med = {str(int(k)): (None if not np.isfinite(v) else round(float(v) / days_per_month, 2))
           for k, v in result.medians.items()}
    return {**{k: v for k, v in result.settings.items() if k != "covariates"},
            "covariates": list(result.settings["covariates"]),
            "n_analysed": len(result.frame), "n_treated": int(result.frame["treated"].sum()),
            "ess": {str(k): round(float(v), 1) for k, v in result.ess.items()},
            "hr": hr, "weighted_median_months": med}


#: Table headers of :func:`sirtstats.comparative.estimates_table` columns.
ESTIMATE_LABELS = {"analysis": "Analysis", "se_type": "SE", "evalue_estimate": "E-value",
                   "evalue_ci": "E-value, CI limit"}


def balance_labels(balance: pd.DataFrame) -> dict:
    """Headers of a :func:`balance_table`: "SMD, unadjusted", "SMD, IPTW ATE", "Balanced, ..."."""
    out = {"variable": "Covariate", "level": "Level"}
    for c in balance.columns:
        if c.startswith("smd_"):
            out[c] = f"SMD, {c.removeprefix('smd_')}"
        elif c.startswith("balanced_"):
            out[c] = f"Balanced (|SMD| < 0.1), {c.removeprefix('balanced_')}"
    return out


#: Surgery that removes the tumour-bearing liver: a competing event for progression.
SURGERY = ("transplant", "resection")


def competing_progression(pfs_rows: pd.DataFrame,
                          therapies: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cause of the end of progression-free follow-up, for competing-risks analyses.

    ``cause``: "progression", "death" (without progression), "transplant_resection" (first
    transplant or resection after the origin and before any PFS event: it ends the at-risk
    time of the liver; ``time_days`` is then the surgery date) or "censored".

    Parameters
    ----------
    pfs_rows : DataFrame
        ``derive_endpoints(..., endpoints=["PFS"])`` rows (``event_type`` progression / death /
        censored).
    therapies : DataFrame, optional
        The registry's ``other_therapies`` (``therapy_type``, ``start_date``).

    Returns
    -------
    DataFrame
        Index ``patient_id``; ``time_days`` and ``cause``.
    """
    p = pfs_rows.set_index("patient_id")
    out = pd.DataFrame({"time_days": p["time_days"].astype(float),
                        "cause": p["event_type"].where(p["event"] == 1, "censored")})
    if therapies is not None and len(therapies):
        s = therapies[therapies["therapy_type"].isin(SURGERY)]
        first = s.groupby("patient_id")["start_date"].min().reindex(p.index)
        days = (first - p["origin_date"]).dt.days
        hit = days.notna() & (days > 0) & ((p["event"] == 0) | (first < p["event_date"]))
        out.loc[hit, "time_days"] = days[hit].astype(float)
        out.loc[hit, "cause"] = "transplant_resection"
    return out


def finegray_by_exposure(df: pd.DataFrame, competing: pd.DataFrame, exposure: str,
                         levels: Sequence, *, event: str = "progression") -> pd.DataFrame:
    """Fine–Gray subdistribution HR of the treated level beside the cause-specific Cox HR.

    ``df`` is the :func:`comparative_frame` (index ``patient_id``), ``competing`` the
    :func:`competing_progression` output. Unadjusted (crude) comparison of the two levels.
    """
    from ..survival.finegray import compare_finegray_cause_specific

    d = df[df[exposure].isin(list(levels))]
    d = competing.reindex(d.index).assign(
        treated=(d[exposure] == levels[1]).astype(int)).dropna(subset=["time_days"])
    try:
        tab = compare_finegray_cause_specific(d, ["treated"], "time_days", "cause", event,
                                              censored="censored")
    except _fit_errors() + (SirtDataError,):  # too few events: not estimable
        tab = pd.DataFrame({"term": "treated", "model": ["Cause-specific Cox", "Fine-Gray"],
                            "hr": np.nan, "hr_lower": np.nan, "hr_upper": np.nan,
                            "p": np.nan, "se": np.nan})
    counts = d["cause"].value_counts()
    tab.attrs["causes"] = {str(k): int(v) for k, v in counts.items()}
    tab.attrs["causes_text"] = ", ".join(f"{str(k).replace('_', '/')} {int(v)}"
                                         for k, v in counts.items())
    return tab.drop(columns="term")
