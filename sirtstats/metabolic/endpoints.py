"""Metabolic time-to-event endpoints: time to metabolic progression and metabolic PFS.

Rule P1.14 of docs/rules/metabolic.md. The PERCIST per-scan responses are turned into the
timepoint frame of :func:`sirtstats.endpoints.derive_endpoints` (CMR, PMR, SMD, PMD, NE coded
CR, PR, SD, PD, NE; P1.9), which then applies its censoring rules (R5.3-R5.5 of
docs/rules/endpoints.md): the event is the first PMD scan; TTMP censors deaths (as TTP, D8),
metabolic PFS counts them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sirtstats.endpoints import derive_endpoints
from sirtstats.metabolic._rules import TO_RECIST_CODE
from sirtstats.response._common import require_columns

__all__ = ["METABOLIC_ENDPOINTS", "derive_metabolic_endpoints"]

#: Metabolic endpoint -> the endpoint of :data:`sirtstats.endpoints.ENDPOINTS` it is derived
#: as (on PET scans instead of anatomical assessments).
METABOLIC_ENDPOINTS: dict[str, str] = {"TTMP": "TTP", "metabolic_PFS": "PFS"}


def derive_metabolic_endpoints(
    df_patients: pd.DataFrame,
    df_response: pd.DataFrame,
    df_therapies: pd.DataFrame | None = None,
    *,
    endpoints: Sequence[str] = ("TTMP",),
    df_baseline: pd.DataFrame | None = None,
    **options,
) -> pd.DataFrame:
    """Time to metabolic progression (TTMP) and metabolic PFS, one row per patient.

    Parameters
    ----------
    df_patients : DataFrame
        As :func:`sirtstats.endpoints.derive_endpoints`: ``patient_id``, ``origin_date``,
        ``death_date``, ``last_contact_date`` (datetime64).
    df_response : DataFrame
        Output of :func:`sirtstats.metabolic.derive_percist_response` (or
        :func:`~sirtstats.metabolic.derive_eortc_response`): ``patient_id``, ``scan_date``,
        ``response`` (CMR, PMR, SMD, PMD, NE).
    df_therapies : DataFrame, optional
        Other anticancer therapies (censoring at new therapy, R5.4).
    endpoints : sequence of str, default ("TTMP",)
        Keys of :data:`METABOLIC_ENDPOINTS`.
    df_baseline : DataFrame, optional
        Output of :func:`sirtstats.metabolic.derive_percist_baseline`: only its patients with a
        measurable baseline PET are analysed (P1.11). Without it every patient of
        ``df_patients`` is.
    **options
        Keyword options of :func:`sirtstats.endpoints.derive_endpoints` (``cutoff_date``,
        ``interval_days``, ``convention`` ...).

    Returns
    -------
    DataFrame
        Columns of :func:`sirtstats.endpoints.derive_endpoints`; ``endpoint`` is ``TTMP`` or
        ``metabolic_PFS``, ``time_days`` (days, >= 0) and ``time_months`` from the origin,
        ``event`` 1 at the first PMD scan (or death for metabolic PFS).

    Raises
    ------
    ValueError
        An unknown endpoint.

    References
    ----------
    Wahl et al., J Nucl Med 2009;50 Suppl 1:122S-150S, section "PERCIST 1.0" (PMD); FDA
    Clinical Trial Endpoints guidance 2018 (censoring, R5.3); rule P1.14.

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"patient_id": ["P1"], "origin_date": pd.to_datetime(["2024-01-15"]),
    ...     "death_date": pd.NaT, "last_contact_date": pd.to_datetime(["2024-12-01"])})
    >>> r = pd.DataFrame({"patient_id": ["P1", "P1"],
    ...     "scan_date": pd.to_datetime(["2024-04-15", "2024-07-15"]),
    ...     "response": ["PMR", "PMD"]})
    >>> derive_metabolic_endpoints(pts, r)[["endpoint", "time_days", "event"]].values.tolist()
    [['TTMP', 182, 1]]
    """
    fn = "derive_metabolic_endpoints"
    endpoints = list(endpoints)
    for ep in endpoints:
        if ep not in METABOLIC_ENDPOINTS:
            raise ValueError(f"The 'endpoints' argument of {fn} must hold values of "
                             f"{set(METABOLIC_ENDPOINTS)}. Got {ep!r} instead.")
    require_columns(df_response, ["patient_id", "scan_date", "response"], "percist", fn)
    pts = df_patients
    if df_baseline is not None:
        require_columns(df_baseline, ["patient_id", "is_measurable"], "percist_baseline", fn)
        keep = set(df_baseline.loc[df_baseline["is_measurable"].astype(bool), "patient_id"])
        pts = df_patients.loc[df_patients["patient_id"].isin(keep)]
    visits = pd.DataFrame({
        "patient_id": df_response["patient_id"].to_numpy(),
        "assessment_date": pd.to_datetime(df_response["scan_date"]).to_numpy(),
        "overall_response": df_response["response"].map(TO_RECIST_CODE).to_numpy()})
    visits = visits.loc[visits["patient_id"].isin(set(pts["patient_id"]))]
    base = [METABOLIC_ENDPOINTS[ep] for ep in endpoints]
    out = derive_endpoints(pts.reset_index(drop=True), visits.reset_index(drop=True),
                           df_therapies, endpoints=base, **options)
    rename = {v: k for k, v in METABOLIC_ENDPOINTS.items() if k in endpoints}
    out["endpoint"] = out["endpoint"].map(rename)
    out["reason"] = out["reason"].str.replace("progression (PD", "metabolic progression (PMD",
                                              regex=False)
    return out
