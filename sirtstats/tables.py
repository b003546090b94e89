"""Table 1 (baseline characteristics) with tableone, and report-formatting helpers.

:func:`make_table1` turns the one-row-per-patient frame of
:func:`sirtstats.cohort.derive_baseline` into a ``tableone.TableOne`` (Pollard et al., JAMIA Open
2018), optionally stratified by a column; :func:`format_table1` flattens it into a tidy frame for
CSV/HTML reports. Categorical levels follow the registry schema order, so the table is the same
from run to run.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.formatting import (
    DASH,
    NOT_ESTIMABLE,
    ReportTable,
    format_estimate_ci,
    format_frame,
    format_median_ci,
    format_median_iqr,
    format_n_pct,
    format_number,
    format_p,
)
from sirtstats.labels import column_label, value_label

__all__ = [
    "COMPETING_CAUSE_LABELS",
    "ENDPOINT_ORDER",
    "TABLE1_CATEGORICAL",
    "TABLE1_COLUMNS",
    "TABLE1_LABELS",
    "TABLE1_LEVEL_ORDER",
    "TABLE1_NONNORMAL",
    "TABLE1_RESTRICTIONS",
    "format_table1",
    "make_table1",
    "report_table",
    "summarise_cif_table",
    "summarise_cox_table",
    "summarise_km_table",
    "summarise_landmark_table",
    "summarise_table1",
]

#: Default Table 1 variables, in display order.
TABLE1_COLUMNS: tuple[str, ...] = (
    "age_at_first_sirt_years",
    "sex",
    "primary_tumour",
    "ecog",
    "bclc_stage",
    "cirrhosis",
    "child_pugh_class",
    "albi_grade",
    "meld",
    "pvtt",
    "extrahepatic_disease",
    "n_liver_lesions",
    "tumour_burden_pct",
    "lsf_pct",
    "device",
    "n_sessions",
    "treatment_intent",
)

#: Default categorical variables (others are summarised as continuous).
TABLE1_CATEGORICAL: tuple[str, ...] = (
    "sex",
    "primary_tumour",
    "hcc_aetiology",
    "ecog",
    "bclc_stage",
    "cirrhosis",
    "child_pugh_class",
    "albi_grade",
    "pvtt",
    "extrahepatic_disease",
    "bilobar",
    "device",
    "devices",
    "treatment_intent",
    "ascites",
    "encephalopathy",
    "centre_id",
)

#: Default continuous variables summarised as median [Q1, Q3] (skewed in SIRT cohorts).
TABLE1_NONNORMAL: tuple[str, ...] = (
    "age_at_first_sirt_years",
    "meld",
    "n_liver_lesions",
    "tumour_burden_pct",
    "lsf_pct",
    "n_sessions",
    "afp_ng_ml",
    "bilirubin_umol_l",
    "albumin_g_l",
    "largest_lesion_mm",
    "n_prior_systemic_lines",
)

#: Row labels (units in the label, as in a manuscript).
TABLE1_LABELS: dict[str, str] = {
    "age_at_first_sirt_years": "Age at first SIRT, years",
    "sex": "Sex",
    "primary_tumour": "Primary tumour",
    "hcc_aetiology": "HCC aetiology",
    "ecog": "ECOG performance status",
    "bclc_stage": "BCLC stage",
    "cirrhosis": "Cirrhosis",
    "child_pugh_class": "Child-Pugh class",
    "child_pugh_points": "Child-Pugh points",
    "albi_grade": "ALBI grade",
    "albi_score": "ALBI score",
    "meld": "MELD",
    "pvtt": "Portal vein tumour thrombus",
    "extrahepatic_disease": "Extrahepatic disease",
    "n_liver_lesions": "Liver lesions, n",
    "tumour_burden_pct": "Tumour burden, % of liver volume",
    "lsf_pct": "Lung shunt fraction, %",
    "device": "Device (first session)",
    "n_sessions": "SIRT sessions, n",
    "treatment_intent": "Treatment intent",
    "bsa_m2": "Body surface area, m²",
    "afp_ng_ml": "AFP, ng/mL",
    "bilirubin_umol_l": "Bilirubin, µmol/L",
    "albumin_g_l": "Albumin, g/L",
    "largest_lesion_mm": "Largest lesion, mm",
    "n_prior_systemic_lines": "Prior systemic lines, n",
}

#: Level order of categorical variables (schema enum order; booleans as yes/no).
TABLE1_LEVEL_ORDER: dict[str, list[str]] = {
    "sex": ["M", "F"],
    "primary_tumour": ["HCC", "ICC", "mCRC", "NET", "breast", "uveal_melanoma", "pancreas",
                       "other"],
    "hcc_aetiology": ["HBV", "HCV", "alcohol", "MASLD", "haemochromatosis", "other", "none"],
    "ecog": ["0", "1", "2", "3", "4"],
    "bclc_stage": ["0", "A", "B", "C", "D"],
    "child_pugh_class": ["A", "B", "C"],
    "albi_grade": ["1", "2", "3"],
    "pvtt": ["none", "branch", "lobar", "main"],
    "device": ["Y90_glass", "Y90_resin", "Ho166_PLLA"],
    "treatment_intent": ["palliative", "downstaging", "bridge_to_transplant",
                         "neoadjuvant_resection", "curative_segmentectomy", "radiation_lobectomy"],
    "ascites": ["none", "mild", "moderate_severe"],
    "encephalopathy": ["none", "grade_1_2", "grade_3_4"],
}

_BOOLEAN_ORDER = ["yes", "no"]
_MISSING_GROUP = "(missing)"


def _as_category_strings(s: pd.Series) -> pd.Series:
    """Categorical values as plain strings (1 -> "1", True -> "yes"), missing as None."""
    if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
        out = s.astype("object").map({True: "yes", False: "no"})
    elif pd.api.types.is_numeric_dtype(s):
        num = pd.to_numeric(s, errors="coerce").astype(float)
        whole = num.dropna().eq(num.dropna().round()).all()
        out = num.map(lambda v: None if np.isnan(v) else (str(int(v)) if whole else str(v)))
    else:
        out = s.astype("object").map(lambda v: None if pd.isna(v) else str(v))
    return out.astype("object").where(out.notna(), None)


def _is_identifier(column: str) -> bool:
    return column == "patient_id" or column.endswith("_id") and column != "centre_id"


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
    if groupby is not None and groupby not in df_baseline.columns:
        raise ValueError(
            f"The 'groupby' argument of make_table1 must be a column of df_baseline or None. "
            f"Got {groupby!r} instead."
        )
    if columns is None:
        columns = [c for c in TABLE1_COLUMNS if c in df_baseline.columns]
    else:
        columns = list(columns)
        unknown = [c for c in columns if c not in df_baseline.columns]
        if unknown:
            raise ValueError(
                "The 'columns' argument of make_table1 must list columns of df_baseline. "
                f"Got {unknown!r} instead."
            )
    ids = [c for c in columns if _is_identifier(c)]
    if ids:
        raise ValueError(
            "The 'columns' argument of make_table1 must not contain identifiers. "
            f"Got {ids!r} instead."
        )
    columns = [c for c in columns if c != groupby]

    if categorical is None:
        categorical = [
            c for c in columns
            if c in TABLE1_CATEGORICAL
            or not pd.api.types.is_numeric_dtype(df_baseline[c])
            or pd.api.types.is_bool_dtype(df_baseline[c])
            or str(df_baseline[c].dtype) == "boolean"
        ]
    else:
        categorical = [c for c in categorical if c in columns]
    if nonnormal is None:
        nonnormal = [c for c in columns if c in TABLE1_NONNORMAL and c not in categorical]
    else:
        nonnormal = [c for c in nonnormal if c in columns]

    empty = [c for c in columns if df_baseline[c].isna().all()]
    if empty and len(df_baseline):
        warnings.warn(
            f"Table 1: {empty} are missing for every patient and are left out.",
            SirtStatsWarning,
            stacklevel=2,
        )
    columns = [c for c in columns if c not in empty]
    categorical = [c for c in categorical if c in columns]
    nonnormal = [c for c in nonnormal if c in columns]

    data = pd.DataFrame(index=df_baseline.index)
    order: dict[str, list[str]] = {}
    for c in columns:
        if c in categorical:
            data[c] = _as_category_strings(df_baseline[c])
            present = set(data[c].dropna())
            preferred = TABLE1_LEVEL_ORDER.get(c)
            if preferred is None and set(present) <= set(_BOOLEAN_ORDER):
                preferred = _BOOLEAN_ORDER
            preferred = preferred or []
            order[c] = [v for v in preferred if v in present] + sorted(present - set(preferred))
        else:
            data[c] = pd.to_numeric(df_baseline[c], errors="coerce").astype(float)
    if groupby is not None:
        g = _as_category_strings(df_baseline[groupby]).fillna(_MISSING_GROUP)
        data[groupby] = g
        present = set(g)
        preferred = TABLE1_LEVEL_ORDER.get(groupby, [])
        order[groupby] = [v for v in preferred if v in present] + sorted(
            present - set(preferred) - {_MISSING_GROUP}
        ) + ([_MISSING_GROUP] if _MISSING_GROUP in present else [])
        small = g.value_counts()
        small = small[small < 10]
        if len(small):
            warnings.warn(
                f"Table 1: fewer than 10 patients in group(s) {sorted(small.index)} of "
                f"{groupby!r}; percentages are unstable.",
                SirtStatsWarning,
                stacklevel=2,
            )

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


# --------------------------------------------------------------------------------------------
# paste-ready tables (sirtstats.formatting.ReportTable)
# --------------------------------------------------------------------------------------------

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


def _blank(x) -> bool:
    return x is None or (not isinstance(x, str) and pd.isna(x)) or str(x) == ""


def _cox_rows(df: pd.DataFrame) -> dict:
    """(variable, level) -> (hr, lower, upper, p) of a Cox HR table."""
    out = {}
    for r in df.itertuples(index=False):
        level = "" if _blank(r.level) else str(r.level)
        out[(r.variable, level)] = (r.hr, r.hr_lower, r.hr_upper, r.p)
    return out


def summarise_cox_table(
    univariable: pd.DataFrame | None,
    multivariable,
    *,
    title: str = "Cox proportional hazards models of overall survival",
    name: str = "03_cox",
) -> ReportTable:
    """Univariable and multivariable Cox models in one paste-ready table (gtsummary tbl_merge).

    Parameters
    ----------
    univariable : DataFrame or None
        :func:`sirtstats.survival.fit_cox_univariable` output (``variable``, ``level``,
        ``reference``, ``hr``, ``hr_lower``, ``hr_upper``, ``p``, ``n``, ``n_events``).
    multivariable : CoxResult or DataFrame
        :func:`sirtstats.survival.fit_cox` result (or its ``hr_table``).
    title : str
        Table title.
    name : str
        File stem for :meth:`ReportTable.save`.

    Returns
    -------
    ReportTable
        One row per continuous covariate ("ECOG PS, per unit"; a 0/1 ``is_``/``has_`` flag
        reads "Responder: yes vs no") and, for each categorical
        covariate, a variable row with indented level rows: the reference level shows "—",
        the others "HR (95 % CI)" and p under the spanners "Univariable" and
        "Multivariable". A hazard ratio the fit cannot estimate (a limit 0 or infinite, as for
        a one-patient level) shows "not estimable" and its p "—".

    Examples
    --------
    >>> import pandas as pd
    >>> hr = pd.DataFrame({"variable": ["albi_grade", "ecog"], "level": ["2", None],
    ...                    "reference": ["1", None], "hr": [1.58, 1.46],
    ...                    "hr_lower": [1.22, 1.21], "hr_upper": [2.05, 1.75],
    ...                    "p": [0.00053, 0.0153]})
    >>> for row in summarise_cox_table(hr, hr).data[["characteristic", "uni_hr", "uni_p"]].values:
    ...     print(row.tolist())
    ['ALBI grade', '', '']
    ['1', '—', '']
    ['2', '1.58 (1.22–2.05)', '< 0.001']
    ['ECOG PS, per unit', '1.46 (1.21–1.75)', '0.015']
    """
    multi = getattr(multivariable, "hr_table", multivariable)
    frames = [f for f in (univariable, multi) if f is not None]
    order: dict[str, dict] = {}
    for f in frames:
        for r in f.itertuples(index=False):
            info = order.setdefault(r.variable, {"reference": None, "levels": []})
            if not _blank(r.reference):
                info["reference"] = str(r.reference)
            if not _blank(r.level) and str(r.level) not in info["levels"]:
                info["levels"].append(str(r.level))
    models = {"uni": _cox_rows(univariable) if univariable is not None else None,
              "multi": _cox_rows(multi)}

    def cells(key, is_reference=False) -> dict:
        out = {}
        for m, table in models.items():
            if table is None:
                continue
            if is_reference:
                out[f"{m}_hr"], out[f"{m}_p"] = DASH, ""
            elif key not in table:
                out[f"{m}_hr"], out[f"{m}_p"] = DASH, DASH
            else:
                hr, lo, hi, p = table[key]
                text = format_estimate_ci(hr, lo, hi)
                out[f"{m}_hr"] = text
                out[f"{m}_p"] = DASH if text == NOT_ESTIMABLE else format_p(p)
        return out

    rows, indent, not_estimable = [], [], False
    for variable, info in order.items():
        if not info["levels"]:
            c = cells((variable, ""))
            per = ": yes vs no" if str(variable).startswith(("is_", "has_")) else ", per unit"
            rows.append({"characteristic": f"{column_label(variable)}{per}", **c})
            indent.append(False)
        else:
            rows.append({"characteristic": column_label(variable)})
            indent.append(False)
            levels = ([info["reference"]] if info["reference"] else []) + info["levels"]
            for lv in levels:
                c = cells((variable, lv), is_reference=lv == info["reference"])
                rows.append({"characteristic": value_label(lv), **c})
                indent.append(True)
        not_estimable |= any(v == NOT_ESTIMABLE for v in rows[-1].values())
    keys = ["characteristic"] + [f"{m}_{s}" for m in models if models[m] is not None
                                 for s in ("hr", "p")]
    data = pd.DataFrame(rows, columns=keys).fillna("")
    not_estimable = (data == NOT_ESTIMABLE).any().any()
    labels = {"characteristic": "Characteristic", "uni_hr": "HR (95 % CI)", "uni_p": "p",
              "multi_hr": "HR (95 % CI)", "multi_p": "p"}
    multi_label = "Multivariable"
    if hasattr(multivariable, "n"):
        multi_label += f" (n = {multivariable.n}, events = {multivariable.n_events})"
    spanners = [(multi_label, ("multi_hr", "multi_p"))]
    notes = ["HR, hazard ratio; CI, confidence interval (Wald). — = reference level."]
    if univariable is not None:
        uni_label = "Univariable"
        if {"n", "n_events"} <= set(univariable.columns) and len(univariable):
            n = univariable["n"].agg(["min", "max"]).astype(int).tolist()
            e = univariable["n_events"].agg(["min", "max"]).astype(int).tolist()
            uni_label += (f" (n = {n[0]}, events = {e[0]})" if n[0] == n[1] and e[0] == e[1]
                          else "")
        spanners.insert(0, (uni_label, ("uni_hr", "uni_p")))
        notes.append("Univariable: one model per covariate; multivariable: all covariates "
                     "in one model.")
    if not_estimable:
        notes.append("not estimable: the fit has no finite hazard ratio for this level (too "
                     "few patients or no events in it); its p-value is not shown.")
    return ReportTable(data=data, title=title, labels=labels, spanners=tuple(spanners),
                       footnotes=tuple(notes), indent=tuple(indent), stub="characteristic",
                       name=name)


#: Row order of the endpoint table: overall survival first, then the progression endpoints
#: and duration of response, as SIRT papers report them (unknown endpoints after, in input
#: order).
ENDPOINT_ORDER = ("OS", "PFS", "hepatic_PFS", "treated_PFS", "TTP", "TTLP", "DoR")


def summarise_km_table(
    df_km: pd.DataFrame,
    *,
    by: str = "endpoint",
    landmarks_months: Sequence[float] = (12, 24),
    title: str = "Time-to-event endpoints (Kaplan–Meier)",
    name: str = "03_km_summary",
) -> ReportTable:
    """Kaplan–Meier summary per endpoint (or group) as a paste-ready table.

    Parameters
    ----------
    df_km : DataFrame
        :func:`sirtstats.survival.summarise_km` output: ``by``, ``n``, ``n_events``,
        ``median``, ``median_lower``, ``median_upper`` (months) and ``surv_<t>``,
        ``surv_<t>_lower``, ``surv_<t>_upper`` for the landmarks.
    by : str
        Row column.
    landmarks_months : sequence of float
        Landmarks shown (those present in ``df_km``).
    title : str
        Table title.
    name : str
        File stem.

    Returns
    -------
    ReportTable
        Rows per endpoint (in :data:`ENDPOINT_ORDER` when ``by`` is "endpoint"): patients,
        events, median in months with 95 % CI ("NR" not reached) and the Kaplan–Meier
        estimate at each landmark in % with 95 % CI.

    Examples
    --------
    >>> import pandas as pd
    >>> km = pd.DataFrame({"endpoint": ["OS"], "n": [295], "n_events": [246],
    ...                    "median": [15.18], "median_lower": [13.31], "median_upper": [None],
    ...                    "surv_12": [0.5886], "surv_12_lower": [0.528],
    ...                    "surv_12_upper": [0.644], "conf_type": ["log-log"]})
    >>> summarise_km_table(km).data.iloc[0].tolist()
    ['Overall survival', '295', '246', '15.2 (13.3–NR)', '58.9 (52.8–64.4)']
    """
    cols = ["label", "n", "events", "median"]
    labels = {"label": column_label(by) if by != "endpoint" else "Endpoint", "n": "Patients",
              "events": "Events", "median": "Median, months (95 % CI)"}
    rows = []
    times = [t for t in landmarks_months if f"surv_{_fmt_t(t)}" in df_km.columns]
    if by == "endpoint" and by in df_km.columns:  # OS first, as papers report them
        rank = df_km[by].map({e: i for i, e in enumerate(ENDPOINT_ORDER)})
        df_km = df_km.iloc[np.argsort(rank.fillna(len(ENDPOINT_ORDER)).to_numpy(),
                                      kind="stable")]
    for r in df_km.to_dict("records"):
        row = {"label": value_label(r[by]), "n": str(int(r["n"])),
               "events": str(int(r["n_events"])),
               "median": format_median_ci(r["median"], r["median_lower"], r["median_upper"])}
        for t in times:
            k = f"surv_{_fmt_t(t)}"
            row[k] = format_estimate_ci(100 * r[k], 100 * r[f"{k}_lower"],
                                        100 * r[f"{k}_upper"], decimals=1, ratio=False)
        rows.append(row)
    for t in times:
        cols.append(f"surv_{_fmt_t(t)}")
        # the probability of the row's endpoint (event-free, still in response), not only OS
        labels[f"surv_{_fmt_t(t)}"] = f"At {_fmt_t(t)} months, % (95 % CI)"
    conf = str(df_km["conf_type"].iloc[0]) if "conf_type" in df_km.columns and len(df_km) \
        else "log-log"
    notes = (f"Kaplan–Meier estimates; 95 % CI with the {conf} transform. NR, not reached.",)
    return ReportTable(data=pd.DataFrame(rows, columns=cols), title=title, labels=labels,
                       footnotes=notes, name=name)


def _fmt_t(t) -> str:
    return str(int(t)) if float(t).is_integer() else str(t)


#: CI limit columns named after their estimate: estimate -> (lower, upper) templates.
_CI_PAIRS = (("{c}_lower", "{c}_upper"), ("{c}_ci_lower", "{c}_ci_upper"),
             ("{b}_ci_lower_pct", "{b}_ci_upper_pct"), ("{b}_lower_pct", "{b}_upper_pct"),
             ("{r}_ci_lower_pct", "{r}_ci_upper_pct"))
#: CI limit columns without the estimate's name, and the estimates they belong to (first found).
_GENERIC_CI = (("ci_lower", "ci_upper"), ("ci_low_pct", "ci_high_pct"), ("lower", "upper"))
_GENERIC_ESTIMATES = ("estimate", "rate", "mortality_pct", "proportion", "auc", "hr", "value")
_RATIOS = ("hr", "or", "odds_ratio", "hazard_ratio")


def _ci_text(e, a, b, d, ratio, median=False) -> str:
    if median:
        return format_median_ci(e, a, b, d)
    if pd.isna(e):
        return DASH
    if pd.isna(a) and pd.isna(b) and not ratio:
        return format_number(e, d)
    return format_estimate_ci(e, a, b, decimals=d, ratio=ratio)


def _merge_ci(df: pd.DataFrame, decimals, percent) -> tuple[pd.DataFrame, dict[str, str]]:
    """Merge estimate / lower / upper column triplets into one "est (lo–hi)" text column."""
    df = df.copy()
    labels: dict[str, str] = {}
    triplets = []
    for c in df.columns:
        base = c[:-4] if c.endswith("_pct") else c
        rate = base[:-5] if base.endswith("_rate") else base  # cr_rate_pct -> cr_ci_lower_pct
        for lo_t, hi_t in _CI_PAIRS:
            lo, hi = lo_t.format(c=c, b=base, r=rate), hi_t.format(c=c, b=base, r=rate)
            if lo in df.columns and hi in df.columns:
                triplets.append((c, lo, hi))
                break
    for lo, hi in _GENERIC_CI:
        est = next((c for c in _GENERIC_ESTIMATES if c in df.columns), None)
        if est and lo in df.columns and hi in df.columns and est not in [t[0] for t in triplets]:
            triplets.append((est, lo, hi))
    for c, lo, hi in triplets:
        if not all(pd.api.types.is_numeric_dtype(df[k]) for k in (c, lo, hi)):
            continue
        d = decimals.get(c, 2) if isinstance(decimals, dict) else decimals
        scale = 100.0 if c in percent else 1.0
        ratio = c in _RATIOS or c.split("_")[0] in _RATIOS
        median = "median" in c
        df[c] = [_ci_text(scale * e, scale * a, scale * b, d, ratio, median)
                 for e, a, b in zip(df[c], df[lo], df[hi], strict=True)]
        label = column_label(c) + (" (%)" if c in percent else "")
        label = re.sub(r" \(([^()]*)\)$", r", \1", label)  # "ORR (%)" -> "ORR, %"
        labels[c] = f"{label} (95 % CI)"
        df = df.drop(columns=[lo, hi])
    for c in percent:
        if c in df.columns and pd.api.types.is_numeric_dtype(df[c]):
            df[c] = 100.0 * df[c]
            labels[c] = f"{column_label(c)} (%)"
    return df, labels


def report_table(df: pd.DataFrame, title: str, *, name: str | None = None,
                 footnotes: Sequence[str] = (), decimals: int | dict[str, int] = 1,
                 labels: dict[str, str] | None = None, drop: Sequence[str] = (),
                 percent: Sequence[str] = (), column_values: Sequence[str] = ()
                 ) -> ReportTable:
    """Any result frame as a paste-ready table: readable headers and values, fixed decimals.

    Parameters
    ----------
    df : DataFrame
        Result frame (one row per table row).
    title : str
        Table title.
    name : str, optional
        File stem.
    footnotes : sequence of str
        Notes under the table.
    decimals : int or dict
        Decimals of floats (all, or per column); p columns follow
        :func:`sirtstats.formatting.format_p`.
    labels : dict, optional
        Header labels overriding :func:`sirtstats.labels.column_label`.
    drop : sequence of str
        Columns left out (e.g. a pre-formatted duplicate of other columns).
    percent : sequence of str
        Proportion columns (0-1) shown as percentages, so that no proportion stands next
        to a percentage.
    column_values : sequence of str
        Columns whose values are column names (``quantity``, ``subgroup``): shown with
        :func:`sirtstats.labels.column_label` ("activity_gbq" -> "Activity (GBq)").

    Returns
    -------
    ReportTable
        Estimate columns with CI limits (``x``/``x_lower``/``x_upper``,
        ``x_pct``/``x_ci_lower_pct``/``x_ci_upper_pct``, ``estimate``/``ci_lower``/
        ``ci_upper``) merged into one "x (95 % CI)" column; ratios that cannot be estimated
        read "not estimable".

    Examples
    --------
    >>> import pandas as pd
    >>> report_table(pd.DataFrame({"device": ["Y90_glass"], "lsf_pct": [4.8818]}),
    ...              "Lung shunt").to_frame().to_dict("list")
    {'Device': ['Y-90 glass'], 'Lung shunt fraction (%)': ['4.9']}
    >>> t = report_table(pd.DataFrame({"orr_pct": [21.3559322], "orr_ci_lower_pct": [16.818],
    ...                                "orr_ci_upper_pct": [26.479]}), "ORR")
    >>> t.to_frame().to_dict("list")
    {'ORR, % (95 % CI)': ['21.4 (16.8–26.5)']}
    """
    df = df.drop(columns=[c for c in drop if c in df.columns])
    if any(n is not None for n in df.index.names):
        df = df.reset_index()
    df = df.reset_index(drop=True)
    for c in column_values:
        if c in df.columns:
            df[c] = [v if pd.isna(v) else column_label(str(v)) for v in df[c]]
    df, merged = _merge_ci(df, decimals, tuple(percent))
    data = format_frame(df, decimals=decimals)
    data.columns = [str(c) for c in data.columns]
    return ReportTable(data=data, title=title, labels={**merged, **dict(labels or {})},
                       footnotes=tuple(footnotes), name=name)


#: Causes of the PFS competing-risk rows (progression, death without progression).
COMPETING_CAUSE_LABELS: dict[str, str] = {"progression": "Progression",
                                          "death": "Death without progression"}


def summarise_cif_table(cif: pd.DataFrame, gray: pd.DataFrame | None = None, *,
                        name: str | None = None) -> ReportTable:
    """Cumulative incidence of progression and of death without progression, in percent.

    Parameters
    ----------
    cif : DataFrame
        :func:`sirtstats.survival.summarise_cif` output: ``cause``, ``n``, ``n_events``,
        ``cif_<t>`` with ``cif_<t>_lower`` / ``cif_<t>_upper`` (proportions, t in months) and
        ``conf_type``.
    gray : DataFrame, optional
        :func:`sirtstats.survival.test_gray` output (``cause``, ``statistic``, ``df``, ``p``):
        adds Gray's test across the groups, per cause.
    name : str, optional
        File stem.

    Returns
    -------
    ReportTable
        One row per cause; "t months, % (95 % CI)" columns (R6.6, docs/rules/statistics.md).

    Examples
    --------
    >>> import pandas as pd
    >>> cif = pd.DataFrame({"cause": ["progression"], "n": [10], "n_events": [4],
    ...     "cif_6": [0.3], "cif_6_lower": [0.1], "cif_6_upper": [0.55], "conf_type": ["log-log"]})
    >>> gray = pd.DataFrame({"cause": ["progression"], "statistic": [6.8], "df": [2],
    ...                      "p": [0.0334]})
    >>> summarise_cif_table(cif, gray).to_frame().iloc[0].tolist()
    ['Progression', '10', '4', '30.0 (10.0–55.0)', '6.8', '2', '0.033']
    """
    times = [c for c in cif.columns if re.fullmatch(r"cif_\d+(\.\d+)?", c)]
    df = cif.assign(cause=cif["cause"].replace(COMPETING_CAUSE_LABELS))
    labels = {"cause": "Event",
              **{c: f"{_fmt_t(float(c[4:]))} months, % (95 % CI)" for c in times}}
    if gray is not None and len(gray):
        test = gray.set_index(gray["cause"].replace(COMPETING_CAUSE_LABELS))
        df = df.assign(gray_statistic=df["cause"].map(test["statistic"]),
                       gray_df=df["cause"].map(test["df"]).astype("Int64"),
                       gray_p=df["cause"].map(test["p"]))
        labels.update(gray_statistic="Gray's χ²", gray_df="df", gray_p="p")
    transform = cif["conf_type"].iloc[0] if "conf_type" in cif and len(cif) else "log-log"
    return report_table(df, "Cumulative incidence of progression and of death without "
                        "progression", name=name, percent=times, drop=["conf_type"],
                        labels=labels, footnotes=[f"Aalen–Johansen estimates with {transform} "
                                                  "95 % CIs; Gray's test across the groups."])


def summarise_landmark_table(landmarks: pd.DataFrame, *, name: str | None = None) -> ReportTable:
    """Landmark analysis of OS by response reached at the landmark, paste-ready.

    Parameters
    ----------
    landmarks : DataFrame
        :func:`sirtstats.survival.summarise_landmark` output (one row per landmark).
    name : str, optional
        File stem.

    Returns
    -------
    ReportTable
        Patients at the landmark, responders and non-responders with their deaths and median
        OS (months from the landmark), the HR of responders vs non-responders (95 % CI) and
        the log-rank p (R5.6.2, docs/rules/endpoints.md).
    """
    labels = {"landmark_months": "Landmark (months)", "n_included": "At landmark",
              "n_responders": "R", "n_non_responders": "NR",
              "events_responders": "Deaths, R", "events_non_responders": "Deaths, NR",
              "median_responders_months": "Median OS, R", "median_non_responders_months":
              "Median OS, NR", "hr": "HR, R vs NR (95 % CI)", "p_logrank": "Log-rank p"}
    return report_table(landmarks, "Landmark analysis: responders vs non-responders (OS)",
                        name=name, labels=labels, decimals={"hr": 2},
                        drop=["n", "n_excluded_event", "n_excluded_censored"],
                        footnotes=["R = responders, NR = non-responders: patients alive and "
                                   "followed at the landmark, grouped by confirmed response "
                                   "reached by then. Median OS in months from the landmark."])
