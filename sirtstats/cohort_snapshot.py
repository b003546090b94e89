"""The report's cohorts, selected once by the runner and read table by table by the notebooks.

Each report notebook selects its cohort (:func:`sirtstats.cohort.select_cohort`) with the
report's filters. At 20,000 patients that meant, in every kernel, the whole registry read from
the snapshot (about 320 MB), a second, restricted copy of every table and about 4 s of CPU,
with two kernels side by side (#13 item 9). The runner now selects each distinct cohort once,
beside the registry snapshot (:mod:`sirtstats.snapshot`), and a notebook's
:func:`load_cohort` reads it back; the restricted tables are read only when the notebook first
uses them, so a kernel holds the tables it needs and no copy of the full registry (decision
D79 in ``docs/rules/decisions.md``).

Layout, inside the registry snapshot folder::

    cohorts/<key>/
      cohort.json                the selection criteria, the restricted registry's cut-off,
                                 source, file hashes and cut-off counts, and per file its
                                 SHA-256, row count and dtypes
      selection_<frame>.parquet  CohortSelection.patients, .flow and .exclusions
      <table>.parquet            the registry tables restricted to the included patients
      problems.parquet           the registry's validation problems (warnings)

``<key>`` is a digest of ``CohortSelection.criteria`` (the arguments as ``select_cohort``
resolved them), so a notebook finds the cohort it would have selected, and selects it itself
when the runner did not (other filters, or an interactive session).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

from sirtstats._memory import release_freed_memory
from sirtstats.cohort import CohortSelection, select_cohort
from sirtstats.cohort._arguments import _criteria_record, _resolve_selection
from sirtstats.snapshot import (
    SnapshotError,
    _check_cutoff,
    _load_index,
    _read_registry,
    _read_table,
    _sha256,
    _write_registry,
    _write_table,
    read_snapshot,
)

__all__ = [
    "COHORTS_DIRNAME",
    "COHORT_FORMAT",
    "SnapshotTables",
    "cohort_key",
    "load_cohort",
    "read_cohort_snapshot",
    "write_cohort_snapshot",
]

#: Folder of the cohorts inside a registry snapshot folder.
COHORTS_DIRNAME = "cohorts"
#: ``format`` field of ``cohort.json``; :func:`read_cohort_snapshot` refuses any other.
COHORT_FORMAT = "sirtstats-cohort-snapshot/1"
_INDEX_FILE = "cohort.json"
_FRAMES = ("patients", "flow", "exclusions")
_FRAME_PREFIX = "selection_"
_PROBLEMS = "problems"


def cohort_key(criteria: Mapping) -> str:
    """Folder name of the cohort selected with ``criteria`` (``CohortSelection.criteria``)."""
    text = json.dumps(dict(criteria), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class SnapshotTables(Mapping):
    """Registry tables of a cohort snapshot, each read (and checked) when first used.

    A read-only mapping of table name to DataFrame, as ``Registry.tables``: ``name in
    tables``, ``len`` and iteration (in the order written) need no read; ``tables[name]``
    reads ``<name>.parquet`` once, checks its SHA-256, columns and dtypes
    (:class:`sirtstats.snapshot.SnapshotError` otherwise), and keeps the frame.
    """

    def __init__(self, folder: Path, specs: Mapping[str, dict]):
        self._folder = Path(folder)
        self._specs = dict(specs)
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            spec = self._specs[name]  # KeyError for an unknown table, as a dict
            self._frames[name] = _read_table(self._folder, spec, name)
            release_freed_memory(collect=False)  # the Arrow buffers of the conversion
        return self._frames[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        read = [name for name in self._specs if name in self._frames]
        return f"SnapshotTables({list(self._specs)}, read: {read})"


def write_cohort_snapshot(selection: CohortSelection, snapshot_folder: str | Path) -> dict:
    """Write ``selection`` into ``<snapshot_folder>/cohorts/<key>/``.

    Parameters
    ----------
    selection : CohortSelection
        A cohort selected by :func:`sirtstats.cohort.select_cohort`.
    snapshot_folder : str or Path
        The registry snapshot folder it was selected from (:func:`sirtstats.snapshot.
        write_snapshot`).

    Returns
    -------
    dict
        For the manifest: ``key``, ``criteria`` and the SHA-256 of ``cohort.json`` (which
        holds the SHA-256 of every file of the cohort).

    Raises
    ------
    FileExistsError
        The cohort of these criteria was written already.
    TypeError
        A column the snapshot cannot keep exactly (see :func:`sirtstats.snapshot.
        write_snapshot`).
    """
    key = cohort_key(selection.criteria)
    folder = Path(snapshot_folder) / COHORTS_DIRNAME / key
    folder.mkdir(parents=True)
    index = {
        "format": COHORT_FORMAT,
        "criteria": selection.criteria,
        "frames": {
            name: _write_table(getattr(selection, name), _FRAME_PREFIX + name, folder)
            for name in _FRAMES
        },
        **_write_registry(selection.registry, folder),
    }
    path = folder / _INDEX_FILE
    path.write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return {"key": key, "criteria": selection.criteria, "sha256": _sha256(path)}


def read_cohort_snapshot(snapshot_folder: str | Path, criteria: Mapping) -> CohortSelection | None:
    """The cohort selected with ``criteria``, if the snapshot holds it; else None.

    ``.patients``, ``.flow``, ``.exclusions`` and the problems are read at once;
    ``.registry.tables`` is a :class:`SnapshotTables`, read table by table on first use.

    Raises
    ------
    SnapshotError
        The cohort is there but altered: ``cohort.json`` of another format or criteria, a file
        changed or missing (SHA-256), other columns or dtypes.
    """
    folder = Path(snapshot_folder) / COHORTS_DIRNAME / cohort_key(criteria)
    path = folder / _INDEX_FILE
    if not path.is_file():
        return None
    index = json.loads(path.read_text(encoding="utf-8"))
    if index.get("format") != COHORT_FORMAT or index.get("criteria") != dict(criteria):
        raise SnapshotError(
            f"cohort snapshot {folder}: {_INDEX_FILE} does not hold the cohort "
            f"of {dict(criteria)} in format {COHORT_FORMAT!r}."
        )
    frames = {name: _read_table(folder, index["frames"][name], name) for name in _FRAMES}
    registry = _read_registry(folder, index, SnapshotTables(folder, index["tables"]))
    release_freed_memory(collect=False)
    return CohortSelection(registry=registry, criteria=dict(index["criteria"]), **frames)


def load_cohort(
    data_path: str = "demo", *, snapshot_path: str | Path = "", cutoff_date=None, **criteria
) -> CohortSelection:
    """The cohort a notebook analyses: from the runner's snapshot, else selected here.

    Parameters
    ----------
    data_path : str
        Registry folder, or ``"demo"``; read (and validated) only without a snapshot.
    snapshot_path : str or Path
        The registry snapshot the report runner wrote ("" in an interactive session).
    cutoff_date : str or Timestamp, optional
        Data cut-off (ISO date); a snapshot taken at another cut-off is refused.
    **criteria
        The other arguments of :func:`sirtstats.cohort.select_cohort` (``diagnoses``,
        ``devices``, ``centres``, ...).

    Returns
    -------
    CohortSelection
        What ``select_cohort(registry, cutoff_date=cutoff_date, **criteria)`` returns on the
        registry (loaded from ``data_path`` at ``cutoff_date``, or read from the snapshot):
        the runner's copy when the snapshot holds a cohort of the same resolved criteria,
        else selected here, the full registry then dropped.

    Raises
    ------
    ValueError
        A selection argument that ``select_cohort`` refuses.
    SnapshotError
        A snapshot missing, altered or taken at another cut-off.
    SirtDataError
        The registry at ``data_path`` is invalid (no snapshot given).
    """
    if snapshot_path:
        folder = Path(snapshot_path)
        stored_cutoff = _check_cutoff(folder, _load_index(folder), cutoff_date)
        args = _resolve_selection(
            stored_cutoff, **{**_SELECT_DEFAULTS, **criteria, "cutoff_date": cutoff_date}
        )
        stored = read_cohort_snapshot(folder, _criteria_record(args))
        if stored is not None:
            return stored
        registry = read_snapshot(folder, cutoff_date=cutoff_date)
    else:
        from sirtstats.demo import load_registry  # a folder, or "demo"

        registry = load_registry(data_path, cutoff_date=cutoff_date)
    selection = select_cohort(registry, cutoff_date=cutoff_date, **criteria)
    del registry  # the full tables: the cohort keeps its own rows
    release_freed_memory()
    return selection


def _select_defaults() -> dict:
    import inspect

    return {
        name: p.default
        for name, p in inspect.signature(select_cohort).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    }


#: ``select_cohort``'s keyword defaults: the criteria a notebook leaves out.
_SELECT_DEFAULTS = _select_defaults()
