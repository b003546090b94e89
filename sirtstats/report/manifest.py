"""Provenance of a report: input hashes, versions, git commit, parameters, timings, row counts."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

__all__ = ["KEY_PACKAGES", "file_sha256", "git_commit", "input_hashes", "package_versions"]

#: Packages whose versions manifest.json records.
KEY_PACKAGES: tuple[str, ...] = (
    "sirtstats", "numpy", "pandas", "scipy", "statsmodels", "lifelines", "scikit-learn",
    "matplotlib", "seaborn", "tableone", "openpyxl", "papermill", "nbconvert",
    "nbclient", "ipykernel",
)


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions(names=KEY_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None when a package is absent)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(repo: Path | None = None) -> dict[str, object]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the sirtstats checkout."""
    repo = Path(repo) if repo else Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain",
                                 "--untracked-files=no"], capture_output=True, text=True,
                                timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": sha or None, "dirty": bool(status.strip())}


def input_hashes(data_path: str, tables: dict[str, pd.DataFrame],
                 file_hashes: dict[str, str] | None = None) -> dict[str, str]:
    """SHA-256 of the registry inputs.

    For a folder: the loader's ``file_hashes`` if it reported them, else every file in the folder
    (relative path -> digest). For the generated ``"demo"`` registry: each table's CSV bytes
    (``demo/<table>.csv`` -> digest), so a change in the generator shows in the manifest.
    """
    if file_hashes:
        return dict(sorted(file_hashes.items()))
    if data_path == "demo":
        out = {}
        for name in sorted(tables):
            csv = tables[name].to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n")
            out[f"demo/{name}.csv"] = hashlib.sha256(csv.encode("utf-8")).hexdigest()
        return out
    root = Path(data_path)
    return {p.relative_to(root).as_posix(): file_sha256(p)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def python_executable() -> str:
    """The interpreter running the report (kernel runs ``sirtstats`` kernelspec)."""
    return sys.executable
