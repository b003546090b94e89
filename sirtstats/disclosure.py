"""Disclosure control of report outputs: internal (data review) or shareable reports.

Two modes (decision D40, ``docs/rules/decisions.md``):

``internal`` (default)
    Everything is shown: patient-level listings, pseudonymous ids in listings and swimmer
    lanes, every count. For the registry team's data review.
``shareable``
    For readers outside the registry team: no patient-level listing is written, no
    pseudonymous id appears (``*_id`` columns are dropped from tables, swimmer lanes are
    numbered), and every count ``0 < n < threshold`` (default 5) is suppressed in every table
    and figure annotation, with the percentages derived from it, plus complementary
    suppression so that a row or column total cannot give a suppressed cell back (D41).

The mode is process-wide: a notebook calls :func:`set_disclosure` once, after its parameters
cell, and :mod:`sirtstats.formatting`, :mod:`sirtstats.outputs` and the plotting functions
read :func:`get_disclosure`.

Suppression (D41) follows the primary / secondary (complementary) cell suppression of the
ONS *Statistical disclosure control for tables produced from administrative data sources*
(2014, section 5) and Hundepool et al., *Statistical Disclosure Control* (Wiley 2012,
chapter 4.2; the Eurostat-funded ESSnet handbook): a cell is *primary* suppressed when
``0 < n < threshold``; then, as long as a row or a column of the table holds exactly one
suppressed cell, the next-smallest unsuppressed cell of that line is suppressed too (a
positive one when there is one), so the line total minus the shown cells never equals a
suppressed cell. Zeros are shown (an empty cell discloses nothing about a person).
Suppressed cells read :data:`SUPPRESSED` (``[c]``, "confidential", the ONS marker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_THRESHOLD",
    "MODES",
    "SUPPRESSED",
    "DisclosurePolicy",
    "display_labels",
    "get_disclosure",
    "is_count_column",
    "protect_display",
    "protect_figure",
    "protect_frame",
    "protect_metrics",
    "set_disclosure",
    "suppression_mask",
]

#: Disclosure modes of a report.
MODES: tuple[str, ...] = ("internal", "shareable")

#: Smallest count shown in a shareable report (ONS and most registries: 5; decision D41).
DEFAULT_THRESHOLD: int = 5

#: What a suppressed cell shows.
SUPPRESSED: str = "[c]"

#: Column names (raw or label) holding counts of patients, events or lesions.
COUNT_NAME = re.compile(r"^(?:n|N|count|events|deaths|patients)(?:[_ ].*)?$|_n$|^n[A-Z]"
                        r"|^(?:Number|Patients|Events|Deaths|Censored|At risk|Excluded|"
                        r"Remaining|Entering|Lesions)\b|\((?:N|n) [=<] \d+\)", re.IGNORECASE)

#: "(N = 3)" in a column header: the size of the column's group.
GROUP_SIZE = re.compile(r"\((?:N|n) = (\d+)\)")

#: A display cell "n (x %)" or "n (x)": the count and the percentage derived from it.
N_PCT_CELL = re.compile(r"^\s*(\d+)\s*\(\s*\d+(?:[.,]\d+)?\s*%?\s*\)\s*$")

#: A display cell "n/N ..." (responders over evaluable patients).
N_OVER_CELL = re.compile(r"^\s*(\d+)\s*/\s*\d+\b")

#: "n = 3", "N = 3", "events = 3" inside a label, title or figure text.
N_EQUALS = re.compile(r"\b(n|N|events|patients|deaths) = (\d+)\b")

#: "3 (12.5 %)" inside a longer figure text.
N_PCT_IN_TEXT = re.compile(r"\b(\d+) \(\d+(?:[.,]\d+)? ?%\)")


@dataclass(frozen=True)
class DisclosurePolicy:
    """Disclosure mode and small-cell threshold of the outputs being written.

    Parameters
    ----------
    mode : {"internal", "shareable"}
        Report mode (D40).
    threshold : int
        Counts ``0 < n < threshold`` are suppressed in shareable mode (D41).
    """

    mode: str = "internal"
    threshold: int = DEFAULT_THRESHOLD

    @property
    def shareable(self) -> bool:
        """Whether listings, ids and small cells are withheld."""
        return self.mode == "shareable"

    def is_small(self, n) -> bool:
        """Whether count ``n`` must be suppressed (shareable mode, ``0 < n < threshold``)."""
        return self.shareable and 0 < float(n) < self.threshold


_POLICY = [DisclosurePolicy()]


def set_disclosure(mode: str = "internal", small_cell_threshold: int = DEFAULT_THRESHOLD
                   ) -> DisclosurePolicy:
    """Set the disclosure policy of everything this process writes or displays from now on.

    Parameters
    ----------
    mode : {"internal", "shareable"}, default "internal"
        Report mode (D40).
    small_cell_threshold : int, default 5
        Smallest count shown in shareable mode (>= 1).

    Returns
    -------
    DisclosurePolicy
        The policy now in force.
    """
    if mode not in MODES:
        raise ValueError(f"The 'mode' argument of set_disclosure must be one of "
                         f"{{{', '.join(repr(m) for m in MODES)}}}. Got {mode!r} instead.")
    if isinstance(small_cell_threshold, bool) or not isinstance(small_cell_threshold, int) \
            or small_cell_threshold < 1:
        raise ValueError("The 'small_cell_threshold' argument of set_disclosure must be an "
                         f"int >= 1. Got {small_cell_threshold!r} instead.")
    _POLICY[0] = DisclosurePolicy(mode, small_cell_threshold)
    return _POLICY[0]


def get_disclosure() -> DisclosurePolicy:
    """The disclosure policy in force (:func:`set_disclosure`; default internal)."""
    return _POLICY[0]


def display_labels(values: pd.Series, noun: str,
                   policy: DisclosurePolicy | None = None) -> pd.Series:
    """Labels of units (e.g. centres) for a table or figure: as recorded, or numbered.

    In a shareable report the recorded codes of the units (``centre_id`` values, often a
    hospital's name or code) are replaced by ``"<noun> 1"``, ``"<noun> 2"``, ... numbered in
    the sorted order of the codes (decision D40), as funnel plots of institutions are
    published; internal reports keep the codes.

    Parameters
    ----------
    values : Series
        Unit codes, one per row (NA stays NA).
    noun : str
        Word of the numbered label, e.g. ``"Centre"``.
    policy : DisclosurePolicy, optional
        Default: the policy in force (:func:`get_disclosure`).

    Returns
    -------
    Series
        Same index as ``values``; object dtype.

    Examples
    --------
    >>> s = pd.Series(["LYON", "NICE", "LYON"])
    >>> display_labels(s, "Centre", DisclosurePolicy("shareable")).tolist()
    ['Centre 1', 'Centre 2', 'Centre 1']
    >>> display_labels(s, "Centre", DisclosurePolicy("internal")).tolist()
    ['LYON', 'NICE', 'LYON']
    """
    policy = get_disclosure() if policy is None else policy
    if not policy.shareable:
        return values.astype(object)
    codes = sorted(values.dropna().astype(str).unique())
    numbered = {code: f"{noun} {k}" for k, code in enumerate(codes, start=1)}
    return values.astype(object).map(lambda v: numbered.get(str(v)) if pd.notna(v) else v)


# ------------------------------------------------------------------------------ suppression


def _complement_rows(values: np.ndarray, cells: np.ndarray, sup: np.ndarray) -> bool:
    """Suppress the next-smallest cell of every row holding exactly one suppressed cell."""
    changed = False
    for i in range(values.shape[0]):
        if sup[i].sum() != 1 or cells[i].sum() < 2:
            continue
        free = cells[i] & ~sup[i]
        if not free.any():
            continue
        pool = free & (values[i] > 0) if (free & (values[i] > 0)).any() else free
        j = np.flatnonzero(pool)[np.argmin(values[i][pool])]
        sup[i, j] = True
        changed = True
    return changed


def _complement_columns(values, cells, sup, groups) -> bool:
    """:func:`_complement_rows` on the columns, within each group of rows of each labelling."""
    changed = _complement_rows(values.T, cells.T, sup.T)
    for labels in groups:
        labels = np.asarray(labels)
        for g in pd.unique(labels):
            rows = np.flatnonzero(labels == g)
            if len(rows) < 2:
                continue
            sub = sup[rows].T.copy()
            if _complement_rows(values[rows].T, cells[rows].T, sub):
                sup[rows] = sub.T
                changed = True
    return changed


def suppression_mask(counts: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD,
                     groups=()) -> pd.DataFrame:
    """Primary and complementary suppression of a table of counts (D41).

    Parameters
    ----------
    counts : DataFrame
        Counts; NaN marks a cell that is not a count (left alone).
    threshold : int, default 5
        Counts ``0 < n < threshold`` are primary suppressed.
    groups : sequence of array-like, optional
        Labellings of the rows (one label per row each): within every group of every
        labelling, each column is a line too, for tables that stack sub-tables (the levels of
        one variable under its heading, one criterion's rows) whose own totals are known.

    Returns
    -------
    DataFrame of bool
        True where the cell is suppressed (primary or complementary).

    Examples
    --------
    >>> t = pd.DataFrame({"a": [3, 10], "b": [12, 20], "total": [15, 30]})
    >>> suppression_mask(t).to_numpy().tolist()
    [[True, True, False], [True, True, False]]
    """
    values = counts.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    cells = ~np.isnan(values)
    sup = cells & (values > 0) & (values < threshold)
    for _ in range(values.size + 1):
        changed = _complement_rows(values, cells, sup)
        changed |= _complement_columns(values, cells, sup, groups)
        if not changed:
            break
    return pd.DataFrame(sup, index=counts.index, columns=counts.columns)


def is_count_column(name: str) -> bool:
    """Whether a column name (raw or header label) denotes counts (``n``, ``n_events`` ...)."""
    return bool(COUNT_NAME.search(str(name)))


def _is_id_column(name) -> bool:
    return str(name).endswith("_id") or str(name) in ("patient", "session", "subject")


def _pct_partners(columns, count_col: str) -> list:
    """Percentage columns derived from ``count_col`` (``n_x`` -> ``pct_x``, ``x_pct``)."""
    stem = re.sub(r"^n_|_n$", "", str(count_col))
    return [c for c in columns if "pct" in str(c) and stem and stem in str(c)]


def protect_frame(df: pd.DataFrame, policy: DisclosurePolicy | None = None) -> pd.DataFrame:
    """A result frame as a shareable report may show it (no change in internal mode).

    Parameters
    ----------
    df : DataFrame
        Result frame with numeric count columns (:func:`is_count_column`).
    policy : DisclosurePolicy, optional
        Default :func:`get_disclosure`.

    Returns
    -------
    DataFrame
        ``*_id`` columns dropped; suppressed counts and the ``pct`` columns derived from them
        (``n_x`` -> ``pct_x`` / ``x_pct``) read :data:`SUPPRESSED` (D41).
    """
    policy = policy or get_disclosure()
    if not policy.shareable:
        return df
    out = df.drop(columns=[c for c in df.columns if _is_id_column(c)])
    count_cols = [c for c in out.columns if is_count_column(c)
                  and pd.api.types.is_numeric_dtype(out[c])
                  and not pd.api.types.is_bool_dtype(out[c])]
    if not count_cols:
        return out
    mask = suppression_mask(out[count_cols], policy.threshold)
    out = out.astype(dict.fromkeys(out.columns, object))
    for c in count_cols:
        rows = mask[c].to_numpy()
        out.loc[rows, c] = SUPPRESSED
        for p in _pct_partners(out.columns, c):
            out.loc[rows, p] = SUPPRESSED
    return out


# ------------------------------------------------------------------------- display tables


def _small_n_text(text: str, policy: DisclosurePolicy) -> str:
    """``n = 3`` -> ``n < 5`` in a label, title or note."""
    return N_EQUALS.sub(lambda m: (f"{m.group(1)} < {policy.threshold}"
                                   if policy.is_small(m.group(2)) else m.group(0)), text)


def _display_counts(data: pd.DataFrame, labels) -> pd.DataFrame:
    """The count behind each display cell (NaN where the cell is not a count)."""
    counts = pd.DataFrame(np.nan, index=data.index, columns=data.columns)
    for c in data.columns:
        count_col = is_count_column(c) or is_count_column(labels.get(c, ""))
        for i, text in data[c].items():
            m = N_PCT_CELL.match(text) or N_OVER_CELL.match(text)
            if m is None and count_col and re.fullmatch(r"\s*\d+\s*", text):
                m = re.match(r"\s*(\d+)", text)
            if m is not None:
                counts.loc[i, c] = float(m.group(1))
    return counts


def _is_pct(column, labels) -> bool:
    return "pct" in str(column) or "%" in str(labels.get(column, column))


def _row_groups(data: pd.DataFrame, counts: pd.DataFrame, indent, labels) -> list:
    """Labellings of the rows of a display table whose column sums are known (D41).

    Blocks of indented rows under their heading row; rows sharing the values of the label
    columns before the last one (one criterion's rows); rows sharing the last label column
    (the same category across groups).
    """
    groups = []
    if indent is not None and len(indent) == len(data) and any(indent):
        groups.append(np.cumsum(~np.asarray(indent, dtype=bool)))
    numeric = data.apply(lambda col: col.str.match(r"\s*[-+<>]?\d").mean() > 0.5)
    keys = [c for c in data.columns if counts[c].isna().all() and data[c].nunique() > 1
            and not numeric[c] and not _is_pct(c, labels)]
    if len(keys) >= 2:
        groups.append(data[keys[:-1]].agg("\x1f".join, axis=1).to_numpy())
        groups.append(data[keys[-1]].to_numpy())
    return groups


def _small_group_columns(data: pd.DataFrame, labels, policy) -> list:
    """Columns whose header says ``(N = k)`` with ``0 < k < threshold``: every cell goes."""
    out = []
    for c in data.columns:
        m = GROUP_SIZE.search(str(labels.get(c, c)))
        if m and policy.is_small(m.group(1)):
            out.append(c)
    return out


def protect_display(data: pd.DataFrame, labels=None, policy: DisclosurePolicy | None = None,
                    indent=None) -> tuple[pd.DataFrame, dict, int]:
    """Display text of a table as a shareable report may show it (unchanged if internal).

    Parameters
    ----------
    data : DataFrame
        Display text (str cells), raw column names.
    labels : mapping, optional
        Column -> header label (used to recognise count columns and rewritten for ``N = 3``).
    policy : DisclosurePolicy, optional
        Default :func:`get_disclosure`.
    indent : sequence of bool, optional
        Rows indented under a heading row (the levels of one variable): each block is also a
        line of the complementary suppression.

    Returns
    -------
    data : DataFrame
        ``*_id`` columns dropped; every cell of a column whose group has ``N < threshold``
        suppressed (a median of 2 patients discloses them); counts ``0 < n < threshold``
        (bare counts in count columns, ``n (x %)``, ``n/N``) and their complementary cells
        read :data:`SUPPRESSED`, and so does every percentage cell (a column whose name says
        ``pct`` or ``%``) of a row that lost a count; ``N = 3`` in a cell reads ``N < 5``.
    labels : dict
        Labels with ``N = 3`` rewritten.
    n_suppressed : int
        Cells suppressed.
    """
    policy = policy or get_disclosure()
    labels = dict(labels or {})
    if not policy.shareable:
        return data, labels, 0
    data = data.drop(columns=[c for c in data.columns if _is_id_column(c)])
    counts = _display_counts(data, labels)
    mask = suppression_mask(counts, policy.threshold, _row_groups(data, counts, indent, labels))
    for c in _small_group_columns(data, labels, policy):
        mask[c] |= ~data[c].str.strip().isin(["", "—", "-"])
    lost = mask.any(axis=1)
    pct_cols = [c for c in data.columns if _is_pct(c, labels)]
    for c in pct_cols:
        mask[c] |= lost & (data[c].str.strip() != "")
    out = data.mask(mask, SUPPRESSED).map(lambda t: _small_n_text(t, policy))
    labels = {k: _small_n_text(str(v), policy) for k, v in labels.items()}
    for c in data.columns:  # headers such as "HCC (N = 3)"
        relabelled = _small_n_text(str(c), policy)
        if relabelled != str(c) and c not in labels:
            labels[c] = relabelled
    return out, labels, int(mask.to_numpy().sum())


# --------------------------------------------------------------------------------- figures


def _figure_text(text: str, policy: DisclosurePolicy) -> str:
    stripped = text.strip()
    if re.fullmatch(r"\d+", stripped) and policy.is_small(stripped):
        return f"<{policy.threshold}"
    m = N_PCT_CELL.match(text)
    if m and policy.is_small(m.group(1)):
        return f"<{policy.threshold}"
    text = N_PCT_IN_TEXT.sub(lambda m: (f"<{policy.threshold}" if policy.is_small(m.group(1))
                                        else m.group(0)), text)
    return _small_n_text(text, policy)


def protect_figure(fig, policy: DisclosurePolicy | None = None) -> int:
    """Suppress small counts in a figure's annotations (texts other than tick labels).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure, changed in place (numbers at risk, flow-diagram boxes, legend entries
        ``HCC (N = 3)``, heat-map cell labels, titles ``(n = 3, events = 2)``).
    policy : DisclosurePolicy, optional
        Default :func:`get_disclosure`.

    Returns
    -------
    int
        Texts changed. Tick labels (axis scales) are left alone; bar heights and point
        positions are not annotations and are not changed (D41).
    """
    policy = policy or get_disclosure()
    if not policy.shareable:
        return 0
    from matplotlib.text import Text

    ticks = set()
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            ticks |= {id(t) for t in axis.get_ticklabels(which="both")}
            ticks |= {id(t.label1) for t in axis.get_major_ticks() + axis.get_minor_ticks()}
            ticks |= {id(t.label2) for t in axis.get_major_ticks() + axis.get_minor_ticks()}
    changed = 0
    for text in fig.findobj(Text):
        if id(text) in ticks:
            continue
        old = text.get_text()
        new = _figure_text(old, policy)
        if new != old:
            text.set_text(new)
            changed += 1
    return changed


def protect_metrics(metrics, policy: DisclosurePolicy | None = None, *,
                    all_counts: bool = False):
    """Key numbers with small counts (keys ``n_*`` / ``*_n_*``) set to None in shareable mode.

    Parameters
    ----------
    metrics : dict
        Nested key numbers (:func:`sirtstats.outputs.save_metrics`).
    policy : DisclosurePolicy, optional
        Default :func:`get_disclosure`.
    all_counts : bool, default False
        Treat every integer as a count, whatever its key (the report's activity summary).

    Returns
    -------
    dict
        A copy; under a count key, every count ``0 < n < threshold`` (also inside nested
        dicts, e.g. ``n_by_diagnosis``) becomes None.
    """
    policy = policy or get_disclosure()
    if not policy.shareable:
        return metrics

    def walk(value, counting):
        if isinstance(value, dict):
            out = {k: walk(v, counting or bool(COUNT_KEY.search(str(k))))
                   for k, v in value.items()}
            return _drop_derived_percentages(value, out)
        if counting and isinstance(value, int | np.integer) and not isinstance(value, bool) \
                and policy.is_small(value):
            return None
        return value

    return walk(metrics, all_counts)


#: A key number holding a count (``n_included``, ``mortality_30d_n_deaths``).
COUNT_KEY = re.compile(r"(?:^|_)n(?:_|$)")


def _drop_derived_percentages(before: dict, after: dict) -> dict:
    """Null the percentages of a suppressed count (``n_x``: ``pct_x``; ``p_n_x``: ``p_*pct*``)."""
    for key, value in before.items():
        if value is None or after.get(key) is not None or isinstance(value, dict):
            continue
        m = re.match(r"^(.*?)(?:^|_)n_(.+)$", str(key))
        if m is None:
            continue
        prefix, stem = m.group(1), m.group(2)
        for other in after:
            o = str(other)
            if o == f"pct_{stem}" or (prefix and o.startswith(prefix) and "pct" in o):
                after[other] = None
    return after
