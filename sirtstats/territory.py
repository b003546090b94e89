"""Treatment territories: Couinaud segments of SIRT sessions and lesions (R4.3).

Each SIRT session records the territory it treated (``treatments.territory``: a lobe, both
lobes, or a sector/segments with ``treatments.couinaud_segments``), each liver lesion the
segment(s) it lies in (``lesions.couinaud_segments``). From these this module derives which
session treated each lesion (R4.3.3) and whether it lies in a treated territory at all; the
recorded flag ``lesions.in_treated_territory`` stays the fallback where segments are missing
(R4.3.4).

Anatomy: Couinaud (Le foie. Études anatomiques et chirurgicales, Masson 1957) as named by the
Brisbane 2000 terminology (Strasberg, HPB 2000;2:333-339): right liver = segments V-VIII,
left liver = segments II-IV, segment I the caudate lobe, which is supplied by both the right
and the left hepatic artery and belongs to neither lobe here (R4.3.1). Segments are written as
Arabic digits 1-8 separated by ";" (IVa/IVb are recorded as 4).

The module sits at the level of the schema and the cross-table checks: it reads typed tables
and never imports the response or statistics layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "CAUDATE_SEGMENT",
    "LEFT_LOBE_SEGMENTS",
    "LESION_TERRITORY_COLUMNS",
    "LOBE_OF_TERRITORY",
    "RIGHT_LOBE_SEGMENTS",
    "SEGMENTS",
    "SESSION_TERRITORY_COLUMNS",
    "TERRITORY_SEGMENTS",
    "compute_segments",
    "derive_lesion_territory",
    "derive_session_territories",
    "format_segments",
]

#: Couinaud segments I-VIII, as recorded (Arabic digits).
SEGMENTS: frozenset[int] = frozenset(range(1, 9))
#: Right liver (Brisbane 2000): segments V-VIII.
RIGHT_LOBE_SEGMENTS: frozenset[int] = frozenset({5, 6, 7, 8})
#: Left liver (Brisbane 2000): segments II-IV.
LEFT_LOBE_SEGMENTS: frozenset[int] = frozenset({2, 3, 4})
#: Segment I, the caudate lobe: dual arterial supply, allowed with either lobe (R4.3.1).
CAUDATE_SEGMENT: int = 1

#: Segments a territory treats when the session records none (R4.3.2); ``None`` = the
#: territory does not say which segments (sector, segmental, radiation segmentectomy or
#: lobectomy): ``couinaud_segments`` is needed to assign lesions.
TERRITORY_SEGMENTS: dict[str, frozenset[int] | None] = {
    "whole_liver": SEGMENTS,
    "bilobar_single_session": SEGMENTS,
    "right_lobe": RIGHT_LOBE_SEGMENTS,
    "left_lobe": LEFT_LOBE_SEGMENTS,
    "sector": None,
    "segmental": None,
    "radiation_segmentectomy": None,
    "radiation_lobectomy": None,
}

#: Territories that are one lobe: recorded segments must lie in it (caudate allowed).
LOBE_OF_TERRITORY: dict[str, frozenset[int]] = {
    "right_lobe": RIGHT_LOBE_SEGMENTS,
    "left_lobe": LEFT_LOBE_SEGMENTS,
}

#: Output columns of :func:`derive_session_territories`.
SESSION_TERRITORY_COLUMNS: list[str] = [
    "patient_id", "session_id", "session_no", "session_date", "territory", "segments",
    "segments_source",
]

#: Output columns of :func:`derive_lesion_territory`.
LESION_TERRITORY_COLUMNS: list[str] = [
    "patient_id", "lesion_id", "organ", "lesion_segments", "treating_session_id",
    "treating_session_no", "treating_session_date", "is_treated", "territory_source",
    "in_treated_territory_recorded",
]

_FN_LES = "derive_lesion_territory"


def _parse_one(value) -> frozenset[int] | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    if not text:
        return None
    out = set()
    for part in text.split(";"):
        part = part.strip()
        if not part.isdigit() or int(part) not in SEGMENTS:
            raise ValueError(f"Couinaud segments must be digits 1-8 separated by ';' "
                             f"(e.g. '5;6'). Got {text!r} instead.")
        out.add(int(part))
    return frozenset(out)


def compute_segments(values: pd.Series) -> pd.Series:
    """Parse ``couinaud_segments`` text ("5;6;7") into frozensets of segment numbers.

    Parameters
    ----------
    values : Series of str
        Segment lists, digits 1-8 separated by ";"; empty or missing = not recorded.

    Returns
    -------
    Series
        Same index; a ``frozenset`` of ints per row, ``None`` where nothing is recorded.

    Raises
    ------
    ValueError
        A value that is not a list of digits 1-8.

    Examples
    --------
    >>> import pandas as pd
    >>> compute_segments(pd.Series(["5;6;7", None, "4"])).map(
    ...     lambda s: None if s is None else sorted(s)).tolist()
    [[5, 6, 7], None, [4]]
    """
    return pd.Series([_parse_one(v) for v in values], index=values.index, dtype=object)


def format_segments(segments: Iterable[int] | None) -> str | None:
    """Write a set of segments as recorded ("5;6;7", sorted); ``None`` stays ``None``.

    Parameters
    ----------
    segments : iterable of int or None
        Segment numbers 1-8.

    Returns
    -------
    str or None

    Examples
    --------
    >>> format_segments({7, 5, 6})
    '5;6;7'
    """
    if segments is None:
        return None
    return ";".join(str(s) for s in sorted(segments))


def derive_session_territories(df_treatments: pd.DataFrame) -> pd.DataFrame:
    """Derive the Couinaud segments treated by each SIRT session (R4.3.2).

    Parameters
    ----------
    df_treatments : DataFrame
        The ``treatments`` table: ``patient_id``, ``session_id``, ``treatment_date``
        (datetime64), ``territory`` (``treatments.territory`` values) and optionally
        ``couinaud_segments`` (str, "5;6"). One row per injection.

    Returns
    -------
    DataFrame
        One row per patient and session (sorted by patient, date, session) with
        :data:`SESSION_TERRITORY_COLUMNS`: ``session_no`` (1 = first session of the patient),
        ``session_date`` (first injection date), ``territory`` (the injections' territories,
        ";"-joined when they differ), ``segments`` (frozenset: union over injections of the
        recorded segments, or of :data:`TERRITORY_SEGMENTS` where none are recorded; ``None``
        when an injection's segments are unknown) and ``segments_source`` (``recorded``,
        ``territory`` or ``unknown``).

    Notes
    -----
    An injection's segments are its ``couinaud_segments`` when recorded, else the segments
    its territory implies (right lobe V-VIII, left lobe II-IV, whole liver or both lobes
    I-VIII). A session is the union of its injections; one injection of unknown extent makes
    the whole session unknown (its lesions then fall back to the recorded flag, R4.3.4).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"patient_id": ["P1", "P1"], "session_id": ["S1", "S2"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10", "2024-02-21"]),
    ...     "territory": ["right_lobe", "left_lobe"], "couinaud_segments": [None, "2;3"]})
    >>> out = derive_session_territories(tx)
    >>> out.assign(segments=out["segments"].map(format_segments))[
    ...     ["session_id", "session_no", "segments", "segments_source"]]
      session_id  session_no segments segments_source
    0         S1           1  5;6;7;8       territory
    1         S2           2      2;3        recorded
    """
    tx = df_treatments
    rec = (compute_segments(tx["couinaud_segments"]) if "couinaud_segments" in tx.columns
           else pd.Series([None] * len(tx.index), index=tx.index, dtype=object))
    implied = [TERRITORY_SEGMENTS.get(t) if isinstance(t, str) else None
               for t in tx["territory"]]
    seg = [r if r is not None else i for r, i in zip(rec, implied, strict=True)]
    src = ["recorded" if r is not None else ("territory" if i is not None else "unknown")
           for r, i in zip(rec, implied, strict=True)]
    groups: dict = {}
    for pid, sid, day, terr, sg, so in zip(tx["patient_id"], tx["session_id"],
                                           pd.to_datetime(tx["treatment_date"]),
                                           tx["territory"], seg, src, strict=True):
        groups.setdefault((pid, sid), []).append((day, terr, sg, so))
    rows = []
    for (pid, sid), g in groups.items():
        segs = [x[2] for x in g]
        known = all(isinstance(x, frozenset) for x in segs)
        srcs = {x[3] for x in g}
        rows.append({
            "patient_id": pid, "session_id": sid, "session_date": min(x[0] for x in g),
            "territory": ";".join(dict.fromkeys(str(x[1]) for x in g)),
            "segments": frozenset().union(*segs) if known else None,
            "segments_source": ("unknown" if "unknown" in srcs else
                                "recorded" if srcs == {"recorded"} else "territory")})
    out = pd.DataFrame(rows, columns=[c for c in SESSION_TERRITORY_COLUMNS if c != "session_no"])
    out["session_date"] = pd.to_datetime(out["session_date"])
    out = out.sort_values(["patient_id", "session_date", "session_id"], kind="mergesort")
    out["session_no"] = out.groupby("patient_id").cumcount().astype("int64") + 1
    return out.reset_index(drop=True)[SESSION_TERRITORY_COLUMNS]


def _first_covering(lesion_segs, sessions: list, coverage: str) -> int:
    """Position in ``sessions`` (sorted by date) of the session treating the lesion, or -1."""
    covered: set[int] = set()
    for pos, sess in enumerate(sessions):
        segs = sess[3]
        if coverage == "any" and lesion_segs & segs:
            return pos
        covered |= segs
        if coverage == "all" and lesion_segs <= covered:
            return pos
    return -1


def _assign_one(organ, segs, flag, sessions: list | None, coverage: str) -> tuple:
    """(session id, no, date, is_treated, source) of one lesion; sessions are tuples
    (session_id, session_no, session_date, segments) in date order."""
    if organ != "liver":
        return None, pd.NA, pd.NaT, False, "extrahepatic"
    usable = (bool(sessions) and isinstance(segs, frozenset)
              and all(isinstance(x[3], frozenset) for x in sessions))
    if not usable:
        treated = None if pd.isna(flag) else bool(flag)
        if treated and sessions:
            return (*sessions[0][:3], True, "flag")
        return None, pd.NA, pd.NaT, treated, "flag"
    pos = _first_covering(segs, sessions, coverage)
    if pos < 0:
        return None, pd.NA, pd.NaT, False, "segments"
    return (*sessions[pos][:3], True, "segments")


def derive_lesion_territory(
    df_lesions: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    coverage: Literal["any", "all"] = "any",
) -> pd.DataFrame:
    """Derive which SIRT session treated each lesion, from Couinaud segments (R4.3.3).

    Parameters
    ----------
    df_lesions : DataFrame
        The ``lesions`` table: ``lesion_id``, ``patient_id``, ``organ`` (str),
        ``in_treated_territory`` (bool, the recorded flag) and optionally
        ``couinaud_segments`` (str, "5;6").
    df_treatments : DataFrame
        The ``treatments`` table (see :func:`derive_session_territories`).
    coverage : {"any", "all"}, default "any"
        A lesion spanning several segments is treated by the first session that reaches
        ``any`` of them (default), or once the sessions so far cover ``all`` of them (the
        session completing the cover is its treating session).

    Returns
    -------
    DataFrame
        One row per lesion, in the order of ``df_lesions`` (index kept), with
        :data:`LESION_TERRITORY_COLUMNS`: ``lesion_segments`` (as recorded),
        ``treating_session_id`` / ``_no`` / ``_date`` (the session that treated the lesion;
        empty for an untreated lesion), ``is_treated`` (nullable boolean; NA when neither segments
        nor the flag say), ``territory_source`` (``segments``: derived from the segments of
        the lesion and of every session of its patient; ``flag``: the recorded
        ``in_treated_territory`` with the first session as the treating one, R4.3.4;
        ``extrahepatic``: not a liver lesion, never treated) and
        ``in_treated_territory_recorded`` (the recorded flag, unchanged).

    Raises
    ------
    ValueError
        An invalid ``coverage``, or segments that are not digits 1-8 separated by ";".

    Notes
    -----
    A liver lesion whose segments meet no session's segments is *untreated* (R4.3.5): it
    keeps its measurements but is outside every treated territory, and new disease there is
    out-of-field (R4.2.1). Sessions are taken in date order, so in staged treatment a left-lobe
    lesion is treated by the second (left-lobe) session (R4.2.3). A repeat session on a
    territory already treated does not change the treating session.

    References
    ----------
    Couinaud C, Le foie, 1957; Strasberg SM, Brisbane 2000 terminology, HPB 2000;2:333-339.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"patient_id": "P1", "session_id": ["S1", "S2"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10", "2024-02-21"]),
    ...     "territory": ["right_lobe", "left_lobe"], "couinaud_segments": None})
    >>> les = pd.DataFrame({"lesion_id": ["L1", "L2", "L3"], "patient_id": "P1",
    ...     "organ": ["liver", "liver", "lung"], "in_treated_territory": [True, True, False],
    ...     "couinaud_segments": ["7", "3", None]})
    >>> derive_lesion_territory(les, tx)[["lesion_id", "treating_session_id", "is_treated"]]
      lesion_id treating_session_id  is_treated
    0        L1                  S1        True
    1        L2                  S2        True
    2        L3                None       False
    """
    if not isinstance(coverage, str) or coverage.lower() not in ("any", "all"):
        raise ValueError(f"The 'coverage' argument of {_FN_LES} must be one of "
                         f"{{'any', 'all'}}. Got {coverage!r} instead.")
    coverage = coverage.lower()
    les = df_lesions
    segs = (compute_segments(les["couinaud_segments"]) if "couinaud_segments" in les.columns
            else pd.Series([None] * len(les.index), index=les.index, dtype=object))
    sessions = derive_session_territories(df_treatments)
    by_patient: dict = {}
    for rec in zip(sessions["patient_id"], sessions["session_id"], sessions["session_no"],
                   sessions["session_date"], sessions["segments"], strict=True):
        by_patient.setdefault(rec[0], []).append(rec[1:])
    flag = les["in_treated_territory"].astype("boolean")
    assigned = [_assign_one(o, sg, f, by_patient.get(p), coverage)
                for p, o, sg, f in zip(les["patient_id"], les["organ"], segs, flag, strict=True)]
    out = pd.DataFrame(assigned, index=les.index, columns=[
        "treating_session_id", "treating_session_no", "treating_session_date", "is_treated",
        "territory_source"])
    out.insert(0, "patient_id", les["patient_id"].to_numpy(dtype=object))
    out.insert(1, "lesion_id", les["lesion_id"].to_numpy(dtype=object))
    out.insert(2, "organ", les["organ"].to_numpy(dtype=object))
    out.insert(3, "lesion_segments", segs.map(format_segments).to_numpy(dtype=object))
    out["treating_session_no"] = pd.array(out["treating_session_no"], dtype="Int64")
    out["treating_session_date"] = pd.to_datetime(out["treating_session_date"])
    out["is_treated"] = pd.array(out["is_treated"], dtype="boolean")
    out["in_treated_territory_recorded"] = flag.to_numpy()
    out.attrs["settings"] = {"coverage": coverage}
    return out[LESION_TERRITORY_COLUMNS]
