"""One formatting layer for paste-ready report tables: HTML page, CSV, XLSX and Word alike.

A :class:`ReportTable` holds the display text of a table (a tidy frame of strings, one row per
table row, no index), its column labels, spanners, footnotes and title. Every output is
rendered from that one object: the notebook/HTML page through great-tables
(:meth:`ReportTable.to_gt`), the CSV and XLSX sheet (:meth:`ReportTable.save`,
:func:`sirtstats.report.export.write_tables_workbook`) and the Word file
(:func:`sirtstats.report.export.write_tables_docx`), so the page and the export cannot differ.

Listings (one row per visit, lesion, session) are not paste-ready tables: :func:`save_listing`
writes them to CSV (and so to the workbook) with readable headers and returns a one-line note
for the page instead of a dump of the rows.

Number rules (gtsummary and tern conventions; Sjoberg et al., R Journal 2021):

========================  ==========================  ========================================
value                     text                        rule
========================  ==========================  ========================================
count of N                ``"12 (41.4)"``             n (%) with one decimal of the percentage
count of N = 0            ``"0"``                     no percentage of an empty denominator
0 of N > 0                ``"0 (0.0)"``               gtsummary ``0 (0%)``, with one decimal
continuous                ``"64.0 [56.5–71.0]"``      median [Q1–Q3], en dash
ratio with 95 % CI        ``"HR 1.42 (1.05–1.91)"``   two decimals
ratio not estimable       ``"not estimable"``         estimate or a limit 0, infinite or NaN
p                         ``"0.003"``, ``"< 0.001"``  3 decimals below 0.1, else 2; ``"> 0.99"``
median not reached        ``"NR"``                    also for a CI limit not reached
reference level           ``"—"`` (em dash)           Cox reference rows
missing / not applicable  ``"—"``                     great-tables ``sub_missing`` default
========================  ==========================  ========================================
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sirtstats.labels import VALUE_LABELS, column_label, value_label

__all__ = [
    "DASH",
    "NOT_ESTIMABLE",
    "NOT_REACHED",
    "XLSX_MAX_ROWS",
    "ReportTable",
    "format_estimate_ci",
    "format_median_ci",
    "format_median_iqr",
    "format_n_pct",
    "format_number",
    "format_p",
    "format_frame",
    "save_listing",
]

#: Text of a reference row, a missing value or a cell that does not apply.
DASH = "—"
#: Text of an estimate a fit could not estimate (zero, infinite or missing ratio or limit).
NOT_ESTIMABLE = "not estimable"
#: Text of a median (or a CI limit) not reached.
NOT_REACHED = "NR"
_EN_DASH = "–"


def _missing(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(np.isnan(x))
    except (TypeError, ValueError):
        return False


def format_number(x, decimals: int = 1) -> str:
    """Format a number with a fixed number of decimals; missing -> ``"—"``.

    Parameters
    ----------
    x : float or None
        Number to format.
    decimals : int
        Decimals shown.

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(21.3559322), format_number(3, 0), format_number(float("nan"))
    ('21.4', '3', '—')
    """
    if _missing(x):
        return DASH
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    text = f"{x:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def format_n_pct(n, total, decimals: int = 1) -> str:
    """Format a count with its percentage of ``total``: ``"12 (41.4)"``.

    Parameters
    ----------
    n : int
        Count (patients with the characteristic).
    total : int
        Denominator (patients with a known value).
    decimals : int
        Decimals of the percentage.

    Returns
    -------
    str
        ``"n (pct)"``; ``"0 (0.0)"`` for no patient of a non-empty denominator (gtsummary);
        ``"0"`` when the denominator is 0 (no percentage of nobody; never ``nan``).

    Examples
    --------
    >>> format_n_pct(12, 29), format_n_pct(0, 13), format_n_pct(0, 0)
    ('12 (41.4)', '0 (0.0)', '0')
    """
    n = 0 if _missing(n) else int(n)
    total = 0 if _missing(total) else int(total)
    if total == 0:
        return str(n)
    return f"{n} ({100.0 * n / total:.{decimals}f})"


def format_median_iqr(values, decimals: int = 1) -> str:
    """Median [Q1–Q3] of the non-missing values; ``"—"`` if there are none.

    Quartiles by linear interpolation between order statistics (numpy/pandas default, R
    ``quantile(type = 7)``, gtsummary's default).

    Parameters
    ----------
    values : array-like of float
        Values (missing ones are ignored).
    decimals : int
        Decimals shown.

    Returns
    -------
    str

    Examples
    --------
    >>> format_median_iqr([50, 60, 65, 70, 80, None])
    '65.0 [60.0–70.0]'
    """
    v = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").dropna().astype(float)
    if v.empty:
        return DASH
    q1, med, q3 = np.quantile(v.to_numpy(), [0.25, 0.5, 0.75])
    return (f"{format_number(med, decimals)} [{format_number(q1, decimals)}{_EN_DASH}"
            f"{format_number(q3, decimals)}]")


def _estimable_ratio(est, lower, upper) -> bool:
    vals = [est, lower, upper]
    if any(_missing(v) for v in vals):
        return False
    vals = [float(v) for v in vals]
    return all(math.isfinite(v) and v > 0 for v in vals)


def format_estimate_ci(est, lower, upper, *, prefix: str = "", decimals: int = 2,
                       ratio: bool = True) -> str:
    """Estimate with its confidence interval: ``"HR 1.42 (1.05–1.91)"``.

    Parameters
    ----------
    est, lower, upper : float
        Estimate and CI limits.
    prefix : str
        Text before the estimate (``"HR"``, ``"OR"``), empty for none.
    decimals : int
        Decimals shown.
    ratio : bool
        The estimate is a ratio (HR, OR): an estimate or a limit that is 0, infinite or
        missing means the fit could not estimate it (e.g. a group without events, where the
        partial likelihood has no maximum) and the text is ``"not estimable"``.

    Returns
    -------
    str

    Examples
    --------
    >>> format_estimate_ci(1.4236, 1.0549, 1.9112, prefix="HR")
    'HR 1.42 (1.05–1.91)'
    >>> format_estimate_ci(1.878e-12, 0.0, float("inf"), prefix="HR")
    'not estimable'
    """
    if ratio and not _estimable_ratio(est, lower, upper):
        return NOT_ESTIMABLE
    if _missing(est):
        return NOT_ESTIMABLE
    # an en dash between two negative limits reads as a minus: use "to" (BMJ, ICMJE style)
    sep = " to " if any(not _missing(v) and float(v) < 0 for v in (lower, upper)) else _EN_DASH
    text = (f"{format_number(est, decimals)} ({format_number(lower, decimals)}{sep}"
            f"{format_number(upper, decimals)})")
    return f"{prefix} {text}" if prefix else text


def format_median_ci(median, lower, upper, decimals: int = 1) -> str:
    """Kaplan–Meier median with its CI; ``"NR"`` where the curve does not reach 0.5.

    Parameters
    ----------
    median, lower, upper : float
        Median and CI limits (months); NaN = not reached.
    decimals : int
        Decimals shown.

    Returns
    -------
    str

    Examples
    --------
    >>> format_median_ci(15.178, 13.306, 16.591), format_median_ci(None, 20.1, None)
    ('15.2 (13.3–16.6)', 'NR (20.1–NR)')
    """
    def one(x):
        return NOT_REACHED if _missing(x) or math.isinf(float(x)) else format_number(x, decimals)

    return f"{one(median)} ({one(lower)}{_EN_DASH}{one(upper)})"


def format_p(p) -> str:
    """Format a p-value: ``"< 0.001"``, ``"0.003"``, ``"0.04"``… ``"> 0.99"``.

    Parameters
    ----------
    p : float
        The p-value, in [0, 1]; missing -> ``"—"``.

    Returns
    -------
    str
        ``"< 0.001"`` below 0.001; three decimals below 0.1 (``"0.001"``, ``"0.049"``); two
        decimals from 0.1 (``"0.10"``, ``"0.49"``); ``"> 0.99"`` above 0.99 (gtsummary
        ``style_pvalue`` with the journals' ``"< 0.001"`` spacing).

    Examples
    --------
    >>> format_p(0.00099), format_p(0.001), format_p(0.0499), format_p(0.488189), format_p(1.0)
    ('< 0.001', '0.001', '0.050', '0.49', '> 0.99')
    """
    if _missing(p):
        return DASH
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    if p > 0.99:
        return "> 0.99"
    if round(p, 3) < 0.1:
        return f"{p:.3f}"
    return f"{p:.2f}"


def _is_p_column(name: str) -> bool:
    return name == "p" or name.startswith("p_") or name.endswith("_p") or name == "p_value"


def _format_value(x, decimals: int) -> str:
    if isinstance(x, bool | np.bool_):
        return "Yes" if x else "No"
    if _missing(x):
        return DASH
    if isinstance(x, pd.Timestamp):
        return x.strftime("%Y-%m-%d")
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, float | np.floating):
        return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else format_number(x,
                                                                                          decimals)
    return value_label(x)


def format_frame(df: pd.DataFrame, *, decimals: int | Mapping[str, int] = 1,
                 p_columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Display text of every cell of a result frame (no raw floats, codes or ``nan``).

    Parameters
    ----------
    df : DataFrame
        Any result frame; its index is dropped unless it is named (then it becomes columns).
    decimals : int or dict
        Decimals of floats, one for all or per column.
    p_columns : list of str, optional
        Columns of p-values (:func:`format_p`); default: ``p``, ``p_*``, ``*_p`` columns.

    Returns
    -------
    DataFrame
        Same columns, all text, RangeIndex: floats with fixed decimals, whole floats as
        integers, booleans as Yes/No, dates as ISO dates, codes through
        :func:`sirtstats.labels.value_label`, missing as ``"—"``.

    Examples
    --------
    >>> import pandas as pd
    >>> format_frame(pd.DataFrame({"device": ["Y90_glass"], "rate": [21.3559322],
    ...                            "p": [0.4881890], "flag": [True]}))
           device  rate     p flag
    0  Y-90 glass  21.4  0.49  Yes
    """
    if not isinstance(df.index, pd.RangeIndex) or any(n is not None for n in df.index.names):
        df = df.reset_index() if any(n is not None for n in df.index.names) else df
    df = df.reset_index(drop=True)
    p_cols = set(p_columns) if p_columns is not None else {c for c in df.columns
                                                           if _is_p_column(str(c))}
    out = {}
    for c in df.columns:
        d = decimals.get(c, 1) if isinstance(decimals, Mapping) else decimals
        col = df[c]
        if pd.api.types.is_float_dtype(col) and not col.dropna().map(float.is_integer).all():
            # one number of decimals per column: 0.0 next to 0.3, never 0 next to 0.3
            out[c] = [format_number(x, d) for x in col.tolist()]
            if c not in p_cols:
                continue
        fmt = format_p if c in p_cols else (lambda x, d=d: _format_value(x, d))
        out[c] = [fmt(x) for x in df[c].tolist()]
    return pd.DataFrame(out, columns=df.columns).astype(object)


@dataclass(frozen=True)
class ReportTable:
    """A paste-ready table: display text plus labels, spanners, footnotes and title.

    Parameters
    ----------
    data : DataFrame
        Display text, one row per table row, RangeIndex (no index column is shown).
    title : str
        Table title ("Table 1. Baseline characteristics").
    labels : dict, optional
        Column -> header label; columns not listed get :func:`sirtstats.labels.column_label`.
    spanners : tuple of (str, tuple of str), optional
        Header spanners over groups of columns.
    footnotes : tuple of str, optional
        Notes under the table (statistics shown, restrictions, abbreviations).
    indent : tuple of bool, optional
        Rows shown indented under the row above (levels of a variable); default none.
    stub : str, optional
        Column of row labels (left-aligned, indented where ``indent``).
    name : str, optional
        File stem used by :meth:`save`.

    Notes
    -----
    Every renderer uses :attr:`data` as is, so the page, CSV, XLSX and DOCX show the same text.
    """

    data: pd.DataFrame
    title: str
    labels: Mapping[str, str] = field(default_factory=dict)
    spanners: tuple[tuple[str, tuple[str, ...]], ...] = ()
    footnotes: tuple[str, ...] = ()
    indent: tuple[bool, ...] = ()
    stub: str | None = None
    name: str | None = None

    def __post_init__(self):
        data = self.data.reset_index(drop=True).astype(object)
        data = data.where(data.notna(), DASH).map(str)
        object.__setattr__(self, "data", data)
        self._protect()
        if self.indent and len(self.indent) != len(data):
            raise ValueError(
                f"The 'indent' argument of ReportTable must have one flag per row "
                f"({len(data)}). Got {len(self.indent)} instead.")

    def _protect(self) -> None:
        """Shareable report: no ids, small cells suppressed (:mod:`sirtstats.disclosure`)."""
        from sirtstats.disclosure import SUPPRESSED, get_disclosure, protect_display

        policy = get_disclosure()
        if not policy.shareable:
            return
        data, labels, n = protect_display(self.data, self.labels, policy, indent=self.indent)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "labels", labels)
        if n:
            note = (f"{SUPPRESSED}: suppressed, a count between 1 and {policy.threshold - 1} "
                    "or a cell that would give one back from a total (shareable report).")
            object.__setattr__(self, "footnotes", (*self.footnotes, note))

    def label(self, column: str) -> str:
        """Header label of ``column``."""
        if column in self.labels:
            return self.labels[column]
        if column in VALUE_LABELS:  # a coded value as column ("NON_CR_NON_PD", "MISSING")
            return VALUE_LABELS[column]
        # snake_case names get their readable label; ready-made headers ("HCC (N = 171)") stay
        return column_label(column) if re.fullmatch(r"[a-z][a-z0-9_]*", column) else column

    @property
    def column_labels(self) -> list[str]:
        """Header labels in column order."""
        return [self.label(c) for c in self.data.columns]

    def is_indented(self, row: int) -> bool:
        """Whether row ``row`` (0-based) is indented under the row above."""
        return bool(self.indent[row]) if self.indent else False

    def to_frame(self) -> pd.DataFrame:
        """The table as written to CSV: header labels as column names, display text, no index.

        Returns
        -------
        DataFrame
        """
        out = self.data.copy()
        out.columns = self.unique_column_labels
        return out

    @property
    def unique_column_labels(self) -> list[str]:
        """Header labels made unique for a one-row header (CSV, workbook; decision D63).

        A label that repeats is prefixed by its spanner ("Univariable (n = 295, events =
        246): HR (95 % CI)"); one still repeated (no spanner) gets " (2)", " (3)" ...
        """
        labels = self.column_labels
        cols = list(self.data.columns)
        repeated = {lab for lab in labels if labels.count(lab) > 1}
        out = list(labels)
        for spanner, members in self.spanners:
            for c in members:
                j = cols.index(c) if c in cols else -1
                if j >= 0 and labels[j] in repeated:
                    out[j] = f"{spanner}: {labels[j]}"
        seen: dict[str, int] = {}
        for j, lab in enumerate(out):
            seen[lab] = seen.get(lab, 0) + 1
            if seen[lab] > 1:
                out[j] = f"{lab} ({seen[lab]})"
        return out

    def to_gt(self):
        """The table as a ``great_tables.GT`` (title, spanners, footnotes, indented levels).

        Returns
        -------
        great_tables.GT
        """
        from great_tables import GT, loc, style

        # a CSS id must not start with a digit ("#01_table1" matches nothing): prefix it
        ident = "sirt-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name or self.title.lower())
        gt = GT(self.data, rowname_col=self.stub, id=ident)
        gt = gt.tab_header(title=self.title)
        gt = gt.cols_label(cases={c: self.label(c) for c in self.data.columns})
        for label, cols in self.spanners:
            gt = gt.tab_spanner(label=label, columns=list(cols))
        for note in self.footnotes:
            gt = gt.tab_source_note(note)
        if self.stub is not None:
            gt = gt.tab_stubhead(label=self.label(self.stub))
            rows = [i for i in range(len(self.data)) if self.is_indented(i)]
            if rows:
                gt = gt.tab_stub_indent(rows=rows, indent=3)
        others = [c for c in self.data.columns if c != self.stub]
        if others:
            gt = gt.cols_align(align="left", columns=[others[0]] if self.stub is None else [])
            gt = gt.cols_align(align="center", columns=others[1:] if self.stub is None
                               else others)
        gt = gt.tab_style(style=style.text(weight="bold"), locations=loc.column_labels())
        gt = gt.opt_css(f"#{ident} .gt_col_heading, #{ident} .gt_row {{ white-space: nowrap; }}"
                        f" #{ident} .gt_sourcenote {{ white-space: normal; }}")
        return gt.tab_options(table_font_size="13px", data_row_padding="3px",
                              source_notes_font_size="11px", heading_align="left",
                              row_striping_include_table_body=False)

    def to_html(self) -> str:
        """HTML of :meth:`to_gt` (self-contained: no external fonts or scripts)."""
        return self.to_gt().as_raw_html()

    def _repr_html_(self) -> str:
        return self.to_html()

    def metadata(self) -> dict:
        """Title, labels, spanners, footnotes and indentation as JSON-ready dict."""
        return {
            "kind": "table",
            "title": self.title,
            "columns": self.unique_column_labels,
            "spanners": [[label, [self.label(c) for c in cols]] for label, cols in self.spanners],
            # by position: labels repeat ("HR (95 % CI)" under Univariable and Multivariable)
            "spanner_columns": [[label, [list(self.data.columns).index(c) for c in cols
                                         if c in self.data.columns]]
                                for label, cols in self.spanners],
            "footnotes": list(self.footnotes),
            "indent": [self.is_indented(i) for i in range(len(self.data))],
            "stub": None if self.stub is None else self.label(self.stub),
        }

    def save(self, name: str | None = None, *, output_dir: str | Path | None) -> ReportTable:
        """Write ``tables/<name>.csv`` (the display text) and ``tables/<name>.table.json``.

        The JSON sidecar carries title, spanners, footnotes and indentation, which
        :mod:`sirtstats.report.export` uses for the XLSX sheet and the Word table.

        Parameters
        ----------
        name : str, optional
            File stem; default :attr:`name`.
        output_dir : str or Path or None
            Report folder; empty or None writes nothing.

        Returns
        -------
        ReportTable
            ``self``, so a notebook cell can end with the call and display the table.
        """
        name = name or self.name
        if not name:
            raise ValueError("The 'name' argument of ReportTable.save is required when the "
                             "table has no name. Got None instead.")
        folder = _tables_folder(output_dir)
        if folder is not None:
            self.to_frame().to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
            _write_sidecar(folder / f"{name}.table.json", self.metadata())
        return self


def _tables_folder(output_dir) -> Path | None:
    if not output_dir:
        return None
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_sidecar(path: Path, meta: dict) -> None:
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")


#: Rows above which a table (a listing of a large registry) is written to CSV only, with no
#: sheet in ``tables.xlsx`` (which would pass 5 MB and take minutes to open).
XLSX_MAX_ROWS = 10_000


@dataclass(frozen=True)
class ListingNote:
    """What the page shows for a listing: its size and where the rows are."""

    title: str
    n_rows: int
    file: str
    withheld: bool = False

    def __str__(self) -> str:
        if self.withheld:
            return (f"{self.title}: a patient-level listing, left out of a shareable report "
                    "(the internal report has it).")
        where = (f"in tables.xlsx and tables/{self.file}" if self.n_rows <= XLSX_MAX_ROWS
                 else f"in tables/{self.file} only (over {XLSX_MAX_ROWS:,} rows: no sheet in "
                      "tables.xlsx)")
        return f"{self.title}: {self.n_rows:,} rows, {where} (a listing, not shown on this page)."

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        return f"<p><em>{html.escape(str(self))}</em></p>"


def save_listing(df: pd.DataFrame, name: str, *, title: str,
                 output_dir: str | Path | None) -> ListingNote:
    """Write a listing (per visit, lesion, session) to CSV only and return a one-line note.

    Parameters
    ----------
    df : DataFrame
        Row-level data; the index is dropped unless it is named.
    name : str
        File stem (``"02_timepoints"``).
    title : str
        What the listing lists ("Per-visit response listing").
    output_dir : str or Path or None
        Report folder; empty or None writes nothing.

    Returns
    -------
    ListingNote
        Displayed as one line ("…: 1,876 rows, in tables.xlsx and tables/02_timepoints.csv").

    Notes
    -----
    The CSV keeps the values typed (numbers, ISO dates, ``True``/``False``) under readable
    headers; the workbook turns them into numbers with a number format, dates and real
    booleans. The sidecar ``<name>.table.json`` marks the file as a listing, so it stays out
    of tables.docx.
    """
    from sirtstats.disclosure import get_disclosure

    if get_disclosure().shareable:  # no patient-level listing leaves a shareable report (D40)
        return ListingNote(title=title, n_rows=len(df), file=f"{name}.csv", withheld=True)
    folder = _tables_folder(output_dir)
    out = df.reset_index() if any(n is not None for n in df.index.names) else df
    if folder is not None:
        written = out.copy()
        written.columns = [column_label(str(c)) for c in written.columns]
        written.to_csv(folder / f"{name}.csv", index=False, float_format="%.10g",
                       date_format="%Y-%m-%d", lineterminator="\n")
        _write_sidecar(folder / f"{name}.table.json", {"kind": "listing", "title": title})
    return ListingNote(title=title, n_rows=len(out), file=f"{name}.csv")
