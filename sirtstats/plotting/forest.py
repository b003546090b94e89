"""Subgroup forest plot with its table (tern ``g_forest`` layout, issue #16 item 7).

Left: subgroup, n and events (or responders); centre: the estimate and its CI on a log axis
with the no-effect line at 1 and "favours" labels under the axis; right: estimate [95 % CI]
and the interaction p-value of each subgroup variable.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import blended_transform_factory, offset_copy

from sirtstats.labels import column_label, value_label

from . import theme

__all__ = ["plot_subgroup_forest"]

_ESTIMATES = {"hr": "Hazard ratio", "or": "Odds ratio"}

#: Readable names of the subgroup columns of :func:`sirtstats.comparative.comparative_frame`.
SUBGROUP_LABELS = {"primary": "Primary tumour", "bclc_group": "BCLC stage (HCC)",
                   "ecog_group": "ECOG PS", "albi_grade": "ALBI grade",
                   "tumour_burden": "Tumour burden (% of liver)", "device": "Device"}


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _rows(table: pd.DataFrame, est: str, count_col: str, labels) -> list[dict]:
    """Display rows: "All patients", then per subgroup a header and its indented levels."""
    out = []
    for name, sub in table.groupby("subgroup", sort=False):
        levels = sub.to_dict("records")
        if name == "All patients":
            out.append({**levels[0], "label": "All patients", "bold": True})
            continue
        out.append({"label": labels.get(name) or column_label(str(name)), "bold": True,
                    "header": True,
                    "p_interaction": levels[0].get("p_interaction", np.nan)})
        out.extend({**r, "label": "   " + str(value_label(r["level"])), "bold": False}
                   for r in levels)
    for r in out:
        r.setdefault(est, np.nan)
        r.setdefault(count_col, np.nan)
    return out


def _estimate_text(r, est) -> str:
    if r.get("header"):
        return ""
    v, lo, hi = r[est], r[f"{est}_lower"], r[f"{est}_upper"]
    if not np.isfinite(v):
        return "NE"
    return f"{v:.2f} [{lo:.2f}, {hi:.2f}]"


def _draw_ci(ax, rows, y, est, colour) -> None:
    for r, yi in zip(rows, y, strict=True):
        if r.get("header") or not np.isfinite(r[est]):
            continue
        size = 6 if r["label"] == "All patients" else 4.5
        marker = "D" if r["label"] == "All patients" else "s"
        ax.plot([r[f"{est}_lower"], r[f"{est}_upper"]], [yi, yi], color="black", lw=1.0)
        ax.plot(r[est], yi, marker, color=colour, markersize=size)


def _log_axis(ax, rows, est, ref_line) -> None:
    vals = np.array([[r.get(f"{est}_lower", np.nan), r.get(f"{est}_upper", np.nan)]
                     for r in rows if not r.get("header")], dtype=float)
    vals = vals[np.isfinite(vals)]
    lo = min(vals.min() if vals.size else 0.5, ref_line) / 1.25
    hi = max(vals.max() if vals.size else 2.0, ref_line) * 1.25
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    # 1-2-5 ticks over up to ~1.5 decades; wider ranges get one tick per decade plus 0.5, 2
    subs = (1.0, 2.0, 5.0) if np.log10(hi / lo) <= 1.6 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(ref_line, color=theme.GREY, ls="--", lw=0.8)


def _text_columns(ax, rows, y, columns, header_y) -> None:
    """Write ``columns`` = [(x in axes fraction, header, values, ha)] onto a frameless axes."""
    for x, head, values, ha in columns:
        ax.text(x, header_y, head, ha=ha, va="bottom", fontweight="bold", fontsize="small")
        for r, yi, v in zip(rows, y, values, strict=True):
            ax.text(x, yi, v, ha=ha, va="center", fontsize="small",
                    fontweight="bold" if r["bold"] and head == "Subgroup" else "normal")


def _blank(ax, n) -> None:
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_xlim(0, 1)
    ax.axis("off")


@theme.themed
def plot_subgroup_forest(table: pd.DataFrame, *, estimate: str = "hr",
                         arm_labels: Sequence[str] = ("Control", "Treated"),
                         count_col: str | None = None, ref_line: float = 1.0,
                         labels=None, title: str | None = None):
    """Forest plot of a subgroup table with n, events, estimate [95 % CI] and p-interaction.

    Parameters
    ----------
    table : DataFrame
        :func:`sirtstats.comparative.subgroup_survival` (``estimate="hr"``) or
        :func:`~sirtstats.comparative.subgroup_response` (``estimate="or"``) output.
    estimate : {"hr", "or"}
    arm_labels : (control, treated)
        Used for the "favours" labels under the axis (an HR or OR below 1 favours the
        treated arm for a hazard; for a response OR, above 1 favours the treated arm).
    count_col : str, optional
        The second count column (default ``events`` for HR, responders summed for OR).
    ref_line : float
        Position of the no-effect line (1).
    labels : mapping, optional
        Subgroup column -> readable name (default :data:`SUBGROUP_LABELS`, then
        :func:`sirtstats.labels.column_label`).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: table, forest (log scale), estimate column.
    """
    tab = table.copy()
    if count_col is None:
        count_col = "events" if estimate == "hr" else "responders"
        if estimate == "or":
            tab["responders"] = tab["responders_control"] + tab["responders_treated"]
    rows = _rows(tab, estimate, count_col, {**SUBGROUP_LABELS, **(labels or {})})
    n = len(rows)
    y = np.arange(n)[::-1].astype(float)
    count_head = "Events" if estimate == "hr" else "Responders"
    cols = [("Subgroup", [r["label"] for r in rows], "left"),
            ("n", ["" if r.get("header") else f"{int(r['n'])}" for r in rows], "right"),
            (count_head, ["" if r.get("header") else f"{int(r[count_col])}" for r in rows],
             "right"),
            None,
            (f"{estimate.upper()} [95 % CI]", [_estimate_text(r, estimate) for r in rows],
             "left"),
            ("P int.", [_fmt_p(r.get("p_interaction", np.nan)) if r.get("header") else ""
                        for r in rows], "right")]
    # column widths (inches) from the longest entry, about 0.085 in per character at the
    # "small" text size; the forest panel (None) is 2.2 in wide
    widths = [2.2 if c is None else 0.35 + 0.085 * max(len(c[0]), *(len(v) for v in c[1]))
              for c in cols]
    fig, axes = plt.subplots(1, len(cols), figsize=(sum(widths), 1.3 + 0.26 * n),
                             sharey=True, gridspec_kw={"width_ratios": widths, "wspace": 0})
    a_for = axes[3]
    head_y = n - 0.45
    for a, c in zip(axes, cols, strict=True):
        if c is None:
            continue
        _blank(a, n)
        head, vals, ha = c
        _text_columns(a, rows, y, [(0.0 if ha == "left" else 0.92, head, vals, ha)], head_y)
    _draw_ci(a_for, rows, y, estimate, theme.PALETTE[0])
    _log_axis(a_for, rows, estimate, ref_line)
    a_for.set_ylim(-0.8, n - 0.2)
    a_for.spines["left"].set_visible(False)
    a_for.tick_params(axis="y", left=False, labelleft=False)
    a_for.set_xlabel(f"{_ESTIMATES.get(estimate, estimate)} (log scale)", labelpad=26)
    lower, upper = (arm_labels[1], arm_labels[0]) if estimate == "hr" else arm_labels
    trans = offset_copy(blended_transform_factory(a_for.transData, a_for.transAxes),
                        fig=fig, y=-16, units="points")
    a_for.text(ref_line / 1.1, 0, f"← Favours\n{lower}", transform=trans, ha="right",
               va="top", fontsize="small", linespacing=1.0)
    a_for.text(ref_line * 1.1, 0, f"Favours →\n{upper}", transform=trans, ha="left",
               va="top", fontsize="small", linespacing=1.0)
    fig.subplots_adjust(top=1 - 0.35 / fig.get_figheight())
    if title:
        fig.suptitle(title, x=0.02, y=1.0, ha="left", va="bottom", fontweight="bold")
    return fig
