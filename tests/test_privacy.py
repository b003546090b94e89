"""No identifier from the input other than the pseudonymous patient id reaches any output.

Decision (issue #7 item 5): the registry validator refuses identifier *columns* (names, MRN,
birth date ...). What remains possible is an identifier typed into a free-text or extra column.
The test seeds fake names and MRNs into such columns of the demo registry (an extra ``comment``
column in several tables, and the free-text ``treatments.concomitant_systemic`` and
``other_therapies.agent``), runs the complete report on that folder and accepts exactly two
outcomes: the run refuses the registry, with no seeded string in its message or problem table; or
the run succeeds and no seeded string appears in any file under the output root (published
report and any failed attempt; .ipynb, .html, .csv, .json, .svg, .png bytes, every XLSX entry).

A second, fast test shows the scanner is not vacuous: a notebook that displays a seeded string
is caught in the executed notebook, the HTML, the CSV and the workbook.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import (  # noqa: E402
    PARAMS_CELL,
    install_fake_registry,
    make_notebook,
    scan_for_strings,
)

from sirtstats.exceptions import SirtDataError
from sirtstats.report import ReportError, run_report, validate_parameters

FAKE_NAMES = ["Zebulon Quixotefield", "Ottilie Vandermeerschaert"]
FAKE_MRNS = ["MRN884422117", "IPP-5550197734"]
NEEDLES = ["Quixotefield", "Vandermeerschaert", "884422117", "5550197734"]
SEEDED_COLUMNS = {  # table -> columns receiving seeded text (extra or free-text)
    "patients": ["comment"],
    "adverse_events": ["comment"],
    "labs": ["comment"],
    "treatments": ["comment", "concomitant_systemic"],
    "other_therapies": ["agent"],
}


def _seeded_registry(folder: Path) -> Path:
    from sirtstats.demo import make_demo_registry

    folder.mkdir(parents=True)
    tables = make_demo_registry()
    texts = [f"{FAKE_NAMES[i % 2]} {FAKE_MRNS[i % 2]}" for i in range(4)]
    for name, df in tables.items():
        df = df.copy()
        for column in SEEDED_COLUMNS.get(name, []):
            if column not in df.columns:
                df[column] = pd.Series([None] * len(df), dtype="object", index=df.index)
            df[column] = df[column].astype("object")
            rows = df.index[: min(4, len(df))]
            df.loc[rows, column] = texts[: len(rows)]
        df.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    return folder


@pytest.mark.notebooks
def test_seeded_identifiers_never_reach_the_report(tmp_path):
    pytest.importorskip("sirtstats.demo", reason="the demo registry is not available yet")
    from sirtstats.registry import load_registry

    registry_dir = _seeded_registry(tmp_path / "registry")
    try:
        load_registry(str(registry_dir), cutoff_date="2026-09-30")
    except NotImplementedError:
        pytest.skip("loading a registry folder is not available yet")
    except SirtDataError:
        pass  # refusal is checked below through the runner
    root = tmp_path / "reports"
    params = validate_parameters({"period": "2026Q3", "data_path": str(registry_dir)})
    outcome = None
    try:
        run_report(params, output_root=root, echo=None)
    except (SirtDataError, ReportError) as exc:  # refused, or a notebook failed
        outcome = exc
    rows = getattr(outcome, "rows", None)
    shown = (str(outcome or "") + ("" if rows is None else rows.to_string())).lower()
    assert [n for n in NEEDLES if n.lower() in shown] == []
    assert scan_for_strings(root, NEEDLES) == []  # published report and any failed attempt
    if isinstance(outcome, ReportError):
        pytest.fail(f"the report failed on the seeded registry: {outcome}")
    if outcome is None:
        assert (root / "2026Q3" / "index.html").exists()


def test_scanner_finds_a_leak_in_every_kind_of_output(tmp_path, monkeypatch):
    install_fake_registry(monkeypatch)
    leak = ("import pandas as pd\nfrom sirtstats.outputs import save_table\n"
            f"t = pd.DataFrame({{'note': [{FAKE_NAMES[0]!r}], 'mrn': [{FAKE_MRNS[0]!r}]}})\n"
            "save_table(t, '01_leak', output_dir=output_dir)")
    make_notebook(tmp_path / "nb" / "01_leak.ipynb", leak, params=PARAMS_CELL)
    result = run_report(validate_parameters({"period": "2026Q3"}), output_root=tmp_path / "r",
                        notebooks_dir=tmp_path / "nb", echo=None)
    hits = scan_for_strings(result.path, NEEDLES[:1] + NEEDLES[2:3])
    files = {f for f, _ in hits}
    assert {"notebooks/01_leak.ipynb", "notebooks/01_leak.html", "tables/01_leak.csv",
            "tables.xlsx"} <= files
    assert {n for _, n in hits} == {"quixotefield", "884422117"}
