"""The ``sirtstats kernel install`` subcommand: register the Jupyter kernel "sirtstats".

The report notebooks run on the kernel named ``sirtstats``; this registers it for the current
interpreter (``sys.executable``), so pip and conda users alike get a kernel that imports the
sirtstats they installed:

- ``--sys-prefix`` (default inside a virtual or conda environment): into
  ``<sys.prefix>/share/jupyter/kernels/sirtstats``, seen by the Jupyter of that environment;
- ``--user`` (default otherwise): into the user's Jupyter data folder, seen by every Jupyter
  of that user (e.g. JupyterLab installed in conda ``base`` and sirtstats in another env);
- ``--prefix DIR``: into ``DIR/share/jupyter/kernels`` (packaging, tests).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["DISPLAY_NAME", "KERNEL_NAME", "add_kernel_parser", "install_kernel"]

#: Kernel name the report runs on (:data:`sirtstats.report.runner.KERNEL_NAME`).
KERNEL_NAME = "sirtstats"
DISPLAY_NAME = "Python (sirtstats)"


def _in_environment() -> bool:
    """True inside a venv/virtualenv or a conda environment."""
    return sys.prefix != sys.base_prefix or (Path(sys.prefix) / "conda-meta").is_dir() \
        or os.environ.get("CONDA_PREFIX") == sys.prefix


def install_kernel(*, user: bool | None = None, prefix: str | Path | None = None,
                   name: str = KERNEL_NAME, display_name: str = DISPLAY_NAME) -> Path:
    """Register a Jupyter kernel running the current interpreter.

    Parameters
    ----------
    user : bool, optional
        True: the user's Jupyter folder; False: ``sys.prefix``; None (default): ``sys.prefix``
        inside a virtual or conda environment, else the user's folder.
    prefix : str or Path, optional
        Install under ``prefix/share/jupyter/kernels`` instead (overrides ``user``).
    name, display_name : str
        Kernel name (default "sirtstats", which the report uses) and label shown in Jupyter.

    Returns
    -------
    Path
        Folder of the installed kernel spec (holds ``kernel.json``).
    """
    from ipykernel.kernelspec import install

    if prefix is not None:
        where = {"prefix": str(prefix)}
    elif user is None:
        where = {"prefix": sys.prefix} if _in_environment() else {"user": True}
    else:
        where = {"user": True} if user else {"prefix": sys.prefix}
    return Path(install(kernel_name=name, display_name=display_name, **where))


def add_kernel_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``kernel install`` to the ``sirtstats`` subparsers (sets ``func``)."""
    p = subparsers.add_parser("kernel", help="manage the Jupyter kernel the report runs on",
                              description="Manage the Jupyter kernel 'sirtstats'.")
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    inst = actions.add_parser(
        "install", help="register the kernel 'sirtstats' for this Python",
        description="Register the Jupyter kernel 'sirtstats' running this interpreter "
                    f"({sys.executable}). Default: --sys-prefix inside a virtual or conda "
                    "environment, else --user.")
    where = inst.add_mutually_exclusive_group()
    where.add_argument("--user", dest="user", action="store_true", default=None,
                       help="install for the current user (every Jupyter of this user sees it)")
    where.add_argument("--sys-prefix", dest="user", action="store_false",
                       help="install into this environment (sys.prefix)")
    where.add_argument("--prefix", default=None, metavar="DIR",
                       help="install under DIR/share/jupyter/kernels")
    inst.add_argument("--name", default=KERNEL_NAME, help="kernel name (default: sirtstats)")
    inst.add_argument("--display-name", default=DISPLAY_NAME,
                      help=f"label shown in Jupyter (default: {DISPLAY_NAME!r})")
    inst.set_defaults(func=_run_kernel_install)
    p.set_defaults(func=lambda _args: (p.print_help(), 2)[1])
    return p


def _run_kernel_install(args) -> int:
    path = install_kernel(user=args.user, prefix=args.prefix, name=args.name,
                          display_name=args.display_name)
    print(f"Installed Jupyter kernel {args.name!r} ({sys.executable}) in {path}")
    return 0
