"""The summary page's tables: the headline table and what changed since the previous report.

Part of :mod:`sirtstats.report.index_html` (import from there).
"""

from __future__ import annotations

from sirtstats.report._index_format import (
    MISSING,
    _format_generic,
    _format_value,
    _num,
    format_count_pct,
    format_delta,
    format_months_ci,
    format_pct_ci,
)
from sirtstats.report._index_metrics import _is_setting, _section, flatten_metrics, metric_label

__all__ = ["headline_rows"]


#: Endpoints of the headline table: metric key in ``03_survival.km`` -> label.
HEADLINE_ENDPOINTS: dict[str, str] = {
    "OS": "Overall survival",
    "PFS": "Progression-free survival",
    "hepatic_PFS": "Hepatic progression-free survival",
    "TTP": "Time to progression",
}
#: Response criteria of the headline table: metric key in ``02_response`` -> label.
HEADLINE_CRITERIA: dict[str, str] = {"RECIST_1_1": "RECIST 1.1", "mRECIST": "mRECIST"}


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
