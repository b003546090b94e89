"""Toxicity plots: AE grades by term (stacked bar or heatmap), lab trajectories after SIRT
(median and IQR), ALBI over time against the grade cut-offs.

Each function draws a frame computed by :mod:`sirtstats.toxicity` or
:mod:`sirtstats.toxicity.liver` and computes no statistic itself. All accept ``ax=None`` (or
``axes=None``) and return what they drew on.

CTCAE grades 1-5 have one ordinal colour each, light to black (samples of the perceptually
uniform, colour-blind-safe "magma" map; no red/green pair), the same in the bar chart and the
heatmap, where a cell is coloured by its grade (not by its count) so that rare grade 4-5 events
stand out. Legends sit outside the data area.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MultipleLocator

from sirtstats._checks import check_frame_argument as _require
from sirtstats.labels import value_label
from sirtstats.plotting import theme
from sirtstats.plotting._frames import MAX_PATIENT_LINES, sample_patients
from sirtstats.scores import ALBI_GRADE_CUTOFFS

__all__ = ["ALBI_MAX_PATIENTS", "plot_ae_grades", "plot_albi_change", "plot_lab_trajectories"]

#: Patients above which the ALBI figure draws the lines of a seeded random sample (the same
#: limit as the spider plot).
ALBI_MAX_PATIENTS = MAX_PATIENT_LINES
#: CTCAE grade colours (1 light -> 5 black): magma at 0.97, 0.78, 0.58, 0.36, 0.
GRADE_COLOURS = {1: "#fcf0b2", 2: "#fd9668", 3: "#d6456c", 4: "#7c2382", 5: "#000004"}
#: Grades whose colour is dark enough for white text.
_DARK_GRADES = (3, 4, 5)
#: Colour of an empty heatmap cell (no patient at that grade).
_EMPTY_CELL = "#f2f2f2"
_LINE_COLOUR = theme.PALETTE[0]  # Okabe-Ito blue

_ANALYTE_LABELS = {
    "bilirubin_total": "Total bilirubin",
    "albumin": "Albumin",
    "alt": "ALT",
    "ast": "AST",
    "alp": "Alkaline phosphatase",
    "ggt": "GGT",
    "inr": "INR",
    "platelets": "Platelets",
    "lymphocytes": "Lymphocytes",
    "neutrophils": "Neutrophils",
    "wbc": "White blood cells",
    "haemoglobin": "Haemoglobin",
    "creatinine": "Creatinine",
    "sodium": "Sodium",
}
_DAYS_PER_MONTH = 365.25 / 12
#: Size of one lab-trajectory panel (inches): three panels a row print at two-column width.
_LAB_PANEL_IN = (3.0, 2.5)


@theme.themed
def plot_ae_grades(
    df_counts: pd.DataFrame,
    ax=None,
    *,
    kind: str = "bar",
    by: str = "ae_term",
    title: str | None = None,
):
    """Patients by worst CTCAE grade for each term, as stacked bars (% of N) or a heatmap.

    The heatmap colours each cell by its CTCAE grade (empty cells light grey) and prints the
    number of patients in it: colour encodes severity, the text the count.

    Parameters
    ----------
    df_counts : DataFrame
        Output of :func:`sirtstats.toxicity.summarise_ae_grade_counts`: ``by`` (term),
        ``grade`` (1-5), ``n``, ``N`` and ``pct``; terms are drawn in frame order, first on
        top.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure sized to the number of terms when None.
    kind : {"bar", "heatmap"}
        Stacked horizontal bars of the percentage of patients by worst grade, or a term × grade
        heatmap coloured by grade and annotated with the counts.
    by : str
        Term column.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For missing columns or an invalid ``kind``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"ae_term": ["Fatigue", "Fatigue", "Hepatic failure"],
    ...                        "grade": [1, 2, 5], "n": [10, 3, 2], "N": 50,
    ...                        "pct": [20.0, 6.0, 4.0]})
    >>> ax = plot_ae_grades(counts, kind="heatmap")
    >>> [t.get_text() for t in ax.texts]
    ['10', '3', '0', '0', '0', '2']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    func = "plot_ae_grades"
    _require(df_counts, [by, "grade", "n", "N", "pct"], "df_counts", func)
    if kind not in ("bar", "heatmap"):
        raise ValueError(
            f"The 'kind' argument of {func} must be one of {{'bar', 'heatmap'}}. "
            f"Got {kind!r} instead."
        )
    terms = list(dict.fromkeys(df_counts[by]))
    grades = sorted(int(g) for g in df_counts["grade"].unique())
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 1.2 + 0.35 * max(len(terms), 1)))
    n_total = int(df_counts["N"].iloc[0]) if len(df_counts) else 0
    pct = df_counts.pivot_table(index=by, columns="grade", values="pct", aggfunc="sum")
    pct = pct.reindex(index=terms, columns=grades).fillna(0.0)
    if kind == "bar":
        y = np.arange(len(terms))
        left = np.zeros(len(terms))
        for g in grades:
            ax.barh(
                y,
                pct[g].to_numpy(),
                left=left,
                color=GRADE_COLOURS.get(g, "0.5"),
                edgecolor="white",
                label=f"Grade {g}",
            )
            left += pct[g].to_numpy()
        ax.set_yticks(y, [value_label(t) for t in terms])
        ax.invert_yaxis()
        ax.set_xlabel(f"Patients (% of N = {n_total}) by worst CTCAE grade")
        ax.set_xlim(0, max(100.0 if left.max() > 50 else left.max() * 1.15, 1.0))
        theme.legend_outside(ax, title="CTCAE grade")
    else:
        _draw_grade_heatmap(ax, df_counts, by, terms, grades, n_total)
    if title:
        ax.set_title(title)
    return ax


def _draw_grade_heatmap(ax, df_counts, by, terms, grades, n_total):
    """Term x grade cells coloured by grade (grey when empty), the count printed in each."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

    counts = df_counts.pivot_table(index=by, columns="grade", values="n", aggfunc="sum")
    counts = counts.reindex(index=terms, columns=grades).fillna(0).astype(int).to_numpy()
    rgba = np.empty((*counts.shape, 4))
    for j, g in enumerate(grades):
        for i in range(counts.shape[0]):
            colour = GRADE_COLOURS.get(g, "0.5") if counts[i, j] > 0 else _EMPTY_CELL
            rgba[i, j] = to_rgba(colour)
    ax.imshow(rgba, aspect="auto", interpolation="nearest", gid="grade_cells")
    ax.set_xticks(np.arange(len(grades)), [f"Grade {g}" for g in grades])
    ax.set_yticks(np.arange(len(terms)), [value_label(t) for t in terms])
    ax.set_xticks(np.arange(len(grades) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(terms) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.tick_params(which="major", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for (i, j), v in np.ndenumerate(counts):
        dark = v > 0 and grades[j] in _DARK_GRADES
        ax.text(j, i, str(v), ha="center", va="center", fontsize=plt.rcParams["xtick.labelsize"],
                color="white" if dark else ("black" if v > 0 else "0.6"),
                fontweight="bold" if v > 0 and grades[j] >= 4 else "normal")
    handles = [Patch(facecolor=GRADE_COLOURS.get(g, "0.5"), label=f"Grade {g}") for g in grades]
    theme.legend_outside(ax, handles=handles, labels=[h.get_label() for h in handles],
                         title=f"CTCAE grade\n(cell: patients, N = {n_total})")


@theme.themed
def plot_lab_trajectories(
    df_trajectories: pd.DataFrame,
    axes=None,
    *,
    analytes: Sequence[str] | None = None,
    x_unit: str = "months",
):
    """Median lab value over time from the first SIRT, with its interquartile range.

    Time bins without a median (too few patients) are skipped; the number of patients per bin
    is in the frame (save it as a table next to the figure).

    Parameters
    ----------
    df_trajectories : DataFrame
        Output of :func:`sirtstats.toxicity.summarise_lab_trajectories`: ``analyte``,
        ``target_day``, ``median``, ``q1``, ``q3``, ``n_patients``, ``unit``.
    axes : array-like of matplotlib.axes.Axes, optional
        One Axes per analyte; a grid (up to 3 columns) is created when None.
    analytes : sequence of str, optional
        Analytes to draw, in this order; default those of the frame.
    x_unit : {"months", "days"}
        Time axis unit.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The Axes drawn on (one per analyte), flattened.

    Raises
    ------
    ValueError
        For missing columns, an invalid ``x_unit`` or too few ``axes``.
    """
    func = "plot_lab_trajectories"
    _require(
        df_trajectories,
        ["analyte", "target_day", "median", "q1", "q3", "n_patients", "unit"],
        "df_trajectories",
        func,
    )
    if x_unit not in ("months", "days"):
        raise ValueError(
            f"The 'x_unit' argument of {func} must be one of {{'months', 'days'}}. "
            f"Got {x_unit!r} instead."
        )
    names = (
        list(analytes) if analytes is not None else list(dict.fromkeys(df_trajectories["analyte"]))
    )
    if axes is None:
        ncols = min(3, max(len(names), 1))
        nrows = int(np.ceil(max(len(names), 1) / ncols))
        fig, grid = plt.subplots(
            nrows,
            ncols,
            figsize=(_LAB_PANEL_IN[0] * ncols, _LAB_PANEL_IN[1] * nrows),
            squeeze=False,
            constrained_layout=True,
        )
        axes = grid.ravel()
        for extra in axes[len(names) :]:
            extra.set_axis_off()  # an empty grid cell: it holds the legend (below)
    axes = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
    if len(axes) < len(names):
        raise ValueError(
            f"The 'axes' argument of {func} must hold one Axes per analyte ({len(names)}). "
            f"Got {len(axes)} instead."
        )
    scale = _DAYS_PER_MONTH if x_unit == "months" else 1.0
    for ax, analyte in zip(axes, names, strict=False):
        d = df_trajectories[df_trajectories["analyte"] == analyte].dropna(subset=["median"])
        x = d["target_day"].to_numpy(float) / scale
        ax.fill_between(
            x,
            d["q1"].to_numpy(float),
            d["q3"].to_numpy(float),
            alpha=0.25,
            color=_LINE_COLOUR,
            linewidth=0,
            label="Interquartile range",
        )
        ax.plot(x, d["median"].to_numpy(float), marker="o", color=_LINE_COLOUR, label="Median")
        ax.axvline(0, color="0.6", linestyle=":", linewidth=1)
        unit = d["unit"].iloc[0] if len(d) else ""
        unit = str(unit).replace("10^9", "10⁹").replace("10^12", "10¹²")
        ax.set_title(_ANALYTE_LABELS.get(analyte, analyte))
        ax.set_ylabel(f"{_ANALYTE_LABELS.get(analyte, analyte)} ({unit})")
        ax.set_xlabel(f"Time from first SIRT ({x_unit})")
        if x_unit == "months":
            ax.xaxis.set_major_locator(MultipleLocator(3))  # 0, 3, 6, 9, 12 months
    if len(names):
        _lab_legend(axes, len(names))
    return axes[: len(names)]


def _lab_legend(axes, n_drawn: int) -> None:
    """One legend for the grid, outside the data area of every panel: in the first empty grid
    cell when there is one (the figure keeps its width), else right of the first row."""
    spare = [a for a in axes[n_drawn:] if not a.axison]
    if spare:
        handles, labels = axes[0].get_legend_handles_labels()
        spare[0].legend(handles, labels, loc="center left", frameon=False)
        return
    first_row = [a for a in axes[:n_drawn]
                 if a.get_subplotspec() is None or a.get_subplotspec().rowspan.start == 0]
    theme.legend_outside(first_row[-1])


#: Patients above which the per-patient ALBI lines are rasterised in vector output.
_RASTER_ABOVE = 200


@theme.themed
def plot_albi_change(
    df_summary: pd.DataFrame,
    ax=None,
    *,
    df_timepoints: pd.DataFrame | None = None,
    title: str | None = None,
    max_patients: int | None = ALBI_MAX_PATIENTS,
    seed: int = 0,
):
    """ALBI score over time (median and IQR per timepoint) against the ALBI grade cut-offs,
    with the share of patients whose ALBI grade worsened.

    Parameters
    ----------
    df_summary : DataFrame
        Output of :func:`sirtstats.toxicity.summarise_liver_function_change` without
        ``groupby``: ``timepoint``, ``target_day``, ``albi_median``, ``albi_q1``, ``albi_q3``,
        ``n_albi``, ``n_albi_grade_worse``, ``n_albi_paired``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    df_timepoints : DataFrame, optional
        Output of :func:`sirtstats.toxicity.derive_liver_function_timepoints`
        (``patient_id``, ``target_day``, ``albi_score``): individual trajectories drawn as
        thin grey lines behind the summary.
    title : str, optional
        Axes title.
    max_patients : int or None, default :data:`ALBI_MAX_PATIENTS`
        Draw the lines of a random sample of this many patients when there are more (the
        legend says so; thousands of lines make a solid grey block); None draws all. The
        medians and IQR always use every patient.
    seed : int, default 0
        Seed of the sample (same figure on every run).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For missing columns.
    """
    func = "plot_albi_change"
    _require(
        df_summary,
        [
            "timepoint",
            "target_day",
            "albi_median",
            "albi_q1",
            "albi_q3",
            "n_albi",
            "n_albi_grade_worse",
            "n_albi_paired",
        ],
        "df_summary",
        func,
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(5.8, 3.8))  # with its count rows and legend: 2 columns
    if df_timepoints is not None:
        _require(df_timepoints, ["patient_id", "target_day", "albi_score"], "df_timepoints", func)
        lines, n_lines, sampled = sample_patients(df_timepoints.dropna(subset=["albi_score"]),
                                                  max_patients, seed)
        _albi_patient_lines(ax, lines)
    s = df_summary.dropna(subset=["albi_median"])
    x = s["target_day"].to_numpy(float) / _DAYS_PER_MONTH
    med = s["albi_median"].to_numpy(float)
    yerr = np.vstack([med - s["albi_q1"].to_numpy(float), s["albi_q3"].to_numpy(float) - med])
    ax.errorbar(
        x, med, yerr=yerr, marker="o", color=_LINE_COLOUR, capsize=4, zorder=3,
        label="Median (IQR)"
    )
    low, high = ALBI_GRADE_CUTOFFS
    _albi_cutoffs(ax, low, high)
    y0, y1 = ax.get_ylim()
    ax.set_ylim(min(y0, low - 0.4), max(y1, high + 0.4))
    ax.set_xticks(x, [_sentence(str(t).replace("_", " ")) for t in s["timepoint"]])
    _albi_count_rows(ax, x, s)
    ax.set_xlabel("Time from first SIRT", labelpad=2)
    ax.set_ylabel("ALBI score (higher = worse)")
    if df_timepoints is not None:
        from matplotlib.lines import Line2D

        handles, labels = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="0.8", linewidth=0.6))
        labels.append(f"Individual patients\n(random {max_patients:,} of {n_lines:,}, seed "
                      f"{seed})" if sampled else "Individual patients")
        theme.legend_outside(ax, handles=handles, labels=labels, pad_pt=_ALBI_LEGEND_PAD_PT)
    else:
        theme.legend_outside(ax, pad_pt=_ALBI_LEGEND_PAD_PT)
    if title:
        ax.set_title(title)
    return ax


def _albi_patient_lines(ax, scored: pd.DataFrame) -> None:
    """Each patient's ALBI scores over time as a thin grey line, in one artist.

    One :class:`~matplotlib.collections.LineCollection` instead of a ``Line2D`` per patient
    (20,000 patients: one artist, not 20,000): same paths, colour, width, caps and joins, and
    the same data limits (a patient with one score adds his point, drawing nothing).
    """
    from matplotlib.collections import LineCollection

    d = scored.sort_values("patient_id", kind="mergesort")  # groupby("patient_id") order
    pid = d["patient_id"].to_numpy()
    xy = np.column_stack([d["target_day"].to_numpy(float) / _DAYS_PER_MONTH,
                          d["albi_score"].to_numpy(float)])
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]]) if len(pid) else np.array([], int)
    lines = LineCollection(
        np.split(xy, starts[1:]) if len(pid) else [],
        colors="0.8",
        linewidths=0.6,
        zorder=1,
        capstyle=plt.rcParams["lines.solid_capstyle"],
        joinstyle=plt.rcParams["lines.solid_joinstyle"],
        rasterized=len(starts) > _RASTER_ABOVE,  # vector output stays small
    )
    ax.add_collection(lines, autolim=True)


#: Gap between the ALBI axes and their legend (points), clear of the cut-off labels.
_ALBI_LEGEND_PAD_PT = 60
#: Vertical layout of the count rows under the ALBI axes (points below the axes bottom).
_ALBI_ROWS_PT = (44, 57)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _albi_cutoffs(ax, low: float, high: float) -> None:
    """Dashed grade cut-offs, labelled right of the axes with a true minus sign (gid
    ``albi_cutoff_label``), e.g. "−2.60" and the grades it separates ("grade 1 | 2")."""
    for cut, grades in ((low, "1 | 2"), (high, "2 | 3")):
        ax.axhline(cut, color="0.4", linestyle="--", linewidth=0.8, zorder=2)
        ax.annotate(f"{cut:.2f}".replace("-", "\u2212") + f"\ngrade {grades}",
                    xy=(1.0, cut), xycoords=("axes fraction", "data"), xytext=(3, 0),
                    textcoords="offset points", va="center", ha="left", color="0.3",
                    fontsize=0.9 * plt.rcParams["xtick.labelsize"], annotation_clip=False,
                    gid="albi_cutoff_label")


def _albi_count_rows(ax, x, s) -> None:
    """Two rows under the x axis, one count per timepoint (outside the data area, where the
    individual lines cannot cross them): patients with an ALBI score, and those whose ALBI
    grade is worse than at baseline (of those with both; "—" at baseline itself)."""
    size = 0.9 * plt.rcParams["xtick.labelsize"]
    common = {"textcoords": "offset points", "va": "center", "fontsize": size,
              "color": "0.2", "annotation_clip": False, "gid": "albi_count"}
    titles = ("Patients with ALBI", "Grade worse than baseline")
    for dy, text in zip(_ALBI_ROWS_PT, titles, strict=True):
        ax.annotate(text, xy=(0, 0), xycoords="axes fraction", xytext=(-10, -dy), ha="right",
                    **{**common, "gid": "albi_count_title"})
    for xi, row in zip(x, s.itertuples(index=False), strict=True):
        worse = (f"{int(row.n_albi_grade_worse)}/{int(row.n_albi_paired)}"
                 if row.n_albi_paired and str(row.timepoint) != "baseline" else "—")
        for dy, text in zip(_ALBI_ROWS_PT, (f"{int(row.n_albi)}", worse), strict=True):
            ax.annotate(text, xy=(xi, 0), xycoords=("data", "axes fraction"), xytext=(0, -dy),
                        ha="center", **common)
