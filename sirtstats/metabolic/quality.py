"""PET scan-quality checks of PERCIST 1.0 (rule P1.10), as warnings and a quality frame."""

from __future__ import annotations

import warnings

import pandas as pd

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.metabolic._rules import (
    GLUCOSE_MAX_MMOL_L,
    REFERENCE_ABS_SUL,
    REFERENCE_REL,
    UPTAKE_MAX_DIFF_MIN,
    UPTAKE_WINDOW_MIN,
    exact,
)
from sirtstats.response._common import require_columns

__all__ = ["QUALITY_COLUMNS", "check_pet_quality"]

#: Columns of the frame :func:`check_pet_quality` returns.
QUALITY_COLUMNS = ["patient_id", "scan_date", "check", "value", "limit"]


def check_pet_quality(df_pet: pd.DataFrame) -> pd.DataFrame:
    """Scan-quality problems that make a PERCIST comparison unreliable (rule P1.10).

    Parameters
    ----------
    df_pet : DataFrame
        ``pet_assessments``: ``patient_id``, ``scan_date`` and, where recorded,
        ``uptake_time_min`` (min), ``blood_glucose_mmol_l`` (mmol/L), ``liver_sul_mean`` and
        ``blood_pool_sul_mean`` (SUL, g/mL). The earliest scan of a patient is the baseline.

    Returns
    -------
    DataFrame
        One row per problem (:data:`QUALITY_COLUMNS`); ``check`` is one of
        ``uptake_time_outside_50_70``, ``uptake_time_differs_from_baseline``,
        ``liver_reference_changed``, ``blood_pool_reference_changed``, ``glucose_above_11_1``.
        Empty when every scan passes.

    Warns
    -----
    SirtStatsWarning
        When any problem is found (the count and the checks).

    References
    ----------
    Wahl et al., J Nucl Med 2009;50 Suppl 1:122S-150S, section "PERCIST 1.0", patient
    preparation and scan-quality requirements (uptake 60 min, 50-70 min, within 15 min of
    baseline; liver SUL within 20 % and 0.3 units; glucose < 200 mg/dL).

    Examples
    --------
    >>> import pandas as pd
    >>> pet = pd.DataFrame({"patient_id": ["P1", "P1"],
    ...     "scan_date": pd.to_datetime(["2024-01-01", "2024-04-01"]),
    ...     "uptake_time_min": [60, 62], "blood_glucose_mmol_l": [5.0, 5.5]})
    >>> check_pet_quality(pet).empty
    True
    """
    require_columns(df_pet, ["patient_id", "scan_date"], "pet_assessments",
                    "check_pet_quality")
    pet = df_pet.sort_values(["patient_id", "scan_date"], kind="mergesort")
    rows = []
    for pid, scans in pet.groupby("patient_id", sort=False):
        base = scans.iloc[0]
        for i, (_, s) in enumerate(scans.iterrows()):
            rows.extend((pid, s["scan_date"], *p) for p in _scan_problems(s, base, bool(i)))
    out = pd.DataFrame(rows, columns=QUALITY_COLUMNS)
    if len(out):
        warnings.warn(f"{len(out)} PET scan-quality problem(s) (PERCIST P1.10): "
                      f"{sorted(set(out['check']))}.", SirtStatsWarning, stacklevel=2)
    return out


def _scan_problems(s, base, follow_up):
    """``(check, value, limit)`` of each problem of scan ``s``, in the order of the checks."""
    return [*_uptake_problems(s, base, follow_up), *_glucose_problems(s),
            *(_reference_problems(s, base) if follow_up else [])]


def _uptake_problems(s, base, follow_up):
    """Uptake time outside 50-70 min, or (follow-up) more than 15 min from the baseline's."""
    up = s.get("uptake_time_min")
    if up is None or pd.isna(up):
        return []
    lo, hi = UPTAKE_WINDOW_MIN
    problems = []
    if up < lo or up > hi:
        problems.append(("uptake_time_outside_50_70", up, f"{lo:g}-{hi:g} min"))
    b_up = base.get("uptake_time_min")
    if follow_up and b_up is not None and pd.notna(b_up) and abs(up - b_up) > \
            UPTAKE_MAX_DIFF_MIN:
        problems.append(("uptake_time_differs_from_baseline", up,
                         f"baseline {b_up:g} ± {UPTAKE_MAX_DIFF_MIN:g} min"))
    return problems


def _glucose_problems(s):
    """Blood glucose above 11.1 mmol/L (200 mg/dL)."""
    g = s.get("blood_glucose_mmol_l")
    if g is not None and pd.notna(g) and g > GLUCOSE_MAX_MMOL_L:
        return [("glucose_above_11_1", g, f"<= {GLUCOSE_MAX_MMOL_L:g} mmol/L (200 mg/dL)")]
    return []


def _reference_problems(s, base):
    """Liver or blood-pool SULmean changed from baseline by > 20 % and > 0.3 SUL."""
    problems = []
    for col, name in (("liver_sul_mean", "liver_reference_changed"),
                      ("blood_pool_sul_mean", "blood_pool_reference_changed")):
        v, b = s.get(col), base.get(col)
        if v is None or b is None or pd.isna(v) or pd.isna(b):
            continue
        diff = abs(exact(v) - exact(b))
        if diff > REFERENCE_REL * exact(b) and diff > REFERENCE_ABS_SUL:
            problems.append((name, v, f"baseline {b:g}: within 20 % or 0.3 SUL"))
    return problems
