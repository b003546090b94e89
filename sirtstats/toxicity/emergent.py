"""Treatment-emergent adverse events after SIRT: the window, the flag and the first-worst flag.

Reported adverse events (``adverse_events`` table, graded by CTCAE v5.0) are flagged
treatment-emergent when their onset falls in a window after SIRT (default: from the first
session to 90 days after the last one; the pharmaverse/admiral ADAE convention is the same rule
with a 30-day window).

Criteria versions: CTCAE v5.0 (NCI 2017); treatment-emergent flag as admiral
``derive_var_trtemfl`` (``TRTSDT <= ASTDT <= TRTEDT + end_window``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require
from sirtstats.ctcae import _check_option
from sirtstats.exceptions import SirtDataError
from sirtstats.toxicity._common import _keys_text, _sessions, _window

__all__ = [
    "DEFAULT_TE_WINDOW_DAYS",
    "derive_first_worst_flag",
    "derive_treatment_emergent",
    "filter_treatment_emergent",
]


#: Default treatment-emergent window: adverse events starting up to 90 days after SIRT.
DEFAULT_TE_WINDOW_DAYS = 90


# --------------------------------------------------------------- treatment-emergent window


def derive_treatment_emergent(
    df_ae: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    window_days: int = DEFAULT_TE_WINDOW_DAYS,
    start_offset_days: int = 0,
    end: Literal["last_session", "each_session"] = "last_session",
    onset_col: str = "onset_date",
) -> pd.DataFrame:
    """Flag adverse events whose onset falls in the treatment-emergent window after SIRT.

    Parameters
    ----------
    df_ae : DataFrame
        The ``adverse_events`` table: ``patient_id`` (str) and the onset date column
        (datetime64, required for every row).
    df_treatments : DataFrame
        The ``treatments`` table: ``patient_id`` (str), ``treatment_date`` (datetime64) and,
        when present, ``session_id`` (injections of one session are one session).
    window_days : int
        Days after SIRT (inclusive) during which a new event is treatment-emergent; default 90.
        The pharmaverse ADAE convention uses 30.
    start_offset_days : int
        Days from a session to the start of its window (0: events on the SIRT day count;
        1: from the day after).
    end : {"last_session", "each_session"}
        ``"last_session"``: one window from the first session (+ offset) to the last session +
        ``window_days`` (admiral ``TRTSDT <= ASTDT <= TRTEDT + window``).
        ``"each_session"``: the event must start within ``window_days`` of some session.
    onset_col : str
        Onset date column.

    Returns
    -------
    DataFrame
        A copy of ``df_ae`` (same rows, order, index) with ``first_sirt_date``,
        ``last_sirt_date`` (datetime64), ``reference_session_id`` and
        ``reference_session_date`` (the latest session whose window had started at onset),
        ``days_from_session`` and ``days_from_first_sirt`` (Int64, days from those dates to
        onset) and ``is_treatment_emergent`` (bool). Patients without a SIRT session have no
        treatment-emergent event.

    Raises
    ------
    SirtDataError
        If a required column is missing or an onset date is missing (the message names the
        ``ae_id`` / ``patient_id`` of the first rows).
    ValueError
        For an invalid ``end`` or a negative ``window_days``.

    See Also
    --------
    filter_treatment_emergent, summarise_ae_table

    Notes
    -----
    With sessions at dates ``s_1 ≤ … ≤ s_k`` and offset ``o``, an event with onset ``t`` is
    treatment-emergent when ``s_1 + o ≤ t ≤ s_k + window_days`` ("last_session") or when
    ``s_j + o ≤ t ≤ s_j + window_days`` for some session ``j`` ("each_session").

    References
    ----------
    pharmaverse admiral ``derive_var_trtemfl`` (ADAE template, ``end_window = 30``);
    T4.1 (docs/rules/toxicity.md) (reporting windows 0-30 and 0-90 days).

    Examples
    --------
    >>> import pandas as pd
    >>> ae = pd.DataFrame({
    ...     "ae_id": ["A1", "A2", "A3"], "patient_id": ["P1", "P1", "P1"],
    ...     "onset_date": pd.to_datetime(["2024-01-09", "2024-01-12", "2024-06-01"]),
    ... })
    >>> tx = pd.DataFrame({"patient_id": ["P1"], "session_id": ["S1"],
    ...                    "treatment_date": pd.to_datetime(["2024-01-10"])})
    >>> derive_treatment_emergent(ae, tx)[["ae_id", "days_from_first_sirt",
    ...                                    "is_treatment_emergent"]]
      ae_id  days_from_first_sirt  is_treatment_emergent
    0    A1                    -1                  False
    1    A2                     2                   True
    2    A3                   143                  False
    """
    func = "derive_treatment_emergent"
    end = _check_option(end, ("last_session", "each_session"), "end", func)
    if window_days < 0:
        raise ValueError(
            f"The 'window_days' argument of {func} must be >= 0. Got {window_days!r} instead."
        )
    _require(df_ae, ["patient_id", onset_col], "adverse_events")
    onset = pd.to_datetime(df_ae[onset_col])
    if onset.isna().any():
        bad = df_ae[onset.isna()]
        keys = ["ae_id", "patient_id"] if "ae_id" in df_ae.columns else ["patient_id"]
        raise SirtDataError(
            f'adverse_events.{onset_col}: {len(bad)} rows violate "required"; first keys '
            f"({', '.join(keys)}): {_keys_text(bad, keys)}. The onset date decides whether an "
            "event is treatment-emergent; complete it in the source table.",
            table="adverse_events",
            column=onset_col,
            rule="required",
            rows=bad,
        )
    win = _window(
        df_ae["patient_id"],
        onset,
        _sessions(df_treatments),
        start_offset_days=start_offset_days,
        window_days=window_days,
        end=end,
    )
    out = df_ae.copy()
    for col in (
        "first_sirt_date",
        "last_sirt_date",
        "reference_session_id",
        "reference_session_date",
        "days_from_session",
        "days_from_first_sirt",
    ):
        out[col] = win[col].to_numpy()
    out["days_from_session"] = out["days_from_session"].astype("Int64")
    out["days_from_first_sirt"] = out["days_from_first_sirt"].astype("Int64")
    out["is_treatment_emergent"] = win["in_window"].to_numpy(dtype=bool)
    return out


def filter_treatment_emergent(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the treatment-emergent rows.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`derive_treatment_emergent` (``is_treatment_emergent``, bool).

    Returns
    -------
    DataFrame
        The rows with ``is_treatment_emergent`` True, in their original order and index.

    Raises
    ------
    SirtDataError
        If ``is_treatment_emergent`` is missing.
    """
    _require(df, ["is_treatment_emergent"], "adverse_events")
    return df[df["is_treatment_emergent"].astype("boolean").fillna(False).to_numpy(bool)]


def derive_first_worst_flag(
    df_ae: pd.DataFrame,
    *,
    subject_keys: Sequence[str] = ("patient_id",),
    grade_col: str = "grade",
    order_cols: Sequence[str] = ("onset_date", "ae_id"),
    among_col: str | None = "is_treatment_emergent",
    flag_col: str = "is_first_worst",
) -> pd.DataFrame:
    """Flag, per subject, the first event with the worst grade.

    Parameters
    ----------
    df_ae : DataFrame
        Adverse events with ``subject_keys``, ``grade_col`` (int) and ``order_cols``.
    subject_keys : sequence of str
        Columns identifying a subject (add ``"ae_term"`` for the first worst per term).
    grade_col : str
        Grade (or severity) column; higher is worse.
    order_cols : sequence of str
        Tie-breakers among events of the worst grade, ascending (first wins).
    among_col : str or None
        Boolean column restricting the candidates (default: treatment-emergent events); used
        only if present in ``df_ae``.
    flag_col : str
        Name of the new boolean column.

    Returns
    -------
    DataFrame
        A copy of ``df_ae`` with ``flag_col`` (bool): True on exactly one candidate row per
        subject with at least one graded candidate.

    References
    ----------
    admiral ``derive_var_extreme_flag(order = exprs(desc(ASEVN), ASTDTM, AESEQ), mode =
    "first")`` (ADAE ``AOCCIFL``).
    """
    _require(df_ae, [*subject_keys, grade_col, *order_cols], "adverse_events")
    cand = np.ones(len(df_ae), dtype=bool)
    if among_col is not None and among_col in df_ae.columns:
        cand = np.array(df_ae[among_col].astype("boolean").fillna(False).to_numpy(bool))
    cand &= df_ae[grade_col].notna().to_numpy()
    work = df_ae[list(subject_keys) + [grade_col] + list(order_cols)].copy()
    work.columns = (
        [f"_k{i}" for i in range(len(subject_keys))]
        + ["_g"]
        + [f"_o{i}" for i in range(len(order_cols))]
    )
    work["_pos"] = np.arange(len(df_ae))
    work = work[cand]
    sort_cols = [c for c in work.columns if c.startswith("_k")] + ["_g"]
    sort_cols += [c for c in work.columns if c.startswith("_o")] + ["_pos"]
    asc = [True] * len([c for c in work.columns if c.startswith("_k")]) + [False]
    asc += [True] * (len(sort_cols) - len(asc))
    first = work.sort_values(sort_cols, ascending=asc, kind="mergesort").drop_duplicates(
        [c for c in work.columns if c.startswith("_k")]
    )
    flag = np.zeros(len(df_ae), dtype=bool)
    flag[first["_pos"].to_numpy()] = True
    out = df_ae.copy()
    out[flag_col] = flag
    return out
