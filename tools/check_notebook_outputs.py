"""Fail when a notebook is committed with outputs (the check nbstripout's pre-commit hook makes).

Usage: ``python tools/check_notebook_outputs.py NOTEBOOK.ipynb ...``. Exits 1 and names each
notebook holding a code cell with outputs or an execution count; exits 0 otherwise. Plain
standard-library Python (no nbformat, no sirtstats import) so that it runs before anything is
installed. Fix a failing notebook with ``jupyter nbconvert --clear-output --inplace NB.ipynb``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def notebook_problems(path: Path) -> list[str]:
    """Describe each code cell of the notebook at ``path`` that carries outputs.

    Parameters
    ----------
    path : pathlib.Path
        A ``.ipynb`` file (nbformat 4 JSON).

    Returns
    -------
    list of str
        One message per offending cell (empty when the notebook is clean).
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{path}: not a readable notebook ({exc})"]
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{path}: cell {i} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"{path}: cell {i} has an execution count")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check each notebook named on the command line; print the problems.

    Parameters
    ----------
    argv : list of str, optional
        Notebook paths (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 when every notebook is clean, 1 otherwise.
    """
    paths = sys.argv[1:] if argv is None else argv
    problems = [msg for p in paths for msg in notebook_problems(Path(p))]
    for msg in problems:
        print(msg)
    if problems:
        print("clear them with: jupyter nbconvert --clear-output --inplace <notebook>")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
