"""Registry activity counts: patients treated, sessions, deaths, adverse events, imaging.

These are the "what changed since last quarter" numbers of the report index. They are counted
straight from the registry tables (not from a notebook), between two cut-offs, so the index can
say "12 new patients treated since 2026Q2" even when a notebook is skipped.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

__all__ = ["ACTIVITY_LABELS", "summarise_activity"]

#: Count name -> label shown in index.html.
ACTIVITY_LABELS: dict[str, str] = {
    "n_patients_treated": "patients treated (first SIRT)",
    "n_sirt_sessions": "SIRT sessions",
    "n_imaging_assessments": "imaging assessments",
    "n_reported_progressions": "imaging reports of progression (PD)",
    "n_adverse_events": "adverse events",
    "n_adverse_events_grade3plus": "adverse events grade \u2265 3",
    "n_deaths": "deaths",
}


def _in_window(dates: pd.Series, start, end) -> pd.Series:
    dates = pd.to_datetime(dates)
    keep = dates.notna() & (dates <= pd.Timestamp(end))
    if start is not None:
        keep &= dates > pd.Timestamp(start)
    return keep


def _table(tables, name, patient_ids):
    df = tables.get(name)
    if df is None:
        return pd.DataFrame()
    if patient_ids is not None and "patient_id" in df.columns:
        df = df[df["patient_id"].isin(patient_ids)]
    return df


def summarise_activity(tables: dict[str, pd.DataFrame], *, end: dt.date,
                       start: dt.date | None = None, patient_ids=None) -> dict[str, int]:
    """Count registry activity with dates in ``(start, end]``.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Registry tables (``patients``, ``treatments``, ``imaging_assessments``,
        ``adverse_events``); missing tables count 0.
    end : datetime.date
        Inclusive end (the data cut-off).
    start : datetime.date, optional
        Exclusive start (the previous report's cut-off); None counts everything up to ``end``.
    patient_ids : collection of str, optional
        Restrict to these patients (the report's cohort); None = all.

    Returns
    -------
    dict of str to int
        Keys of :data:`ACTIVITY_LABELS`. ``n_patients_treated`` counts patients whose *first*
        SIRT falls in the window; ``n_sirt_sessions`` distinct sessions; AEs by onset date;
        ``n_reported_progressions`` imaging rows whose reader-reported overall response is PD.

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> tr = pd.DataFrame({"patient_id": ["P1", "P1", "P2"], "session_id": ["S1", "S2", "S3"],
    ...                    "treatment_date": pd.to_datetime(["2026-05-01", "2026-08-01",
    ...                                                      "2026-07-15"])})
    >>> summarise_activity({"treatments": tr}, start=dt.date(2026, 6, 30),
    ...                    end=dt.date(2026, 9, 30))["n_patients_treated"]
    1
    """
    counts = dict.fromkeys(ACTIVITY_LABELS, 0)
    tr = _table(tables, "treatments", patient_ids)
    if len(tr):
        done = tr[_in_window(tr["treatment_date"], None, end)]
        first = done.groupby("patient_id")["treatment_date"].min()
        counts["n_patients_treated"] = int(_in_window(first, start, end).sum())
        recent = done[_in_window(done["treatment_date"], start, end)]
        counts["n_sirt_sessions"] = int(recent["session_id"].nunique())
    im = _table(tables, "imaging_assessments", patient_ids)
    if len(im):
        win = im[_in_window(im["assessment_date"], start, end)]
        counts["n_imaging_assessments"] = int(len(win[["patient_id", "assessment_date"]]
                                                  .drop_duplicates()))
        if "reported_overall_response" in win.columns:
            is_pd = win["reported_overall_response"] == "PD"
            counts["n_reported_progressions"] = int(is_pd.sum())
    ae = _table(tables, "adverse_events", patient_ids)
    if len(ae):
        win = ae[_in_window(ae["onset_date"], start, end)]
        counts["n_adverse_events"] = int(len(win))
        grade = pd.to_numeric(win["grade"], errors="coerce")
        counts["n_adverse_events_grade3plus"] = int((grade >= 3).sum())
    pts = _table(tables, "patients", patient_ids)
    if len(pts):
        counts["n_deaths"] = int(_in_window(pts["death_date"], start, end).sum())
    return counts
