"""Attempt folders and atomic publication of a report.

A run writes everything into an *attempt* folder ``<root>/.<period>.tmp-<pid>/`` beside the
published report ``<root>/<period>/`` (same filesystem, so renames are atomic). Only a complete,
successful attempt is published:

* if ``<root>/<period>`` does not exist, the attempt is renamed to it (one ``rename``);
* if it exists, the two folders are swapped in one atomic ``renameat2(RENAME_EXCHANGE)``
  (Linux >= 3.15; filesystems without it fall back to two renames: old report -> backup,
  attempt -> report; a crash between the two leaves the old report intact in the backup
  ``<root>/.<period>.old-<pid>``, which the next run restores), then the old report is deleted.

A failed attempt is moved to ``<root>/_failed/<period>-<YYYYmmddTHHMMSS>/`` (the executed failing
notebook and whatever the other notebooks produced, plus ``error.txt``); the published report is
never touched. A killed run leaves its attempt folder; the next run for the period removes attempt
folders whose process is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import errno
import os
import re
import shutil
from pathlib import Path

__all__ = [
    "FAILED_DIRNAME",
    "attempt_dir",
    "clean_stale_attempts",
    "keep_failed_attempt",
    "publish_attempt",
]

#: Sub-folder of the output root holding failed attempts.
FAILED_DIRNAME = "_failed"

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def attempt_dir(root: Path, period_label: str, *, pid: int | None = None) -> Path:
    """Create and return a fresh attempt folder ``<root>/.<period>.tmp-<pid>``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f".{period_label}.tmp-{pid or os.getpid()}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True


def clean_stale_attempts(root: Path, period_label: str) -> list[Path]:
    """Remove attempt folders of dead runs for this period; restore an orphaned backup.

    Returns
    -------
    list of Path
        The folders removed.
    """
    root = Path(root)
    removed = []
    if not root.is_dir():
        return removed
    pattern = re.compile(rf"^\.{re.escape(period_label)}\.(tmp|old)-(\d+)$")
    published = root / period_label
    for path in sorted(root.iterdir()):
        match = pattern.match(path.name)
        if not match:
            continue
        pid = int(match.group(2))
        if pid != os.getpid() and _pid_alive(pid):
            continue  # a concurrent run for the same period
        if match.group(1) == "old" and not published.exists():
            os.rename(path, published)  # a crash between the two fallback renames
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False if unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    func = getattr(libc, "renameat2", None)
    if func is None:
        return False
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    res = func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if res == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(a))


def publish_attempt(attempt: Path, target: Path) -> Path:
    """Publish ``attempt`` as ``target`` atomically, replacing a previous report if any.

    Parameters
    ----------
    attempt : Path
        Complete attempt folder.
    target : Path
        Published report folder ``<root>/<period>``.

    Returns
    -------
    Path
        ``target``.
    """
    attempt, target = Path(attempt), Path(target)
    if not target.exists():
        os.rename(attempt, target)
        return target
    if _exchange(attempt, target):
        shutil.rmtree(attempt)  # now holds the previous report
        return target
    backup = target.parent / f".{target.name}.old-{os.getpid()}"
    os.rename(target, backup)
    os.rename(attempt, target)
    shutil.rmtree(backup)
    return target


def keep_failed_attempt(attempt: Path, root: Path, period_label: str, message: str,
                        *, now: dt.datetime | None = None) -> Path:
    """Move a failed attempt to ``<root>/_failed/<period>-<timestamp>/`` with ``error.txt``.

    Returns
    -------
    Path
        Where the failed attempt now is.
    """
    stamp = (now or dt.datetime.now()).strftime("%Y%m%dT%H%M%S")
    dest_root = Path(root) / FAILED_DIRNAME
    dest_root.mkdir(parents=True, exist_ok=True)
    dest = dest_root / f"{period_label}-{stamp}"
    n = 1
    while dest.exists():
        n += 1
        dest = dest_root / f"{period_label}-{stamp}-{n}"
    os.rename(attempt, dest)
    (dest / "error.txt").write_text(message.rstrip() + "\n", encoding="utf-8")
    return dest
