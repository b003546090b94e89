"""The ``sirtstats`` command line: validate and demo subcommands, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _registry_fixture import hash_folder, set_cell, valid_tables, write_registry  # noqa: E402

from sirtstats.cli import build_parser, main  # noqa: E402


def test_validate_clean_registry_exits_0(tmp_path, capsys):
    folder = write_registry(tmp_path / "r", valid_tables(), sep=";", french=True,
                            encoding="latin-1")
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"Registry {folder}: valid - 0 error(s), 0 warning(s)"


def test_validate_with_warnings_only_exits_0_and_lists_them(tmp_path, capsys):
    tables = valid_tables()
    set_cell(tables, "workups", 2, "lsf_pct", "25")
    folder = write_registry(tmp_path / "r", tables)
    assert main(["validate", str(folder), "--cutoff", "2023-05-01"]) == 0
    out = capsys.readouterr().out
    assert "valid - 0 error(s), 9 warning(s)" in out
    assert "suspicious value: above 20 %" in out
    assert "after the data cut-off (2023-05-01): ignored" in out


def test_validate_summary_groups_by_severity_table_rule(tmp_path, capsys):
    tables = valid_tables()
    set_cell(tables, "patients", 2, "sex", "x")
    set_cell(tables, "patients", 3, "sex", "y")
    folder = write_registry(tmp_path / "r", tables)
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    summary = out.split("Summary:")[1].split("\n\n")[0].strip().splitlines()
    assert len(summary) == 1
    assert summary[0].split()[:4] == ["error", "patients", "2", "x"]


def test_validate_max_rows_truncates_print_not_csv(tmp_path, capsys):
    tables = valid_tables()
    for row in (2, 3, 4):
        set_cell(tables, "patients", row, "centre_id", "")
    folder = write_registry(tmp_path / "r", tables)
    out_csv = tmp_path / "p.csv"
    assert main(["validate", str(folder), "--max-rows", "1", "-o", str(out_csv)]) == 1
    out = capsys.readouterr().out
    assert "... 2 more (use --output to write them all)" in out
    assert len(pd.read_csv(out_csv)) == 3


def test_bad_cutoff_argument_exits_2(tmp_path, capsys):
    folder = write_registry(tmp_path / "r", valid_tables())
    assert main(["validate", str(folder), "--cutoff", "next week"]) == 2
    assert "The 'cutoff_date' argument" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "validate" in capsys.readouterr().out


def test_help_and_version_exit_0(capsys):
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "sirtstats 0.1.0" in capsys.readouterr().out


def test_unknown_command_exits_2(capsys):
    assert main(["frobnicate"]) == 2


def test_every_subcommand_is_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert {"validate", "demo", "report"} <= set(sub.choices)


def test_console_entry_point_reports_bad_data_without_traceback(tmp_path):
    tables = valid_tables()
    set_cell(tables, "treatments", 2, "treatment_date", "31/02/2023")
    folder = write_registry(tmp_path / "r", tables)
    before = hash_folder(folder)
    proc = subprocess.run([sys.executable, "-m", "sirtstats.cli", "validate", str(folder)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "treatments.csv" in proc.stdout
    assert "bad date" in proc.stdout
    assert hash_folder(folder) == before


def test_demo_writes_a_registry_that_validates(tmp_path, capsys):
    demo = pytest.importorskip("sirtstats.demo")
    if not hasattr(demo, "write_demo_registry"):
        pytest.skip("sirtstats.demo not written yet")
    out = tmp_path / "demo"
    assert main(["demo", str(out), "--patients", "20", "--seed", "3"]) == 0
    assert (out / "patients.csv").exists()
    capsys.readouterr()
    assert main(["validate", str(out)]) == 0, capsys.readouterr().out


def test_demo_rejects_nonpositive_size(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "d"), "--patients", "0"]) == 2
    assert "--patients must be at least 1" in capsys.readouterr().err


# --- sirtstats report: options checked before anything runs ------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("args", "message"), [
    (["--timeout", "-5"], "The 'timeout' option of sirtstats report must be a number of "
                          "seconds > 0"),
    (["--notebooks", "09"], "The 'notebooks' option of sirtstats report must name notebooks"),
    (["-p", "no_such_parameter=1"], "Unknown parameter 'no_such_parameter'"),
    (["-p", "04:window_days=thirty"], "The 'window_days' parameter of notebook 04_toxicity "
                                      "must be an int"),
])
def test_report_refuses_bad_options_with_exit_2_and_no_traceback(tmp_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "sirtstats.cli", "report", "--period",
                           "2026Q3", "--output-root", str(tmp_path / "r"), *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


def _doc_block(path: Path, lang: str, contains: str) -> str:
    import re

    blocks = re.findall(rf"```{lang}\n(.*?)```", path.read_text(), flags=re.DOTALL)
    return next(b for b in blocks if contains in b)


def test_documented_config_and_p_examples_are_valid_for_the_real_notebooks(tmp_path):
    """docs/scheduling.md's report.yaml and -p example type against notebooks/ as they are."""
    import shlex

    from sirtstats.report.cli_report import load_report_config
    from sirtstats.report.params import (
        overrides_from_mapping,
        parse_assignment,
        resolve_notebook_parameters,
    )
    from sirtstats.report.runner import read_notebook_parameters

    doc = ROOT / "docs" / "scheduling.md"
    cfg = tmp_path / "report.yaml"
    cfg.write_text(_doc_block(doc, "yaml", "parameters:"))
    config = load_report_config(cfg)
    assert config["output_root"] == "/srv/reports"
    declared = read_notebook_parameters(ROOT / "notebooks")
    got = resolve_notebook_parameters(declared, overrides_from_mapping(config["parameters"]))
    assert got["03_survival"] == {"strata": "primary_tumour", "landmark_months": [3, 6, 12]}
    assert got["04_toxicity"] == {"window_days": 90}
    assert got["05_dosimetry"] == {"n_bootstrap": 1000}
    command = _doc_block(doc, "bash", "-p 03:strata").replace("\\\n", " ")
    words = shlex.split(command)
    texts = [words[i + 1] for i, w in enumerate(words) if w == "-p"]
    got = resolve_notebook_parameters(declared, [parse_assignment(t) for t in texts])
    assert got["03_survival"]["landmark_months"] == [3, 6, 12]
    assert got["05_dosimetry"] == {"diagnoses": ["HCC", "ICC"]}
