"""Tests of the registry snapshot (sirtstats.snapshot, decision D46): exact round trips
(dtypes, categories, dates, missing values), integrity checks, and the report runner writing it
once for every notebook that declares ``snapshot_path``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sirtstats.registry import Registry
from sirtstats.snapshot import (
    SnapshotError,
    read_snapshot,
    snapshot_sha256,
    write_snapshot,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import PARAMS_CELL, fake_tables, make_notebook  # noqa: E402


def _every_dtype() -> pd.DataFrame:
    """One column per dtype the snapshot must keep, each with a missing value."""
    return pd.DataFrame({
        "text": ["a", None, "é, \"quoted\"\nline"],
        "all_missing_text": pd.Series([None, None, None], dtype=object),
        "integer": pd.array([1, None, -(2**62)], dtype="Int64"),
        "flag": pd.array([True, None, False], dtype="boolean"),
        "number": [1.5, np.nan, -0.0],
        "day": pd.to_datetime(["2020-02-29", None, "1901-12-31"]).astype("datetime64[ns]"),
        "when": pd.to_datetime(["2020-02-29 13:45:01", None, "1999-01-01 00:00:00"]
                               ).astype("datetime64[ns]"),
        # ordered string categories with an unused level, NA among the values
        "grade": pd.Categorical(["G2", None, "G2"], categories=["G3", "G2", "G1"], ordered=True),
        # integer categories with an unused level: Parquet alone gives float64 back
        "level": pd.Categorical([1, 2, None], categories=[1, 2, 7]),
    })


def _registry() -> Registry:
    problems = pd.DataFrame({"table": ["patients"], "file": ["patients.csv"],
                             "row": pd.array([3], dtype="Int64"), "column": ["ecog"],
                             "value": ["7"], "rule": ["enum"], "severity": ["warning"]})
    return Registry(tables={"patients": _every_dtype(), "empty": _every_dtype().iloc[:0]},
                    problems=problems, source="/data/registry",
                    cutoff_date=pd.Timestamp("2026-09-30"),
                    file_hashes={"patients.csv": "ab" * 32},
                    cutoff_counts={"patients": 1, "patients.death_date": 2})


def test_round_trip_keeps_dtypes_categories_dates_and_missing_values(tmp_path):
    reg = _registry()
    write_snapshot(reg, tmp_path / "snap")
    back = read_snapshot(tmp_path / "snap")
    assert list(back.tables) == ["patients", "empty"]
    for name, df in reg.tables.items():
        pd.testing.assert_frame_equal(back[name], df, check_exact=True,
                                      check_categorical=True)
        assert list(back[name].dtypes.astype(str)) == list(df.dtypes.astype(str))
    pts = back["patients"]
    assert list(pts["grade"].cat.categories) == ["G3", "G2", "G1"]
    assert pts["grade"].cat.ordered
    assert pts["level"].cat.categories.dtype == np.int64
    assert list(pts["level"].cat.categories) == [1, 2, 7]
    assert pts["integer"].iloc[1] is pd.NA
    assert pts["flag"].iloc[1] is pd.NA
    assert pts["text"].iloc[1] is None
    assert pts["day"].isna().tolist() == [False, True, False]
    assert np.signbit(pts["number"].iloc[2])
    assert np.isnan(pts["number"].iloc[1])
    assert pts["integer"].iloc[2] == -(2**62)
    pd.testing.assert_frame_equal(back.problems, reg.problems, check_exact=True)
    assert (back.source, back.cutoff_date) == ("/data/registry", pd.Timestamp("2026-09-30"))
    assert back.file_hashes == reg.file_hashes
    assert back.cutoff_counts == reg.cutoff_counts


def test_demo_registry_round_trips_table_by_table(tmp_path):
    from sirtstats.demo import load_registry

    reg = load_registry("demo", cutoff_date="2026-09-30")
    write_snapshot(reg, tmp_path / "snap")
    back = read_snapshot(tmp_path / "snap", cutoff_date="2026-09-30")
    assert list(back.tables) == list(reg.tables)
    for name, df in reg.tables.items():
        pd.testing.assert_frame_equal(back[name], df, check_exact=True)
    pd.testing.assert_frame_equal(back.problems, reg.problems, check_exact=True)


def test_same_registry_gives_the_same_bytes(tmp_path):
    write_snapshot(_registry(), tmp_path / "a")
    write_snapshot(_registry(), tmp_path / "b")
    assert snapshot_sha256(tmp_path / "a") == snapshot_sha256(tmp_path / "b")
    changed = _registry()
    changed.tables["patients"].loc[0, "number"] = 1.25
    write_snapshot(changed, tmp_path / "c")
    assert snapshot_sha256(tmp_path / "c") != snapshot_sha256(tmp_path / "a")


def test_a_changed_table_file_is_refused(tmp_path):
    write_snapshot(_registry(), tmp_path / "snap")
    other = tmp_path / "other"
    changed = _registry()
    changed.tables["patients"].loc[0, "text"] = "b"
    write_snapshot(changed, other)
    (tmp_path / "snap" / "patients.parquet").write_bytes(
        (other / "patients.parquet").read_bytes())
    with pytest.raises(SnapshotError, match="patients.parquet was changed"):
        read_snapshot(tmp_path / "snap")


def test_a_missing_file_another_cutoff_or_no_snapshot_is_refused(tmp_path):
    write_snapshot(_registry(), tmp_path / "snap")
    with pytest.raises(SnapshotError, match="cut-off 2026-09-30 00:00:00, not at the "
                                            "requested 2026-06-30"):
        read_snapshot(tmp_path / "snap", cutoff_date="2026-06-30")
    (tmp_path / "snap" / "empty.parquet").unlink()
    with pytest.raises(SnapshotError, match="empty.parquet is missing"):
        read_snapshot(tmp_path / "snap")
    with pytest.raises(SnapshotError, match="not a registry snapshot"):
        read_snapshot(tmp_path)


def test_values_the_snapshot_cannot_keep_exactly_are_refused(tmp_path):
    mixed = Registry(tables={"t": pd.DataFrame({"x": ["a", 1]})})
    with pytest.raises(TypeError, match="'x' of table 't' holds"):
        write_snapshot(mixed, tmp_path / "a")
    raw = Registry(tables={"t": pd.DataFrame({"ok": ["a", None], "y": [None, b"a"]})})
    with pytest.raises(TypeError, match=r"'y' of table 't' holds \['bytes'\]"):
        write_snapshot(raw, tmp_path / "r")
    odd = Registry(tables={"t": pd.DataFrame({"c": pd.Categorical([pd.Timestamp(0)])})})
    with pytest.raises(TypeError, match="cannot be stored in a snapshot"):
        write_snapshot(odd, tmp_path / "b")
    write_snapshot(Registry(tables={}), tmp_path / "c")
    with pytest.raises(FileExistsError):
        write_snapshot(Registry(tables={}), tmp_path / "c")


READ_CELL = '''from sirtstats.snapshot import read_snapshot
from sirtstats.outputs import save_metrics
reg = read_snapshot(snapshot_path, cutoff_date=cutoff_date)
save_metrics({"n": len(reg["patients"]), "ids": sorted(reg["patients"]["patient_id"]),
              "snapshot_given": bool(snapshot_path)}, notebook=NAME, output_dir=output_dir)'''


@pytest.mark.notebooks
def test_runner_writes_one_snapshot_that_every_notebook_reads(tmp_path, monkeypatch):
    import sirtstats.registry as reg
    from sirtstats.report import run_report, validate_parameters

    tables = fake_tables()
    monkeypatch.setattr(reg, "load_registry", lambda source, *, cutoff_date=None, strict=True:
                        reg.Registry(tables=tables, source=str(source),
                                     cutoff_date=pd.Timestamp(cutoff_date)))
    params = PARAMS_CELL + '\nsnapshot_path: str = ""  # set by the runner'
    nb_dir = tmp_path / "notebooks"
    make_notebook(nb_dir / "01_a.ipynb", READ_CELL, params=params)
    make_notebook(nb_dir / "02_b.ipynb", READ_CELL, params=params)
    result = run_report(validate_parameters({"period": "2026Q3"}), output_root=tmp_path / "r",
                        notebooks_dir=nb_dir, echo=None)
    for stem in ("01_a", "02_b"):
        assert result.metrics[stem] == {"n": 5, "ids": ["P1", "P2", "P3", "P4", "P5"],
                                        "snapshot_given": True}
    snap = result.manifest["snapshot"]
    assert len(snap["sha256"]) == 64
    assert set(snap["files_sha256"]) == {"patients.parquet", "treatments.parquet",
                                         "adverse_events.parquet",
                                         "imaging_assessments.parquet", "problems.parquet"}
    # the snapshot is not published (every row of the registry); its hash is in the manifest
    assert not any("_snapshot" in p.as_posix() for p in result.path.rglob("*"))
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["snapshot"] == snap
    assert not any(k.startswith("_snapshot") for k in manifest["outputs_sha256"])
