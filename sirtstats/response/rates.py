"""Response rates with exact confidence intervals, and agreement between criteria.

Implements R1.10 (docs/rules/response.md) (ORR, DCR, CR rate; patients with NE or MISSING BOR stay
in the denominator as non-responders), R6.1 (exact Clopper-Pearson intervals, Clopper &
Pearson, Biometrika 1934) and R6.7 / §3.4 (Cohen's kappa, weighted kappa for the ordered
categories, exact McNemar test for paired rates). Intervals come from statsmodels
(``proportion_confint(method="beta")``, ``cohens_kappa``, ``mcnemar(exact=True)``), which are
checked against the worked examples WE23-WE24.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.response._common import (
    BOR_CODES,
    DISEASE_CONTROL_CODES,
    check_choice,
    require_columns,
)

__all__ = [
    "CriteriaAgreement",
    "RATE_COLUMNS",
    "compute_exact_ci",
    "summarise_criteria_agreement",
    "summarise_response_rates",
    "summarise_response_rates_by_subgroup",
]

#: Output columns of :func:`summarise_response_rates` after the grouping columns.
RATE_COLUMNS: list[str] = [
    "n", "n_responders", "orr_pct", "orr_ci_lower_pct", "orr_ci_upper_pct",
    "n_disease_control", "dcr_pct", "dcr_ci_lower_pct", "dcr_ci_upper_pct",
    "n_cr", "cr_rate_pct", "cr_ci_lower_pct", "cr_ci_upper_pct", "n_ne", "n_missing",
]

#: Groups smaller than this get a SirtStatsWarning (style guide §5).
MIN_GROUP_SIZE = 10

#: Landis & Koch (Biometrics 1977) labels for kappa: upper bound (inclusive) -> label.
LANDIS_KOCH: tuple[tuple[float, str], ...] = (
    (0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"),
    (0.80, "substantial"), (1.0, "almost perfect"))

#: Ordered categories for the weighted kappa (best first). NON_CR_NON_PD is pooled with SD
#: (disease control without response); NE and MISSING pairs are left out of it.
ORDINAL_BOR: tuple[str, ...] = ("CR", "PR", "SD", "PD")


def compute_exact_ci(count, nobs, *, alpha: float = 0.05):
    """Exact Clopper-Pearson confidence interval of a proportion (R6.1).

    Parameters
    ----------
    count, nobs : int or array-like of int
        Number of successes and of trials (nobs >= 1).
    alpha : float, default 0.05
        1 - confidence level.

    Returns
    -------
    (lower, upper) : tuple of float or ndarray
        Proportions in [0, 1]; lower = 0 when count = 0, upper = 1 when count = nobs.

    References
    ----------
    Clopper CJ, Pearson ES. Biometrika 1934;26:404-413. Computed with
    ``statsmodels.stats.proportion.proportion_confint(method="beta")`` (the default method of
    that function is the Wald interval, which is wrong here).

    Examples
    --------
    >>> lo, hi = compute_exact_ci(7, 20)
    >>> round(100 * lo, 2), round(100 * hi, 2)
    (15.39, 59.22)
    """
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(count, nobs, alpha=alpha, method="beta")


def _landis_koch(kappa: float) -> str:
    if not np.isfinite(kappa):
        return "n/a"
    for bound, label in LANDIS_KOCH:
        if kappa <= bound:
            return label
    return "almost perfect"


def _check_clinben(values, fn: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    values = list(values)
    bad = [v for v in values if v not in DISEASE_CONTROL_CODES]
    if not values or bad:
        raise ValueError(f"The 'clinben_vals' argument of {fn} must be a non-empty subset of "
                         f"{set(DISEASE_CONTROL_CODES)}. Got {values!r} instead.")
    return values


def summarise_response_rates(
    df_bor: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    df_patients: pd.DataFrame | None = None,
    alpha: float = 0.05,
    clinben_vals: Sequence[str] = DISEASE_CONTROL_CODES,
) -> pd.DataFrame:
    """ORR, DCR and CR rate with exact 95 % CIs, overall or by subgroup (R1.10).

    Parameters
    ----------
    df_bor : DataFrame
        Output of :func:`derive_best_overall_response`: ``patient_id``, ``bor`` (CR, PR, SD,
        NON_CR_NON_PD, PD, NE, MISSING) and optionally ``criterion``, ``scope``,
        ``confirmed``, which always become grouping columns. Each row is one patient of the
        analysis set; NE and MISSING stay in the denominator.
    by : str or list of str, optional
        Subgroup columns (e.g. ``"primary_tumour"``, ``"device"``, ``"dose_group"``), taken
        from ``df_bor`` or else from ``df_patients``. Missing subgroup values form their own
        group.
    df_patients : DataFrame, optional
        One row per patient with ``patient_id`` and the ``by`` columns missing from
        ``df_bor`` (e.g. the cohort table).
    alpha : float, default 0.05
        1 - confidence level of the Clopper-Pearson intervals.
    clinben_vals : sequence of str, default ("CR", "PR", "SD", "NON_CR_NON_PD")
        BOR values counted as disease control / clinical benefit in ``n_disease_control``
        and ``dcr_*``: a subset of CR, PR, SD, NON_CR_NON_PD. The default is the RECIST 1.1
        DCR with non-measurable patients included (R1.10); e.g. ``("CR", "PR", "SD")``
        leaves NON-CR/NON-PD out, as protocols restricted to measurable disease do.
        Mirrors admiralonco ``derive_param_clinbenefit(clinben_vals = ...)``.

    Returns
    -------
    DataFrame
        One row per group with the grouping columns and :data:`RATE_COLUMNS`: counts,
        percentages (0-100) and exact CIs in % for ORR (CR + PR), DCR (the
        ``clinben_vals``, by default CR + PR + SD + NON_CR_NON_PD) and CR rate, plus the
        numbers of NE and MISSING (patients with BOR ND count in ``n`` only).

    Raises
    ------
    SirtDataError
        Missing columns, unknown BOR codes, or subgroup columns found nowhere.

    Warns
    -----
    SirtStatsWarning
        When a group has fewer than 10 patients.

    References
    ----------
    RECIST 1.1 (Eisenhauer et al., 2009) §4.4; Clopper & Pearson, Biometrika 1934.

    Examples
    --------
    >>> import pandas as pd
    >>> bor = pd.DataFrame({"patient_id": [f"P{i}" for i in range(20)],
    ...                     "bor": ["PR"] * 7 + ["SD"] * 8 + ["PD"] * 4 + ["NE"]})
    >>> r = summarise_response_rates(bor)
    >>> r[["n", "n_responders", "orr_pct", "orr_ci_lower_pct", "orr_ci_upper_pct"]].round(2)
        n  n_responders  orr_pct  orr_ci_lower_pct  orr_ci_upper_pct
    0  20             7     35.0             15.39             59.22
    """
    fn = "summarise_response_rates"
    require_columns(df_bor, ["patient_id", "bor"], "bor", fn)
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ValueError(f"The 'alpha' argument of {fn} must be a number in (0, 1). "
                         f"Got {alpha!r} instead.")
    by = [by] if isinstance(by, str) else list(by or [])
    clinben = _check_clinben(clinben_vals, fn)
    bad = ~df_bor["bor"].isin(BOR_CODES)
    if bad.any():
        rows = df_bor.loc[bad]
        raise SirtDataError(
            f'bor.bor: {int(bad.sum())} rows violate "bor in {BOR_CODES}".',
            table="bor", column="bor", rule="BOR code", rows=rows)
    d = df_bor.copy()
    for col in by:
        if col in d.columns:
            continue
        if df_patients is None or col not in df_patients.columns:
            raise SirtDataError(
                f"bor: subgroup column {col!r} is neither in df_bor nor in df_patients.",
                table="bor", column=col, rule="subgroup column")
        require_columns(df_patients, ["patient_id", col], "patients", fn)
        d[col] = d["patient_id"].map(df_patients.drop_duplicates("patient_id").set_index(
            "patient_id")[col])
    keys = [c for c in ("criterion", "scope", "confirmed") if c in d.columns] + by
    d["_resp"] = d["bor"].isin(["CR", "PR"])
    d["_dc"] = d["bor"].isin(clinben)
    d["_cr"] = d["bor"] == "CR"
    d["_ne"] = d["bor"] == "NE"
    d["_miss"] = d["bor"] == "MISSING"
    if keys:
        g = d.groupby(keys, dropna=False, sort=True)
        agg = g.agg(n=("bor", "size"), n_responders=("_resp", "sum"),
                    n_disease_control=("_dc", "sum"), n_cr=("_cr", "sum"), n_ne=("_ne", "sum"),
                    n_missing=("_miss", "sum")).reset_index()
    else:
        agg = pd.DataFrame({"n": [len(d)], "n_responders": [d["_resp"].sum()],
                            "n_disease_control": [d["_dc"].sum()], "n_cr": [d["_cr"].sum()],
                            "n_ne": [d["_ne"].sum()], "n_missing": [d["_miss"].sum()]})
    n = agg["n"].to_numpy()
    for stem, col in (("orr", "n_responders"), ("dcr", "n_disease_control"), ("cr", "n_cr")):
        x = agg[col].to_numpy()
        lo, hi = compute_exact_ci(x, n, alpha=alpha)
        pct = f"{stem}_pct" if stem != "cr" else "cr_rate_pct"
        agg[pct] = 100.0 * x / n
        agg[f"{stem}_ci_lower_pct"] = 100.0 * np.asarray(lo, dtype=float)
        agg[f"{stem}_ci_upper_pct"] = 100.0 * np.asarray(hi, dtype=float)
    small = agg.loc[agg["n"] < MIN_GROUP_SIZE]
    if len(small):
        warnings.warn(f"{len(small)} group(s) have fewer than {MIN_GROUP_SIZE} patients; "
                      f"response rates and their CIs are imprecise.", SirtStatsWarning,
                      stacklevel=2)
    for c in ("n", "n_responders", "n_disease_control", "n_cr", "n_ne", "n_missing"):
        agg[c] = agg[c].astype("int64")
    out = agg[keys + RATE_COLUMNS]
    out.attrs["settings"] = {"alpha": alpha, "ci_method": "Clopper-Pearson (exact)",
                             "denominator": "all patients in df_bor (NE/MISSING included)",
                             "clinben_vals": list(clinben)}
    return out


def summarise_response_rates_by_subgroup(
    df_bor: pd.DataFrame,
    subgroups: Sequence[str],
    *,
    df_patients: pd.DataFrame | None = None,
    alpha: float = 0.05,
    clinben_vals: Sequence[str] = DISEASE_CONTROL_CODES,
) -> pd.DataFrame:
    """Rates for all patients and for each subgroup variable in turn, stacked (forest layout).

    Parameters
    ----------
    df_bor : DataFrame
        As for :func:`summarise_response_rates`.
    subgroups : sequence of str
        Subgroup columns, each analysed on its own (not crossed), e.g.
        ``["primary_tumour", "device"]``.
    df_patients : DataFrame, optional
        Patient table holding the subgroup columns missing from ``df_bor``.
    alpha : float, default 0.05
        1 - confidence level.
    clinben_vals : sequence of str, default ("CR", "PR", "SD", "NON_CR_NON_PD")
        BOR values counted as disease control (see :func:`summarise_response_rates`).

    Returns
    -------
    DataFrame
        ``subgroup`` ("all" or the column name), ``level`` (the value, "all" for the first
        rows), the criterion/scope/confirmation columns and :data:`RATE_COLUMNS`.
    """
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        overall = summarise_response_rates(df_bor, alpha=alpha, clinben_vals=clinben_vals)
        parts.append(overall.assign(subgroup="all", level="all"))
        for col in subgroups:
            r = summarise_response_rates(df_bor, by=col, df_patients=df_patients, alpha=alpha,
                                         clinben_vals=clinben_vals)
            parts.append(r.rename(columns={col: "level"}).assign(
                subgroup=col, level=lambda x: x["level"].astype(object).where(
                    x["level"].notna(), "missing").astype(str)))
    out = pd.concat(parts, ignore_index=True)
    keys = [c for c in ("criterion", "scope", "confirmed") if c in out.columns]
    out = out[["subgroup", "level", *keys, *RATE_COLUMNS]]
    if (out["n"] < MIN_GROUP_SIZE).any():
        warnings.warn(f"{int((out['n'] < MIN_GROUP_SIZE).sum())} subgroup row(s) have fewer "
                      f"than {MIN_GROUP_SIZE} patients; their rates are imprecise.",
                      SirtStatsWarning, stacklevel=2)
    out.attrs["settings"] = {"alpha": alpha, "ci_method": "Clopper-Pearson (exact)"}
    return out


@dataclass(frozen=True, eq=False)
class CriteriaAgreement:
    """Agreement of two criteria's best overall responses on the same patients (R6.7).

    Attributes
    ----------
    crosstab : DataFrame
        BOR under criterion A (rows) x criterion B (columns), all BOR codes, with totals.
    responder_table : DataFrame
        2 x 2 responder (CR/PR) table.
    n_pairs : int
        Patients with a BOR under both criteria.
    n_unpaired : int
        Patients present under only one criterion (left out).
    kappa, kappa_ci_lower, kappa_ci_upper : float
        Cohen's kappa for responder vs non-responder with its asymptotic (Wald) CI,
        truncated to [-1, 1].
    weighted_kappa, weighted_kappa_ci_lower, weighted_kappa_ci_upper : float
        Weighted kappa on the ordered BOR CR > PR > SD (incl. NON_CR_NON_PD) > PD.
    n_weighted : int
        Pairs used for the weighted kappa (NE/MISSING under either criterion left out).
    weights : str
        "linear" or "quadratic".
    orr_a_pct, orr_b_pct : float
        Objective response rates (%) under each criterion on the paired patients.
    mcnemar_p : float
        Exact McNemar p-value comparing the paired response rates.
    labels : tuple of str
        Names of criterion A and B.
    alpha : float
        1 - confidence level.
    """

    crosstab: pd.DataFrame
    responder_table: pd.DataFrame
    n_pairs: int
    n_unpaired: int
    kappa: float
    kappa_ci_lower: float
    kappa_ci_upper: float
    weighted_kappa: float
    weighted_kappa_ci_lower: float
    weighted_kappa_ci_upper: float
    n_weighted: int
    weights: str
    orr_a_pct: float
    orr_b_pct: float
    mcnemar_p: float
    labels: tuple[str, str]
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: estimate, CI, p (McNemar), n and Landis-Koch label for kappas."""
        from sirtstats.labels import value_label

        a, b = (value_label(x) for x in self.labels)
        na = np.nan
        rows = [
            ("Cohen's kappa (responder vs non-responder)", self.kappa, self.kappa_ci_lower,
             self.kappa_ci_upper, na, self.n_pairs, _landis_koch(self.kappa)),
            (f"Weighted kappa ({self.weights}, CR > PR > SD > PD)", self.weighted_kappa,
             self.weighted_kappa_ci_lower, self.weighted_kappa_ci_upper, na, self.n_weighted,
             _landis_koch(self.weighted_kappa)),
            (f"ORR, {a} (%)", self.orr_a_pct, na, na, na, self.n_pairs, ""),
            (f"ORR, {b} (%)", self.orr_b_pct, na, na, na, self.n_pairs, ""),
            (f"McNemar exact test, ORR {a} vs {b}", na, na, na, self.mcnemar_p, self.n_pairs,
             ""),
        ]
        return pd.DataFrame(rows, columns=["statistic", "estimate", "ci_lower", "ci_upper", "p",
                                           "n", "interpretation"])

    def _repr_html_(self) -> str:
        return (f"<p><b>{html.escape(self.labels[0])} vs {html.escape(self.labels[1])}</b>: "
                f"{self.n_pairs} paired patients</p>" + self.to_frame().to_html(index=False)
                + self.crosstab.to_html())


def _kappa(table: np.ndarray, wt, z: float):
    from statsmodels.stats.inter_rater import cohens_kappa

    if table.sum() == 0 or (table.sum(axis=1) > 0).sum() * (table.sum(axis=0) > 0).sum() <= 1:
        return np.nan, np.nan, np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        res = cohens_kappa(table, wt=wt)
    k, se = float(res.kappa), float(res.std_kappa)
    # Kappa lies in [-1, 1]; the Wald limits are truncated to that range, as a CI reported past
    # perfect agreement (e.g. 0.62 [0.00 to 1.24] on 5 pairs) is not one a reader can use.
    return k, max(-1.0, k - z * se), min(1.0, k + z * se)


def summarise_criteria_agreement(
    bor_a: pd.DataFrame,
    bor_b: pd.DataFrame,
    *,
    weights: str = "linear",
    alpha: float = 0.05,
    labels: tuple[str, str] | None = None,
) -> CriteriaAgreement:
    """Cross-table and kappa agreement between two criteria's BOR (e.g. RECIST vs mRECIST).

    Parameters
    ----------
    bor_a, bor_b : DataFrame
        Outputs of :func:`derive_best_overall_response` for the two criteria, one row per
        patient (filter to one scope and confirmation setting first): ``patient_id``,
        ``bor``; ``criterion`` names the criteria when present.
    weights : {"linear", "quadratic"}, default "linear"
        Weights of the weighted kappa on CR > PR > SD > PD.
    alpha : float, default 0.05
        1 - confidence level of the kappa intervals (estimate ± z × ASE).
    labels : tuple of str, optional
        Names of the two criteria (default: their ``criterion`` values).

    Returns
    -------
    CriteriaAgreement
        Cross-table, responder 2 x 2 table, kappa and weighted kappa with CIs, ORRs and the
        exact McNemar p-value; ``.to_frame()`` for a tidy table.

    Raises
    ------
    SirtDataError
        Missing columns or several rows per patient.

    Notes
    -----
    Kappa = (p_o − p_e) / (1 − p_e) (statsmodels ``cohens_kappa``); the CI uses its
    asymptotic standard error. Patients with NE or MISSING are non-responders in the responder
    kappa and are left out of the weighted kappa. A Pearson correlation of % changes measures
    association, not agreement (§3.4), and is not reported.

    References
    ----------
    Cohen J, Educ Psychol Meas 1960; Landis JR, Koch GG, Biometrics 1977;33:159-174;
    McNemar Q, Psychometrika 1947.

    Examples
    --------
    >>> import pandas as pd
    >>> ids = [f"P{i}" for i in range(20)]
    >>> rec = pd.DataFrame({"patient_id": ids, "criterion": "RECIST_1_1",
    ...                     "bor": ["PR"] * 4 + ["SD"] * 16})
    >>> mre = pd.DataFrame({"patient_id": ids, "criterion": "mRECIST",
    ...                     "bor": ["PR"] * 12 + ["SD"] * 8})
    >>> a = summarise_criteria_agreement(rec, mre)
    >>> round(a.kappa, 4), a.mcnemar_p
    (0.2857, 0.0078125)
    """
    fn = "summarise_criteria_agreement"
    weights = check_choice(weights, ("linear", "quadratic"), "weights", fn)
    for name, df in (("bor_a", bor_a), ("bor_b", bor_b)):
        require_columns(df, ["patient_id", "bor"], name, fn)
        if df["patient_id"].duplicated().any():
            raise SirtDataError(
                f"{name}: several rows per patient; filter to one criterion, scope and "
                f"confirmation setting first.", table=name, column="patient_id",
                rule="one row per patient", rows=df.loc[df["patient_id"].duplicated(keep=False)])
    if labels is None:
        labels = tuple(str(df["criterion"].iloc[0]) if "criterion" in df and len(df) else n
                       for n, df in (("A", bor_a), ("B", bor_b)))
    a_lab, b_lab = labels
    m = bor_a[["patient_id", "bor"]].merge(bor_b[["patient_id", "bor"]], on="patient_id",
                                           how="outer", suffixes=("_a", "_b"))
    paired = m["bor_a"].notna() & m["bor_b"].notna()
    n_unpaired = int((~paired).sum())
    m = m.loc[paired]
    has_nd = bool((m[["bor_a", "bor_b"]] == "ND").to_numpy().any())
    cats = [c for c in BOR_CODES if c != "ND" or has_nd]
    ct = pd.crosstab(pd.Categorical(m["bor_a"], categories=cats),
                     pd.Categorical(m["bor_b"], categories=cats), dropna=False,
                     margins=True, margins_name="total")
    ct.index.name, ct.columns.name = a_lab, b_lab
    ra = m["bor_a"].isin(["CR", "PR"]).to_numpy()
    rb = m["bor_b"].isin(["CR", "PR"]).to_numpy()
    resp = np.array([[np.sum(ra & rb), np.sum(ra & ~rb)], [np.sum(~ra & rb), np.sum(~ra & ~rb)]])
    resp_df = pd.DataFrame(resp, index=pd.Index(["responder", "non-responder"], name=a_lab),
                           columns=pd.Index(["responder", "non-responder"], name=b_lab))
    from scipy.stats import norm
    from statsmodels.stats.contingency_tables import mcnemar

    z = float(norm.ppf(1 - alpha / 2))
    k, klo, khi = _kappa(resp.astype(float), None, z)
    ordm = m.replace({"bor_a": {"NON_CR_NON_PD": "SD"}, "bor_b": {"NON_CR_NON_PD": "SD"}})
    ordm = ordm.loc[ordm["bor_a"].isin(ORDINAL_BOR) & ordm["bor_b"].isin(ORDINAL_BOR)]
    otab = pd.crosstab(pd.Categorical(ordm["bor_a"], categories=ORDINAL_BOR),
                       pd.Categorical(ordm["bor_b"], categories=ORDINAL_BOR),
                       dropna=False).to_numpy(dtype=float)
    wk, wlo, whi = _kappa(otab, weights, z)
    n = len(m)
    p = float(mcnemar(resp, exact=True).pvalue) if n else np.nan
    return CriteriaAgreement(
        crosstab=ct, responder_table=resp_df, n_pairs=n, n_unpaired=n_unpaired,
        kappa=k, kappa_ci_lower=klo, kappa_ci_upper=khi, weighted_kappa=wk,
        weighted_kappa_ci_lower=wlo, weighted_kappa_ci_upper=whi, n_weighted=len(ordm),
        weights=weights, orr_a_pct=100.0 * ra.mean() if n else np.nan,
        orr_b_pct=100.0 * rb.mean() if n else np.nan, mcnemar_p=p, labels=(a_lab, b_lab),
        alpha=alpha)
