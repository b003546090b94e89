"""The time origin of the endpoints (R5.1): :func:`derive_origin`.

Part of :mod:`sirtstats.endpoints` (import from there); docs/rules/endpoints.md.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from sirtstats._checks import check_choice as _check_choice
from sirtstats._checks import require_columns as _require_columns
from sirtstats.endpoints._rules import (
    ORIGINS,
    _to_dates,
)

__all__ = [
    "derive_origin",
]


# --------------------------------------------------------------------------------------------
# origin
# --------------------------------------------------------------------------------------------
def derive_origin(
    df: pd.DataFrame,
    *,
    origin: Literal["first_sirt", "workup", "diagnosis", "randomisation"] = "first_sirt",
    df_workups: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add the time origin (``origin``, ``origin_date``, ``entry_date``) to a patient frame.

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``patient_id`` (str) and the date column of the chosen origin:
        ``first_sirt_date``, ``workup_date``, ``diagnosis_date`` (with ``first_sirt_date`` for
        the delayed entry) or ``randomisation_date`` (datetime64).
    origin : {"first_sirt", "workup", "diagnosis", "randomisation"}, default "first_sirt"
        Time origin (R5.1). With ``"diagnosis"`` the patients enter the risk set at their
        first SIRT (delayed entry, left truncation): the time between diagnosis and SIRT is
        immortal for a SIRT cohort.
    df_workups : DataFrame, optional
        The ``workups`` table (``patient_id``, ``workup_date``): with ``origin="workup"`` and
        no ``workup_date`` column in ``df``, the patient's first work-up date is used.

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``origin`` (str), ``origin_date`` and ``entry_date``
        (datetime64; equal to ``origin_date`` unless the entry is delayed).

    Raises
    ------
    ValueError
        Unknown ``origin``.
    SirtDataError
        The origin's date column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.endpoints import derive_origin
    >>> df = pd.DataFrame({"patient_id": ["P1"],
    ...                    "diagnosis_date": pd.to_datetime(["2023-11-02"]),
    ...                    "first_sirt_date": pd.to_datetime(["2024-01-10"])})
    >>> derive_origin(df, origin="diagnosis")[["origin", "origin_date", "entry_date"]]
          origin origin_date entry_date
    0  diagnosis  2023-11-02 2024-01-10
    """
    _check_choice(origin, tuple(ORIGINS), "origin", "derive_origin")
    date_col, entry_col = ORIGINS[origin]
    if origin == "workup" and "workup_date" not in df.columns and df_workups is not None:
        _require_columns(df_workups, ["patient_id", "workup_date"], "workups", "derive_origin")
        first = df_workups.groupby("patient_id")["workup_date"].min()
        df = df.assign(workup_date=df["patient_id"].map(first))
    _require_columns(df, ["patient_id", date_col] + ([entry_col] if entry_col else []),
                     "patients", "derive_origin")
    out = df.copy()
    out["origin"] = origin
    out["origin_date"] = _to_dates(df[date_col], "patients", date_col)
    out["entry_date"] = (
        _to_dates(df[entry_col], "patients", entry_col) if entry_col else out["origin_date"]
    )
    return out
