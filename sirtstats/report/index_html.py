"""The report's front page, ``index.html``: the summary a clinician reads in one minute.

Sections, top to bottom: population and cut-off; one headline table (n; ORR and DCR with exact
95 % CI per criterion; median OS, PFS, hepatic PFS and TTP in months with 95 % CI, "NR" where not
reached; 12- and 24-month OS; grade >= 3 treatment-emergent AEs; 30- and 90-day mortality;
REILD); thumbnails of the key figures linking to their section of the notebook pages; changes
since the previous report (rounded deltas with their unit; settings are listed apart, never as
results); the notebook, table and figure files; the settings (parameters, filters, cut-off,
versions) in their own block.

The page is rendered with Jinja2 from ``templates/index.html.j2`` (autoescaped), is one HTML
file with inline CSS and no script, and is deterministic: no run time is shown, so two runs on
the same input give the same page.

The formatting helpers (:func:`format_pct_ci`, :func:`format_months_ci`, :func:`format_delta`)
are the single place where the page's numbers are spelled.

Everything is importable from here; :func:`render_index` and :func:`write_index` live here,
the rest in private modules beside it: ``_index_format`` (numbers), ``_index_metrics`` (the
merged metrics: paths, labels, deltas), ``_index_headline`` (the headline and changes tables),
``_index_sections`` (:class:`IndexContent` and the page's sections) and ``_index_pages`` (the
notebook pages: figure anchors, parameters, back links).
"""

from __future__ import annotations

import json
from pathlib import Path

from sirtstats.report._index_format import EN_DASH as EN_DASH
from sirtstats.report._index_format import MINUS as MINUS
from sirtstats.report._index_format import MISSING as MISSING
from sirtstats.report._index_format import NOT_REACHED as NOT_REACHED
from sirtstats.report._index_format import (
    format_count_pct,
    format_delta,
    format_months_ci,
    format_pct_ci,
)
from sirtstats.report._index_headline import HEADLINE_CRITERIA as HEADLINE_CRITERIA
from sirtstats.report._index_headline import HEADLINE_ENDPOINTS as HEADLINE_ENDPOINTS
from sirtstats.report._index_headline import headline_rows
from sirtstats.report._index_metrics import SETTING_KEYS as SETTING_KEYS
from sirtstats.report._index_metrics import flatten_metrics, metric_deltas, metric_label
from sirtstats.report._index_pages import add_back_link, figure_links, notebook_parameters
from sirtstats.report._index_sections import COMMON_PARAMETERS as COMMON_PARAMETERS
from sirtstats.report._index_sections import KEY_FIGURES, IndexContent, _context
from sirtstats.report._index_sections import N_FALLBACK_THUMBNAILS as N_FALLBACK_THUMBNAILS
from sirtstats.report._index_sections import _population as _population

__all__ = [
    "KEY_FIGURES",
    "IndexContent",
    "add_back_link",
    "figure_links",
    "flatten_metrics",
    "format_count_pct",
    "format_delta",
    "format_months_ci",
    "format_pct_ci",
    "headline_rows",
    "metric_deltas",
    "metric_label",
    "render_index",
    "write_index",
]


def render_index(c: IndexContent) -> str:
    """Render index.html for a report.

    Parameters
    ----------
    c : IndexContent
        What to show.

    Returns
    -------
    str
        The HTML page (Jinja2 template ``templates/index.html.j2``, autoescaped).
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("sirtstats.report", "templates"),
                      autoescape=select_autoescape(("html", "j2")), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("index.html.j2").render(**_context(c))


def write_index(report_dir: Path, content: IndexContent) -> Path:
    """Finish the report's pages: back links on the notebook pages, then ``index.html``.

    The runner calls this once every notebook page exists (in the attempt folder, before the
    output hashes). It adds to ``content`` what it reads from the folder when not given: figure
    links (:func:`figure_links`), each notebook's parameters (:func:`notebook_parameters`),
    the previous report's ``metrics.json`` (sibling folder ``<root>/<previous period>/``) and
    key package versions.

    Parameters
    ----------
    report_dir : Path
        The report (or attempt) folder holding ``notebooks/``, ``figures/``.
    content : IndexContent
        What the runner knows.

    Returns
    -------
    Path
        ``<report_dir>/index.html``.
    """
    from dataclasses import replace

    report_dir = Path(report_dir)
    nb_dir = report_dir / "notebooks"
    for page in sorted(nb_dir.glob("*.html")):
        add_back_link(page, period=content.period)
    extra = {}
    if not content.figure_links and nb_dir.is_dir():
        extra["figure_links"] = figure_links(nb_dir, content.figures)
    if not content.notebook_parameters and nb_dir.is_dir():
        extra["notebook_parameters"] = {p.stem: notebook_parameters(p)
                                        for p in sorted(nb_dir.glob("*.ipynb"))}
    if content.previous and content.previous_metrics is None:
        prev = report_dir.parent / str(content.previous.get("period")) / "metrics.json"
        if prev.is_file():
            extra["previous_metrics"] = json.loads(prev.read_text(encoding="utf-8"))
    if not content.packages:
        from sirtstats.report.manifest import package_versions

        extra["packages"] = package_versions()
    content = replace(content, **extra)
    out = report_dir / "index.html"
    out.write_text(render_index(content), encoding="utf-8")
    return out
