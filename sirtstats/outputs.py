"""Saving a notebook's tables, figures and key numbers into a report folder.

Notebooks call these after displaying a result. With ``output_dir`` empty (interactive use in
JupyterLab) nothing is written. Written files are deterministic: tables are CSV with a fixed
float format, figures carry no creation date, metrics are JSON with sorted keys.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FIGURE_DPI", "FIGURE_FORMATS", "save_figure", "save_metrics", "save_table"]

#: Significant digits kept for floats in CSV tables and metrics.
FLOAT_FORMAT = "%.10g"


def _folder(output_dir: str | Path | None, sub: str) -> Path | None:
    if not output_dir:
        return None
    path = Path(output_dir) / sub
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_table(df: pd.DataFrame, name: str, *, output_dir: str | Path | None) -> pd.DataFrame:
    """Write ``df`` to ``<output_dir>/tables/<name>.csv`` and return it.

    In a shareable report (:func:`sirtstats.disclosure.set_disclosure`) the table written and
    returned has no ``*_id`` column and its small counts suppressed
    (:func:`sirtstats.disclosure.protect_frame`); otherwise ``df`` is returned unchanged.

    Parameters
    ----------
    df : DataFrame
        Table to save; a non-default index is written as columns.
    name : str
        File stem, ``<NN>_<topic>`` by convention (e.g. ``"01_flow"``).
    output_dir : str or Path or None
        Report folder; empty or None writes nothing.

    Returns
    -------
    DataFrame
        ``df`` itself, so a notebook cell can end with the call and display the table.
    """
    from sirtstats.disclosure import get_disclosure, protect_frame

    if get_disclosure().shareable:  # no ids, small counts suppressed (D40, D41)
        df = protect_frame(df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df)
    folder = _folder(output_dir, "tables")
    if folder is not None:
        out = df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df
        out.to_csv(folder / f"{name}.csv", index=False, float_format=FLOAT_FORMAT,
                   date_format="%Y-%m-%d", lineterminator="\n")
    return df


#: Raster resolution of saved PNG figures (dots per inch; journals ask for at least 300).
FIGURE_DPI = 300

#: Formats :func:`save_figure` writes: PNG for the report page, SVG and PDF (vector) for
#: manuscripts. The report collects figures by these file names (``figures/<name>.<ext>``).
FIGURE_FORMATS = ("png", "svg", "pdf")


def save_figure(fig, name: str, *, output_dir: str | Path | None):
    """Write a figure as ``figures/<name>.png`` (300 dpi), ``.svg`` and ``.pdf``; return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes or array of Axes
        Figure (or an Axes of it, or the array of Axes a faceted plot returns) to save.
    name : str
        File stem, ``<NN>_<topic>`` by convention (e.g. ``"03_km_os"``); the stem is the
        same for the three formats.
    output_dir : str or Path or None
        Report folder; empty or None writes nothing.

    Returns
    -------
    matplotlib.figure.Figure
        The figure. End the notebook cell with ``;`` (or assign the result): a cell whose
        last value is a figure shows it a second time under the inline backend.

    Notes
    -----
    Files are deterministic: no creation date or software stamp, fixed SVG ids, text kept as
    text (SVG ``svg.fonttype = "none"``, PDF TrueType fonts), tight bounding box so legends
    and risk tables outside the axes are kept.
    """
    if isinstance(fig, np.ndarray):
        fig = fig.flat[0]
    fig = getattr(fig, "figure", fig)
    from sirtstats.disclosure import protect_figure

    protect_figure(fig)  # shareable report: small counts in annotations suppressed (D41)
    folder = _folder(output_dir, "figures")
    if folder is not None:
        import matplotlib as mpl

        rc = {"svg.hashsalt": "sirtstats", "svg.fonttype": "none", "pdf.fonttype": 42}
        metadata = {"png": {"Software": None}, "svg": {"Date": None},
                    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None,
                            "Creator": None}}
        with mpl.rc_context(rc), _laid_out_once(fig) as bbox:
            for ext in FIGURE_FORMATS:
                fig.savefig(folder / f"{name}.{ext}", dpi=FIGURE_DPI, bbox_inches=bbox,
                            metadata=metadata[ext])
    return fig


@contextlib.contextmanager
def _laid_out_once(fig):
    """Lay ``fig`` out once at :data:`FIGURE_DPI` and yield its padded tight bounding box.

    ``savefig(bbox_inches="tight")`` draws the figure once more per file to find the box, and
    runs the layout engine (constrained layout) each time; here the layout runs and the box is
    measured once for the three formats, and the engine is taken off while they are written
    (savefig holds it off too once it has laid out) and put back afterwards. Yields
    ``"tight"`` (the per-file way) when the padding is the layout engine's
    (``savefig.pad_inches = "layout"``).
    """
    import matplotlib as mpl

    pad = mpl.rcParams["savefig.pad_inches"]
    if pad == "layout":
        yield "tight"
        return
    dpi = fig.dpi
    try:
        fig.dpi = FIGURE_DPI
        fig.draw_without_rendering()
        bbox = fig.get_tightbbox().padded(pad)
    finally:
        fig.dpi = dpi
    engine = fig.get_layout_engine()
    if engine is None:
        yield bbox
        return
    # no engine at all while saving: savefig then neither lays out nor pre-draws the figure
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    try:
        yield bbox
    finally:
        fig.set_layout_engine(engine)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return None if math.isnan(value) else float(FLOAT_FORMAT % value)
    if value is pd.NA or value is None:
        return None
    return value


def save_metrics(metrics: dict, *, notebook: str, output_dir: str | Path | None) -> dict:
    """Merge key numbers into ``<output_dir>/metrics/<notebook>.json``.

    Parameters
    ----------
    metrics : dict
        Key numbers (str -> number, str or nested dict); NaN becomes null.
    notebook : str
        Notebook stem (e.g. ``"01_cohort"``); each notebook writes its own file, which the
        report runner merges into ``metrics.json``.
    output_dir : str or Path or None
        Report folder; empty or None writes nothing.

    Returns
    -------
    dict
        The JSON-ready metrics.
    """
    from sirtstats.disclosure import protect_metrics

    clean = protect_metrics(_jsonable(metrics))  # shareable report: small counts -> null
    folder = _folder(output_dir, "metrics")
    if folder is not None:
        path = folder / f"{notebook}.json"
        merged = json.loads(path.read_text()) if path.exists() else {}
        merged.update(clean)
        path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return clean
