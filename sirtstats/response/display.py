"""Frames for the response figures: best % change (waterfall) and swimmer lanes.

These derive the per-patient numbers that :mod:`sirtstats.plotting.response` draws (RECIST 1.1
/ mRECIST conventions of R1.4 and R1.9 in docs/rules/response.md, and R5.5 in
docs/rules/endpoints.md for the follow-up).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.response._common import check_bool, require_columns, to_dates

__all__ = ["BEST_CHANGE_COLUMNS", "SWIMMER_COLUMNS", "derive_best_percent_change",
           "derive_swimmer_data"]

#: Output columns of :func:`derive_best_percent_change`.
BEST_CHANGE_COLUMNS: list[str] = [
    "patient_id", "criterion", "scope", "best_pct_change", "best_change_date", "n_complete",
    "bor", "is_responder",
]

#: Output columns of :func:`derive_swimmer_data`.
SWIMMER_COLUMNS: list[str] = ["patient_id", "event", "event_date", "day", "is_ongoing"]


def derive_best_percent_change(
    df_timepoints: pd.DataFrame,
    df_bor: pd.DataFrame | None = None,
    *,
    include_after_pd: bool = False,
) -> pd.DataFrame:
    """Best (most negative) % change of the target sum per patient, for waterfall plots.

    Parameters
    ----------
    df_timepoints : DataFrame
        Output of :func:`derive_timepoint_response` (``patient_id``, ``criterion``,
        ``scope``, ``assessment_date``, ``pct_change_from_baseline`` (%), ``n_targets``,
        ``n_targets_assessed``, ``overall_response``).
    df_bor : DataFrame, optional
        Output of :func:`derive_best_overall_response`; adds ``bor`` and ``is_responder``
        (filter it to one confirmation setting first).
    include_after_pd : bool, default False
        Also use assessments after the first overall PD.

    Returns
    -------
    DataFrame
        One row per patient, criterion and scope with targets, with
        :data:`BEST_CHANGE_COLUMNS`: ``best_pct_change`` (%, negative = shrinkage; minimum
        over complete post-baseline assessments, NaN when there is none) and its date.
        Patients without a complete assessment are kept with NaN (count in
        ``attrs["n_without_complete"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> tp = pd.DataFrame({"patient_id": "P1", "criterion": "RECIST_1_1", "scope": "overall",
    ...     "assessment_date": pd.to_datetime(["2024-03-01", "2024-05-01", "2024-07-01"]),
    ...     "pct_change_from_baseline": [-20.0, -45.0, 10.0], "n_targets": 2,
    ...     "n_targets_assessed": 2, "overall_response": ["SD", "PR", "PD"]})
    >>> derive_best_percent_change(tp)[["patient_id", "best_pct_change", "n_complete"]]
      patient_id  best_pct_change  n_complete
    0         P1            -45.0           3
    """
    fn = "derive_best_percent_change"
    include_after_pd = check_bool(include_after_pd, "include_after_pd", fn)
    keys = ["patient_id", "criterion", "scope"]
    require_columns(df_timepoints, [*keys, "assessment_date", "pct_change_from_baseline",
                                    "n_targets", "n_targets_assessed", "overall_response"],
                    "timepoints", fn)
    tp = df_timepoints
    if "is_baseline" in tp.columns:
        tp = tp.loc[~tp["is_baseline"].astype("boolean").fillna(False).to_numpy(bool)]
    tp = tp.loc[tp["n_targets"].fillna(0).to_numpy() > 0].sort_values(
        [*keys, "assessment_date"], kind="mergesort")
    if not include_after_pd:
        pd_flag = (tp["overall_response"] == "PD").astype(int)
        before = pd_flag.groupby([tp[k] for k in keys]).cumsum() - pd_flag
        tp = tp.loc[before.to_numpy() == 0]
    complete = tp.loc[(tp["n_targets_assessed"] == tp["n_targets"]).fillna(False).to_numpy(bool)
                      & tp["pct_change_from_baseline"].notna().to_numpy()]
    out = tp[keys].drop_duplicates().reset_index(drop=True)
    if len(complete):
        idx = complete.groupby(keys)["pct_change_from_baseline"].idxmin()
        best = complete.loc[idx.to_numpy(), [*keys, "pct_change_from_baseline",
                                             "assessment_date"]]
        best = best.rename(columns={"pct_change_from_baseline": "best_pct_change",
                                    "assessment_date": "best_change_date"})
        n_c = complete.groupby(keys).size().rename("n_complete").reset_index()
        out = out.merge(best, on=keys, how="left").merge(n_c, on=keys, how="left")
    else:
        out["best_pct_change"] = np.nan
        out["best_change_date"] = pd.NaT
        out["n_complete"] = 0
    out["n_complete"] = out["n_complete"].fillna(0).astype("int64")
    if df_bor is not None:
        require_columns(df_bor, [*keys, "bor", "is_responder"], "bor", fn)
        if df_bor.duplicated(keys).any():
            raise ValueError(f"{fn}: df_bor has several rows per patient, criterion and scope; "
                             "filter it to one confirmation setting.")
        out = out.merge(df_bor[[*keys, "bor", "is_responder"]], on=keys, how="left")
    else:
        out["bor"] = None
        out["is_responder"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out = out[BEST_CHANGE_COLUMNS]
    out.attrs["n_without_complete"] = int(out["best_pct_change"].isna().sum())
    return out


def derive_swimmer_data(
    df_timepoints: pd.DataFrame,
    df_origin: pd.DataFrame,
    *,
    df_treatments: pd.DataFrame | None = None,
    df_patients: pd.DataFrame | None = None,
    cutoff_date=None,
    criterion: str | None = None,
) -> pd.DataFrame:
    """Events per patient on a common time axis (days from the origin), for swimmer plots.

    Parameters
    ----------
    df_timepoints : DataFrame
        Timepoint responses of ONE criterion and scope (``patient_id``, ``assessment_date``,
        ``overall_response``), from :func:`derive_timepoint_response` or
        :func:`derive_reported_timepoints`.
    df_origin : DataFrame
        ``patient_id``, ``origin_date`` (first SIRT); defines the patients shown.
    df_treatments : DataFrame, optional
        The ``treatments`` table (``patient_id``, ``treatment_date``); one ``SIRT`` event per
        session date.
    df_patients : DataFrame, optional
        The ``patients`` table (``patient_id``, ``death_date``, ``last_contact_date``).
    cutoff_date : str or Timestamp, optional
        Data cut-off: later events are dropped and follow-up ends at it at the latest.
    criterion : str, optional
        Keep the timepoints of this criterion (required when ``df_timepoints`` holds several).

    Returns
    -------
    DataFrame
        Long frame with :data:`SWIMMER_COLUMNS`: one ``follow_up`` row per patient (end of
        follow-up: death, else last contact or last assessment, capped at the cut-off), one
        row per ``SIRT`` session, per response (``CR``, ``PR``, ``SD``, ``NON_CR_NON_PD``,
        ``PD``, ``NE``) and ``death``; ``day`` = days from the origin; ``is_ongoing`` (on the
        follow_up row) is True when the patient is alive without PD at the end of follow-up.
    """
    fn = "derive_swimmer_data"
    require_columns(df_timepoints, ["patient_id", "assessment_date", "overall_response"],
                    "timepoints", fn)
    require_columns(df_origin, ["patient_id", "origin_date"], "origin", fn)
    origin = df_origin.drop_duplicates("patient_id").set_index("patient_id")["origin_date"]
    origin = to_dates(origin, "origin", "origin_date")
    cutoff = pd.Timestamp(cutoff_date) if cutoff_date is not None else None
    parts = []
    tp = df_timepoints
    if criterion is not None:
        require_columns(tp, ["criterion"], "timepoints", fn)
        tp = tp.loc[tp["criterion"] == criterion]
    elif "criterion" in tp.columns and tp["criterion"].nunique() > 1:
        raise ValueError(f"{fn}: the timepoints hold several criteria "
                         f"{sorted(tp['criterion'].unique())}; choose one with 'criterion'.")
    if "is_baseline" in tp.columns:
        tp = tp.loc[~tp["is_baseline"].astype("boolean").fillna(False).to_numpy(bool)]
    tp = tp.loc[tp["patient_id"].isin(origin.index) & tp["overall_response"].notna()]
    parts.append(pd.DataFrame({"patient_id": tp["patient_id"].to_numpy(),
                               "event": tp["overall_response"].to_numpy(dtype=object),
                               "event_date": to_dates(tp["assessment_date"], "timepoints",
                                                      "assessment_date").to_numpy()}))
    if df_treatments is not None:
        require_columns(df_treatments, ["patient_id", "treatment_date"], "treatments", fn)
        t = df_treatments.loc[df_treatments["patient_id"].isin(origin.index),
                              ["patient_id", "treatment_date"]].drop_duplicates()
        parts.append(pd.DataFrame({"patient_id": t["patient_id"].to_numpy(), "event": "SIRT",
                                   "event_date": to_dates(t["treatment_date"], "treatments",
                                                          "treatment_date").to_numpy()}))
    death = pd.Series(pd.NaT, index=origin.index, dtype="datetime64[ns]")
    last = pd.Series(pd.NaT, index=origin.index, dtype="datetime64[ns]")
    if df_patients is not None:
        require_columns(df_patients, ["patient_id"], "patients", fn)
        p = df_patients.drop_duplicates("patient_id").set_index("patient_id")
        if "death_date" in p:
            death = to_dates(p["death_date"], "patients", "death_date").reindex(origin.index)
        if "last_contact_date" in p:
            last = to_dates(p["last_contact_date"], "patients", "last_contact_date").reindex(
                origin.index)
        dd = death.dropna()
        parts.append(pd.DataFrame({"patient_id": dd.index.to_numpy(), "event": "death",
                                   "event_date": dd.to_numpy()}))
    ev = pd.concat(parts, ignore_index=True)
    if cutoff is not None:
        ev = ev.loc[ev["event_date"] <= cutoff]
        death = death.where(death <= cutoff)
    last_event = ev.groupby("patient_id")["event_date"].max().reindex(origin.index)
    end = death.fillna(pd.concat([last, last_event], axis=1).max(axis=1))
    end = end.fillna(origin)
    if cutoff is not None:
        end = end.where(end <= cutoff, cutoff)
    had_pd = ev.loc[ev["event"] == "PD"].groupby("patient_id").size().reindex(
        origin.index).fillna(0) > 0
    fu = pd.DataFrame({"patient_id": origin.index.to_numpy(), "event": "follow_up",
                       "event_date": end.to_numpy(),
                       "is_ongoing": (death.isna() & ~had_pd).to_numpy()})
    ev = pd.concat([ev.assign(is_ongoing=pd.NA), fu], ignore_index=True)
    ev["day"] = (ev["event_date"] - ev["patient_id"].map(origin)).dt.days.astype("Int64")
    ev["is_ongoing"] = ev["is_ongoing"].astype("boolean")
    return ev.sort_values(["patient_id", "day", "event"], kind="mergesort").reset_index(
        drop=True)[SWIMMER_COLUMNS]
