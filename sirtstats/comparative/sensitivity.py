"""E-value (VanderWeele & Ding, Ann Intern Med 2017;167:268-274) and the estimates table."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["compare_estimates", "evalue_hr"]


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
