"""sirtstats installed from a wheel works outside the checkout (issue #14, item 3).

- The schema YAMLs and the report notebooks ship inside the wheel (``sirtstats/data_schema/``,
  ``sirtstats/notebooks/``) and are found there; in a checkout they are the top-level folders.
- ``pyproject.toml`` lists every package under ``sirtstats/`` (the list is explicit).
- ``sirtstats kernel install`` writes a kernel spec running the current interpreter: by default
  into the environment for pip (venv) and conda users alike, else into the user's folder.
- End to end: build the wheel, install it into a fresh venv outside the checkout (dependencies
  from the running environment, no network), run ``demo``, ``validate``, ``kernel install`` and
  a one-notebook ``report`` there with the working directory outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from sirtstats._resources import resource_dir
from sirtstats.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_resources_are_the_top_level_folders():
    assert resource_dir("data_schema") == ROOT / "data_schema"
    assert resource_dir("notebooks") == ROOT / "notebooks"
    with pytest.raises(ValueError, match="must be one of"):
        resource_dir("tests")


def test_pyproject_lists_every_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(config["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "sirtstats").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    mapped = config["setuptools"]["package-dir"]
    assert mapped == {"sirtstats.data_schema": "data_schema", "sirtstats.notebooks": "notebooks"}


def test_kernel_install_prefix(tmp_path, capsys):
    assert main(["kernel", "install", "--prefix", str(tmp_path)]) == 0
    spec = json.loads((tmp_path / "share/jupyter/kernels/sirtstats/kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    assert spec["display_name"] == "Python (sirtstats)"
    assert "Installed Jupyter kernel 'sirtstats'" in capsys.readouterr().out


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    # Build from a copy of the tracked files (no build/ or egg-info left in the checkout). The
    # build is isolated (setuptools from the configured index/wheelhouse): the project needs
    # setuptools>=77, which the running environment may not have.
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            (src / rel).write_bytes((ROOT / rel).read_bytes())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", ".", "-w", str(tmp_path)],
         cwd=src, env=env)
    wheel = next(tmp_path.glob("sirtstats-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sirtstats/data_schema/patients.yaml" in names
    assert "sirtstats/notebooks/01_cohort.ipynb" in names

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env=env).stdout.strip())
    # Dependencies come from the running environment (appended after the venv's own
    # site-packages, whose copy of sirtstats therefore wins; that environment's .pth files,
    # e.g. an editable sirtstats, are not processed).
    shared = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_shared_env.pth").write_text("\n".join(sorted(shared)) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q",
          str(wheel)], env=env)

    work = tmp_path / "work"
    work.mkdir()
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "jupyter-data")  # no user kernel 'sirtstats'
    # nbconvert's templates are data files of the running environment, not on the .pth path:
    # expose them (only them: its kernels, e.g. 'sirtstats', must not shadow the venv's).
    templates = Path(sys.prefix) / "share" / "jupyter" / "nbconvert"
    if templates.is_dir():
        shutil.copytree(templates, tmp_path / "jupyter-path" / "nbconvert")
        env["JUPYTER_PATH"] = str(tmp_path / "jupyter-path")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    tool = str(venv / "bin" / "sirtstats")
    where = _run([str(py), "-c", "import sirtstats, sirtstats.schema as s; "
                  "print(sirtstats.__file__); print(s.SCHEMA_DIR)"], cwd=work, env=env).stdout
    assert str(ROOT) not in where, where
    assert str(venv) in where, where
    _run([tool, "demo", "reg", "--patients", "40"], cwd=work, env=env)
    assert _run([tool, "validate", "reg"], cwd=work, env=env).stdout.startswith("Registry reg:")
    _run([tool, "kernel", "install", "--sys-prefix"], cwd=work, env=env)
    assert (venv / "share/jupyter/kernels/sirtstats/kernel.json").is_file()
    _run([tool, "report", "--data", "reg", "--period", "2026Q3", "--notebooks", "01",
          "--quiet"], cwd=work, env=env)
    # A one-notebook run is published as a partial report (reports/_partial/<period>/).
    published = [p.parent for p in (work / "reports").rglob("index.html") if "_failed" not in
                 p.parts]
    assert len(published) == 1, published
    assert (published[0] / "notebooks" / "01_cohort.html").is_file()


# -- where `sirtstats kernel install` puts the kernel by default (pip venv, conda, neither) ----

def _fake_prefix(monkeypatch, tmp_path, *, venv: bool, conda: bool, conda_env_var: bool = False):
    import sirtstats.cli_kernel as ck

    prefix = tmp_path / "env"
    prefix.mkdir()
    if conda:
        (prefix / "conda-meta").mkdir()
    monkeypatch.setattr(ck.sys, "prefix", str(prefix))
    monkeypatch.setattr(ck.sys, "base_prefix", str(tmp_path / "base") if venv else str(prefix))
    if conda_env_var:
        monkeypatch.setenv("CONDA_PREFIX", str(prefix))
    else:
        monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "user-data"))
    return prefix


@pytest.mark.parametrize(("venv", "conda", "conda_env_var"), [
    (True, False, False),   # pip user in a venv
    (False, True, False),   # conda env (base or named: sys.prefix == sys.base_prefix)
    (False, False, True),   # conda env seen only through CONDA_PREFIX
])
def test_kernel_install_defaults_to_the_environment(monkeypatch, tmp_path, venv, conda,
                                                    conda_env_var):
    from sirtstats.cli_kernel import install_kernel

    prefix = _fake_prefix(monkeypatch, tmp_path, venv=venv, conda=conda,
                          conda_env_var=conda_env_var)
    path = install_kernel()
    assert path == prefix / "share" / "jupyter" / "kernels" / "sirtstats"
    spec = json.loads((path / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    assert not (tmp_path / "user-data").exists()


def test_kernel_install_defaults_to_the_user_outside_any_environment(monkeypatch, tmp_path):
    from sirtstats.cli_kernel import install_kernel

    _fake_prefix(monkeypatch, tmp_path, venv=False, conda=False)
    path = install_kernel()
    assert path == tmp_path / "user-data" / "kernels" / "sirtstats"
    assert (path / "kernel.json").is_file()


def test_kernel_install_user_flag_overrides_the_environment(monkeypatch, tmp_path, capsys):
    prefix = _fake_prefix(monkeypatch, tmp_path, venv=False, conda=True)
    assert main(["kernel", "install", "--user"]) == 0
    assert (tmp_path / "user-data" / "kernels" / "sirtstats" / "kernel.json").is_file()
    assert not (prefix / "share").exists()
    assert main(["kernel", "install", "--sys-prefix"]) == 0
    assert (prefix / "share" / "jupyter" / "kernels" / "sirtstats" / "kernel.json").is_file()
    capsys.readouterr()
