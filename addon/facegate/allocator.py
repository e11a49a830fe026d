"""Keep the engine's memory to what it holds: two settings of glibc's allocator.

Every camera's frame is a few MB (2.7 MB at 720p) and dies within a tenth of a second. glibc
serves such blocks with mmap and returns them at once, but after the first one is freed it
raises its mmap threshold and carves the following ones from the heap, where they fragment;
and each of the engine's threads may get an arena of its own (up to eight per core). Measured
with four 720p cameras (benchmarks/scale.py), fixing the threshold at 1 MiB and allowing two
arenas took the peak resident set from 312 MB to 294 MB at the same CPU. On a C library
without mallopt (musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

_LOGGER = logging.getLogger("facegate.allocator")
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 1 << 20
ARENAS = 2


def tune() -> bool:
    """Applies both settings; True when the C library took them."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    taken = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1)
    taken = bool(mallopt(M_ARENA_MAX, ARENAS) == 1) and taken
    if not taken:
        _LOGGER.debug("the C library refused the allocator settings; left as they were")
    return taken
