"""Memory given back to the system between heavy steps. A run checks pieces in several
threads: glibc's malloc keeps an arena per thread and Arrow's allocator (mimalloc) keeps freed
pages, so the process would hold the high-water mark of every thread long after the work.
`give_back` returns what is free; `few_arenas` caps glibc's arenas (Linux only; elsewhere both
do nothing)."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_ARENA_MAX = -8


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


LIBC = _libc()


def few_arenas(count: int = 2) -> None:
    """At most `count` malloc arenas for the process's threads."""
    if LIBC is not None:
        LIBC.mallopt(M_ARENA_MAX, count)


def give_back() -> None:
    """Free memory back to the system: Arrow's pool, then malloc's heap."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if LIBC is not None:
        LIBC.malloc_trim(0)
