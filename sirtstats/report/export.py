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

__all__ = [
    "EXTERNAL_RESOURCE",
    "export_notebook_html",
    "merge_metrics",
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


def write_tables_workbook(tables_dir: Path, xlsx_path: Path) -> Path | None:
    """Collect every ``<tables_dir>/*.csv`` into one XLSX workbook (one sheet per table).

    The first sheet, ``contents``, maps sheet names to table files (sheet names are cut to
    Excel's 31 characters). Cells hold the CSV values typed as numbers where they parse as
    numbers, text otherwise; empty cells stay empty.

    Parameters
    ----------
    tables_dir : Path
        Folder of CSV tables.
    xlsx_path : Path
        Destination workbook.

    Returns
    -------
    Path or None
        ``xlsx_path``, or None when there is no table.
    """
    import csv

    from openpyxl import Workbook

    csvs = sorted(Path(tables_dir).glob("*.csv")) if Path(tables_dir).is_dir() else []
    if not csvs:
        return None
    wb = Workbook()
    contents = wb.active
    contents.title = "contents"
    contents.append(["sheet", "table file", "rows"])
    for path, sheet_name in zip(csvs, _sheet_names([p.stem for p in csvs]), strict=True):
        ws = wb.create_sheet(sheet_name)
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        for i, row in enumerate(rows):
            ws.append([_cell(v) if i else v for v in row])
        if rows:
            ws.freeze_panes = "A2"
        contents.append([sheet_name, f"tables/{path.name}", max(len(rows) - 1, 0)])
    wb.properties.creator = "sirtstats"
    buf = io.BytesIO()
    wb.save(buf)
    Path(xlsx_path).write_bytes(_normalise_xlsx(buf.getvalue()))
    return Path(xlsx_path)


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


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
