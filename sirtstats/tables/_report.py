"""Any result frame as a paste-ready table: readable headers, fixed decimals, merged CIs.

:func:`report_table` turns a result frame into a :class:`~sirtstats.formatting.ReportTable`,
merging estimate / lower / upper column triplets into one "est (lo–hi)" column. Private
module: import from :mod:`sirtstats.tables`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from sirtstats.formatting import (
    DASH,
    ReportTable,
    format_estimate_ci,
    format_frame,
    format_median_ci,
    format_number,
)
from sirtstats.labels import column_label

__all__ = ["report_table"]


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
