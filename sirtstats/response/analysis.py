"""One call for a cohort's response analysis under one or both criteria (notebook 02).

:func:`derive_response_analysis` chains the response functions for a registry restricted to a
cohort: baseline eligibility findings, timepoints (derived from lesion measurements or reported
by the reader), best overall response per criterion on the patients with measurable disease
under that criterion (R1.10), best % change, lesion-level response, derived-vs-reported
discordance and RECIST-vs-mRECIST agreement. Criteria: RECIST 1.1 (Eisenhauer et al., Eur J
Cancer 2009) and mRECIST (Lencioni & Llovet, Semin Liver Dis 2010).
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.response._common import CRITERIA, SCOPES, check_bool, check_choice
from sirtstats.response.baseline import ELIGIBILITY_COLUMNS, derive_target_eligibility
from sirtstats.response.bor import derive_best_overall_response
from sirtstats.response.display import BEST_CHANGE_COLUMNS, derive_best_percent_change
from sirtstats.response.lesion import LESION_RESPONSE_COLUMNS, derive_lesion_response
from sirtstats.response.rates import (
    CriteriaAgreement,
    summarise_criteria_agreement,
    summarise_response_rates,
)
from sirtstats.response.reported import (
    DISCORDANCE_COLUMNS,
    derive_reported_timepoints,
    summarise_discordance,
)
from sirtstats.response.territory import derive_new_lesion_field, derive_territory_lesions
from sirtstats.response.timepoint import TIMEPOINT_COLUMNS, _in_scope, derive_timepoint_response

__all__ = ["ResponseAnalysis", "derive_response_analysis", "summarise_response_distribution"]

_FN = "derive_response_analysis"


@dataclass(frozen=True, eq=False)
class ResponseAnalysis:
    """Result of :func:`derive_response_analysis`.

    Attributes
    ----------
    timepoints : DataFrame
        Timepoint responses of every criterion (baseline rows included, ``is_baseline``).
    bor : DataFrame
        Best overall response per patient and criterion (analysis set: measurable disease).
    best_change : DataFrame
        Best % change of the target sum per patient and criterion, with BOR.
    lesion_response : DataFrame
        Lesion-level best response (derived source only; empty otherwise).
    eligibility_findings : DataFrame
        Baseline lesions breaking the eligibility rules (rows kept, nothing fixed).
    discordance : DataFrame
        Derived vs reader-reported visits that differ (derived source with reported responses).
    agreement : CriteriaAgreement or None
        RECIST 1.1 vs mRECIST agreement on the patients evaluable under both.
    analysis_set : DataFrame
        Per criterion: patients in the cohort, with measurable disease, and excluded.
    settings : dict
        Every option used.
    """

    timepoints: pd.DataFrame
    bor: pd.DataFrame
    best_change: pd.DataFrame
    lesion_response: pd.DataFrame
    eligibility_findings: pd.DataFrame
    discordance: pd.DataFrame
    agreement: CriteriaAgreement | None
    analysis_set: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The analysis set per criterion with the BOR counts."""
        counts = summarise_response_distribution(self.bor).pivot_table(
            index="criterion", columns="bor", values="n", fill_value=0, observed=False)
        return self.analysis_set.set_index("criterion").join(counts).reset_index()

    def key_numbers(self) -> dict:
        """Numbers for the report's metrics: analysis set, ORR, DCR and CR rate per criterion."""
        out: dict = {"settings": dict(self.settings.items())}
        with warnings.catch_warnings():  # small groups are flagged in the rate tables
            warnings.simplefilter("ignore", SirtStatsWarning)
            rates = summarise_response_rates(self.bor) if len(self.bor) else pd.DataFrame()
        for r in rates.itertuples(index=False):
            out[str(r.criterion)] = {
                "n": int(r.n), "n_responders": int(r.n_responders),
                "orr_pct": round(float(r.orr_pct), 2), "dcr_pct": round(float(r.dcr_pct), 2),
                "cr_rate_pct": round(float(r.cr_rate_pct), 2)}
        out["n_eligibility_findings"] = int(len(self.eligibility_findings))
        out["n_discordant_visits"] = int((self.discordance["status"] == "discordant").sum()) \
            if len(self.discordance) else 0
        if self.agreement is not None:
            out["kappa_responder"] = (None if not np.isfinite(self.agreement.kappa)
                                      else round(float(self.agreement.kappa), 4))
            out["n_paired"] = int(self.agreement.n_pairs)
        return out

    def _repr_html_(self) -> str:
        return ("<b>Response analysis</b> " + html.escape(str(self.settings)) +
                self.to_frame().to_html(index=False))


def summarise_response_distribution(df: pd.DataFrame, *, column: str = "bor") -> pd.DataFrame:
    """Counts and percentages of each response code per criterion (and scope, confirmation).

    Parameters
    ----------
    df : DataFrame
        A BOR frame (``bor``) or a lesion-response frame (``lesion_response``) with
        ``criterion``.
    column : str, default "bor"
        Column holding the response codes.

    Returns
    -------
    DataFrame
        One row per group and code with ``n`` and ``pct`` (% of the group, 0-100); codes in
        the order CR, PR, SD, NON_CR_NON_PD, PD, NE, MISSING.
    """
    codes = ["CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE", "MISSING"]
    keys = [c for c in ("criterion", "scope", "confirmed") if c in df.columns]
    d = df.assign(_code=pd.Categorical(df[column], categories=codes))
    g = d.groupby([*keys, "_code"], observed=False).size().rename("n").reset_index()
    g = g.rename(columns={"_code": column})
    tot = g.groupby(keys)["n"].transform("sum") if keys else g["n"].sum()
    g["pct"] = np.where(tot > 0, 100.0 * g["n"] / tot, np.nan)
    return g


def _tables(registry) -> Mapping[str, pd.DataFrame]:
    return registry.tables if hasattr(registry, "tables") else registry


def derive_response_analysis(
    registry,
    df_origin: pd.DataFrame,
    *,
    criteria: Sequence[str] = CRITERIA,
    scope: Literal["overall", "hepatic", "treated"] = "overall",
    confirm: bool = True,
    source: Literal["derived", "reported"] = "derived",
    censor_at_new_therapy: bool = True,
    **options,
) -> ResponseAnalysis:
    """Derive a cohort's timepoints, BOR, best change and agreement for one or both criteria.

    Parameters
    ----------
    registry : Registry or mapping of str to DataFrame
        The registry (e.g. ``select_cohort(...).registry``) with ``lesions``,
        ``lesion_measurements``, ``imaging_assessments`` and, for the new-therapy cut,
        ``other_therapies``.
    df_origin : DataFrame
        ``patient_id``, ``origin_date`` of the cohort (first SIRT; see
        :func:`sirtstats.endpoints.derive_origin`).
    criteria : sequence of {"RECIST_1_1", "mRECIST"}, default both
        Criteria to derive.
    scope : {"overall", "hepatic", "treated"}, default "overall"
        Response scope (R4.2). With ``treated`` and the registry's ``treatments``, lesions and
        new lesions with Couinaud segments take the territory derived from the sessions
        instead of the recorded flags (R4.3.4); the per-territory analysis with each
        territory's own baseline is :func:`sirtstats.response.derive_territory_response`.
    confirm : bool, default True
        Require confirmation of CR/PR for the BOR (R1.9.3).
    source : {"derived", "reported"}, default "derived"
        Timepoints derived from lesion measurements, or the reader's reported responses.
    censor_at_new_therapy : bool, default True
        Ignore assessments after a new anticancer therapy (``other_therapies``) for the BOR.
    **options
        Passed on to :func:`derive_timepoint_response` (e.g. ``mrecist_pd_requires_5mm``) and
        :func:`derive_best_overall_response` (``confirm_min_days``, ``sd_min_days``,
        ``max_ne_between``, ``accept_sd_between``, ``max_sd_between``, ``pr_after_cr_mode``,
        ``include_nd``, ``missing_as_ne``).

    Returns
    -------
    ResponseAnalysis

    Notes
    -----
    The BOR analysis set of a criterion is the cohort's patients with at least one target
    lesion under that criterion in the scope (measurable disease, R1.10); with the reported
    source, the patients with a reported response under that criterion. Patients of the
    analysis set without any post-baseline assessment have BOR ``MISSING`` and stay in the
    denominators.
    """
    criteria = [check_choice(c, CRITERIA, "criteria", _FN) for c in criteria]
    if not criteria:
        raise ValueError(f"The 'criteria' argument of {_FN} must name at least one criterion. "
                         "Got [] instead.")
    scope = check_choice(scope, SCOPES, "scope", _FN)
    source = check_choice(source, ("derived", "reported"), "source", _FN)
    confirm = check_bool(confirm, "confirm", _FN)
    bor_keys = {"confirm_min_days", "sd_min_days", "max_ne_between", "accept_sd_between",
                "max_sd_between", "pr_after_cr_mode", "include_nd", "missing_as_ne"}
    bor_opts = {k: v for k, v in options.items() if k in bor_keys}
    tp_opts = {k: v for k, v in options.items() if k not in bor_keys}
    t = _tables(registry)
    les, meas, ass = t["lesions"], t["lesion_measurements"], t["imaging_assessments"]
    therapies = t.get("other_therapies") if censor_at_new_therapy else None
    cohort = set(df_origin["patient_id"])
    les = les.loc[les["patient_id"].isin(cohort)]
    meas = meas.loc[meas["lesion_id"].isin(les["lesion_id"])]
    ass = ass.loc[ass["patient_id"].isin(cohort)]
    if scope == "treated" and source == "derived" and t.get("treatments") is not None:
        # territory hook (issue 15, R4.3.4): where lesions and sessions carry Couinaud
        # segments, the territory derived from them replaces the fixed flags
        les = derive_territory_lesions(les, t["treatments"])
        ass = derive_new_lesion_field(ass, t["treatments"])

    tps, bors, bests, lrs, elig, disc, sets = [], [], [], [], [], [], []
    for crit in criteria:
        r = _derive_criterion(crit, les, meas, ass, df_origin, scope=scope, confirm=confirm,
                              source=source, therapies=therapies, tp_opts=tp_opts,
                              bor_opts=bor_opts)
        tps.append(r["tp"])
        bors.append(r["bor"])
        for parts, key in ((bests, "best"), (lrs, "lesion"), (elig, "elig"), (disc, "disc")):
            if key in r:
                parts.append(r[key])
        measurable = r["measurable"]
        sets.append({"criterion": crit, "n_cohort": len(cohort),
                     "n_measurable": len(measurable & cohort),
                     "n_not_evaluable": len(cohort - measurable)})
    bor_all = pd.concat(bors, ignore_index=True)
    agreement = None
    if {"RECIST_1_1", "mRECIST"} <= set(criteria):
        a = bor_all.loc[bor_all["criterion"] == "RECIST_1_1"]
        b = bor_all.loc[bor_all["criterion"] == "mRECIST"]
        if len(a) and len(b):
            agreement = summarise_criteria_agreement(a, b)

    def cat(parts, columns):
        parts = [p for p in parts if len(p)]
        return (pd.concat(parts, ignore_index=True) if parts
                else pd.DataFrame(columns=columns))

    settings = {"criteria": list(criteria), "scope": scope, "confirm": confirm,
                "source": source, "censor_at_new_therapy": bool(censor_at_new_therapy),
                **dict(options.items())}
    return ResponseAnalysis(
        timepoints=cat(tps, TIMEPOINT_COLUMNS), bor=bor_all,
        best_change=cat(bests, BEST_CHANGE_COLUMNS),
        lesion_response=cat(lrs, LESION_RESPONSE_COLUMNS),
        eligibility_findings=cat(elig, ELIGIBILITY_COLUMNS),
        discordance=cat(disc, DISCORDANCE_COLUMNS), agreement=agreement,
        analysis_set=pd.DataFrame(sets), settings=settings)


def _derive_criterion(crit, les, meas, ass, df_origin, *, scope, confirm, source, therapies,
                      tp_opts, bor_opts) -> dict:
    """Timepoints, BOR and the derived-source extras of one criterion (R1.10 analysis set)."""
    role = "recist_role" if crit == "RECIST_1_1" else "mrecist_role"
    out: dict = {}
    if source == "derived":
        tp = derive_timepoint_response(les, meas, ass, criterion=crit, scope=scope,
                                       include_baseline=True, **tp_opts)
        in_scope = les.loc[_in_scope(les, scope)]
        measurable = set(in_scope.loc[in_scope[role] == "target", "patient_id"])
        out["lesion"] = derive_lesion_response(in_scope, meas, criterion=crit)
        el = derive_target_eligibility(les, meas, criterion=crit)
        out["elig"] = el.loc[el["finding"].notna()]
        has_rep = ("reported_overall_response" in ass
                   and ass.loc[ass["criterion"] == crit, "reported_overall_response"]
                   .notna().any())
        if has_rep and scope == "overall":
            rep = derive_reported_timepoints(ass, criterion=crit)
            out["disc"] = summarise_discordance(tp, rep)
    else:
        tp = derive_reported_timepoints(ass, criterion=crit,
                                        scope="treated" if scope == "treated" else scope)
        measurable = set(tp["patient_id"])
    origin = df_origin.loc[df_origin["patient_id"].isin(measurable),
                           ["patient_id", "origin_date"]]
    tp_set = tp.loc[tp["patient_id"].isin(measurable)]
    if tp_set.empty:
        tp_set = tp_set.assign(criterion=pd.Series(dtype=object))
    bor = derive_best_overall_response(tp_set.assign(criterion=crit, scope=scope), origin,
                                       confirm=confirm, df_therapies=therapies, **bor_opts)
    if source == "derived":
        out["best"] = derive_best_percent_change(tp_set, bor)
    out.update(tp=tp, bor=bor, measurable=measurable)
    return out
