"""How ``mockserver serve`` manages its process's memory: glibc's large blocks and the cyclic
garbage collector. The pytest plugin and ``create_app`` run inside somebody else's process and
leave both alone; ``mockserver serve`` owns its process and tunes them at start-up.

Large blocks: glibc's malloc serves a block of 128 KiB or more with its own ``mmap``, returned to
the OS on free, but after the first such block is freed it raises that threshold to the block's
size, and the point at which it trims its heaps with it. From then on every large body (the raw
bytes, the decoded text, a refusal's message) comes out of a heap that keeps the pages once they
are free, in every thread's arena: six rejected 10 MB bodies left the process ~40 MB larger for
good. Fixing the threshold stops the adjusting.

The collector: a push of 1,000 records decodes into 1,000 dicts. At CPython's default threshold
(a young collection every 700 new containers) the collector runs several times during each such
request, finds the body alive each time and promotes it, and the promotions bring on full
collections, which walk everything the process holds: the spec, the validators, the stored state.
Measured on a served push: 6 to 10% of its CPU, run against run. The objects built at start-up are
frozen out of the collector's way, and young collections wait for more new containers.
"""

from __future__ import annotations

import ctypes
import gc
import os

M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h
LARGE_BLOCK_BYTES = 1024 * 1024
YOUNG_COLLECTION_EVERY = 20_000  # new containers between young collections (CPython's default: 700)


def tune_served_process() -> None:
    """Both tunings, for a process that only serves the mock (call once its app is built)."""
    return_large_blocks()
    collect_less_often()


def return_large_blocks() -> bool:
    """Serve blocks of ``LARGE_BLOCK_BYTES`` or more with ``mmap`` for good: returned to the OS when
    freed. Whether it was set (False where the C library is not glibc)."""
    if not _glibc():
        return False
    process = ctypes.CDLL(None)  # the symbols already loaded, glibc's among them
    return bool(process.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(LARGE_BLOCK_BYTES)))


def collect_less_often() -> None:
    """Freeze what exists now (the app as built: never garbage) out of the collector's sight, and
    run young collections every ``YOUNG_COLLECTION_EVERY`` new containers, keeping the ratios
    between the older generations as they were."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, old)


def _glibc() -> bool:
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):  # not a name this platform knows
        return False
    return bool(version) and str(version).startswith("glibc")
