"""Converting a finished attempt: notebook HTML without code, one XLSX workbook, metrics.json.

Everything written here is self-contained and, for the workbook and metrics, byte-for-byte
reproducible: the XLSX zip entries carry a fixed timestamp and the workbook's document
properties a fixed date, and metrics.json is written with sorted keys.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

from sirtstats.formatting import XLSX_MAX_ROWS

__all__ = [
    "EXTERNAL_RESOURCE",
    "export_notebook_html",
    "merge_metrics",
    "write_tables_docx",
    "write_tables_workbook",
]

#: An HTML element that makes the browser fetch something from another machine.
EXTERNAL_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(?:src|href)\s*=\s*"
    r"[\"']?(?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//|@import\s+[\"'](?:https?:)?//",
    re.IGNORECASE,
)

# The lab template loads require.js, MathJax and mermaid from a CDN: drop those blocks so the
# page is self-contained (notebook outputs are tables, text and base64 images; no widgets).
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
_TEMPLATE_NAME = "sirtstats_report.html.j2"
_exporter = None

#: Date written into the workbook's document properties (fixed so two runs are identical).
_FIXED_DATETIME = "2000-01-01T00:00:00Z"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _html_exporter():
    global _exporter
    if _exporter is None:
        from jinja2 import DictLoader
        from nbconvert import HTMLExporter

        _exporter = HTMLExporter(
            extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
            template_file=_TEMPLATE_NAME,
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            embed_images=True,
        )
    return _exporter


_WARNING_LINE = re.compile(r"^\S.*?:\d+: (?P<category>\w*Warning): (?P<message>.*)$")


def clean_warning_text(text: str) -> str:
    r"""Python warnings as a reader sees them: ``SirtStatsWarning: message``.

    The default warnings format shows the kernel's temporary file name, line number and the
    source line that warned (code, which the report does not show); keep category and message.

    Examples
    --------
    >>> print(clean_warning_text(
    ...     "/tmp/ipykernel_1/8.py:1: SirtStatsWarning: median not reached\n"
    ...     "  km = summarise_km(df)\n"))
    SirtStatsWarning: median not reached
    <BLANKLINE>
    """
    out, skipping = [], False
    for line in text.split("\n"):
        match = _WARNING_LINE.match(line)
        if match:
            out.append(f"{match['category']}: {match['message']}")
            skipping = True
            continue
        if skipping and line.startswith((" ", "\t")):
            continue  # the source line echoed under the warning
        skipping = False
        out.append(line)
    return "\n".join(out)


def _for_readers(nb):
    """Copy of an executed notebook prepared for the HTML page (warnings without code)."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                output["text"] = clean_warning_text(output.get("text", ""))
    return nb


def export_notebook_html(nb_path: Path, html_path: Path, *, title: str | None = None) -> Path:
    """Write an executed notebook as a self-contained HTML page without code cells.

    Parameters
    ----------
    nb_path : Path
        Executed ``.ipynb``.
    html_path : Path
        Destination ``.html``.
    title : str, optional
        Page title; defaults to the notebook stem.

    Returns
    -------
    Path
        ``html_path``.

    Raises
    ------
    RuntimeError
        If the page would still load anything from another machine.
    """
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    nb = _for_readers(nb)
    nb.metadata["title"] = title or Path(nb_path).stem
    resources = {"metadata": {"name": nb.metadata["title"]}}
    body, _ = _html_exporter().from_notebook_node(nb, resources=resources)
    match = EXTERNAL_RESOURCE.search(body)
    if match:
        raise RuntimeError(
            f"{html_path.name}: the HTML would load an external resource ({match.group(0)!r}); "
            "the report must be self-contained."
        )
    html_path = Path(html_path)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def merge_metrics(metrics_dir: Path, *, extra: dict | None = None) -> dict:
    """Merge ``<metrics_dir>/<notebook>.json`` files into one dict keyed by notebook stem.

    Parameters
    ----------
    metrics_dir : Path
        Folder written by :func:`sirtstats.outputs.save_metrics`.
    extra : dict, optional
        Additional top-level sections (e.g. ``{"report": {...}}``) added as-is.

    Returns
    -------
    dict
    """
    merged = {}
    metrics_dir = Path(metrics_dir)
    if metrics_dir.is_dir():
        for path in sorted(metrics_dir.glob("*.json")):
            merged[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    merged.update(extra or {})
    return merged


def write_json(data, path: Path) -> Path:
    """Write ``data`` as pretty JSON with sorted keys and a trailing newline."""
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    return Path(path)


def _sheet_names(stems: list[str]) -> list[str]:
    """Unique Excel sheet names (<= 31 chars, no []:*?/\\) for the table stems."""
    names, used = [], set()
    for stem in stems:
        base = re.sub(r"[\[\]:*?/\\]", "_", stem)[:31]
        name, n = base, 1
        while name.lower() in used:
            n += 1
            suffix = f"~{n}"
            name = base[: 31 - len(suffix)] + suffix
        used.add(name.lower())
        names.append(name)
    return names


def _normalise_xlsx(data: bytes) -> bytes:
    """Rewrite an xlsx zip with fixed entry timestamps and document dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                              rf"\g<1>{_FIXED_DATETIME}\g<2>", text)
                content = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def _read_table(path: Path) -> tuple[list[list[str]], dict]:
    """Rows of a table CSV and its sidecar metadata (``<stem>.table.json``; {} if none)."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    meta_path = path.with_name(f"{path.stem}.table.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return rows, meta


_HEADER_FILL = "D9E1F2"
_MAX_WIDTH = 60


def _fill_sheet(ws, rows: list[list[str]], meta: dict) -> None:
    """Write one table into a sheet: bold header, typed cells, number formats, widths."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    paste_ready = meta.get("kind") == "table"
    if rows:
        rows = [_qualified_header(rows[0], meta), *rows[1:]]
    widths = _write_sheet_cells(ws, rows, meta.get("indent", []), paste_ready)
    if rows:
        ws.freeze_panes = "B2" if paste_ready else "A2"
        if not paste_ready and len(rows) > 1:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(rows[0]))}{len(rows)}"
    row_n = len(rows) + 2
    for note in meta.get("footnotes", []):
        ws.cell(row=row_n, column=1, value=note).font = Font(italic=True, size=9)
        row_n += 1
    for j, w in widths.items():
        ws.column_dimensions[get_column_letter(j)].width = max(8, w + 2)


def _qualified_header(header: list[str], meta: dict) -> list[str]:
    """Header of a sheet, where a label that repeats is prefixed by its spanner.

    A sheet has one header row: the Cox table's "HR (95 % CI)" and "p" under Univariable and
    under Multivariable would read the same; they become "Univariable (…): HR (95 % CI)".
    """
    out = list(header)
    repeated = {h for h in header if header.count(h) > 1}
    for label, idx in _spanner_positions(meta, header):
        for j in idx:
            if 0 <= j < len(out) and header[j] in repeated:
                out[j] = f"{label}: {header[j]}"
    return out


def _write_sheet_cells(ws, rows: list[list[str]], indent: list, paste_ready: bool) -> dict:
    """Write the header and body cells; return ``{column number: text width}``."""
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor=_HEADER_FILL)
    widths: dict[int, int] = {}
    for i, row in enumerate(rows):
        for j, text in enumerate(row, start=1):
            if i == 0:
                cell = ws.cell(row=1, column=j, value=text)
                cell.font, cell.fill = bold, fill
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                value, number_format = _typed(text)
                cell = ws.cell(row=i + 1, column=j, value=value)
                if number_format:
                    cell.number_format = number_format
                if paste_ready and j == 1:
                    _style_row_label(cell, row, indent, i - 1, bold)
            widths[j] = max(widths.get(j, 0), min(len(text), _MAX_WIDTH))
    return widths


def _style_row_label(cell, row: list[str], indent: list, k: int, bold) -> None:
    """First cell of body row ``k`` of a paste-ready table: indented level or bold heading."""
    from openpyxl.styles import Alignment

    if k < len(indent) and indent[k]:
        cell.alignment = Alignment(indent=2)
    elif row[1:] and not any(row[1:]):
        cell.font = bold  # a variable or group heading row


def write_tables_workbook(tables_dir: Path, xlsx_path: Path) -> Path | None:
    r"""Collect every ``<tables_dir>/*.csv`` into one formatted XLSX workbook.

    The first sheet, ``contents``, lists each sheet with its title, kind (paste-ready table,
    listing or data) and file. Each sheet has a bold, filled, frozen header row and fitted
    column widths; cells are typed: numbers with a number format showing the decimals of the
    CSV text (``0.003`` stays ``0.003``), ``True``/``False`` as real booleans, ISO dates as
    dates, empty cells empty. Paste-ready tables (:class:`sirtstats.formatting.ReportTable`)
    keep their indented level rows and carry their footnotes under the table.

    Parameters
    ----------
    tables_dir : Path
        Folder of CSV tables (and ``*.table.json`` sidecars).
    xlsx_path : Path
        Destination workbook.

    Returns
    -------
    Path or None
        ``xlsx_path``, or None when there is no table.

    Notes
    -----
    A table of more than :data:`sirtstats.formatting.XLSX_MAX_ROWS` rows (a listing of a
    large registry) gets no sheet: the contents sheet names its CSV file ("CSV only").
    Sheet names are unique (case-insensitively, as Excel compares them), at most 31
    characters and free of ``[]:*?/\``; a cut name ends in ``~2``, ``~3`` … when it would
    collide, and the contents sheet maps every sheet to its file.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    csvs = sorted(Path(tables_dir).glob("*.csv")) if Path(tables_dir).is_dir() else []
    if not csvs:
        return None
    wb = Workbook()
    contents = wb.active
    contents.title = "contents"
    contents.append(["sheet", "title", "kind", "table file", "rows"])
    for cell in contents[1]:
        cell.font = Font(bold=True)
    for path, sheet_name in zip(csvs, _sheet_names([p.stem for p in csvs]), strict=True):
        rows, meta = _read_table(path)
        kind = {"table": "table", "listing": "listing"}.get(meta.get("kind"), "data")
        n_rows = max(len(rows) - 1, 0)
        if n_rows > XLSX_MAX_ROWS:  # CSV only: a sheet this long is no table to read
            contents.append(["(CSV only)", meta.get("title", path.stem), kind,
                             f"tables/{path.name}", n_rows])
            continue
        ws = wb.create_sheet(sheet_name)
        _fill_sheet(ws, rows, meta)
        contents.append([sheet_name, meta.get("title", path.stem), kind, f"tables/{path.name}",
                         n_rows])
    for col, width in zip("ABCDE", (34, 60, 10, 44, 8), strict=True):
        contents.column_dimensions[col].width = width
    wb.properties.creator = "sirtstats"
    buf = io.BytesIO()
    wb.save(buf)
    Path(xlsx_path).write_bytes(_normalise_xlsx(buf.getvalue()))
    return Path(xlsx_path)


def write_tables_docx(tables_dir: Path, docx_path: Path) -> Path | None:
    """Write every paste-ready table of ``tables_dir`` into one Word file, ``tables.docx``.

    Each table (a CSV with a ``kind: table`` sidecar written by
    :meth:`sirtstats.formatting.ReportTable.save`) becomes a title paragraph, a Word table
    with its spanner and header rows in bold, indented level rows, and its footnotes below
    in small type, in file order. Listings and data CSVs are left out (they are in the
    workbook).

    Parameters
    ----------
    tables_dir : Path
        Folder of CSV tables and sidecars.
    docx_path : Path
        Destination ``.docx``.

    Returns
    -------
    Path or None
        ``docx_path``, or None when there is no paste-ready table.
    """
    import datetime as dt

    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    csvs = sorted(Path(tables_dir).glob("*.csv")) if Path(tables_dir).is_dir() else []
    tables = [(p, *_read_table(p)) for p in csvs]
    tables = [t for t in tables if t[2].get("kind") == "table" and t[1]]
    if not tables:
        return None
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(1.5))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(9)
    for k, (path, rows, meta) in enumerate(tables):
        if k:
            doc.add_page_break()
        _add_docx_table(doc, path, rows, meta)
    fixed = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    doc.core_properties.created = doc.core_properties.modified = fixed
    doc.core_properties.author = "sirtstats"
    doc.core_properties.last_modified_by = "sirtstats"
    doc.core_properties.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    Path(docx_path).write_bytes(_normalise_xlsx(buf.getvalue()))
    return Path(docx_path)


def _add_docx_table(doc, path: Path, rows: list[list[str]], meta: dict) -> None:
    """Append one paste-ready table to ``doc``: title, bold header rows, body, footnotes."""
    from docx.shared import Cm, Pt

    title = doc.add_paragraph()
    title.add_run(meta.get("title", path.stem)).bold = True
    header, body = rows[0], rows[1:]
    spanners = _spanner_positions(meta, header)
    header = _unqualified_header(header, spanners)
    n_head = 2 if spanners else 1
    table = doc.add_table(rows=n_head + len(body), cols=len(header))
    table.style = "Table Grid"
    _fill_docx_header(table, header, spanners, n_head)
    indent = meta.get("indent", [])
    for i, row in enumerate(body):
        cells = table.rows[n_head + i].cells  # table.cell(r, c) walks the whole table
        for j, text in enumerate(row):
            cell = cells[j]
            cell.text = text
            if j == 0:
                _style_docx_row_label(cell, row, indent, i, Cm(0.4))
    for note in meta.get("footnotes", []):
        p = doc.add_paragraph()
        run = p.add_run(note)
        run.font.size = Pt(8)


def _unqualified_header(header: list[str], spanners: list) -> list[str]:
    """Header under a spanner row: the CSV's "Univariable (…): HR (95 % CI)" (unique labels,
    decision D63) reads "HR (95 % CI)" under the "Univariable (…)" spanner."""
    out = list(header)
    for label, idx in spanners:
        for j in idx:
            if 0 <= j < len(out) and out[j].startswith(f"{label}: "):
                out[j] = out[j][len(label) + 2:]
    return out


def _spanner_positions(meta: dict, header: list[str]) -> list[tuple[str, list[int]]]:
    """``(label, column positions)`` of each spanner of a table sidecar.

    The positions written by :meth:`sirtstats.formatting.ReportTable.metadata` when present:
    header labels repeat (the Cox table's "HR (95 % CI)" under both Univariable and
    Multivariable), and looking them up put both spanners over the first pair. Older
    sidecars without positions fall back to the labels.
    """
    if "spanner_columns" in meta:
        return [(label, [int(i) for i in idx]) for label, idx in meta["spanner_columns"]]
    return [(label, [header.index(c) for c in cols if c in header])
            for label, cols in meta.get("spanners", [])]


def _fill_docx_header(table, header: list[str], spanners: list, n_head: int) -> None:
    """Spanner row (when any) and column header row of a Word table, in bold.

    ``spanners`` holds ``(label, column positions)`` (:func:`_spanner_positions`).
    """
    for label, idx in spanners:
        if idx:
            cell = table.cell(0, min(idx)).merge(table.cell(0, max(idx)))
            cell.text = label
    header_cells = table.rows[n_head - 1].cells
    for j, text in enumerate(header):
        header_cells[j].text = text
    for i in range(n_head):
        for cell in table.rows[i].cells:
            for run in (r for p in cell.paragraphs for r in p.runs):
                run.bold = True


def _style_docx_row_label(cell, row: list[str], indent: list, i: int, left_indent) -> None:
    """First cell of body row ``i`` in Word: indented level row or bold heading row."""
    if i < len(indent) and indent[i]:
        cell.paragraphs[0].paragraph_format.left_indent = left_indent
    elif not any(row[1:]):
        for run in cell.paragraphs[0].runs:
            run.bold = True


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _typed(value: str):
    """A CSV text as an Excel value and number format (None: the default format)."""
    import datetime as dt

    if value == "":
        return None, None
    if value in ("True", "False"):
        return value == "True", None
    if _DATE.match(value):
        try:
            return dt.datetime.strptime(value, "%Y-%m-%d"), "yyyy-mm-dd"
        except ValueError:
            return value, None
    number = _cell(value)
    if isinstance(number, int):
        return number, "0"
    if isinstance(number, float):
        mantissa = value.lower().split("e")[0]
        if "e" in value.lower() or not mantissa.count("."):
            return number, None  # General: 1.88E-12 rather than a rounded 0
        decimals = len(mantissa.split(".")[1])
        if decimals > 4:  # raw analysis numbers: show 4 significant decimals, keep precision
            return number, "0.0000"
        return number, "0." + "0" * decimals if decimals else "0"
    return value, None


def _cell(value: str):
    if value == "":
        return None
    if _NUMBER.match(value) and not re.match(r"[+-]?0\d", value):  # keep "007" as text
        number = float(value)
        digits = value.lstrip("+-")
        if number.is_integer() and digits.isdigit() and len(digits) < 16:
            return int(number)
        return number
    return value
