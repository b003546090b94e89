"""The report notebooks: conventions (static, fast) and execution on the demo registry.

Static checks (every ``notebooks/NN_*.ipynb``): committed without outputs, kernel ``sirtstats``,
a markdown title first, a ``parameters`` cell declaring the common report parameters where
papermill's inspector (``papermill --help-notebook``) sees every parameter with a type and a
help comment, no ``def``/``class`` and short code cells.

Execution (``@pytest.mark.notebooks``): the whole report is run once, exactly as
``sirtstats report --data demo --period 2026Q3`` does it (papermill, kernel ``sirtstats``, two
notebooks at a time) into ``tmp_path``; then each notebook's key numbers (metrics.json) are
checked against direct calls of the package on the same registry. Checks for one notebook live
in a ``test_<stem>_...`` function below; notebooks without one are still run and must succeed.
"""

from __future__ import annotations

import ast
import json
import logging
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import build_demo_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COMMON = ("data_path", "cutoff_date", "output_dir", "diagnoses", "devices")
PERIOD = "2026Q3"
CUTOFF = "2026-09-30"
MAX_CODE_LINES = 12  # style.md §6: "a code cell longer than about 10 lines belongs in the package"


def _ids(paths):
    return [p.stem for p in paths]


def _read(path: Path):
    return nbformat.read(str(path), as_version=4)


def _parameters_cell(nb):
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell must be tagged 'parameters'"
    return cells[0]


# --- static conventions ------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_committed_without_outputs_on_sirtstats_kernel(path):
    nb = _read(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "sirtstats"
    for i, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"cell {i} has outputs"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_starts_with_title_then_parameters(path):
    nb = _read(path)
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.lstrip().startswith("# ")
    assert nb.cells[1] is _parameters_cell(nb), "cell 2 must be the parameters cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_parameters_are_typed_with_help_for_papermill_help_notebook(path):
    """Every assignment in the parameters cell is listed by papermill's inspector with a type
    annotation and a help comment (its parser skips a line holding two '=', e.g. a comment
    '# [] = all': write '# empty: all' instead)."""
    import papermill

    cell = _parameters_cell(_read(path))
    declared = [node.target.id for node in ast.parse(cell.source).body
                if isinstance(node, ast.AnnAssign)]
    untyped = [node.targets[0].id for node in ast.parse(cell.source).body
               if isinstance(node, ast.Assign)]
    assert untyped == [], f"parameters without a type annotation: {untyped}"
    assert set(COMMON) <= set(declared), f"missing common parameters {set(COMMON) - set(declared)}"
    logging.getLogger("papermill").setLevel(logging.ERROR)
    inspected = papermill.inspect_notebook(str(path))
    unseen = [name for name in declared if name not in inspected]
    assert unseen == [], f"papermill --help-notebook does not list {unseen}"
    for name, info in inspected.items():
        assert info["inferred_type_name"] not in ("None", ""), f"{name} has no type"
        assert info["help"], f"{name} has no help comment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_code_is_thin(path):
    nb = _read(path)
    for i, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        tree = ast.parse(cell.source)
        kinds = {type(n).__name__ for n in ast.walk(tree)}
        assert not kinds & {"FunctionDef", "AsyncFunctionDef", "ClassDef", "Lambda"}, \
            f"cell {i} defines a function or class: move it into the package"
        assert not kinds & {"For", "While"}, f"cell {i} loops: move it into the package"
        assert ".merge(" not in cell.source, f"cell {i} merges tables: move it into the package"
        lines = [ln for ln in cell.source.splitlines() if ln.strip() and
                 not ln.strip().startswith("#")]
        assert len(lines) <= MAX_CODE_LINES, f"cell {i} has {len(lines)} lines"


# --- execution on the demo registry ------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_report():
    """The full report on the demo registry, as `sirtstats report --data demo` runs it."""
    pytest.importorskip("sirtstats.demo", reason="the demo registry is not available yet")
    if not NOTEBOOKS:
        pytest.skip("no notebook yet")
    return build_demo_report(PERIOD)


@pytest.fixture(scope="module")
def demo_registry():
    pytest.importorskip("sirtstats.demo", reason="the demo registry is not available yet")
    from sirtstats.demo import load_registry

    return load_registry("demo", cutoff_date=CUTOFF)


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_and_is_published(demo_report, path):
    folder = demo_report.path / "notebooks"
    executed = _read(folder / f"{path.stem}.ipynb")
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors == []
    html = (folder / f"{path.stem}.html").read_text(encoding="utf-8")
    code_lines = [ln.strip() for c in _read(path).cells if c.cell_type == "code"
                  for ln in c.source.splitlines() if len(ln.strip()) > 25]
    leaked = [ln for ln in code_lines if ln in html]
    assert leaked == [], "the HTML shows code"
    assert path.stem in demo_report.metrics, "the notebook saved no key numbers (save_metrics)"
    injected = json.loads((demo_report.path / "manifest.json").read_text())
    assert injected["notebook_parameters"][path.stem]["cutoff_date"] == CUTOFF


@pytest.mark.notebooks
def test_report_tables_are_in_the_workbook(demo_report):
    import openpyxl

    stems = sorted(p.stem for p in (demo_report.path / "tables").glob("*.csv"))
    wb = openpyxl.load_workbook(demo_report.path / "tables.xlsx", read_only=True)
    listed = [row[3] for row in wb["contents"].iter_rows(min_row=2, values_only=True)]
    assert listed == [f"tables/{s}.csv" for s in stems]
    import docx

    doc = docx.Document(str(demo_report.path / "tables.docx"))
    titles = {p.text for p in doc.paragraphs}
    assert "Table 1. Baseline characteristics" in titles
    assert len(doc.tables) >= 10  # every paste-ready table of 01-05
    assert json.loads((demo_report.path / "manifest.json").read_text())["row_counts"]["tables"]


@pytest.mark.notebooks
def test_every_saved_table_has_unique_column_names(demo_report):
    """The Cox CSV had two "HR (95 % CI)" and two "p" columns (decision D63)."""
    import csv

    import openpyxl

    for path in sorted((demo_report.path / "tables").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
        assert len(set(header)) == len(header), f"{path.name}: repeated columns {header}"
    wb = openpyxl.load_workbook(demo_report.path / "tables.xlsx", read_only=True)
    for ws in wb.worksheets[1:]:
        header = [c for c in next(ws.iter_rows(max_row=1, values_only=True)) if c is not None]
        assert len(set(header)) == len(header), f"sheet {ws.title}: repeated columns {header}"


@pytest.mark.notebooks
def test_01_cohort_key_numbers_match_package(demo_report, demo_registry):
    from sirtstats.cohort import select_cohort

    m = demo_report.metrics["01_cohort"]
    selection = select_cohort(demo_registry, cutoff_date=CUTOFF)
    assert m["n_registry"] == len(demo_registry["patients"])
    assert m["n_included"] == selection.n_included
    assert m["n_excluded"] == selection.n_excluded
    assert m["n_included"] + m["n_excluded"] == m["n_registry"]  # each patient counted once
    expected = selection.patients["primary_tumour"].value_counts().sort_index()
    assert m["n_by_diagnosis"] == {k: int(v) for k, v in expected.items()}
    assert sum(m["n_by_diagnosis"].values()) == m["n_included"]
    flow = pd.read_csv(demo_report.path / "tables" / "01_flow.csv")
    assert len(flow) >= 1
    assert (demo_report.path / "figures" / "01_flow.png").exists()
    assert (demo_report.path / "figures" / "01_flow.svg").exists()


@pytest.mark.notebooks
def test_01_cohort_outputs_are_byte_identical_across_runs(demo_report, tmp_path):
    from sirtstats.report import run_report, validate_parameters

    again = run_report(validate_parameters({"period": PERIOD, "data_path": "demo"}),
                       output_root=tmp_path, notebooks=["01"], echo=None)
    first_tables = sorted((demo_report.path / "tables").glob("01_*.csv"))
    assert first_tables
    for path in first_tables:
        assert (again.path / "tables" / path.name).read_bytes() == path.read_bytes(), path.name
    assert again.metrics["01_cohort"] == demo_report.metrics["01_cohort"]
    for path in sorted((demo_report.path / "figures").glob("01_*.svg")):
        assert (again.path / "figures" / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.notebooks
def test_every_figure_is_saved_as_png_and_svg(demo_report):
    figures = demo_report.path / "figures"
    png = {p.stem for p in figures.glob("*.png")}
    svg = {p.stem for p in figures.glob("*.svg")}
    assert png
    assert png == svg


@pytest.mark.notebooks
def test_01_cohort_runs_as_is_like_in_jupyterlab(tmp_path):
    """No parameter injected (JupyterLab use): runs on the demo registry and writes nothing."""
    pytest.importorskip("sirtstats.demo", reason="the demo registry is not available yet")
    import papermill

    path = ROOT / "notebooks" / "01_cohort.ipynb"
    if not path.exists():
        pytest.skip("01_cohort not written yet")
    work = tmp_path / "cwd"
    work.mkdir()
    papermill.execute_notebook(str(path), str(tmp_path / "out.ipynb"), kernel_name="sirtstats",
                               cwd=str(work), progress_bar=False)
    assert list(work.iterdir()) == []


@pytest.fixture(scope="module")
def demo_selection(demo_registry):
    from sirtstats.cohort import select_cohort

    return select_cohort(demo_registry, cutoff_date=CUTOFF)


@pytest.mark.notebooks
def test_02_response_key_numbers_match_package(demo_report, demo_selection):
    from sirtstats.endpoints import derive_origin
    from sirtstats.response import derive_response_analysis

    m = demo_report.metrics["02_response"]
    analysis = derive_response_analysis(
        demo_selection.registry, derive_origin(demo_selection.patients),
        criteria=["RECIST_1_1", "mRECIST"], scope="overall", confirm=True)
    for criterion in ("RECIST_1_1", "mRECIST"):
        bor = analysis.bor[analysis.bor["criterion"] == criterion]
        n_resp = int(bor["bor"].isin(["CR", "PR"]).sum())
        assert m[criterion]["n"] == len(bor)  # NE / missing patients stay in the denominator
        assert m[criterion]["n_responders"] == n_resp
        assert m[criterion]["orr_pct"] == round(100 * n_resp / len(bor), 2)
    # mRECIST applies to HCC only (response-criteria.md §2)
    assert m["mRECIST"]["n"] <= int((demo_selection.patients["primary_tumour"] == "HCC").sum())


@pytest.mark.notebooks
def test_03_survival_os_numbers_match_the_cohort(demo_report, demo_selection):
    km = demo_report.metrics["03_survival"]["km"]["OS"]
    patients = demo_selection.patients
    assert km["n"] == demo_selection.n_included
    # every death up to the cut-off is an OS event, nothing else is (R5.5)
    assert km["n_events"] == int(patients["death_date"].notna().sum())
    assert km["median_lower"] <= km["median"] <= km["median_upper"]


@pytest.mark.notebooks
def test_04_toxicity_mortality_matches_a_direct_count(demo_report, demo_selection):
    m = demo_report.metrics["04_toxicity"]
    patients = demo_selection.patients
    days_to_death = (patients["death_date"] - patients["first_sirt_date"]).dt.days
    assert m["n_patients"] == demo_selection.n_included
    for horizon in (30, 90):
        n_deaths = int((days_to_death <= horizon).sum())
        assert m[f"mortality_{horizon}d_n_deaths"] == n_deaths
        assert m[f"mortality_{horizon}d_pct"] == pytest.approx(
            100 * n_deaths / m[f"mortality_{horizon}d_n_evaluable"])


@pytest.mark.notebooks
def test_05_dosimetry_numbers_match_package(demo_report, demo_selection):
    from sirtstats.cohort import select_cohort
    from sirtstats.dosimetry import derive_dose_crosscheck

    # no --diagnosis: the report injects no filter, so 05 keeps its own ["HCC"] (issue 11 item 4)
    assert "diagnoses" not in json.loads((demo_report.path / "manifest.json").read_text())[
        "injected_parameters"]["05_dosimetry"]
    m = demo_report.metrics["05_dosimetry"]
    cohort = select_cohort(demo_selection.registry, diagnoses=["HCC"], cutoff_date=CUTOFF).registry
    findings = derive_dose_crosscheck(cohort["treatments"], cohort["workups"], rel_tol=0.05)
    assert m["n_crosscheck_findings"] == len(findings)
    # dose-response per device, never pooled: each device keyed separately, every device of
    # the cohort listed, a device compared with its own threshold only
    by_device = m["dose_response"]
    assert set(by_device) == set(demo_selection.patients["device"].dropna())
    for device, criteria in by_device.items():
        for values in criteria.values():
            if values["auc"] is not None:
                assert 0 <= values["auc"] <= 1, device
    # 05 runs on its own HCC default: 205 Gy is the Y-90 glass HCC threshold, 120 Gy resin's
    assert by_device["Y90_glass"]["mRECIST"]["threshold_gy"] == 205.0
    assert by_device["Y90_resin"]["mRECIST"]["threshold_gy"] == 120.0
    assert by_device["Ho166_PLLA"]["mRECIST"]["threshold_gy"] is None


@pytest.mark.notebooks
def test_06_pet_response_rates_match_package(demo_report, demo_selection):
    from sirtstats import metabolic as pet

    m = demo_report.metrics["06_pet_response"]
    t = demo_selection.registry.tables
    base = pet.derive_percist_baseline(t["pet_assessments"], t["pet_lesions"],
                                       df_lesions=t["lesions"])
    resp = pet.derive_percist_response(t["pet_assessments"], t["pet_lesions"],
                                       df_lesions=t["lesions"])
    bmr = pet.derive_best_metabolic_response(resp)
    n, n_resp = int(base["is_measurable"].sum()), int(bmr["bmr"].isin(["CMR", "PMR"]).sum())
    assert m["n_pet_patients"] == len(base) > 0
    rates = m["PERCIST_1_0"]
    assert (rates["n"], rates["n_responders"]) == (n, n_resp)
    assert rates["mrr_pct"] == pytest.approx(100 * n_resp / n)
    assert rates["mrr_ci_lower_pct"] < rates["mrr_pct"] < rates["mrr_ci_upper_pct"]
    assert m["settings"]["reference"] == "auto"
    index = (demo_report.path / "index.html").read_text(encoding="utf-8")
    assert "Metabolic response rate (CMR + PMR), PERCIST 1.0" in index
    assert (demo_report.path / "figures" / "06_waterfall.png").exists()
