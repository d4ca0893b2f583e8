"""The worker process's memory allocator, set once at start-up (wsgi.py).

A join's answer for a large meeting is one string of about 160 KB (the snapshot lists everyone present).
glibc's malloc serves such blocks from mmap at first, but after the first one is freed it raises its
threshold to that size, and from then on they come from the heap, between the small objects that
outlive them. The heap cannot give those pages back, so the memory a burst of joins used stays with the
worker: 2,000 tablets joining a meeting with 2,000 present left it at 476 MiB, where with the threshold
kept at 128 KB (mallopt's M_MMAP_THRESHOLD, which also stops its adjustment) it was back at 297 MiB once
they had joined (bench/bench_tally.py, SQLite). An mmap and munmap per large block cost microseconds
against the join's milliseconds.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
LARGE_BLOCK_BYTES = 128 * 1024


def keep_large_blocks_apart(threshold: int = LARGE_BLOCK_BYTES) -> bool:
    """Serve blocks of at least ``threshold`` bytes from mmap, always. False where the C library has no
    such setting (not glibc): the process then runs as it would have."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1
