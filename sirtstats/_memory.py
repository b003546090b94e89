"""Give memory that Python and pandas have freed back to the operating system.

A process that has read and dropped a large registry keeps most of the freed pages: glibc's
allocator holds them in its heap, and pyarrow's memory pool (mimalloc or jemalloc) holds what
its Arrow tables used. Both are returned on request; until then they count in the process's
resident set (RSS), and so in the peak of a report whose kernels run side by side (#13 item 9).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys

__all__ = ["release_after_each_cell", "release_freed_memory"]


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None on a C library without it (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


def release_freed_memory(*, collect: bool = True) -> None:
    """Collect garbage, then return freed heap and Arrow pool memory to the system.

    Call it after dropping large frames (e.g. the full registry once the cohort is selected).
    It changes no value, only the process's resident memory; where the C library has no
    ``malloc_trim`` only the garbage collection and the Arrow pool release take place.

    Parameters
    ----------
    collect : bool
        Run a full garbage collection first (35-55 ms in a report kernel); without it only
        what reference counting freed already is returned.
    """
    if collect:
        gc.collect()
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def release_after_each_cell(shell=None) -> bool:
    """Call :func:`release_freed_memory` after every cell an IPython kernel runs.

    The report runner has its kernels call this at start-up (D79): a notebook's cells drop
    large intermediate frames all along, and two kernels run side by side. Registering twice
    registers once.

    Parameters
    ----------
    shell : IPython InteractiveShell, optional
        Default: the running shell.

    Returns
    -------
    bool
        Whether a shell was found (False outside IPython: nothing registered).
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    callbacks = shell.events.callbacks["post_run_cell"]
    if _after_cell not in callbacks:
        shell.events.register("post_run_cell", _after_cell)
    return True


def _after_cell(result=None) -> None:
    # no garbage collection here: a cell's frames are freed as their last reference goes, and
    # a full collection of a kernel's ~170,000 objects costs 35-55 ms, paid after every cell
    release_freed_memory(collect=False)
