"""Table 1 (baseline characteristics) with tableone, and its flattening into a tidy frame.

:func:`make_table1` turns the one-row-per-patient frame of
:func:`sirtstats.cohort.derive_baseline` into a ``tableone.TableOne`` (Pollard et al., JAMIA Open
2018), optionally stratified by a column; :func:`format_table1` flattens it into a tidy frame for
CSV/HTML reports. Categorical levels follow the registry schema order, so the table is the same
from run to run. Private module: import from :mod:`sirtstats.tables`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.tables._table1_spec import (
    _BOOLEAN_ORDER,
    _MISSING_GROUP,
    TABLE1_LABELS,
    TABLE1_LEVEL_ORDER,
    TABLE1_NONNORMAL,
    _as_category_strings,
    _check_table1_columns,
    _default_categorical,
    _group_order,
    _ordered_levels,
)

__all__ = ["format_table1", "make_table1"]


def _variable_kinds(df_baseline: pd.DataFrame, columns: list[str],
                    categorical: Sequence[str] | None,
                    nonnormal: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The categorical and the non-normal variables among ``columns`` (defaults if None)."""
    if categorical is None:
        categorical = _default_categorical(df_baseline, columns)
    else:
        categorical = [c for c in categorical if c in columns]
    if nonnormal is None:
        nonnormal = [c for c in columns if c in TABLE1_NONNORMAL and c not in categorical]
    else:
        nonnormal = [c for c in nonnormal if c in columns]
    return categorical, nonnormal


def _drop_empty(df_baseline: pd.DataFrame, columns: list[str], categorical: list[str],
                nonnormal: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Leave out the variables missing for every patient, with a warning naming them."""
    empty = [c for c in columns if df_baseline[c].isna().all()]
    if empty and len(df_baseline):
        warnings.warn(
            f"Table 1: {empty} are missing for every patient and are left out.",
            SirtStatsWarning,
            stacklevel=3,  # the caller of make_table1
        )
    columns = [c for c in columns if c not in empty]
    categorical = [c for c in categorical if c in columns]
    nonnormal = [c for c in nonnormal if c in columns]
    return columns, categorical, nonnormal


def _categorical_order(column: str, present: set[str]) -> list[str]:
    """Levels of a categorical variable: schema order (yes/no for booleans), then the others."""
    preferred = TABLE1_LEVEL_ORDER.get(column)
    if preferred is None and present <= set(_BOOLEAN_ORDER):
        preferred = _BOOLEAN_ORDER
    return _ordered_levels(present, preferred or [])


def _tableone_data(df_baseline: pd.DataFrame, columns: list[str], categorical: list[str]
                   ) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """tableone's input (categories as text, the others as float) and its level order."""
    data = pd.DataFrame(index=df_baseline.index)
    order: dict[str, list[str]] = {}
    for c in columns:
        if c in categorical:
            data[c] = _as_category_strings(df_baseline[c])
            order[c] = _categorical_order(c, set(data[c].dropna()))
        else:
            data[c] = pd.to_numeric(df_baseline[c], errors="coerce").astype(float)
    return data, order


def _tableone_groups(df_baseline: pd.DataFrame, groupby: str) -> tuple[pd.Series, list[str]]:
    """The group of each patient (missing -> "(missing)") and the group order.

    Warns (SirtStatsWarning) when a group has fewer than 10 patients.
    """
    groups = _as_category_strings(df_baseline[groupby]).fillna(_MISSING_GROUP)
    order = _group_order(groupby, groups)
    small = groups.value_counts()
    small = small[small < 10]
    if len(small):
        warnings.warn(
            f"Table 1: fewer than 10 patients in group(s) {sorted(small.index)} of "
            f"{groupby!r}; percentages are unstable.",
            SirtStatsWarning,
            stacklevel=3,  # the caller of make_table1
        )
    return groups, order


def make_table1(
    df_baseline: pd.DataFrame,
    *,
    groupby: str | None = None,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    nonnormal: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
    pval: bool = False,
    decimals: int = 1,
):
    """Table 1 of baseline characteristics, overall and by a stratifying column.

    Parameters
    ----------
    df_baseline : DataFrame
        One row per patient, e.g. ``CohortSelection.patients`` from
        :func:`sirtstats.cohort.select_cohort` (columns of
        :func:`sirtstats.cohort.derive_baseline`).
    groupby : str, optional
        Column to stratify by (e.g. ``"primary_tumour"``, ``"device"``); None or "" gives the
        overall column only. Missing group values form a group called "(missing)".
    columns : list of str, optional
        Variables, in display order. Default :data:`TABLE1_COLUMNS` (those present in
        ``df_baseline``; the ``groupby`` column is left out).
    categorical : list of str, optional
        Categorical variables; default: the members of :data:`TABLE1_CATEGORICAL` among
        ``columns`` plus any boolean or text column.
    nonnormal : list of str, optional
        Continuous variables summarised as median [Q1, Q3]; default: the members of
        :data:`TABLE1_NONNORMAL` among ``columns``. Other continuous variables show mean (SD).
    labels : dict, optional
        Row labels overriding :data:`TABLE1_LABELS`.
    pval : bool
        Add tableone's default hypothesis tests between groups (off by default: a descriptive
        registry table does not test baseline differences).
    decimals : int
        Decimals of summary statistics.

    Returns
    -------
    tableone.TableOne
        The table; ``.tableone`` is its DataFrame, :func:`format_table1` flattens it.

    Raises
    ------
    ValueError
        If a requested column or ``groupby`` is not in ``df_baseline``, or a column is an
        identifier (``patient_id`` or another ``*_id`` column than ``centre_id``).

    Warns
    -----
    SirtStatsWarning
        When a variable is entirely missing (it is left out, and the warning names it) or a
        group has fewer than 10 patients.

    Notes
    -----
    Categorical percentages are of the non-missing values; the "Missing" column counts the
    missing values of each variable. Boolean columns are shown as yes/no, integer codes (ECOG,
    ALBI grade) as text levels in the schema order (:data:`TABLE1_LEVEL_ORDER`).

    References
    ----------
    Pollard TJ, Johnson AEW, Raffa JD, Mark RG. tableone: an open source Python package for
    producing summary statistics for research papers. JAMIA Open 2018;1:26-31.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "sex": ["M", "F", "M"],
    ...                    "age_at_first_sirt_years": [61, 70, 55]})
    >>> t1 = make_table1(df)
    >>> format_table1(t1)[["variable", "level", "Overall"]]
                       variable level           Overall
    0                         n                       3
    1  Age at first SIRT, years        61.0 [58.0,65.5]
    2                       Sex     M          2 (66.7)
    3                       Sex     F          1 (33.3)
    """
    from tableone import TableOne  # heavy import kept local: `import sirtstats` stays light

    if groupby == "":
        groupby = None
    columns = _check_table1_columns(df_baseline, groupby, columns, "make_table1")
    columns = [c for c in columns if c != groupby]
    categorical, nonnormal = _variable_kinds(df_baseline, columns, categorical, nonnormal)
    columns, categorical, nonnormal = _drop_empty(df_baseline, columns, categorical, nonnormal)
    data, order = _tableone_data(df_baseline, columns, categorical)
    if groupby is not None:
        data[groupby], order[groupby] = _tableone_groups(df_baseline, groupby)

    all_labels = {**TABLE1_LABELS, **(labels or {})}
    with warnings.catch_warnings():
        # numpy warns on the variance/quantiles of one-patient groups; the table shows them
        warnings.simplefilter("ignore", RuntimeWarning)
        return TableOne(
            data,
            columns=columns,
            categorical=categorical,
            continuous=[c for c in columns if c not in categorical],
            nonnormal=nonnormal,
            groupby=groupby,
            order=order,
            rename={c: all_labels[c] for c in columns if c in all_labels},
            missing=True,
            include_null=False,
            pval=pval,
            decimals=decimals,
            overall=True,
        )


def format_table1(table1) -> pd.DataFrame:
    """Flatten a ``TableOne`` into a tidy frame for CSV and HTML reports.

    Parameters
    ----------
    table1 : tableone.TableOne
        Result of :func:`make_table1`.

    Returns
    -------
    DataFrame
        Columns ``variable`` (label with the summary statistic stripped, e.g. "Sex"),
        ``statistic`` ("n (%)", "median [Q1,Q3]", "mean (SD)" or ""), ``level`` ("" for
        continuous rows), ``Missing``, ``Overall`` and one column per group, all text, in
        display order with a RangeIndex. Percentages of a group without any non-missing value
        show "(–)" instead of tableone's "(nan)", and summaries of such a group show "–".

    Examples
    --------
    >>> import pandas as pd
    >>> t1 = make_table1(pd.DataFrame({"sex": ["M", "F"]}))
    >>> list(format_table1(t1).columns)
    ['variable', 'statistic', 'level', 'Missing', 'Overall']
    """
    tab = table1.tableone.copy()
    if isinstance(tab.columns, pd.MultiIndex):
        tab.columns = [c[-1] for c in tab.columns]
    rows = tab.index.to_frame(index=False)
    rows.columns = ["_label", "level"]
    split = rows["_label"].str.rsplit(", ", n=1, expand=True)
    has_stat = split[1].notna() & split[1].str.contains(r"\(|\[", regex=True)
    variable = split[0].where(has_stat, rows["_label"])
    statistic = split[1].where(has_stat, "")
    out = pd.DataFrame(
        {
            "variable": variable.to_numpy(),
            "statistic": statistic.fillna("").to_numpy(),
            "level": rows["level"].astype(str).to_numpy(),
        }
    )
    values = tab.reset_index(drop=True).astype(str)
    # tableone prints "0 (nan)" for a level in a group with no non-missing value and
    # "nan [nan,nan]" for a continuous variable missing in the whole group: show a dash
    values = values.replace({r"\(nan\)": "(–)", r"^nan \[nan,nan\]$": "–",
                             r"^nan \(nan\)$": "–"}, regex=True)
    out = pd.concat([out, values], axis=1)
    return out
