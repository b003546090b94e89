"""Imports of ``sirtstats/`` only point down the layer table, and form no circle (#14 item 1).

The import graph is computed here with :mod:`ast` (no third-party tool, nothing imported):
one node per module (a package is its ``__init__``), one arrow per ``import`` /
``from ... import`` (absolute or relative, at module level or inside a function) and per
``importlib.import_module("sirtstats....")`` with a literal name. Importing ``a.b.c`` first
runs the ``__init__`` of the packages ``a.b`` and ``a``, so the arrow also goes to those
packages (unless the importer lies inside them): a circle through a package's ``__init__`` is
a circle. The layer table is :data:`sirtstats._layers.LAYERS`; function-level imports listed
in :data:`sirtstats._layers.ALLOWED_LAZY_IMPORTS` (with a reason) are left out. Not an arrow:
an ``importlib.import_module`` of a computed name, i.e. the PEP 562 attribute access of
``sirtstats/__init__.py`` (``sirtstats.survival`` imports that submodule on first use; the
package itself imports only ``sirtstats.exceptions``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from sirtstats._layers import ALLOWED_LAZY_IMPORTS, LAYERS, SHIMS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sirtstats"


@dataclass(frozen=True)
class Edge:
    """One import: ``source`` imports ``target`` (dotted names) at ``line``."""

    source: str
    target: str
    line: int
    lazy: bool  # inside a function


def find_modules(root: Path, package: str = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package) for every ``.py`` file under ``root/package``."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, is_package)
    return modules


def _resolve(name: str, modules) -> str | None:
    """The module a dotted name lives in (``a.b.func`` -> ``a.b``), None outside the package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules, package: str):
        self.module, self.modules, self.package = module, modules, package
        self.here = module if is_package else module.rpartition(".")[0]
        self.depth = 0
        self.found: list[tuple[str, int, bool]] = []

    def _add(self, name: str | None, node) -> None:
        target = _resolve(name, self.modules) if name else None
        if target is not None and target != self.module:
            self.found.append((target, node.lineno, self.depth > 0))

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name == self.package or alias.name.startswith(self.package + "."):
                self._add(alias.name, node)

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.here.split(".")[: len(self.here.split(".")) - node.level + 1]
            mod = ".".join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ""
        if not (mod == self.package or mod.startswith(self.package + ".")):
            return
        for alias in node.names:
            full = f"{mod}.{alias.name}"
            self._add(full if full in self.modules else mod, node)

    def visit_Call(self, node):
        func = node.func
        name = getattr(func, "attr", None) or getattr(func, "id", None)
        if (name == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value.startswith(self.package)):
            self._add(node.args[0].value, node)
        self.generic_visit(node)


def import_edges(root: Path, package: str = PACKAGE) -> list[Edge]:
    """Every import between modules of ``root/package``, with the implied package arrows."""
    modules = find_modules(root, package)
    edges = []
    for module, (path, is_package) in modules.items():
        visitor = _ImportVisitor(module, is_package, modules, package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for target, line, lazy in visitor.found:
            edges.append(Edge(module, target, line, lazy))
            # Importing a.b.c runs a.b/__init__ and a/__init__ first.
            parent = target.rpartition(".")[0]
            while parent and not (module == parent or module.startswith(parent + ".")):
                edges.append(Edge(module, parent, line, lazy))
                parent = parent.rpartition(".")[0]
    return sorted(set(edges), key=lambda e: (e.source, e.target, e.line))


def _short(name: str, package: str = PACKAGE) -> str:
    return name[len(package) + 1:] if name.startswith(package + ".") else name


def checked_edges(edges, allowed=None, package: str = PACKAGE) -> list[Edge]:
    """The edges that count: all but the function-level imports listed as allowed."""
    allowed = ALLOWED_LAZY_IMPORTS if allowed is None else allowed
    return [e for e in edges if not (
        e.lazy and (_short(e.source, package), _short(e.target, package)) in allowed)]


def find_cycles(edges) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index, low, on_stack, stack, out = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def layer_of(module: str, layers=LAYERS, package: str = PACKAGE, shims=None) -> int | None:
    """Index of the layer of a dotted module name in ``layers``, None if not listed.

    A shim (:data:`sirtstats._layers.SHIMS`) sits in the layer of the package it re-exports.
    """
    short = _short(module, package)
    shims = SHIMS if package == PACKAGE and shims is None else (shims or {})
    if short in shims:
        short = shims[short].rstrip("/")
    best, best_len = None, -1
    for i, (_, entries) in enumerate(layers):
        for entry in entries:
            if entry == "__init__":
                hit, length = module == package, 0
            elif entry.endswith("/"):
                pkg = entry[:-1]
                hit, length = short == pkg or short.startswith(pkg + "."), len(pkg)
            else:
                hit, length = short == entry, len(entry)
            if hit and length > best_len:
                best, best_len = i, length
    return best


def upward_imports(edges, layers=LAYERS, package: str = PACKAGE) -> list[str]:
    """Readable list of the imports going to a higher layer."""
    out = []
    for e in edges:
        src, dst = layer_of(e.source, layers, package), layer_of(e.target, layers, package)
        if src is not None and dst is not None and dst > src:
            kind = "function-level " if e.lazy else ""
            out.append(f"{e.source} (line {e.line}, {layers[src][0]}) {kind}imports "
                       f"{e.target} ({layers[dst][0]})")
    return out


# -- the package ---------------------------------------------------------------------------

EDGES = import_edges(ROOT)


def test_the_graph_sees_known_imports():
    # A module-level, a function-level and a relative-free package import, as they are today.
    pairs = {(e.source, e.target, e.lazy) for e in EDGES}
    assert ("sirtstats.registry", "sirtstats.schema", False) in pairs
    assert ("sirtstats.cohort._restrict", "sirtstats.registry", True) in pairs
    # dose_response imports survival's package (its __init__ runs when km is imported).
    assert any(s == "sirtstats.comparative.adjusted" and t == "sirtstats.survival"
               for s, t, _ in pairs)
    assert len(EDGES) > 200


def test_no_import_circles():
    cycles = find_cycles(checked_edges(EDGES))
    assert not cycles, "import circles (modules importing each other, directly or through a " \
        "chain or a package __init__):\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_upward_imports():
    upward = upward_imports(checked_edges(EDGES))
    assert not upward, "imports from a higher layer (sirtstats/_layers.py):\n" + "\n".join(upward)


def test_every_module_has_one_layer_and_every_entry_exists():
    modules = find_modules(ROOT)
    unplaced = sorted(m for m in modules if layer_of(m) is None)
    assert not unplaced, f"add to sirtstats/_layers.py LAYERS: {unplaced}"
    entries = [entry for _, layer in LAYERS for entry in layer]
    assert len(entries) == len(set(entries)), "an entry is listed twice in LAYERS"
    stale = [entry for entry in [*entries, *SHIMS, *SHIMS.values()] if entry != "__init__"
             and f"{PACKAGE}.{entry.rstrip('/')}" not in modules]
    assert not stale, f"LAYERS lists modules that do not exist: {stale}"


def test_allowed_lazy_imports_are_function_level_and_give_a_reason():
    lazy = {(_short(e.source), _short(e.target)) for e in EDGES if e.lazy}
    for pair, reason in ALLOWED_LAZY_IMPORTS.items():
        assert pair in lazy, f"{pair} is not a function-level import (any more): remove it"
        assert len(reason.split()) >= 3, f"{pair}: give the reason it is allowed"


def _markdown_layers(path: Path) -> dict[str, set[str]]:
    """The ``| layer | modules |`` table of a Markdown page: layer -> backticked names."""
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in {name for name, _ in LAYERS}:
            rows[cells[0]] = {name for name in re.findall(r"`([^`]+)`", cells[1])
                              if re.fullmatch(r"[A-Za-z_]\w*/?", name)}
    return rows


@pytest.mark.parametrize("page", ["CONTRIBUTING.md", "docs/architecture.md"])
def test_documented_layer_tables_match(page):
    expected = {name: set(entries) for name, entries in LAYERS}
    assert _markdown_layers(ROOT / page) == expected, (
        f"{page}: the layer table must list the modules of sirtstats/_layers.py LAYERS")


#: "No module over ~800 lines" (#14 item 2): a module past it is split by concern.
MAX_MODULE_LINES = 800


def test_no_module_over_800_lines():
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for path, _ in find_modules(ROOT).values()}
    over = {rel: n for rel, n in sorted(sizes.items())
            if n > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines (split them by concern): {over}"


# -- the checker itself can fail -----------------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def test_checker_finds_circles_through_a_package_init_and_upward_lazy_imports(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low.py": "def f():\n    from pkg.high import g\n",  # upward, lazy
        "pkg/high.py": "from . import other\n",
        # sub/__init__ imports sub.a; sub.a imports other; other imports sub.b -> runs sub/__init__
        "pkg/sub/__init__.py": "from pkg.sub.a import x\n",
        "pkg/sub/a.py": "import pkg.other\nx = 1\n",
        "pkg/sub/b.py": "",
        "pkg/other.py": "from pkg.sub.b import *\n",
    })
    edges = import_edges(tmp_path, "pkg")
    assert find_cycles(edges) == [["pkg.other", "pkg.sub", "pkg.sub.a"]]
    layers = (("bottom", ("__init__", "low", "other", "sub/")), ("top", ("high",)))
    upward = upward_imports(edges, layers, "pkg")
    assert upward == ["pkg.low (line 2, bottom) function-level imports pkg.high (top)"]
    allowed = {("low", "high"): "a reason given here"}
    kept = checked_edges(edges, allowed, "pkg")
    assert upward_imports(kept, layers, "pkg") == []
