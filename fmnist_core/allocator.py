"""Keep freed memory in the process instead of handing it back to the OS after every training step.

A training step allocates and frees a few dozen activation tensors of 0.1-5 MB. glibc's malloc serves
blocks that large with mmap, or trims them off the top of the heap when they are freed, so the next
step maps the same memory again and touches every 4 KB page for the first time: about 5,000 page
faults per autoencoder step, a third of its time on one thread (measured by `bench` and
scripts/profile_step.py). Raising glibc's mmap and trim thresholds keeps those blocks in the heap for
reuse. It changes where tensors live, never what is computed. Elsewhere (macOS, musl, Windows) this is
a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit: bigger blocks are still mmapped
TRIM_THRESHOLD = 512 * 1024 * 1024  # free space above this at the heap's top still goes back to the OS

_done = False


def keep_freed_memory() -> bool:
    """Set glibc's malloc thresholds once per process; True if they are set (False off glibc)."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return _done
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _done
