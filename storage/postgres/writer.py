"""Writes on PostgreSQL: async transactions on one connection, units of work on a sync one in a thread.

One transaction at a time per connection, as on SQLite, each waiting a bounded time for row
locks held elsewhere (lock_timeout = the write wait) before DatabaseBusy. A unit of work (the
ingest's batch store, the ledger's group commit) is plain DB-API code: it runs in a thread on a
sync connection, inside one transaction, exactly as it runs in the SQLite writer's thread.
A connection the server dropped is replaced at the next write; the write that was cut off is
rolled back by the server, so nothing is ever half stored.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from typing import Any, TypeVar

import psycopg

from storage.errors import DatabaseBusy, StorageError
from storage.postgres.connection import (
    CONNECT_TIMEOUT,
    AsyncPgConnection,
    SyncUnit,
    row_factory,
    translate_error,
)

T = TypeVar("T")


class PgWriter:
    """The writing connections and the locks that give each to one transaction at a time."""

    def __init__(self, url: str, where: str, write_wait: float) -> None:
        self._url = url
        self.where = where
        self.write_wait = write_wait
        self._conn: AsyncPgConnection | None = None
        self._unit: psycopg.Connection[Any] | None = None
        self._lock = asyncio.Lock()
        self._unit_lock = asyncio.Lock()
        self._unit_thread_lock = threading.Lock()
        self.closed = False
        self.last_used = time.monotonic()

    def _options(self, wait: float) -> str:
        return f"-c lock_timeout={int(wait * 1000)}"

    async def _connection(self) -> AsyncPgConnection:
        if self._conn is None or self._conn.raw.closed or self._conn.raw.broken:
            try:
                raw = await psycopg.AsyncConnection.connect(self._url, row_factory=row_factory, connect_timeout=CONNECT_TIMEOUT,
                                                           options=self._options(self.write_wait))
            except psycopg.Error as exc:
                raise translate_error(exc, self.where) from exc
            self._conn = AsyncPgConnection(raw, self.where)
        return self._conn

    @asynccontextmanager
    async def transaction(self, *, wait: float | None = None, begin: bool = True) -> AsyncIterator[AsyncPgConnection]:
        """Run a block as one transaction; roll back on error. `wait` bounds the wait for locks (DatabaseBusy)."""
        if self.closed:
            raise StorageError(f"database {self.where} is closed")
        limit = self.write_wait if wait is None else wait
        try:
            async with asyncio.timeout(limit):
                await self._lock.acquire()
        except TimeoutError:
            raise DatabaseBusy(f"cannot write the database: a long write is still running at {self.where}") from None
        try:
            async with AsyncExitStack() as stack:
                conn = await self._begin(stack)
                try:
                    if limit != self.write_wait:
                        await conn.raw.execute(f"SET LOCAL lock_timeout = {int(limit * 1000)}")
                    yield conn
                except psycopg.Error as exc:
                    raise translate_error(exc, self.where) from exc
        finally:
            self._lock.release()
            self.last_used = time.monotonic()

    async def _begin(self, stack: AsyncExitStack) -> AsyncPgConnection:
        """BEGIN on the transaction connection; one the server dropped (a restart) is replaced first.

        Nothing was written when BEGIN itself fails, so beginning again on a fresh connection is safe.
        """
        for attempt in (1, 2):
            conn = await self._connection()
            try:
                await stack.enter_async_context(conn.raw.transaction())
                return conn
            except psycopg.OperationalError as exc:
                if attempt == 2:
                    raise translate_error(exc, self.where) from exc
                await conn.raw.close()
        raise AssertionError("unreachable")

    async def write(self, work: Callable[..., T], *args: Any, wait: float | None = None) -> T:
        """Run `work(unit, *args)` as one transaction in a thread, on the sync connection (DB-API calls, no awaits)."""
        if self.closed:
            raise StorageError(f"database {self.where} is closed")
        limit = self.write_wait if wait is None else wait
        try:
            async with asyncio.timeout(limit):
                await self._unit_lock.acquire()
        except TimeoutError:
            raise DatabaseBusy(f"cannot write the database: a long write is still running at {self.where}") from None
        try:
            return await asyncio.to_thread(self._run_unit, work, args, limit)
        finally:
            self._unit_lock.release()
            self.last_used = time.monotonic()

    def _run_unit(self, work: Callable[..., T], args: tuple[Any, ...], wait: float) -> T:
        with self._unit_thread_lock:
            try:
                with ExitStack() as stack:
                    unit = self._begin_unit(stack)
                    if wait != self.write_wait:
                        unit.execute(f"SET LOCAL lock_timeout = {int(wait * 1000)}")
                    return work(SyncUnit(unit, self.where), *args)
            except psycopg.Error as exc:
                raise translate_error(exc, self.where) from exc

    def _begin_unit(self, stack: ExitStack) -> psycopg.Connection[Any]:
        """BEGIN on the unit-of-work connection, replacing one the server dropped (as `_begin`)."""
        for attempt in (1, 2):
            if self._unit is None or self._unit.closed or self._unit.broken:
                self._unit = psycopg.Connection.connect(self._url, row_factory=row_factory,
                                                        options=self._options(self.write_wait))
            try:
                stack.enter_context(self._unit.transaction())
                return self._unit
            except psycopg.OperationalError:
                if attempt == 2:
                    raise
                self._unit.close()
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Wait for the writes in flight, then close both connections."""
        self.closed = True
        async with self._lock, self._unit_lock:
            if self._conn is not None:
                await self._conn.raw.close()
            if self._unit is not None:
                await asyncio.to_thread(self._unit.close)
