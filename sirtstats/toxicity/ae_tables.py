"""Adverse-event incidence tables: worst grade per patient, n (%) by term or SOC, by grade.

Incidence tables count patients (not events) by worst grade, as n (%) of the population N, by
term or system organ class and by group (T4.1, docs/rules/toxicity.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require
from sirtstats.ctcae import _check_option
from sirtstats.toxicity._common import (
    ANY_AE_LABEL,
    NO_SOC_LABEL,
    TOTAL_LABEL,
    _format_n_pct,
    _group_frames,
    _population,
)

__all__ = [
    "CTCAE_GRADES",
    "format_ae_table",
    "pivot_ae_table",
    "summarise_ae_grade_counts",
    "summarise_ae_grade_table",
    "summarise_ae_table",
    "summarise_toxicity_metrics",
    "summarise_worst_grade",
]


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
        :func:`sirtstats.toxicity.derive_reild` output.

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
