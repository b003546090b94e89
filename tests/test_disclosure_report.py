"""A shareable report leaks no id and no small cell (issue #13 item 6; decisions D40, D41).

The demo registry is rewritten so that every value a text column of the schema allows carries
one marker, ``ZQXJW`` (5 letters: a chance match in compressed PNG/PDF bytes is ~1e-4): every
``*_id`` value is prefixed with it (the pseudonymous ids, consistently across tables) and every
free-text cell (string columns without enum or pattern, except ``labs.unit``, a code checked
against the accepted units) receives it, so uncoded AE terms and SOCs are planted too. The
complete report runs with ``disclosure="shareable"``; then no file under the output root
(HTML, ipynb, CSV, XLSX and DOCX unzipped, SVG, PDF, PNG bytes and metadata, manifest, metrics)
may contain the marker, no listing may be written, and no table cell may show a count 1-4.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import scan_for_strings  # noqa: E402

MARKER = "ZQXJW"
#: Text columns holding codes that other rules check (a marker there breaks the analysis).
CODED_TEXT = {("labs", "unit")}


def _marked_registry(folder: Path) -> Path:
    from sirtstats.demo import make_demo_registry
    from sirtstats.schema import load_schema

    folder.mkdir(parents=True)
    for name, df in make_demo_registry().items():
        df = df.copy()
        fields = {f.name: f for f in load_schema(name).fields}
        for column in df.columns:
            f = fields.get(column)
            if f is None or f.type != "string":
                continue
            present = df[column].notna()
            if column.endswith("_id"):
                df.loc[present, column] = MARKER + df.loc[present, column].astype(str)
            elif f.enum is None and f.pattern is None and (name, column) not in CODED_TEXT:
                rows = df.index[present][::7]  # every 7th cell: free text beside coded values
                df.loc[rows, column] = f"{MARKER} note"
        df.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    return folder


SMALL_N_PCT = re.compile(r"^\s*[1-4]\s*\(")
COUNT_HEADER = re.compile(r"^(?:N|n)$|^(?:N|n) |^Number|^Patients|^Events|^Deaths")


def _small_cells(tables_dir: Path) -> list[tuple[str, str, str]]:
    found = []
    for csv in sorted(tables_dir.glob("*.csv")):
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for column in df.columns:
            for value in df[column]:
                bare = COUNT_HEADER.search(column) and re.fullmatch(r"\s*[1-4]\s*", value)
                if SMALL_N_PCT.match(value) or bare:
                    found.append((csv.name, column, value))
    return found


@pytest.mark.notebooks
def test_shareable_report_has_no_id_no_listing_and_no_small_cell(tmp_path):
    from sirtstats.registry import load_registry
    from sirtstats.report import run_report, validate_parameters

    registry_dir = _marked_registry(tmp_path / "registry")
    registry = load_registry(str(registry_dir), cutoff_date="2026-09-30")
    assert registry["patients"]["patient_id"].str.startswith(MARKER).all()
    assert (registry.problems["rule"].str.contains("not a CTCAE v5.0")).any()
    root = tmp_path / "reports"
    params = validate_parameters({"period": "2026Q3", "data_path": str(registry_dir),
                                  "disclosure": "shareable"})
    result = run_report(params, output_root=root, echo=None, jobs=2)
    report = result.path
    assert scan_for_strings(root, [MARKER]) == []
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["report"]["disclosure"] == "shareable"
    assert manifest["parameters"]["small_cell_threshold"] == 5
    assert "shareable report" in (report / "index.html").read_text(encoding="utf-8")
    kinds = [json.loads(p.read_text())["kind"] for p in (report / "tables").glob("*.table.json")]
    assert "listing" not in kinds
    assert "table" in kinds
    assert _small_cells(report / "tables") == []
    assert (report / "figures" / "02_swimmer.png").exists()
