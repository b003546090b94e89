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
    TABLE1_LEVEL_ORDER,
    _as_category_strings,
    _check_table1_columns,
    _default_categorical,
    _group_order,
    _ordered_levels,
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


def _groups(df_baseline: pd.DataFrame, groupby: str | None) -> dict:
    """Column groups in display order -> their patients: None (everyone), then each group."""
    everyone = {None: pd.Series(True, index=df_baseline.index)}
    if groupby is None:
        return everyone
    values = _as_category_strings(df_baseline[groupby]).fillna(_MISSING_GROUP)
    return {**everyone, **{g: values == g for g in _group_order(groupby, values)}}


def _header_labels(groups: dict, groupby: str | None) -> dict[str, str]:
    """Column headers with the number of patients: "Overall (N = 295)", "HCC (N = 171)"."""
    labels = {"characteristic": "Characteristic"}
    for g, members in groups.items():
        n = int(members.sum())
        labels[_group_key(g)] = (f"Overall (N = {n})" if groupby else f"N = {n}") if g is None \
            else f"{value_label(g)} (N = {n})"
    return labels


def _restriction(df_baseline: pd.DataFrame, column: str, restrictions: dict
                 ) -> tuple[pd.Series, str, str | None]:
    """Patients a variable applies to, its row label ("*" if restricted) and its footnote."""
    applies = pd.Series(True, index=df_baseline.index)
    label = column_label(column)
    note = None
    if column in restrictions and restrictions[column][0] in df_baseline.columns:
        col, allowed, text = restrictions[column]
        applies = df_baseline[col].isin(list(allowed))
        if text:
            label, note = f"{label}*", f"* {text}"
    return applies, label, note


def _level_cells(values: pd.Series, levels: list[str], decimals: int, applicable: bool
                 ) -> tuple[dict[str, str], str, bool]:
    """One group's n (%) per level of the known values, its Unknown count, and if any is unknown.

    A group without applicable patients shows "—" everywhere.
    """
    if not applicable:
        return dict.fromkeys(levels, DASH), DASH, False
    known = int(values.notna().sum())
    n_missing = int(values.isna().sum())
    cells = {lv: format_n_pct(int((values == lv).sum()), known, decimals) for lv in levels}
    return cells, str(n_missing), n_missing > 0


def _categorical_rows(column: str, values: pd.Series, applies: pd.Series, masks: dict,
                      label: str, decimals: int) -> list[tuple[str, dict, bool]]:
    """Rows (label, cells, indented) of a categorical variable: its name, levels, Unknown."""
    present = set(values[applies].dropna())
    preferred = TABLE1_LEVEL_ORDER.get(column) or (
        _BOOLEAN_ORDER if present <= set(_BOOLEAN_ORDER) else [])
    levels = _ordered_levels(present, preferred)
    level_rows: dict[str, dict] = {lv: {} for lv in levels}
    unknown_row, any_unknown = {}, False
    for key, members in masks.items():
        m = members & applies
        cells, unknown_row[key], missing = _level_cells(values[m], levels, decimals, m.any())
        any_unknown |= missing
        for lv in levels:
            level_rows[lv][key] = cells[lv]
    rows = [(label, {}, False)]
    rows += [(text, level_rows[lv], True)
             for lv, text in zip(levels, _level_labels(column, levels), strict=True)]
    if any_unknown:
        rows.append((_UNKNOWN, unknown_row, True))
    return rows


def _continuous_rows(values: pd.Series, applies: pd.Series, masks: dict, label: str,
                     decimals: int) -> list[tuple[str, dict, bool]]:
    """Rows (label, cells, indented) of a continuous variable: median [Q1–Q3], Unknown."""
    cells, unknown_row = {}, {}
    for key, members in masks.items():
        m = members & applies
        cells[key] = format_median_iqr(values[m], decimals) if m.any() else DASH
        unknown_row[key] = str(int(values[m].isna().sum())) if m.any() else DASH
    rows = [(label, cells, False)]
    if any(v not in ("0", DASH) for v in unknown_row.values()):
        rows.append((_UNKNOWN, unknown_row, True))
    return rows


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
    columns = _check_table1_columns(df_baseline, groupby, columns, "summarise_table1")
    columns = [c for c in columns if c != groupby and df_baseline[c].notna().any()]
    if categorical is None:
        categorical = _default_categorical(df_baseline, columns)
    restrictions = TABLE1_RESTRICTIONS if restrictions is None else restrictions
    groups = _groups(df_baseline, groupby)
    masks = {_group_key(g): members for g, members in groups.items()}

    rows: list[tuple[str, dict, bool]] = []
    notes: list[str] = []
    for c in columns:
        applies, label, note = _restriction(df_baseline, c, restrictions)
        if note:
            notes.append(note)
        if c in categorical:
            rows += _categorical_rows(c, _as_category_strings(df_baseline[c]), applies, masks,
                                      label, decimals)
        else:
            values = pd.to_numeric(df_baseline[c], errors="coerce").astype(float)
            rows += _continuous_rows(values, applies, masks, label, decimals)

    keys = ["characteristic", *masks]
    data = pd.DataFrame([{"characteristic": text, **cells} for text, cells, _ in rows],
                        columns=keys).fillna("")
    spanners = ()
    if groupby is not None:
        spanners = ((column_label(groupby), tuple(keys[2:])),)
    return ReportTable(data=data, title=title, labels=_header_labels(groups, groupby),
                       spanners=spanners, footnotes=(_STAT_NOTE, *notes),
                       indent=tuple(is_level for _, _, is_level in rows),
                       stub="characteristic", name=name)
