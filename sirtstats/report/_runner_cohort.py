"""The registry a report runs on: loaded and validated once, and the cohort filters checked.

Part of :mod:`sirtstats.report.runner` (import from there): an invalid registry, or cohort
filters that select no patient, stop the run before any notebook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sirtstats.exceptions import SirtDataError
from sirtstats.report._runner_failures import EmptyCohortError
from sirtstats.report.params import ReportParameters

__all__ = ["load_checked_registry"]


def _blocking_problems(problems):
    import pandas as pd

    if problems is None or not isinstance(problems, pd.DataFrame) or problems.empty:
        return None
    if "severity" in problems.columns:
        blocking = problems[problems["severity"].astype(str).str.lower() == "error"]
        return blocking if len(blocking) else None
    return problems


def load_checked_registry(params: ReportParameters):
    """Load the registry at the cut-off; raise SirtDataError with the problems if invalid.

    Returns
    -------
    sirtstats.registry.Registry

    Raises
    ------
    SirtDataError
        The registry has errors; ``rows`` holds the problems table (warnings do not stop).
    """
    from sirtstats.demo import load_registry  # a folder, or "demo"

    registry = load_registry(params.data_path, cutoff_date=params.cutoff_date.isoformat())
    blocking = _blocking_problems(getattr(registry, "problems", None))
    if blocking is not None:
        raise SirtDataError(
            f"registry {params.data_path}: {len(blocking)} problem(s) must be fixed before the "
            "report can run; no notebook was run.", rule="registry validation", rows=blocking)
    return registry


def _filtered_ids(registry, diagnoses, devices, centres=None):
    """Patient ids with primary tumour in ``diagnoses``, first-SIRT device in ``devices`` and
    centre in ``centres`` (None or empty = no filter on that side); None when none filters."""
    if not diagnoses and not devices and not centres:
        return None
    pts = registry["patients"]
    ids = set(pts["patient_id"])
    if diagnoses:
        ids &= set(pts.loc[pts["primary_tumour"].isin(diagnoses), "patient_id"])
    if centres:
        ids &= set(pts.loc[_centre_of(pts).isin(centres), "patient_id"])
    if devices:
        tr = registry["treatments"]
        tr = tr[tr["treatment_date"].notna()]
        first = tr.loc[tr.groupby("patient_id")["treatment_date"].idxmin()]
        ids &= set(first.loc[first["device"].isin(devices), "patient_id"])
    return ids


def _centre_of(pts):
    """``patients.centre_id``; all NA for in-memory tables without the column (tests, sketches)."""
    import pandas as pd

    return pts["centre_id"] if "centre_id" in pts else pd.Series(pd.NA, index=pts.index)


def _cohort_patient_ids(registry, params: ReportParameters):
    """Patients matching the report's filters (None = everyone), for the activity counts.

    Same meaning as ``sirtstats.cohort.select_cohort``'s filters: primary tumour in
    ``diagnoses``; device of the patient's first SIRT in ``devices``. Eligibility rules of the
    cohort notebook do not apply here: these counts describe registry activity.
    """
    return _filtered_ids(registry, params.diagnoses, params.devices, params.centres)


def _treated_ids(registry, cutoff: dt.date) -> set:
    """Patients with a SIRT session on or before the cut-off."""
    import pandas as pd

    tr = registry["treatments"]
    dates = pd.to_datetime(tr["treatment_date"], errors="coerce")
    return set(tr.loc[dates.notna() & (dates <= pd.Timestamp(cutoff)), "patient_id"])


def check_cohorts_not_empty(registry, params: ReportParameters,
                            effective: Mapping[str, Mapping[str, object]]) -> None:
    """Stop before any notebook when a notebook's cohort filters select no patient.

    Parameters
    ----------
    registry : sirtstats.registry.Registry
        The loaded registry (at the cut-off).
    params : ReportParameters
        For the cut-off and the message.
    effective : mapping
        Notebook stem -> the values its ``diagnoses``, ``devices`` and ``centres`` will have
        (injected, else the notebook's own default); notebooks declaring none are not checked.

    Raises
    ------
    EmptyCohortError
        No patient treated with SIRT by the cut-off has a primary tumour in ``diagnoses`` and a
        first-SIRT device in ``devices``, for at least one notebook. The message gives the
        counts step by step, so the researcher sees which filter emptied the cohort.

    Notes
    -----
    Legal filters selecting nobody stop the run (exit status 1, as for an invalid registry)
    rather than publishing a report that says n = 0: every notebook would have to handle an
    empty cohort in each of its analyses, and a report of nobody would replace the published
    one. The same filters as ``sirtstats.cohort.select_cohort``'s ``diagnoses`` and ``devices``
    are applied; its eligibility rules are the notebooks' to report.
    """
    treated = _treated_ids(registry, params.cutoff_date)
    empty = {}
    for stem, values in effective.items():
        filters = tuple(values.get(name) or [] for name in _FILTER_NAMES)
        if not all(isinstance(f, list) for f in filters):
            continue
        ids = _filtered_ids(registry, *filters)
        selected = treated if ids is None else treated & ids
        if not selected:
            empty.setdefault(tuple(map(tuple, filters)), []).append(stem)
    if not empty:
        return
    lines = [_empty_cohort_line(registry, treated, filters, stems)
             for filters, stems in empty.items()]
    raise EmptyCohortError(
        "\n".join(lines) + f"\nRegistry {params.data_path}, cut-off "
        f"{params.cutoff_date.isoformat()}; no notebook was run and the published report was "
        "not changed. Change --diagnosis/--device/--centre (or -p diagnoses=/devices=/centres=).")


#: Cohort filters of the notebooks that the runner checks (``select_cohort``'s arguments).
_FILTER_NAMES = ("diagnoses", "devices", "centres")


def _empty_cohort_line(registry, treated: set, filters: tuple, stems: list) -> str:
    """One line of the empty-cohort message: counts step by step (treated, diagnosis, centre)."""
    diagnoses, devices, centres = filters
    pts = registry["patients"]
    with_dx = treated & (set(pts.loc[pts["primary_tumour"].isin(diagnoses), "patient_id"])
                         if diagnoses else set(pts["patient_id"]))
    in_centre = with_dx & (set(pts.loc[_centre_of(pts).isin(centres), "patient_id"])
                           if centres else with_dx)
    described = " and ".join(
        [f"primary tumour in {list(diagnoses)}"] * bool(diagnoses)
        + [f"centre in {list(centres)}"] * bool(centres)
        + [f"first-SIRT device in {list(devices)}"] * bool(devices)) or "no filter"
    return (f"no patient matches {described} (notebook(s) {', '.join(stems)}): "
            f"{len(treated)} patient(s) treated with SIRT by the cut-off"
            + (f", {len(with_dx)} with primary tumour in {list(diagnoses)}" if diagnoses else "")
            + (f", {len(in_centre)} of them in centre(s) {list(centres)}" if centres else "")
            + (", 0 of them with a first SIRT with one of the devices" if devices else "")
            + ".")


def _effective_filters(declared: dict, injected: dict) -> dict:
    """Notebook stem -> {diagnoses, devices, centres}: what the notebook will use (injected, else
    its own default), for the notebooks that declare them."""
    from sirtstats.report.params import _default_value

    out = {}
    for stem, names in declared.items():
        values = {}
        for name in _FILTER_NAMES:
            if name in injected[stem]:
                values[name] = injected[stem][name]
            elif name in names:
                default = _default_value(names[name])
                values[name] = default if isinstance(default, list) else []
        if values:
            out[stem] = values
    return out


def _comparison_cohorts(registry, params, declared: dict, injected: dict) -> dict:
    """``cohorts`` and ``values`` of :func:`sirtstats.report.optional.split_skipped`: each
    comparison notebook's cohort (treated by the cut-off, its own filters) and its effective
    exposure parameters."""
    from sirtstats.report.optional import NOTEBOOK_COMPARES
    from sirtstats.report.params import _default_value

    stems = [stem for stem in declared if stem in NOTEBOOK_COMPARES]
    filters = _effective_filters({s: declared[s] for s in stems}, injected)
    treated = _treated_ids(registry, params.cutoff_date)
    cohorts, values = {}, {}
    for stem in stems:
        ids = _filtered_ids(registry, *(filters.get(stem, {}).get(n) or [] for n in _FILTER_NAMES))
        cohorts[stem] = treated if ids is None else treated & ids
        values[stem] = {name: injected[stem].get(name, _default_value(declared[stem][name]))
                        for name in NOTEBOOK_COMPARES[stem] if name in declared[stem]}
    return {"cohorts": cohorts, "values": values}


def write_report_cohorts(registry, snapshot_folder, declared: dict, injected: dict) -> list:
    """Select each notebook's cohort once and write it beside the registry snapshot (D79).

    For every notebook that reads the snapshot (declares ``snapshot_path``), the cohort of its
    effective ``diagnoses``, ``devices`` and ``centres`` at its ``cutoff_date`` is selected
    with :func:`sirtstats.cohort.select_cohort`, once per distinct set of resolved criteria,
    and written with :func:`sirtstats.cohort_snapshot.write_cohort_snapshot`; the notebook's
    :func:`sirtstats.cohort_snapshot.load_cohort` then reads it instead of selecting it.

    A cohort that cannot be selected or stored here is left out: the notebook then selects
    it itself, and reports any error in its own cell as before.

    Returns
    -------
    list of dict
        For the manifest, one entry per cohort written: ``key``, ``criteria``, ``sha256`` of
        its ``cohort.json``, in the order of the notebooks first using it.
    """
    from sirtstats.cohort import select_cohort
    from sirtstats.cohort._arguments import _criteria_record, _resolve_selection
    from sirtstats.cohort_snapshot import _SELECT_DEFAULTS, cohort_key, write_cohort_snapshot

    readers = {stem: names for stem, names in declared.items() if "snapshot_path" in names}
    written, seen = [], set()
    for stem, filters in _effective_filters(readers, injected).items():
        args = {**filters, "cutoff_date": injected[stem].get("cutoff_date")}
        try:
            criteria = _criteria_record(_resolve_selection(
                registry.cutoff_date, **{**_SELECT_DEFAULTS, **args}))
            if cohort_key(criteria) in seen:
                continue
            seen.add(cohort_key(criteria))
            written.append(write_cohort_snapshot(select_cohort(registry, **args),
                                                 snapshot_folder))
        except (ValueError, TypeError, SirtDataError, KeyError):
            continue  # the notebook selects (and reports) it itself
    return written
