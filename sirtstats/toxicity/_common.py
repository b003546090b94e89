"""Private helpers shared by the toxicity modules (not public API; import from sirtstats.toxicity).

SIRT sessions from the treatments table, the treatment-emergent window arithmetic, the
population / group iteration of the incidence tables, the "n (%)" formatter, the labels shared
by the tables, and the nearest-sample-in-window rule of the liver-function timepoints and the
lab trajectories.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require
from sirtstats.exceptions import SirtDataError

#: Label of the all-events row of :func:`summarise_ae_table`.
ANY_AE_LABEL = "Any adverse event"
#: Label of the all-groups rows of :func:`summarise_ae_table` and mortality tables.
TOTAL_LABEL = "All"
#: Label used for adverse events without a system organ class.
NO_SOC_LABEL = "SOC not given"

_SESSION_COLUMNS = ["patient_id", "session_id", "session_date"]


def _sessions(df_treatments: pd.DataFrame) -> pd.DataFrame:
    """One row per SIRT session: patient_id, session_id, session_date (sorted)."""
    _require(df_treatments, ["patient_id", "treatment_date"], "treatments")
    tx = pd.DataFrame(
        {
            "patient_id": df_treatments["patient_id"].to_numpy(),
            "session_id": (
                df_treatments["session_id"].to_numpy()
                if "session_id" in df_treatments.columns
                else pd.to_datetime(df_treatments["treatment_date"]).dt.strftime("%Y-%m-%d")
            ),
            "session_date": pd.to_datetime(df_treatments["treatment_date"]).to_numpy(),
        }
    )
    if tx["session_date"].isna().any():
        bad = df_treatments[tx["session_date"].isna().to_numpy()]
        raise SirtDataError(
            f'treatments.treatment_date: {len(bad)} rows violate "required".',
            table="treatments",
            column="treatment_date",
            rule="required",
            rows=bad,
        )
    ses = tx.groupby(["patient_id", "session_id"], sort=False, dropna=False)["session_date"].min()
    ses = ses.reset_index().sort_values(["patient_id", "session_date", "session_id"])
    return ses[_SESSION_COLUMNS].reset_index(drop=True)


def _window(
    patient_id: pd.Series,
    dates: pd.Series,
    sessions: pd.DataFrame,
    *,
    start_offset_days: int,
    window_days: int,
    end: str,
) -> pd.DataFrame:
    """Positional frame: first/last SIRT, reference session (latest session whose window has
    started on ``dates``) and whether each date lies in the treatment-emergent window."""
    n = len(dates)
    left = pd.DataFrame(
        {
            "_pos": np.arange(n),
            "patient_id": patient_id.to_numpy(),
            "date": pd.to_datetime(dates).to_numpy(),
        }
    )
    first_date, last_date = _first_last_sirt(patient_id, sessions)
    right = sessions.assign(
        start=sessions["session_date"] + pd.Timedelta(days=start_offset_days)
    ).sort_values("start")
    known = left["date"].notna()
    merged = pd.merge_asof(
        left[known].sort_values("date"),
        right[["patient_id", "start", "session_id", "session_date"]],
        left_on="date",
        right_on="start",
        by="patient_id",
        direction="backward",
    ).set_index("_pos")
    out = pd.DataFrame(index=np.arange(n))
    out["first_sirt_date"] = first_date.to_numpy()
    out["last_sirt_date"] = last_date.to_numpy()
    out["reference_session_id"] = merged["session_id"].reindex(out.index)
    out["reference_session_date"] = merged["session_date"].reindex(out.index)
    date = left["date"]
    ref = out["reference_session_date"]
    if end == "each_session":
        inside = ref.notna() & (date <= ref + pd.Timedelta(days=window_days))
        inside = inside.fillna(False).to_numpy(dtype=bool)
    else:
        inside = _first_to_last_window(date, out["first_sirt_date"], out["last_sirt_date"],
                                       start_offset_days, window_days)
    out["in_window"] = inside
    out["days_from_session"] = pd.array((date - ref).dt.days.to_numpy(), dtype="Int64")
    out["days_from_first_sirt"] = pd.array(
        (date - out["first_sirt_date"]).dt.days.to_numpy(), dtype="Int64"
    )
    return out


def _in_window(
    patient_id: pd.Series,
    dates: pd.Series,
    sessions: pd.DataFrame,
    *,
    start_offset_days: int,
    window_days: int,
    end: str,
) -> np.ndarray:
    """``_window(...)["in_window"]`` alone (bool array, positional).

    With ``end="last_session"`` the window needs only each patient's first and last session
    dates: no reference-session join of every date, nor the other columns of :func:`_window`
    (2 M lab rows at 20,000 patients).
    """
    if end == "each_session":
        return _window(patient_id, dates, sessions, start_offset_days=start_offset_days,
                       window_days=window_days, end=end)["in_window"].to_numpy(dtype=bool)
    date = pd.Series(pd.to_datetime(dates).to_numpy())
    first, last = _first_last_sirt(patient_id, sessions)
    return _first_to_last_window(date, first, last, start_offset_days, window_days)


def _first_last_sirt(patient_id: pd.Series, sessions: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row's first and last SIRT session date (datetime64 Series, positional; NaT for a
    patient without a session)."""
    ids = pd.Series(patient_id.to_numpy())
    dates = sessions.groupby("patient_id")["session_date"]
    return (ids.map(dates.min()).astype("datetime64[ns]"),
            ids.map(dates.max()).astype("datetime64[ns]"))


def _first_to_last_window(date, first, last, start_offset_days: int, window_days: int):
    """Whether each date lies in [first SIRT + offset, last SIRT + window] (bool array; a
    patient without a session, or a missing date, is outside)."""
    inside = (
        first.notna()
        & (date >= first + pd.Timedelta(days=start_offset_days))
        & (date <= last + pd.Timedelta(days=window_days))
    )
    return inside.fillna(False).to_numpy(dtype=bool)


def _keys_text(rows: pd.DataFrame, cols: Sequence[str], n: int = 3) -> str:
    return ", ".join(
        "(" + ", ".join(str(v) for v in r) + ")" for r in rows[list(cols)].head(n).to_numpy()
    )


def _format_n_pct(n: pd.Series, pct: pd.Series, decimals: int) -> pd.Series:
    return pd.Series(
        [
            f"{int(a)} ({b:.{decimals}f}%)" if pd.notna(b) else f"{int(a)} (-)"
            for a, b in zip(n, pct, strict=True)
        ],
        index=n.index,
        dtype=object,
    )



def _population(df_population: pd.DataFrame, groupby: str | None) -> pd.DataFrame:
    cols = ["patient_id"] + ([groupby] if groupby else [])
    _require(df_population, cols, "population")
    pop = df_population[cols].drop_duplicates("patient_id")
    if groupby:
        pop = pop.assign(**{groupby: pop[groupby].astype(object).fillna("missing").astype(str)})
    return pop


def _group_frames(pop: pd.DataFrame, groupby: str | None, include_total: bool):
    if not groupby:
        yield None, pop
        return
    for value in sorted(pop[groupby].unique()):
        yield value, pop[pop[groupby] == value]
    if include_total:
        yield TOTAL_LABEL, pop



def _in_windows(labs: pd.DataFrame, timepoints: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``labs.merge(timepoints, how="cross")`` whose ``day`` is in the timepoint's
    window, with the cross join's order and index (lab row i, timepoint j: label i * k + j),
    built from the in-window pairs only: the cross join of 2 M lab rows with 8 timepoints was
    16 M rows, the peak memory of notebook 04 at 20,000 patients."""
    k = len(timepoints)
    if k == 0 or len(labs) == 0 or set(labs.columns) & set(timepoints.columns):
        m = labs.merge(timepoints, how="cross")  # (the cross join's suffixes, empty frames)
        return m[(m["day"] >= m["window_start_day"]) & (m["day"] <= m["window_end_day"])]
    day = labs["day"]
    pos = [
        np.flatnonzero(((day >= lo) & (day <= hi)).to_numpy(dtype=bool))
        for lo, hi in zip(timepoints["window_start_day"], timepoints["window_end_day"],
                          strict=True)
    ]
    lab_i = np.concatenate(pos)
    tp_j = np.repeat(np.arange(k), [len(p) for p in pos])
    order = np.lexsort((tp_j, lab_i))  # lab-major, as the cross join
    lab_i, tp_j = lab_i[order], tp_j[order]
    m = pd.concat([labs.iloc[lab_i].reset_index(drop=True),
                   timepoints.iloc[tp_j].reset_index(drop=True)], axis=1)
    m.index = pd.Index(lab_i.astype(np.int64) * k + tp_j)
    return m


def _nearest_in_windows(labs: pd.DataFrame, timepoints: pd.DataFrame) -> pd.DataFrame:
    """labs: patient_id, analyte, day, value -> one row per patient/analyte/timepoint."""
    m = _in_windows(labs, timepoints)
    m = m.assign(_dist=(m["day"] - m["target_day"]).abs())
    m = m.sort_values(["patient_id", "analyte", "timepoint", "_dist", "day"], kind="mergesort")
    return m.drop_duplicates(["patient_id", "analyte", "timepoint"])
