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
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from sirtstats.report.activity import ACTIVITY_LABELS

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

#: En dash between CI bounds, minus sign for negative deltas (typographic, as journals print).
EN_DASH = "\u2013"
MINUS = "\u2212"
#: What the page prints for a median (or bound) not reached.
NOT_REACHED = "NR"
#: What the page prints for a number the notebooks did not record.
MISSING = "\u2014"

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

#: Endpoints of the headline table: metric key in ``03_survival.km`` -> label.
HEADLINE_ENDPOINTS: dict[str, str] = {
    "OS": "Overall survival",
    "PFS": "Progression-free survival",
    "hepatic_PFS": "Hepatic progression-free survival",
    "TTP": "Time to progression",
}
#: Response criteria of the headline table: metric key in ``02_response`` -> label.
HEADLINE_CRITERIA: dict[str, str] = {"RECIST_1_1": "RECIST 1.1", "mRECIST": "mRECIST"}

#: Metric leaves that record how an analysis was run, not what it found: never shown as a
#: result or a delta, listed in the settings block instead (``settings.*`` sub-dicts too).
SETTING_KEYS = frozenset({
    "cutoff_date", "conf_type", "criterion", "origin", "window_days", "reild_definition",
    "threshold_gy", "literature_thresholds_gy", "n_bootstrap", "seed",
})
#: Notebook parameters every report notebook declares (shown once, as the report's filters).
COMMON_PARAMETERS = ("data_path", "cutoff_date", "output_dir", "diagnoses", "devices")

_BACK_LINK_MARK = "sirtstats-back-link"


# --- number formatting --------------------------------------------------------------------------

def _num(value) -> float | None:
    """``value`` as a finite float, or None (None, NaN, inf, bool, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _fixed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    if text.startswith("-"):
        text = MINUS + text[1:]
    return text


def format_pct_ci(pct, lower=None, upper=None, *, digits: int = 1) -> str:
    """A percentage with its CI as the report prints it: ``"21.4 % (16.8–26.5)"``.

    Parameters
    ----------
    pct : float or None
        Estimate in % (0-100).
    lower, upper : float or None
        CI bounds in %; the CI is left out when either is missing.
    digits : int, default 1
        Decimals.

    Returns
    -------
    str
        ``"—"`` when ``pct`` is missing.

    Examples
    --------
    >>> format_pct_ci(21.3559322, 16.81846094, 26.47900566)
    '21.4 % (16.8–26.5)'
    >>> format_pct_ci(3.0821, None, 5.77)
    '3.1 %'
    """
    pct, lower, upper = _num(pct), _num(lower), _num(upper)
    if pct is None:
        return MISSING
    text = f"{_fixed(pct, digits)} %"
    if lower is not None and upper is not None:
        text += f" ({_fixed(lower, digits)}{EN_DASH}{_fixed(upper, digits)})"
    return text


def format_months_ci(median, lower=None, upper=None, *, digits: int = 1) -> str:
    """A median time in months with its CI: ``"15.2 months (13.3–16.6)"``, ``"NR"``.

    A median (or upper bound) that the Kaplan-Meier curve does not reach is None or NaN in the
    metrics and prints as "NR" (not reached).

    Parameters
    ----------
    median : float or None
        Median in months; None/NaN = not reached.
    lower, upper : float or None
        CI bounds in months; None/NaN = not reached.
    digits : int, default 1
        Decimals.

    Returns
    -------
    str

    Examples
    --------
    >>> format_months_ci(15.17864476, 13.30595483, 16.59137577)
    '15.2 months (13.3–16.6)'
    >>> format_months_ci(18.04, 12.5, None)
    '18.0 months (12.5–NR)'
    >>> format_months_ci(None, None, None)
    'NR'
    >>> format_months_ci(None, 20.0, None)
    'NR (20.0–NR)'
    """
    median, lower, upper = _num(median), _num(lower), _num(upper)
    head = NOT_REACHED if median is None else f"{_fixed(median, digits)} months"
    if lower is None:
        return head
    hi = NOT_REACHED if upper is None else _fixed(upper, digits)
    return f"{head} ({_fixed(lower, digits)}{EN_DASH}{hi})"


def format_count_pct(n, pct, *, digits: int = 1) -> str:
    """A count with its percentage: ``"45 (15.3 %)"``.

    Examples
    --------
    >>> format_count_pct(45, 15.25423729)
    '45 (15.3 %)'
    >>> format_count_pct(4, None)
    '4'
    """
    n, pct = _num(n), _num(pct)
    if n is None:
        return MISSING
    text = f"{int(n):,}".replace(",", "\u2009")
    return text if pct is None else f"{text} ({_fixed(pct, digits)} %)"


#: Unit of a delta per quantity kind ("pct" and "prop" are both shown in %).
_DELTA_UNITS = {"pct": "pp", "prop": "pp", "months": "months", "count": ""}


def format_delta(previous, current, kind: str, *, digits: int = 1) -> str:
    """The change between two reports, rounded as the values are shown, with its unit.

    Parameters
    ----------
    previous, current : float
        The two values (``prop`` in 0-1, ``pct`` in %, ``months``, ``count``).
    kind : {"pct", "prop", "months", "count"}
        Quantity kind: percentages change by percentage points ("pp").
    digits : int, default 1
        Decimals (counts: none).

    Returns
    -------
    str
        ``"+0.6 pp"``, ``"−1.2 months"``, ``"+15"``, ``"no change"`` when the rounded values are
        equal, ``"—"`` when either is missing.

    Examples
    --------
    >>> format_delta(21.36, 22.0, "pct")
    '+0.6 pp'
    >>> format_delta(0.5886, 0.5587, "prop")
    '−3.0 pp'
    >>> format_delta(15.18, 14.01, "months")
    '−1.2 months'
    >>> format_delta(280, 295, "count")
    '+15'
    >>> format_delta(21.36, 21.41, "pct")
    'no change'
    """
    if kind not in _DELTA_UNITS:
        raise ValueError(f"The 'kind' argument of format_delta must be one of "
                         f"{sorted(_DELTA_UNITS)}. Got {kind!r} instead.")
    previous, current = _num(previous), _num(current)
    if previous is None or current is None:
        return MISSING
    scale = 100.0 if kind == "prop" else 1.0
    digits = 0 if kind == "count" else digits
    delta = round(current * scale, digits) - round(previous * scale, digits)
    delta = round(delta, digits)
    if delta == 0:
        return "no change"
    sign = "+" if delta > 0 else MINUS
    number = f"{abs(delta):,.{digits}f}".replace(",", "\u2009")
    unit = _DELTA_UNITS[kind]
    return f"{sign}{number} {unit}".rstrip()


def _format_value(value, kind: str) -> str:
    """One value of the changes table (no CI)."""
    if kind == "prop":
        value = _num(value)
        return format_pct_ci(None if value is None else 100 * value)
    if kind == "pct":
        return format_pct_ci(value)
    if kind == "months":
        return format_months_ci(value)
    return format_count_pct(value, None)


def _format_generic(value) -> str:
    """A number or text of the "other key numbers" list: 3 significant digits, no exponent."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u2009")
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        if value.is_integer() and abs(value) < 1e15:
            return _format_generic(int(value))
        if abs(value) >= 100:
            return _fixed(value, 1)
        if abs(value) >= 1:
            return f"{value:.3g}".replace("-", MINUS)
        return _fixed(value, 3)
    if isinstance(value, list):
        return ", ".join(_format_generic(v) for v in value) if value else MISSING
    return str(value)


# --- metrics ------------------------------------------------------------------------------------

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
    return _num(value) is not None or (isinstance(value, int) and not isinstance(value, bool))


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


def _is_setting(path: str) -> bool:
    parts = path.split(".")
    return parts[-1] in SETTING_KEYS or "settings" in parts[:-1]


#: How metric path parts read in the report (criteria keep their published spelling).
_LABEL_WORDS = {"RECIST_1_1": "RECIST 1.1", "mRECIST": "mRECIST", "pct": "%", "ci": "CI",
                "km": "KM", "os": "OS", "pfs": "PFS", "teae": "TEAE", "reild": "REILD",
                "auc": "AUC", "d50": "D50", "gy": "(Gy)", "ttp": "TTP", "dor": "DoR",
                "orr": "ORR", "dcr": "DCR", "cr": "CR"}


def metric_label(path: str) -> str:
    """Readable label of a flattened metric path, e.g. ``RECIST_1_1.orr_pct`` -> ``RECIST 1.1 ·
    ORR %``."""
    parts = []
    for part in path.split("."):
        if part in _LABEL_WORDS:
            parts.append(_LABEL_WORDS[part])
            continue
        words = [_LABEL_WORDS.get(w, w) for w in part.split("_")]
        parts.append(" ".join(words))
    return " · ".join(parts)


def _get(metrics: dict, path: str):
    node = metrics
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _section(metrics, name) -> dict:
    value = metrics.get(name)
    return value if isinstance(value, dict) else {}


def _row(section, label, value, detail="", *, path=None, kind=None, number=None) -> dict:
    return {"section": section, "label": label, "value": value, "detail": detail,
            "path": path, "kind": kind, "number": number}


def _response_rows(metrics: dict) -> list[dict]:
    resp = _section(metrics, "02_response")
    ci = resp.get("rate_ci_pct") if isinstance(resp.get("rate_ci_pct"), dict) else {}
    settings = resp.get("settings") if isinstance(resp.get("settings"), dict) else {}
    section = "Tumour response (best overall response" + (
        ", confirmed)" if settings.get("confirm") is True else
        ", unconfirmed)" if settings.get("confirm") is False else ")")
    rows = []
    for code, crit in HEADLINE_CRITERIA.items():
        m = resp.get(code)
        if not isinstance(m, dict):
            continue
        c = ci.get(code) if isinstance(ci.get(code), dict) else {}
        n = _num(m.get("n"))
        of_n = f" of {int(n)} evaluable" if n is not None else ""
        n_resp, n_dc = _num(m.get("n_responders")), _num(c.get("n_disease_control"))
        rows.append(_row(
            section, f"ORR, {crit}",
            format_pct_ci(m.get("orr_pct"), c.get("orr_ci_lower_pct"), c.get("orr_ci_upper_pct")),
            (f"{int(n_resp)}{of_n}" if n_resp is not None else of_n.strip()),
            path=f"02_response.{code}.orr_pct", kind="pct", number=m.get("orr_pct")))
        rows.append(_row(
            section, f"DCR, {crit}",
            format_pct_ci(m.get("dcr_pct"), c.get("dcr_ci_lower_pct"), c.get("dcr_ci_upper_pct")),
            (f"{int(n_dc)}{of_n}" if n_dc is not None else of_n.strip()),
            path=f"02_response.{code}.dcr_pct", kind="pct", number=m.get("dcr_pct")))
    return rows


def _metabolic_rows(metrics: dict) -> list[dict]:
    """PERCIST 1.0 metabolic response rate (notebook 06, when the registry has PET data)."""
    section = _section(metrics, "06_pet_response")
    m = section.get("PERCIST_1_0")
    if not isinstance(m, dict) or _num(m.get("mrr_pct")) is None:
        return []
    settings = section.get("settings") if isinstance(section.get("settings"), dict) else {}
    confirm = {True: ", confirmed", False: ", unconfirmed"}.get(settings.get("confirm"), "")
    n, n_resp = _num(m.get("n")), _num(m.get("n_responders"))
    detail = (f"{int(n_resp)} of {int(n)} with a measurable baseline PET"
              if n is not None and n_resp is not None else "")
    return [_row(f"Metabolic response (FDG-PET, best metabolic response{confirm})",
                 "Metabolic response rate (CMR + PMR), PERCIST 1.0",
                 format_pct_ci(m.get("mrr_pct"), m.get("mrr_ci_lower_pct"),
                               m.get("mrr_ci_upper_pct")), detail,
                 path="06_pet_response.PERCIST_1_0.mrr_pct", kind="pct",
                 number=m.get("mrr_pct"))]


def _survival_rows(metrics: dict) -> list[dict]:
    surv = _section(metrics, "03_survival")
    km = surv.get("km") if isinstance(surv.get("km"), dict) else {}
    ci_all = surv.get("km_landmark_ci") if isinstance(surv.get("km_landmark_ci"), dict) else {}
    section = "Survival (Kaplan\u2013Meier, 95 % CI)"
    rows = []
    for code, label in HEADLINE_ENDPOINTS.items():
        m = km.get(code)
        if not isinstance(m, dict):
            continue
        n, events = _num(m.get("n")), _num(m.get("n_events"))
        detail = (f"{int(events)} events in {int(n)} patients"
                  if n is not None and events is not None else "")
        rows.append(_row(section, f"Median {label[0].lower()}{label[1:]}" if code != "TTP"
                         else "Median time to progression",
                         format_months_ci(m.get("median"), m.get("median_lower"),
                                          m.get("median_upper")), detail,
                         path=f"03_survival.km.{code}.median", kind="months",
                         number=m.get("median")))
    os_m = km.get("OS") if isinstance(km.get("OS"), dict) else {}
    os_ci = ci_all.get("OS") if isinstance(ci_all.get("OS"), dict) else {}
    for months in (12, 24):
        s = _num(os_m.get(f"surv_{months}"))
        if s is None:
            continue
        lo, hi = _num(os_ci.get(f"surv_{months}_lower")), _num(os_ci.get(f"surv_{months}_upper"))
        rows.append(_row(section, f"Overall survival at {months} months",
                         format_pct_ci(100 * s, None if lo is None else 100 * lo,
                                       None if hi is None else 100 * hi),
                         path=f"03_survival.km.OS.surv_{months}", kind="prop", number=s))
    return rows


def _safety_rows(metrics: dict) -> list[dict]:
    tox = _section(metrics, "04_toxicity")
    if not tox:
        return []
    section = "Safety"
    n = _num(tox.get("n_patients"))
    window = _num(tox.get("window_days"))
    rows = []
    if _num(tox.get("n_grade3plus_teae")) is not None:
        where = (f"window: first SIRT to last session + {int(window)} days"
                 if window is not None else "")
        of_n = f"of {int(n)} patients" if n is not None else ""
        rows.append(_row(section, "Grade \u2265 3 treatment-emergent AE (CTCAE v5.0)",
                         format_count_pct(tox.get("n_grade3plus_teae"),
                                          tox.get("pct_grade3plus_teae")),
                         "; ".join(x for x in (of_n, where) if x),
                         path="04_toxicity.pct_grade3plus_teae", kind="pct",
                         number=tox.get("pct_grade3plus_teae")))
    for days in (30, 90):
        p = f"mortality_{days}d"
        if _num(tox.get(f"{p}_pct")) is None:
            continue
        deaths, evaluable = _num(tox.get(f"{p}_n_deaths")), _num(tox.get(f"{p}_n_evaluable"))
        detail = (f"{int(deaths)} deaths of {int(evaluable)} evaluable"
                  if deaths is not None and evaluable is not None else "")
        rows.append(_row(section, f"{days}-day mortality after first SIRT",
                         format_pct_ci(tox.get(f"{p}_pct"), tox.get(f"{p}_ci_low_pct"),
                                       tox.get(f"{p}_ci_high_pct")), detail,
                         path=f"04_toxicity.{p}_pct", kind="pct", number=tox.get(f"{p}_pct")))
    cand = _num(tox.get("n_reild_candidates"))
    if cand is not None:
        pct = 100 * cand / n if n else None
        definition = tox.get("reild_definition")
        reported = _num(tox.get("n_reild_reported"))
        detail = "screening-rule candidates"
        if definition:
            detail += f" ({str(definition).capitalize()} definition)"
        if reported is not None:
            detail += f"; {int(reported)} reported by the sites"
        rows.append(_row(section, "REILD", format_count_pct(cand, pct), detail,
                         path="04_toxicity.n_reild_candidates", kind="count", number=cand))
    return rows


def headline_rows(metrics: dict) -> list[dict]:
    """The headline table of index.html, from the merged ``metrics.json``.

    Parameters
    ----------
    metrics : dict
        Metrics keyed by notebook stem (``01_cohort``, ``02_response``, ``03_survival``,
        ``04_toxicity``); sections or numbers a notebook did not record are left out.

    Returns
    -------
    list of dict
        ``{"section", "label", "value", "detail", "path", "kind", "number"}`` in display order;
        ``value`` is the formatted estimate (with CI), ``path`` the metric it comes from (None
        for derived rows), ``kind`` its quantity kind for :func:`format_delta`.

    Examples
    --------
    >>> rows = headline_rows({"02_response": {"RECIST_1_1": {"n": 295, "n_responders": 63,
    ...     "orr_pct": 21.36, "dcr_pct": 79.32}, "rate_ci_pct": {"RECIST_1_1": {
    ...     "orr_ci_lower_pct": 16.82, "orr_ci_upper_pct": 26.48}}}})
    >>> rows[0]["label"], rows[0]["value"], rows[0]["detail"]
    ('ORR, RECIST 1.1', '21.4 % (16.8–26.5)', '63 of 295 evaluable')
    """
    rows = []
    cohort = _section(metrics, "01_cohort")
    n = _num(cohort.get("n_included"))
    if n is not None:
        rows.append(_row("Cohort", "Patients included",
                         format_count_pct(n, None), "", path="01_cohort.n_included",
                         kind="count", number=n))
    rows += _response_rows(metrics)
    rows += _metabolic_rows(metrics)
    rows += _survival_rows(metrics)
    rows += _safety_rows(metrics)
    return rows


def _headline_changes(rows: list[dict], previous_flat: dict) -> list[dict]:
    out = []
    for row in rows:
        if row["path"] is None or row["path"] not in previous_flat:
            continue
        prev = previous_flat[row["path"]]
        delta = format_delta(prev, row["number"], row["kind"])
        if row["kind"] == "count" and delta not in ("no change", MISSING):
            delta += " patients"
        out.append({"label": row["label"], "previous": _format_value(prev, row["kind"]),
                    "current": _format_value(row["number"], row["kind"]), "delta": delta})
    return out


def _setting_changes(current: dict, previous: dict) -> list[dict]:
    cur, prev = flatten_metrics(current), flatten_metrics(previous)
    return [{"name": metric_label(k), "previous": _format_generic(prev[k]),
             "current": _format_generic(cur[k])}
            for k in sorted(set(cur) & set(prev)) if _is_setting(k) and cur[k] != prev[k]
            and k.split(".")[-1] != "cutoff_date"]


# --- content ------------------------------------------------------------------------------------

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
        items = [(k, v) for k, v in params.items() if k not in COMMON_PARAMETERS]
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


# --- notebook pages -----------------------------------------------------------------------------

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
