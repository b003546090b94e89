"""Validate the numpydoc docstrings of sirtstats' public API (numpydoc's validation checks).

Usage: ``python tools/check_docstrings.py`` (from the checkout, with the dev extras installed).
The public API is every function and class named in a module's ``__all__`` (names without a
leading underscore) and defined in that module, for every module under ``sirtstats/``
(``__main__`` modules are skipped: importing one runs it). The checks are those listed in
``pyproject.toml`` ``[tool.numpydoc_validation] checks``, read with numpydoc's own rule
(``"all"`` followed by codes means all codes but those).
Exits 1 and prints ``module.name: CODE message`` for each failure.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import tomllib
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def configured_checks(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    """Read the numpydoc check codes enforced by the project.

    Parameters
    ----------
    pyproject : pathlib.Path
        The ``pyproject.toml`` holding ``[tool.numpydoc_validation] checks``.

    Returns
    -------
    set of str
        The enforced error codes (e.g. ``{"GL08", "SS03"}``).
    """
    from numpydoc.validate import get_validation_checks

    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    codes = config["tool"]["numpydoc_validation"]["checks"]
    return set(get_validation_checks(set(codes)))


def public_objects(package: str = "sirtstats") -> list[str]:
    """List the dotted names of the package's public functions and classes.

    Parameters
    ----------
    package : str, default "sirtstats"
        Importable package name; its modules are imported to read their ``__all__``.

    Returns
    -------
    list of str
        ``"module.name"`` for each function or class in a module's ``__all__`` that the
        module defines itself (re-exports are checked where they are defined), sorted.
    """
    pkg = importlib.import_module(package)
    names = [package] + sorted(
        m.name
        for m in pkgutil.walk_packages(pkg.__path__, f"{package}.")
        if not m.name.endswith(".__main__")
    )
    out = []
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # shims of moved modules
            module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr, None)
            if attr.startswith("_"):
                continue  # private helpers a private module shares (e.g. survival._common)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name:
                out.append(f"{name}.{attr}")
    return sorted(set(out))


def docstring_errors(names: list[str], checks: set[str]) -> list[str]:
    """Validate each object's docstring and keep the failures of the enforced checks.

    Parameters
    ----------
    names : list of str
        Dotted names of the objects to validate.
    checks : set of str
        numpydoc error codes to enforce; other codes are ignored.

    Returns
    -------
    list of str
        ``"name: CODE message"`` per failure, in the order of ``names``.
    """
    from numpydoc.validate import validate

    out = []
    for name in names:
        for code, message in validate(name)["errors"]:
            if code in checks:
                out.append(f"{name}: {code} {message}")
    return out


def main() -> int:
    """Validate the public API and print the failures.

    Returns
    -------
    int
        Exit status: 0 when every enforced check passes, 1 otherwise.
    """
    sys.path.insert(0, str(ROOT))
    checks = configured_checks()
    names = public_objects()
    errors = docstring_errors(names, checks)
    for line in errors:
        print(line)
    print(
        f"numpydoc: {len(names)} public objects, checks {' '.join(sorted(checks))}: "
        f"{len(errors)} failure(s)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
