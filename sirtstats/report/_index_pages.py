"""The notebook pages of the report: figure anchors, parameters, back links, warnings as notes.

Part of :mod:`sirtstats.report.index_html` (import from there).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

__all__ = ["add_back_link", "figure_links"]


_BACK_LINK_MARK = "sirtstats-back-link"


def _heading_cells(nb) -> list[tuple[str | None, str]]:
    """(id of the nearest markdown heading cell above, source) of every code cell."""
    out, heading = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.search(r"^#{1,6}\s", cell.source, re.M):
            heading = cell.get("id")
        elif cell.cell_type == "code":
            out.append((heading, cell.source))
    return out


def figure_links(notebooks_dir: Path, figures) -> dict[str, str]:
    """Where each figure is shown: its notebook page, at the heading of its section.

    A figure belongs to the code cell whose source names its stem as a string literal
    (``save_figure(ax, "03_km_os", ...)``); the link points at the markdown heading cell above
    it (nbconvert gives every cell the anchor ``cell-id=<id>``).

    Parameters
    ----------
    notebooks_dir : Path
        Folder of the executed ``<stem>.ipynb`` next to their ``<stem>.html``.
    figures : iterable of str
        Figure stems.

    Returns
    -------
    dict of str to str
        Stem -> ``notebooks/<nb>.html#cell-id=<id>`` (relative to the report folder); figures
        whose cell is not found are left out.
    """
    import nbformat

    links = {}
    wanted = set(figures)
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for heading, source in _heading_cells(nb):
            for stem in sorted(wanted - set(links)):
                if f'"{stem}"' in source or f"'{stem}'" in source:
                    anchor = f"#cell-id={heading}" if heading else ""
                    links[stem] = f"notebooks/{path.stem}.html{anchor}"
    return links


def notebook_parameters(nb_path: Path) -> dict[str, str]:
    """Parameters a report notebook ran with, as written: its defaults, then what was injected.

    Reads the cell tagged ``parameters`` and papermill's ``injected-parameters`` cell of the
    executed notebook (top-level assignments only; values as source text).
    """
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    out: dict[str, str] = {}
    for tag in ("parameters", "injected-parameters"):
        for cell in nb.cells:
            if tag not in cell.get("metadata", {}).get("tags", []):
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in tree.body:
                target = node.target if isinstance(node, ast.AnnAssign) else (
                    node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1
                    else None)
                if isinstance(target, ast.Name) and node.value is not None:
                    out[target.id] = ast.get_source_segment(cell.source, node.value)
    return out


#: Statistical caveats (SirtStatsWarning on stderr) read as notes on a notebook page, not as
#: error-pink boxes; the executed .ipynb keeps them as they were.
_NOTE_STYLE = ("<style>.jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']"
               "{background:#f4f6f9 !important;border-left:3px solid #8a94a6;"
               "padding:.2rem .6rem}</style>")


def _as_notes(html_text: str) -> str:
    """Warnings on a page as notes: neutral style, "Note:" instead of the warning class."""
    text = html_text.replace("<pre>SirtStatsWarning: ", "<pre>Note: ")
    head = text.find("</head>")
    return text[:head] + _NOTE_STYLE + text[head:] if head >= 0 else _NOTE_STYLE + text


def add_back_link(html_path: Path, *, period: str, index_href: str = "../index.html") -> Path:
    """Put a link back to the report summary at the top and bottom of a notebook page.

    Statistical caveats (``SirtStatsWarning`` output) are shown as neutral notes.

    Idempotent: a page that already has the link is left as it is.

    Parameters
    ----------
    html_path : Path
        A notebook page written by :func:`sirtstats.report.export.export_notebook_html`.
    period : str
        Report period shown in the link text ("2026Q3").
    index_href : str, default "../index.html"
        Link target, relative to the page.

    Returns
    -------
    Path
        ``html_path``.
    """
    from html import escape

    html_path = Path(html_path)
    text = html_path.read_text(encoding="utf-8")
    if _BACK_LINK_MARK in text:
        return html_path
    link = (f"<nav class='{_BACK_LINK_MARK}' style='font-family:system-ui,sans-serif;"
            f"font-size:.95rem;padding:.6rem 1.5rem'>"
            f"<a href='{escape(index_href, quote=True)}'>\u2190 Report {escape(period)}: "
            f"summary</a></nav>")
    text = _as_notes(text)
    body = re.search(r"<body\b[^>]*>", text)
    if body is None:
        text = link + text + link
    else:
        text = text[:body.end()] + "\n" + link + text[body.end():]
        end = text.rfind("</body>")
        text = (text[:end] + link + "\n" + text[end:]) if end >= 0 else text + link
    html_path.write_text(text, encoding="utf-8")
    return html_path
