"""Metabolic response figures: waterfall of the best SULpeak change (PERCIST 1.0).

Draws only what :func:`sirtstats.metabolic.derive_best_sul_change` computed. The reference
lines are the PERCIST 1.0 relative thresholds (−30 % PMR, +30 % PMD; Wahl et al., J Nucl Med
2009;50 Suppl 1:122S-150S); the absolute 0.8 SUL-unit condition is stated in the footnote,
since a bar beyond a line is not a PMR/PMD by itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from sirtstats._checks import check_frame_argument as _require
from sirtstats.metabolic._rules import PERCIST_ABS_SUL, PERCIST_REL
from sirtstats.plotting import theme
from sirtstats.plotting.response import _draw_reference_lines

__all__ = ["METABOLIC_COLORS", "plot_metabolic_waterfall"]

#: Colour of each PERCIST category: the theme's CR/PR/SD/PD/NE colours (blues, grey,
#: vermillion; no red/green pair).
METABOLIC_COLORS: dict[str, str] = {
    "CMR": theme.RESPONSE_COLOURS["CR"], "PMR": theme.RESPONSE_COLOURS["PR"],
    "SMD": theme.RESPONSE_COLOURS["SD"], "PMD": theme.RESPONSE_COLOURS["PD"],
    "NE": theme.RESPONSE_COLOURS["NE"], "MISSING": theme.RESPONSE_COLOURS["MISSING"]}
_LABELS = {"CMR": "CMR", "PMR": "PMR", "SMD": "SMD", "PMD": "PMD", "NE": "NE",
           "MISSING": "No evaluation"}
_REL_PCT = float(100 * PERCIST_REL)
#: Gap between the axes and the legend, clear of the reference-line labels.
_LEGEND_PAD_PT = 80


def _reference_lines(ax):
    _draw_reference_lines(ax, ((_REL_PCT, "PMD"), (-_REL_PCT, "PMR")))


@theme.themed
def plot_metabolic_waterfall(
    df_best: pd.DataFrame,
    ax=None,
    *,
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
    footnote: str | None = None,
):
    """Waterfall of each patient's best % change of SULpeak, coloured by PERCIST category.

    Parameters
    ----------
    df_best : DataFrame
        Output of :func:`sirtstats.metabolic.derive_best_sul_change` (``patient_id``,
        ``best_sul_change_pct`` in %, negative = decline; ``bmr``). Patients without a value
        are not drawn; their number is written under the axis.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when None.
    colors : mapping, optional
        PERCIST code -> colour (default :data:`METABOLIC_COLORS`).
    title : str, optional
        Title; default "Best SULpeak change, PERCIST 1.0 (n = N)".
    footnote : str, optional
        Text under the plot (reference region, confirmation), before the threshold note.

    Returns
    -------
    matplotlib.axes.Axes

    References
    ----------
    Wahl et al., J Nucl Med 2009;50 Suppl 1:122S-150S, section "PERCIST 1.0".

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> d = pd.DataFrame({"patient_id": ["P1", "P2"], "best_sul_change_pct": [-45.0, 35.0],
    ...                   "bmr": ["PMR", "PMD"]})
    >>> ax = plot_metabolic_waterfall(d)
    >>> ax.get_title()
    'Best SULpeak change, PERCIST 1.0 (n = 2)'
    >>> plt.close(ax.figure)
    """
    _require(df_best, ["patient_id", "best_sul_change_pct", "bmr"], "df_best",
             "plot_metabolic_waterfall")
    colors = {**METABOLIC_COLORS, **(colors or {})}
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6))
    d = df_best.loc[df_best["best_sul_change_pct"].notna()].sort_values(
        ["best_sul_change_pct", "patient_id"], ascending=[False, True], kind="mergesort")
    n_missing = int(df_best["best_sul_change_pct"].isna().sum())
    x = np.arange(len(d))
    code = d["bmr"].fillna("MISSING").astype(str).to_numpy()
    ax.bar(x, d["best_sul_change_pct"].to_numpy(), color=[colors.get(c, "0.5") for c in code],
           width=0.85, edgecolor="none", zorder=2)
    _reference_lines(ax)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks([])
    ax.set_xlim(-0.75, max(len(d), 1) - 0.25)
    lo = min(-100.0, float(np.nanmin(d["best_sul_change_pct"])) if len(d) else -100.0)
    hi = max(_REL_PCT + 20, float(np.nanmax(d["best_sul_change_pct"])) + 10 if len(d) else 0)
    ax.set_ylim(lo - 5, hi)
    ax.set_xlabel("Patients, ordered by best change")
    ax.set_ylabel("Best change in SULpeak from baseline (%)")
    present = [c for c in METABOLIC_COLORS if c in set(code)]
    theme.legend_outside(ax, handles=[Patch(color=colors[c], label=_LABELS[c]) for c in present],
                         title="Best metabolic\nresponse", pad_pt=_LEGEND_PAD_PT,
                         alignment="left")
    rule = (f"PMR/PMD need \u2265 {_REL_PCT:g} % and \u2265 {float(PERCIST_ABS_SUL):g} SUL "
            "units; PMD also by a new FDG-avid lesion")
    notes = [t for t in (footnote, rule, f"{n_missing} patient(s) without an evaluable "
                         f"follow-up scan not shown" if n_missing else None) if t]
    # notes at the tick-label size, as the anatomical waterfall's (7 pt was the smallest text
    # of the report; tests/test_figures.py checks it against the print floor)
    ax.annotate("\n".join(notes), xy=(0, 0), xycoords="axes fraction", xytext=(0, -22),
                textcoords="offset points", fontsize=plt.rcParams["xtick.labelsize"],
                color="0.3", va="top", gid="waterfall_note")
    ax.set_title(title or f"Best SULpeak change, PERCIST 1.0 (n = {len(d)})")
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    return ax
