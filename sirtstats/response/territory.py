"""Response per treatment territory, staged baselines and out-of-field progression (R4.3).

Builds on :mod:`sirtstats.territory` (which session treated each lesion) and on
:func:`sirtstats.response.derive_timepoint_response` (RECIST 1.1, Eisenhauer et al., Eur J
Cancer 2009;45:228-247; mRECIST, Lencioni & Llovet, Semin Liver Dis 2010;30:52-60), which is
called unchanged on one pseudo-patient per territory. Scopes (R4.2, R4.3): ``territory`` (the
lesions one session treated, from that session's own baseline, R4.3.5), ``treated`` (every
treated lesion of the patient, from the patient's baseline), ``hepatic`` and ``overall``; the
``local`` scope (one lesion) is :mod:`sirtstats.response.local`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.response._common import (
    CRITERIA,
    check_choice,
    require_columns,
    to_dates,
)
from sirtstats.response.timepoint import TIMEPOINT_COLUMNS, derive_timepoint_response
from sirtstats.territory import (
    compute_segments,
    derive_lesion_territory,
    derive_session_territories,
)

__all__ = [
    "NEW_LESION_FIELD_COLUMNS",
    "OUT_OF_FIELD_COLUMNS",
    "TERRITORY_SCOPES",
    "TERRITORY_TIMEPOINT_COLUMNS",
    "derive_new_lesion_field",
    "derive_out_of_field_progression",
    "derive_scope_timepoints",
    "derive_territory_lesions",
    "derive_territory_response",
]

#: Scopes of :func:`derive_scope_timepoints`, narrowest first (R4.3).
TERRITORY_SCOPES: tuple[str, ...] = ("territory", "treated", "hepatic", "overall")

#: Output columns of :func:`derive_territory_response` (scope "territory").
TERRITORY_TIMEPOINT_COLUMNS: list[str] = [
    "patient_id", "territory_id", "session_no", "session_date", "territory_segments",
    "territory_baseline_date", *TIMEPOINT_COLUMNS[1:],
]

#: Columns :func:`derive_new_lesion_field` adds to the imaging assessments.
NEW_LESION_FIELD_COLUMNS: list[str] = [
    "treated_segments_at_visit", "is_in_field", "is_out_of_field", "new_lesion_field",
    "field_source",
]

#: Output columns of :func:`derive_out_of_field_progression`.
OUT_OF_FIELD_COLUMNS: list[str] = [
    "patient_id", "origin_date", "end_date", "event", "time_days", "time_months", "reason",
]

_DAYS_PER_MONTH = 30.4375  # R0
_SEP = "\x1f"  # joins patient and session into a territory's pseudo-patient id


def _imaging_dates(df_measurements, df_assessments, df_lesions) -> pd.DataFrame:
    """Distinct (patient_id, date) of every imaging: assessments and lesion measurements."""
    parts = []
    if df_assessments is not None and len(df_assessments):
        parts.append(pd.DataFrame({
            "patient_id": df_assessments["patient_id"].to_numpy(dtype=object),
            "date": to_dates(df_assessments["assessment_date"], "imaging_assessments",
                             "assessment_date").to_numpy()}))
    if df_measurements is not None and len(df_measurements):
        owner = df_measurements["lesion_id"].map(
            df_lesions.drop_duplicates("lesion_id").set_index("lesion_id")["patient_id"])
        parts.append(pd.DataFrame({
            "patient_id": owner.to_numpy(dtype=object),
            "date": to_dates(df_measurements["assessment_date"], "lesion_measurements",
                             "assessment_date").to_numpy()}))
    if not parts:
        return pd.DataFrame({"patient_id": pd.Series(dtype=object),
                             "date": pd.Series(dtype="datetime64[ns]")})
    d = pd.concat(parts, ignore_index=True).dropna()
    return d.drop_duplicates().sort_values(["patient_id", "date"], kind="mergesort")


def _territory_baselines(les: pd.DataFrame, dates: pd.DataFrame) -> np.ndarray:
    """Last imaging date in [lesion baseline, treating session] per lesion (R4.3.5).

    One sorted search over (patient, date) keys: the patient's last imaging on or before the
    session is the answer when it is on or after the lesion's baseline.
    """
    base = to_dates(les["baseline_date"], "lesions", "baseline_date").to_numpy()
    sess = les["treating_session_date"].to_numpy(dtype="datetime64[ns]")
    out = base.copy()
    if not len(dates) or not len(les):
        return out
    dcode, patients = pd.factorize(dates["patient_id"].to_numpy(dtype=object))
    lcode = pd.Index(patients, dtype=object).get_indexer(les["patient_id"].to_numpy(
        dtype=object))
    d = dates["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    s = sess.view(np.int64)
    b = base.astype("datetime64[ns]").view(np.int64)
    ok = (lcode >= 0) & ~np.isnat(sess) & ~np.isnat(base)
    # dense day ranks of every date involved, so that (patient, rank) is one int64 key
    days = np.unique(np.concatenate([d, s[ok]]))
    width = np.int64(len(days) + 1)
    key = dcode.astype(np.int64) * width + np.searchsorted(days, d)
    order = np.argsort(key, kind="stable")
    key, d, dcode = key[order], d[order], dcode[order]
    q = lcode[ok].astype(np.int64) * width + np.searchsorted(days, s[ok])
    pos = np.searchsorted(key, q, side="right") - 1
    found = pos >= 0
    pos = np.maximum(pos, 0)
    found &= (dcode[pos] == lcode[ok]) & (d[pos] >= b[ok])
    rows = np.flatnonzero(ok)[found]
    out[rows] = d[pos[found]].astype("datetime64[ns]").astype(out.dtype)
    return out


def derive_territory_lesions(
    df_lesions: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    df_measurements: pd.DataFrame | None = None,
    df_assessments: pd.DataFrame | None = None,
    coverage: Literal["any", "all"] = "any",
) -> pd.DataFrame:
    """Replace the fixed ``in_treated_territory`` flag by the territory derived from sessions.

    Parameters
    ----------
    df_lesions : DataFrame
        The ``lesions`` table (``lesion_id``, ``patient_id``, ``baseline_date``, ``organ``,
        ``in_treated_territory`` and optionally ``couinaud_segments``).
    df_treatments : DataFrame
        The ``treatments`` table (``patient_id``, ``session_id``, ``treatment_date``,
        ``territory``, optionally ``couinaud_segments``).
    df_measurements, df_assessments : DataFrame, optional
        ``lesion_measurements`` and ``imaging_assessments``: their dates give each lesion's
        territory baseline (R4.3.5). Without them ``territory_baseline_date`` is the lesion's
        ``baseline_date``.
    coverage : {"any", "all"}, default "any"
        See :func:`sirtstats.territory.derive_lesion_territory`.

    Returns
    -------
    DataFrame
        A copy of ``df_lesions`` (index and row order kept) where ``in_treated_territory`` is
        the derived territory when ``territory_source`` is ``segments`` and the recorded flag
        otherwise (R4.3.4), plus ``treating_session_id``, ``treating_session_no``,
        ``treating_session_date``, ``territory_source``, ``in_treated_territory_recorded`` and
        ``territory_baseline_date`` (datetime64: the last imaging of the patient between the
        lesion's ``baseline_date`` and its treating session, R4.3.5; the lesion's
        ``baseline_date`` for untreated lesions).

    See Also
    --------
    sirtstats.territory.derive_lesion_territory : the assignment itself.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"patient_id": "P1", "session_id": ["S1", "S2"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10", "2024-02-21"]),
    ...     "territory": ["right_lobe", "left_lobe"]})
    >>> les = pd.DataFrame({"lesion_id": ["L1", "L2"], "patient_id": "P1",
    ...     "baseline_date": pd.Timestamp("2024-01-03"), "organ": "liver",
    ...     "in_treated_territory": [True, False], "couinaud_segments": ["7", "3"]})
    >>> ass = pd.DataFrame({"patient_id": "P1", "assessment_date": pd.to_datetime(
    ...     ["2024-01-03", "2024-02-14", "2024-04-09"]), "criterion": "RECIST_1_1",
    ...     "new_lesion": "NO"})
    >>> derive_territory_lesions(les, tx, df_assessments=ass)[
    ...     ["lesion_id", "in_treated_territory", "treating_session_id",
    ...      "territory_baseline_date"]]
      lesion_id  in_treated_territory treating_session_id territory_baseline_date
    0        L1                  True                  S1              2024-01-03
    1        L2                  True                  S2              2024-02-14
    """
    require_columns(df_lesions, ["lesion_id", "patient_id", "baseline_date", "organ",
                                 "in_treated_territory"], "lesions", "derive_territory_lesions")
    require_columns(df_treatments, ["patient_id", "session_id", "treatment_date", "territory"],
                    "treatments", "derive_territory_lesions")
    terr = derive_lesion_territory(df_lesions, df_treatments, coverage=coverage)
    out = df_lesions.copy()
    derived = terr["territory_source"] == "segments"
    flag = out["in_treated_territory"].astype("boolean")
    new_flag = flag.where(~derived, terr["is_treated"].astype("boolean"))
    out["in_treated_territory"] = (new_flag.to_numpy(dtype=bool) if new_flag.notna().all()
                                   else new_flag)
    for col in ("treating_session_id", "treating_session_no", "treating_session_date",
                "territory_source", "in_treated_territory_recorded"):
        out[col] = terr[col]
    dates = _imaging_dates(df_measurements, df_assessments, df_lesions)
    out["territory_baseline_date"] = _territory_baselines(out, dates)
    out.attrs["settings"] = {"coverage": terr.attrs["settings"]["coverage"]}
    return out


def _treated_at(sessions: dict, pid, day) -> frozenset | None:
    """Union of the segments of the patient's sessions on or before ``day``; None if unknown."""
    before = [segs for date, segs in sessions.get(pid, ()) if date <= day]
    if not all(isinstance(x, frozenset) for x in before):
        return None
    return frozenset().union(*before)


def derive_new_lesion_field(
    df_assessments: pd.DataFrame, df_treatments: pd.DataFrame
) -> pd.DataFrame:
    """Classify each new lesion as in-field or out-of-field from Couinaud segments (R4.3.6).

    Parameters
    ----------
    df_assessments : DataFrame
        The ``imaging_assessments`` table: ``patient_id``, ``assessment_date``,
        ``new_lesion`` and optionally ``new_lesion_site``, ``new_lesion_segments`` (str,
        "3;4") and ``new_lesion_in_treated_territory`` (bool, the recorded fallback).
    df_treatments : DataFrame
        The ``treatments`` table (see :func:`sirtstats.territory.derive_session_territories`).

    Returns
    -------
    DataFrame
        A copy of ``df_assessments`` (index kept) with :data:`NEW_LESION_FIELD_COLUMNS`:
        ``treated_segments_at_visit`` (";"-joined segments of the sessions on or before the
        visit), ``is_in_field`` / ``is_out_of_field`` (nullable bool: the new lesion's
        segments meet / leave the treated segments; from the recorded flag without segments),
        ``new_lesion_field`` (``in_field``, ``out_of_field``, ``both``, ``extrahepatic``,
        ``unknown``; None without a new lesion) and ``field_source`` (``segments`` or
        ``flag``). ``new_lesion_in_treated_territory`` becomes ``is_in_field`` where it was
        derived from segments, so :func:`derive_timepoint_response` with ``scope="treated"``
        uses the derived field (the hook that replaces the fixed flag, R4.3.4).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"patient_id": "P1", "session_id": ["S1", "S2"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10", "2024-02-21"]),
    ...     "territory": ["right_lobe", "left_lobe"]})
    >>> ass = pd.DataFrame({"patient_id": "P1", "assessment_date": pd.to_datetime(
    ...     ["2024-02-14", "2024-04-09", "2024-07-08"]), "criterion": "RECIST_1_1",
    ...     "new_lesion": "YES", "new_lesion_site": "intrahepatic",
    ...     "new_lesion_segments": ["3", "3", "1"]})
    >>> derive_new_lesion_field(ass, tx)[["assessment_date", "new_lesion_field"]]
      assessment_date new_lesion_field
    0      2024-02-14     out_of_field
    1      2024-04-09         in_field
    2      2024-07-08     out_of_field
    """
    out = df_assessments.copy()
    st = derive_session_territories(df_treatments)
    sessions: dict = {}
    for pid, date, segs in zip(st["patient_id"], st["session_date"], st["segments"],
                               strict=True):
        sessions.setdefault(pid, []).append((date, segs))
    n = len(out)
    segs = (compute_segments(out["new_lesion_segments"]) if "new_lesion_segments" in out.columns
            else pd.Series([None] * n, index=out.index, dtype=object))
    site = (out["new_lesion_site"] if "new_lesion_site" in out.columns
            else pd.Series([None] * n, index=out.index, dtype=object))
    flag = (out["new_lesion_in_treated_territory"].astype("boolean")
            if "new_lesion_in_treated_territory" in out.columns
            else pd.Series(pd.NA, index=out.index, dtype="boolean"))
    present = out["new_lesion"].isin(["YES", "EQUIVOCAL"]).to_numpy()
    days = to_dates(out["assessment_date"], "imaging_assessments", "assessment_date")
    treated, inf, outf, label, src = [], [], [], [], []
    for i in range(n):
        t = _treated_at(sessions, out["patient_id"].iat[i], days.iat[i])
        treated.append(None if t is None else ";".join(str(x) for x in sorted(t)))
        s = segs.iat[i]
        if s is not None and t is not None:
            a, b, how = bool(s & t), bool(s - t), "segments"
        else:
            f = flag.iat[i]
            a, b = (pd.NA, pd.NA) if pd.isna(f) else (bool(f), not bool(f))
            how = "flag"
        if not present[i]:
            inf.append(pd.NA), outf.append(pd.NA), label.append(None), src.append(None)
            continue
        if site.iat[i] == "extrahepatic":
            inf.append(False), outf.append(False), label.append("extrahepatic")
            src.append("site")
            continue
        inf.append(a), outf.append(b), src.append(how)
        label.append("unknown" if pd.isna(a) else "both" if a and b else
                     "in_field" if a else "out_of_field")
    out["treated_segments_at_visit"] = pd.Series(treated, index=out.index, dtype=object)
    out["is_in_field"] = pd.array(inf, dtype="boolean")
    out["is_out_of_field"] = pd.array(outf, dtype="boolean")
    out["new_lesion_field"] = pd.Series(label, index=out.index, dtype=object)
    out["field_source"] = pd.Series(src, index=out.index, dtype=object)
    by_seg = out["field_source"] == "segments"
    if by_seg.any():
        out["new_lesion_in_treated_territory"] = flag.where(~by_seg, out["is_in_field"])
    return out


def _unit_assessments(ass: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """One copy of the patient's assessments per territory, in-field for that territory."""
    a = ass.merge(units[["patient_id", "unit", "territory_segments_set"]], on="patient_id",
                  how="inner")
    segs = (compute_segments(a["new_lesion_segments"]) if "new_lesion_segments" in a.columns
            else pd.Series([None] * len(a), index=a.index, dtype=object))
    flag = (a["new_lesion_in_treated_territory"].astype("boolean")
            if "new_lesion_in_treated_territory" in a.columns
            else pd.Series(pd.NA, index=a.index, dtype="boolean"))
    own = [pd.NA if s is None or t is None else bool(s & t)
           for s, t in zip(segs, a["territory_segments_set"], strict=True)]
    own = pd.Series(pd.array(own, dtype="boolean"), index=a.index)
    a["new_lesion_in_treated_territory"] = own.where(own.notna(), flag)
    return a.assign(patient_id=a["unit"]).drop(columns=["unit", "territory_segments_set"])


def derive_territory_response(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    df_assessments: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    coverage: Literal["any", "all"] = "any",
    include_baseline: bool = False,
    **options,
) -> pd.DataFrame:
    """Derive the response of each treated territory from its own baseline (R4.3.5).

    Parameters
    ----------
    df_lesions, df_measurements, df_assessments : DataFrame
        ``lesions``, ``lesion_measurements`` and ``imaging_assessments`` as for
        :func:`derive_timepoint_response`; ``lesions.couinaud_segments`` and
        ``imaging_assessments.new_lesion_segments`` are used when present.
    df_treatments : DataFrame
        The ``treatments`` table (``patient_id``, ``session_id``, ``treatment_date``,
        ``territory``, optionally ``couinaud_segments``).
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion.
    coverage : {"any", "all"}, default "any"
        Lesions spanning several segments (R4.3.3).
    include_baseline : bool, default False
        Also return each territory's baseline row.
    **options
        Passed to :func:`derive_timepoint_response` (e.g. ``mrecist_pd_requires_5mm``).

    Returns
    -------
    DataFrame
        One row per territory (patient and treating session) and imaging date after the
        territory baseline, with :data:`TERRITORY_TIMEPOINT_COLUMNS`: ``territory_id`` (the
        session id), ``session_no``, ``session_date``, ``territory_segments`` (";"-joined,
        None when only the flag placed the lesions), ``territory_baseline_date`` and the
        timepoint columns (``scope`` = ``"territory"``; sums over that territory's target
        lesions; new lesions count only when intrahepatic and in that territory's segments).

    See Also
    --------
    derive_territory_lesions : the lesions' territories and baselines.
    derive_scope_timepoints : every scope in one frame.

    Notes
    -----
    Each territory is run through :func:`derive_timepoint_response` as a patient of its own
    whose lesions are the ones its session treated, with ``baseline_date`` set to the
    territory baseline (the last scan on or before that session, R4.3.5). A target without a
    measurement on that date gives a territory baseline that is not evaluable (NE). A new
    lesion with segments is in a territory when its segments meet the territory's; without
    segments the recorded ``new_lesion_in_treated_territory`` decides (R4.3.6). Lesions no
    session treated belong to no territory.

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
    >>> ass = pd.DataFrame({"patient_id": "P1", "assessment_date": d,
    ...     "criterion": "RECIST_1_1", "new_lesion": "NO"})
    >>> derive_territory_response(les, meas, ass, tx)[
    ...     ["territory_id", "assessment_date", "pct_change_from_baseline", "overall_response"]]
      territory_id assessment_date  pct_change_from_baseline overall_response
    0           S1      2024-02-14                     -25.0               SD
    1           S1      2024-04-09                     -50.0               PR
    2           S2      2024-04-09                     -30.0               PR
    """
    criterion = check_choice(criterion, CRITERIA, "criterion", "derive_territory_response")
    les = derive_territory_lesions(df_lesions, df_treatments, df_measurements=df_measurements,
                                   df_assessments=df_assessments, coverage=coverage)
    treated = les.loc[les["in_treated_territory"].astype("boolean").fillna(False).to_numpy()
                      & (les["organ"] == "liver").to_numpy()
                      & les["treating_session_id"].notna().to_numpy()]
    sessions = derive_session_territories(df_treatments)
    units = treated[["patient_id", "treating_session_id"]].drop_duplicates().rename(
        columns={"treating_session_id": "session_id"}).merge(
        sessions, on=["patient_id", "session_id"], how="left")
    seg_based = treated.groupby(["patient_id", "treating_session_id"])["territory_source"].agg(
        lambda s: (s == "segments").all())
    units["all_segments"] = seg_based.reindex(pd.MultiIndex.from_frame(
        units[["patient_id", "session_id"]])).to_numpy(dtype=bool)
    units["territory_segments_set"] = units["segments"].where(units["all_segments"], None)
    units["unit"] = units["patient_id"].astype(str) + _SEP + units["session_id"].astype(str)
    ulesions = treated.assign(
        patient_id=treated["patient_id"].astype(str) + _SEP
        + treated["treating_session_id"].astype(str),
        baseline_date=treated["territory_baseline_date"], in_treated_territory=True)
    umeas = df_measurements.loc[df_measurements["lesion_id"].isin(set(ulesions["lesion_id"]))]
    uass = _unit_assessments(df_assessments, units)
    tp = derive_timepoint_response(ulesions, umeas, uass, criterion=criterion, scope="treated",
                                   include_baseline=include_baseline, **options)
    info = units.set_index("unit")
    unit = tp["patient_id"].to_numpy(dtype=object)
    base = ulesions.groupby("patient_id")["baseline_date"].max()
    tp = tp.assign(
        patient_id=info["patient_id"].reindex(unit).to_numpy(dtype=object),
        territory_id=info["session_id"].reindex(unit).to_numpy(dtype=object),
        session_no=pd.array(info["session_no"].reindex(unit).to_numpy(), dtype="Int64"),
        session_date=info["session_date"].reindex(unit).to_numpy(),
        territory_segments=[None if s is None else ";".join(str(x) for x in sorted(s))
                            for s in info["territory_segments_set"].reindex(unit)],
        territory_baseline_date=base.reindex(unit).to_numpy(),
        scope="territory")
    settings = dict(tp.attrs.get("settings", {}), scope="territory", coverage=coverage)
    out = tp[TERRITORY_TIMEPOINT_COLUMNS].sort_values(
        ["patient_id", "session_no", "assessment_date"], kind="mergesort").reset_index(drop=True)
    out.attrs["settings"] = settings
    return out


def derive_scope_timepoints(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    df_assessments: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    scopes: Sequence[str] = TERRITORY_SCOPES,
    coverage: Literal["any", "all"] = "any",
    **options,
) -> pd.DataFrame:
    """Timepoints of several scopes in one frame, with the territory derived from sessions.

    Parameters
    ----------
    df_lesions, df_measurements, df_assessments, df_treatments : DataFrame
        As for :func:`derive_territory_response`.
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion.
    scopes : sequence of {"territory", "treated", "hepatic", "overall"}, default all
        ``territory``: per treated territory from its own baseline; ``treated``: all treated
        lesions of the patient from the patient's baseline, with the derived lesion
        territory and new-lesion field (R4.3.4, R4.3.6); ``hepatic`` and ``overall`` as in
        :func:`derive_timepoint_response`.
    coverage : {"any", "all"}, default "any"
        Lesions spanning several segments (R4.3.3).
    **options
        Passed to :func:`derive_timepoint_response`.

    Returns
    -------
    DataFrame
        :data:`TERRITORY_TIMEPOINT_COLUMNS`, one block per scope; the territory columns are
        empty for the patient-level scopes.
    """
    fn = "derive_scope_timepoints"
    scopes = [check_choice(s, TERRITORY_SCOPES, "scopes", fn) for s in scopes]
    parts = []
    les = derive_territory_lesions(df_lesions, df_treatments, coverage=coverage)
    ass = derive_new_lesion_field(df_assessments, df_treatments)
    for scope in scopes:
        if scope == "territory":
            parts.append(derive_territory_response(
                df_lesions, df_measurements, df_assessments, df_treatments,
                criterion=criterion, coverage=coverage, **options))
            continue
        tp = derive_timepoint_response(les, df_measurements, ass, criterion=criterion,
                                       scope=scope, **options)
        n = len(tp)
        parts.append(tp.assign(
            territory_id=pd.Series([None] * n, index=tp.index, dtype=object),
            session_no=pd.array([pd.NA] * n, dtype="Int64"),
            session_date=pd.Series(pd.NaT, index=tp.index, dtype="datetime64[ns]"),
            territory_segments=pd.Series([None] * n, index=tp.index, dtype=object),
            territory_baseline_date=pd.Series(pd.NaT, index=tp.index,
                                              dtype="datetime64[ns]"))[
            TERRITORY_TIMEPOINT_COLUMNS])
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=TERRITORY_TIMEPOINT_COLUMNS)
    return pd.concat(parts, ignore_index=True)[TERRITORY_TIMEPOINT_COLUMNS]


def derive_out_of_field_progression(
    df_assessments: pd.DataFrame,
    df_treatments: pd.DataFrame,
    df_origin: pd.DataFrame,
) -> pd.DataFrame:
    """Time to out-of-field progression: the first new lesion in untreated liver (R4.3.6).

    Parameters
    ----------
    df_assessments : DataFrame
        ``imaging_assessments`` (see :func:`derive_new_lesion_field`).
    df_treatments : DataFrame
        The ``treatments`` table.
    df_origin : DataFrame
        ``patient_id``, ``origin_date`` (datetime64; first SIRT, see
        :func:`sirtstats.endpoints.derive_origin`).

    Returns
    -------
    DataFrame
        One row per patient of ``df_origin`` with :data:`OUT_OF_FIELD_COLUMNS`: ``event`` (1 =
        an unequivocal (``YES``) intrahepatic new lesion outside every segment treated by
        then, ``is_out_of_field``), ``end_date`` (that visit, else the last imaging after the
        origin; the origin without imaging), ``time_days`` / ``time_months`` (days / 30.4375)
        and ``reason``.

    Notes
    -----
    Deaths and in-field progression are not events: the endpoint follows the untreated liver
    until its first new disease, censored at the last imaging (as TTLP, D8). Equivocal new
    lesions are not events (R1.7.2).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"patient_id": "P1", "session_id": ["S1"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10"]), "territory": ["right_lobe"]})
    >>> ass = pd.DataFrame({"patient_id": "P1", "assessment_date": pd.to_datetime(
    ...     ["2024-04-09", "2024-07-08"]), "criterion": "RECIST_1_1", "new_lesion": "YES",
    ...     "new_lesion_site": "intrahepatic", "new_lesion_segments": ["6", "2"]})
    >>> org = pd.DataFrame({"patient_id": ["P1"], "origin_date": pd.to_datetime(["2024-01-10"])})
    >>> derive_out_of_field_progression(ass, tx, org)[["event", "time_days", "reason"]]
       event  time_days                                   reason
    0      1        180  out-of-field new lesion in segment(s) 2
    """
    require_columns(df_origin, ["patient_id", "origin_date"], "origin",
                    "derive_out_of_field_progression")
    a = derive_new_lesion_field(df_assessments, df_treatments)
    a = a.assign(_date=to_dates(a["assessment_date"], "imaging_assessments", "assessment_date"))
    org = df_origin[["patient_id", "origin_date"]].copy()
    org["origin_date"] = to_dates(org["origin_date"], "origin", "origin_date")
    a = a.merge(org, on="patient_id", how="inner")
    a = a.loc[a["_date"] > a["origin_date"]]
    ev = a.loc[(a["new_lesion"] == "YES") & a["is_out_of_field"].fillna(False).to_numpy(bool)]
    first = ev.sort_values("_date", kind="mergesort").drop_duplicates("patient_id")
    first = first.set_index("patient_id")
    last = a.groupby("patient_id")["_date"].max()
    out = org.reset_index(drop=True)
    has_ev = out["patient_id"].isin(first.index).to_numpy()
    ev_date = first["_date"].reindex(out["patient_id"]).to_numpy()
    last_date = last.reindex(out["patient_id"]).to_numpy()
    end = np.where(has_ev, ev_date, np.where(pd.isna(last_date), out["origin_date"], last_date))
    out["end_date"] = pd.to_datetime(end)
    out["event"] = has_ev.astype(int)
    out["time_days"] = (out["end_date"] - out["origin_date"]).dt.days.astype(int)
    out["time_months"] = out["time_days"] / _DAYS_PER_MONTH
    segs = first.get("new_lesion_segments")
    out["reason"] = [
        (f"out-of-field new lesion in segment(s) {segs.get(p)}" if segs is not None
         and pd.notna(segs.get(p)) else "out-of-field new lesion (recorded flag)") if e
        else ("censored at the last imaging" if pd.notna(lst) else "no imaging after origin")
        for p, e, lst in zip(out["patient_id"], has_ev, last_date, strict=True)]
    return out[OUT_OF_FIELD_COLUMNS]
