"""An open SQLite database: the file checked and locked, the writer, the readers, the schema brought up to date.

Every write goes through one writer connection (storage/sqlite/writer.py); reads go through a
small pool of reader connections (storage/sqlite/readers.py); the file's care (lock files,
whether it is still the file we opened) is in storage/sqlite/files.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.errors import DatabaseBusy, DatabaseMissing, DatabaseReadOnly, StorageError
from storage.sqlite.connection import WRITER_PRAGMAS, connect, is_empty, set_wal, translate_error
from storage.sqlite.files import ProcessLock, file_identity, write_problem
from storage.sqlite.readers import ReaderPool
from storage.sqlite.schema import apply_migrations, redact_sql
from storage.sqlite.writer import Writer

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_READERS = 3
DEFAULT_WRITE_WAIT = 5.0


class Database:
    """An open digest database: one writer connection and a pool of reader connections."""

    # Whether several bot processes may serve this engine at once. SQLite: no, nothing here shares the
    # poll or the delivery ledger between processes, so `digestbot run` holds a RunLock. An engine
    # that coordinates processes itself (PostgreSQL, docs/scaling.md) says True and needs no run lock.
    SEVERAL_PROCESSES = False
    dialect = "sqlite"

    def __init__(self, path: Path, writer: Writer, readers: ReaderPool, lock: ProcessLock, *, created: bool) -> None:
        self.path = path
        self.name = str(path)
        self.label = path.name
        self._writer = writer
        self._readers = readers
        self._lock = lock
        self.created = created
        self._identity = file_identity(path)
        self._closed = False

    @classmethod
    async def open(
        cls, path: Path | str, *, migrate: bool = True, create: bool = True, readers: int = DEFAULT_READERS,
        write_wait: float = DEFAULT_WRITE_WAIT,
    ) -> Database:
        """Open the database file (creating it only when `create`), switch it to WAL and apply migrations.

        `created` on the result tells whether the file is new, so the bot can say so loudly. A
        missing file next to a leftover write-ahead log is refused outright: that is a deleted
        database, not a first start.
        """
        path = Path(path)
        if path.parent and not path.parent.exists():
            raise StorageError(f"cannot open database {path}: folder {path.parent} does not exist")
        exists = path.exists()
        if not exists:
            if not create:
                raise DatabaseMissing(
                    f"database {path} does not exist; check DIGESTBOT_DB (or --db), or start the bot once to create it"
                )
            rescued = sorted(path.parent.glob(f"{path.name}.rescued-*"))
            if rescued:
                raise DatabaseMissing(
                    f"database {path} is missing but the bot saved what it held to {rescued[-1].name} when it was deleted: "
                    f"move that file to {path.name} and start again (or move it away to start with a new, empty database)"
                )
            leftover = [p for p in (Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists() and p.stat().st_size > 0]
            # Looked at again: another process creating the database at this moment has its file
            # (SQLite creates it on open) before its journal, so a journal beside no file is a leftover.
            if leftover and not path.exists():
                raise DatabaseMissing(
                    f"database {path} is missing but {leftover[0].name} is still there: the database was deleted or moved. "
                    f"Restore it from a backup (digestbot db backup makes one), or delete {leftover[0].name} to start a new, empty database"
                )
        problem = write_problem(path)
        if problem is not None:
            raise DatabaseReadOnly(problem)
        lock = ProcessLock(path)
        if not lock.acquire(exclusive=False):
            raise DatabaseBusy(f"database {path} is being compacted (`digestbot db vacuum`) or copied (`digestbot db migrate-to`); try again when that has finished")
        try:
            writer = await connect(path)
        except sqlite3.Error as exc:
            lock.release()
            raise translate_error(exc, path) from exc
        created = False
        try:
            await writer.execute(f"PRAGMA busy_timeout = {int(write_wait * 1000)}")
            await writer.create_function("redact_url", 1, redact_sql, deterministic=True)
            if not exists or await is_empty(writer):
                # Larger pages hold a paper's text without overflow chains: +20% ingest (bench/README.md).
                # Only takes effect on a new, empty file.
                await writer.execute("PRAGMA page_size = 16384")
            await set_wal(writer, path)
            for pragma in WRITER_PRAGMAS:
                await writer.execute(f"PRAGMA {pragma}")
            if migrate:
                created = await apply_migrations(writer, path)
            pool = await ReaderPool.open(path, readers, write_wait)
        except sqlite3.Error as exc:
            await writer.close()
            lock.release()
            raise translate_error(exc, path) from exc
        except BaseException:
            await writer.close()
            lock.release()
            raise
        if created:
            log.info("created a new, empty database at %s", path.resolve())
        return cls(path, Writer(path, writer, write_wait), pool, lock, created=created)

    async def close(self, *, optimize: bool = True) -> None:
        """Checkpoint the WAL (best effort: another process may be writing) and close every connection."""
        if self._closed:
            return
        self._closed = True
        self._readers.interrupt()  # end anything still running at once
        self._writer.closed = True
        async with self._writer.exclusive() as conn:
            if optimize:
                try:
                    await conn.execute("PRAGMA busy_timeout = 200")
                    await conn.execute("PRAGMA optimize")
                    await conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:
                    # Another process holds the database; it checkpoints when it closes.
                    log.debug("optimize/checkpoint on close of %s skipped: %s", self.path, exc)
            await self._readers.close()
            await conn.close()
        self._lock.release()

    def interrupt_reads(self) -> None:
        """Stop every read in flight (shutdown): each ends with QueryTimeout at SQLite's next check."""
        self._readers.interrupt()

    # ----- reads: storage/sqlite/readers.py ------------------------------------------------

    def reading(self, *, budget: float | None = None, heavy: bool = False,
                queue_wait: float | None = None) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """Borrow a reader connection (see ReaderPool.reading)."""
        return self._readers.reading(budget=budget, heavy=heavy, queue_wait=queue_wait)

    def reading_parallel(self, *, most: int, budget: float | None = None,
                         queue_wait: float | None = None) -> AbstractAsyncContextManager[list[aiosqlite.Connection]]:
        """Borrow up to `most` readers for one search split into parts (see ReaderPool.reading_parallel)."""
        return self._readers.reading_parallel(most=most, budget=budget, queue_wait=queue_wait)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *,
                       budget: float | None = None) -> list[sqlite3.Row]:
        """Run one read query on a pooled reader and return every row."""
        return await self._readers.fetchall(sql, params, budget=budget)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        """Run one read query and return its first row (None when there is none)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @property
    def reader_count(self) -> int:
        """How many reader connections the pool holds."""
        return self._readers.count

    # ----- writes: storage/sqlite/writer.py ------------------------------------------------

    def transaction(self, *, wait: float | None = None,
                    begin: bool = True) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """Run a block as one write transaction on the writer connection (see Writer.transaction)."""
        return self._writer.transaction(wait=wait, begin=begin)

    async def write(self, work: Callable[..., T], *args: Any, wait: float | None = None) -> T:
        """Run `work(unit, *args)` as one write transaction in the writer's own thread (see Writer.write)."""
        return await self._writer.write(work, *args, wait=wait)

    @property
    def write_wait(self) -> float:
        """How long a write waits for the lock, in seconds."""
        return self._writer.write_wait

    # ----- memory and the file ---------------------------------------------------------------

    @property
    def last_used(self) -> float:
        """When the last search-sized read or any write ended (monotonic), for `release_memory`."""
        return max(self._readers.last_used, self._writer.last_used)

    async def release_memory(self) -> int:
        """Let every connection not in use drop its page cache (`PRAGMA shrink_memory`); return how many did.

        For an idle bot: the caches refill from the operating system's file cache at the next
        search, which costs a few milliseconds once instead of tens of megabytes held all day.
        """
        if self._closed:
            return 0
        return await self._readers.release_memory() + await self._writer.release_memory()

    def file_problem(self) -> str | None:
        """Why the file we have open is no longer the one at our path (deleted, replaced), or None."""
        now = file_identity(self.path)
        if now is None:
            return f"the database file {self.path} was deleted while the bot was running"
        if self._identity is not None and now != self._identity:
            return f"the database file {self.path} was replaced by another file while the bot was running"
        return None

    async def rescue_copy(self) -> Path:
        """Write what the open (deleted) database holds to a new file next to where it was; return its path."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.rescued-{stamp}")
        async with self.transaction(wait=30):
            pass  # wait for a write in flight to finish first
        async with self._writer.exclusive() as conn:
            await conn.execute("VACUUM INTO ?", (str(target),))
        return target

    async def schema_version(self) -> int:
        """Return the number of the last migration applied to this file."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def created_at(self) -> dt.datetime | None:
        """When this database file was created (as recorded in it)."""
        row = await self.fetchone("SELECT value FROM meta WHERE key = 'created_at'")
        return dt.datetime.fromisoformat(str(row[0])) if row else None
