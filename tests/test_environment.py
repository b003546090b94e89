"""The environment is pinned consistently, and ``import sirtstats`` stays light.

- Every direct dependency pinned in pyproject.toml (``name==version``, runtime and ``dev``) is
  pinned to the same version in environment.yml (conda ``name=version`` or its pip section) and
  in requirements.lock, and environment.yml pins nothing pyproject.toml does not.
- The installed distributions have those versions.
- ``import sirtstats`` and the registry loading path (validate a folder) import none of
  lifelines, scikit-learn, seaborn, matplotlib (they load only where used).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("lifelines", "sklearn", "seaborn", "matplotlib")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split_pin(spec: str, sep: str) -> tuple[str, str]:
    name, _, version = spec.partition(sep)
    return _norm(name.strip()), version.strip()


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    pins = {}
    for spec in specs:
        assert "==" in spec, f"pyproject.toml dependency not pinned exactly: {spec}"
        name, version = _split_pin(spec, "==")
        pins[name] = version
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep.get("pip", []):
                if "==" in spec:
                    name, version = _split_pin(spec, "==")
                    pins[name] = version
        elif "=" in dep:
            name, version = _split_pin(dep, "=")
            if name not in ("python",):
                pins[name] = version
    return pins


def test_pyproject_and_environment_yml_pin_the_same_versions():
    py, env = _pyproject_pins(), _environment_pins()
    assert py, "no dependencies found in pyproject.toml"
    mismatched = {n: (v, env.get(n)) for n, v in py.items() if env.get(n) != v}
    assert not mismatched, f"pyproject vs environment.yml (name: (pyproject, env)): {mismatched}"
    extra = sorted(set(env) - set(py))
    assert not extra, f"environment.yml pins packages pyproject.toml does not: {extra}"


def test_requirements_lock_agrees_with_pyproject():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = _split_pin(line.split(";")[0], "==")
            lock[name] = version
    mismatched = {n: (v, lock.get(n)) for n, v in _pyproject_pins().items()
                  if n in lock and lock[n] != v}
    assert not mismatched, f"pyproject vs requirements.lock: {mismatched}"
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    missing = [s for s in runtime if _split_pin(s, "==")[0] not in lock]
    assert not missing, f"runtime dependencies missing from requirements.lock: {missing}"


def _runtime_names() -> set[str]:
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {_split_pin(spec, "==")[0] for spec in runtime}


def test_installed_versions_match_the_pins():
    # A wrong installed version fails, and so does a missing runtime dependency; only dev
    # tools that are not installed at all are skipped (after the other checks), never hidden
    # behind a skip.
    wrong, missing_dev = {}, []
    runtime = _runtime_names()
    for name, version in _pyproject_pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name in runtime:
                wrong[name] = (version, None)
            else:
                missing_dev.append(name)
            continue
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"installed versions differ from the pins (pin, installed): {wrong}"
    if missing_dev:
        pytest.skip(f"dev tools not installed here (the rest matches): {sorted(missing_dev)}")


_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import sirtstats
after_import = sorted(m for m in {heavy!r} if m in sys.modules)
import sirtstats.registry, sirtstats.validation, sirtstats.readers, sirtstats.crosschecks
import sirtstats.cli, sirtstats.schema, sirtstats.scores, sirtstats.datadict
from sirtstats.registry import validate_registry
validate_registry({folder!r})
after_validate = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"after_import": after_import, "after_validate": after_validate}}))
"""


def test_import_sirtstats_and_validation_do_not_import_heavy_libraries(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _registry_fixture import valid_tables, write_registry

    folder = write_registry(tmp_path / "r", valid_tables())
    code = _PROBE.format(heavy=HEAVY, folder=str(folder))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["after_import"] == [], "import sirtstats loads " + str(result["after_import"])
    assert result["after_validate"] == [], (
        "validating a registry loads " + str(result["after_validate"]))
