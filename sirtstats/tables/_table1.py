"""Table 1 as a paste-ready :class:`~sirtstats.formatting.ReportTable` (gtsummary layout).

:func:`summarise_table1` gives n (%) of the known values with an "Unknown" row, medians
[Q1–Q3], N in the column headers and variables described in a subset of patients only
(:data:`TABLE1_RESTRICTIONS`). Private module: import from :mod:`sirtstats.tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sirtstats.formatting import DASH, ReportTable, format_median_iqr, format_n_pct
from sirtstats.labels import column_label, value_label
from sirtstats.tables._table1_spec import (
    _BOOLEAN_ORDER,
    _MISSING_GROUP,
    TABLE1_CATEGORICAL,
    TABLE1_COLUMNS,
    TABLE1_LEVEL_ORDER,
    _as_category_strings,
    _is_identifier,
)

__all__ = ["TABLE1_RESTRICTIONS", "summarise_table1"]

#: Variables described only in a subset of patients: column -> (column, allowed values, note).
#: BCLC staging is defined for hepatocellular carcinoma only (Reig et al., J Hepatol 2022).
TABLE1_RESTRICTIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "bclc_stage": ("primary_tumour", ("HCC",),
                   "BCLC stage is described for HCC only (BCLC 2022 stages hepatocellular "
                   "carcinoma); percentages are of patients with HCC and a known stage; "
                   "— = not applicable."),
    "hcc_aetiology": ("primary_tumour", ("HCC",),
                      "HCC aetiology is described for HCC only; — = not applicable."),
}

_UNKNOWN = "Unknown"
_STAT_NOTE = ("n (%) of patients with a known value; median [Q1–Q3]. Unknown: patients "
              "without a value (not in the percentage).")


def _group_key(g) -> str:
    return "overall" if g is None else f"group_{g}"


def _level_labels(column: str, levels: list[str]) -> list[str]:
    if set(levels) <= set(_BOOLEAN_ORDER):
        return ["Yes" if v == "yes" else "No" for v in levels]
    return [value_label(v) for v in levels]


def summarise_table1(
    df_baseline: pd.DataFrame,
    *,
    groupby: str | None = None,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    restrictions: dict[str, tuple[str, tuple[str, ...], str]] | None = None,
    title: str = "Table 1. Baseline characteristics",
    decimals: int = 1,
    name: str = "01_table1",
) -> ReportTable:
    """Table 1 as a paste-ready :class:`~sirtstats.formatting.ReportTable` (gtsummary layout).

    Parameters
    ----------
    df_baseline : DataFrame
        One row per patient (columns of :func:`sirtstats.cohort.derive_baseline`).
    groupby : str, optional
        Stratifying column; None or "" gives the overall column only.
    columns : list of str, optional
        Variables in display order; default :data:`TABLE1_COLUMNS` present in the frame.
    categorical : list of str, optional
        Categorical variables; default as :func:`make_table1`.
    restrictions : dict, optional
        Variables described in a subset only; default :data:`TABLE1_RESTRICTIONS` (BCLC stage
        and HCC aetiology: HCC only). A column outside the subset shows ``"—"``.
    title : str
        Table title.
    decimals : int
        Decimals of percentages and medians.
    name : str
        File stem for :meth:`ReportTable.save`.

    Returns
    -------
    ReportTable
        Column ``characteristic`` (variable rows, then indented level rows), ``overall`` and
        one ``group_<value>`` column per group (headers "HCC (N = 171)"), spanned by the group
        variable's label. Categorical cells are n (%) of the known values (an "Unknown" row
        counts the missing ones); continuous cells median [Q1–Q3] with an "Unknown" row.

    Raises
    ------
    ValueError
        If a column or ``groupby`` is not in ``df_baseline``, or a column is an identifier.

    Notes
    -----
    gtsummary ``tbl_summary`` conventions: percentages of non-missing values, missing values
    as a separate "Unknown" row, statistic explained in a footnote, N in the column header.
    A group without any applicable patient (BCLC stage outside HCC) shows ``"—"``, never
    ``nan``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": ["M", "F", "M"], "age_at_first_sirt_years": [61, 70, 55]})
    >>> t1 = summarise_table1(df)
    >>> t1.column_labels
    ['Characteristic', 'N = 3']
    >>> for row in t1.data.values:
    ...     print(row.tolist())
    ['Age at first SIRT (years)', '61.0 [58.0–65.5]']
    ['Sex', '']
    ['Male', '2 (66.7)']
    ['Female', '1 (33.3)']
    """
    groupby = groupby or None
    if groupby is not None and groupby not in df_baseline.columns:
        raise ValueError(
            f"The 'groupby' argument of summarise_table1 must be a column of df_baseline or "
            f"None. Got {groupby!r} instead.")
    if columns is None:
        columns = [c for c in TABLE1_COLUMNS if c in df_baseline.columns]
    unknown = [c for c in columns if c not in df_baseline.columns]
    if unknown:
        raise ValueError("The 'columns' argument of summarise_table1 must list columns of "
                         f"df_baseline. Got {unknown!r} instead.")
    ids = [c for c in columns if _is_identifier(c)]
    if ids:
        raise ValueError("The 'columns' argument of summarise_table1 must not contain "
                         f"identifiers. Got {ids!r} instead.")
    columns = [c for c in columns if c != groupby and df_baseline[c].notna().any()]
    if categorical is None:
        categorical = [c for c in columns if c in TABLE1_CATEGORICAL
                       or not pd.api.types.is_numeric_dtype(df_baseline[c])
                       or pd.api.types.is_bool_dtype(df_baseline[c])
                       or str(df_baseline[c].dtype) == "boolean"]
    restrictions = TABLE1_RESTRICTIONS if restrictions is None else restrictions

    groups: list = [None]
    gvals = None
    if groupby is not None:
        gvals = _as_category_strings(df_baseline[groupby]).fillna(_MISSING_GROUP)
        present = set(gvals)
        preferred = [v for v in TABLE1_LEVEL_ORDER.get(groupby, []) if v in present]
        groups += preferred + sorted(present - set(preferred) - {_MISSING_GROUP}) + (
            [_MISSING_GROUP] if _MISSING_GROUP in present else [])

    def members(g) -> pd.Series:
        return pd.Series(True, index=df_baseline.index) if g is None else gvals == g

    rows: list[dict] = []
    indent: list[bool] = []
    notes: list[str] = []

    def add(label: str, cells: dict, is_level: bool) -> None:
        rows.append({"characteristic": label, **cells})
        indent.append(is_level)

    for c in columns:
        applies = pd.Series(True, index=df_baseline.index)
        label = column_label(c)
        if c in restrictions and restrictions[c][0] in df_baseline.columns:
            col, allowed, note = restrictions[c]
            applies = df_baseline[col].isin(list(allowed))
            label = f"{label}*" if note else label
            if note:
                notes.append(f"* {note}")
        if c in categorical:
            values = _as_category_strings(df_baseline[c])
            present = set(values[applies].dropna())
            preferred = TABLE1_LEVEL_ORDER.get(c) or (
                _BOOLEAN_ORDER if present <= set(_BOOLEAN_ORDER) else [])
            levels = [v for v in preferred if v in present] + sorted(present - set(preferred))
            add(label, {}, False)
            level_rows = {lv: {} for lv in levels}
            unknown_row, any_unknown = {}, False
            for g in groups:
                m = members(g) & applies
                v = values[m]
                known = int(v.notna().sum())
                for lv in levels:
                    level_rows[lv][_group_key(g)] = (
                        format_n_pct(int((v == lv).sum()), known, decimals) if m.any() else DASH)
                n_missing = int(v.isna().sum())
                any_unknown |= n_missing > 0
                unknown_row[_group_key(g)] = str(n_missing) if m.any() else DASH
            for lv, text in zip(levels, _level_labels(c, levels), strict=True):
                add(text, level_rows[lv], True)
            if any_unknown:
                add(_UNKNOWN, unknown_row, True)
        else:
            values = pd.to_numeric(df_baseline[c], errors="coerce").astype(float)
            cells, unknown_row = {}, {}
            for g in groups:
                m = members(g) & applies
                cells[_group_key(g)] = format_median_iqr(values[m], decimals) if m.any() else DASH
                unknown_row[_group_key(g)] = str(int(values[m].isna().sum())) if m.any() else DASH
            add(label, cells, False)
            if any(v not in ("0", DASH) for v in unknown_row.values()):
                add(_UNKNOWN, unknown_row, True)

    keys = ["characteristic"] + [_group_key(g) for g in groups]
    data = pd.DataFrame(rows, columns=keys).fillna("")
    labels = {"characteristic": "Characteristic"}
    for g in groups:
        n = int(members(g).sum())
        labels[_group_key(g)] = (f"Overall (N = {n})" if groupby else f"N = {n}") if g is None \
            else f"{value_label(g)} (N = {n})"
    spanners = ()
    if groupby is not None:
        spanners = ((column_label(groupby), tuple(_group_key(g) for g in groups[1:])),)
    return ReportTable(data=data, title=title, labels=labels, spanners=spanners,
                       footnotes=(_STAT_NOTE, *notes), indent=tuple(indent),
                       stub="characteristic", name=name)
