"""The single writer: every write goes through one connection, one `BEGIN IMMEDIATE` transaction at a time.

A write waits a bounded time for the lock (held by this process or another) and then fails with
DatabaseBusy; SQLite's errors come out as StorageError subclasses that say what is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.errors import DatabaseBusy, StorageError
from storage.sqlite.connection import translate_error

log = logging.getLogger(__name__)
T = TypeVar("T")


class Writer:
    """The writer connection and the lock that gives it to one transaction at a time."""

    def __init__(self, path: Path, conn: aiosqlite.Connection, write_wait: float) -> None:
        self.path = path
        self.conn = conn
        self.write_wait = write_wait
        self._busy_wait = write_wait
        self._lock = asyncio.Lock()
        self.closed = False
        self.last_used = time.monotonic()

    @asynccontextmanager
    async def transaction(self, *, wait: float | None = None, begin: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """Run a block as one write transaction on the writer connection; roll back on error.

        Waits at most `wait` seconds (default: the write wait) for the write lock, then raises
        DatabaseBusy. With `begin=False` the caller runs the whole transaction itself in the
        writer's thread (see `write`).
        """
        if self.closed:
            raise StorageError(f"database {self.path} is closed")
        limit = self.write_wait if wait is None else wait
        try:
            async with asyncio.timeout(limit):
                await self._lock.acquire()
        except TimeoutError:
            raise DatabaseBusy(f"cannot write the database: a long write is still running at {self.path}") from None
        try:
            started = time.monotonic()
            remaining = max(0.05, limit - (time.monotonic() - started))
            if abs(remaining - self._busy_wait) > 0.01:
                await self.conn.execute(f"PRAGMA busy_timeout = {int(remaining * 1000)}")
                self._busy_wait = remaining
            if not begin:
                try:
                    yield self.conn
                except sqlite3.Error as exc:
                    raise translate_error(exc, self.path) from exc
                return
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from exc
            except BaseException:
                await self._quiet_rollback()
                raise
            try:
                yield self.conn
            except BaseException as exc:
                await self._quiet_rollback()
                if isinstance(exc, sqlite3.Error):
                    raise translate_error(exc, self.path) from exc
                raise
            try:
                await self.conn.commit()
            except sqlite3.Error as exc:
                await self._quiet_rollback()
                raise translate_error(exc, self.path) from exc
        finally:
            self._lock.release()
            self.last_used = time.monotonic()

    async def write(self, work: Callable[..., T], *args: Any, wait: float | None = None) -> T:
        """Run `work(unit, *args)` as one write transaction, all of it in the writer's own thread.

        One trip to the writer thread instead of one per statement: for bulk work (an ingest of
        many papers) and for small, frequent writes such as the delivery ledger's steps (a day
        posted to a thousand channels is 23,000 of them). `work` makes plain DB-API calls on the
        unit (the same code runs on PostgreSQL) and must not await; errors come out as StorageError.
        """
        limit = self.write_wait if wait is None else wait
        async with self.transaction(wait=limit, begin=False):
            return await self.conn._execute(_in_transaction, work, self.path, self.conn._conn, *args)

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writer connection with no transaction and no other writer (VACUUM INTO, closing)."""
        async with self._lock:
            yield self.conn

    async def release_memory(self) -> int:
        """Drop the writer's page cache unless a write is running; return 1 when it did."""
        if self._lock.locked():
            return 0
        async with self._lock:
            try:
                await self.conn.execute("PRAGMA shrink_memory")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from exc
        return 1

    async def _quiet_rollback(self) -> None:
        try:
            await self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # nothing was open (the BEGIN itself failed)


class SqliteUnit:
    """The writer's sqlite3 connection as a unit of work sees it: the calls a PostgreSQL unit offers too."""

    dialect = "sqlite"
    Error: type[Exception] = sqlite3.Error

    __slots__ = ("execute", "executemany", "path", "raw")

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.raw = conn
        self.path = path
        # Bound methods taken once: an ingest makes tens of thousands of these calls.
        self.execute = conn.execute
        self.executemany = conn.executemany

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested step: undone alone when it fails, the transaction around it going on."""
        self.raw.execute("SAVEPOINT step")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK TO step")
            self.raw.execute("RELEASE step")
            raise
        self.raw.execute("RELEASE step")

    def translate(self, exc: Exception) -> StorageError:
        """What SQLite raised, as a StorageError saying what is wrong."""
        assert isinstance(exc, sqlite3.Error)
        return translate_error(exc, self.path)


def _in_transaction(work: Callable[..., T], path: Path, conn: sqlite3.Connection, *args: Any) -> T:
    """BEGIN IMMEDIATE, `work`, COMMIT (ROLLBACK on any error), in the calling (writer) thread."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(SqliteUnit(conn, path), *args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
