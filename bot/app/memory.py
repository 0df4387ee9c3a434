"""Keep the bot's resident memory near what it holds, not what a burst of searches once needed.

A full-text search over a million papers makes SQLite build doclists of tens of megabytes in
the reader thread that runs it. glibc serves such blocks with mmap at first, but after the first
one is freed it raises its mmap threshold (up to 32 MB), so later blocks come from the thread's
heap arena and stay resident after they are freed: 186 MB after a hundred searches, for a bot
that needs 60 (bench/README.md). Fixing the threshold keeps every large block in its own
mapping, returned to the system when it is freed; `trim_free_memory` hands back what small
blocks left behind once the bot is idle.

Both are glibc-only and best effort: elsewhere they do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
# Blocks from 256 KiB up get their own mapping (glibc's default starts at 128 KiB and moves).
_MMAP_THRESHOLD = 256 * 1024


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
        library.mallopt  # noqa: B018  # glibc has it; musl and others do not
        library.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return library


def return_large_blocks() -> bool:
    """Fix malloc's mmap threshold for the process; True when it took effect (call once, early)."""
    library = _libc()
    if library is None:
        return False
    return bool(library.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD))


def trim_free_memory() -> bool:
    """Give freed heap memory back to the system; True when some was returned."""
    library = _libc()
    if library is None:
        return False
    return bool(library.malloc_trim(0))
