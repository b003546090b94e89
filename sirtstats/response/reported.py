"""Reader-reported responses: timepoints from ``imaging_assessments`` and discordance listings.

Registries that keep only the reader's per-visit response (no lesion measurements) get the
same timepoint frame as :func:`sirtstats.response.derive_timepoint_response`, so that best
overall response and rates work on either source. Where both exist,
:func:`summarise_discordance` lists the visits where the derived and the reported responses
differ (RECIST 1.1 / mRECIST codes of R0 (docs/rules/response.md)).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtDataError
from sirtstats.response._common import (
    CRITERIA,
    RESPONSE_CODES,
    check_bool,
    check_choice,
    first_keys,
    require_columns,
    to_dates,
)
from sirtstats.response.timepoint import TIMEPOINT_COLUMNS

__all__ = ["DISCORDANCE_COLUMNS", "derive_reported_timepoints", "summarise_discordance"]

#: Output columns of :func:`summarise_discordance`.
DISCORDANCE_COLUMNS: list[str] = [
    "patient_id", "criterion", "scope", "assessment_date", "derived_response",
    "reported_response", "status", "derived_rule",
]

_REPORTED_COLUMN = {"overall": "reported_overall_response",
                    "treated": "reported_treated_area_response"}


def derive_reported_timepoints(
    df_assessments: pd.DataFrame,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    scope: Literal["overall", "treated"] = "overall",
) -> pd.DataFrame:
    """Timepoint frame from the reader-reported responses of ``imaging_assessments``.

    Parameters
    ----------
    df_assessments : DataFrame
        The ``imaging_assessments`` table: ``patient_id``, ``assessment_date`` (datetime64),
        ``criterion``, ``new_lesion`` and ``reported_overall_response`` (scope "overall") or
        ``reported_treated_area_response`` (scope "treated"); codes CR, PR, SD,
        NON_CR_NON_PD, PD, NE.
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion rows to use (case-insensitive).
    scope : {"overall", "treated"}, default "overall"
        Which reported response to use; the registry has no reported hepatic response.

    Returns
    -------
    DataFrame
        One row per assessment with a reported response (rows without one, e.g. baseline,
        are left out; their number is in ``attrs["n_without_response"]``), with
        :data:`TIMEPOINT_COLUMNS`: ``overall_response`` is the reported response, ``rule``
        says it was reported; measurement columns are empty.

    Raises
    ------
    SirtDataError
        Missing columns, unknown codes or duplicated (patient, date) rows.

    See Also
    --------
    derive_best_overall_response : works on this frame as on derived timepoints.
    summarise_discordance : derived vs reported.

    Examples
    --------
    >>> import pandas as pd
    >>> ass = pd.DataFrame({"patient_id": "P1", "assessment_date": pd.to_datetime(
    ...     ["2024-01-03", "2024-03-06"]), "criterion": "RECIST_1_1", "new_lesion": "NO",
    ...     "reported_overall_response": [None, "PR"]})
    >>> derive_reported_timepoints(ass)[["patient_id", "overall_response", "rule"]]
      patient_id overall_response                                   rule
    0         P1               PR  reported by the reader (registry: PR)
    """
    fn = "derive_reported_timepoints"
    criterion = check_choice(criterion, CRITERIA, "criterion", fn)
    scope = check_choice(scope, tuple(_REPORTED_COLUMN), "scope", fn)
    col = _REPORTED_COLUMN[scope]
    require_columns(df_assessments, ["patient_id", "assessment_date", "criterion", col],
                    "imaging_assessments", fn)
    a = df_assessments.loc[df_assessments["criterion"].astype(object) == criterion]
    resp = a[col].astype(object)
    has = resp.notna().to_numpy()
    a = a.loc[has]
    resp = resp[has]
    bad = ~resp.isin(RESPONSE_CODES)
    if bad.any():
        rows = a.loc[bad]
        raise SirtDataError(
            f'imaging_assessments.{col}: {int(bad.sum())} rows violate "{col} in '
            f'{RESPONSE_CODES}"; first keys (patient_id, assessment_date): '
            f"{first_keys(rows, ['patient_id', 'assessment_date'])}.",
            table="imaging_assessments", column=col, rule="response code", rows=rows)
    dates = to_dates(a["assessment_date"], "imaging_assessments", "assessment_date")
    dup = pd.DataFrame({"p": a["patient_id"].to_numpy(), "d": dates.to_numpy()}).duplicated(
        keep=False).to_numpy()
    if dup.any():
        rows = a.loc[dup]
        raise SirtDataError(
            f"imaging_assessments: {int(dup.sum())} rows share (patient_id, assessment_date, "
            f"criterion); first keys: {first_keys(rows, ['patient_id', 'assessment_date'])}.",
            table="imaging_assessments", column="assessment_date", rule="unique key",
            rows=rows)
    new = (a["new_lesion"].astype(object).to_numpy() if "new_lesion" in a.columns
           else np.full(len(a), None, dtype=object))
    n = len(a)
    out = pd.DataFrame({
        "patient_id": a["patient_id"].to_numpy(dtype=object),
        "criterion": criterion,
        "scope": scope,
        "assessment_date": dates.to_numpy(),
        "is_baseline": np.zeros(n, dtype=bool),
        "n_targets": pd.array([pd.NA] * n, dtype="Int64"),
        "n_targets_assessed": pd.array([pd.NA] * n, dtype="Int64"),
        **{c: np.full(n, np.nan) for c in TIMEPOINT_COLUMNS[7:14]},
        "target_response": np.full(n, None, dtype=object),
        "target_response_continuing": np.full(n, None, dtype=object),
        "nontarget_response": np.full(n, None, dtype=object),
        "new_lesion": new,
        "new_lesion_reported": new,
        "overall_response": resp.to_numpy(dtype=object),
        "rule": [f"reported by the reader (registry: {r})" for r in resp],
    }, columns=TIMEPOINT_COLUMNS)
    out = out.sort_values(["patient_id", "assessment_date"], kind="mergesort").reset_index(
        drop=True)
    out.attrs["settings"] = {"criterion": criterion, "scope": scope, "source": "reported",
                             "n_without_response": int((~has).sum())}
    out.attrs["n_without_response"] = int((~has).sum())
    return out


def summarise_discordance(
    derived: pd.DataFrame,
    reported: pd.DataFrame,
    *,
    include_concordant: bool = False,
) -> pd.DataFrame:
    """List the visits where derived and reader-reported overall responses differ.

    Parameters
    ----------
    derived : DataFrame
        Output of :func:`derive_timepoint_response` (``patient_id``, ``criterion``,
        ``scope``, ``assessment_date``, ``overall_response``, ``rule``).
    reported : DataFrame
        Output of :func:`derive_reported_timepoints` (same keys).
    include_concordant : bool, default False
        Also list the visits where both agree.

    Returns
    -------
    DataFrame
        One row per patient, criterion, scope and date with :data:`DISCORDANCE_COLUMNS`:
        ``status`` is ``discordant``, ``derived_only`` (no reported response that day),
        ``reported_only`` (no derived response that day) or ``concordant``. The counts per
        status are in ``attrs["counts"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> key = {"patient_id": "P1", "criterion": "RECIST_1_1", "scope": "overall",
    ...        "assessment_date": pd.Timestamp("2024-03-06")}
    >>> der = pd.DataFrame([{**key, "overall_response": "SD", "rule": "SD: ..."}])
    >>> rep = pd.DataFrame([{**key, "overall_response": "PR"}])
    >>> summarise_discordance(der, rep)[["derived_response", "reported_response", "status"]]
      derived_response reported_response      status
    0               SD                PR  discordant
    """
    fn = "summarise_discordance"
    include_concordant = check_bool(include_concordant, "include_concordant", fn)
    keys = ["patient_id", "criterion", "scope", "assessment_date"]
    require_columns(derived, [*keys, "overall_response"], "derived", fn)
    require_columns(reported, [*keys, "overall_response"], "reported", fn)

    def prep(df, name):
        d = df
        if "is_baseline" in d.columns:
            d = d.loc[~d["is_baseline"].astype("boolean").fillna(False).to_numpy(bool)]
        cols = [*keys, "overall_response"] + (["rule"] if name == "derived" else [])
        d = d[cols].rename(columns={"overall_response": f"{name}_response",
                                    "rule": "derived_rule"})
        d = d.assign(assessment_date=to_dates(d["assessment_date"], name, "assessment_date"))
        return d.loc[d[f"{name}_response"].notna()]

    m = prep(derived, "derived").merge(prep(reported, "reported"), on=keys, how="outer")
    if "derived_rule" not in m:
        m["derived_rule"] = None
    status = np.select(
        [m["derived_response"].isna(), m["reported_response"].isna(),
         m["derived_response"] == m["reported_response"]],
        ["reported_only", "derived_only", "concordant"], default="discordant")
    m["status"] = status
    counts = m["status"].value_counts().to_dict()
    if not include_concordant:
        m = m.loc[m["status"] != "concordant"]
    out = m.sort_values(keys, kind="mergesort").reset_index(drop=True)[DISCORDANCE_COLUMNS]
    out.attrs["counts"] = {k: int(v) for k, v in counts.items()}
    return out
