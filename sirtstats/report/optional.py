"""Report notebooks that need optional registry tables, and which of them to skip.

A notebook listed in :data:`NOTEBOOK_REQUIRES` runs only when the registry holds rows of its
tables for the report's patients (after the cut-off and the diagnosis/device filters);
otherwise the runner leaves it out and the summary page says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["NOTEBOOK_REQUIRES", "skipped_notebooks", "split_skipped"]

#: Notebook stem -> (optional tables it needs, note shown on the summary page when skipped).
NOTEBOOK_REQUIRES: dict[str, tuple[tuple[str, ...], str]] = {
    "06_pet_response": (("pet_assessments", "pet_lesions"),
                        "the registry has no FDG-PET data (pet_assessments, pet_lesions) for "
                        "the report's patients"),
}


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


def _title(nb_path: Path) -> str:
    """First markdown heading of a notebook (as the runner titles its pages)."""
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return Path(nb_path).stem


def split_skipped(tables, nb_paths, patient_ids=None):
    """Split the notebooks to run into those kept and those skipped (with title and note).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Registry tables (after the cut-off).
    nb_paths : list of Path
        Notebooks about to run.
    patient_ids : set of str, optional
        The report's patients; None = everyone.

    Returns
    -------
    kept : list of Path
        The notebooks to run, in the given order (empty when every one is skipped).
    skipped : list of tuple
        ``(stem, title, note)`` of each notebook left out.
    """
    notes = skipped_notebooks(tables, nb_paths, patient_ids)
    kept = [p for p in nb_paths if p.stem not in notes]
    return kept, [(p.stem, _title(p), notes[p.stem]) for p in nb_paths if p.stem in notes]
