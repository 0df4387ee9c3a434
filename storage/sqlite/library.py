"""Process-wide SQLite set-up, done once before the first connection opens.

SQLite keeps allocation statistics by default, behind one process-wide mutex taken on every
malloc and free. With it on, reader connections in several threads serialise on that mutex: two
threads running queries took three times as long as one (bench/README.md). Statistics are only
read by `sqlite3_memory_used()`, which nothing here calls, so they are switched off; single
queries get about 10-20% faster and readers run in parallel on all cores.

`sqlite3_config()` may only be called while SQLite is not initialised, so this must run before
any connection is opened in the process (the CLI does it first thing). It is best effort: where
the library cannot be reached it does nothing.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

_SQLITE_CONFIG_MEMSTATUS = 9
_done = False


def disable_memory_statistics() -> bool:
    """Switch off SQLite's allocation statistics for this process; True when it took effect."""
    global _done
    if _done:
        return True
    try:
        import _sqlite3

        library = ctypes.CDLL(_sqlite3.__file__)
        if library.sqlite3_shutdown() != 0:
            return False
        configured = library.sqlite3_config(_SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0
        library.sqlite3_initialize()
    except (OSError, AttributeError, ImportError) as exc:
        log.debug("SQLite memory statistics left on: %s", exc)
        return False
    _done = configured
    return configured
