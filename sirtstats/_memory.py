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

__all__ = ["release_freed_memory"]


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None on a C library without it (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


def release_freed_memory() -> None:
    """Collect garbage, then return freed heap and Arrow pool memory to the system.

    Call it after dropping large frames (e.g. the full registry once the cohort is selected).
    It changes no value, only the process's resident memory; where the C library has no
    ``malloc_trim`` only the garbage collection and the Arrow pool release take place.
    """
    gc.collect()
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
