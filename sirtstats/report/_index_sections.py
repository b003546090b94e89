"""What the summary page shows (:class:`IndexContent`) and its sections, for the template.

Part of :mod:`sirtstats.report.index_html` (import from there): population, headline,
thumbnails, registry activity, changes, settings and disclosure mode, as the context of
``templates/index.html.j2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sirtstats.report._index_format import (
    MINUS,
    _fixed,
    _format_generic,
    _num,
    format_count_pct,
)
from sirtstats.report._index_headline import _headline_changes, _setting_changes, headline_rows
from sirtstats.report._index_metrics import _is_setting, _section, flatten_metrics, metric_label
from sirtstats.report.activity import ACTIVITY_LABELS

__all__ = ["KEY_FIGURES", "IndexContent"]


#: Figures shown as thumbnails on the index, in this order (stem -> caption); figures of the
#: report that are not listed here are linked in the files list only.
KEY_FIGURES: dict[str, str] = {
    "03_km_os": "Overall survival (Kaplan\u2013Meier)",
    "03_km_pfs": "Progression-free survival (Kaplan\u2013Meier)",
    "02_waterfall": "Best change of the target sum (waterfall)",
    "04_ae_grades": "Treatment-emergent AEs by worst grade",
    "05_dose_response": "Lesion dose\u2013response",
    "01_flow": "Patient flow",
}
#: How many figures to show when none of :data:`KEY_FIGURES` exists (e.g. custom notebooks).
N_FALLBACK_THUMBNAILS = 4

#: Notebook parameters every report notebook declares (shown once, as the report's filters).
COMMON_PARAMETERS = ("data_path", "cutoff_date", "output_dir", "diagnoses", "devices")
#: Left out of the page's analysis parameters too: the runner's plumbing (where a notebook read
#: the registry; that folder is removed on publication), not a choice of analysis.
_RUNNER_PLUMBING = ("snapshot_path",)


@dataclass
class IndexContent:
    """Everything index.html shows (plain data; paths relative to the report folder)."""

    period: str
    cutoff_date: str
    data_source: str
    diagnoses: list
    devices: list
    criterion: str | None
    metrics: dict
    activity: dict
    notebooks: list = field(default_factory=list)  # (stem, title)
    tables: list = field(default_factory=list)  # stems
    figures: list = field(default_factory=list)  # stems
    has_workbook: bool = False
    has_docx: bool = False  # tables.docx written (python-docx) beside tables.xlsx
    previous: dict | None = None  # {"period", "cutoff_date", "new": {...}, "deltas": [...]}
    sirtstats_version: str = ""
    git_commit: str | None = None
    #: figure stem -> link to its section ("notebooks/03_survival.html#cell-id=...")
    figure_links: dict = field(default_factory=dict)
    #: notebook stem -> {parameter: value as written} (analysis settings of each notebook)
    notebook_parameters: dict = field(default_factory=dict)
    #: the previous report's metrics.json (for the settings that changed), if known
    previous_metrics: dict | None = None
    #: package -> version
    packages: dict = field(default_factory=dict)
    #: notebooks left out for want of optional data: (stem, title, note)
    skipped: list = field(default_factory=list)
    #: disclosure mode of the report ("internal" or "shareable", decision D40)
    disclosure: str = "internal"
    #: shareable report: counts 0 < n < this are suppressed (D41)
    small_cell_threshold: int = 5


def _population(c: IndexContent) -> dict:
    from sirtstats.labels import value_label

    cohort = _section(c.metrics, "01_cohort")
    by_dx = cohort.get("n_by_diagnosis") if isinstance(cohort.get("n_by_diagnosis"), dict) else {}
    dx = sorted(((value_label(k), v) for k, v in by_dx.items() if _num(v) is not None),
                key=lambda kv: (-kv[1], kv[0]))
    n_incl = next((cohort[k] for k in ("n_included", "n_patients", "n_cohort") if k in cohort),
                  None)
    followup = _num(_section(c.metrics, "03_survival").get("median_followup_months"))
    return {
        "n_included": format_count_pct(n_incl, None) if n_incl is not None else None,
        "n_registry": format_count_pct(cohort.get("n_registry"), None)
        if _num(cohort.get("n_registry")) is not None else None,
        "n_excluded": format_count_pct(cohort.get("n_excluded"), None)
        if _num(cohort.get("n_excluded")) is not None else None,
        "diagnoses": ", ".join(value_label(d) for d in c.diagnoses) if c.diagnoses
        else "all diagnoses" + _own_defaults(c, "diagnoses"),
        "devices": ", ".join(value_label(d) for d in c.devices) if c.devices
        else "all devices" + _own_defaults(c, "devices"),
        "criterion": value_label(c.criterion) if c.criterion else None,
        "by_diagnosis": [(label, format_count_pct(v, None)) for label, v in dx],
        "followup": None if followup is None else f"{_fixed(followup, 1)} months",
    }


def _own_defaults(c: IndexContent, name: str) -> str:
    """Notebooks whose own default restricts ``name`` when the report set no filter.

    The report passes a notebook only what the user set, so a notebook's default stands
    (05 Dosimetry analyses HCC unless told otherwise); the page must say so.
    """
    import ast

    from sirtstats.labels import value_label

    titles = dict(c.notebooks)
    own = []
    for stem, params in sorted(c.notebook_parameters.items()):
        try:
            values = ast.literal_eval(params[name]) if name in params else None
        except (ValueError, SyntaxError):
            continue
        if values:
            codes = values if isinstance(values, list | tuple) else [values]
            own.append(f"{titles.get(stem, stem)}: {', '.join(value_label(v) for v in codes)} "
                       "only")
    return f" (except {'; '.join(own)}, the notebook's own default)" if own else ""


def _thumbnails(c: IndexContent) -> list[dict]:
    png = list(c.figures)
    chosen = [(s, KEY_FIGURES[s]) for s in KEY_FIGURES if s in png]
    if not chosen:
        chosen = [(s, metric_label(s)) for s in png[:N_FALLBACK_THUMBNAILS]]
    return [{"stem": s, "caption": cap, "src": f"figures/{s}.png",
             "href": c.figure_links.get(s) or _notebook_of(s, c) or f"figures/{s}.png"}
            for s, cap in chosen]


def _notebook_of(stem: str, c: IndexContent) -> str | None:
    for nb, _title in c.notebooks:
        if stem.startswith(nb) or stem.split("_", 1)[0] == nb.split("_", 1)[0]:
            return f"notebooks/{nb}.html"
    return None


def _other_changes(c: IndexContent, headline: list[dict]) -> list[dict]:
    shown = {r["path"] for r in headline if r["path"]}
    rows = []
    for row in (c.previous or {}).get("deltas", []):
        key = row["key"]
        if key in shown or _is_setting(key) or key.startswith("registry."):
            continue
        d = row["delta"]
        delta = _format_generic(d)
        if _format_generic(row["previous"]) == _format_generic(row["current"]) or \
                delta.lstrip(MINUS).strip("0.") == "":
            delta, d = "no change", 0
        rows.append({"label": metric_label(key), "previous": _format_generic(row["previous"]),
                     "current": _format_generic(row["current"]),
                     "delta": ("+" if d > 0 else "") + delta,
                     "cls": "up" if d > 0 else "down" if d < 0 else ""})
    return rows


def _settings(c: IndexContent) -> dict:
    recorded = []
    for key, value in flatten_metrics(c.metrics).items():
        if _is_setting(key) and key.split(".")[-1] != "cutoff_date":
            recorded.append((metric_label(key), _format_generic(value)))
    notebooks = []
    for stem, params in sorted(c.notebook_parameters.items()):
        items = [(k, v) for k, v in params.items()
                 if k not in COMMON_PARAMETERS + _RUNNER_PLUMBING]
        if items:
            notebooks.append((stem, items))
    return {"recorded": recorded, "notebooks": notebooks,
            "packages": sorted((k, v) for k, v in c.packages.items()
                               if v and k != "sirtstats")}


def _context(c: IndexContent) -> dict:
    headline = headline_rows(c.metrics)
    sections = []
    for row in headline:
        if not sections or sections[-1][0] != row["section"]:
            sections.append((row["section"], []))
        sections[-1][1].append(row)
    previous_flat = {}
    if c.previous:
        previous_flat = {r["key"]: r["previous"] for r in c.previous.get("deltas", [])}
    activity = [{"label": label, "total": format_count_pct(c.activity.get(k), None),
                 "new": format_count_pct((c.previous or {}).get("new", {}).get(k), None)}
                for k, label in ACTIVITY_LABELS.items()]
    return {
        "c": c,
        "commit": (c.git_commit or "unknown")[:12],
        "population": _population(c),
        "headline": sections,
        "thumbnails": _thumbnails(c),
        "activity": activity,
        "headline_changes": _headline_changes(headline, previous_flat) if c.previous else [],
        "other_changes": _other_changes(c, headline) if c.previous else [],
        "setting_changes": (_setting_changes(c.metrics, c.previous_metrics)
                            if c.previous and c.previous_metrics else []),
        "settings": _settings(c),
        "figure_rows": [{"stem": s, "label": KEY_FIGURES.get(s, metric_label(s))}
                        for s in c.figures],
        "disclosure": _disclosure_text(c),
    }


def _disclosure_text(c: IndexContent) -> str:
    """Which mode produced the report (D40)."""
    if c.disclosure == "shareable":
        return (f"shareable report: no patient-level listing, no patient id, counts below "
                f"{c.small_cell_threshold} suppressed ([c])")
    return "internal report (data review: listings and every count; do not share)"
