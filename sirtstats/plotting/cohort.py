"""Cohort plots: CONSORT-style flow diagram drawn from the flow table of select_cohort.

Follows the CONSORT 2010 flow-diagram layout (Schulz et al., BMJ 2010;340:c332): main boxes
with the patients remaining after each step, side boxes with the patients excluded and why.
Draws only what :func:`sirtstats.cohort.select_cohort` computed.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd

from sirtstats.plotting import theme

__all__ = ["plot_flow"]

_FLOW_COLUMNS = ("step", "criterion", "n_in", "n_excluded", "n_remaining", "reason")
_MAIN_X = 0.30
_SIDE_X = 0.78
_WRAP = 34
#: Box fills: pale tints of the theme's blue (cohort), blue (included) and grey (excluded);
#: no pink/green pair.
_FACE_MAIN = "#EAF2F8"
_FACE_INCLUDED = "#CCE3F0"
_FACE_EXCLUDED = "#F2F2F2"


def _sentence(text) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


def _box(ax, x, y, text, *, face):
    return ax.text(
        x, y, text, ha="center", va="center", transform=ax.transData,
        bbox={"boxstyle": "round,pad=0.5", "facecolor": face, "edgecolor": "0.3"},
    )


@theme.themed
def plot_flow(flow: pd.DataFrame, ax=None, *, title: str | None = None):
    """Draw a CONSORT-style flow diagram.

    Parameters
    ----------
    flow : DataFrame
        ``CohortSelection.flow``: ``step`` (int), ``criterion`` (str), ``n_in``,
        ``n_excluded``, ``n_remaining`` (int), ``reason`` (str); step 0 is the registry.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure sized to the number of steps is created when None.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with axis lines hidden.

    Raises
    ------
    ValueError
        If ``flow`` lacks a flow-table column or has no row.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> flow = pd.DataFrame({"step": [0, 1], "criterion": ["patients in registry",
    ...     "at least one SIRT session"], "n_in": [10, 10], "n_excluded": [0, 2],
    ...     "n_remaining": [10, 8], "reason": ["", "no SIRT session recorded"]})
    >>> ax = plot_flow(flow)
    >>> ax.texts[0].get_text()
    'Patients in registry\\nn = 10'
    """
    missing = [c for c in _FLOW_COLUMNS if c not in flow.columns]
    if missing or flow.empty:
        raise ValueError(
            "The 'flow' argument of plot_flow must be the flow table of select_cohort (columns "
            f"{list(_FLOW_COLUMNS)}, at least one row). Got missing columns {missing} and "
            f"{len(flow)} rows instead."
        )
    rows = flow.reset_index(drop=True)
    n_levels = len(rows)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 1.0 + 1.15 * n_levels))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.5, n_levels - 0.5)
    ax.invert_yaxis()
    ax.set_axis_off()

    first = rows.iloc[0]
    label = _sentence(first["criterion"])
    prev = _box(ax, _MAIN_X, 0, f"{label}\nn = {int(first['n_remaining'])}", face=_FACE_MAIN)
    for i in range(1, n_levels):
        row = rows.iloc[i]
        is_last = i == n_levels - 1
        crit = textwrap.fill(_sentence(row["criterion"]), _WRAP)
        head = "Included" if is_last else "Remaining"
        main = _box(
            ax, _MAIN_X, i, f"{crit}\n{head}: n = {int(row['n_remaining'])}",
            face=_FACE_INCLUDED if is_last else _FACE_MAIN,
        )
        ax.annotate("", xy=(0.5, 1.0), xycoords=main, xytext=(0.5, 0.0), textcoords=prev,
                    arrowprops={"arrowstyle": "-|>", "color": "0.3"})
        side_y = i - 0.5
        reason = textwrap.fill(_sentence(row["reason"]), _WRAP)
        side = _box(ax, _SIDE_X, side_y, f"Excluded: n = {int(row['n_excluded'])}\n{reason}",
                    face=_FACE_EXCLUDED)
        ax.annotate("", xy=(0.0, 0.5), xycoords=side, xytext=(_MAIN_X, side_y),
                    textcoords="data", arrowprops={"arrowstyle": "-|>", "color": "0.3"})
        prev = main
    if title:
        ax.set_title(title)
    return ax
