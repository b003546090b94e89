"""The generated data dictionary (data_schema/README.md) is in step with the YAML schemas."""

from __future__ import annotations

import re

from sirtstats.datadict import README_PATH, main, render_data_dictionary
from sirtstats.schema import TABLE_ORDER, load_schema


def test_committed_data_dictionary_equals_regenerated_text():
    assert README_PATH.exists(), "run: python -m sirtstats.datadict"
    assert README_PATH.read_text(encoding="utf-8") == render_data_dictionary(), (
        "data_schema/README.md is out of date: run python -m sirtstats.datadict")


def test_every_table_and_field_is_documented_once():
    text = render_data_dictionary()
    for table in TABLE_ORDER:
        assert text.count(f"\n## {table}\n") == 1
        section = text.split(f"\n## {table}\n")[1].split("\n## ")[0]
        schema = load_schema(table)
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        assert [re.match(r"\| `([^`]+)`", r).group(1) for r in rows] == schema.field_names
        assert "Primary key: " + ", ".join(f"`{k}`" for k in schema.primary_key) in section


def test_field_rows_show_type_unit_required_enum_and_ranges():
    text = render_data_dictionary()
    assert ("| `lsf_pct` | number | % | yes |  | 0 – 100 | ≤ 20 | Lung shunt fraction, "
            "C_lung / (C_lung + C_liver) × 100. |") in text
    assert "| `sex` | string |  | yes | `M`, `F` |  |  | Sex at birth. |" in text
    assert "Foreign key: `workup_id` → `workups.workup_id`" in text
    assert "`measurement_before_lesion_baseline`" in text


def test_check_mode_detects_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "README.md"
    stale.write_text("old\n", encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    assert main(["--output", str(stale)]) == 0
    assert main(["--check", "--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == render_data_dictionary()
