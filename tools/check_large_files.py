"""Fail when a file larger than a limit is committed (pre-commit-hooks' check-added-large-files).

Usage: ``python tools/check_large_files.py [--max-kb N] FILE ...`` (default 500 KB, the same
default as pre-commit-hooks). Every file passed is checked: on ``git commit`` pre-commit passes
the staged files, with ``--all-files`` every tracked file. Standard library only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_MAX_KB = 500


def too_large(paths: list[str], max_kb: int = DEFAULT_MAX_KB) -> list[tuple[str, int]]:
    """Select the files whose size exceeds ``max_kb``.

    Parameters
    ----------
    paths : list of str
        Files to check; missing paths (deleted in the commit) are skipped.
    max_kb : int, default 500
        Largest size allowed, in KiB (1 KiB = 1024 bytes).

    Returns
    -------
    list of tuple of (str, int)
        ``(path, size in KiB rounded up)`` for each file over the limit, in input order.
    """
    out = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            continue
        size_kb = -(-path.stat().st_size // 1024)
        if size_kb > max_kb:
            out.append((p, size_kb))
    return out


def main(argv: list[str] | None = None) -> int:
    """Check the files named on the command line; print those over the limit.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 when every file is within the limit, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-kb", type=int, default=DEFAULT_MAX_KB)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args(argv)
    large = too_large(args.files, args.max_kb)
    for path, size_kb in large:
        print(f"{path} ({size_kb} KB) exceeds {args.max_kb} KB")
    return 1 if large else 0


if __name__ == "__main__":
    sys.exit(main())
