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
    PARAMS_CELL,
    TABLE_CELL,
    fake_tables,
    install_fake_registry,
    make_notebook,
)

from sirtstats.report import ReportError, run_report, validate_parameters  # noqa: E402
from sirtstats.report.index_html import headline_rows  # noqa: E402
from sirtstats.report.optional import exposure_counts, skipped_notebooks  # noqa: E402

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


# -- notebook 07 compares two exposure levels: it needs patients at both -------------------

COMPARE_PARAMS = PARAMS_CELL + "\n" + "\n".join([
    'exposure: str = "device"          # exposure column',
    'exposure_levels: list = ["Y90_resin", "Y90_glass"]  # control, then treated',
])
COMPARE_MARKER = "open(output_dir + '/../COMPARE_RAN', 'w').write('ran')"


def _two_devices(n_glass: int, n_resin: int) -> dict:
    """A registry of n_glass + n_resin HCC patients, one session each before 2026-09-30."""
    n = n_glass + n_resin
    ids = [f"P{i:02d}" for i in range(1, n + 1)]
    t = fake_tables()
    t["patients"] = pd.DataFrame({"patient_id": ids, "primary_tumour": ["HCC"] * n,
                                  "death_date": pd.to_datetime([None] * n)})
    t["treatments"] = pd.DataFrame({
        "patient_id": ids, "session_id": [f"S{i}" for i in range(n)],
        "injection_id": [f"I{i}" for i in range(n)],
        "treatment_date": pd.to_datetime(["2026-03-01"] * n),
        "device": ["Y90_glass"] * n_glass + ["Y90_resin"] * n_resin})
    return t


def _compare_notebooks(folder: Path) -> Path:
    make_notebook(folder / "01_tiny.ipynb", TABLE_CELL, title="Tiny cohort")
    make_notebook(folder / "07_comparative.ipynb", COMPARE_MARKER, title="07 · Comparative",
                  params=COMPARE_PARAMS)
    return folder


@pytest.mark.parametrize(("n_glass", "n_resin", "runs"), [(12, 10, True), (12, 9, False)])
def test_comparison_runs_only_with_ten_patients_at_each_level(tmp_path, monkeypatch, n_glass,
                                                              n_resin, runs):
    nb_dir = _compare_notebooks(tmp_path / "notebooks")
    install_fake_registry(monkeypatch, tables=_two_devices(n_glass, n_resin))
    result = run_report(validate_parameters({"period": "2026Q3"}),
                        output_root=tmp_path / "reports", notebooks_dir=nb_dir, echo=None)
    assert (tmp_path / "reports" / "COMPARE_RAN").exists() is runs
    index = (result.path / "index.html").read_text(encoding="utf-8")
    expected = ("07 · Comparative: not run, a comparison needs at least 10 patients at each "
                f"exposure level and the cohort has Y-90 resin {n_resin}, Y-90 glass {n_glass}")
    assert (expected in index) is not runs


def test_comparison_skipped_when_a_device_filter_leaves_one_level(tmp_path, monkeypatch):
    nb_dir = _compare_notebooks(tmp_path / "notebooks")
    install_fake_registry(monkeypatch, tables=_two_devices(12, 12))
    said = []
    result = run_report(validate_parameters({"period": "2026Q3", "devices": ["Y90_glass"]}),
                        output_root=tmp_path / "reports", notebooks_dir=nb_dir, echo=said.append)
    assert not (tmp_path / "reports" / "COMPARE_RAN").exists()
    assert "07_comparative not run: a comparison needs at least 10 patients at each exposure " \
           "level and the cohort has Y-90 resin 0, Y-90 glass 12" in said
    manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["report"]["skipped_notebooks"]["07_comparative"].endswith(
        "Y-90 resin 0, Y-90 glass 12")
    assert manifest["report"]["notebooks"] == ["01_tiny"]


def test_exposure_counts_reads_patients_columns_and_declines_derived_ones():
    t = _two_devices(2, 1)
    t["patients"]["sex"] = ["F", "M", "F"]
    ids = {"P01", "P02", "P03"}
    assert exposure_counts(t, ids, "sex", ["M", "F"]) == {"M": 1, "F": 2}
    assert exposure_counts(t, {"P01"}, "device", ["Y90_resin", "Y90_glass"]) == {
        "Y90_resin": 0, "Y90_glass": 1}
    assert exposure_counts(t, ids, "tumour_burden", ["low", "high"]) is None
    # the first session's device as the notebooks derive it: same day, first injection id
    same_day = pd.DataFrame({"patient_id": ["P01", "P01"], "session_id": ["S1", "S1"],
                             "injection_id": ["I2", "I1"], "device": ["Y90_glass", "Y90_resin"],
                             "treatment_date": pd.to_datetime(["2026-03-01"] * 2)})
    assert exposure_counts({**t, "treatments": same_day}, {"P01"}, "device",
                           ["Y90_resin", "Y90_glass"]) == {"Y90_resin": 1, "Y90_glass": 0}
