"""A validated, typed registry snapshot: the registry loaded once, read by every notebook.

The report runner loads and validates the registry once (:func:`sirtstats.registry.
load_registry`, at the report's cut-off) and writes it with :func:`write_snapshot` into the
attempt folder; each notebook reads it back with :func:`read_snapshot` instead of re-reading
and re-validating the source files (decision D46 in ``docs/rules/decisions.md``).

Layout of a snapshot folder::

    snapshot/
      snapshot.json         what is in it: source, cut-off, file hashes, per table the file,
                            SHA-256, row count and the dtype of every column
      <table>.parquet       one file per registry table (Parquet, pyarrow)
      problems.parquet      the validation problems (warnings: errors stop the runner)

The SHA-256 of ``snapshot.json`` (:func:`snapshot_sha256`) names the whole snapshot: it holds
the SHA-256 of every Parquet file, and :func:`read_snapshot` checks each one, then the column
names and dtypes, before it returns anything.

Types are kept exactly: numpy and pandas nullable dtypes (``Int64``, ``boolean``,
``datetime64[ns]``, ``float64`` with NaN and ``-0.0``), ``object`` columns of ``str`` and
``None``, and categoricals (stored as their integer codes, categories and order in
``snapshot.json``, because Parquet alone loses unused categories of a non-string dtype).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from sirtstats._memory import release_freed_memory
from sirtstats.registry import Registry

__all__ = ["SNAPSHOT_FORMAT", "SnapshotError", "read_snapshot", "snapshot_sha256",
           "write_snapshot"]

#: ``format`` field of ``snapshot.json``; :func:`read_snapshot` refuses any other.
SNAPSHOT_FORMAT = "sirtstats-registry-snapshot/1"
_INDEX_FILE = "snapshot.json"
_PROBLEMS = "problems"


class SnapshotError(ValueError):
    """A snapshot folder is missing, altered or does not match what the caller expects."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_scalar(value):
    """A category value as JSON (str, int, float or bool); TypeError otherwise."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"category {value!r} ({type(value).__name__}) cannot be stored in a "
                    "snapshot: categories must be str, int, float or bool.")


def _check_object_column(df: pd.DataFrame, column, name: str) -> None:
    # "string" / "empty": every value a str or missing, checked in C (a Python set of the
    # types of 2 M values took 1 s a column at 20,000 patients)
    if pd.api.types.infer_dtype(df[column], skipna=True) in ("string", "empty"):
        return
    values = df[column].dropna() if len(df) else df[column]
    kinds = {type(v) for v in values}
    if kinds - {str}:
        raise TypeError(
            f"column {column!r} of table {name!r} holds {sorted(k.__name__ for k in kinds)}: "
            "an object column of a snapshot must hold str or missing values only.")


def _encode(df: pd.DataFrame, name: str) -> tuple[pd.DataFrame, dict]:
    """Categoricals to codes, object columns checked; the column spec for snapshot.json."""
    columns, categories = [], {}
    out = df.copy(deep=False)
    for column in df.columns:
        dtype = df[column].dtype
        columns.append([str(column), str(dtype)])
        if isinstance(dtype, pd.CategoricalDtype):
            categories[str(column)] = {
                "categories": [_json_scalar(c) for c in dtype.categories],
                "categories_dtype": str(dtype.categories.dtype), "ordered": bool(dtype.ordered)}
            out[column] = df[column].cat.codes
        elif pd.api.types.is_object_dtype(dtype):
            _check_object_column(df, column, name)
    return out, {"columns": columns, "categories": categories}


def _decode(df: pd.DataFrame, spec: dict) -> pd.DataFrame:
    for column, cat in spec["categories"].items():
        dtype = pd.CategoricalDtype(pd.Index(cat["categories"], dtype=cat["categories_dtype"]),
                                    ordered=cat["ordered"])
        df[column] = pd.Categorical.from_codes(df[column].to_numpy(), dtype=dtype)
    return df


def _write_table(df: pd.DataFrame, name: str, folder: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if any(not isinstance(c, str) for c in df.columns):
        raise TypeError(f"table {name!r}: snapshot column names must be str.")
    encoded, spec = _encode(df, name)
    path = folder / f"{name}.parquet"
    table = pa.Table.from_pandas(encoded)
    # no creation metadata beyond pandas' own: the same tables give the same bytes
    pq.write_table(table, path, compression="snappy", write_statistics=False)
    return {"file": path.name, "sha256": _sha256(path), "rows": int(len(df)), **spec}


def write_snapshot(registry: Registry, folder: str | Path) -> Path:
    """Write ``registry`` (tables, problems, cut-off, hashes) as a snapshot folder.

    Parameters
    ----------
    registry : sirtstats.registry.Registry
        A loaded, validated registry (typed tables, as :func:`sirtstats.registry.load_registry`
        returns them).
    folder : str or Path
        Folder to create (it must not exist or be empty).

    Returns
    -------
    Path
        ``<folder>/snapshot.json``; its SHA-256 (:func:`snapshot_sha256`) names the snapshot.

    Raises
    ------
    TypeError
        A column the snapshot cannot keep exactly (object values other than str, categories
        other than str/int/float/bool, non-str column names).
    FileExistsError
        ``folder`` holds files.
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"snapshot folder {folder} is not empty.")
    folder.mkdir(parents=True, exist_ok=True)
    index = {"format": SNAPSHOT_FORMAT, **_write_registry(registry, folder)}
    path = folder / _INDEX_FILE
    path.write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return path


def _write_registry(registry: Registry, folder: Path) -> dict:
    """Write ``registry``'s tables and problems into ``folder``; return their index entries
    with its source, cut-off, file hashes and cut-off counts (read by :func:`_read_registry`)."""
    problems = registry.problems if isinstance(registry.problems, pd.DataFrame) \
        else pd.DataFrame()
    return {
        "source": str(registry.source),
        "cutoff_date": None if registry.cutoff_date is None
        else pd.Timestamp(registry.cutoff_date).isoformat(),
        "file_hashes": dict(sorted(registry.file_hashes.items())),
        "cutoff_counts": {k: int(v) for k, v in registry.cutoff_counts.items()},
        "tables": {name: _write_table(df, name, folder) for name, df in registry.tables.items()},
        "problems": _write_table(problems, _PROBLEMS, folder),
    }


def _read_registry(folder: Path, index: dict, tables) -> Registry:
    """The registry of an index written by :func:`_write_registry`, with ``tables`` (read
    by the caller: at once, or table by table) and the problems read from ``folder``."""
    return Registry(tables=tables, problems=_read_table(folder, index["problems"], _PROBLEMS),
                    source=index["source"],
                    cutoff_date=None if index["cutoff_date"] is None
                    else pd.Timestamp(index["cutoff_date"]),
                    file_hashes=dict(index["file_hashes"]),
                    cutoff_counts=dict(index["cutoff_counts"]))


def snapshot_sha256(folder: str | Path) -> str:
    """SHA-256 of a snapshot's ``snapshot.json`` (which holds the hash of every table file)."""
    return _sha256(Path(folder) / _INDEX_FILE)


def _read_table(folder: Path, spec: dict, name: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    path = folder / spec["file"]
    if not path.is_file():
        raise SnapshotError(f"snapshot {folder}: {spec['file']} is missing.")
    if _sha256(path) != spec["sha256"]:
        raise SnapshotError(f"snapshot {folder}: {spec['file']} was changed after it was "
                            "written (SHA-256 differs from snapshot.json).")
    df = _decode(pq.read_table(path).to_pandas(), spec)
    found = [[str(c), str(df[c].dtype)] for c in df.columns]
    if found != spec["columns"] or len(df) != spec["rows"]:
        raise SnapshotError(f"snapshot {folder}: table {name!r} read back with columns/dtypes "
                            f"{found} ({len(df)} rows), written as {spec['columns']} "
                            f"({spec['rows']} rows).")
    return df


def _load_index(folder: Path) -> dict:
    path = folder / _INDEX_FILE
    if not path.is_file():
        raise SnapshotError(f"{folder} is not a registry snapshot (no {_INDEX_FILE}).")
    index = json.loads(path.read_text(encoding="utf-8"))
    if index.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"snapshot {folder}: format {index.get('format')!r}, expected "
                            f"{SNAPSHOT_FORMAT!r}.")
    return index


def _check_cutoff(folder: Path, index: dict, cutoff_date) -> pd.Timestamp | None:
    stored = None if index["cutoff_date"] is None else pd.Timestamp(index["cutoff_date"])
    if cutoff_date is not None and str(cutoff_date).strip():
        wanted = pd.Timestamp(cutoff_date).normalize()
        if stored != wanted:
            raise SnapshotError(f"snapshot {folder} was taken at cut-off {stored}, not at the "
                                f"requested {wanted.date().isoformat()}.")
    return stored


def read_snapshot(folder: str | Path, *, cutoff_date=None) -> Registry:
    """Read a snapshot written by :func:`write_snapshot`, checking every file first.

    Parameters
    ----------
    folder : str or Path
        The snapshot folder.
    cutoff_date : str or Timestamp, optional
        The cut-off the caller expects (a notebook's ``cutoff_date``); a snapshot taken at
        another cut-off is refused.

    Returns
    -------
    sirtstats.registry.Registry
        The registry as written: same tables (columns, dtypes, values, missing values),
        problems, source, cut-off, file hashes and cut-off counts.

    Raises
    ------
    SnapshotError
        No snapshot there, a file missing or changed since it was written (SHA-256), columns
        or dtypes that differ from the ones recorded, or another cut-off.

    Examples
    --------
    >>> import tempfile
    >>> from sirtstats.demo import load_registry
    >>> reg = load_registry("demo", cutoff_date="2026-09-30")
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_snapshot(reg, folder)
    >>> back = read_snapshot(folder, cutoff_date="2026-09-30")
    >>> back["patients"].equals(reg["patients"])
    True
    """
    folder = Path(folder)
    index = _load_index(folder)
    _check_cutoff(folder, index, cutoff_date)
    tables = {name: _read_table(folder, spec, name) for name, spec in index["tables"].items()}
    registry = _read_registry(folder, index, tables)
    # pyarrow's pool keeps what the Arrow tables held after their conversion to pandas
    # (about 150 MB for the 20,000-patient demo registry): given back here
    release_freed_memory(collect=False)
    return registry
