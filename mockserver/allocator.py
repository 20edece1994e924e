"""How the served process hands memory back: large blocks straight to the OS (glibc only).

glibc's malloc serves a block of 128 KiB or more with its own ``mmap`` (returned to the OS on
free), but after the first such block is freed it raises that threshold to the block's size, and
the point at which it trims its heaps with it. From then on every large body (the raw bytes, the
decoded text, a refusal's message) comes out of a heap that keeps the pages once they are free, in
every thread's arena. Six rejected 10 MB bodies left the process ~40 MB larger for good.

``mockserver serve`` owns its process, so it fixes the threshold at start-up (which also stops the
adjusting). The pytest plugin and ``create_app`` run inside somebody else's process and leave its
allocator alone.
"""

from __future__ import annotations

import ctypes
import os

M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h
LARGE_BLOCK_BYTES = 1024 * 1024


def return_large_blocks() -> bool:
    """Serve blocks of ``LARGE_BLOCK_BYTES`` or more with ``mmap`` for good: returned to the OS when
    freed. Whether it was set (False where the C library is not glibc)."""
    if not _glibc():
        return False
    process = ctypes.CDLL(None)  # the symbols already loaded, glibc's among them
    return bool(process.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(LARGE_BLOCK_BYTES)))


def _glibc() -> bool:
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):  # not a name this platform knows
        return False
    return bool(version) and str(version).startswith("glibc")
