"""The report's front page, ``index.html``: key numbers, changes, links, provenance.

The page is one self-contained HTML file (inline CSS, no script, no external resource) and is
deterministic: it shows no run time, so two runs on the same input give the same page.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

from sirtstats.report.activity import ACTIVITY_LABELS

__all__ = ["IndexContent", "flatten_metrics", "metric_deltas", "render_index"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;
max-width:60rem;padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.25rem .7rem;text-align:left;
border-bottom:1px solid #eee}td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#555}.up{color:#0a6b2c}.down{color:#a11}code{font-size:.9em}
ul.files{columns:2}nav a{margin-right:1rem}
"""


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
    previous: dict | None = None  # {"period", "cutoff_date", "new": {...}, "deltas": [...]}
    sirtstats_version: str = ""
    git_commit: str | None = None


def flatten_metrics(metrics: dict, prefix: str = "") -> dict[str, object]:
    """``{"01_cohort": {"n": 3}}`` -> ``{"01_cohort.n": 3}`` (leaves only, sorted keys)."""
    out = {}
    for key in sorted(metrics):
        value = metrics[key]
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_metrics(value, f"{name}."))
        else:
            out[name] = value
    return out


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not (
        isinstance(value, float) and math.isnan(value))


def metric_deltas(current: dict, previous: dict) -> list[dict]:
    """Numeric key numbers present in both metric sets, with their change.

    Returns
    -------
    list of dict
        ``{"key", "previous", "current", "delta"}`` sorted by key.
    """
    cur, prev = flatten_metrics(current), flatten_metrics(previous)
    rows = []
    for key in sorted(set(cur) & set(prev)):
        a, b = prev[key], cur[key]
        if _is_number(a) and _is_number(b):
            rows.append({"key": key, "previous": a, "current": b, "delta": b - a})
    return rows


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u2009")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return _fmt(int(value))
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value) if value else "–"
    return str(value)


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _label(key: str) -> str:
    notebook, _, name = key.partition(".")
    return f"{name.replace('_', ' ')}" if name else key.replace("_", " ")


#: How metric path parts read in the report (criteria keep their published spelling).
_LABEL_WORDS = {"RECIST_1_1": "RECIST 1.1", "mRECIST": "mRECIST", "pct": "%", "ci": "CI",
                "km": "KM", "os": "OS", "pfs": "PFS", "teae": "TEAE", "reild": "REILD",
                "auc": "AUC", "d50": "D50", "gy": "(Gy)", "ttp": "TTP", "dor": "DoR",
                "orr": "ORR", "dcr": "DCR", "cr": "CR"}


def metric_label(path: str) -> str:
    """Readable label of a flattened metric path, e.g. ``RECIST_1_1.orr_pct`` -> ``RECIST 1.1 ·
    orr %``."""
    parts = []
    for part in path.split("."):
        if part in _LABEL_WORDS:
            parts.append(_LABEL_WORDS[part])
            continue
        words = [_LABEL_WORDS.get(w, w) for w in part.split("_")]
        parts.append(" ".join(words))
    return " · ".join(parts)


def _key_numbers(metrics: dict) -> str:
    parts = []
    for notebook in sorted(metrics):
        section = metrics[notebook]
        if not isinstance(section, dict) or notebook == "registry":
            continue
        rows = "".join(
            f"<tr><td>{_e(metric_label(k))}</td><td class=num>{_e(_fmt(v))}</td></tr>"
            for k, v in flatten_metrics(section).items()
        )
        parts.append(f"<h3 id='metrics-{_e(notebook)}'>{_e(notebook)}</h3><table>{rows}</table>")
    return "".join(parts) or "<p>No key numbers were saved by the notebooks.</p>"


def _population(c: IndexContent) -> str:
    filters = []
    filters.append("diagnoses: " + (", ".join(c.diagnoses) if c.diagnoses else "all"))
    filters.append("devices: " + (", ".join(c.devices) if c.devices else "all"))
    filters.append("response criterion: " + (c.criterion or "each notebook's default"))
    cohort = c.metrics.get("01_cohort", {}) if isinstance(c.metrics.get("01_cohort"), dict) else {}
    n_incl = next((cohort[k] for k in ("n_included", "n_patients", "n_cohort") if k in cohort),
                  None)
    n_line = (f"<p><strong>{_e(_fmt(n_incl))}</strong> patients included in the analysis "
              f"cohort.</p>") if n_incl is not None else ""
    return (f"<p>Patients of the registry treated with SIRT up to the data cut-off; "
            f"{_e('; '.join(filters))}.</p>{n_line}")


def _activity(c: IndexContent) -> str:
    rows = "".join(f"<tr><td>{_e(label)}</td><td class=num>{_e(_fmt(c.activity.get(k)))}</td></tr>"
                   for k, label in ACTIVITY_LABELS.items())
    return f"<table><tr><th>up to {_e(c.cutoff_date)}</th><th>n</th></tr>{rows}</table>"


def _changes(c: IndexContent) -> str:
    if not c.previous:
        return ("<p>No previous report was found beside this one, so there is nothing to compare "
                "with.</p>")
    p = c.previous
    new_rows = "".join(
        f"<tr><td>new {_e(label)}</td><td class=num>{_e(_fmt(p['new'].get(k)))}</td></tr>"
        for k, label in ACTIVITY_LABELS.items())
    delta_rows = []
    for row in p["deltas"]:
        d = row["delta"]
        cls = "up" if d > 0 else "down" if d < 0 else ""
        sign = "+" if d > 0 else ""
        delta_rows.append(
            f"<tr><td>{_e(metric_label(row['key']))}</td>"
            f"<td class=num>{_e(_fmt(row['previous']))}</td>"
            f"<td class=num>{_e(_fmt(row['current']))}</td>"
            f"<td class='num {cls}'>{_e(sign + _fmt(d))}</td></tr>")
    deltas = (f"<h3>Change in key numbers</h3><table><tr><th>key number</th>"
              f"<th>{_e(p['period'])}</th><th>{_e(c.period)}</th><th>change</th></tr>"
              f"{''.join(delta_rows)}</table>") if delta_rows else ""
    return (f"<p>Compared with the <a href='../{_e(p['period'])}/index.html'>{_e(p['period'])} "
            f"report</a> (cut-off {_e(p['cutoff_date'])}): events dated after "
            f"{_e(p['cutoff_date'])} up to {_e(c.cutoff_date)}.</p>"
            f"<table>{new_rows}</table>{deltas}")


def _files(c: IndexContent) -> str:
    nb = "".join(
        f"<li><a href='notebooks/{_e(stem)}.html'>{_e(title)}</a> "
        f"(<a href='notebooks/{_e(stem)}.ipynb'>executed notebook</a>)</li>"
        for stem, title in c.notebooks)
    tables = "".join(f"<li><a href='tables/{_e(s)}.csv'>{_e(s)}.csv</a></li>" for s in c.tables)
    figures = "".join(
        f"<li>{_e(s)}: <a href='figures/{_e(s)}.png'>PNG</a> · "
        f"<a href='figures/{_e(s)}.svg'>SVG</a></li>" for s in c.figures)
    workbook = ("<p><a href='tables.xlsx'>All tables in one workbook (tables.xlsx)</a></p>"
                if c.has_workbook else "")
    return (f"<h2 id='notebooks'>Notebooks</h2><ul>{nb or '<li>none</li>'}</ul>"
            f"<h2 id='tables'>Tables</h2>{workbook}<ul class=files>{tables or '<li>none</li>'}</ul>"
            f"<h2 id='figures'>Figures</h2><ul class=files>{figures or '<li>none</li>'}</ul>")


def render_index(c: IndexContent) -> str:
    """Render index.html for a report.

    Parameters
    ----------
    c : IndexContent
        What to show.

    Returns
    -------
    str
        The HTML page.
    """
    commit = (c.git_commit or "unknown")[:12]
    prev_title = (f"Changes since {c.previous['period']}" if c.previous
                  else "Changes since last quarter")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SIRT registry report {_e(c.period)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>SIRT registry report {_e(c.period)}</h1>
<p class=meta>Data cut-off <strong>{_e(c.cutoff_date)}</strong> · data: {_e(c.data_source)} ·
sirtstats {_e(c.sirtstats_version)} · commit <code>{_e(commit)}</code> ·
<a href='manifest.json'>manifest.json</a> · <a href='metrics.json'>metrics.json</a></p>
<nav><a href='#population'>Population</a><a href='#key-numbers'>Key numbers</a>
<a href='#changes'>Changes</a><a href='#notebooks'>Notebooks</a><a href='#tables'>Tables</a>
<a href='#figures'>Figures</a></nav>
<h2 id='population'>Population</h2>
{_population(c)}
<h3>Registry activity</h3>
{_activity(c)}
<h2 id='key-numbers'>Key numbers</h2>
{_key_numbers(c.metrics)}
<h2 id='changes'>{_e(prev_title)}</h2>
{_changes(c)}
{_files(c)}
</body>
</html>
"""
