"""The report notebooks: finding them, reading their ``parameters`` cells, the Jupyter kernel.

Part of :mod:`sirtstats.report.runner` (import from there).
"""

from __future__ import annotations

from pathlib import Path

from sirtstats.report._runner_failures import ReportError
from sirtstats.report.params import COMMON_NOTEBOOK_PARAMETERS, InvalidParameterError

__all__ = [
    "KERNEL_NAME",
    "NOTEBOOK_GLOB",
    "check_kernel",
    "default_notebooks_dir",
    "discover_notebooks",
    "read_notebook_parameters",
]


#: Jupyter kernel the notebooks run on (installed by ``make venv``).
KERNEL_NAME = "sirtstats"
#: Notebooks that make up the report, run in sorted order.
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


KERNEL_INSTALL_HINT = (
    "Register it with `sirtstats kernel install` (pip and conda installs alike; "
    "`make venv` does it in a checkout)."
)


def default_notebooks_dir() -> Path:
    """The installed report notebooks (``notebooks/`` of the checkout in a source tree)."""
    from sirtstats._resources import resource_dir
    return resource_dir("notebooks")


def discover_notebooks(notebooks_dir: Path, select=None) -> list[Path]:
    """Report notebooks in ``notebooks_dir``, sorted; optionally only those selected.

    Parameters
    ----------
    notebooks_dir : Path
        Folder of templates.
    select : list of str, optional
        Prefixes (``"01"``) or stems (``"01_cohort"``) to keep.

    Returns
    -------
    list of Path

    Raises
    ------
    ReportError
        No notebook found.
    InvalidParameterError
        A selection matching no notebook (a command-line error: exit status 2).
    """
    notebooks_dir = Path(notebooks_dir)
    found = sorted(notebooks_dir.glob(NOTEBOOK_GLOB))
    if select:
        wanted = [s.strip() for s in select if s.strip()]
        unknown = [w for w in wanted
                   if not any(p.stem == w or p.stem.split("_", 1)[0] == w for p in found)]
        if unknown:
            raise InvalidParameterError(
                f"The 'notebooks' option of sirtstats report must name notebooks in "
                f"{notebooks_dir} (one of {[p.stem for p in found]}). Got {unknown} instead.")
        found = [p for p in found if p.stem in wanted or p.stem.split("_", 1)[0] in wanted]
    if not found:
        raise ReportError(f"No report notebook ({NOTEBOOK_GLOB}) in {notebooks_dir}.")
    return found


def _declared_parameters(nb_path: Path) -> dict[str, dict]:
    """Parameters declared in the notebook's ``parameters`` cell: name -> {default, type, help}.

    Names come from parsing the cell with :mod:`ast` (papermill's inspector skips any line with
    two ``=``, e.g. ``output_dir: str = ""  # "" = nothing written``); type and help come from
    ``papermill.inspect_notebook`` where it could read the line.
    """
    import ast

    import nbformat
    import papermill

    nb = nbformat.read(str(nb_path), as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])),
                None)
    if cell is None:
        raise ReportError(f"notebook {nb_path.stem} has no cell tagged 'parameters'.",
                          notebook=nb_path.stem)
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as exc:
        raise ReportError(f"notebook {nb_path.stem}: the parameters cell is not valid Python "
                          f"({exc.msg}, line {exc.lineno}).", notebook=nb_path.stem) from None
    declared = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared[node.target.id] = {"default": ast.get_source_segment(cell.source, node.value)
                                        if node.value is not None else None,
                                        "inferred_type_name": ast.unparse(node.annotation),
                                        "help": ""}
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    declared[target.id] = {"default": ast.get_source_segment(cell.source,
                                                                             node.value),
                                           "inferred_type_name": "None", "help": ""}
    import logging

    logger = logging.getLogger("papermill")
    old_level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        inspected = papermill.inspect_notebook(str(nb_path))
    finally:
        logger.setLevel(old_level)
    for name, info in inspected.items():
        if name in declared:
            declared[name]["help"] = info.get("help", "")
    return declared


def _inspect(nb_path: Path) -> dict:
    params = _declared_parameters(nb_path)
    missing = [p for p in COMMON_NOTEBOOK_PARAMETERS if p not in params]
    if missing:
        raise ReportError(
            f"notebook {nb_path.stem} does not declare the parameter(s) {missing} in its cell "
            "tagged 'parameters'; every report notebook needs "
            f"{list(COMMON_NOTEBOOK_PARAMETERS)}.", notebook=nb_path.stem)
    return params


def read_notebook_parameters(notebooks_dir: str | Path | None = None) -> dict[str, dict]:
    """Parameters declared by every report notebook: stem -> name -> {default, type, help}.

    Parameters
    ----------
    notebooks_dir : str or Path, optional
        Templates folder; default ``notebooks/`` of the checkout.

    Returns
    -------
    dict
        In notebook order; ``default`` is the source text, ``inferred_type_name`` the
        annotation (``"None"`` without one), ``help`` the comment.

    Raises
    ------
    ReportError
        No notebook, a notebook without a ``parameters`` cell or without the common parameters.
    """
    nb_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    return {p.stem: _inspect(p) for p in discover_notebooks(nb_dir)}


def check_kernel(name: str = KERNEL_NAME) -> None:
    """Raise :class:`ReportError` with install instructions if kernel ``name`` is missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise ReportError(f"Jupyter kernel {name!r} not found. {KERNEL_INSTALL_HINT}") from None


def _notebook_title(nb_path: Path) -> str:
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return nb_path.stem
