"""Summary of the SIRT sessions of each patient (first and last date, sessions, devices).

Private module of :mod:`sirtstats.cohort` (import from there). The ``treatments`` table ordered
as in the registry: injections by date, administration time and id; a session is one
``session_id``.
"""

from __future__ import annotations

import pandas as pd

from sirtstats._checks import require_columns as _require_columns
from sirtstats.exceptions import SirtDataError

__all__ = ["FIRST_SIRT_COLUMNS", "derive_first_sirt"]


FIRST_SIRT_COLUMNS = [
    "patient_id",
    "first_sirt_date",
    "last_sirt_date",
    "n_sessions",
    "n_injections",
    "first_device",
    "devices",
    "first_workup_id",
]


def derive_first_sirt(
    df_treatments: pd.DataFrame, *, cutoff_date: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Summarise the SIRT sessions of each patient: first/last date, sessions, devices.

    Parameters
    ----------
    df_treatments : DataFrame
        The ``treatments`` table: ``patient_id`` (str), ``session_id`` (str), ``injection_id``
        (str), ``treatment_date`` (datetime64), ``device`` (str); optional
        ``administration_datetime`` (datetime64, orders injections of the same day) and
        ``workup_id`` (str).
    cutoff_date : str or Timestamp, optional
        Data cut-off: injections after it are ignored. None keeps every injection.

    Returns
    -------
    DataFrame
        One row per patient with at least one injection, sorted by ``patient_id``, with
        ``first_sirt_date`` and ``last_sirt_date`` (datetime64), ``n_sessions`` and
        ``n_injections`` (Int64), ``first_device`` (device of the first injection of the first
        session), ``devices`` (distinct devices, sorted, joined by ";") and
        ``first_workup_id`` (work-up of the first injection, may be missing).

    Raises
    ------
    SirtDataError
        If a required column is missing or a ``treatment_date`` is missing.

    Notes
    -----
    Injections are ordered by ``treatment_date``, then ``administration_datetime``, then
    ``injection_id``. A session is one ``session_id``; a patient treated on two days counts two
    sessions.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "injection_id": ["I1", "I2", "I3"],
    ...     "session_id":   ["S1", "S1", "S2"],
    ...     "patient_id":   ["P1", "P1", "P1"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10", "2024-01-10", "2024-03-01"]),
    ...     "device": ["Y90_glass", "Y90_glass", "Y90_resin"],
    ... })
    >>> derive_first_sirt(tx)[["patient_id", "n_sessions", "first_device", "devices"]]
      patient_id  n_sessions first_device              devices
    0         P1           2    Y90_glass  Y90_glass;Y90_resin
    """
    _require_columns(
        df_treatments,
        ["patient_id", "session_id", "injection_id", "treatment_date", "device"],
        "treatments",
    )
    tx = df_treatments.copy()
    tx["treatment_date"] = pd.to_datetime(tx["treatment_date"])
    if tx["treatment_date"].isna().any():
        bad = tx[tx["treatment_date"].isna()]
        raise SirtDataError(
            f"treatments.treatment_date: {len(bad)} rows violate \"required\"; first keys "
            f"(patient_id, injection_id): "
            + ", ".join(
                f"({p}, {i})" for p, i in bad[["patient_id", "injection_id"]].head(3).to_numpy()
            )
            + ".",
            table="treatments",
            column="treatment_date",
            rule="required",
            rows=bad,
        )
    if cutoff_date is not None:
        tx = tx[tx["treatment_date"] <= pd.Timestamp(cutoff_date)]
    if "administration_datetime" not in tx.columns:
        tx["administration_datetime"] = pd.NaT
    if "workup_id" not in tx.columns:
        tx["workup_id"] = None
    tx = tx.sort_values(
        ["patient_id", "treatment_date", "administration_datetime", "injection_id"],
        na_position="last",
        kind="mergesort",
    )
    if tx.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in FIRST_SIRT_COLUMNS})
        for c in ("first_sirt_date", "last_sirt_date"):
            out[c] = out[c].astype("datetime64[ns]")
        for c in ("n_sessions", "n_injections"):
            out[c] = out[c].astype("Int64")
        return out
    g = tx.groupby("patient_id", sort=True)
    out = pd.DataFrame(
        {
            "first_sirt_date": g["treatment_date"].min(),
            "last_sirt_date": g["treatment_date"].max(),
            "n_sessions": g["session_id"].nunique().astype("Int64"),
            "n_injections": g["injection_id"].size().astype("Int64"),
            "first_device": g["device"].first(),
            "devices": _joined_devices(tx),
            "first_workup_id": _first_workup(tx),
        }
    )
    out = out.reset_index()
    out["first_sirt_date"] = out["first_sirt_date"].astype("datetime64[ns]")
    out["last_sirt_date"] = out["last_sirt_date"].astype("datetime64[ns]")
    return out[FIRST_SIRT_COLUMNS]


def _joined_devices(tx: pd.DataFrame) -> pd.Series:
    """Patient -> distinct non-missing devices, sorted, joined by ";" ("" when none).

    Each distinct set of devices is joined once and mapped to its patients (a join per
    patient cost about a second per call at 20,000 patients).
    """
    pairs = tx.loc[tx["device"].notna(), ["patient_id", "device"]].drop_duplicates()
    patients = pd.Index(tx["patient_id"].unique(), name="patient_id").sort_values()
    if pairs.empty:
        return pd.Series("", index=patients, dtype=object)
    levels = sorted(set(pairs["device"]))
    bits = pairs["device"].map({level: 1 << i for i, level in enumerate(levels)})
    if len(levels) > 62:  # beyond an int64 bit set: one join per patient
        joined = pairs.groupby("patient_id")["device"].agg(lambda s: ";".join(sorted(set(s))))
    else:
        masks = bits.astype("int64").groupby(pairs["patient_id"]).sum()
        text = {m: ";".join(lv for i, lv in enumerate(levels) if m >> i & 1)
                for m in masks.unique()}
        joined = masks.map(text).astype(object)
    return joined.reindex(patients, fill_value="")


def _first_workup(tx: pd.DataFrame) -> pd.Series:
    """Patient -> ``workup_id`` of the patient's first injection (None when missing)."""
    first = tx.drop_duplicates("patient_id", keep="first").set_index("patient_id")["workup_id"]
    return first.astype(object).where(first.notna(), None)
