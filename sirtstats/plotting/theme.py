"""One figure theme for every sirtstats plot: seaborn paper context, Okabe–Ito colours.

Every ``plot_*`` function of :mod:`sirtstats.plotting` draws inside :func:`context` (the
decorator :func:`themed` does it), so a figure looks the same whether it is drawn in a notebook,
by the report or in a test, and no global matplotlib state is changed. Notebooks may call
:func:`apply` once to give their own ad-hoc figures the same look.

Colours are the eight of Okabe & Ito (*Color Universal Design*, 2008; Wong, *Nat Methods*
2011;8:441), ordered so that the first colours of a figure never form a red/green pair and the
low-contrast yellow comes last. Beyond eight groups colours repeat with a different line style
(:func:`linestyle`), so a group is never identified by colour alone.

Legends go outside the data area (:func:`legend_outside`) or as labels at the curve ends
(:func:`label_line_ends`); both are what the figure test (``tests/test_figures.py``) checks.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.transforms import offset_copy

__all__ = ["DPI", "FIGSIZE", "GREY", "MIN_PRINT_PT", "PALETTE", "PRINT_WIDTH_IN",
           "RESPONSE_COLOURS", "apply", "colour", "context", "label_line_ends", "legend_outside",
           "linestyle", "on_white", "printed_text_sizes", "rc", "themed"]

#: Okabe–Ito colours, in the order groups receive them (blue, orange, bluish green, reddish
#: purple, sky blue, vermillion, black, yellow): the first six are distinguishable under the
#: three common colour-vision deficiencies, and no red is next to a green.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
                            "#D55E00", "#000000", "#F0E442")

#: Neutral grey for reference lines, bands and "not evaluable" marks.
GREY = "#7F7F7F"

#: Colour of each response code (CR/PR blues, SD grey, PD vermillion; no red/green pair).
RESPONSE_COLOURS: dict[str, str] = {
    "CR": "#0072B2", "PR": "#56B4E9", "SD": "#999999", "NON_CR_NON_PD": "#CC79A7",
    "PD": "#D55E00", "NE": "#E69F00", "MISSING": "#DDDDDD",
}

#: Figure sizes in inches: one journal column (≈ 89 mm) and two columns (≈ 183 mm).
FIGSIZE: dict[str, tuple[float, float]] = {"single": (3.5, 2.8), "double": (7.2, 4.5)}

#: Resolution of saved raster figures (dots per inch; journals ask for ≥ 300).
DPI = 300

#: Widest a figure is printed (inches): two journal columns, 183 mm (Elsevier's JVIR and
#: J Hepatol, Springer's EJNMMI). A wider figure is shrunk to it, and its text with it.
PRINT_WIDTH_IN = FIGSIZE["double"][0]

#: Smallest text size (points) a figure may have once shrunk to :data:`PRINT_WIDTH_IN`
#: (publishers ask for 6-8 pt lettering at final size; below 6 pt a reviewer cannot read it).
MIN_PRINT_PT = 6.0

_LINESTYLES = ("-", "--", ":", "-.")


def rc() -> dict:
    """Return the matplotlib rc settings of the theme.

    Returns
    -------
    dict
        Seaborn's "paper" context with the "ticks" style, the Okabe–Ito colour cycle, no top or
        right spine, and fonts that stay text in SVG/PDF.

    Examples
    --------
    >>> from sirtstats.plotting import theme
    >>> theme.rc()["axes.spines.top"], theme.rc()["savefig.dpi"]
    (False, 300)
    """
    settings = {}
    settings.update(sns.axes_style("ticks"))
    settings.update(sns.plotting_context("paper", font_scale=1.15))
    settings.update({
        "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
        "legend.frameon": False,
        "figure.dpi": 100,
        "savefig.dpi": DPI,
        "savefig.bbox": "tight",
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "none",
        "image.cmap": "cividis",
    })
    return settings


@contextlib.contextmanager
def context() -> Iterator[None]:
    """Draw with the theme inside a ``with`` block, restoring matplotlib's settings after.

    Yields
    ------
    None

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sirtstats.plotting import theme
    >>> with theme.context():
    ...     plt.rcParams["axes.prop_cycle"].by_key()["color"][0]
    '#0072B2'
    """
    # Resolve the backend before the block: IPython's inline backend, when first selected,
    # switches interactive mode on, and rc_context would switch it off again on exit: the
    # notebook would then stop showing figures after the first plot. The interactive state
    # in effect at the end of the block is kept for the same reason.
    mpl.get_backend(auto_select=True)
    interactive = mpl.is_interactive()
    try:
        with mpl.rc_context(rc()):
            try:
                yield
            finally:
                interactive = mpl.is_interactive()
    finally:
        mpl.interactive(interactive)


def apply() -> None:
    """Set the theme globally (for a notebook's own figures).

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from sirtstats.plotting import theme
    >>> with mpl.rc_context():
    ...     theme.apply()
    ...     mpl.rcParams["savefig.dpi"]
    300.0
    """
    mpl.rcParams.update(rc())


def themed(func):
    """Decorate a ``plot_*`` function so that it draws inside :func:`context`.

    Parameters
    ----------
    func : callable
        The plotting function.

    Returns
    -------
    callable
        The wrapped function (same signature and docstring).
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with context():
            return func(*args, **kwargs)
    return wrapper


def colour(i: int) -> str:
    """Return the colour of the ``i``-th group (Okabe–Ito order, repeating after eight).

    Parameters
    ----------
    i : int
        Group position, from 0.

    Returns
    -------
    str
        Hex colour.

    Examples
    --------
    >>> from sirtstats.plotting import theme
    >>> theme.colour(0), theme.colour(9)
    ('#0072B2', '#E69F00')
    """
    return PALETTE[i % len(PALETTE)]


def on_white(colour, *, max_luminance: float = 0.3) -> tuple:
    """Return ``colour`` darkened until it is legible as text on white (yellow, sky blue).

    Parameters
    ----------
    colour : color
        Any matplotlib colour.
    max_luminance : float, default 0.3
        Highest relative luminance kept (WCAG 2 definition, 0 = black, 1 = white; 0.3
        gives a contrast of at least 3:1 on white).

    Returns
    -------
    tuple of float
        RGB in 0-1.

    Examples
    --------
    >>> from sirtstats.plotting import theme
    >>> theme.on_white("#000000")
    (0.0, 0.0, 0.0)
    >>> round(max(theme.on_white("#F0E442")), 2) < 0.94
    True
    """
    rgb = np.asarray(mpl.colors.to_rgb(colour), dtype=float)

    def lum(c):
        lin = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(lin @ [0.2126, 0.7152, 0.0722])

    while lum(rgb) > max_luminance:
        rgb = rgb * 0.9
    return tuple(float(v) for v in rgb)


def linestyle(i: int) -> str:
    """Return the line style of the ``i``-th group: solid for the first eight, then dashed...

    Parameters
    ----------
    i : int
        Group position, from 0.

    Returns
    -------
    str
        Matplotlib line style.

    Examples
    --------
    >>> from sirtstats.plotting import theme
    >>> theme.linestyle(0), theme.linestyle(8)
    ('-', '--')
    """
    return _LINESTYLES[(i // len(PALETTE)) % len(_LINESTYLES)]


def legend_outside(ax, *, where: str = "right", title: str | None = None,
                   handles: Sequence | None = None, labels: Sequence[str] | None = None,
                   ncols: int | None = None, pad_pt: float = 8.0, **kwargs):
    """Place the legend of ``ax`` outside its data area.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes whose legend is drawn.
    where : {"right", "top", "bottom"}, default "right"
        Side of the axes; "top" and "bottom" lay the entries out in a row (``ncols``).
    title : str, optional
        Legend title.
    handles, labels : sequence, optional
        Legend entries (default: the labelled artists of ``ax``).
    ncols : int, optional
        Columns (default 1 at the right, up to 4 at the top/bottom).
    pad_pt : float, default 8
        Distance from the axes edge (points), e.g. larger to clear labels written at the
        right of reference lines.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.legend`.

    Returns
    -------
    matplotlib.legend.Legend or None
        The legend (None when there is nothing to show).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sirtstats.plotting import theme
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1], label="Y-90 glass")
    >>> bool(theme.legend_outside(ax).get_bbox_to_anchor().x0 > ax.bbox.x1)
    True
    >>> plt.close(fig)
    """
    if handles is None:
        handles, found = ax.get_legend_handles_labels()
        labels = found if labels is None else labels
    if not handles:
        return None
    if where not in ("right", "top", "bottom"):
        raise ValueError("The 'where' argument of legend_outside must be one of "
                         f"{{'right', 'top', 'bottom'}}. Got {where!r} instead.")
    n = len(handles)
    opts = {"frameon": False, "borderaxespad": 0.0, "handlelength": 1.8}
    if where == "right":
        shift = offset_copy(ax.transAxes, fig=ax.figure, x=pad_pt, units="points")
        opts.update(loc="upper left", bbox_to_anchor=(1.0, 1.0), bbox_transform=shift,
                    ncols=ncols or 1)
    elif where == "top":
        shift = offset_copy(ax.transAxes, fig=ax.figure, y=pad_pt, units="points")
        opts.update(loc="lower left", bbox_to_anchor=(0.0, 1.0), bbox_transform=shift,
                    ncols=ncols or min(n, 4))
    else:
        opts.update(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=ncols or min(n, 4))
    opts.update(kwargs)
    if labels is None:
        return ax.legend(handles=list(handles), title=title, **opts)
    return ax.legend(list(handles), list(labels), title=title, **opts)


def label_line_ends(ax, lines: Sequence | None = None, *, min_gap_pt: float = 9.0,
                    fontsize: float | None = None) -> list:
    """Write each line's label right of the axes, at the height of its last point.

    Labels that would overlap are pushed apart by at least ``min_gap_pt`` points.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes with labelled lines.
    lines : sequence of Line2D, optional
        Lines to label (default: those of ``ax`` whose label does not start with "_").
    min_gap_pt : float, default 9
        Minimum vertical distance between two labels, in points.
    fontsize : float, optional
        Font size (default: the theme's legend size).

    Returns
    -------
    list of matplotlib.text.Annotation
        The labels, with ``gid="line_end_label"``.
    """
    lines = [ln for ln in (lines if lines is not None else ax.get_lines())
             if not str(ln.get_label()).startswith("_") and len(ln.get_ydata())]
    if not lines:
        return []
    ends = [(float(np.asarray(ln.get_ydata(), float)[-1]), ln) for ln in lines]
    ends.sort(key=lambda e: e[0])
    to_pt = ax.transData.transform
    y_pt = [to_pt((0, y))[1] * 72 / ax.figure.dpi for y, _ in ends]
    for i in range(1, len(y_pt)):
        y_pt[i] = max(y_pt[i], y_pt[i - 1] + min_gap_pt)
    out = []
    for (y, ln), yp in zip(ends, y_pt, strict=True):
        shift = yp - to_pt((0, y))[1] * 72 / ax.figure.dpi
        out.append(ax.annotate(
            ln.get_label(), xy=(1.0, y), xycoords=("axes fraction", "data"),
            xytext=(4, shift),
            textcoords="offset points", va="center", ha="left", color=ln.get_color(),
            fontsize=fontsize or plt.rcParams["legend.fontsize"], annotation_clip=False,
            gid="line_end_label"))
    return out


def _drawn_texts(fig) -> list:
    """The visible, non-empty texts of ``fig`` (axes texts, ticks, labels, titles, legends)."""
    found = list(fig.texts)
    legends = list(fig.legends)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        found += list(ax.texts) + [ax.title]
        if ax.axison:
            found += list(ax.get_xticklabels()) + list(ax.get_yticklabels())
            found += [ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            legends.append(ax.get_legend())
    for leg in legends:
        found += list(leg.get_texts()) + [leg.get_title()]
    return [t for t in found if t.get_visible() and t.get_text().strip()]


def printed_text_sizes(fig, *, width_in: float = PRINT_WIDTH_IN) -> list[tuple[float, str]]:
    """Size of each text of ``fig`` once the saved figure is printed at most ``width_in`` wide.

    The saved figure is the tight bounding box (``savefig.bbox = "tight"``); one wider than
    ``width_in`` is shrunk to it, and every font with it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A drawn figure.
    width_in : float, default :data:`PRINT_WIDTH_IN`
        Printed width (inches).

    Returns
    -------
    list of (float, str)
        ``(printed size in points, text)``, smallest first.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sirtstats.plotting import theme
    >>> fig, ax = plt.subplots(figsize=(20, 3))
    >>> _ = ax.set_xlabel("Months", fontsize=10)
    >>> size = [s for s, text in theme.printed_text_sizes(fig) if text == "Months"][0]
    >>> bool(size < theme.MIN_PRINT_PT)  # 10 pt on a 20 in wide figure: under 5 pt in print
    True
    >>> plt.close(fig)
    """
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    width = fig.get_tightbbox(renderer).width
    scale = min(1.0, width_in / width) if width > 0 else 1.0
    sizes = [(float(t.get_fontsize()) * scale, t.get_text()) for t in _drawn_texts(fig)]
    return sorted(sizes, key=lambda st: st[0])
