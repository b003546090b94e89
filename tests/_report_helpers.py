"""Shared helpers for the report tests: tiny throwaway notebooks and a small fake registry."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd

PARAMS_CELL = "\n".join([
    'data_path: str = "demo"           # registry folder, or "demo" for the demo registry',
    'cutoff_date: str = "2026-09-30"   # data cut-off (ISO date); nothing after it counts',
    'output_dir: str = ""              # report folder; empty: interactive, nothing written',
    'diagnoses: list = []              # cohort filter, e.g. ["HCC"]; empty: all',
    'devices: list = []                # cohort filter, e.g. ["Y90_glass"]; empty: all',
])

TABLE_CELL = '''import pandas as pd
from sirtstats.outputs import save_metrics, save_table
month = int(cutoff_date[5:7])
table = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "value": [1.5, 2.25, month / 3]})
save_metrics({"n_patients": month, "mean_value": table["value"].mean(), "cutoff": cutoff_date,
              "diagnoses": diagnoses}, notebook=NAME, output_dir=output_dir)
save_table(table, NAME, output_dir=output_dir)'''

FIGURE_CELL = '''import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1, 2], [1, 0.8, 0.5])
from sirtstats.outputs import save_figure
save_figure(fig, NAME + "_curve", output_dir=output_dir);'''


def make_notebook(path: Path, *cells: str, title: str = "Tiny notebook",
                  params: str = PARAMS_CELL, markdown: str | None = None) -> Path:
    """Write a notebook: markdown title, tagged parameters cell, then code ``cells``."""
    name = Path(path).stem
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "sirtstats", "display_name": "Python (sirtstats)",
                                 "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\n{markdown or 'Test notebook.'}"))
    nb.cells.append(nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}))
    nb.cells.append(nbformat.v4.new_code_cell(f"NAME = {name!r}"))
    for src in cells:
        nb.cells.append(nbformat.v4.new_code_cell(src))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return Path(path)


def make_tiny_notebooks(folder: Path, *, figure: bool = True) -> Path:
    """Two tiny report notebooks: 01_tiny (table + metrics), 02_plot (table + figure)."""
    make_notebook(folder / "01_tiny.ipynb", TABLE_CELL, title="Tiny cohort")
    cells = [TABLE_CELL] + ([FIGURE_CELL] if figure else [])
    make_notebook(folder / "02_plot.ipynb", *cells, title="Tiny plot")
    return folder


def fake_tables() -> dict[str, pd.DataFrame]:
    """A 4-patient registry; dates chosen so the 2026Q3 window (after 2026-06-30) has:
    2 new patients treated (P3, P4; P1's second session does not make P1 new), 3 sessions
    (P1 S2, P3 S3, P4 S4), 1 death (P2), 2 AEs (1 of grade 3), 1 imaging assessment with PD.
    Up to 2026-09-30 in total: 4 patients treated, 5 sessions, 1 death, 3 AEs (2 grade >= 3)."""
    d = pd.to_datetime
    patients = pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P4", "P5"],
        "primary_tumour": ["HCC", "HCC", "mCRC", "HCC", "HCC"],
        "death_date": d([None, "2026-08-01", None, None, "2026-12-01"]),
    })
    treatments = pd.DataFrame({
        "patient_id": ["P1", "P1", "P2", "P3", "P4", "P5"],
        "session_id": ["S1", "S2", "S0", "S3", "S4", "S5"],
        "treatment_date": d(["2026-03-01", "2026-07-10", "2026-05-05", "2026-08-20",
                             "2026-09-30", "2026-10-02"]),
        "device": ["Y90_glass", "Y90_glass", "Y90_resin", "Y90_glass", "Y90_resin",
                   "Y90_glass"],
    })
    adverse_events = pd.DataFrame({
        "patient_id": ["P1", "P1", "P3"],
        "onset_date": d(["2026-04-01", "2026-07-20", "2026-09-01"]),
        "grade": pd.array([3, 1, 4], dtype="Int64"),
    })
    imaging = pd.DataFrame({
        "patient_id": ["P1", "P1"],
        "assessment_date": d(["2026-06-01", "2026-09-15"]),
        "reported_overall_response": ["PR", "PD"],
    })
    return {"patients": patients, "treatments": treatments,
            "adverse_events": adverse_events, "imaging_assessments": imaging}


def install_fake_registry(monkeypatch, tables=None, problems=None):
    """Make sirtstats.registry.load_registry return a Registry built from ``tables``."""
    import sirtstats.registry as reg

    tables = fake_tables() if tables is None else tables
    problems = pd.DataFrame() if problems is None else problems

    def fake_load_registry(source="demo", *, cutoff_date=None, strict=True):
        return reg.Registry(tables=tables, problems=problems, source=str(source))

    monkeypatch.setattr(reg, "load_registry", fake_load_registry)
    return tables


def scan_for_strings(folder: Path, needles) -> list[tuple[str, str]]:
    """Every (file, needle) where a needle occurs, case-insensitively, in any file under
    ``folder``: text files as UTF-8, XLSX/zip entries unzipped, other binaries as Latin-1."""
    import zipfile

    hits = []
    lowered = [n.lower() for n in needles]
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        texts = []
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                texts = [zf.read(n).decode("utf-8", "replace") for n in zf.namelist()]
        else:
            texts = [data.decode("utf-8", "replace"), data.decode("latin-1")]
        blob = "\n".join(texts).lower()
        hits += [(str(path.relative_to(folder)), n) for n in lowered if n in blob]
    return hits


_DEMO_REPORT = {}


def build_demo_report(period: str = "2026Q3"):
    """The full report of the real notebooks on the demo registry, built once per test process
    (test_notebooks and test_browser share it) in a temporary folder removed at exit."""
    if period not in _DEMO_REPORT:
        import atexit
        import shutil
        import tempfile

        from sirtstats.report import run_report, validate_parameters

        root = Path(tempfile.mkdtemp(prefix="sirtstats-demo-report-"))
        atexit.register(shutil.rmtree, root, True)
        _DEMO_REPORT[period] = run_report(
            validate_parameters({"period": period, "data_path": "demo"}),
            output_root=root / "reports", echo=None, jobs=2)
    return _DEMO_REPORT[period]
