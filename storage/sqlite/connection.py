"""Connections to the SQLite file: how they are opened and set up, and SQLite's errors as sentences."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import aiosqlite

from storage.errors import DatabaseBusy, DatabaseFull, DatabaseReadOnly, QueryTimeout, StorageError

# How many SQLite VM steps run between two looks at a read's deadline: about 0.1 ms of work.
PROGRESS_STEPS = 4000
# secure_delete: what /forget me deletes is overwritten in the file, whatever the SQLite build defaults to.
WRITER_PRAGMAS = ("foreign_keys = ON", "synchronous = NORMAL", "temp_store = MEMORY", "cache_size = -32000", "secure_delete = ON")
READER_PRAGMAS = ("temp_store = MEMORY", "cache_size = -16000", "query_only = ON")


def translate_error(exc: sqlite3.Error, path: Path) -> StorageError:
    """Turn what SQLite raised into an error that names the file and the cause in a sentence."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlite3.OperationalError) and "interrupted" in lowered:
        return QueryTimeout(f"a query on {path} ran past its time budget and was stopped")
    if "database is locked" in lowered or "database is busy" in lowered or "database table is locked" in lowered:
        return DatabaseBusy(f"cannot write the database: it is locked by another connection at {path}")
    if "disk is full" in lowered or getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return DatabaseFull(f"cannot write the database: disk full at {path}")
    if "readonly" in lowered or "read-only" in lowered:
        return DatabaseReadOnly(f"cannot write the database: read-only file system or file at {path}")
    if "disk i/o error" in lowered or "unable to open" in lowered:
        return StorageError(f"cannot use the database: {text} at {path}")
    return StorageError(f"database {path}: {text}")


async def connect(path: Path, *, readonly: bool = False) -> aiosqlite.Connection:
    """Open a connection in autocommit mode (transactions are begun explicitly), rows addressable by name."""
    target = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = await aiosqlite.connect(target, uri=True, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


async def is_empty(conn: aiosqlite.Connection) -> bool:
    """True for a file with no schema yet (new, or created empty by someone else)."""
    rows = await conn.execute_fetchall("SELECT count(*) FROM sqlite_schema")
    return int(next(iter(rows))[0]) == 0


async def set_wal(conn: aiosqlite.Connection, path: Path) -> None:
    """Switch to WAL; several processes opening a new file at once may have to wait their turn."""
    deadline = time.monotonic() + 30
    while True:
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
