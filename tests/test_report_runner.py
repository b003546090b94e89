"""End-to-end tests of the report runner on tiny throwaway notebooks (real papermill + kernel).

The registry is a small hand-made one (tests/_report_helpers.fake_tables) so these tests do not
depend on the demo registry or the real notebooks (tests/test_notebooks.py covers those).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import (  # noqa: E402
    FIGURE_CELL,
    PARAMS_CELL,
    TABLE_CELL,
    fake_tables,
    install_fake_registry,
    make_notebook,
    make_tiny_notebooks,
)

from sirtstats.exceptions import SirtDataError
from sirtstats.report import InvalidParameterError, ReportError, run_report, validate_parameters
from sirtstats.report.cli_report import main as cli_main

HELPERS = Path(__file__).resolve().parent


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """reports/2026Q2 and reports/2026Q3 from two tiny notebooks on the fake registry."""
    base = tmp_path_factory.mktemp("report")
    nb_dir = make_tiny_notebooks(base / "notebooks")
    root = base / "reports"
    with pytest.MonkeyPatch.context() as mp:
        install_fake_registry(mp)
        lines = []
        run_report(validate_parameters({"period": "2026Q2"}), output_root=root,
                   notebooks_dir=nb_dir, echo=lines.append)
        result = run_report(validate_parameters({"period": "2026Q3", "diagnoses": ["HCC"]}),
                            output_root=root, notebooks_dir=nb_dir, echo=lines.append)
    return {"base": base, "nb_dir": nb_dir, "root": root, "result": result, "lines": lines}


def test_report_folder_layout(built):
    report = built["root"] / "2026Q3"
    files = set(_tree_hashes(report))
    assert files == {
        "index.html", "metrics.json", "manifest.json", "tables.xlsx",
        "notebooks/01_tiny.html", "notebooks/01_tiny.ipynb",
        "notebooks/02_plot.html", "notebooks/02_plot.ipynb",
        "tables/01_tiny.csv", "tables/02_plot.csv",
        "figures/02_plot_curve.png", "figures/02_plot_curve.svg", "figures/02_plot_curve.pdf",
    }
    # nothing but the two reports (and the lock files) is left in the output root
    assert sorted(p.name for p in built["root"].iterdir() if not p.name.endswith(".lock")) == \
        ["2026Q2", "2026Q3"]


def test_progress_lines_per_notebook_and_overall(built):
    lines = built["lines"]
    assert lines[0].startswith("sirtstats report 2026Q2: cut-off 2026-06-30")
    assert any(line.startswith("[1/2] ") and line.endswith(" s") for line in lines)
    assert any(line.startswith("[2/2] ") for line in lines)
    assert lines[-1].startswith("Report published: ")
    assert "2026Q3" in lines[-1]


def test_parameters_reach_notebooks_typed(built):
    metrics = json.loads((built["root"] / "2026Q3" / "metrics.json").read_text())
    # cutoff_date "2026-09-30" -> month 9 in the notebook; diagnoses arrived as a list
    assert metrics["01_tiny"] == {"cutoff": "2026-09-30", "diagnoses": ["HCC"],
                                  "mean_value": 2.25, "n_patients": 9}
    assert metrics["02_plot"]["n_patients"] == 9
    # registry activity up to the cut-off for the HCC cohort (P1, P2, P4; hand count)
    assert metrics["registry"] == {
        "n_patients_treated": 3, "n_sirt_sessions": 4, "n_imaging_assessments": 2,
        "n_reported_progressions": 1, "n_adverse_events": 2, "n_adverse_events_grade3plus": 1,
        "n_deaths": 1}


def test_notebook_html_has_no_code_and_is_self_contained(built):
    for name in ("01_tiny", "02_plot"):
        html = (built["root"] / "2026Q3" / "notebooks" / f"{name}.html").read_text()
        assert "save_metrics" not in html
        assert "cutoff_date: str" not in html
        assert "<script src=" not in html
        assert "mean_value" not in html  # only in code; the table shows patient_id/value
        assert "patient_id" in html
    plot = (built["root"] / "2026Q3" / "notebooks" / "02_plot.html").read_text()
    assert "data:image/png;base64," in plot


def test_executed_notebook_shows_published_folder_not_attempt(built):
    text = (built["root"] / "2026Q3" / "notebooks" / "01_tiny.ipynb").read_text()
    assert ".tmp-" not in text
    assert str(built["root"] / "2026Q3") in text
    nb = nbformat.reads(text, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


def test_manifest_contents(built):
    m = json.loads((built["root"] / "2026Q3" / "manifest.json").read_text())
    assert m["parameters"] == {"period": "2026Q3", "data_path": "demo",
                               "cutoff_date": "2026-09-30", "diagnoses": ["HCC"], "devices": None,
                               "criterion": None, "centres": None, "disclosure": "internal",
                               "small_cell_threshold": 5}
    # devices was not set: not injected, the notebooks keep their own default
    assert m["injected_parameters"]["01_tiny"] == {
        "data_path": "demo", "cutoff_date": "2026-09-30", "diagnoses": ["HCC"],
        "output_dir": str(built["root"] / "2026Q3")}
    assert m["notebook_parameters"]["01_tiny"]["devices"] == []
    assert m["report"]["notebooks"] == ["01_tiny", "02_plot"]
    assert m["report"]["partial"] is False
    assert m["packages"]["papermill"] == "2.7.0"
    assert m["sirtstats_version"]
    assert set(m["git"]) == {"commit", "dirty"}
    assert set(m["inputs"]["sha256"]) == {"demo/patients.csv", "demo/treatments.csv",
                                          "demo/adverse_events.csv",
                                          "demo/imaging_assessments.csv"}
    assert all(len(h) == 64 for h in m["inputs"]["sha256"].values())
    assert m["row_counts"]["inputs"]["treatments"] == 6
    assert m["row_counts"]["tables"] == {"01_tiny": 3, "02_plot": 3}
    assert set(m["timings_s"]) >= {"01_tiny", "02_plot", "total", "assemble"}
    assert m["notebook_parameters"]["01_tiny"]["output_dir"] == str(built["root"] / "2026Q3")
    outputs = m["outputs_sha256"]
    report = built["root"] / "2026Q3"
    assert outputs["metrics.json"] == hashlib.sha256(
        (report / "metrics.json").read_bytes()).hexdigest()
    assert "manifest.json" not in outputs


def test_index_shows_changes_since_previous_quarter(built):
    page = (built["root"] / "2026Q3" / "index.html").read_text()
    assert "Changes since 2026Q2" in page
    assert "cut-off 2026-06-30" in page
    # HCC cohort, after 2026-06-30: first SIRT of P4 only (P1's second session is not new)
    assert "<td>new patients treated (first SIRT)</td><td class=num>1</td>" in page
    assert "<td>new deaths</td><td class=num>1</td>" in page
    # n_patients went from 6 (June) to 9 (September) in both notebooks
    assert ("<tr><td>01 tiny · n patients</td><td class=num>6</td><td class=num>9</td>"
            "<td class='num up'>+3</td></tr>") in page
    assert "href='notebooks/01_tiny.html'" in page
    assert "href='tables.xlsx'" in page
    first = (built["root"] / "2026Q2" / "index.html").read_text()
    assert "No previous report" in first


@pytest.fixture
def good_report(tmp_path, monkeypatch):
    nb_dir = make_tiny_notebooks(tmp_path / "notebooks", figure=False)
    root = tmp_path / "reports"
    install_fake_registry(monkeypatch)
    run_report(validate_parameters({"period": "2026Q3"}), output_root=root, notebooks_dir=nb_dir,
               echo=None)
    return nb_dir, root, _tree_hashes(root / "2026Q3")


def test_failing_notebook_stops_names_cell_and_keeps_good_report(good_report, monkeypatch):
    nb_dir, root, before = good_report
    make_notebook(nb_dir / "03_raise.ipynb", "x = 1", "raise ValueError('boom in cell 5')",
                  "y = 2", title="Raising")
    with pytest.raises(ReportError, match=r"notebook 03_raise failed in cell 5 \(In \[5\]\): "
                                          r"ValueError: boom in cell 5") as info:
        run_report(validate_parameters({"period": "2026Q3"}), output_root=root,
                   notebooks_dir=nb_dir, echo=None)
    err = info.value
    assert (err.notebook, err.cell) == ("03_raise", 5)
    assert _tree_hashes(root / "2026Q3") == before
    failed = err.failed_dir
    assert failed.parent == root / "_failed"
    assert failed.name.startswith("2026Q3-")
    executed = nbformat.read(str(failed / "notebooks" / "03_raise.ipynb"), as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors
    assert errors[0].evalue == "boom in cell 5"
    assert "03_raise" in (failed / "error.txt").read_text()
    assert not [p for p in root.iterdir() if ".tmp-" in p.name]


def test_invalid_registry_stops_before_any_notebook(tmp_path, monkeypatch):
    nb_dir = tmp_path / "notebooks"
    make_notebook(nb_dir / "01_marker.ipynb",
                  "open(output_dir + '/../MARKER', 'w').write('ran')", title="Marker")
    problems = pd.DataFrame({"table": ["patients"], "column": ["sex"], "rule": ["enum"],
                             "severity": ["error"], "n_rows": [2]})
    install_fake_registry(monkeypatch, problems=problems)
    with pytest.raises(SirtDataError, match="1 problem") as info:
        run_report(validate_parameters({"period": "2026Q3"}), output_root=tmp_path / "reports",
                   notebooks_dir=nb_dir, echo=None)
    pd.testing.assert_frame_equal(info.value.rows, problems)
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
    assert not (tmp_path / "MARKER").exists()


def test_warnings_only_registry_does_not_stop(tmp_path, monkeypatch):
    nb_dir = make_tiny_notebooks(tmp_path / "notebooks", figure=False)
    warnings = pd.DataFrame({"table": ["patients"], "severity": ["warning"]})
    install_fake_registry(monkeypatch, problems=warnings)
    result = run_report(validate_parameters({"period": "2026Q3"}),
                        output_root=tmp_path / "reports", notebooks_dir=nb_dir, echo=None,
                        notebooks=["01"])
    assert result.path == tmp_path / "reports" / "_partial" / "2026Q3"
    assert (result.path / "notebooks" / "01_tiny.html").exists()
    assert not (result.path / "notebooks" / "02_plot.html").exists()


def test_notebook_without_common_parameters_is_refused(tmp_path, monkeypatch):
    install_fake_registry(monkeypatch)
    make_notebook(tmp_path / "nb" / "01_bad.ipynb", "x = 1", params='data_path: str = "demo"')
    with pytest.raises(ReportError, match=r"01_bad does not declare .*'cutoff_date', "
                                          r"'output_dir'"):
        run_report(validate_parameters({"period": "2026Q3"}), output_root=tmp_path / "r",
                   notebooks_dir=tmp_path / "nb", echo=None)


def test_parameter_comments_with_equals_are_still_declared(tmp_path, monkeypatch):
    """papermill's inspector skips lines with two '=' (e.g. '# "" = nothing written')."""
    install_fake_registry(monkeypatch)
    params = PARAMS_CELL.replace("# report folder", '# "" = nothing written; report folder')
    make_notebook(tmp_path / "nb" / "01_eq.ipynb",
                  "from sirtstats.outputs import save_metrics\n"
                  "save_metrics({'dir_set': bool(output_dir)}, notebook='01_eq', "
                  "output_dir=output_dir)", params=params)
    result = run_report(validate_parameters({"period": "2026Q3"}), output_root=tmp_path / "r",
                        notebooks_dir=tmp_path / "nb", echo=None)
    assert result.metrics["01_eq"] == {"dir_set": True}


def test_unknown_notebook_selection_and_missing_kernel(tmp_path, monkeypatch):
    install_fake_registry(monkeypatch)
    nb_dir = make_tiny_notebooks(tmp_path / "nb", figure=False)
    with pytest.raises(InvalidParameterError, match=r"'notebooks' option .* Got \['07'\] "
                                                    r"instead"):
        run_report(validate_parameters({"period": "2026Q3"}), output_root=tmp_path / "r",
                   notebooks_dir=nb_dir, notebooks=["07"], echo=None)
    with pytest.raises(ReportError, match=r"kernel 'no-such-kernel' not found.*"
                                          r"`sirtstats kernel install`"):
        run_report(validate_parameters({"period": "2026Q3"}), output_root=tmp_path / "r",
                   notebooks_dir=nb_dir, kernel_name="no-such-kernel", echo=None)


def test_cli_exit_codes_and_quiet(tmp_path, monkeypatch, capsys):
    install_fake_registry(monkeypatch)
    nb_dir = make_tiny_notebooks(tmp_path / "nb", figure=False)
    common = ["--output-root", str(tmp_path / "r"), "--notebooks-dir", str(nb_dir)]
    assert cli_main(["--period", "2026Q5", *common]) == 2
    assert "'period'" in capsys.readouterr().err
    assert cli_main(["--period", "2026Q3", "--device", "Y90", *common]) == 2
    assert "Got 'Y90' instead" in capsys.readouterr().err
    assert cli_main(["--period", "2026Q3", "--notebooks", "01", "--quiet", *common]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""
    assert (tmp_path / "r" / "_partial" / "2026Q3" / "index.html").exists()
    problems = pd.DataFrame({"table": ["labs"], "column": ["value"], "severity": ["error"]})
    install_fake_registry(monkeypatch, problems=problems)
    assert cli_main(["--period", "2026Q2", "--quiet", *common]) == 1
    err = capsys.readouterr().err
    assert "problem(s) must be fixed" in err
    assert "labs" in err


KILL_SCRIPT = """
import sys
sys.path.insert(0, {helpers!r})
import pytest
from _report_helpers import install_fake_registry
mp = pytest.MonkeyPatch()
install_fake_registry(mp)
from sirtstats.report.cli_report import main
sys.exit(main(["--period", "2026Q3", "--output-root", {root!r}, "--notebooks-dir", {nb!r},
               "--quiet"]))
"""


@pytest.mark.slow
def test_killed_run_leaves_published_report_intact(good_report, tmp_path):
    nb_dir, root, before = good_report
    marker = tmp_path / "started"
    make_notebook(nb_dir / "03_sleep.ipynb",
                  f"import time\nopen({str(marker)!r}, 'w').write('x')\ntime.sleep(60)")
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT.format(helpers=str(HELPERS), root=str(root), nb=str(nb_dir)))
    proc = subprocess.Popen([sys.executable, str(script)], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 45
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "notebook did not start"
            time.sleep(0.2)
        attempts = [p for p in root.iterdir() if p.name.startswith(".2026Q3.tmp-")]
        assert len(attempts) == 1
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert _tree_hashes(root / "2026Q3") == before
    assert attempts[0].exists()  # a SIGKILLed run cannot clean up ...
    from sirtstats.report.publish import clean_stale_attempts

    assert clean_stale_attempts(root, "2026Q3") == attempts  # ... the next run does
    assert _tree_hashes(root / "2026Q3") == before


@pytest.mark.slow
def test_sigterm_cleans_attempt_and_exits_nonzero(good_report, tmp_path):
    nb_dir, root, before = good_report
    marker = tmp_path / "started"
    make_notebook(nb_dir / "03_sleep.ipynb",
                  f"import time\nopen({str(marker)!r}, 'w').write('x')\ntime.sleep(60)")
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT.format(helpers=str(HELPERS), root=str(root), nb=str(nb_dir)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 45
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert _tree_hashes(root / "2026Q3") == before
    assert not [p for p in root.iterdir() if ".tmp-" in p.name]




def test_export_failure_keeps_attempt_and_good_report(good_report, monkeypatch):
    nb_dir, root, before = good_report
    import sirtstats.report.export as export

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "write_tables_workbook", broken)
    with pytest.raises(ReportError, match="assembling the 2026Q3 report failed: RuntimeError: "
                                          "disk full") as info:
        run_report(validate_parameters({"period": "2026Q3"}), output_root=root,
                   notebooks_dir=nb_dir, echo=None)
    assert (info.value.failed_dir / "notebooks" / "01_tiny.ipynb").exists()
    assert _tree_hashes(root / "2026Q3") == before
    assert not [p for p in root.iterdir() if ".tmp-" in p.name]


# --- what a notebook receives: its own defaults, and only what the user set ----------------------

OWN_PARAMS = (PARAMS_CELL.replace('diagnoses: list = []', 'diagnoses: list = ["HCC"]')
              + '\nwindow_days: int = 90             # days after the last session'
              + '\nstrata: str = "albi_grade"        # grouping column')
OWN_CELL = '''from sirtstats.outputs import save_metrics
save_metrics({"diagnoses": diagnoses, "window_days": window_days,
              "window_type": type(window_days).__name__, "strata": strata},
             notebook=NAME, output_dir=output_dir)'''


def test_notebook_keeps_its_own_defaults_and_gets_what_cli_and_config_set(tmp_path, monkeypatch,
                                                                          capsys):
    """Issue 11 items 4-5: no --diagnosis, so 02_own keeps its ["HCC"] (as 05 keeps HCC);
    -p on the command line wins over --config; a -p value arrives typed (int 30, not "30")."""
    install_fake_registry(monkeypatch)
    nb_dir = tmp_path / "nb"
    make_notebook(nb_dir / "01_tiny.ipynb", TABLE_CELL)
    make_notebook(nb_dir / "02_own.ipynb", OWN_CELL, params=OWN_PARAMS)
    cfg = tmp_path / "cfg" / "report.yaml"
    cfg.parent.mkdir()
    cfg.write_text("period: 2026Q3\noutput_root: out   # relative to this file\n"
                   "notebooks_dir: ../nb\nquiet: true\n"
                   "parameters:\n  strata: ecog\n  '02':\n    window_days: 45\n")
    assert cli_main(["--config", str(cfg), "-p", "02:window_days=30"]) == 0
    assert capsys.readouterr().out == ""
    report = tmp_path / "cfg" / "out" / "2026Q3"
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["02_own"] == {"diagnoses": ["HCC"], "window_days": 30, "window_type": "int",
                                 "strata": "ecog"}
    assert metrics["01_tiny"]["diagnoses"] == []
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["injected_parameters"]["02_own"] == {
        "data_path": "demo", "cutoff_date": "2026-09-30", "output_dir": str(report),
        "window_days": 30, "strata": "ecog"}
    assert manifest["notebook_parameters"]["02_own"]["diagnoses"] == ["HCC"]
    assert manifest["parameters"]["diagnoses"] is None


@pytest.fixture
def marker_dir(tmp_path, monkeypatch):
    """A notebook folder whose only notebook leaves a MARKER file when it runs."""
    install_fake_registry(monkeypatch)
    nb_dir = tmp_path / "nb"
    make_notebook(nb_dir / "01_marker.ipynb",
                  f"open({str(tmp_path / 'MARKER')!r}, 'w').write('ran')", params=OWN_PARAMS)
    return nb_dir


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "strat=x"], r"Unknown parameter 'strat' \(-p strat=x\): no report notebook declares"
                        r" it.*\n.*01_marker: diagnoses, devices, window_days, strata"),
    (["-p", "01:strat=x"], r"Unknown parameter 'strat' for notebook 01_marker"),
    (["-p", "window_days=30days"], r"'window_days' parameter of notebook 01_marker must be an "
                                   r"int .*Got '30days' instead.*\n.*\n.*diagnoses: list of str"),
    (["-p", "07:strata=x"], r"Unknown notebook '07'"),
    (["-p", "output_dir=/tmp/x"], r"set by the runner .* use --output-root"),
    (["-p", "strata"], r"takes NAME=VALUE"),
    (["--diagnosis", "HCC", "-p", "diagnoses=mCRC"], r"'diagnoses' .* given twice"),
    (["--notebooks", "07"], r"'notebooks' option .* Got \['07'\] instead"),
    (["--timeout", "-5"], r"'timeout' option .* > 0 .* Got -5.0 instead"),
    (["--timeout", "0"], r"'timeout' option"),
    (["--jobs", "0"], r"'jobs' option .* >= 1"),
    (["--config", "/no/such/report.yaml"], r"cannot read the config file"),
])
def test_invalid_options_exit_2_before_any_notebook(marker_dir, tmp_path, capsys, args,
                                                    message):
    assert cli_main(["--period", "2026Q3", "--output-root", str(tmp_path / "r"),
                     "--notebooks-dir", str(marker_dir), *args]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err, re.DOTALL), err
    assert "Traceback" not in err
    assert not (tmp_path / "MARKER").exists()
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("text", "message"), [
    ("period: 2026Q3\nwindow_days: 30\n", r"Unknown key\(s\) \['window_days'\] in the config "
                                          r"file .*'parameters'"),
    ("period: [2026Q3\n", r"not valid YAML \(line 2\)"),
    ("parameters:\n  window_days: thirty\n", r"'window_days' parameter of notebook 01_marker "
                                            r"must be an int .*Got 'thirty' instead \(config "),
    ("- 2026Q3\n", r"must be a mapping of options"),
])
def test_invalid_config_exits_2(marker_dir, tmp_path, capsys, text, message):
    cfg = tmp_path / "report.yaml"
    cfg.write_text(text)
    assert cli_main(["--config", str(cfg), "--output-root", str(tmp_path / "r"),
                     "--notebooks-dir", str(marker_dir)]) == 2
    assert re.search(message, capsys.readouterr().err, re.DOTALL)
    assert not (tmp_path / "MARKER").exists()


def test_list_parameters_prints_types_defaults_and_help(marker_dir, capsys):
    assert cli_main(["--list-parameters", "--notebooks-dir", str(marker_dir)]) == 0
    out = capsys.readouterr().out
    assert "  01_marker\n    diagnoses: list of str = [\"HCC\"]  # cohort filter" in out
    assert "    window_days: int = 90  # days after the last session" in out
    assert "data_path (--data)" in out


def test_filters_selecting_no_patient_exit_1_before_any_notebook(marker_dir, tmp_path, capsys):
    """Issue 13 item 7: legal filters (mCRC: P3, whose first SIRT is Y90_glass) selecting no
    patient stop before any notebook with the counts at each step."""
    common = ["--period", "2026Q3", "--output-root", str(tmp_path / "r"), "--notebooks-dir",
              str(marker_dir)]
    assert cli_main([*common, "--diagnosis", "mCRC", "--device", "Y90_resin"]) == 1
    err = capsys.readouterr().err
    assert ("error: no patient matches primary tumour in ['mCRC'] and first-SIRT device in "
            "['Y90_resin'] (notebook(s) 01_marker): 4 patient(s) treated with SIRT by the "
            "cut-off, 1 with primary tumour in ['mCRC'], 0 of them with a first SIRT with one "
            "of the devices.") in err
    assert "no notebook was run" in err
    # the notebook's own default (HCC) with a device nobody had first: stopped too
    assert cli_main([*common, "--device", "Ho166_PLLA"]) == 1
    assert "primary tumour in ['HCC'] and first-SIRT device in ['Ho166_PLLA']" in \
        capsys.readouterr().err
    # before the first treatment: nobody treated by the cut-off
    assert cli_main([*common[:1], "2025Q4", *common[2:]]) == 1
    assert "0 patient(s) treated with SIRT by the cut-off" in capsys.readouterr().err
    assert not (tmp_path / "MARKER").exists()


def test_partial_run_never_replaces_the_full_report_unless_replace(good_report, monkeypatch):
    """Issue 13 item 7: --notebooks 01 goes to _partial/<period>/; --replace publishes it."""
    nb_dir, root, before = good_report
    lines = []
    result = run_report(validate_parameters({"period": "2026Q3"}), output_root=root,
                        notebooks_dir=nb_dir, notebooks=["01"], echo=lines.append)
    assert _tree_hashes(root / "2026Q3") == before
    assert result.partial
    assert result.path == root / "_partial" / "2026Q3"
    assert sorted(p.name for p in (result.path / "notebooks").iterdir()) == \
        ["01_tiny.html", "01_tiny.ipynb"]
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert (manifest["report"]["partial"], manifest["report"]["notebooks"]) == (True, ["01_tiny"])
    assert manifest["injected_parameters"]["01_tiny"]["output_dir"] == str(result.path)
    assert lines[-1].startswith("Partial report (01_tiny) published: ")
    assert "was not changed (--replace" in lines[-1]
    replaced = run_report(validate_parameters({"period": "2026Q3"}), output_root=root,
                          notebooks_dir=nb_dir, notebooks=["01"], replace=True, echo=None)
    assert replaced.path == root / "2026Q3"
    assert sorted(p.name for p in (root / "2026Q3" / "notebooks").iterdir()) == \
        ["01_tiny.html", "01_tiny.ipynb"]
    assert not [p for p in root.rglob("*") if ".tmp-" in p.name or ".old-" in p.name]


# --- byte-identical reruns (issue 13 item 8) ----------------------------------------------------

WARN_CELL = '''import warnings
warnings.warn("fewer than 10 patients in a group", UserWarning)'''
# a PDF written without save_figure (which drops the dates): its date is SOURCE_DATE_EPOCH
PDF_CELL = '''fig.savefig(output_dir + "/figures/" + NAME + "_raw.pdf")'''


def _manifest_without_clock(data: bytes) -> dict:
    manifest = json.loads(data)
    manifest["report"].pop("generated_at")
    manifest.pop("timings_s")
    return manifest


def test_two_runs_are_byte_identical_but_the_manifest_timestamps(tmp_path, monkeypatch):
    install_fake_registry(monkeypatch)
    nb_dir = tmp_path / "nb"
    make_notebook(nb_dir / "01_tiny.ipynb", TABLE_CELL)
    make_notebook(nb_dir / "02_warn.ipynb", WARN_CELL, FIGURE_CELL, PDF_CELL)
    root = tmp_path / "reports"
    runs = []
    for _ in range(2):
        result = run_report(validate_parameters({"period": "2026Q3"}), output_root=root,
                            notebooks_dir=nb_dir, echo=None)
        runs.append({p.relative_to(result.path).as_posix(): p.read_bytes()
                     for p in sorted(result.path.rglob("*")) if p.is_file()})
    first, second = runs
    assert set(first) == set(second)
    assert {"notebooks/02_warn.ipynb", "notebooks/02_warn.html", "figures/02_warn_curve.pdf",
            "figures/02_warn_curve.png", "figures/02_warn_curve.svg",
            "figures/02_warn_raw.pdf"} <= set(first)
    differ = [name for name in first if name != "manifest.json" and first[name] != second[name]]
    assert differ == []
    assert _manifest_without_clock(first["manifest.json"]) == \
        _manifest_without_clock(second["manifest.json"])
    executed = first["notebooks/02_warn.ipynb"].decode()
    assert "UserWarning: fewer than 10 patients in a group" in executed
    assert "ipykernel_" not in executed            # /tmp/ipykernel_<pid>/ -> /tmp/ipykernel/
    nb = nbformat.reads(executed, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert [c.id for c in injected] == ["injected-parameters"]
    assert all("execution" not in c.metadata for c in nb.cells)
    assert not {"start_time", "end_time", "duration"} & set(nb.metadata["papermill"])
    assert b"D:20260930000000" in first["figures/02_warn_raw.pdf"]   # SOURCE_DATE_EPOCH



def test_centre_filter_selecting_no_patient_exits_1_before_any_notebook(tmp_path, monkeypatch,
                                                                         capsys):
    """Issue 16 item 8 with issue 13 item 7: --centre naming no centre of the registry stops
    before any notebook, with the counts at each step (fake registry: P1-P4 treated; P1, P2 at
    C01, P3, P4 at C02)."""
    tables = fake_tables()
    tables["patients"] = tables["patients"].assign(centre_id=["C01", "C01", "C02", "C02", "C02"])
    install_fake_registry(monkeypatch, tables=tables)
    nb_dir = tmp_path / "nb"
    make_notebook(nb_dir / "01_marker.ipynb",
                  f"open({str(tmp_path / 'MARKER')!r}, 'w').write('ran')",
                  params=PARAMS_CELL + '\ncentres: list = []                # centre filter')
    common = ["--period", "2026Q3", "--output-root", str(tmp_path / "r"), "--notebooks-dir",
              str(nb_dir)]
    assert cli_main([*common, "--diagnosis", "mCRC", "--centre", "C01"]) == 1
    err = capsys.readouterr().err
    assert ("no patient matches primary tumour in ['mCRC'] and centre in ['C01'] (notebook(s) "
            "01_marker): 4 patient(s) treated with SIRT by the cut-off, 1 with primary tumour in "
            "['mCRC'], 0 of them in centre(s) ['C01'].") in err
    assert "--centre" in err
    assert not (tmp_path / "MARKER").exists()
    assert cli_main([*common, "--centre", "C02"]) == 0
    assert (tmp_path / "MARKER").exists()


def test_shareable_report_is_published_beside_the_internal_one(good_report):
    """D40: the shareable report goes to shareable/<period>/ and leaves the internal one as it
    was (the scheduled internal job and a researcher's shareable run share the output root)."""
    nb_dir, root, before = good_report
    result = run_report(validate_parameters({"period": "2026Q3", "disclosure": "shareable"}),
                        output_root=root, notebooks_dir=nb_dir, echo=None)
    assert result.path == root / "shareable" / "2026Q3"
    assert (result.path / "index.html").is_file()
    assert json.loads((result.path / "manifest.json").read_text())["report"]["disclosure"] == \
        "shareable"
    assert _tree_hashes(root / "2026Q3") == before
