"""The old flat module names stay one minor release as aliases that warn (issue #14).

Each alias re-exports its new module (public and private names alike: it is the same object)
and raises ``FutureWarning`` on import; nothing inside the repository imports an alias.
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: old module -> (new module, names that must resolve to the same object)
ALIASES = {
    "sirtstats.survival_km": ("sirtstats.survival.km", ["summarise_km", "_km_arrays"]),
    "sirtstats.survival_cox": ("sirtstats.survival.cox", ["fit_cox", "_monotone_columns"]),
    "sirtstats.survival_logrank": ("sirtstats.survival.logrank", ["test_logrank"]),
    "sirtstats.survival_landmark": ("sirtstats.survival.landmark",
                                    ["derive_landmark", "check_guarantee_time"]),
    "sirtstats.survival_concordance": ("sirtstats.survival.concordance",
                                       ["compute_concordance", "_pairs_stratum"]),
    "sirtstats.competing_risks": ("sirtstats.survival.competing_risks",
                                  ["test_gray", "_aalen_johansen"]),
    "sirtstats.rmst": ("sirtstats.survival.rmst", ["compute_rmst", "_rmst_one"]),
    "sirtstats.liver_function": ("sirtstats.toxicity.liver", ["derive_reild", "_reild_definition"]),
}

#: names an alias takes from a second module (the lab trajectories moved to toxicity.labs)
EXTRA = {
    "sirtstats.liver_function": ("sirtstats.toxicity.labs",
                                 ["summarise_lab_trajectories", "LAB_TRAJECTORY_BINS"]),
}


def _import_fresh(name: str):
    sys.modules.pop(name, None)
    return importlib.import_module(name)


@pytest.mark.parametrize("old", sorted(ALIASES))
def test_alias_warns_and_reexports(old):
    new, names = ALIASES[old]
    with pytest.warns(FutureWarning, match=rf"{old} is deprecated.*{new}"):
        alias = _import_fresh(old)
    target = importlib.import_module(new)
    for name in names:
        assert getattr(alias, name) is getattr(target, name)
    for name in getattr(target, "__all__", []):
        assert getattr(alias, name) is getattr(target, name)
    if old in EXTRA:
        other, names = EXTRA[old]
        for name in names:
            assert getattr(alias, name) is getattr(importlib.import_module(other), name)


def test_alias_unknown_name_raises_attribute_error():
    for old in ("sirtstats.rmst", "sirtstats.liver_function"):
        with pytest.warns(FutureWarning):
            alias = _import_fresh(old)
        with pytest.raises(AttributeError):
            alias.no_such_name  # noqa: B018


def test_public_paths_unchanged():
    from sirtstats import survival as sv

    assert sv.fit_cox is importlib.import_module("sirtstats.survival.cox").fit_cox
    assert sv.compute_rmst is importlib.import_module("sirtstats.survival.rmst").compute_rmst
    assert sv.test_gray.__module__ == "sirtstats.survival.competing_risks"
    from sirtstats import toxicity as tox

    assert tox.derive_reild.__module__ == "sirtstats.toxicity.liver"
    assert tox.summarise_ae_table.__module__ == "sirtstats.toxicity.ae_tables"
    assert tox.summarise_early_mortality.__module__ == "sirtstats.toxicity.mortality"


def test_deprecated_module_reachable_as_attribute_but_not_listed(monkeypatch):
    import sirtstats

    monkeypatch.delitem(sys.modules, "sirtstats.liver_function", raising=False)
    monkeypatch.delattr(sirtstats, "liver_function", raising=False)
    with pytest.warns(FutureWarning, match="liver_function is deprecated"):
        lf = sirtstats.liver_function
    assert lf.derive_reild is importlib.import_module("sirtstats.toxicity").derive_reild
    assert "liver_function" not in sirtstats.__all__


def _imported_modules(tree: ast.AST, package: str) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def _sources():
    for path in sorted((ROOT / "sirtstats").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
        yield path, ".".join(parts), package, path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "tests").glob("*.py")):
        yield path, path.stem, "tests", path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        code = "\n".join(line for line in code.splitlines()
                         if not line.lstrip().startswith(("%", "!")))
        yield path, path.stem, "notebooks", code


def test_nothing_in_the_repo_imports_an_alias():
    offenders = []
    for path, module, package, source in _sources():
        if module in ALIASES:
            continue
        imported = _imported_modules(ast.parse(source), package)
        offenders += [f"{path.relative_to(ROOT)}: {m}" for m in sorted(imported & set(ALIASES))]
    assert offenders == []
