"""The pool of reader connections: WAL lets them read beside the writer and beside each other.

A slow query never queues the others behind it: full-text searches ("heavy" reads) may use all
readers but one, so a point lookup always finds one. Each read can carry a time budget that
SQLite itself enforces through a progress handler.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from storage.errors import StorageError
from storage.lending import Lending
from storage.sqlite.connection import PROGRESS_STEPS, READER_PRAGMAS, connect, translate_error


class _Deadline:
    """A read's deadline, looked at by SQLite's progress handler from the connection's thread."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None

    def __call__(self) -> int:
        at = self.at
        return 1 if at is not None and time.monotonic() > at else 0


@dataclass(slots=True)
class _Reader:
    conn: aiosqlite.Connection
    deadline: _Deadline


class ReaderPool:
    """Reader connections lent out one read at a time."""

    def __init__(self, path: Path, readers: list[_Reader]) -> None:
        self.path = path
        self._readers = readers
        self._lending: Lending[_Reader] = Lending(readers, path)
        self.closed = False
        # When the last search-sized read ended (monotonic), for `release_memory`: the delivery
        # tick's small reads every minute do not count, they fill no cache.
        self.last_used = time.monotonic()

    @classmethod
    async def open(cls, path: Path, count: int, busy_wait: float) -> ReaderPool:
        """Open `count` reader connections (at least one)."""
        pool: list[_Reader] = []
        try:
            for _ in range(max(1, count)):
                conn = await connect(path)
                pool.append(_Reader(conn, _Deadline()))
                for pragma in (f"busy_timeout = {int(busy_wait * 1000)}", *READER_PRAGMAS):
                    await conn.execute(f"PRAGMA {pragma}")
                await conn.set_progress_handler(pool[-1].deadline, PROGRESS_STEPS)
        except BaseException:
            for reader in pool:
                await reader.conn.close()
            raise
        return cls(path, pool)

    @property
    def count(self) -> int:
        """How many reader connections the pool holds."""
        return len(self._readers)

    def interrupt(self) -> None:
        """Stop every read in flight: each ends with QueryTimeout at SQLite's next check."""
        for reader in self._readers:
            reader.deadline.at = 0.0

    async def close(self) -> None:
        """Close every reader connection."""
        self.closed = True
        for reader in self._readers:
            await reader.conn.close()

    @asynccontextmanager
    async def reading(self, *, budget: float | None = None, heavy: bool = False,
                      queue_wait: float | None = None) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow a reader connection; with `budget`, SQLite stops the reads that run past it.

        `heavy` reads (full-text searches) may occupy all readers but one; `queue_wait` bounds how
        long to wait for a free reader before DatabaseBusy.
        """
        if self.closed:
            raise StorageError(f"database {self.path} is closed")
        reader = await self._lending.take(heavy=heavy, queue_wait=queue_wait)
        reader.deadline.at = time.monotonic() + budget if budget is not None else None
        try:
            yield reader.conn
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        except BaseException:
            # Cancelled mid-query: stop the statement so the connection is free for the next reader.
            await reader.conn.interrupt()
            raise
        finally:
            if not self.closed:
                reader.deadline.at = None
            self._lending.give(reader, heavy=heavy)
            if heavy:
                self.last_used = time.monotonic()

    @asynccontextmanager
    async def reading_parallel(self, *, most: int, budget: float | None = None,
                               queue_wait: float | None = None) -> AsyncIterator[list[aiosqlite.Connection]]:
        """Borrow one reader as a heavy read does, plus up to `most - 1` more that are free right now.

        For a search split into parts run side by side. The extra readers are taken only if free
        without waiting, so two searches never wait on each other and a point lookup always finds
        a reader.
        """
        async with self.reading(budget=budget, heavy=True, queue_wait=queue_wait) as first:
            extras: list[_Reader] = []
            try:
                while len(extras) + 1 < most and (reader := await self._lending.take_extra()) is not None:
                    reader.deadline.at = time.monotonic() + budget if budget is not None else None
                    extras.append(reader)
                yield [first, *(r.conn for r in extras)]
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from exc
            except BaseException:
                for reader in extras:
                    await reader.conn.interrupt()
                raise
            finally:
                for reader in extras:
                    if not self.closed:
                        reader.deadline.at = None
                    self._lending.give(reader, heavy=True)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *,
                       budget: float | None = None) -> list[sqlite3.Row]:
        """Run one read query on a pooled reader and return every row."""
        async with self.reading(budget=budget) as conn:
            return list(await conn.execute_fetchall(sql, params))

    async def release_memory(self) -> int:
        """Let every reader not in use drop its page cache (`PRAGMA shrink_memory`); return how many did."""
        idle = self._lending.take_all_idle()
        try:
            for reader in idle:
                await reader.conn.execute("PRAGMA shrink_memory")
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        finally:
            for reader in idle:
                self._lending.give(reader, heavy=False)
        return len(idle)
