"""Outcome rates by dose threshold, dose groups and survival by dose group."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.dose_response._assembly import (
    derive_patient_dose_outcome,
)
from sirtstats.dose_response._common import (
    DEFAULT_SEED,
    _check_alpha,
    _check_choice,
    _check_int,
    _cluster_weights,
    _percentile_ci,
    _prepare,
    _require_columns,
)
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

__all__ = [
    "DoseGroupSurvival",
    "THRESHOLD_SUMMARY_COLUMNS",
    "derive_dose_group",
    "summarise_response_by_threshold",
    "summarise_survival_by_dose_group",
]


# --------------------------------------------------------------------------------------------
# rates above / below thresholds, dose groups
# --------------------------------------------------------------------------------------------
#: Columns of :func:`summarise_response_by_threshold`, in order.
THRESHOLD_SUMMARY_COLUMNS = [
    "threshold_gy", "dose_group", "n", "n_events", "rate", "ci_lower", "ci_upper",
    "n_clusters", "ci_method",
]


def _group_labels(threshold: float) -> tuple[str, str]:
    return (f"< {threshold:g} Gy", f">= {threshold:g} Gy")


def summarise_response_by_threshold(
    df: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    response_col: str = "is_responder",
    thresholds: Sequence[float] = (120.0, 205.0),
    cluster_col: str | None = "patient_id",
    ci_method: Literal["wilson", "cluster_bootstrap"] = "wilson",
    n_bootstrap: int = 1000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Outcome rate below and at-or-above each dose threshold.

    Parameters
    ----------
    df : DataFrame
        One row per lesion (or patient): dose (float, Gy), binary outcome, cluster id.
    dose_col : str, default "absorbed_dose_gy"
        Dose column, Gy.
    response_col : str, default "is_responder"
        Binary outcome (response, or a toxicity).
    thresholds : sequence of float, default (120, 205)
        Dose thresholds, Gy (e.g. 205 Gy glass HCC, DOSISPHERE-01; 120 Gy resin HCC).
    cluster_col : str or None, default "patient_id"
        Cluster id, counted per group and used by the cluster bootstrap.
    ci_method : {"wilson", "cluster_bootstrap"}, default "wilson"
        Wilson score interval (statsmodels ``proportion_confint``; ignores clustering, so it
        is too narrow when lesions of a patient respond alike) or percentile interval from
        resampling clusters.
    n_bootstrap : int, default 1000
        Replicates for ``"cluster_bootstrap"``.
    seed : int, default 20261127
        Seed of the bootstrap.
    alpha : float, default 0.05
        1 - confidence level.

    Returns
    -------
    DataFrame
        Two rows per threshold (in the order given), columns
        :data:`THRESHOLD_SUMMARY_COLUMNS`: ``threshold_gy`` (float), ``dose_group``
        ("< 205 Gy", ">= 205 Gy"), ``n`` and ``n_events`` (int), ``rate`` (0-1, NaN for an
        empty group), ``ci_lower``, ``ci_upper`` (0-1), ``n_clusters`` (int), ``ci_method``.
        Rows with a missing dose or outcome are left out (count them with
        :func:`fit_dose_response`'s ``n_excluded``).

    Raises
    ------
    ValueError
        For invalid arguments (empty or negative thresholds, unknown ``ci_method``).
    SirtDataError
        As :func:`fit_dose_response`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P3"],
    ...                    "absorbed_dose_gy": [50.0, 300.0, 210.0, 80.0],
    ...                    "is_responder": [False, True, True, True]})
    >>> summarise_response_by_threshold(df, thresholds=[205])[
    ...     ["dose_group", "n", "n_events", "rate"]]
      dose_group  n  n_events  rate
    0   < 205 Gy  2         1   0.5
    1  >= 205 Gy  2         2   1.0
    """
    fn = "summarise_response_by_threshold"
    ci_method = _check_choice(ci_method, ("wilson", "cluster_bootstrap"), "ci_method", fn)
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", fn, minimum=1)
    seed = _check_int(seed, "seed", fn, minimum=0)
    alpha = _check_alpha(alpha, fn)
    try:
        cuts = [float(t) for t in np.atleast_1d(thresholds)]
    except (TypeError, ValueError):
        cuts = []
    if not cuts or not all(np.isfinite(c) and c >= 0 for c in cuts):
        raise ValueError(f"The 'thresholds' argument of {fn} must be a non-empty sequence of "
                         f"doses >= 0 Gy. Got {thresholds!r} instead.")
    data = _prepare(df, dose_col, response_col, cluster_col, fn)
    from statsmodels.stats.proportion import proportion_confint

    rows = []
    for i, cut in enumerate(cuts):
        above = data.dose >= cut
        # cut i: draws i * n_bootstrap ... of the seed's stream, as one generator drew them
        boot_w = (_cluster_weights(seed, data.codes, data.n_clusters, i * n_bootstrap,
                                   n_bootstrap)
                  if ci_method == "cluster_bootstrap" and data.n_clusters else None)
        for label, member in zip(_group_labels(cut), (~above, above), strict=True):
            n = int(member.sum())
            k = int(data.y[member].sum())
            if n == 0:
                ci = (np.nan, np.nan)
            elif boot_w is None:
                ci = tuple(float(v) for v in proportion_confint(k, n, alpha=alpha,
                                                                method="wilson"))
            else:
                w = boot_w[:, member]
                with np.errstate(divide="ignore", invalid="ignore"):
                    rates = (w * data.y[member]).sum(1) / w.sum(1)
                ci = _percentile_ci(rates, alpha)
            rows.append({
                "threshold_gy": cut, "dose_group": label, "n": n, "n_events": k,
                "rate": k / n if n else np.nan, "ci_lower": ci[0], "ci_upper": ci[1],
                "n_clusters": int(len(np.unique(data.codes[member]))), "ci_method": ci_method,
            })
    return pd.DataFrame(rows, columns=THRESHOLD_SUMMARY_COLUMNS)


def derive_dose_group(
    df: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    thresholds: Sequence[float] = (205.0,),
    group_col: str = "dose_group",
) -> pd.DataFrame:
    """Add an ordered dose-group column cut at the given thresholds.

    Parameters
    ----------
    df : DataFrame
        Any frame with the dose column (float, Gy).
    dose_col : str, default "absorbed_dose_gy"
        Dose column, Gy.
    thresholds : sequence of float, default (205,)
        Increasing cut points, Gy; a dose equal to a cut point goes to the upper group.
    group_col : str, default "dose_group"
        Name of the new column.

    Returns
    -------
    DataFrame
        A copy of ``df`` (same index and row order) with ``group_col``: ordered categorical,
        labels "< 205 Gy", ">= 205 Gy" (or "120-205 Gy" for a middle group); NaN for a missing
        dose. Use it as the group of a Kaplan-Meier analysis (survival by dose group).

    Raises
    ------
    ValueError
        For thresholds that are empty, negative or not increasing.
    SirtDataError
        If ``dose_col`` is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"absorbed_dose_gy": [100.0, 150.0, 205.0, None]})
    >>> derive_dose_group(df, thresholds=[120, 205])["dose_group"].tolist()
    ['< 120 Gy', '120-205 Gy', '>= 205 Gy', nan]
    """
    fn = "derive_dose_group"
    _require_columns(df, [dose_col], fn)
    cuts = [float(t) for t in np.atleast_1d(thresholds)]
    if not cuts or any(c < 0 for c in cuts) or any(np.diff(cuts) <= 0):
        raise ValueError(f"The 'thresholds' argument of {fn} must be increasing doses >= 0 Gy. "
                         f"Got {thresholds!r} instead.")
    labels = ([f"< {cuts[0]:g} Gy"]
              + [f"{a:g}-{b:g} Gy" for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
              + [f">= {cuts[-1]:g} Gy"])
    dose = pd.to_numeric(df[dose_col], errors="coerce")
    out = df.copy()
    out[group_col] = pd.cut(dose, bins=[-np.inf, *cuts, np.inf], labels=labels, right=False,
                            ordered=True)
    return out


@dataclass(frozen=True)
class DoseGroupSurvival:
    """Result of :func:`summarise_survival_by_dose_group`.

    Attributes
    ----------
    data : DataFrame
        The endpoint rows with a dose group: endpoint columns, ``dose_col``, ``dose_group``
        (ordered categorical). Pass it to ``sirtstats.survival.compute_km_curve``.
    km : DataFrame
        ``sirtstats.survival.summarise_km`` by ``dose_group``.
    logrank : object or None
        ``sirtstats.survival.LogrankResult``; None with fewer than two non-empty groups.
    logrank_p : float
        Overall log-rank p-value (NaN without a test).
    n_excluded : int
        Endpoint rows left out for a missing dose.
    """

    data: pd.DataFrame
    km: pd.DataFrame
    logrank: object
    logrank_p: float
    n_excluded: int

    def to_frame(self) -> pd.DataFrame:
        """KM table with the log-rank p-value and the exclusions as columns.

        Returns
        -------
        DataFrame
            ``km`` plus ``logrank_p`` and ``n_excluded_missing_dose``.
        """
        return self.km.assign(logrank_p=self.logrank_p, n_excluded_missing_dose=self.n_excluded)

    def _repr_html_(self) -> str:
        return (f"<p><b>DoseGroupSurvival</b>: log-rank p = {self.logrank_p:.3g}; "
                f"{self.n_excluded} rows without dose excluded.</p>"
                + self.km.to_html(index=False))


def summarise_survival_by_dose_group(
    df_endpoints: pd.DataFrame,
    df_doses: pd.DataFrame,
    *,
    dose_col: str,
    thresholds: Sequence[float] = (205.0,),
    endpoint: str | None = "OS",
    time_col: str = "time_months",
    event_col: str = "event",
    check_type: Literal["error", "warning"] = "error",
) -> DoseGroupSurvival:
    """Kaplan-Meier summary and log-rank test of an endpoint by patient dose group.

    Parameters
    ----------
    df_endpoints : DataFrame
        ``sirtstats.endpoints.derive_endpoints`` output: ``patient_id``, ``endpoint``,
        ``time_col`` (months), ``event_col`` (0/1).
    df_doses : DataFrame
        One dose per patient (:func:`sirtstats.dosimetry.derive_patient_dose`).
    dose_col : str
        Dose column of ``df_doses``, Gy.
    thresholds : sequence of float, default (205,)
        Cut points of the dose groups (see :func:`derive_dose_group`).
    endpoint : str or None, default "OS"
        Keep the rows of this endpoint; None when ``df_endpoints`` has a single endpoint and
        no ``endpoint`` column.
    time_col, event_col : str
        Endpoint columns.
    check_type : {"error", "warning"}, default "error"
        No patient with a dose raises, or warns and returns an empty result (for reports that
        must run on subgroups without dosimetry, e.g. mRECIST in a non-HCC cohort).

    Returns
    -------
    DoseGroupSurvival
        Rows analysed, KM table, log-rank result. With a single non-empty group the log-rank
        test is skipped with a SirtStatsWarning (the KM table is still given).

    Raises
    ------
    SirtDataError
        Missing columns, or no row with a dose.

    Warns
    -----
    SirtStatsWarning
        A single dose group; small groups (from ``summarise_km``).

    Notes
    -----
    The dose is fixed at treatment, i.e. at the time origin, so grouping by it carries no
    guarantee-time bias; dose groups are still not randomised (confounding by indication).
    """
    fn = "summarise_survival_by_dose_group"
    check_type = _check_choice(check_type, ("error", "warning"), "check_type", fn)
    _require_columns(df_endpoints, ["patient_id", time_col, event_col]
                     + (["endpoint"] if endpoint is not None else []), fn)
    from sirtstats.survival import summarise_km, test_logrank

    rows = df_endpoints
    if endpoint is not None:
        rows = rows[rows["endpoint"] == endpoint]
    data = derive_dose_group(derive_patient_dose_outcome(rows, df_doses, dose_col=dose_col),
                             dose_col=dose_col, thresholds=thresholds)
    missing = data["dose_group"].isna()
    data = data[~missing]
    if data.empty:
        message = f"{fn}: no {endpoint or 'endpoint'} row has a dose in '{dose_col}'."
        if check_type == "error":
            raise SirtDataError(message, column=dose_col,
                                rule="at least one patient with a dose")
        warnings.warn(message, SirtStatsWarning, stacklevel=2)
        return DoseGroupSurvival(data=data, km=pd.DataFrame(), logrank=None, logrank_p=np.nan,
                                 n_excluded=int(missing.sum()))
    data = data.assign(dose_group=data["dose_group"].cat.remove_unused_categories())
    km = summarise_km(data, time_col=time_col, event_col=event_col, by="dose_group")
    if data["dose_group"].nunique() < 2:
        warnings.warn(f"{fn}: a single dose group ({data['dose_group'].iloc[0]}); no log-rank "
                      f"test.", SirtStatsWarning, stacklevel=2)
        logrank, p = None, np.nan
    else:
        logrank = test_logrank(data, group_col="dose_group", time_col=time_col,
                               event_col=event_col)
        p = float(logrank.table.loc[logrank.table["comparison"] == "overall", "p"].iloc[0])
    return DoseGroupSurvival(data=data, km=km, logrank=logrank, logrank_p=p,
                             n_excluded=int(missing.sum()))
