# ruff: noqa: PT028  (test_* here are statistical tests, not pytest tests)
"""Log-rank tests (public entry: sirtstats.survival).

Implements R6.4 (docs/rules/statistics.md): the k-sample log-rank test (lifelines'
``multivariate_logrank_test``, equal to R ``survdiff`` with rho = 0), the stratified log-rank
test (sum over strata of O − E and of the hypergeometric variance; not in lifelines, numpy here,
equal to ``survdiff(... + strata())``) and pairwise comparisons with a Holm adjustment.

References: Mantel N. Cancer Chemother Rep 1966;50:163–170. Peto R, Peto J. J R Stat Soc A
1972;135:185–207. Holm S. Scand J Stat 1979;6:65–70. R survival 3.5-3 ``survdiff``.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import chi2

from sirtstats.exceptions import SirtDataError, SirtStatsWarning
from sirtstats.survival._common import (
    _as_list,
    _check_choice,
    _survival_columns,
    _timefix,
    check_guarantee_time,
)

__all__ = ["LogrankResult", "test_logrank"]


@dataclass(frozen=True)
class LogrankResult:
    """Log-rank test result.

    Attributes
    ----------
    table : DataFrame
        One row per comparison: ``comparison`` (``"overall"`` or ``"a vs b"``), ``chisq``,
        ``df``, ``p``, ``p_holm`` (pairwise only), ``stratified_by``, ``method``.
    groups : DataFrame
        Per group (over all strata): ``group``, ``n``, ``observed``, ``expected``.
    """

    table: pd.DataFrame
    groups: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Return the test table."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False) + self.groups.to_html(index=False)


def _logrank_components(time, event, group_codes, n_groups, strata_codes):
    """Sum over strata of O − E (vector) and the hypergeometric covariance matrix."""
    o_minus_e = np.zeros(n_groups)
    obs = np.zeros(n_groups)
    exp = np.zeros(n_groups)
    var = np.zeros((n_groups, n_groups))
    for s in np.unique(strata_codes):
        sel = strata_codes == s
        t, e, g = time[sel], event[sel], group_codes[sel]
        ut, inv = np.unique(t, return_inverse=True)
        m = len(ut)
        # at risk per time and group: count with time >= ut
        n_tg = np.zeros((m, n_groups))
        d_tg = np.zeros((m, n_groups))
        np.add.at(n_tg, (inv, g), 1.0)
        np.add.at(d_tg, (inv, g), e)
        risk = np.cumsum(n_tg[::-1], axis=0)[::-1]
        n = risk.sum(axis=1)
        d = d_tg.sum(axis=1)
        keep = d > 0
        risk, n, d, d_tg = risk[keep], n[keep], d[keep], d_tg[keep]
        e_tg = risk * (d / n)[:, None]
        obs += d_tg.sum(axis=0)
        exp += e_tg.sum(axis=0)
        o_minus_e += (d_tg - e_tg).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
        # V = sum c * (n diag(risk) - risk risk')
        var += np.einsum("t,tg->g", c * n, risk)[:, None] * np.eye(n_groups) - np.einsum(
            "t,tg,th->gh", c, risk, risk)
    return o_minus_e, var, obs, exp


def _chisq(o_minus_e, var):
    # generalised inverse on the first k-1 groups, as survdiff
    k = len(o_minus_e)
    if k < 2:
        return 0.0, 0
    u = o_minus_e[:-1]
    v = var[:-1, :-1]
    df = int(np.linalg.matrix_rank(v)) if v.size else 0
    if df == 0:
        return 0.0, 0
    stat = float(u @ np.linalg.pinv(v) @ u)
    return stat, df


def test_logrank(
    df: pd.DataFrame,
    *,
    group_col: str,
    time_col: str = "time_months",
    event_col: str = "event",
    strata: str | Sequence[str] | None = None,
    pairwise: bool = False,
    timefix: bool = True,
    check_type: Literal["error", "warning"] = "error",
) -> LogrankResult:
    """Log-rank test comparing survival between groups (stratified and pairwise optional).

    Parameters
    ----------
    df : DataFrame
        One row per patient with ``time_col`` (float, ≥ 0), ``event_col`` (0/1) and
        ``group_col``.
    group_col : str
        Group column (two or more groups; rows with a missing group are dropped).
    time_col, event_col : str
        Column names.
    strata : str or list of str, optional
        Stratification column(s): O − E and variances are summed over strata.
    pairwise : bool, default False
        Also test every pair of groups (restricted to the two groups' patients), with
        Holm-adjusted p-values.
    timefix : bool, default True
        R's ``timefix`` merging of near-tied times.
    check_type : {"error", "warning"}, default "error"
        Severity of the guarantee-time check (grouping by response from the origin, R5.6)
        and of a grouping with fewer than two groups in the analysed rows (e.g. one ALBI
        grade in a small subgroup): "warning" returns a result with NaN statistics.

    Returns
    -------
    LogrankResult
        ``.table`` (overall row, then pairs) and ``.groups`` (observed/expected events).

    Warns
    -----
    SirtStatsWarning
        No events (the statistic is 0 with p NaN, as R reports).

    Notes
    -----
    ``U = Σ_j (O_gj − E_gj)``, ``E_gj = d_j n_gj / n_j``, covariance
    ``V_gh = Σ_j d_j (n_j − d_j)/(n_j²(n_j − 1)) (n_j n_gj δ_gh − n_gj n_hj)``;
    ``χ² = U′V⁻U`` (first k − 1 groups, generalised inverse), summed over strata when
    stratified, on df = rank(V): k − 1 unless a group has no expected events (e.g. all its
    patients censored before the first event), which R ``survdiff`` leaves out of the df
    (``sum(expected > 0) − 1``). The unstratified statistic is lifelines'
    ``multivariate_logrank_test``.

    References
    ----------
    R6.4 (docs/rules/statistics.md), WE26; docs/rules/statistics.md (log-rank).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats import survival
    >>> df = pd.DataFrame({
    ...     "time_months": [2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 4, 6, 6, 9, 11, 14, 16, 18, 20, 24],
    ...     "event": [1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0],
    ...     "group": [1] * 10 + [0] * 10})
    >>> res = survival.test_logrank(df, group_col="group")
    >>> round(float(res.table["chisq"].iloc[0]), 4)
    1.4879
    """
    _check_choice(check_type, ("error", "warning"), "check_type", "test_logrank")
    strata_cols = _as_list(strata)
    check_guarantee_time(df, [group_col] + strata_cols, function="test_logrank",
                         check_type=check_type)
    if group_col not in df.columns:
        raise SirtDataError(f"test_logrank: missing column {group_col!r}.", column=group_col,
                            rule="required column")
    t, e = _survival_columns(df, time_col, event_col, "test_logrank")
    ok = _analysed_rows(df, t, e, group_col, strata_cols)
    tt = t[ok].to_numpy(dtype=float)
    ee = e[ok].to_numpy(dtype=float)
    if timefix:
        (tt,) = _timefix(tt)
    groups = df.loc[ok, group_col]
    levels = sorted(groups.unique().tolist(), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        return _no_test(group_col, levels, tt, ee, strata_cols, check_type)
    gcodes = pd.Categorical(groups, categories=levels).codes.astype(int)
    if strata_cols:
        scodes = pd.factorize(df.loc[ok, strata_cols].astype(str).agg("|".join, axis=1),
                              sort=True)[0]
    else:
        scodes = np.zeros(len(tt), dtype=int)
    label = ", ".join(strata_cols)

    o_e, var, obs, exp = _logrank_components(tt, ee, gcodes, len(levels), scodes)
    stat, dof, method = _overall_statistic(tt, ee, gcodes, len(levels), o_e, var,
                                           stratified=bool(strata_cols))
    p = chi2.sf(stat, dof) if ee.sum() > 0 and dof > 0 else np.nan
    if ee.sum() == 0:
        warnings.warn("test_logrank: no events; the test is undefined (p = NaN).",
                      SirtStatsWarning, stacklevel=2)
    rows = [{"comparison": "overall", "chisq": stat, "df": dof, "p": p, "p_holm": np.nan,
             "stratified_by": label, "method": method}]
    if pairwise and len(levels) > 2:
        rows.extend(_pairwise_rows(tt, ee, gcodes, levels, scodes, label, method))
    table = pd.DataFrame(rows)
    grp = pd.DataFrame({"group": levels, "n": np.bincount(gcodes, minlength=len(levels)),
                        "observed": obs, "expected": exp})
    return LogrankResult(table=table, groups=grp)


def _analysed_rows(df: pd.DataFrame, t, e, group_col: str, strata_cols) -> pd.Series:
    """Rows with time, event, group and strata (warns on the others)."""
    ok = t.notna() & e.notna() & df[group_col].notna()
    for c in strata_cols:
        ok &= df[c].notna()
    n_excluded = int((~ok).sum())
    if n_excluded:
        warnings.warn(f"test_logrank: {n_excluded} rows with missing values were excluded.",
                      SirtStatsWarning, stacklevel=3)
    return ok


def _no_test(group_col: str, levels: list, tt, ee, strata_cols, check_type) -> LogrankResult:
    """Fewer than two groups: an error, or (``check_type="warning"``) a result without a test."""
    message = f"test_logrank: {group_col!r} has fewer than two groups."
    if check_type == "error":
        raise SirtDataError(message, column=group_col, rule="two or more groups")
    warnings.warn(message + " No test.", SirtStatsWarning, stacklevel=3)
    table = pd.DataFrame({"comparison": ["overall"], "chisq": [np.nan], "df": [0],
                          "p": [np.nan], "p_holm": [np.nan],
                          "stratified_by": [", ".join(strata_cols)], "method": ["log-rank"]})
    return LogrankResult(table=table, groups=pd.DataFrame(
        {"group": levels, "n": [len(tt)] * len(levels),
         "observed": [float(ee.sum())] * len(levels), "expected": [np.nan] * len(levels)}))


def _overall_statistic(tt, ee, gcodes, n_levels: int, o_e, var, *, stratified: bool):
    """Chi-square statistic, degrees of freedom and method name of the overall test."""
    if stratified:
        stat, dof = _chisq(o_e, var)
        return stat, dof, "stratified log-rank"
    from lifelines.statistics import multivariate_logrank_test

    # df = rank of the variance matrix (groups with expected events − 1, R survdiff), not
    # lifelines' k − 1, which counts a group never at risk at an event time
    _stat, dof = _chisq(o_e, var)
    if ee.sum() > 0:
        lr = multivariate_logrank_test(tt, gcodes, ee)
        stat = float(lr.test_statistic)
    else:
        stat, dof = 0.0, n_levels - 1
    return stat, dof, "log-rank"


def _pairwise_rows(tt, ee, gcodes, levels, scodes, label: str, method: str) -> list[dict]:
    """One row per pair of groups, with Holm-adjusted p-values (``p_holm``)."""
    pair_rows = []
    for a, b in itertools.combinations(range(len(levels)), 2):
        sel = (gcodes == a) | (gcodes == b)
        gc = np.where(gcodes[sel] == a, 0, 1)
        o2, v2, _o, _e = _logrank_components(tt[sel], ee[sel], gc, 2, scodes[sel])
        s2, d2 = _chisq(o2, v2)
        pair_rows.append({"comparison": f"{levels[a]} vs {levels[b]}", "chisq": s2,
                          "df": d2, "p": chi2.sf(s2, d2) if d2 else np.nan,
                          "stratified_by": label, "method": method})
    pvals = np.array([r["p"] for r in pair_rows])
    order = np.argsort(pvals)
    m = len(pvals)
    adj = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvals[idx]))
        adj[idx] = running
    for r, a in zip(pair_rows, adj, strict=True):
        r["p_holm"] = a
    return pair_rows


# pytest would collect a module-level function named test_*; mark it as not a test.
test_logrank.__test__ = False
