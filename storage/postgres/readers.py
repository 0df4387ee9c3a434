"""Reader connections to PostgreSQL, lent out as the SQLite engine lends its readers.

Full-text searches ("heavy" reads) may use all readers but one, so a point lookup always finds
one; each read can carry a time budget, enforced by cancelling the statement on the server
(psycopg sends the cancel when the awaiting task is cancelled), on top of a server-side
statement_timeout every reader has as a last resort. A reader the server has ended (a restart, a
failover) is found before it is lent, and replaced, so no read fails for a connection already gone.
"""

from __future__ import annotations

import asyncio
import select
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg

from storage.errors import QueryTimeout, StorageError
from storage.lending import Lending
from storage.postgres.connection import (
    CONNECT_TIMEOUT,
    AsyncPgConnection,
    Row,
    row_factory,
    translate_error,
)

# Longest a reader's statement may ever run, whatever the caller's budget (the server stops it).
READ_CEILING_MS = 60_000
# How long closing waits for the server to take the cancel requests of the reads in flight.
CANCEL_WAIT = 2.0


def _dropped(reader: AsyncPgConnection) -> bool:
    """True when the server has ended this idle reader (a restart, a failover, pg_terminate_backend).

    An idle autocommit connection has nothing to read: when its socket is readable, the server has
    sent its goodbye (a FATAL error and the end of the stream), or something unasked for that a fresh
    connection does without. A poll with no wait, no round trip to the server.
    """
    raw = reader.raw
    if raw.closed:
        return True
    try:
        fd = raw.pgconn.socket
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([fd], [], [], 0)[0])
    except (psycopg.Error, OSError, ValueError):
        return True


class PgReaderPool:
    """Autocommit reader connections; `reading` lends one."""

    def __init__(self, url: str, where: str, readers: list[AsyncPgConnection]) -> None:
        self._url = url
        self.where = where
        self._readers = readers
        self._lending: Lending[AsyncPgConnection] = Lending(readers, where)
        # Readers lent out (a read may be running on them), and cancel requests not yet answered.
        self._busy: set[AsyncPgConnection] = set()
        self._cancels: set[asyncio.Future[None]] = set()
        self.closed = False
        self.last_used = time.monotonic()

    @classmethod
    async def open(cls, url: str, where: str, count: int) -> PgReaderPool:
        """Open `count` reader connections (at least one)."""
        readers: list[AsyncPgConnection] = []
        try:
            for _ in range(max(1, count)):
                conn = await psycopg.AsyncConnection.connect(
                    url, autocommit=True, row_factory=row_factory, connect_timeout=CONNECT_TIMEOUT,
                    options=f"-c statement_timeout={READ_CEILING_MS} -c default_transaction_read_only=on")
                readers.append(AsyncPgConnection(conn, where))
        except psycopg.Error as exc:
            for reader in readers:
                await reader.raw.close()
            raise translate_error(exc, where) from exc
        return cls(url, where, readers)

    @property
    def count(self) -> int:
        """How many reader connections the pool holds."""
        return len(self._readers)

    def interrupt(self) -> None:
        """Stop every read in flight (shutdown): the server is asked to cancel their statements.

        Only a reader lent out can be running anything. Each cancel request is a new connection to
        the server, made without blocking the event loop (`cancel_safe`); `close` waits for them a
        bounded time. psycopg's `cancel()` connects and waits for the server's answer synchronously,
        holding the GIL: a server that does not answer (hung, or cut off by the network) froze the
        whole process, once per reader, idle ones included.
        """
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for reader in list(self._busy):
            if loop is not None:
                cancel = loop.create_task(self._cancel(reader))
                self._cancels.add(cancel)
                cancel.add_done_callback(self._cancels.discard)
            else:
                # No event loop to hold up (an exit handler): the plain request.
                try:
                    reader.raw.cancel()
                except psycopg.Error:
                    pass

    @staticmethod
    async def _cancel(reader: AsyncPgConnection) -> None:
        try:
            await reader.raw.cancel_safe(timeout=CANCEL_WAIT)
        except psycopg.Error:
            pass  # the read ends when its connection is closed, or when the server drops it

    async def close(self) -> None:
        """Close every reader connection (once the cancel requests of the reads in flight went out, or timed out)."""
        self.closed = True
        if self._cancels:
            await asyncio.wait(list(self._cancels), timeout=CANCEL_WAIT + 1)
        for reader in self._readers:
            await reader.raw.close()

    @asynccontextmanager
    async def reading(self, *, budget: float | None = None, heavy: bool = False,
                      queue_wait: float | None = None) -> AsyncIterator[AsyncPgConnection]:
        """Borrow a reader; with `budget`, statements running past it are cancelled (QueryTimeout)."""
        if self.closed:
            raise StorageError(f"database {self.where} is closed")
        reader = await self._lending.take(heavy=heavy, queue_wait=queue_wait)
        try:
            if _dropped(reader):
                # Found dead before use: replaced now, so no read fails for what a restart did.
                reader = await self._reconnect(reader)
        except BaseException:
            self._lending.give(reader, heavy=heavy)
            raise
        self._busy.add(reader)
        try:
            try:
                async with asyncio.timeout(budget):
                    yield reader
            except TimeoutError:
                raise QueryTimeout(f"a query on {self.where} ran past its time budget and was stopped") from None
            except psycopg.Error as exc:
                raise translate_error(exc, self.where) from exc
        finally:
            self._busy.discard(reader)
            await _end_transaction(reader)
            if reader.raw.closed and not self.closed:
                # The server dropped it (restart, network): a fresh connection replaces it.
                reader = await self._reconnect(reader)
            self._lending.give(reader, heavy=heavy)
            if heavy:
                self.last_used = time.monotonic()

    async def _reconnect(self, dead: AsyncPgConnection) -> AsyncPgConnection:
        try:
            await dead.raw.close()
        except psycopg.Error:
            pass
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, row_factory=row_factory, connect_timeout=CONNECT_TIMEOUT,
                options=f"-c statement_timeout={READ_CEILING_MS} -c default_transaction_read_only=on")
        except psycopg.Error:
            return dead  # tried again at the next borrow
        fresh = AsyncPgConnection(conn, self.where)
        self._readers[self._readers.index(dead)] = fresh
        return fresh

    @asynccontextmanager
    async def reading_parallel(self, *, most: int, budget: float | None = None,
                               queue_wait: float | None = None) -> AsyncIterator[list[AsyncPgConnection]]:
        """One reader as a heavy read takes it, plus up to `most - 1` more that are free right now."""
        async with self.reading(budget=budget, heavy=True, queue_wait=queue_wait) as first:
            extras: list[AsyncPgConnection] = []
            try:
                while len(extras) + 1 < most and (extra := await self._lending.take_extra()) is not None:
                    extras.append(extra)
                    if _dropped(extras[-1]):
                        extras[-1] = await self._reconnect(extras[-1])
                    self._busy.add(extras[-1])
                yield [first, *extras]
            finally:
                for reader in extras:
                    self._busy.discard(reader)
                    self._lending.give(reader, heavy=True)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *,
                       budget: float | None = None) -> list[Row]:
        """Run one read query on a pooled reader and return every row.

        A read that finds its connection dropped by the server (a restart, a failover) is run again
        (every idle reader may have been dropped with it; each is replaced as it is found): a read
        changes nothing, so trying it again is safe.
        """
        last = self.count + 1
        for attempt in range(1, last + 1):
            try:
                async with self.reading(budget=budget) as conn:
                    return await conn.execute_fetchall(sql, params)
            except StorageError as exc:
                dropped = isinstance(exc.__cause__, psycopg.OperationalError) and not isinstance(exc, QueryTimeout)
                if attempt == last or not dropped:
                    raise
        raise AssertionError("unreachable")


async def _end_transaction(reader: AsyncPgConnection) -> None:
    """A reader goes back to the pool outside any transaction (a search that read in a snapshot was cut off)."""
    if reader.raw.closed or reader.raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return
    try:
        await reader.raw.execute("ROLLBACK")
    except psycopg.Error:
        await reader.raw.close()  # replaced at once by the caller
