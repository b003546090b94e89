"""Paste-ready tables of survival results: Kaplan–Meier, Cox, cumulative incidence, landmark.

:func:`summarise_km_table`, :func:`summarise_cox_table` (gtsummary ``tbl_merge`` of the
univariable and multivariable models), :func:`summarise_cif_table` and
:func:`summarise_landmark_table` format the outputs of :mod:`sirtstats.survival` as
:class:`~sirtstats.formatting.ReportTable`. Private module: import from :mod:`sirtstats.tables`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sirtstats.formatting import (
    DASH,
    NOT_ESTIMABLE,
    ReportTable,
    format_estimate_ci,
    format_median_ci,
    format_p,
)
from sirtstats.labels import column_label, value_label
from sirtstats.tables._report import report_table

__all__ = [
    "COMPETING_CAUSE_LABELS",
    "ENDPOINT_ORDER",
    "summarise_cif_table",
    "summarise_cox_table",
    "summarise_km_table",
    "summarise_landmark_table",
]


def _blank(x) -> bool:
    return x is None or (not isinstance(x, str) and pd.isna(x)) or str(x) == ""


def _cox_rows(df: pd.DataFrame) -> dict:
    """(variable, level) -> (hr, lower, upper, p) of a Cox HR table."""
    out = {}
    for r in df.itertuples(index=False):
        level = "" if _blank(r.level) else str(r.level)
        out[(r.variable, level)] = (r.hr, r.hr_lower, r.hr_upper, r.p)
    return out


def _cox_variables(frames: list[pd.DataFrame]) -> dict[str, dict]:
    """Covariates in model order -> their reference level and other levels (none if continuous)."""
    order: dict[str, dict] = {}
    for f in frames:
        for r in f.itertuples(index=False):
            info = order.setdefault(r.variable, {"reference": None, "levels": []})
            if not _blank(r.reference):
                info["reference"] = str(r.reference)
            if not _blank(r.level) and str(r.level) not in info["levels"]:
                info["levels"].append(str(r.level))
    return order


def _cox_cells(models: dict, key: tuple[str, str], is_reference: bool = False) -> dict:
    """HR (95 % CI) and p of one (variable, level) row in each model.

    "—" for the reference level or a row the model lacks; a hazard ratio that is not estimable
    gets no p.
    """
    out = {}
    for m, table in models.items():
        if table is None:
            continue
        if is_reference:
            out[f"{m}_hr"], out[f"{m}_p"] = DASH, ""
        elif key not in table:
            out[f"{m}_hr"], out[f"{m}_p"] = DASH, DASH
        else:
            hr, lo, hi, p = table[key]
            text = format_estimate_ci(hr, lo, hi)
            out[f"{m}_hr"] = text
            out[f"{m}_p"] = DASH if text == NOT_ESTIMABLE else format_p(p)
    return out


def _cox_variable_rows(variable: str, info: dict, models: dict) -> list[tuple[str, dict, bool]]:
    """Rows (label, cells, indented) of one covariate.

    One row if it is continuous or a 0/1 flag; else a variable row and one indented row per
    level, the reference first.
    """
    if not info["levels"]:
        per = ": yes vs no" if str(variable).startswith(("is_", "has_")) else ", per unit"
        return [(f"{column_label(variable)}{per}", _cox_cells(models, (variable, "")), False)]
    levels = ([info["reference"]] if info["reference"] else []) + info["levels"]
    return [(column_label(variable), {}, False)] + [
        (value_label(lv), _cox_cells(models, (variable, lv), is_reference=lv == info["reference"]),
         True)
        for lv in levels]


def _univariable_label(univariable: pd.DataFrame) -> str:
    """The univariable spanner label, with n and events when all the models share them."""
    label = "Univariable"
    if {"n", "n_events"} <= set(univariable.columns) and len(univariable):
        n = univariable["n"].agg(["min", "max"]).astype(int).tolist()
        e = univariable["n_events"].agg(["min", "max"]).astype(int).tolist()
        label += (f" (n = {n[0]}, events = {e[0]})" if n[0] == n[1] and e[0] == e[1]
                  else "")
    return label


def _cox_spanners_and_notes(univariable: pd.DataFrame | None, multivariable,
                            not_estimable: bool) -> tuple[tuple, tuple[str, ...]]:
    """Header spanners of the models (with n and events) and the footnotes of the Cox table."""
    multi_label = "Multivariable"
    if hasattr(multivariable, "n"):
        multi_label += f" (n = {multivariable.n}, events = {multivariable.n_events})"
    spanners = [(multi_label, ("multi_hr", "multi_p"))]
    notes = ["HR, hazard ratio; CI, confidence interval (Wald). — = reference level."]
    if univariable is not None:
        spanners.insert(0, (_univariable_label(univariable), ("uni_hr", "uni_p")))
        notes.append("Univariable: one model per covariate; multivariable: all covariates "
                     "in one model.")
    if not_estimable:
        notes.append("not estimable: the fit has no finite hazard ratio for this level (too "
                     "few patients or no events in it); its p-value is not shown.")
    return tuple(spanners), tuple(notes)


def summarise_cox_table(
    univariable: pd.DataFrame | None,
    multivariable,
    *,
    title: str = "Cox proportional hazards models of overall survival",
    name: str = "03_cox",
) -> ReportTable:
    """Univariable and multivariable Cox models in one paste-ready table (gtsummary tbl_merge).

    Parameters
    ----------
    univariable : DataFrame or None
        :func:`sirtstats.survival.fit_cox_univariable` output (``variable``, ``level``,
        ``reference``, ``hr``, ``hr_lower``, ``hr_upper``, ``p``, ``n``, ``n_events``).
    multivariable : CoxResult or DataFrame
        :func:`sirtstats.survival.fit_cox` result (or its ``hr_table``).
    title : str
        Table title.
    name : str
        File stem for :meth:`ReportTable.save`.

    Returns
    -------
    ReportTable
        One row per continuous covariate ("ECOG PS, per unit"; a 0/1 ``is_``/``has_`` flag
        reads "Responder: yes vs no") and, for each categorical
        covariate, a variable row with indented level rows: the reference level shows "—",
        the others "HR (95 % CI)" and p under the spanners "Univariable" and
        "Multivariable". A hazard ratio the fit cannot estimate (a limit 0 or infinite, as for
        a one-patient level) shows "not estimable" and its p "—".

    Examples
    --------
    >>> import pandas as pd
    >>> hr = pd.DataFrame({"variable": ["albi_grade", "ecog"], "level": ["2", None],
    ...                    "reference": ["1", None], "hr": [1.58, 1.46],
    ...                    "hr_lower": [1.22, 1.21], "hr_upper": [2.05, 1.75],
    ...                    "p": [0.00053, 0.0153]})
    >>> for row in summarise_cox_table(hr, hr).data[["characteristic", "uni_hr", "uni_p"]].values:
    ...     print(row.tolist())
    ['ALBI grade', '', '']
    ['1', '—', '']
    ['2', '1.58 (1.22–2.05)', '< 0.001']
    ['ECOG PS, per unit', '1.46 (1.21–1.75)', '0.015']
    """
    multi = getattr(multivariable, "hr_table", multivariable)
    variables = _cox_variables([f for f in (univariable, multi) if f is not None])
    models = {"uni": _cox_rows(univariable) if univariable is not None else None,
              "multi": _cox_rows(multi)}
    rows: list[tuple[str, dict, bool]] = []
    for variable, info in variables.items():
        rows += _cox_variable_rows(variable, info, models)
    keys = ["characteristic"] + [f"{m}_{s}" for m in models if models[m] is not None
                                 for s in ("hr", "p")]
    data = pd.DataFrame([{"characteristic": text, **cells} for text, cells, _ in rows],
                        columns=keys).fillna("")
    not_estimable = (data == NOT_ESTIMABLE).any().any()
    labels = {"characteristic": "Characteristic", "uni_hr": "HR (95 % CI)", "uni_p": "p",
              "multi_hr": "HR (95 % CI)", "multi_p": "p"}
    spanners, notes = _cox_spanners_and_notes(univariable, multivariable, not_estimable)
    return ReportTable(data=data, title=title, labels=labels, spanners=spanners,
                       footnotes=notes, indent=tuple(is_level for _, _, is_level in rows),
                       stub="characteristic", name=name)


#: Row order of the endpoint table: overall survival first, then the progression endpoints
#: and duration of response, as SIRT papers report them (unknown endpoints after, in input
#: order).
ENDPOINT_ORDER = ("OS", "PFS", "hepatic_PFS", "treated_PFS", "TTP", "TTLP", "DoR")


def summarise_km_table(
    df_km: pd.DataFrame,
    *,
    by: str = "endpoint",
    landmarks_months: Sequence[float] = (12, 24),
    title: str = "Time-to-event endpoints (Kaplan–Meier)",
    name: str = "03_km_summary",
) -> ReportTable:
    """Kaplan–Meier summary per endpoint (or group) as a paste-ready table.

    Parameters
    ----------
    df_km : DataFrame
        :func:`sirtstats.survival.summarise_km` output: ``by``, ``n``, ``n_events``,
        ``median``, ``median_lower``, ``median_upper`` (months) and ``surv_<t>``,
        ``surv_<t>_lower``, ``surv_<t>_upper`` for the landmarks.
    by : str
        Row column.
    landmarks_months : sequence of float
        Landmarks shown (those present in ``df_km``).
    title : str
        Table title.
    name : str
        File stem.

    Returns
    -------
    ReportTable
        Rows per endpoint (in :data:`ENDPOINT_ORDER` when ``by`` is "endpoint"): patients,
        events, median in months with 95 % CI ("NR" not reached) and the Kaplan–Meier
        estimate at each landmark in % with 95 % CI.

    Examples
    --------
    >>> import pandas as pd
    >>> km = pd.DataFrame({"endpoint": ["OS"], "n": [295], "n_events": [246],
    ...                    "median": [15.18], "median_lower": [13.31], "median_upper": [None],
    ...                    "surv_12": [0.5886], "surv_12_lower": [0.528],
    ...                    "surv_12_upper": [0.644], "conf_type": ["log-log"]})
    >>> summarise_km_table(km).data.iloc[0].tolist()
    ['Overall survival', '295', '246', '15.2 (13.3–NR)', '58.9 (52.8–64.4)']
    """
    cols = ["label", "n", "events", "median"]
    labels = {"label": column_label(by) if by != "endpoint" else "Endpoint", "n": "Patients",
              "events": "Events", "median": "Median, months (95 % CI)"}
    rows = []
    times = [t for t in landmarks_months if f"surv_{_fmt_t(t)}" in df_km.columns]
    if by == "endpoint" and by in df_km.columns:  # OS first, as papers report them
        rank = df_km[by].map({e: i for i, e in enumerate(ENDPOINT_ORDER)})
        df_km = df_km.iloc[np.argsort(rank.fillna(len(ENDPOINT_ORDER)).to_numpy(),
                                      kind="stable")]
    for r in df_km.to_dict("records"):
        row = {"label": value_label(r[by]), "n": str(int(r["n"])),
               "events": str(int(r["n_events"])),
               "median": format_median_ci(r["median"], r["median_lower"], r["median_upper"])}
        for t in times:
            k = f"surv_{_fmt_t(t)}"
            row[k] = format_estimate_ci(100 * r[k], 100 * r[f"{k}_lower"],
                                        100 * r[f"{k}_upper"], decimals=1, ratio=False)
        rows.append(row)
    for t in times:
        cols.append(f"surv_{_fmt_t(t)}")
        # the probability of the row's endpoint (event-free, still in response), not only OS
        labels[f"surv_{_fmt_t(t)}"] = f"At {_fmt_t(t)} months, % (95 % CI)"
    conf = str(df_km["conf_type"].iloc[0]) if "conf_type" in df_km.columns and len(df_km) \
        else "log-log"
    notes = (f"Kaplan–Meier estimates; 95 % CI with the {conf} transform. NR, not reached.",)
    return ReportTable(data=pd.DataFrame(rows, columns=cols), title=title, labels=labels,
                       footnotes=notes, name=name)


def _fmt_t(t) -> str:
    return str(int(t)) if float(t).is_integer() else str(t)



#: Causes of the PFS competing-risk rows (progression, death without progression).
COMPETING_CAUSE_LABELS: dict[str, str] = {"progression": "Progression",
                                          "death": "Death without progression"}


def summarise_cif_table(cif: pd.DataFrame, gray: pd.DataFrame | None = None, *,
                        name: str | None = None) -> ReportTable:
    """Cumulative incidence of progression and of death without progression, in percent.

    Parameters
    ----------
    cif : DataFrame
        :func:`sirtstats.survival.summarise_cif` output: ``cause``, ``n``, ``n_events``,
        ``cif_<t>`` with ``cif_<t>_lower`` / ``cif_<t>_upper`` (proportions, t in months) and
        ``conf_type``.
    gray : DataFrame, optional
        :func:`sirtstats.survival.test_gray` output (``cause``, ``statistic``, ``df``, ``p``):
        adds Gray's test across the groups, per cause.
    name : str, optional
        File stem.

    Returns
    -------
    ReportTable
        One row per cause; "t months, % (95 % CI)" columns (R6.6, docs/rules/statistics.md).

    Examples
    --------
    >>> import pandas as pd
    >>> cif = pd.DataFrame({"cause": ["progression"], "n": [10], "n_events": [4],
    ...     "cif_6": [0.3], "cif_6_lower": [0.1], "cif_6_upper": [0.55], "conf_type": ["log-log"]})
    >>> gray = pd.DataFrame({"cause": ["progression"], "statistic": [6.8], "df": [2],
    ...                      "p": [0.0334]})
    >>> summarise_cif_table(cif, gray).to_frame().iloc[0].tolist()
    ['Progression', '10', '4', '30.0 (10.0–55.0)', '6.8', '2', '0.033']
    """
    times = [c for c in cif.columns if re.fullmatch(r"cif_\d+(\.\d+)?", c)]
    df = cif.assign(cause=cif["cause"].replace(COMPETING_CAUSE_LABELS))
    labels = {"cause": "Event",
              **{c: f"{_fmt_t(float(c[4:]))} months, % (95 % CI)" for c in times}}
    if gray is not None and len(gray):
        test = gray.set_index(gray["cause"].replace(COMPETING_CAUSE_LABELS))
        df = df.assign(gray_statistic=df["cause"].map(test["statistic"]),
                       gray_df=df["cause"].map(test["df"]).astype("Int64"),
                       gray_p=df["cause"].map(test["p"]))
        labels.update(gray_statistic="Gray's χ²", gray_df="df", gray_p="p")
    transform = cif["conf_type"].iloc[0] if "conf_type" in cif and len(cif) else "log-log"
    return report_table(df, "Cumulative incidence of progression and of death without "
                        "progression", name=name, percent=times, drop=["conf_type"],
                        labels=labels, footnotes=[f"Aalen–Johansen estimates with {transform} "
                                                  "95 % CIs; Gray's test across the groups."])


def summarise_landmark_table(landmarks: pd.DataFrame, *, name: str | None = None) -> ReportTable:
    """Landmark analysis of OS by response reached at the landmark, paste-ready.

    Parameters
    ----------
    landmarks : DataFrame
        :func:`sirtstats.survival.summarise_landmark` output (one row per landmark).
    name : str, optional
        File stem.

    Returns
    -------
    ReportTable
        Patients at the landmark, responders and non-responders with their deaths and median
        OS (months from the landmark), the HR of responders vs non-responders (95 % CI) and
        the log-rank p (R5.6.2, docs/rules/endpoints.md).
    """
    labels = {"landmark_months": "Landmark (months)", "n_included": "At landmark",
              "n_responders": "R", "n_non_responders": "NR",
              "events_responders": "Deaths, R", "events_non_responders": "Deaths, NR",
              "median_responders_months": "Median OS, R", "median_non_responders_months":
              "Median OS, NR", "hr": "HR, R vs NR (95 % CI)", "p_logrank": "Log-rank p"}
    return report_table(landmarks, "Landmark analysis: responders vs non-responders (OS)",
                        name=name, labels=labels, decimals={"hr": 2},
                        drop=["n", "n_excluded_event", "n_excluded_censored"],
                        footnotes=["R = responders, NR = non-responders: patients alive and "
                                   "followed at the landmark, grouped by confirmed response "
                                   "reached by then. Median OS in months from the landmark."])
