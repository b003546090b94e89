"""Cohort selection: the eligibility filters in order and the attrition (CONSORT) counts.

Private module of :mod:`sirtstats.cohort` (import from there). Every registry patient ends
either included or excluded at the first step he fails, with one reason.

Implements the baseline imaging window of RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009,
at most 4 weeks before treatment start; R1.1 (docs/rules/response.md)).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sirtstats.cohort._arguments import _criteria_record, _resolve_selection
from sirtstats.cohort._baseline import derive_baseline
from sirtstats.cohort._restrict import _restricted_registry
from sirtstats.cohort._result import CohortSelection
from sirtstats.cohort._steps import _steps
from sirtstats.registry import Registry

__all__ = ["BASELINE_IMAGING_MAX_DAYS", "select_cohort"]


#: Maximum days between baseline imaging and the first SIRT (RECIST 1.1: "no more than 4 weeks
#: before"; R1.1 (docs/rules/response.md) ``baseline_max_days_before_origin``).
BASELINE_IMAGING_MAX_DAYS: int = 28


def select_cohort(
    registry: Registry,
    *,
    diagnoses: Sequence[str] | None = None,
    devices: Sequence[str] | None = None,
    first_sirt_from: str | pd.Timestamp | None = None,
    first_sirt_to: str | pd.Timestamp | None = None,
    intents: Sequence[str] | None = None,
    min_followup_days: int | None = None,
    require_baseline_imaging: bool = False,
    baseline_imaging_max_days: int | None = BASELINE_IMAGING_MAX_DAYS,
    cutoff_date: str | pd.Timestamp | None = None,
    centres: Sequence[str] | None = None,
) -> CohortSelection:
    """Select the analysis cohort and count the attrition at each step.

    Parameters
    ----------
    registry : Registry
        Loaded registry (see :func:`sirtstats.registry.load_registry`).
    diagnoses : list of str, optional
        Keep these ``primary_tumour`` values (e.g. ``["HCC"]``); None or [] keeps all.
        Matched case-insensitively against the schema enum.
    devices : list of str, optional
        Keep patients whose first SIRT session used one of these devices
        (``Y90_glass``, ``Y90_resin``, ``Ho166_PLLA``); None or [] keeps all.
    first_sirt_from, first_sirt_to : str or Timestamp, optional
        Treatment period: keep patients whose first SIRT date lies in this window (inclusive);
        None or "" leaves that side open.
    intents : list of str, optional
        Keep these baseline ``treatment_intent`` values; None or [] keeps all.
    min_followup_days : int, optional
        Keep patients followed at least this many days after the first SIRT, or who died.
    require_baseline_imaging : bool
        Keep only patients with an imaging assessment on or before the first SIRT.
    baseline_imaging_max_days : int or None
        With ``require_baseline_imaging``, the imaging must be at most this many days before
        the first SIRT (default 28, RECIST 1.1); None accepts any earlier imaging.
    cutoff_date : str or Timestamp, optional
        Data cut-off; defaults to ``registry.cutoff_date`` (and cannot be later than it: the
        registry no longer holds what came after). Patients whose first SIRT is after it are
        excluded; later sessions and deaths are ignored, and ``.registry`` is cut with
        :func:`sirtstats.registry.apply_cutoff`. A registry loaded with a cut-off has lost the
        sessions after it, so step 1 then reads "no SIRT session recorded by the data cut-off"
        (work-up only and treated-after-cut-off patients together). Load without a cut-off and
        pass ``cutoff_date`` here to count them apart.
    centres : list of str, optional
        Keep patients of these ``patients.centre_id`` values (exact match); None or [] keeps
        all. The step comes right after the cut-off steps.

    Returns
    -------
    CohortSelection
        ``.patients`` (included :func:`derive_baseline` rows, sorted by ``patient_id``),
        ``.flow``, ``.exclusions``, ``.registry`` (restricted), ``.criteria``.

    Raises
    ------
    ValueError
        If a filter value is not an allowed value or a date cannot be parsed.
    SirtDataError
        Propagated from :func:`derive_baseline`.

    See Also
    --------
    derive_baseline

    Notes
    -----
    Steps, in order (inactive filters are left out of the flow): 0 all registry patients;
    1 at least one SIRT session (e.g. work-up only patients are excluded with "no SIRT session
    recorded"); 2 first SIRT on or before the cut-off; 3 diagnosis; 4 device; 5-6 first-SIRT
    window; 7 treatment intent; 8 minimum follow-up; 9 baseline imaging. A patient is excluded
    at the first step he fails, so each registry patient is either included or has exactly one
    exclusion row, and ``n_in − n_excluded == n_remaining`` at every step.

    Examples
    --------
    >>> from sirtstats.registry import Registry
    >>> from sirtstats.schema import apply_dtypes
    >>> import pandas as pd
    >>> pts = apply_dtypes(pd.DataFrame({
    ...     "patient_id": ["P1", "P2"], "centre_id": ["C1", "C1"], "sex": ["M", "F"],
    ...     "birth_year": [1950, 1960], "primary_tumour": ["HCC", "mCRC"],
    ...     "diagnosis_date": ["2023-01-01", "2023-02-01"],
    ...     "last_contact_date": ["2024-06-01", "2024-06-01"]}), "patients")
    >>> tx = apply_dtypes(pd.DataFrame({
    ...     "injection_id": ["I1"], "session_id": ["S1"], "patient_id": ["P1"],
    ...     "treatment_date": ["2024-01-10"], "device": ["Y90_glass"],
    ...     "territory": ["right_lobe"], "delivered_activity_gbq": [2.0]}), "treatments")
    >>> sel = select_cohort(Registry(tables={"patients": pts, "treatments": tx}))
    >>> sel.flow[["step", "n_in", "n_excluded", "n_remaining"]]
       step  n_in  n_excluded  n_remaining
    0     0     2           0            2
    1     1     2           1            1
    """
    args = _resolve_selection(
        registry.cutoff_date, diagnoses=diagnoses, devices=devices,
        first_sirt_from=first_sirt_from, first_sirt_to=first_sirt_to, intents=intents,
        min_followup_days=min_followup_days, require_baseline_imaging=require_baseline_imaging,
        baseline_imaging_max_days=baseline_imaging_max_days, cutoff_date=cutoff_date,
        centres=centres)
    cutoff, pre_cut, centres = args["cutoff"], args["pre_cut"], args["centres"]

    base = derive_baseline(registry, cutoff_date=cutoff)
    pts = registry.tables["patients"]
    centre = base["patient_id"].map(pts.set_index("patient_id")["centre_id"]) if (
        "centre_id" in pts.columns) else pd.Series(pd.NA, index=base.index)
    treatments = registry.tables.get("treatments")
    treated = set(treatments["patient_id"]) if treatments is not None else set()
    has_sirt = base["patient_id"].isin(treated)

    steps = _steps(
        base,
        has_sirt,
        cutoff=cutoff,
        pre_cut=pre_cut,
        diagnoses=args["diagnoses"],
        devices=args["devices"],
        first_from=args["first_from"],
        first_to=args["first_to"],
        intents=args["intents"],
        min_followup_days=min_followup_days,
        require_baseline_imaging=require_baseline_imaging,
        baseline_imaging_max_days=baseline_imaging_max_days,
        centres=centres,
        centre=centre,
    )
    remaining = pd.Series(True, index=base.index)
    flow_rows = [
        {"step": 0, "criterion": "patients in registry", "n_in": len(base), "n_excluded": 0,
         "n_remaining": len(base), "reason": ""}
    ]
    excl = []
    for i, (criterion, reason, keep) in enumerate(steps, start=1):
        keep = keep.fillna(False).astype(bool)
        dropped = remaining & ~keep
        n_in = int(remaining.sum())
        excl.append(pd.DataFrame(
            {"patient_id": base.loc[dropped, "patient_id"].to_numpy(), "step": i,
             "reason": reason}
        ))
        remaining = remaining & keep
        flow_rows.append({"step": i, "criterion": criterion, "n_in": n_in,
                          "n_excluded": int(dropped.sum()), "n_remaining": int(remaining.sum()),
                          "reason": reason})
    flow = pd.DataFrame(flow_rows, columns=["step", "criterion", "n_in", "n_excluded",
                                            "n_remaining", "reason"])
    exclusions = (
        pd.concat(excl, ignore_index=True) if excl
        else pd.DataFrame({"patient_id": pd.Series(dtype=object),
                           "step": pd.Series(dtype=int), "reason": pd.Series(dtype=object)})
    )
    exclusions = exclusions.astype({"step": int}).reset_index(drop=True)
    included = (
        base[remaining].sort_values("patient_id", kind="mergesort").reset_index(drop=True)
    )
    return CohortSelection(
        patients=included,
        flow=flow,
        exclusions=exclusions,
        registry=_restricted_registry(registry, set(included["patient_id"]), cutoff, pre_cut),
        criteria=_criteria_record(args),
    )
