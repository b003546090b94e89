"""The merged ``metrics.json`` as the summary page reads it: flat paths, labels, deltas, settings.

Part of :mod:`sirtstats.report.index_html` (import from there).
"""

from __future__ import annotations

from sirtstats.report._index_format import _num

__all__ = ["flatten_metrics", "metric_deltas", "metric_label"]


#: Metric leaves that record how an analysis was run, not what it found: never shown as a
#: result or a delta, listed in the settings block instead (``settings.*`` sub-dicts too).
SETTING_KEYS = frozenset({
    "cutoff_date", "conf_type", "criterion", "origin", "window_days", "reild_definition",
    "threshold_gy", "literature_thresholds_gy", "n_bootstrap", "seed",
})


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
