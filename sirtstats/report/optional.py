"""Report notebooks that need optional registry tables, and which of them to skip.

A notebook listed in :data:`NOTEBOOK_REQUIRES` runs only when the registry holds rows of its
tables for the report's patients (after the cut-off and the diagnosis/device filters); a
notebook listed in :data:`NOTEBOOK_COMPARES` runs only when its cohort holds at least
:data:`MIN_PATIENTS_PER_LEVEL` patients at each of the two exposure levels it compares (a
report on one device has nothing to compare). Otherwise the runner leaves it out and the
summary page says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["MIN_PATIENTS_PER_LEVEL", "NOTEBOOK_COMPARES", "NOTEBOOK_REQUIRES", "exposure_counts",
           "skipped_comparisons", "skipped_notebooks", "split_skipped"]

#: Notebook stem -> (optional tables it needs, note shown on the summary page when skipped).
NOTEBOOK_REQUIRES: dict[str, tuple[tuple[str, ...], str]] = {
    "06_pet_response": (("pet_assessments", "pet_lesions"),
                        "the registry has no FDG-PET data (pet_assessments, pet_lesions) for "
                        "the report's patients"),
}

#: Notebook stem -> its parameters naming the exposure column and the two levels compared.
NOTEBOOK_COMPARES: dict[str, tuple[str, str]] = {
    "07_comparative": ("exposure", "exposure_levels"),
}

#: Fewest patients at each exposure level for a comparison to run: below it the propensity
#: model (five covariates) and the Cox models cannot be estimated or mean nothing (about ten
#: per parameter, Peduzzi et al., J Clin Epidemiol 1996;49:1373-9).
MIN_PATIENTS_PER_LEVEL = 10


def skipped_notebooks(tables, nb_paths: Iterable[Path], patient_ids=None) -> dict[str, str]:
    """Notebooks to leave out because their optional tables are empty.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Registry tables (after the cut-off).
    nb_paths : iterable of Path
        Notebooks about to run.
    patient_ids : set of str, optional
        The report's patients (diagnosis/device filters); None = everyone.

    Returns
    -------
    dict of str to str
        Stem -> the note for the summary page, for each notebook to skip.

    Examples
    --------
    >>> import pandas as pd
    >>> from pathlib import Path
    >>> empty = {"pet_assessments": pd.DataFrame({"patient_id": []}),
    ...          "pet_lesions": pd.DataFrame({"patient_id": []})}
    >>> list(skipped_notebooks(empty, [Path("01_cohort.ipynb"), Path("06_pet_response.ipynb")]))
    ['06_pet_response']
    """
    out = {}
    for path in nb_paths:
        need = NOTEBOOK_REQUIRES.get(Path(path).stem)
        if need is None:
            continue
        names, note = need
        for name in names:
            df = tables.get(name) if hasattr(tables, "get") else None
            if df is not None and patient_ids is not None and "patient_id" in df.columns:
                df = df[df["patient_id"].isin(patient_ids)]
            if df is None or len(df) == 0:
                out[Path(path).stem] = note
                break
    return out


def exposure_counts(tables, patient_ids, exposure: str, levels) -> dict | None:
    """Patients of the cohort at each exposure level, or None when the runner cannot tell.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Registry tables (after the cut-off).
    patient_ids : set of str
        The notebook's cohort (treated by the cut-off, its filters applied).
    exposure : str
        ``device`` (``first_device`` of ``sirtstats.cohort.derive_first_sirt``, the column
        the notebooks compare)
        or a column of ``patients``; any other name (a column the notebook derives): None.
    levels : sequence
        The levels compared.

    Returns
    -------
    dict or None
        Level -> number of patients, in the order of ``levels``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = {"patients": pd.DataFrame({"patient_id": ["P1", "P2"]}),
    ...      "treatments": pd.DataFrame({"patient_id": ["P1", "P1", "P2"],
    ...                                  "session_id": ["S1", "S2", "S3"],
    ...                                  "injection_id": ["I1", "I2", "I3"],
    ...                                  "treatment_date": pd.to_datetime(
    ...                                      ["2025-01-02", "2025-03-01", "2025-02-01"]),
    ...                                  "device": ["Y90_glass", "Y90_resin", "Y90_glass"]})}
    >>> exposure_counts(t, {"P1", "P2"}, "device", ["Y90_resin", "Y90_glass"])
    {'Y90_resin': 0, 'Y90_glass': 2}
    """
    pts = tables["patients"]
    if exposure == "device":
        from sirtstats.cohort import derive_first_sirt  # the notebooks' device column

        tr = tables["treatments"]
        tr = tr[tr["treatment_date"].notna() & tr["patient_id"].isin(patient_ids)]
        values = derive_first_sirt(tr)["first_device"]
    elif exposure in pts.columns:
        values = pts.loc[pts["patient_id"].isin(patient_ids), exposure]
    else:
        return None
    counts = values.value_counts()
    return {level: int(counts.get(level, 0)) for level in levels}


def skipped_comparisons(tables, cohorts: dict, values: dict) -> dict[str, str]:
    """Comparison notebooks to leave out: a level with fewer than 10 patients in the cohort.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Registry tables (after the cut-off).
    cohorts : dict
        Stem -> the notebook's cohort (set of patient ids), for the notebooks of
        :data:`NOTEBOOK_COMPARES` about to run.
    values : dict
        Stem -> its effective parameter values (injected, else the notebook's default).

    Returns
    -------
    dict of str to str
        Stem -> the note for the summary page (the count at each level).
    """
    from sirtstats.labels import value_label

    out = {}
    for stem, ids in cohorts.items():
        exposure_name, levels_name = NOTEBOOK_COMPARES[stem]
        exposure, levels = values[stem].get(exposure_name), values[stem].get(levels_name)
        if not isinstance(exposure, str) or not isinstance(levels, list):
            continue
        counts = exposure_counts(tables, ids, exposure, levels)
        if counts is None or min(counts.values(), default=0) >= MIN_PATIENTS_PER_LEVEL:
            continue
        out[stem] = (f"a comparison needs at least {MIN_PATIENTS_PER_LEVEL} patients at each "
                     "exposure level and the cohort has " + ", ".join(
                         f"{value_label(k)} {n}" for k, n in counts.items()))
    return out


def split_skipped(tables, nb_paths, patient_ids=None, *, cohorts=None, values=None):
    """Split the notebooks to run into those kept and those skipped (with title and note).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Registry tables (after the cut-off).
    nb_paths : list of Path
        Notebooks about to run.
    patient_ids : set of str, optional
        The report's patients; None = everyone.
    cohorts, values : dict, optional
        As in :func:`skipped_comparisons` (comparison notebooks are not checked without).

    Returns
    -------
    kept : list of Path
        The notebooks to run, in the given order (empty when every one is skipped).
    skipped : list of tuple
        ``(stem, title, note)`` of each notebook left out.
    """
    notes = skipped_notebooks(tables, nb_paths, patient_ids)
    if cohorts:
        notes.update({k: v for k, v in skipped_comparisons(tables, cohorts, values).items()
                      if k not in notes})
    kept = [p for p in nb_paths if p.stem not in notes]
    from sirtstats.report._runner_notebooks import _notebook_title

    return kept, [(p.stem, _notebook_title(Path(p)), notes[p.stem]) for p in nb_paths
                  if p.stem in notes]
