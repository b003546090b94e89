"""Notebook 06 (FDG-PET) runs only when the registry has PET data for the report's patients;
otherwise the runner skips it and the summary page says why (sirtstats.report.optional). The
summary's headline table shows the PERCIST metabolic response rate when 06 recorded it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import (  # noqa: E402
    TABLE_CELL,
    fake_tables,
    install_fake_registry,
    make_notebook,
)

from sirtstats.report import ReportError, run_report, validate_parameters  # noqa: E402
from sirtstats.report.index_html import headline_rows  # noqa: E402
from sirtstats.report.optional import skipped_notebooks  # noqa: E402

MARKER_CELL = "open(output_dir + '/../PET_RAN', 'w').write('ran')"


def _notebooks(folder: Path) -> Path:
    make_notebook(folder / "01_tiny.ipynb", TABLE_CELL, title="Tiny cohort")
    make_notebook(folder / "06_pet_response.ipynb", MARKER_CELL, title="06 · Metabolic response")
    return folder


def _with_pet(pid="P1"):
    t = fake_tables()
    t["pet_assessments"] = pd.DataFrame({"patient_id": [pid],
                                         "scan_date": pd.to_datetime(["2026-02-20"])})
    t["pet_lesions"] = pd.DataFrame({"patient_id": [pid], "lesion_id": [f"{pid}-L1"],
                                     "scan_date": pd.to_datetime(["2026-02-20"])})
    return t


def test_skipped_without_pet_data_noted_in_index_and_manifest(tmp_path, monkeypatch):
    nb_dir = _notebooks(tmp_path / "notebooks")
    install_fake_registry(monkeypatch)   # no PET tables at all
    result = run_report(validate_parameters({"period": "2026Q3"}),
                        output_root=tmp_path / "reports", notebooks_dir=nb_dir, echo=None)
    assert not result.partial                       # a skipped notebook is not a partial run
    assert result.path == tmp_path / "reports" / "2026Q3"
    assert not (tmp_path / "reports" / "PET_RAN").exists()
    assert not (result.path / "notebooks" / "06_pet_response.html").exists()
    index = (result.path / "index.html").read_text(encoding="utf-8")
    assert "06 · Metabolic response: not run, the registry has no FDG-PET data" in index
    manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest["report"]["skipped_notebooks"]) == ["06_pet_response"]
    assert manifest["report"]["notebooks"] == ["01_tiny"]


def test_runs_with_pet_data(tmp_path, monkeypatch):
    nb_dir = _notebooks(tmp_path / "notebooks")
    install_fake_registry(monkeypatch, tables=_with_pet())
    result = run_report(validate_parameters({"period": "2026Q3"}),
                        output_root=tmp_path / "reports", notebooks_dir=nb_dir, echo=None)
    assert (tmp_path / "reports" / "PET_RAN").exists()
    assert (result.path / "notebooks" / "06_pet_response.html").exists()
    assert "not run" not in (result.path / "index.html").read_text(encoding="utf-8")


def test_skipped_when_pet_only_outside_the_cohort_filter_and_alone_is_an_error(
        tmp_path, monkeypatch):
    nb_dir = _notebooks(tmp_path / "notebooks")
    install_fake_registry(monkeypatch, tables=_with_pet("P3"))   # P3 is mCRC
    result = run_report(validate_parameters({"period": "2026Q3", "diagnoses": ["HCC"]}),
                        output_root=tmp_path / "reports", notebooks_dir=nb_dir, echo=None)
    assert not (tmp_path / "reports" / "PET_RAN").exists()
    assert "not run" in (result.path / "index.html").read_text(encoding="utf-8")
    with pytest.raises(ReportError, match="No notebook to run: 06_pet_response skipped"):
        run_report(validate_parameters({"period": "2026Q3", "diagnoses": ["HCC"]}),
                   output_root=tmp_path / "reports", notebooks_dir=nb_dir, echo=None,
                   notebooks=["06"])


def test_skipped_notebooks_needs_rows_of_every_table():
    t = _with_pet()
    paths = [Path("01_cohort.ipynb"), Path("06_pet_response.ipynb")]
    assert skipped_notebooks(t, paths) == {}
    assert skipped_notebooks(t, paths, patient_ids={"P2"}) != {}
    t["pet_lesions"] = t["pet_lesions"].iloc[0:0]
    assert list(skipped_notebooks(t, paths)) == ["06_pet_response"]


def test_headline_gains_the_metabolic_response_rate_with_exact_ci():
    rows = headline_rows({"06_pet_response": {"PERCIST_1_0": {
        "n": 21, "n_responders": 10, "mrr_pct": 47.619, "mrr_ci_lower_pct": 25.713,
        "mrr_ci_upper_pct": 70.219}}})
    assert [(r["label"], r["value"], r["detail"]) for r in rows] == [
        ("Metabolic response rate (CMR + PMR), PERCIST 1.0", "47.6 % (25.7–70.2)",
         "10 of 21 with a measurable baseline PET")]
    assert rows[0]["section"] == "Metabolic response (FDG-PET, best metabolic response)"
    confirmed = headline_rows({"06_pet_response": {"PERCIST_1_0": {"mrr_pct": 40.0},
                                                   "settings": {"confirm": True}}})
    assert confirmed[0]["section"].endswith("best metabolic response, confirmed)")
    assert headline_rows({"06_pet_response": {}}) == []
