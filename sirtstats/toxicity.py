"""Adverse events after SIRT: treatment-emergent window, worst grades, incidence and shift tables,
and early mortality.

Reported adverse events (``adverse_events`` table, graded by CTCAE v5.0) are flagged
treatment-emergent when their onset falls in a window after SIRT (default: from the first
session to 90 days after the last one; the pharmaverse/admiral ADAE convention is the same rule
with a 30-day window). Lab abnormalities graded by :mod:`sirtstats.ctcae` become lab-derived
adverse events when the worst post-baseline grade in the window is worse than the baseline grade
(T4.1, docs/rules/toxicity.md). Incidence tables count patients (not events) by worst grade, as
n (%) of the population N, by term or system organ class and by group. Early mortality is the
share of patients dying within 30 / 90 days of the first SIRT, with Clopper-Pearson exact CIs.

Criteria versions: CTCAE v5.0 (NCI 2017); treatment-emergent flag as admiral
``derive_var_trtemfl`` (``TRTSDT <= ASTDT <= TRTEDT + end_window``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require
from sirtstats.ctcae import _check_option
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

__all__ = [
    "DEFAULT_TE_WINDOW_DAYS",
    "derive_first_worst_flag",
    "derive_treatment_emergent",
    "filter_lab_adverse_events",
    "filter_treatment_emergent",
    "format_ae_table",
    "pivot_ae_table",
    "summarise_ae_grade_counts",
    "summarise_ae_grade_table",
    "summarise_ae_table",
    "summarise_early_mortality",
    "summarise_lab_vs_reported",
    "summarise_shift_table",
    "summarise_toxicity_metrics",
    "summarise_worst_grade",
    "summarise_worst_lab_grades",
]

#: Default treatment-emergent window: adverse events starting up to 90 days after SIRT.
DEFAULT_TE_WINDOW_DAYS = 90

#: Label of the all-events row of :func:`summarise_ae_table`.
ANY_AE_LABEL = "Any adverse event"
#: Label of the all-groups rows of :func:`summarise_ae_table` and mortality tables.
TOTAL_LABEL = "All"
#: Label used for adverse events without a system organ class.
NO_SOC_LABEL = "SOC not given"

_SESSION_COLUMNS = ["patient_id", "session_id", "session_date"]


# ------------------------------------------------------------------------------ helpers



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
    first = sessions.groupby("patient_id")["session_date"].min()
    last = sessions.groupby("patient_id")["session_date"].max()
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
    out["first_sirt_date"] = left["patient_id"].map(first).astype("datetime64[ns]").to_numpy()
    out["last_sirt_date"] = left["patient_id"].map(last).astype("datetime64[ns]").to_numpy()
    out["reference_session_id"] = merged["session_id"].reindex(out.index)
    out["reference_session_date"] = merged["session_date"].reindex(out.index)
    date = left["date"]
    ref = out["reference_session_date"]
    window = pd.Timedelta(days=window_days)
    if end == "each_session":
        inside = ref.notna() & (date <= ref + window)
    else:
        inside = (
            out["first_sirt_date"].notna()
            & (date >= out["first_sirt_date"] + pd.Timedelta(days=start_offset_days))
            & (date <= out["last_sirt_date"] + window)
        )
    out["in_window"] = inside.fillna(False).to_numpy(dtype=bool)
    out["days_from_session"] = pd.array((date - ref).dt.days.to_numpy(), dtype="Int64")
    out["days_from_first_sirt"] = pd.array(
        (date - out["first_sirt_date"]).dt.days.to_numpy(), dtype="Int64"
    )
    return out


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


# -------------------------------------------------------------------- worst grade & tables


def summarise_worst_grade(
    df_ae: pd.DataFrame,
    *,
    by: Sequence[str] | str = ("ae_term",),
    grade_col: str = "grade",
    subject_keys: Sequence[str] = ("patient_id",),
) -> pd.DataFrame:
    """Worst grade per patient and term (or any other grouping).

    Parameters
    ----------
    df_ae : DataFrame
        Adverse events (usually treatment-emergent only) with ``subject_keys``, ``by`` columns
        and ``grade_col`` (CTCAE grade 1-5).
    by : str or sequence of str
        Grouping within patient, e.g. ``"ae_term"``, ``"soc"`` or ``()`` for any event.
    grade_col : str
        Grade column.
    subject_keys : sequence of str
        Patient key columns.

    Returns
    -------
    DataFrame
        One row per patient and group, sorted by keys: the keys, ``worst_grade`` (Int64) and
        ``n_events`` (int).

    Examples
    --------
    >>> import pandas as pd
    >>> ae = pd.DataFrame({"patient_id": ["P1", "P1", "P2"],
    ...                    "ae_term": ["Fatigue", "Fatigue", "Fatigue"], "grade": [1, 3, 2]})
    >>> summarise_worst_grade(ae)
      patient_id  ae_term  worst_grade  n_events
    0         P1  Fatigue            3         2
    1         P2  Fatigue            2         1
    """
    by = [by] if isinstance(by, str) else list(by)
    keys = [*subject_keys, *by]
    _require(df_ae, [*keys, grade_col], "adverse_events")
    g = df_ae.groupby(keys, sort=True, dropna=False)[grade_col]
    out = pd.DataFrame({"worst_grade": g.max(), "n_events": g.size()}).reset_index()
    out["worst_grade"] = out["worst_grade"].astype("Int64")
    return out


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


def summarise_ae_table(
    df_ae: pd.DataFrame,
    df_population: pd.DataFrame,
    *,
    by: Literal["ae_term", "soc"] = "ae_term",
    groupby: str | None = None,
    high_grade: int = 3,
    grade_col: str = "grade",
    include_any: bool = True,
    include_total: bool = True,
    decimals: int = 1,
) -> pd.DataFrame:
    """Incidence of adverse events by term or organ class: patients with any grade and with
    grade ≥ ``high_grade``, as n (%) of the population N.

    Parameters
    ----------
    df_ae : DataFrame
        Adverse events to count (e.g. :func:`filter_treatment_emergent` output, or lab-derived
        events from :func:`filter_lab_adverse_events`): ``patient_id``, the ``by`` column and
        ``grade_col`` (CTCAE grade 1-5).
    df_population : DataFrame
        One row per patient of the analysed population (e.g. ``CohortSelection.patients``):
        ``patient_id`` and the ``groupby`` column. Patients without events count in N; events
        of patients outside the population are ignored.
    by : {"ae_term", "soc"}
        Row level: CTCAE term, or MedDRA system organ class (missing SOC is reported as
        "SOC not given").
    groupby : str, optional
        Population column splitting the table (e.g. ``"device"``, ``"primary_tumour"``).
    high_grade : int
        Severity cut-off; columns ``n_grade_{high_grade}plus`` count patients whose worst grade
        is ≥ it. Default 3.
    grade_col : str
        Grade column of ``df_ae``.
    include_any : bool
        Add a first row "Any adverse event" (patients with at least one event).
    include_total : bool
        With ``groupby``, add the "All" group.
    decimals : int
        Decimals of the formatted percentages.

    Returns
    -------
    DataFrame
        Long format, one row per (group,) term: ``groupby`` column (if any), ``by`` column,
        ``N`` (patients in the group), ``n_any_grade``, ``pct_any_grade``,
        ``n_grade_{h}plus``, ``pct_grade_{h}plus`` (pct in %, NaN when N = 0), and the
        formatted ``any_grade`` and ``grade_{h}plus`` ("n (x.x%)"). Terms are ordered by
        decreasing overall frequency, then name.

    Raises
    ------
    SirtDataError
        If a required column is missing.
    ValueError
        For an invalid ``by``.

    Notes
    -----
    A patient counts once per term, at his worst grade (CTCAE convention for incidence
    tables); the "Any adverse event" row counts patients with at least one event.

    Examples
    --------
    >>> import pandas as pd
    >>> ae = pd.DataFrame({"patient_id": ["P1", "P1", "P2"],
    ...                    "ae_term": ["Fatigue", "Fatigue", "Ascites"], "grade": [1, 3, 2]})
    >>> pop = pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4"]})
    >>> summarise_ae_table(ae, pop)[["ae_term", "N", "any_grade", "grade_3plus"]]
                 ae_term  N  any_grade grade_3plus
    0  Any adverse event  4  2 (50.0%)   1 (25.0%)
    1            Ascites  4  1 (25.0%)    0 (0.0%)
    2            Fatigue  4  1 (25.0%)   1 (25.0%)
    """
    by = _check_option(by, ("ae_term", "soc"), "by", "summarise_ae_table")
    _require(df_ae, ["patient_id", by, grade_col], "adverse_events")
    pop = _population(df_population, groupby)
    ae = df_ae[df_ae["patient_id"].isin(pop["patient_id"])]
    level = ae[by].astype(object)
    if by == "soc":
        level = level.where(level.notna() & (level.astype(str).str.strip() != ""), NO_SOC_LABEL)
    ae = pd.DataFrame(
        {
            "patient_id": ae["patient_id"].to_numpy(),
            by: level.to_numpy(),
            "_grade": ae[grade_col].to_numpy(dtype=float),
        }
    )
    worst = ae.groupby(["patient_id", by], sort=False)["_grade"].max().reset_index()
    any_worst = ae.groupby("patient_id", sort=False)["_grade"].max().reset_index()
    any_worst[by] = ANY_AE_LABEL
    if include_any:
        worst = pd.concat([any_worst[["patient_id", by, "_grade"]], worst], ignore_index=True)
    high = f"grade_{high_grade}plus"
    # term order: "Any adverse event" first, then decreasing frequency in the whole population
    freq = worst.groupby(by, sort=False)["patient_id"].size()
    rank = pd.DataFrame({by: freq.index, "_n": freq.to_numpy()})
    rank["_any"] = rank[by] != ANY_AE_LABEL
    rank = rank.sort_values(["_any", "_n", by], ascending=[True, False, True], kind="mergesort")
    terms = rank[by].tolist()
    if include_any and ANY_AE_LABEL not in terms:
        terms.insert(0, ANY_AE_LABEL)
    pieces = []
    for value, members in _group_frames(pop, groupby, include_total):
        w = worst[worst["patient_id"].isin(members["patient_id"])]
        grades = w.groupby(by, sort=False)["_grade"]
        piece = pd.DataFrame(index=pd.Index(terms, name=by))
        piece["N"] = len(members)
        piece["n_any_grade"] = grades.size().reindex(terms, fill_value=0).astype(int)
        piece[f"n_{high}"] = (
            (w["_grade"] >= high_grade).groupby(w[by]).sum().reindex(terms, fill_value=0)
        ).astype(int)
        piece = piece.reset_index()
        if groupby:
            piece.insert(0, groupby, value)
        pieces.append(piece)
    table = pd.concat(pieces, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = table["N"].where(table["N"] > 0)
        table["pct_any_grade"] = 100.0 * table["n_any_grade"] / denom
        table[f"pct_{high}"] = 100.0 * table[f"n_{high}"] / denom
    table["any_grade"] = _format_n_pct(table["n_any_grade"], table["pct_any_grade"], decimals)
    table[high] = _format_n_pct(table[f"n_{high}"], table[f"pct_{high}"], decimals)
    ordered = ([groupby] if groupby else []) + [
        by,
        "N",
        "n_any_grade",
        "pct_any_grade",
        f"n_{high}",
        f"pct_{high}",
        "any_grade",
        high,
    ]
    return table[ordered]


def pivot_ae_table(df_table: pd.DataFrame, *, groupby: str | None = None) -> pd.DataFrame:
    """Wide display form of :func:`summarise_ae_table`: one row per term, two columns per
    group ("<group> (N=..) any grade", "<group> (N=..) grade ≥ h").

    Parameters
    ----------
    df_table : DataFrame
        Output of :func:`summarise_ae_table`.
    groupby : str, optional
        The grouping column used, if any (without one the single group is labelled "All").

    Returns
    -------
    DataFrame
        Indexed by term (or SOC), columns in group order; cells are the formatted "n (x.x%)".
    """
    _require(df_table, ["N", "any_grade", *([groupby] if groupby else [])], "ae_table")
    by = "soc" if "soc" in df_table.columns else "ae_term"
    high = [c for c in df_table.columns if c.startswith("grade_") and c.endswith("plus")][0]
    label = "grade ≥ " + high[len("grade_") : -len("plus")]
    groups = df_table[groupby] if groupby else pd.Series(TOTAL_LABEL, index=df_table.index)
    pieces = []
    for value in dict.fromkeys(groups):
        g = df_table[(groups == value).to_numpy()].set_index(by)
        n = int(g["N"].iloc[0])
        pieces.append(
            pd.DataFrame(
                {
                    f"{value} (N={n}) any grade": g["any_grade"],
                    f"{value} (N={n}) {label}": g[high],
                }
            )
        )
    return pd.concat(pieces, axis=1)


#: CTCAE v5.0 grades counted by :func:`summarise_ae_grade_table` (5 = death related to AE).
CTCAE_GRADES: tuple[int, ...] = (1, 2, 3, 4, 5)


def summarise_ae_grade_table(
    df_ae: pd.DataFrame,
    df_population: pd.DataFrame,
    *,
    by: Literal["ae_term", "soc"] = "ae_term",
    groupby: str | None = None,
    high_grade: int = 3,
    grade_col: str = "grade",
    include_any: bool = True,
    include_total: bool = True,
) -> pd.DataFrame:
    """Patients by worst CTCAE grade 1-5 per term (or SOC), with any grade and grade ≥ 3.

    Parameters
    ----------
    df_ae, df_population, by, groupby, high_grade, grade_col, include_any, include_total
        As :func:`summarise_ae_table`.

    Returns
    -------
    DataFrame
        The columns of :func:`summarise_ae_table` plus ``n_grade_1`` … ``n_grade_5``:
        patients whose worst grade for the term (or SOC, or any event) is that grade. Per
        row the five counts add up to ``n_any_grade``.

    Notes
    -----
    A patient counts once per row, at the worst grade of the events of that row (CTCAE
    incidence-table convention, tern ``AET04``), so grade columns are exclusive.

    Examples
    --------
    >>> import pandas as pd
    >>> ae = pd.DataFrame({"patient_id": ["P1", "P1", "P2"],
    ...                    "ae_term": ["Fatigue", "Fatigue", "Ascites"], "grade": [1, 3, 2]})
    >>> pop = pd.DataFrame({"patient_id": ["P1", "P2", "P3"]})
    >>> summarise_ae_grade_table(ae, pop)[["ae_term", "n_grade_1", "n_grade_2", "n_grade_3"]]
                 ae_term  n_grade_1  n_grade_2  n_grade_3
    0  Any adverse event          0          1          1
    1            Ascites          0          1          0
    2            Fatigue          0          0          1
    """
    table = summarise_ae_table(df_ae, df_population, by=by, groupby=groupby,
                               high_grade=high_grade, grade_col=grade_col,
                               include_any=include_any, include_total=include_total)
    by = "soc" if "soc" in table.columns and by.lower() == "soc" else "ae_term"
    pop = _population(df_population, groupby)
    ae = df_ae[df_ae["patient_id"].isin(pop["patient_id"])]
    level = ae[by].astype(object)
    if by == "soc":
        level = level.where(level.notna() & (level.astype(str).str.strip() != ""), NO_SOC_LABEL)
    ae = pd.DataFrame({"patient_id": ae["patient_id"].to_numpy(), by: level.to_numpy(),
                       "_grade": ae[grade_col].to_numpy(dtype=float)})
    worst = ae.groupby(["patient_id", by], sort=False)["_grade"].max().reset_index()
    if include_any:
        any_worst = ae.groupby("patient_id", sort=False)["_grade"].max().reset_index()
        any_worst[by] = ANY_AE_LABEL
        worst = pd.concat([any_worst[["patient_id", by, "_grade"]], worst], ignore_index=True)
    out = []
    for value, members in _group_frames(pop, groupby, include_total):
        w = worst[worst["patient_id"].isin(members["patient_id"])]
        counts = w.groupby([by, "_grade"]).size()
        rows = table if not groupby else table[table[groupby] == value]
        block = pd.DataFrame(index=rows.index)
        for g in CTCAE_GRADES:
            block[f"n_grade_{g}"] = [int(counts.get((t, float(g)), 0)) for t in rows[by]]
        out.append(block)
    return pd.concat([table, pd.concat(out)], axis=1)


def format_ae_table(
    df_table: pd.DataFrame,
    *,
    groupby: str | None = None,
    title: str = "Treatment-emergent adverse events by worst CTCAE grade",
    name: str | None = None,
    decimals: int = 1,
):
    """Paste-ready AE table: worst grade 1-5, any grade and grade ≥ 3 as n (%) per term.

    Parameters
    ----------
    df_table : DataFrame
        :func:`summarise_ae_grade_table` output.
    groupby : str, optional
        The grouping column used: each group becomes a block of rows headed
        "<group> (N = ..)", the "All" block first.
    title : str
        Table title.
    name : str, optional
        File stem for :meth:`sirtstats.formatting.ReportTable.save`.
    decimals : int
        Decimals of the percentages.

    Returns
    -------
    sirtstats.formatting.ReportTable
        Columns term (or SOC), Grade 1 … Grade 5 (spanned "Worst CTCAE grade, n (%)"),
        Any grade, Grade ≥ 3; cells n (%) of the group's N.

    Examples
    --------
    >>> import pandas as pd
    >>> ae = pd.DataFrame({"patient_id": ["P1", "P1", "P2"],
    ...                    "ae_term": ["Fatigue", "Fatigue", "Ascites"], "grade": [1, 3, 2]})
    >>> pop = pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4"]})
    >>> t = format_ae_table(summarise_ae_grade_table(ae, pop))
    >>> t.column_labels[1:]
    ['Grade 1', 'Grade 2', 'Grade 3', 'Grade 4', 'Grade 5', 'Any grade', 'Grade ≥ 3']
    >>> t.data.iloc[0].tolist()[1:]
    ['0 (0.0)', '1 (25.0)', '1 (25.0)', '0 (0.0)', '0 (0.0)', '2 (50.0)', '1 (25.0)']
    """
    from sirtstats.formatting import ReportTable, format_n_pct
    from sirtstats.labels import column_label, value_label

    by = "soc" if "soc" in df_table.columns else "ae_term"
    high = [c for c in df_table.columns if c.startswith("n_grade_") and c.endswith("plus")][0]
    h = high[len("n_grade_"):-len("plus")]
    grade_cols = [f"n_grade_{g}" for g in CTCAE_GRADES]
    _require(df_table, [by, "N", "n_any_grade", *grade_cols], "ae_table")
    keys = [by, *[f"grade_{g}" for g in CTCAE_GRADES], "any_grade", f"grade_{h}plus"]
    groups = df_table[groupby] if groupby else pd.Series(TOTAL_LABEL, index=df_table.index)
    order = list(dict.fromkeys(groups))
    if TOTAL_LABEL in order:
        order = [TOTAL_LABEL] + [g for g in order if g != TOTAL_LABEL]
    rows, indent = [], []
    for value in order:
        g = df_table[(groups == value).to_numpy()]
        n_total = int(g["N"].iloc[0])
        if groupby:
            label = "All patients" if value == TOTAL_LABEL else value_label(value)
            rows.append({by: f"{label} (N = {n_total})"})
            indent.append(False)
        for r in g.to_dict("records"):
            row = {by: r[by]}
            for gr in CTCAE_GRADES:
                row[f"grade_{gr}"] = format_n_pct(r[f"n_grade_{gr}"], n_total, decimals)
            row["any_grade"] = format_n_pct(r["n_any_grade"], n_total, decimals)
            row[f"grade_{h}plus"] = format_n_pct(r[high], n_total, decimals)
            rows.append(row)
            indent.append(bool(groupby))
    data = pd.DataFrame(rows, columns=keys).fillna("")
    labels = {by: "System organ class" if by == "soc" else "Adverse event (CTCAE term)",
              **{f"grade_{g}": f"Grade {g}" for g in CTCAE_GRADES}, "any_grade": "Any grade",
              f"grade_{h}plus": f"Grade ≥ {h}"}
    notes = [f"n (%) of patients, counted once per {'organ class' if by == 'soc' else 'term'} "
             "at their worst grade (CTCAE v5.0); grade 5 = death related to the adverse event.",
             "N: patients in the population, with or without an event."]
    if groupby:
        notes.append(f"Blocks by {column_label(groupby).lower()}; All patients first.")
    return ReportTable(data=data, title=title, labels=labels,
                       spanners=(("Worst CTCAE grade, n (%)",
                                  tuple(f"grade_{g}" for g in CTCAE_GRADES)),),
                       footnotes=tuple(notes), indent=tuple(indent), stub=by, name=name)


def summarise_toxicity_metrics(
    df_ae_table: pd.DataFrame,
    df_mortality: pd.DataFrame,
    df_reild: pd.DataFrame | None = None,
) -> dict:
    """Key numbers of the toxicity report, as a flat dict for ``save_metrics``.

    Parameters
    ----------
    df_ae_table : DataFrame
        :func:`summarise_ae_table` of treatment-emergent events (with the "Any adverse event"
        row; grouped tables contribute their "All" group).
    df_mortality : DataFrame
        :func:`summarise_early_mortality` output (grouped tables contribute "All").
    df_reild : DataFrame, optional
        :func:`sirtstats.liver_function.derive_reild` output.

    Returns
    -------
    dict
        ``n_patients``, ``n_any_teae``, ``pct_any_teae``, ``n_grade{h}plus_teae``,
        ``pct_grade{h}plus_teae`` and, per mortality horizon ``d``: ``mortality_{d}d_pct``,
        ``mortality_{d}d_ci_low_pct``, ``mortality_{d}d_ci_high_pct``,
        ``mortality_{d}d_n_deaths``, ``mortality_{d}d_n_evaluable``; with ``df_reild``:
        ``reild_definition``, ``n_reild_candidates``, ``n_reild_reported``. Percentages in %,
        None when not computable.
    """

    def _num(v):
        if v is None or pd.isna(v):
            return None
        return float(v) if isinstance(v, float | np.floating) else int(v)

    by = "soc" if "soc" in df_ae_table.columns else "ae_term"
    rows = df_ae_table[df_ae_table[by] == ANY_AE_LABEL]
    first = df_ae_table.columns[0]
    if first != by:
        rows = rows[rows[first] == TOTAL_LABEL]
    if len(rows) != 1:
        raise ValueError(
            "The 'df_ae_table' argument of summarise_toxicity_metrics must hold one overall "
            f"'{ANY_AE_LABEL}' row. Got {len(rows)} instead."
        )
    row = rows.iloc[0]
    high = [c for c in df_ae_table.columns if c.startswith("n_grade_") and c.endswith("plus")][0]
    h = high[len("n_grade_") : -len("plus")]
    out = {
        "n_patients": _num(row["N"]),
        "n_any_teae": _num(row["n_any_grade"]),
        "pct_any_teae": _num(row["pct_any_grade"]),
        f"n_grade{h}plus_teae": _num(row[high]),
        f"pct_grade{h}plus_teae": _num(row[f"pct_grade_{h}plus"]),
    }
    mort = df_mortality
    if len(mort) and mort.columns[0] != "horizon_days":
        mort = mort[mort[mort.columns[0]] == TOTAL_LABEL]
    for _, m in mort.iterrows():
        d = int(m["horizon_days"])
        out[f"mortality_{d}d_pct"] = _num(m["mortality_pct"])
        out[f"mortality_{d}d_ci_low_pct"] = _num(m["ci_low_pct"])
        out[f"mortality_{d}d_ci_high_pct"] = _num(m["ci_high_pct"])
        out[f"mortality_{d}d_n_deaths"] = _num(m["n_deaths"])
        out[f"mortality_{d}d_n_evaluable"] = _num(m["n_evaluable"])
    if df_reild is not None:
        out["reild_definition"] = (
            str(df_reild["reild_definition"].iloc[0]) if len(df_reild) else None
        )
        out["n_reild_candidates"] = int(df_reild["is_reild_candidate"].sum())
        out["n_reild_reported"] = int(df_reild["is_reild_reported"].fillna(False).sum())
    return out


def summarise_ae_grade_counts(
    df_ae: pd.DataFrame,
    df_population: pd.DataFrame,
    *,
    by: str = "ae_term",
    grade_col: str = "grade",
    terms: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Patients by worst grade for each term: the data behind the AE grade bar/heatmap.

    Parameters
    ----------
    df_ae : DataFrame
        Adverse events to count (``patient_id``, ``by``, ``grade_col``).
    df_population : DataFrame
        One row per patient of the population (``patient_id``); gives N.
    by : str
        Term column.
    grade_col : str
        Grade column (1-5).
    terms : sequence of str, optional
        Terms to keep, in this order; default all, by decreasing frequency.

    Returns
    -------
    DataFrame
        One row per term and grade 1-5: ``by``, ``grade`` (int), ``n`` (patients whose worst
        grade for the term is this grade), ``N`` and ``pct`` (% of N).
    """
    _require(df_ae, ["patient_id", by, grade_col], "adverse_events")
    pop = _population(df_population, None)
    ae = df_ae[df_ae["patient_id"].isin(pop["patient_id"])]
    worst = ae.groupby(["patient_id", by])[grade_col].max().reset_index()
    counts = worst.groupby([by, grade_col]).size()
    if terms is None:
        freq = worst.groupby(by).size().reset_index(name="_n")
        terms = freq.sort_values(["_n", by], ascending=[False, True])[by].tolist()
    idx = pd.MultiIndex.from_product([list(terms), [1, 2, 3, 4, 5]], names=[by, "grade"])
    counts.index = counts.index.set_names([by, "grade"])
    out = counts.reindex(idx, fill_value=0).rename("n").reset_index()
    out["grade"] = out["grade"].astype(int)
    out["n"] = out["n"].astype(int)
    out["N"] = len(pop)
    out["pct"] = 100.0 * out["n"] / len(pop) if len(pop) else np.nan
    return out


# ---------------------------------------------------------------- lab-derived adverse events


def summarise_worst_lab_grades(
    df_grades: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    window_days: int = DEFAULT_TE_WINDOW_DAYS,
    end: Literal["last_session", "each_session"] = "last_session",
) -> pd.DataFrame:
    """Baseline grade and worst post-baseline grade in the window, per patient and lab term.

    Parameters
    ----------
    df_grades : DataFrame
        Output of :func:`sirtstats.ctcae.derive_lab_grades` (``patient_id``, ``sample_date``,
        ``analyte``, ``ctcae_term``, ``ctcae_grade``, ``is_baseline_sample``, ``value_si``,
        ``unit_si``).
    df_treatments : DataFrame
        The ``treatments`` table (``patient_id``, ``treatment_date``, optional ``session_id``).
    window_days : int
        Post-baseline window: samples from the day after the first SIRT to ``window_days``
        after the last session (``end="last_session"``) or after some session
        (``"each_session"``).
    end : {"last_session", "each_session"}
        Window convention, as in :func:`derive_treatment_emergent`.

    Returns
    -------
    DataFrame
        One row per patient and CTCAE-gradable analyte with a baseline or a post-baseline
        sample: ``patient_id``, ``analyte``, ``ae_term``, ``baseline_grade`` (Int64, NA
        without baseline), ``grade`` (Int64, worst post-baseline grade in the window; NA when
        no graded sample there), ``onset_date`` (first sample reaching that grade),
        ``worst_value_si`` and ``unit_si``, ``n_post_samples`` (int) and
        ``is_treatment_emergent`` (bool: ``grade`` > ``baseline_grade``, a missing baseline
        counting as grade 0).

    Notes
    -----
    This is the "worst post-baseline grade within a window" convention of docs/rules/
    section 4.1; a lab abnormality is treatment-emergent when worse than at baseline.
    """
    end = _check_option(end, ("last_session", "each_session"), "end", "summarise_worst_lab_grades")
    need = [
        "patient_id",
        "sample_date",
        "analyte",
        "ctcae_term",
        "ctcae_grade",
        "is_baseline_sample",
        "value_si",
        "unit_si",
    ]
    _require(df_grades, need, "labs")
    g = df_grades[df_grades["ctcae_term"].notna()]
    win = _window(
        g["patient_id"],
        g["sample_date"],
        _sessions(df_treatments),
        start_offset_days=1,
        window_days=window_days,
        end=end,
    )
    work = pd.DataFrame(
        {
            "patient_id": g["patient_id"].to_numpy(),
            "analyte": g["analyte"].to_numpy(),
            "ae_term": g["ctcae_term"].to_numpy(),
            "sample_date": pd.to_datetime(g["sample_date"]).to_numpy(),
            "grade": g["ctcae_grade"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
            "value_si": g["value_si"].to_numpy(float),
            "unit_si": g["unit_si"].to_numpy(),
            "is_base": g["is_baseline_sample"].to_numpy(bool),
            "post": win["in_window"].to_numpy(bool),
        }
    )
    keys = ["patient_id", "analyte"]
    base = work[work["is_base"]].drop_duplicates(keys).set_index(keys)["grade"]
    post = work[work["post"] & ~np.isnan(work["grade"])]
    post = post.sort_values([*keys, "grade", "sample_date"], ascending=[True, True, False, True])
    worst = post.drop_duplicates(keys).set_index(keys)
    n_post = work[work["post"]].groupby(keys).size()
    index = pd.MultiIndex.from_frame(
        work[work["is_base"] | work["post"]][keys].drop_duplicates()
    ).sort_values()
    out = pd.DataFrame(index=index)
    terms = work.drop_duplicates(keys).set_index(keys)
    out["ae_term"] = terms["ae_term"].reindex(index)
    out["baseline_grade"] = base.reindex(index)
    out["grade"] = worst["grade"].reindex(index)
    out["onset_date"] = worst["sample_date"].reindex(index)
    out["worst_value_si"] = worst["value_si"].reindex(index)
    out["unit_si"] = terms["unit_si"].reindex(index)
    out["n_post_samples"] = n_post.reindex(index).fillna(0).astype(int)
    out = out.reset_index()
    te = out["grade"].notna() & (out["grade"] > out["baseline_grade"].fillna(0))
    out["is_treatment_emergent"] = te.to_numpy(bool)
    for c in ("baseline_grade", "grade"):
        out[c] = pd.array(out[c].to_numpy(dtype=float), dtype="Float64").astype("Int64")
    return out


def filter_lab_adverse_events(df_worst: pd.DataFrame, *, min_grade: int = 1) -> pd.DataFrame:
    """Keep treatment-emergent lab abnormalities of at least ``min_grade``.

    Parameters
    ----------
    df_worst : DataFrame
        Output of :func:`summarise_worst_lab_grades`.
    min_grade : int
        Lowest grade kept (default 1).

    Returns
    -------
    DataFrame
        Rows with ``is_treatment_emergent`` and ``grade >= min_grade``: one lab-derived
        adverse event per patient and term, countable by :func:`summarise_ae_table`.
    """
    _require(df_worst, ["is_treatment_emergent", "grade"], "lab_worst_grades")
    keep = df_worst["is_treatment_emergent"].to_numpy(bool) & (
        df_worst["grade"].fillna(0).to_numpy(dtype=float) >= min_grade
    )
    return df_worst[keep]


def summarise_shift_table(
    df_worst: pd.DataFrame, *, terms: Sequence[str] | None = None
) -> pd.DataFrame:
    """Baseline grade → worst post-baseline grade shift table per lab term.

    Parameters
    ----------
    df_worst : DataFrame
        Output of :func:`summarise_worst_lab_grades`.
    terms : sequence of str, optional
        CTCAE terms to show, in this order; default all present, alphabetical.

    Returns
    -------
    DataFrame
        One row per term and baseline grade ("0"-"4", or "missing"): ``ae_term``,
        ``baseline_grade`` (str), counts of patients by worst post-baseline grade
        ``post_grade_0`` … ``post_grade_4`` and ``post_missing`` (no graded sample in the
        window), and ``n`` (row total). Rows with no patient are kept for grades 0-4 so that
        every table has the same shape.
    """
    _require(df_worst, ["ae_term", "baseline_grade", "grade"], "lab_worst_grades")
    label = ["0", "1", "2", "3", "4"]
    base = df_worst["baseline_grade"].astype("Float64")
    post = df_worst["grade"].astype("Float64")
    work = pd.DataFrame(
        {
            "ae_term": df_worst["ae_term"].to_numpy(),
            "baseline_grade": [
                "missing" if pd.isna(b) else str(int(b)) for b in base.to_numpy(dtype=object)
            ],
            "post": [
                "post_missing" if pd.isna(p) else f"post_grade_{int(p)}"
                for p in post.to_numpy(dtype=object)
            ],
        }
    )
    if terms is None:
        terms = sorted(work["ae_term"].dropna().unique())
    counts = work.groupby(["ae_term", "baseline_grade", "post"]).size().unstack(fill_value=0)
    post_cols = [f"post_grade_{g}" for g in label] + ["post_missing"]
    counts = counts.reindex(columns=post_cols, fill_value=0)
    rows = []
    for term in terms:
        present = (
            counts.loc[term].index.tolist() if term in counts.index.get_level_values(0) else []
        )
        levels = label + (["missing"] if "missing" in present else [])
        for b in levels:
            values = (
                counts.loc[(term, b)].to_numpy()
                if (term, b) in counts.index
                else np.zeros(len(post_cols), dtype=int)
            )
            rows.append([term, b, *values.tolist()])
    out = pd.DataFrame(rows, columns=["ae_term", "baseline_grade", *post_cols])
    out[post_cols] = out[post_cols].astype(int)
    out["n"] = out[post_cols].sum(axis=1).astype(int)
    return out


def summarise_lab_vs_reported(
    df_lab_ae: pd.DataFrame,
    df_ae: pd.DataFrame,
    df_population: pd.DataFrame,
    *,
    terms: Sequence[str] | None = None,
    high_grade: int = 3,
    decimals: int = 1,
) -> pd.DataFrame:
    """Lab-derived and reported adverse events side by side, for the lab-gradable terms.

    Parameters
    ----------
    df_lab_ae : DataFrame
        Lab-derived events (:func:`filter_lab_adverse_events`): ``patient_id``, ``ae_term``,
        ``grade``.
    df_ae : DataFrame
        Reported events (treatment-emergent): ``patient_id``, ``ae_term``, ``grade``. Terms are
        matched case-insensitively to the CTCAE lab terms.
    df_population : DataFrame
        One row per patient of the population (``patient_id``).
    terms : sequence of str, optional
        CTCAE terms to show; default every lab term of CTCAE v5.0
        (:func:`sirtstats.ctcae.load_ctcae_criteria`).
    high_grade : int
        Severity cut-off of the ``grade ≥`` columns.
    decimals : int
        Decimals of the formatted percentages.

    Returns
    -------
    DataFrame
        One row per term: ``ae_term``, ``N``, ``lab_any_grade``, ``lab_grade_{h}plus``,
        ``reported_any_grade``, ``reported_grade_{h}plus`` (formatted n (%)) and the
        underlying counts ``n_lab_any``, ``n_lab_high``, ``n_reported_any``,
        ``n_reported_high``.
    """
    if terms is None:
        from sirtstats.ctcae import load_ctcae_criteria

        terms = list(dict.fromkeys(load_ctcae_criteria()["term"]))
    canon = {t.lower(): t for t in terms}
    pop = _population(df_population, None)
    N = len(pop)
    high = f"grade_{high_grade}plus"
    out = pd.DataFrame({"ae_term": list(terms), "N": N})
    for source, frame in (("lab", df_lab_ae), ("reported", df_ae)):
        _require(frame, ["patient_id", "ae_term", "grade"], "adverse_events")
        f = frame[frame["patient_id"].isin(pop["patient_id"])]
        term = f["ae_term"].astype(str).str.lower().map(canon)
        f = pd.DataFrame(
            {
                "patient_id": f["patient_id"].to_numpy(),
                "ae_term": term.to_numpy(),
                "grade": f["grade"].to_numpy(dtype=float),
            }
        ).dropna(subset=["ae_term"])
        worst = f.groupby(["ae_term", "patient_id"])["grade"].max()
        n_any = worst.groupby(level=0).size()
        n_high = (worst >= high_grade).groupby(level=0).sum()
        out[f"n_{source}_any"] = out["ae_term"].map(n_any).fillna(0).astype(int)
        out[f"n_{source}_high"] = out["ae_term"].map(n_high).fillna(0).astype(int)
        pct_any = 100.0 * out[f"n_{source}_any"] / N if N else pd.Series(np.nan, index=out.index)
        pct_high = 100.0 * out[f"n_{source}_high"] / N if N else pd.Series(np.nan, index=out.index)
        out[f"{source}_any_grade"] = _format_n_pct(out[f"n_{source}_any"], pct_any, decimals)
        out[f"{source}_{high}"] = _format_n_pct(out[f"n_{source}_high"], pct_high, decimals)
    return out[
        [
            "ae_term",
            "N",
            "lab_any_grade",
            f"lab_{high}",
            "reported_any_grade",
            f"reported_{high}",
            "n_lab_any",
            "n_lab_high",
            "n_reported_any",
            "n_reported_high",
        ]
    ]


# -------------------------------------------------------------------------- early mortality


def summarise_early_mortality(
    df_patients: pd.DataFrame,
    *,
    days: Sequence[int] = (30, 90),
    groupby: str | None = None,
    cutoff_date=None,
    origin_col: str = "first_sirt_date",
    alpha: float = 0.05,
    include_total: bool = True,
    decimals: int = 1,
) -> pd.DataFrame:
    """Share of patients dying within 30 / 90 days of the first SIRT, with exact CIs.

    Parameters
    ----------
    df_patients : DataFrame
        One row per patient: ``patient_id``, ``origin_col`` (datetime64), ``death_date``
        (datetime64, missing if alive) and the end of follow-up, ``followup_end_date`` or else
        ``last_contact_date`` (datetime64), e.g. ``CohortSelection.patients``.
    days : sequence of int
        Horizons in days after the origin (deaths on day ≤ horizon count; SIRT day = day 0).
    groupby : str, optional
        Column splitting the table (e.g. ``"device"``).
    cutoff_date : str or Timestamp, optional
        Data cut-off: deaths after it are not counted and follow-up ends at it.
    origin_col : str
        Origin date column (default the first SIRT date).
    alpha : float
        1 − confidence level of the Clopper-Pearson interval (default 0.05 → 95 % CI).
    include_total : bool
        With ``groupby``, add the "All" group.
    decimals : int
        Decimals of the formatted ``mortality`` column.

    Returns
    -------
    DataFrame
        One row per (group,) horizon: ``horizon_days``, ``n_patients``, ``n_no_origin``
        (patients without an origin date, excluded), ``n_incomplete_followup`` (alive but
        followed less than the horizon: excluded from the denominator), ``n_evaluable``,
        ``n_deaths``, ``mortality_pct``, ``ci_low_pct``, ``ci_high_pct`` (%) and
        ``mortality`` ("x.x% (lo-hi)").

    Raises
    ------
    SirtDataError
        If a required column is missing.

    Warns
    -----
    SirtStatsWarning
        When fewer than 10 patients are evaluable in a group.

    Notes
    -----
    For horizon ``d``: a patient is a death if ``death_date − origin ≤ d`` days (and death on
    or before the cut-off); a survivor is evaluable if followed at least ``d`` days
    (``min(end of follow-up, cut-off) − origin ≥ d``). Mortality = deaths / evaluable. Exact
    (Clopper-Pearson) CI from ``statsmodels.stats.proportion.proportion_confint(method="beta")``.

    References
    ----------
    Clopper CJ, Pearson ES. Biometrika 1934;26:404-413. T4.4 (docs/rules/toxicity.md) (30-day
    mortality benchmarks, e.g. CIRT 1.0 %).

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({
    ...     "patient_id": ["P1", "P2", "P3"],
    ...     "first_sirt_date": pd.to_datetime(["2024-01-01"] * 3),
    ...     "death_date": pd.to_datetime(["2024-01-20", None, None]),
    ...     "last_contact_date": pd.to_datetime(["2024-01-20", "2024-12-01", "2024-02-15"]),
    ... })
    >>> import warnings; warnings.simplefilter("ignore")
    >>> summarise_early_mortality(pts)[["horizon_days", "n_evaluable", "n_deaths",
    ...                                 "mortality_pct"]]
       horizon_days  n_evaluable  n_deaths  mortality_pct
    0            30            3         1      33.333333
    1            90            2         1      50.000000
    """
    from statsmodels.stats.proportion import proportion_confint

    end_col = (
        "followup_end_date" if "followup_end_date" in df_patients.columns else ("last_contact_date")
    )
    need = ["patient_id", origin_col, "death_date", end_col]
    if groupby:
        need.append(groupby)
    _require(df_patients, need, "patients")
    pts = df_patients.drop_duplicates("patient_id")
    origin = pd.to_datetime(pts[origin_col])
    death = pd.to_datetime(pts["death_date"])
    end = pd.to_datetime(pts[end_col]).fillna(death)
    if cutoff_date is not None and cutoff_date != "":
        cutoff = pd.Timestamp(cutoff_date)
        death = death.where(death <= cutoff)
        end = end.where(end <= cutoff, cutoff)
    end = pd.concat([end, death], axis=1).max(axis=1)
    t_death = (death - origin).dt.days
    t_follow = (end - origin).dt.days
    group = (
        pts[groupby].astype(object).fillna("missing").astype(str)
        if groupby
        else pd.Series(None, index=pts.index, dtype=object)
    )
    frame = pd.DataFrame(
        {
            "patient_id": pts["patient_id"].to_numpy(),
            "_g": group.to_numpy(),
            "has_origin": origin.notna().to_numpy(),
            "t_death": t_death.to_numpy(dtype=float),
            "t_follow": t_follow.to_numpy(dtype=float),
        }
    )
    pop = frame.rename(columns={"_g": groupby or "_g"})
    rows = []
    for value, members in _group_frames(pop, groupby, include_total):
        for d in days:
            has = members["has_origin"].to_numpy(bool)
            dead = has & (members["t_death"].to_numpy() <= d)
            followed = has & ~dead & (members["t_follow"].to_numpy() >= d)
            n_eval = int(dead.sum() + followed.sum())
            n_dead = int(dead.sum())
            if n_eval:
                lo, hi = proportion_confint(n_dead, n_eval, alpha=alpha, method="beta")
                pct = 100.0 * n_dead / n_eval
            else:
                lo = hi = pct = np.nan
            if n_eval < 10:
                where = f" in group {value!r}" if groupby else ""
                warnings.warn(
                    f"{d}-day mortality{where}: only {n_eval} evaluable patients; the exact CI "
                    "is wide.",
                    SirtStatsWarning,
                    stacklevel=2,
                )
            row = {
                "horizon_days": int(d),
                "n_patients": len(members),
                "n_no_origin": int((~has).sum()),
                "n_incomplete_followup": int((has & ~dead & ~followed).sum()),
                "n_evaluable": n_eval,
                "n_deaths": n_dead,
                "mortality_pct": pct,
                "ci_low_pct": 100.0 * lo,
                "ci_high_pct": 100.0 * hi,
            }
            if groupby:
                row = {groupby: value, **row}
            rows.append(row)
    out = pd.DataFrame(rows)
    out["mortality"] = [
        f"{p:.{decimals}f}% ({lo:.{decimals}f}-{hi:.{decimals}f})" if pd.notna(p) else "-"
        for p, lo, hi in zip(
            out["mortality_pct"], out["ci_low_pct"], out["ci_high_pct"], strict=True
        )
    ]
    return out
