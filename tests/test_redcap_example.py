"""The shipped REDCap example (examples/redcap/) and the ``sirtstats import-redcap`` command.

* the committed files equal what ``make_example.py`` writes from the current demo generator;
* importing the example (raw and label exports) gives back the demo tables exactly, and the
  command writes a folder byte-identical to ``sirtstats demo --patients 10 --seed 8``;
* exit codes: 0 imported, 1 errors (problems printed with field and record id, nothing
  written), 2 bad arguments / missing files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sirtstats.cli import main
from sirtstats.demo import make_demo_registry, write_demo_registry
from sirtstats.interop.redcap import import_redcap
from sirtstats.interop.redcap_project import make_redcap_mapping

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "redcap"
RECORDS, LABELS = EXAMPLE / "records.csv", EXAMPLE / "records_labels.csv"
DICTIONARY, MAPPING = EXAMPLE / "data_dictionary.csv", EXAMPLE / "mapping.yaml"


def _load_make_example():
    spec = importlib.util.spec_from_file_location("make_example", EXAMPLE / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo10() -> dict[str, pd.DataFrame]:
    return make_demo_registry(10, seed=8)


def test_committed_example_equals_regenerated():
    files = _load_make_example().build_files()
    assert sorted(files) == sorted(["data_dictionary.csv", "records.csv", "records_labels.csv",
                                    "mapping.yaml"])
    for name, text in files.items():
        committed = (EXAMPLE / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} is stale: run examples/redcap/make_example.py"


def test_annotated_mapping_is_the_project_mapping():
    assert yaml.safe_load(MAPPING.read_text(encoding="utf-8")) == make_redcap_mapping()
    assert MAPPING.read_text(encoding="utf-8").count("#") > 100  # documented line by line


def test_example_uses_repeating_instruments_and_checkboxes():
    records = pd.read_csv(RECORDS, dtype=str, keep_default_na=False)
    assert {"labs", "treatments", "lesion_measurements"} <= set(
        records["redcap_repeat_instrument"])
    assert [c for c in records.columns if c.startswith("pt_hcc_aetiology___")] == [
        f"pt_hcc_aetiology___{i}" for i in range(1, 8)]
    labels = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    rec = labels["redcap_repeat_instrument"].eq("")
    assert set(labels.loc[rec, "pt_hcc_aetiology___1"]) == {"Checked", "Unchecked"}
    assert set(labels.loc[rec, "pt_sex"]) == {"M", "F"}
    assert set(records.loc[records["redcap_repeat_instrument"].eq(""), "pt_sex"]) == {"1", "2"}


def test_label_export_imports_to_the_demo_tables(demo10):
    # the raw export is checked through the command below (byte-identical demo files)
    result = import_redcap(LABELS, DICTIONARY, MAPPING)
    assert result.problems.empty, result.problems
    assert sorted(result.tables) == sorted(demo10)
    for table, expected in demo10.items():
        pd.testing.assert_frame_equal(result.tables[table], expected, obj=table)


def test_cli_writes_the_demo_registry_byte_for_byte(tmp_path, capsys):
    out = tmp_path / "registry"
    code = main(["import-redcap", str(RECORDS), str(DICTIONARY), "--mapping", str(MAPPING),
                 "--out", str(out)])
    assert code == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out
    reference = write_demo_registry(tmp_path / "demo", n_patients=10, seed=8)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reference)
    for ref in reference:
        assert (out / ref.name).read_bytes() == ref.read_bytes(), ref.name
    assert main(["validate", str(out)]) == 0


def _broken_records(tmp_path, edit) -> Path:
    records = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    edit(records)
    path = tmp_path / "records.csv"
    records.to_csv(path, index=False)
    return path


def test_cli_unknown_code_exits_1_names_field_and_record_writes_nothing(tmp_path, capsys):
    def edit(df):
        row = df.index[df["redcap_repeat_instrument"].eq("treatments")][0]
        df.loc[row, "tx_device"] = "Y90 glass (TheraSphere)"  # a label REDCap does not know

    records = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    record = records.loc[records["redcap_repeat_instrument"].eq("treatments"), "record_id"].iloc[0]
    path = _broken_records(tmp_path, edit)
    out = tmp_path / "registry"
    code = main(["import-redcap", str(path), str(DICTIONARY), "--mapping", str(MAPPING),
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 1
    assert not out.exists()
    assert "1 error(s)" in text
    assert "Nothing written" in text
    line = next(x for x in text.splitlines() if "Y90 glass (TheraSphere)" in x)
    assert record in line
    assert "tx_device" in line
    assert "code not in the mapping" in line


def test_cli_identifier_field_in_export_is_reported_and_refused_when_mapped(tmp_path, capsys):
    def edit(df):
        df.insert(1, "pt_patient_name", "")
        df.loc[df["redcap_repeat_instrument"].eq(""), "pt_patient_name"] = "DOE^JOHN"

    path = _broken_records(tmp_path, edit)
    # exported but not imported: a warning, the import still succeeds
    out = tmp_path / "ok"
    assert main(["import-redcap", str(path), str(DICTIONARY), "--mapping", str(MAPPING),
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "identifier field present in the export" in text
    assert "pt_patient_name" in text
    assert "DOE^JOHN" not in text
    # mapped into the registry: an error, nothing written
    mapping = make_redcap_mapping()
    mapping["tables"]["patients"]["columns"]["centre_id"] = "pt_patient_name"
    bad_map = tmp_path / "mapping.yaml"
    bad_map.write_text(yaml.safe_dump(mapping, sort_keys=False))
    out2 = tmp_path / "bad"
    assert main(["import-redcap", str(path), str(DICTIONARY), "--mapping", str(bad_map),
                 "--out", str(out2)]) == 1
    text = capsys.readouterr().out
    assert "direct identifier" in text
    assert not out2.exists()


def test_cli_malformed_mapping_exits_1_without_traceback(tmp_path, capsys):
    bad_map = tmp_path / "mapping.yaml"
    bad_map.write_text("record_id: record_id\ntables:\n  patient:\n    columns: {}\n")
    out = tmp_path / "registry"
    assert main(["import-redcap", str(RECORDS), str(DICTIONARY), "--mapping", str(bad_map),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "unknown table 'patient'" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_cli_bad_arguments_exit_2(tmp_path, capsys):
    out = tmp_path / "registry"
    assert main(["import-redcap", str(RECORDS), str(DICTIONARY), "--out", str(out)]) == 2
    assert main(["import-redcap", str(tmp_path / "nope.csv"), str(DICTIONARY), "--mapping",
                 str(MAPPING), "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err
    assert not out.exists()
