"""An open PostgreSQL database: the same interface as the SQLite engine's Database, over psycopg 3.

Reads go through a pool of autocommit reader connections (storage/postgres/readers.py), writes
through one transaction connection and one unit-of-work connection (storage/postgres/writer.py);
the schema is migrated at open under an advisory lock (storage/postgres/schema.py). A server
that cannot be reached at start is tried again for a while, with one line per try.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import psycopg

from storage.errors import StorageError
from storage.postgres.connection import (
    CONNECT_TIMEOUT,
    AsyncPgConnection,
    Row,
    describe,
    row_factory,
    translate_error,
)
from storage.postgres.readers import PgReaderPool
from storage.postgres.schema import apply_migrations, schema_version
from storage.postgres.writer import PgWriter

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_READERS = 3
DEFAULT_WRITE_WAIT = 5.0
# How long `open` keeps trying a server that is down (a bot started before its database, say).
CONNECT_PATIENCE = 30.0


class PostgresDatabase:
    """An open digest database on a PostgreSQL server."""

    dialect = "postgres"
    # Several bot processes share one PostgreSQL database (DIGESTBOT_PROCESS): one poller, each
    # delivery claimed by one process (storage/postgres/locks.py, storage/ledger.py).
    SEVERAL_PROCESSES = True

    def __init__(self, url: str, writer: PgWriter, readers: PgReaderPool, *, created: bool) -> None:
        self.url = url
        self.name = describe(url)
        self.label = self.name
        self.path = None
        self._writer = writer
        self._readers = readers
        self.created = created
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, create: bool = True, readers: int = DEFAULT_READERS,
                   write_wait: float = DEFAULT_WRITE_WAIT, patience: float = CONNECT_PATIENCE) -> PostgresDatabase:
        """Connect (waiting up to `patience` seconds for a server that is down), migrate, open the readers.

        `create` is accepted for the SQLite engine's sake: a PostgreSQL database is made by its
        operator (createdb); an empty one gets the schema here.
        """
        where = describe(url)
        conn = await _connect_patiently(url, where, patience)
        created = False
        try:
            if migrate:
                created = await apply_migrations(conn, where)
            elif await schema_version(conn) == 0 and not create:
                raise StorageError(f"database {where} holds no arxiv-digest-bot schema yet; start the bot once to create it")
        except psycopg.Error as exc:
            raise translate_error(exc, where) from exc
        finally:
            await conn.close()
        pool = await PgReaderPool.open(url, where, readers)
        if created:
            log.info("created the schema in the empty database %s", where)
        return cls(url, PgWriter(url, where, write_wait), pool, created=created)

    async def close(self, *, optimize: bool = True) -> None:
        """Close every connection (writes in flight finish first)."""
        if self._closed:
            return
        self._closed = True
        self._readers.interrupt()
        await self._writer.close()
        await self._readers.close()

    def interrupt_reads(self) -> None:
        """Stop every read in flight (shutdown)."""
        self._readers.interrupt()

    # ----- reads -----------------------------------------------------------------------------

    def reading(self, *, budget: float | None = None, heavy: bool = False,
                queue_wait: float | None = None) -> AbstractAsyncContextManager[AsyncPgConnection]:
        """Borrow a reader connection (see PgReaderPool.reading)."""
        return self._readers.reading(budget=budget, heavy=heavy, queue_wait=queue_wait)

    def reading_parallel(self, *, most: int, budget: float | None = None,
                         queue_wait: float | None = None) -> AbstractAsyncContextManager[list[AsyncPgConnection]]:
        """Borrow up to `most` readers for one search split into parts."""
        return self._readers.reading_parallel(most=most, budget=budget, queue_wait=queue_wait)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *,
                       budget: float | None = None) -> list[Row]:
        """Run one read query on a pooled reader and return every row."""
        return await self._readers.fetchall(sql, params, budget=budget)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        """Run one read query and return its first row (None when there is none)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @property
    def reader_count(self) -> int:
        """How many reader connections the pool holds."""
        return self._readers.count

    # ----- writes ----------------------------------------------------------------------------

    def transaction(self, *, wait: float | None = None,
                    begin: bool = True) -> AbstractAsyncContextManager[AsyncPgConnection]:
        """Run a block as one write transaction (see PgWriter.transaction)."""
        return self._writer.transaction(wait=wait, begin=begin)

    async def write(self, work: Callable[..., T], *args: Any, wait: float | None = None) -> T:
        """Run `work(unit, *args)` as one transaction in a thread (see PgWriter.write)."""
        return await self._writer.write(work, *args, wait=wait)

    @property
    def write_wait(self) -> float:
        """How long a write waits for locks, in seconds."""
        return self._writer.write_wait

    # ----- housekeeping ------------------------------------------------------------------------

    @property
    def last_used(self) -> float:
        """When the last search-sized read or any write ended (monotonic)."""
        return max(self._readers.last_used, self._writer.last_used)

    async def release_memory(self) -> int:
        """Nothing to release here: PostgreSQL's caches are the server's (shared_buffers)."""
        return 0

    def file_problem(self) -> str | None:
        """Always None: there is no file of ours to lose (the server keeps the data)."""
        return None

    async def rescue_copy(self) -> Any:
        """Not for PostgreSQL (its data cannot vanish under the bot as a deleted file can)."""
        raise StorageError(f"{self.name} is a PostgreSQL database: back it up with pg_dump, not a rescue copy")

    async def schema_version(self) -> int:
        """The number of the last migration applied to this database."""
        row = await self.fetchone("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return int(row[0]) if row else 0

    async def created_at(self) -> dt.datetime | None:
        """When this database got its schema (as recorded in it)."""
        row = await self.fetchone("SELECT value FROM meta WHERE key = 'created_at'")
        return dt.datetime.fromisoformat(str(row[0])) if row else None


async def _connect_patiently(url: str, where: str, patience: float) -> psycopg.AsyncConnection[Any]:
    """Connect, trying again with growing waits while the server is down, a sentence per try."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    delay = 0.5
    while True:
        try:
            # Autocommit: the migrations open their own transaction (a real one, not a savepoint).
            # Each try bounded too (a server that accepts and never answers); psycopg's least is 2 s.
            attempt = max(2, min(CONNECT_TIMEOUT, math.ceil(deadline - loop.time())))
            return await psycopg.AsyncConnection.connect(url, row_factory=row_factory, autocommit=True,
                                                         connect_timeout=attempt)
        except psycopg.OperationalError as exc:
            error = translate_error(exc, where)
            if "does not exist" in str(exc) or loop.time() + delay > deadline:
                raise error from exc
            log.error("%s; trying again in %.1f s", error, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
