"""Local tumour response and time to local progression per lesion (R4.4).

The ``local`` scope: one treated lesion, measured from its own territory baseline (the last
scan on or before the session that treated it, R4.3.5) with the per-lesion thresholds of
R4.1.2 (decision D20; RECIST 1.1, Eisenhauer et al., Eur J Cancer 2009;45:228-247, and
mRECIST, Lencioni & Llovet, Semin Liver Dis 2010;30:52-60, define them for sums).
Time to local progression (R4.4.2) runs from the treating session to the lesion's first
local progression. Lesions are clustered within patients (R4.4.3): the statistics are in
:mod:`sirtstats.local_control`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.response._common import CRITERIA, check_bool, check_choice, to_dates
from sirtstats.response.lesion import (
    LESION_RESPONSE_COLUMNS,
    _lesion_best_and_visits,
    derive_lesion_response,
)
from sirtstats.response.territory import derive_territory_lesions

__all__ = [
    "LOCAL_PROGRESSION_COLUMNS",
    "LOCAL_RESPONSE_COLUMNS",
    "derive_local_response",
    "derive_time_to_local_progression",
]

#: Columns added to :data:`sirtstats.response.LESION_RESPONSE_COLUMNS` by
#: :func:`derive_local_response`.
_TERRITORY_COLS = ["lesion_segments", "treating_session_id", "treating_session_date",
                   "territory_baseline_date", "territory_source"]

#: Output columns of :func:`derive_local_response` (one row per treated target lesion).
LOCAL_RESPONSE_COLUMNS: list[str] = [*LESION_RESPONSE_COLUMNS, *_TERRITORY_COLS]

#: Output columns of :func:`derive_time_to_local_progression`.
LOCAL_PROGRESSION_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "criterion", "treating_session_id", "origin_date",
    "end_date", "event", "time_days", "time_months", "is_evaluable", "reason",
]

_DAYS_PER_MONTH = 30.4375  # R0


def _territory_targets(df_lesions, df_measurements, df_treatments, df_assessments, criterion,
                       coverage):
    """Treated liver lesions with baseline_date moved to their territory baseline."""
    les = derive_territory_lesions(df_lesions, df_treatments, df_measurements=df_measurements,
                                   df_assessments=df_assessments, coverage=coverage)
    treated = (les["in_treated_territory"].astype("boolean").fillna(False).to_numpy(bool)
               & (les["organ"] == "liver").to_numpy() & les["treating_session_id"].notna()
               .to_numpy())
    les = les.loc[treated]
    les = les.assign(lesion_segments=(les["couinaud_segments"] if "couinaud_segments"
                                      in les.columns else None),
                     baseline_date=les["territory_baseline_date"])
    return les


def derive_local_response(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    df_assessments: pd.DataFrame | None = None,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    coverage: Literal["any", "all"] = "any",
    pd_requires_5mm: bool = False,
    per_visit: bool = False,
) -> pd.DataFrame:
    """Derive each treated target lesion's local response from its territory baseline (R4.4.1).

    Parameters
    ----------
    df_lesions : DataFrame
        The ``lesions`` table (see :func:`sirtstats.response.derive_lesion_response`), with
        ``couinaud_segments`` when recorded.
    df_measurements : DataFrame
        The ``lesion_measurements`` table (diameters in mm).
    df_treatments : DataFrame
        The ``treatments`` table (``patient_id``, ``session_id``, ``treatment_date``,
        ``territory``, optionally ``couinaud_segments``).
    df_assessments : DataFrame, optional
        ``imaging_assessments``: its dates join the measurement dates when looking for each
        territory's baseline scan.
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Diameter measured (long axis / node short axis, or mRECIST viable diameter).
    coverage : {"any", "all"}, default "any"
        Lesions spanning several segments (R4.3.3).
    pd_requires_5mm : bool, default False
        Also require +5 mm over the lesion's nadir for local progression (D20: off).
    per_visit : bool, default False
        One row per lesion and imaging date after its territory baseline instead.

    Returns
    -------
    DataFrame
        One row per treated target lesion with :data:`LOCAL_RESPONSE_COLUMNS`: the columns of
        :func:`sirtstats.response.derive_lesion_response` (``best_pct_change`` in % from the
        lesion's territory baseline, negative = shrinkage; ``lesion_response`` CR/PR/SD/PD,
        NE without a value on the territory baseline, MISSING without follow-up), plus the
        lesion's segments, treating session and its date, ``territory_baseline_date`` and
        ``territory_source`` (``segments`` or ``flag``). With ``per_visit=True``: the
        per-visit columns of ``derive_lesion_response`` plus the same territory columns.
        Untreated and extrahepatic lesions are left out (they have no local response).

    See Also
    --------
    derive_time_to_local_progression : time to the first local PD per lesion.
    sirtstats.dose_response.derive_lesion_dose_response : join with lesion absorbed dose.

    Notes
    -----
    Thresholds (D20, R4.1.2): CR 0 mm (mRECIST: no enhancement; nodes < 10 mm), PR a
    decrease of at least 30 % from the territory baseline, PD an increase of at least 20 %
    over the lesion's own nadir, SD otherwise; compared in exact arithmetic (R0).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"patient_id": "P1", "session_id": ["S1", "S2"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10", "2024-02-21"]),
    ...     "territory": ["right_lobe", "left_lobe"]})
    >>> les = pd.DataFrame({"lesion_id": ["R", "L"], "patient_id": "P1",
    ...     "baseline_date": pd.Timestamp("2024-01-03"), "organ": "liver", "is_nodal": False,
    ...     "recist_role": "target", "mrecist_role": "none", "in_treated_territory": True,
    ...     "couinaud_segments": ["7", "3"]})
    >>> d = pd.to_datetime(["2024-01-03", "2024-02-14", "2024-04-09"])
    >>> meas = pd.DataFrame({"lesion_id": ["R"] * 3 + ["L"] * 3, "assessment_date": [*d, *d],
    ...     "criterion": "RECIST_1_1", "fragment": 1, "state": "measured",
    ...     "diameter_mm": [40.0, 30.0, 20.0, 30.0, 40.0, 28.0], "nontarget_status": None})
    >>> derive_local_response(les, meas, tx)[
    ...     ["lesion_id", "baseline_diameter_mm", "best_pct_change", "lesion_response"]]
      lesion_id  baseline_diameter_mm  best_pct_change lesion_response
    0         R                  40.0            -50.0              PR
    1         L                  40.0            -30.0              PR
    """
    fn = "derive_local_response"
    criterion = check_choice(criterion, CRITERIA, "criterion", fn)
    per_visit = check_bool(per_visit, "per_visit", fn)
    les = _territory_targets(df_lesions, df_measurements, df_treatments, df_assessments,
                             criterion, coverage)
    lr = derive_lesion_response(les, df_measurements, criterion=criterion,
                                pd_requires_5mm=pd_requires_5mm, per_visit=per_visit)
    info = les.drop_duplicates("lesion_id").set_index("lesion_id")[_TERRITORY_COLS]
    extra = info.reindex(lr["lesion_id"].to_numpy()).reset_index(drop=True)
    out = pd.concat([lr.reset_index(drop=True), extra], axis=1)
    out.attrs["settings"] = {**lr.attrs.get("settings", {"criterion": criterion}),
                             "coverage": coverage, "baseline": "territory (R4.3.5)"}
    return out


def derive_time_to_local_progression(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    df_assessments: pd.DataFrame | None = None,
    df_patients: pd.DataFrame | None = None,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    coverage: Literal["any", "all"] = "any",
    death: Literal["censor", "competing"] = "censor",
    pd_requires_5mm: bool = False,
) -> pd.DataFrame:
    """Derive time to local progression for each treated target lesion (R4.4.2).

    Parameters
    ----------
    df_lesions, df_measurements, df_treatments : DataFrame
        As for :func:`derive_local_response`.
    df_assessments : DataFrame, optional
        ``imaging_assessments`` (territory baseline scans).
    df_patients : DataFrame, optional
        ``patients`` with ``patient_id`` and ``death_date`` (datetime64); needed for
        ``death="competing"``.
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion.
    coverage : {"any", "all"}, default "any"
        Lesions spanning several segments (R4.3.3).
    death : {"censor", "competing"}, default "censor"
        A death without local progression is censored at the lesion's last assessment
        (D21), or is a competing event (``event`` = 2) on the death date.
    pd_requires_5mm : bool, default False
        Also require +5 mm over the nadir for local progression (D20: off).

    Returns
    -------
    DataFrame
        One row per treated target lesion with :data:`LOCAL_PROGRESSION_COLUMNS`:
        ``origin_date`` (the treating session), ``end_date``, ``event`` (1 = local
        progression, 0 = censored, 2 = death as a competing event), ``time_days`` (end −
        origin), ``time_months`` (days / 30.4375), ``is_evaluable`` (False for a lesion
        without a territory-baseline value or without any follow-up value: its times are
        empty; counted, never dropped) and ``reason``.

    Raises
    ------
    ValueError
        An invalid ``death``, or ``death="competing"`` without ``df_patients``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"patient_id": "P1", "session_id": ["S1"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10"]), "territory": ["right_lobe"]})
    >>> les = pd.DataFrame({"lesion_id": ["A", "B"], "patient_id": "P1",
    ...     "baseline_date": pd.Timestamp("2024-01-03"), "organ": "liver", "is_nodal": False,
    ...     "recist_role": "target", "mrecist_role": "none", "in_treated_territory": True,
    ...     "couinaud_segments": ["7", "6"]})
    >>> d = pd.to_datetime(["2024-01-03", "2024-04-09", "2024-07-08"])
    >>> meas = pd.DataFrame({"lesion_id": ["A"] * 3 + ["B"] * 3, "assessment_date": [*d, *d],
    ...     "criterion": "RECIST_1_1", "fragment": 1, "state": "measured",
    ...     "diameter_mm": [40.0, 20.0, 24.0, 30.0, 20.0, 20.0], "nontarget_status": None})
    >>> derive_time_to_local_progression(les, meas, tx)[
    ...     ["lesion_id", "event", "time_days", "reason"]]
      lesion_id  event  time_days                                       reason
    0         A      1        180  local progression: +20.0 % over nadir 20 mm
    1         B      0        180     censored at the lesion's last assessment
    """
    fn = "derive_time_to_local_progression"
    death = check_choice(death, ("censor", "competing"), "death", fn)
    if death == "competing" and df_patients is None:
        raise ValueError(f"The 'df_patients' argument of {fn} is needed with "
                         "death='competing'. Got None instead.")
    criterion = check_choice(criterion, CRITERIA, "criterion", fn)
    les = _territory_targets(df_lesions, df_measurements, df_treatments, df_assessments,
                             criterion, coverage)
    best, visits = _lesion_best_and_visits(les, df_measurements, criterion=criterion,
                                          pd_requires_5mm=pd_requires_5mm)
    assessed = visits.loc[visits["diameter_mm"].notna()]
    last = assessed.groupby("lesion_id")["assessment_date"].max()
    pd_rows = visits.loc[visits["lesion_response"] == "PD"].sort_values(
        "assessment_date", kind="mergesort").drop_duplicates("lesion_id").set_index("lesion_id")
    info = les.drop_duplicates("lesion_id").set_index("lesion_id")
    ids = best["lesion_id"].to_numpy(dtype=object)
    origin = to_dates(info["treating_session_date"].reindex(ids).reset_index(drop=True),
                      "treatments", "treatment_date")
    has_base = best["baseline_diameter_mm"].notna().to_numpy()
    last_d = last.reindex(ids).to_numpy()
    has_fu = ~pd.isna(last_d)
    # hashed membership (np.isin on object arrays compares every pair); ``ids == ids`` keeps
    # np.isin's rule that a value unequal to itself (NaN) matches nothing
    is_pd = pd.Series(ids, dtype=object).isin(pd_rows.index).to_numpy() & (ids == ids)
    pd_date = pd_rows["assessment_date"].reindex(ids).to_numpy()
    end = np.where(is_pd, pd_date, last_d)
    event = np.where(is_pd, 1, 0)
    reason = np.where(is_pd, [
        f"local progression: {p:+.1f} % over nadir {n:g} mm" if is_p else ""
        for p, n, is_p in zip(pd_rows["pct_change_from_nadir"].reindex(ids),
                              pd_rows["nadir_diameter_mm"].reindex(ids), is_pd, strict=True)],
        "censored at the lesion's last assessment").astype(object)
    if death == "competing":
        dd = df_patients.drop_duplicates("patient_id").set_index("patient_id")["death_date"]
        died = pd.to_datetime(dd.reindex(best["patient_id"].to_numpy())).to_numpy()
        comp = ~is_pd & ~pd.isna(died) & has_fu
        end = np.where(comp, died, end)
        event = np.where(comp, 2, event)
        reason[comp] = "death without local progression (competing event)"
    evaluable = has_base & has_fu
    reason[~has_base] = "not evaluable: no value on the territory baseline"
    reason[has_base & ~has_fu] = "not evaluable: no follow-up value"
    end_dt = pd.to_datetime(pd.Series(end)).where(evaluable)
    days = (end_dt - origin).dt.days
    out = pd.DataFrame({
        "patient_id": best["patient_id"].to_numpy(dtype=object), "lesion_id": ids,
        "criterion": criterion,
        "treating_session_id": info["treating_session_id"].reindex(ids).to_numpy(dtype=object),
        "origin_date": origin.to_numpy(), "end_date": end_dt.to_numpy(),
        "event": pd.array(np.where(evaluable, event, pd.NA), dtype="Int64"),
        "time_days": pd.array(days.to_numpy(), dtype="Int64"),
        "time_months": days.to_numpy(dtype=float) / _DAYS_PER_MONTH,
        "is_evaluable": evaluable, "reason": reason})
    out.attrs["settings"] = {"criterion": criterion, "coverage": coverage, "death": death,
                             "pd_requires_5mm": bool(pd_requires_5mm)}
    return out[LOCAL_PROGRESSION_COLUMNS]
