"""E-value (VanderWeele & Ding, Ann Intern Med 2017;167:268-274) and the estimates table."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["compare_estimates", "estimates_table", "evalue_hr"]


def _e(rr: float) -> float:
    rr = rr if rr >= 1 else 1 / rr
    return float(rr + np.sqrt(rr * (rr - 1)))


def _hr_to_rr(hr: float, rare: bool) -> float:
    if rare:
        return hr
    # common outcome (> 15 % by end of follow-up): VanderWeele & Ding's transform
    # RR = (1 − 0.5^sqrt(HR)) / (1 − 0.5^sqrt(1/HR))
    return (1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr))


def evalue_hr(hr: float, lower: float, upper: float, *, rare: bool = True) -> pd.Series:
    """E-value of a hazard ratio and of the CI limit closest to 1 (1 when the CI covers 1).

    ``rare=True``: HR ≈ RR (outcome < 15 %); ``rare=False``: the HR is first converted by
    VanderWeele & Ding's common-outcome transform (1 − 0.5^√HR)/(1 − 0.5^√(1/HR)).
    """
    lim = lower if hr >= 1 else upper
    e_ci = 1.0 if lower <= 1 <= upper else _e(_hr_to_rr(lim, rare))
    return pd.Series({"evalue_estimate": _e(_hr_to_rr(hr, rare)), "evalue_ci": e_ci})


def compare_estimates(rows: dict) -> pd.DataFrame:
    """Side-by-side table: ``rows`` maps a label to a mapping with hr, hr_lower, hr_upper, p."""
    out = pd.DataFrame([{"analysis": k, **dict(v)} for k, v in rows.items()])
    ev = [evalue_hr(r.hr, r.hr_lower, r.hr_upper) for r in out.itertuples()]
    return pd.concat([out, pd.DataFrame(ev)], axis=1)


def estimates_table(df: pd.DataFrame, time_col: str, event_col: str, exposure_col: str,
                    covariates, weights, *, cluster=None, weighted_label: str = "Weighted",
                    rare: bool = True) -> pd.DataFrame:
    """Unadjusted Cox, multivariable Cox (exposure + ``covariates``) and weighted Cox HR of
    the 0/1 ``exposure_col`` side by side, each with its E-value (model SE for the first two,
    robust SE for the weighted one; Efron ties throughout).
    """
    from ..survival.cox import fit_cox
    from .adjusted import weighted_cox

    rows = {}
    for label, cov in (("Unadjusted Cox", [exposure_col]),
                       ("Multivariable Cox", [exposure_col, *covariates])):
        r = fit_cox(df, cov, time_col=time_col, event_col=event_col, ph_transform=None)
        h = r.hr_table.set_index("term").loc[exposure_col]
        rows[label] = {"hr": h["hr"], "hr_lower": h["hr_lower"], "hr_upper": h["hr_upper"],
                       "p": h["p"], "n": r.n, "se": h["se"], "se_type": "model"}
    w = weighted_cox(df, time_col, event_col, exposure_col, weights, cluster=cluster)
    rows[weighted_label] = {"hr": w["hr"], "hr_lower": w["hr_lower"], "hr_upper": w["hr_upper"],
                            "p": w["p"], "n": int(np.sum(np.asarray(weights) > 0)),
                            "se": w["se_robust"],
                            "se_type": "robust" if cluster is None else "robust, clustered"}
    out = pd.DataFrame([{"analysis": k, **v} for k, v in rows.items()])
    ev = [evalue_hr(r.hr, r.hr_lower, r.hr_upper, rare=rare) for r in out.itertuples()]
    return pd.concat([out, pd.DataFrame(ev)], axis=1)
