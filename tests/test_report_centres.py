"""The ``centres`` report parameter and ``--centre`` option (issue #16 item 8)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from sirtstats.report import InvalidParameterError, validate_parameters
from sirtstats.report.cli_report import _add_report_parser, _settings
from sirtstats.report.params import parse_assignment, report_level_overrides

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_centres_validated_and_injected_only_when_set():
    p = validate_parameters({"period": "2026Q3", "centres": "C01, C03"})
    assert p.centres == ("C01", "C03")
    assert p.for_notebook({"centres", "data_path"}, output_dir="x")["centres"] == ["C01", "C03"]
    assert "centres" not in validate_parameters({"period": "2026Q3"}).for_notebook(
        {"centres"}, output_dir="x")
    assert p.to_dict()["centres"] == ["C01", "C03"]
    with pytest.raises(InvalidParameterError):
        validate_parameters({"period": "2026Q3", "centres": 3})


def test_dash_p_centres_is_a_report_level_parameter():
    report, rest = report_level_overrides([parse_assignment("centres=C02")])
    assert report == {"centres": ["C02"]}
    assert rest == []


def _args(argv):
    parser = argparse.ArgumentParser()
    _add_report_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["report", *argv])


def test_cli_centre_option_reaches_the_parameters():
    settings = _settings(_args(["--period", "2026Q3", "--centre", "C01", "C02"]))
    assert settings["raw"]["centres"] == ["C01", "C02"]
    with pytest.raises(InvalidParameterError):
        _settings(_args(["--centre", "C01", "-p", "centres=C02"]))


@pytest.mark.parametrize("stem", ["01_cohort", "02_response", "03_survival", "04_toxicity",
                                  "05_dosimetry", "06_pet_response", "07_comparative"])
def test_notebooks_declare_centres_and_pass_it_to_the_cohort(stem):
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert any(line.startswith("centres: list = []") for line in params["source"])
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "centres=centres" in code
