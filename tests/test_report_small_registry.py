"""End to end: the real notebooks on a small registry exported the French way.

A 120-patient registry (``sirtstats demo --patients 120 --seed 7``) rewritten as a French
hospital export would be (``;`` separator, decimal comma, dd/mm/yyyy dates, Latin-1) must load
unchanged and give a complete report, although its small categories (one ALBI grade 3 patient,
single-patient tumour types) make some models not estimable.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from sirtstats.demo import write_demo_registry
from sirtstats.report import run_report, validate_parameters


def _write_french_export(folder):
    for path in write_demo_registry(folder, n_patients=120, seed=7):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in df.columns:
            if col.endswith("_date"):
                df[col] = df[col].str.replace(r"^(\d{4})-(\d{2})-(\d{2})$", r"\3/\2/\1",
                                              regex=True)
            elif df[col].str.fullmatch(r"-?\d+\.\d+").any():
                df[col] = df[col].str.replace(".", ",", regex=False)
        df.to_csv(path, sep=";", index=False, encoding="latin-1")


@pytest.mark.notebooks
def test_report_on_a_small_french_locale_registry(tmp_path):
    data = tmp_path / "registry"
    _write_french_export(data)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()}
    params = validate_parameters({"period": "2026Q3", "data_path": str(data)})
    result = run_report(params, output_root=tmp_path / "reports", echo=None, jobs=2)
    metrics = json.loads((result.path / "metrics.json").read_text())
    assert metrics["01_cohort"]["n_registry"] == 120
    assert metrics["01_cohort"]["n_included"] + metrics["01_cohort"]["n_excluded"] == 120
    assert metrics["03_survival"]["km"]["OS"]["n"] == metrics["01_cohort"]["n_included"]
    assert sorted(p.name for p in (result.path / "notebooks").glob("*.html")) == [
        "01_cohort.html", "02_response.html", "03_survival.html", "04_toxicity.html",
        "05_dosimetry.html", "06_pet_response.html",  # 9 PET patients: 06 runs
        "07_comparative.html"]
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()} == before


@pytest.mark.notebooks
def test_report_on_a_single_diagnosis_subgroup_without_mrecist(tmp_path):
    """NET only: one primary tumour (single-level Cox covariate), no mRECIST lesion (empty
    dose-response and dose-group analyses), 14 patients: the report still publishes."""
    params = validate_parameters({"period": "2026Q3", "data_path": "demo",
                                  "diagnoses": ["NET"]})
    result = run_report(params, output_root=tmp_path / "reports", echo=None, jobs=2)
    metrics = json.loads((result.path / "metrics.json").read_text())
    assert metrics["01_cohort"]["n_by_diagnosis"] == {"NET": metrics["01_cohort"]["n_included"]}
    assert metrics["02_response"]["RECIST_1_1"]["n"] == metrics["01_cohort"]["n_included"]
