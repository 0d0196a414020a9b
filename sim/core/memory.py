"""Keep freed memory in the process, so a step's large temporaries are reused.

A step makes many temporary arrays of about a megabyte (one number per
school slot at England's size). By default glibc's malloc gives blocks that
large back to the kernel when they are freed (it maps them apart, or trims
the top of the heap), so every step faults the same memory in again: at
21,000 schools that was a third of a step late in a run. Raising malloc's
mmap and trim thresholds keeps freed blocks in the heap for the next
temporary. It changes no result; peak memory is the same high-water mark,
though resident memory then stays at it.

Process-wide and glibc only (Linux); elsewhere, or with
``NEXTPRACTICE_KEEP_MEMORY=0`` in the environment, it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt parameters (glibc malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the heap (glibc's ceiling on 64-bit is 32 MB).
MMAP_THRESHOLD = 32 << 20
#: The heap keeps this much free memory at its top before returning any.
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; returns whether both took effect."""
    if not sys.platform.startswith("linux") or os.environ.get("NEXTPRACTICE_KEEP_MEMORY") == "0":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
