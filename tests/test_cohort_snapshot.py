"""Tests of the report's cohort snapshots (sirtstats.cohort_snapshot, decision D79): a cohort
read back equals the one ``select_cohort`` gives, table by table and frame by frame; its tables
are read only when used and checked when read; a notebook asking for other criteria selects its
own cohort; and the report runner writes each distinct cohort once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from sirtstats._memory import release_after_each_cell, release_freed_memory
from sirtstats.cohort import select_cohort
from sirtstats.cohort_snapshot import (
    COHORTS_DIRNAME,
    SnapshotTables,
    cohort_key,
    load_cohort,
    read_cohort_snapshot,
    write_cohort_snapshot,
)
from sirtstats.demo import load_registry
from sirtstats.snapshot import SnapshotError, write_snapshot

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import PARAMS_CELL, make_notebook  # noqa: E402

CUTOFF = "2026-09-30"

#: criteria of every kind: none, a diagnosis (spelt in another case), a device and centres,
#: a first-SIRT window, and filters that select nobody
CRITERIA = [
    {},
    {"diagnoses": ["hcc"]},
    {"devices": ["Y90_glass"], "centres": ["C01", "C02"]},
    {"first_sirt_from": "2024-01-01", "first_sirt_to": "2025-06-30"},
    {"diagnoses": ["uveal_melanoma"], "devices": ["Ho166_PLLA"]},
]


@pytest.fixture(scope="module")
def demo_snapshot(tmp_path_factory):
    registry = load_registry("demo", cutoff_date=CUTOFF)
    folder = tmp_path_factory.mktemp("snap") / "snapshot"
    write_snapshot(registry, folder)
    return registry, folder


def _assert_same_selection(back, expected):
    for frame in ("patients", "flow", "exclusions"):
        pd.testing.assert_frame_equal(
            getattr(back, frame), getattr(expected, frame), check_exact=True
        )
    assert list(back.registry.tables) == list(expected.registry.tables)
    for name, df in expected.registry.tables.items():
        got = back.registry[name]
        pd.testing.assert_frame_equal(got, df, check_exact=True, check_index_type=True)
        assert got.index.equals(df.index)  # the rows' labels in the full registry, kept
    pd.testing.assert_frame_equal(back.registry.problems, expected.registry.problems)
    for attr in ("source", "cutoff_date", "file_hashes", "cutoff_counts"):
        assert getattr(back.registry, attr) == getattr(expected.registry, attr), attr
    assert back.criteria == expected.criteria


@pytest.mark.parametrize("criteria", CRITERIA, ids=lambda c: ",".join(c) or "all")
def test_a_stored_cohort_reads_back_as_select_cohort_gives_it(demo_snapshot, criteria):
    registry, folder = demo_snapshot
    expected = select_cohort(registry, cutoff_date=CUTOFF, **criteria)
    if read_cohort_snapshot(folder, expected.criteria) is None:
        write_cohort_snapshot(expected, folder)
    back = load_cohort("demo", snapshot_path=folder, cutoff_date=CUTOFF, **criteria)
    assert isinstance(back.registry.tables, SnapshotTables)  # the stored cohort, not reselected
    _assert_same_selection(back, expected)


def test_the_criteria_are_keyed_as_select_cohort_resolves_them(demo_snapshot):
    registry, folder = demo_snapshot
    hcc = select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["HCC"])
    # the same cohort, asked for with another spelling, empty filters and the same cut-off
    assert (
        select_cohort(
            registry, cutoff_date=CUTOFF, diagnoses=["hcc"], devices=[], centres=[]
        ).criteria
        == hcc.criteria
    )
    assert cohort_key(hcc.criteria) != cohort_key(select_cohort(registry).criteria)
    assert (folder / COHORTS_DIRNAME / cohort_key(hcc.criteria)).name == cohort_key(hcc.criteria)


def test_a_cohort_the_runner_did_not_store_is_selected_in_the_notebook(tmp_path):
    registry = load_registry("demo", cutoff_date=CUTOFF)
    write_snapshot(registry, tmp_path / "snap")
    stored = select_cohort(registry, cutoff_date=CUTOFF)
    write_cohort_snapshot(stored, tmp_path / "snap")
    other = {"diagnoses": ["mCRC"], "min_followup_days": 30}
    back = load_cohort("demo", snapshot_path=tmp_path / "snap", cutoff_date=CUTOFF, **other)
    assert not isinstance(back.registry.tables, SnapshotTables)
    _assert_same_selection(back, select_cohort(registry, cutoff_date=CUTOFF, **other))
    # no snapshot at all (an interactive session): the registry is loaded from data_path
    alone = load_cohort("demo", cutoff_date=CUTOFF, diagnoses=["HCC"])
    _assert_same_selection(alone, select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["HCC"]))


def test_bad_criteria_are_refused_as_select_cohort_refuses_them(demo_snapshot):
    _registry, folder = demo_snapshot
    with pytest.raises(ValueError, match="'diagnoses' argument of select_cohort"):
        load_cohort("demo", snapshot_path=folder, cutoff_date=CUTOFF, diagnoses=["liver"])
    with pytest.raises(ValueError, match="'min_followup_days' argument"):
        load_cohort("demo", snapshot_path=folder, cutoff_date=CUTOFF, min_followup_days=-1)
    with pytest.raises(SnapshotError, match="cut-off"):
        load_cohort("demo", snapshot_path=folder, cutoff_date="2026-06-30")


def test_tables_are_read_when_first_used_and_checked_then(tmp_path):
    registry = load_registry("demo", cutoff_date=CUTOFF)
    write_snapshot(registry, tmp_path / "snap")
    selection = select_cohort(registry, cutoff_date=CUTOFF)
    key = write_cohort_snapshot(selection, tmp_path / "snap")["key"]
    folder = tmp_path / "snap" / COHORTS_DIRNAME / key
    (folder / "labs.parquet").unlink()
    (folder / "lesions.parquet").write_bytes(b"not the table")
    back = read_cohort_snapshot(tmp_path / "snap", selection.criteria)  # nothing read yet
    tables = back.registry.tables
    assert "labs" in tables
    assert len(tables) == len(selection.registry.tables)
    assert tables.get("no_such_table") is None
    pd.testing.assert_frame_equal(tables["treatments"], selection.registry["treatments"])
    with pytest.raises(SnapshotError, match="labs.parquet is missing"):
        tables["labs"]
    with pytest.raises(SnapshotError, match="lesions.parquet was changed"):
        tables["lesions"]
    assert tables["treatments"] is tables["treatments"]  # read once, then kept


def test_an_altered_cohort_index_is_refused(tmp_path):
    registry = load_registry("demo", cutoff_date=CUTOFF)
    write_snapshot(registry, tmp_path / "snap")
    selection = select_cohort(registry, cutoff_date=CUTOFF)
    entry = write_cohort_snapshot(selection, tmp_path / "snap")
    with pytest.raises(FileExistsError):
        write_cohort_snapshot(selection, tmp_path / "snap")
    index_path = tmp_path / "snap" / COHORTS_DIRNAME / entry["key"] / "cohort.json"
    index = json.loads(index_path.read_text())
    index["criteria"]["diagnoses"] = ["NET"]  # another cohort's criteria under this key
    index_path.write_text(json.dumps(index))
    with pytest.raises(SnapshotError, match="does not hold the cohort"):
        read_cohort_snapshot(tmp_path / "snap", selection.criteria)


def test_the_same_cohort_gives_the_same_bytes(tmp_path):
    registry = load_registry("demo", cutoff_date=CUTOFF)
    entries = []
    for name in ("a", "b"):
        write_snapshot(registry, tmp_path / name)
        entries.append(
            write_cohort_snapshot(
                select_cohort(registry, cutoff_date=CUTOFF, diagnoses=["HCC"]), tmp_path / name
            )
        )
    assert entries[0] == entries[1]
    assert len(entries[0]["sha256"]) == 64


def test_release_freed_memory_changes_no_value():
    frame = pd.DataFrame({"x": range(1000)})
    before = frame.copy()
    release_freed_memory()
    pd.testing.assert_frame_equal(frame, before)


class _Events:
    def __init__(self):
        self.callbacks = {"post_run_cell": []}

    def register(self, event, function):
        self.callbacks[event].append(function)


def test_a_kernel_releases_memory_after_each_cell_registered_once():
    shell = type("Shell", (), {"events": _Events()})()
    assert release_after_each_cell(shell)
    assert release_after_each_cell(shell)
    assert [f.__name__ for f in shell.events.callbacks["post_run_cell"]] == ["_after_cell"]
    assert not release_after_each_cell()  # no IPython shell running here: nothing to do


COHORT_CELL = """from sirtstats.cohort_snapshot import SnapshotTables, load_cohort
from sirtstats.outputs import save_metrics
selection = load_cohort(data_path, snapshot_path=snapshot_path, cutoff_date=cutoff_date,
                        diagnoses=diagnoses)
hooks = [f.__name__ for f in get_ipython().events.callbacks["post_run_cell"]]
save_metrics({"ids": sorted(selection.patients["patient_id"]),
              "stored": isinstance(selection.registry.tables, SnapshotTables),
              "release_after_cell": "_after_cell" in hooks},
             notebook=NAME, output_dir=output_dir)"""


@pytest.mark.notebooks
def test_runner_stores_each_distinct_cohort_once_and_kernels_release_memory(tmp_path):
    from sirtstats.report import run_report, validate_parameters

    params = PARAMS_CELL + '\nsnapshot_path: str = ""  # set by the runner'
    nb_dir = tmp_path / "notebooks"
    for stem, diagnoses in (("01_a", "[]"), ("02_b", "[]"), ("03_c", '["HCC"]')):
        make_notebook(
            nb_dir / f"{stem}.ipynb",
            COHORT_CELL,
            params=params + f"\ndiagnoses: list = {diagnoses}",
        )
    result = run_report(
        validate_parameters({"period": "2026Q3"}),
        output_root=tmp_path / "r",
        notebooks_dir=nb_dir,
        echo=None,
    )
    registry = load_registry("demo", cutoff_date=CUTOFF)  # the report's data and cut-off
    for stem, diagnoses in (("01_a", None), ("02_b", None), ("03_c", ["HCC"])):
        expected = select_cohort(registry, cutoff_date=CUTOFF, diagnoses=diagnoses)
        assert result.metrics[stem] == {
            "ids": sorted(expected.patients["patient_id"]),
            "stored": True,
            "release_after_cell": True,  # the run's kernel profile registered it
        }
    cohorts = result.manifest["snapshot"]["cohorts"]
    assert [c["criteria"]["diagnoses"] for c in cohorts] == [None, ["HCC"]]
    assert all(len(c["sha256"]) == 64 for c in cohorts)
    assert "cohorts_write" in result.manifest["timings_s"]
