"""Data folders shipped with sirtstats: the schema YAMLs and the report notebooks.

The single sources are the top-level ``data_schema/`` and ``notebooks/`` folders of the
checkout. The wheel ships them inside the package, as ``sirtstats/data_schema/`` and
``sirtstats/notebooks/`` (``pyproject.toml`` maps the packages ``sirtstats.data_schema`` and
``sirtstats.notebooks`` onto the top-level folders with ``[tool.setuptools.package-dir]``, so
nothing is copied or symlinked in the checkout).

:func:`resource_dir` finds the folder next to the imported ``sirtstats`` package:

- installed from a wheel: ``importlib.resources.files("sirtstats") / name`` exists;
- a source checkout (``PYTHONPATH=checkout``, or ``pip install -e``): that folder does not exist
  inside ``sirtstats/``, and the checkout's top-level folder is used.

The lookup is relative to the ``sirtstats`` actually imported, never through the import system
of the mapped packages: an editable install's finder maps ``sirtstats.data_schema`` to the
checkout it was installed from, which is the wrong folder when another worktree's ``sirtstats``
comes first on ``sys.path``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["RESOURCE_NAMES", "resource_dir"]

#: Folders shipped as package data (top-level name in the checkout = name inside the wheel).
RESOURCE_NAMES: tuple[str, ...] = ("data_schema", "notebooks")


def resource_dir(name: str) -> Path:
    """Folder of shipped data files ``name`` for the imported sirtstats.

    Parameters
    ----------
    name : {"data_schema", "notebooks"}
        Folder name (:data:`RESOURCE_NAMES`).

    Returns
    -------
    Path
        ``<site-packages>/sirtstats/<name>`` for an installed wheel, else ``<checkout>/<name>``.

    Raises
    ------
    ValueError
        ``name`` is not a shipped folder.
    FileNotFoundError
        Neither the installed nor the checkout folder exists (a broken install).
    """
    if name not in RESOURCE_NAMES:
        raise ValueError(f"resource_dir() name must be one of {list(RESOURCE_NAMES)}. "
                         f"Got {name!r} instead.")
    package = resources.files("sirtstats")
    installed = package / name
    if installed.is_dir():
        return Path(str(installed))
    checkout = Path(str(package)).resolve().parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"sirtstats data folder {name!r} not found: neither {installed} (installed package) "
        f"nor {checkout} (source checkout) exists. Reinstall sirtstats.")
