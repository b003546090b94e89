"""PERCIST 1.0 analysis set, best SULpeak change, response rates and agreement with RECIST.

Rules P1.11-P1.13 of docs/rules/metabolic.md: the analysis set is the patients with a
measurable baseline scan (P1.1); rates are counted with exact Clopper-Pearson CIs through
:func:`sirtstats.response.rates.summarise_response_rates` (CMR + PMR = metabolic response);
agreement with an anatomical criterion is the cross-table and Cohen's kappa of
:func:`sirtstats.response.rates.summarise_criteria_agreement` (statsmodels ``cohens_kappa``).
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtStatsWarning
from sirtstats.metabolic._common import prepare
from sirtstats.metabolic._rules import METABOLIC_CODES, TO_RECIST_CODE
from sirtstats.metabolic._scans import LesionIndex, patient_reference, patient_scans
from sirtstats.metabolic.percist import LESION_VALUES, _baseline
from sirtstats.response._common import check_choice, require_columns
from sirtstats.response.rates import (
    CriteriaAgreement,
    summarise_criteria_agreement,
    summarise_response_rates,
)

__all__ = [
    "derive_best_sul_change",
    "derive_percist_baseline",
    "summarise_metabolic_agreement",
    "summarise_metabolic_distribution",
    "summarise_metabolic_response_rates",
    "summarise_pet_quality",
]

#: RECIST-coded BOR -> metabolic code (inverse of the P1.9 coding), for display.
FROM_RECIST_CODE: dict[str, str] = {"CR": "CMR", "PR": "PMR", "SD": "SMD", "PD": "PMD",
                                    "NE": "NE", "MISSING": "MISSING"}


def derive_percist_baseline(
    df_pet: pd.DataFrame,
    df_pet_lesions: pd.DataFrame,
    *,
    df_lesions: pd.DataFrame | None = None,
    reference: str = "auto",
) -> pd.DataFrame:
    """Baseline PET of each patient: reference region, threshold and measurability (P1.1).

    Parameters
    ----------
    df_pet : DataFrame
        ``pet_assessments`` (see :func:`sirtstats.metabolic.derive_percist_response`); the
        earliest scan of a patient is the baseline.
    df_pet_lesions : DataFrame
        ``pet_lesions`` with ``sul_peak`` (SUL, g/mL), optionally ``organ``.
    df_lesions : DataFrame, optional
        ``lesions`` (``lesion_id``, ``organ``) for the organ.
    reference : {"auto", "blood_pool", "liver"}, default "auto"
        Measurability reference (P1.2).

    Returns
    -------
    DataFrame
        One row per patient with a PET scan: ``patient_id``, ``baseline_date``, ``reference``,
        ``threshold_sul`` (SUL), ``baseline_lesion_id`` (hottest measurable lesion),
        ``baseline_sul_peak`` (SUL), ``is_measurable`` (bool) and ``n_followup_scans``.

    References
    ----------
    Wahl et al., J Nucl Med 2009;50 Suppl 1:122S-150S, section "PERCIST 1.0" (measurability
    of tumour FDG uptake); rules P1.1, P1.2, P1.11 of docs/rules/metabolic.md.

    Examples
    --------
    >>> import pandas as pd
    >>> pet = pd.DataFrame({"patient_id": ["P1"], "scan_date": pd.to_datetime(["2024-01-01"]),
    ...     "liver_sul_mean": 2.0, "liver_sul_sd": 0.3,
    ...     "blood_pool_sul_mean": 1.5, "blood_pool_sul_sd": 0.2})
    >>> les = pd.DataFrame({"patient_id": ["P1"], "lesion_id": ["L1"],
    ...     "scan_date": pet["scan_date"], "sul_peak": [3.4], "organ": "liver"})
    >>> derive_percist_baseline(pet, les)[["reference", "is_measurable"]].values.tolist()
    [['blood_pool', True]]
    """
    fn = "derive_percist_baseline"
    pet, les = prepare(df_pet, df_pet_lesions, df_lesions, fn)
    index = LesionIndex(les, LESION_VALUES)
    rows = []
    for pid, scans in patient_scans(pet):
        ref = patient_reference(reference, index, pid, fn)
        base = scans[0]
        thr, b_id, b_sul, _, _ = _baseline(index, pid, base, ref, sums=False)
        rows.append({"patient_id": pid, "baseline_date": base["scan_date"], "reference": ref,
                     "threshold_sul": float(thr) if thr is not None else np.nan,
                     "baseline_lesion_id": b_id,
                     "baseline_sul_peak": float(b_sul) if b_sul is not None else np.nan,
                     "is_measurable": b_sul is not None, "n_followup_scans": len(scans) - 1})
    return pd.DataFrame(rows, columns=["patient_id", "baseline_date", "reference",
                                       "threshold_sul", "baseline_lesion_id",
                                       "baseline_sul_peak", "is_measurable",
                                       "n_followup_scans"])


def derive_best_sul_change(df_response: pd.DataFrame, df_bmr: pd.DataFrame) -> pd.DataFrame:
    """Best (lowest) % change of the hottest lesion's SULpeak per patient, for a waterfall.

    Parameters
    ----------
    df_response : DataFrame
        Output of :func:`sirtstats.metabolic.derive_percist_response` (``patient_id``,
        ``scan_date``, ``sul_peak_change_pct`` in %, ``response``).
    df_bmr : DataFrame
        Output of :func:`sirtstats.metabolic.derive_best_metabolic_response` (``patient_id``,
        ``bmr``): the colour of each bar.

    Returns
    -------
    DataFrame
        One row per patient of ``df_bmr``: ``patient_id``, ``best_sul_change_pct`` (% from
        baseline, negative = decline; NaN when no scan has a value), ``best_scan_date``,
        ``bmr``.

    Notes
    -----
    Scans after the first PMD are left out (P1.12): the bar is the deepest SULpeak decline
    (hottest lesion at each scan against the hottest at baseline, P1.3) up to progression.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"patient_id": ["P1"] * 3, "scan_date": pd.to_datetime(
    ...     ["2024-04-01", "2024-07-01", "2024-10-01"]),
    ...     "sul_peak_change_pct": [-40.0, 10.0, -60.0], "response": ["PMR", "PMD", "PMR"]})
    >>> b = pd.DataFrame({"patient_id": ["P1"], "bmr": ["PMR"]})
    >>> derive_best_sul_change(r, b)["best_sul_change_pct"].tolist()
    [-40.0]
    """
    fn = "derive_best_sul_change"
    require_columns(df_response, ["patient_id", "scan_date", "sul_peak_change_pct", "response"],
                    "percist", fn)
    require_columns(df_bmr, ["patient_id", "bmr"], "bmr", fn)
    d = df_response.sort_values(["patient_id", "scan_date"], kind="mergesort")
    after_pmd = (d["response"] == "PMD").groupby(d["patient_id"]).cumsum() \
        - (d["response"] == "PMD").astype(int) > 0
    d = d.loc[~after_pmd & d["sul_peak_change_pct"].notna()]
    idx = d.groupby("patient_id")["sul_peak_change_pct"].idxmin()
    best = d.loc[idx, ["patient_id", "sul_peak_change_pct", "scan_date"]].set_index("patient_id")
    out = df_bmr[["patient_id", "bmr"]].copy()
    out["best_sul_change_pct"] = out["patient_id"].map(best["sul_peak_change_pct"])
    out["best_scan_date"] = out["patient_id"].map(best["scan_date"])
    return out[["patient_id", "best_sul_change_pct", "best_scan_date", "bmr"]].reset_index(
        drop=True)


def _analysis_set_bor(df_bmr, df_baseline):
    """P1.11: measurable-baseline patients; no follow-up evaluation -> MISSING."""
    require_columns(df_baseline, ["patient_id", "is_measurable"], "percist_baseline",
                    "summarise_metabolic_response_rates")
    ids = df_baseline.loc[df_baseline["is_measurable"].astype(bool), "patient_id"]
    bor = df_bmr.drop_duplicates("patient_id").set_index("patient_id")["bor"]
    out = pd.DataFrame({"patient_id": ids.to_numpy()})
    out["bor"] = out["patient_id"].map(bor).fillna("MISSING")
    return out


def summarise_metabolic_response_rates(
    df_bmr: pd.DataFrame,
    df_baseline: pd.DataFrame,
    *,
    alpha: float = 0.05,
    criterion: str = "PERCIST_1_0",
) -> pd.DataFrame:
    """Metabolic response rate (CMR + PMR), disease control and CMR rate with exact CIs.

    Parameters
    ----------
    df_bmr : DataFrame
        Output of :func:`sirtstats.metabolic.derive_best_metabolic_response` (``patient_id``,
        ``bor``, the RECIST-coded best metabolic response).
    df_baseline : DataFrame
        Output of :func:`derive_percist_baseline`: the analysis set is its patients with
        ``is_measurable`` (P1.11); those without an evaluated follow-up scan count as
        non-responders (MISSING).
    alpha : float, default 0.05
        1 - confidence level of the Clopper-Pearson intervals.
    criterion : str, default "PERCIST_1_0"
        Value of the ``criterion`` column.

    Returns
    -------
    DataFrame
        One row: ``criterion``, ``n`` (analysis set), ``n_not_measurable`` (patients with a
        baseline PET below the P1.1 threshold, left out), ``n_responders`` (CMR + PMR),
        ``mrr_pct`` with ``mrr_ci_lower_pct``/``mrr_ci_upper_pct`` (%), ``n_cmr``,
        ``cmr_pct`` with its CI, ``n_disease_control`` (CMR + PMR + SMD), ``mdcr_pct`` with
        its CI, ``n_pmd``, ``n_ne`` and ``n_missing``.

    References
    ----------
    Wahl et al. 2009, section "PERCIST 1.0" (best overall metabolic response); Clopper &
    Pearson, Biometrika 1934; rule P1.11 of docs/rules/metabolic.md.

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.DataFrame({"patient_id": ["P1", "P2", "P3"],
    ...                      "is_measurable": [True, True, False]})
    >>> bmr = pd.DataFrame({"patient_id": ["P1"], "bor": ["PR"]})
    >>> r = summarise_metabolic_response_rates(bmr, base)
    >>> r[["n", "n_responders", "mrr_pct", "n_missing"]].to_dict("records")
    [{'n': 2, 'n_responders': 1, 'mrr_pct': 50.0, 'n_missing': 1}]
    """
    require_columns(df_bmr, ["patient_id", "bor"], "bmr", "summarise_metabolic_response_rates")
    d = _analysis_set_bor(df_bmr, df_baseline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        r = summarise_response_rates(d, alpha=alpha, clinben_vals=("CR", "PR", "SD"))
    row = r.iloc[0]
    out = {"criterion": criterion, "n": int(row["n"]),
           "n_not_measurable": int((~df_baseline["is_measurable"].astype(bool)).sum()),
           "n_responders": int(row["n_responders"]), "mrr_pct": row["orr_pct"],
           "mrr_ci_lower_pct": row["orr_ci_lower_pct"],
           "mrr_ci_upper_pct": row["orr_ci_upper_pct"], "n_cmr": int(row["n_cr"]),
           "cmr_pct": row["cr_rate_pct"], "cmr_ci_lower_pct": row["cr_ci_lower_pct"],
           "cmr_ci_upper_pct": row["cr_ci_upper_pct"],
           "n_disease_control": int(row["n_disease_control"]), "mdcr_pct": row["dcr_pct"],
           "mdcr_ci_lower_pct": row["dcr_ci_lower_pct"],
           "mdcr_ci_upper_pct": row["dcr_ci_upper_pct"],
           "n_pmd": int((d["bor"] == "PD").sum()), "n_ne": int(row["n_ne"]),
           "n_missing": int(row["n_missing"])}
    res = pd.DataFrame([out])
    if out["n"] < 10:
        warnings.warn(f"{out['n']} patient(s) in the PERCIST analysis set; the metabolic "
                      "response rate and its CI are imprecise.", SirtStatsWarning, stacklevel=2)
    res.attrs["settings"] = {"alpha": alpha, "ci_method": "Clopper-Pearson (exact)",
                             "denominator": "patients with a measurable baseline PET (P1.11)"}
    return res


def summarise_metabolic_agreement(
    df_bmr: pd.DataFrame,
    df_bor: pd.DataFrame,
    *,
    labels: tuple[str, str] = ("PERCIST_1_0", "RECIST_1_1"),
    weights: str = "linear",
    alpha: float = 0.05,
) -> CriteriaAgreement:
    """Agreement of the best metabolic response with an anatomical BOR (P1.13).

    Parameters
    ----------
    df_bmr : DataFrame
        Output of :func:`sirtstats.metabolic.derive_best_metabolic_response` (``patient_id``,
        ``bmr``), one row per patient.
    df_bor : DataFrame
        Best overall response of the same patients under RECIST 1.1 or mRECIST
        (``patient_id``, ``bor``), one row per patient (one criterion, scope and
        confirmation setting).
    labels : tuple of str, default ("PERCIST_1_0", "RECIST_1_1")
        Names of the two criteria.
    weights : {"linear", "quadratic"}, default "linear"
        Weights of the weighted kappa (CMR/CR > PMR/PR > SMD/SD > PMD/PD).
    alpha : float, default 0.05
        1 - confidence level of the kappa intervals.

    Returns
    -------
    CriteriaAgreement
        As :func:`sirtstats.response.rates.summarise_criteria_agreement`, with the
        cross-table rows in metabolic codes (CMR, PMR, SMD, PMD, NE) and its columns in the
        anatomical codes. Kappa: responder (CMR/PMR vs CR/PR) and weighted on the four
        ordered categories.

    Notes
    -----
    Metabolic and anatomical response measure different things (glycolysis vs size); a
    kappa below 0.4 is expected early after SIRT (necrosis before shrinkage) and is reported
    as it is (D19).

    References
    ----------
    Cohen J, Educ Psychol Meas 1960; Landis & Koch, Biometrics 1977; statsmodels
    ``cohens_kappa``.

    Examples
    --------
    >>> import pandas as pd
    >>> ids = [f"P{i}" for i in range(10)]
    >>> bmr = pd.DataFrame({"patient_id": ids, "bmr": ["PMR"] * 5 + ["SMD"] * 5})
    >>> bor = pd.DataFrame({"patient_id": ids, "bor": ["PR"] * 3 + ["SD"] * 7})
    >>> round(summarise_metabolic_agreement(bmr, bor).kappa, 2)
    0.6
    """
    fn = "summarise_metabolic_agreement"
    require_columns(df_bmr, ["patient_id", "bmr"], "bmr", fn)
    bad = ~df_bmr["bmr"].isin(METABOLIC_CODES + ("MISSING",))
    if bad.any():
        got = sorted(set(df_bmr.loc[bad, "bmr"]))
        raise ValueError(f"The 'df_bmr' argument of {fn} must hold metabolic codes "
                         f"{set(METABOLIC_CODES)} in 'bmr'. Got {got} instead.")
    weights = check_choice(weights, ("linear", "quadratic"), "weights", fn)
    a = pd.DataFrame({"patient_id": df_bmr["patient_id"].to_numpy(),
                      "bor": df_bmr["bmr"].map(TO_RECIST_CODE).to_numpy()})
    res = summarise_criteria_agreement(a, df_bor[["patient_id", "bor"]], weights=weights,
                                       alpha=alpha, labels=labels)
    ct = res.crosstab.drop(index=[c for c in ("NON_CR_NON_PD", "ND") if c in res.crosstab.index])
    ct = ct.rename(index=FROM_RECIST_CODE)
    resp = res.responder_table.rename(index={"responder": "CMR/PMR",
                                             "non-responder": "SMD/PMD/NE"})
    return replace(res, crosstab=ct, responder_table=resp)


def summarise_metabolic_distribution(df_bmr: pd.DataFrame) -> pd.DataFrame:
    """Counts and percentages of each best metabolic response (CMR, PMR, SMD, PMD, NE).

    Parameters
    ----------
    df_bmr : DataFrame
        Output of :func:`sirtstats.metabolic.derive_best_metabolic_response` (``bmr`` and
        optionally ``criterion``, ``confirmed``).

    Returns
    -------
    DataFrame
        One row per group and code: the grouping columns, ``bmr``, ``n`` and ``pct`` (% of the
        group, 0-100), codes in the order CMR, PMR, SMD, PMD, NE.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"patient_id": ["P1", "P2"], "bmr": ["PMR", "PMD"]})
    >>> summarise_metabolic_distribution(b)["n"].tolist()
    [0, 1, 0, 1, 0]
    """
    require_columns(df_bmr, ["bmr"], "bmr", "summarise_metabolic_distribution")
    keys = [c for c in ("criterion", "confirmed") if c in df_bmr.columns]
    d = df_bmr.assign(_code=pd.Categorical(df_bmr["bmr"], categories=list(METABOLIC_CODES)))
    g = d.groupby([*keys, "_code"], observed=False).size().rename("n").reset_index()
    g = g.rename(columns={"_code": "bmr"})
    tot = g.groupby(keys)["n"].transform("sum") if keys else g["n"].sum()
    g["pct"] = np.where(tot > 0, 100.0 * g["n"] / tot, np.nan)
    g["bmr"] = g["bmr"].astype(str)
    return g


def summarise_pet_quality(df_quality: pd.DataFrame, df_pet: pd.DataFrame) -> pd.DataFrame:
    """Scan-quality problems (P1.10) counted by check, without patient identifiers.

    Parameters
    ----------
    df_quality : DataFrame
        Output of :func:`sirtstats.metabolic.check_pet_quality`.
    df_pet : DataFrame
        ``pet_assessments`` the checks ran on (``patient_id``, ``scan_date``), for the
        denominators.

    Returns
    -------
    DataFrame
        One row per check (all five, in the order of P1.10): ``check``, ``n_scans``,
        ``pct_scans`` (% of all scans) and ``n_patients``.

    Examples
    --------
    >>> import pandas as pd
    >>> pet = pd.DataFrame({"patient_id": ["P1", "P1"], "scan_date": pd.to_datetime(
    ...     ["2024-01-01", "2024-04-01"])})
    >>> q = pd.DataFrame({"patient_id": ["P1"], "scan_date": pd.to_datetime(["2024-04-01"]),
    ...     "check": ["glucose_above_11_1"], "value": [12.0], "limit": [""]})
    >>> summarise_pet_quality(q, pet)["pct_scans"].tolist()
    [0.0, 0.0, 0.0, 0.0, 50.0]
    """
    checks = ["uptake_time_outside_50_70", "uptake_time_differs_from_baseline",
              "liver_reference_changed", "blood_pool_reference_changed", "glucose_above_11_1"]
    n_scans = len(df_pet)
    rows = []
    for c in checks:
        q = df_quality.loc[df_quality["check"] == c]
        k = len(q.drop_duplicates(["patient_id", "scan_date"]))
        rows.append({"check": c, "n_scans": k,
                     "pct_scans": 100.0 * k / n_scans if n_scans else np.nan,
                     "n_patients": int(q["patient_id"].nunique())})
    return pd.DataFrame(rows)
