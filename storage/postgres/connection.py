"""Connections to PostgreSQL (psycopg 3): rows as both engines give them, errors as sentences, SQL translated.

Statements are written with SQLite's placeholders and translated (storage/postgres/dialect.py).
Rows can be read by position and by column name, as sqlite3.Row can, so a store reads rows the
same way on either engine. Two shapes of connection: `AsyncPgConnection` for the event loop
(reads, transactions) and `SyncUnit` for a unit of work run in a thread (the ingest's batch
store, the ledger's group commit), which is plain DB-API code on either engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, ClassVar

import psycopg
from psycopg import errors as pg_errors

from storage.errors import (
    DatabaseBusy,
    DatabaseFull,
    DatabaseMissing,
    DatabaseReadOnly,
    QueryTimeout,
    StorageError,
)
from storage.postgres.dialect import shown_url, to_pyformat

Params = Sequence[Any] | dict[str, Any]


# Seconds a connection attempt may take: a server that accepts TCP but never answers (hung,
# overloaded) fails the attempt instead of holding a reader, the writer or a start forever.
CONNECT_TIMEOUT = 10


class Row(tuple[Any, ...]):
    """A result row readable by position (`row[0]`) and by column name (`row["id"]`), like sqlite3.Row."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """Column names, in order (so `dict(row)` works as on SQLite)."""
        return list(self._index)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {name: i for i, name in enumerate(names)}})


def row_factory(cursor: Any) -> Any:
    """psycopg row factory: rows of a Row class made once per result shape."""
    description = cursor.description
    if description is None:
        return tuple
    return _row_class(tuple(column.name for column in description))


def translate_error(exc: psycopg.Error, where: str) -> StorageError:
    """Turn what PostgreSQL (or the connection to it) raised into an error that says what is wrong."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, pg_errors.QueryCanceled):
        return QueryTimeout(f"a query on {where} ran past its time budget and was stopped")
    if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.DeadlockDetected | pg_errors.SerializationFailure):
        return DatabaseBusy(f"cannot write the database: it is locked by another connection at {where}")
    if isinstance(exc, pg_errors.DiskFull | pg_errors.OutOfMemory):
        return DatabaseFull(f"cannot write the database: the server's disk is full at {where}")
    if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
        return DatabaseReadOnly(f"cannot write the database: the server is read-only (a standby?) at {where}")
    if isinstance(exc, pg_errors.InvalidCatalogName):
        return DatabaseMissing(f"database {where} does not exist; create it (createdb) or check DIGESTBOT_DATABASE_URL")
    if isinstance(exc, psycopg.OperationalError):
        return StorageError(f"cannot reach the database server {where}: {text}")
    return StorageError(f"database {where}: {text}")


class Cursor:
    """What a statement left: its rows and how many rows it changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Row | None:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Row]:
        """Every row."""
        return self._rows

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


class AsyncPgConnection:
    """An async psycopg connection with the methods the stores call on an aiosqlite connection."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], where: str) -> None:
        self.raw = conn
        self.where = where

    async def execute(self, sql: str, params: Params = (), *, binary: bool = False) -> Cursor:
        """Run one statement; its rows (if any) and row count come back.

        `binary`: the rows come in PostgreSQL's binary format (bytea as its bytes, not hex: a third
        of the time for the search index's arrays); the values are the same Python objects.
        """
        cursor = await self.raw.execute(to_pyformat(sql), params or None, binary=binary)
        rows = await cursor.fetchall() if cursor.description is not None else []
        return Cursor(rows, cursor.rowcount)

    async def execute_fetchall(self, sql: str, params: Params = (), *, binary: bool = False) -> list[Row]:
        """Run one statement and return every row (`binary` as for execute)."""
        return (await self.execute(sql, params, binary=binary)).fetchall()

    async def executemany(self, sql: str, params: Iterable[Params]) -> None:
        """Run one statement for each set of parameters."""
        async with self.raw.cursor() as cursor:
            await cursor.executemany(to_pyformat(sql), list(params))


class SyncUnit:
    """A sync psycopg connection for a unit of work: the same calls as a sqlite3.Connection makes."""

    dialect = "postgres"
    Error: type[Exception] = psycopg.Error

    def __init__(self, conn: psycopg.Connection[Any], where: str) -> None:
        self.raw = conn
        self.where = where

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested step: undone alone when it fails, the transaction around it going on."""
        with self.raw.transaction():
            yield

    def translate(self, exc: Exception) -> StorageError:
        """What PostgreSQL raised, as a StorageError saying what is wrong."""
        assert isinstance(exc, psycopg.Error)
        return translate_error(exc, self.where)

    def execute(self, sql: str, params: Params = (), *, binary: bool = False) -> Cursor:
        """Run one statement; its rows (if any) and row count come back (`binary`: AsyncPgConnection.execute).

        Never as a prepared statement: psycopg prepares a statement run five times, and PostgreSQL
        may then keep a generic plan costed on the statistics of that moment. An ingest fills tables
        faster than autovacuum analyzes them, so a plan chosen for a near-empty table stayed: the
        lookup of a batch's 500 known arXiv ids became a scan of every paper (170 ms a lookup at
        25,000 papers, 4 s of a 10 s ingest). Planned afresh each time, it is an index scan. Rows
        sent with executemany are still prepared (an INSERT has no plan to get wrong).
        """
        cursor = self.raw.execute(to_pyformat(sql), params or None, prepare=False, binary=binary)
        rows = cursor.fetchall() if cursor.description is not None else []
        return Cursor(rows, cursor.rowcount)

    def executemany(self, sql: str, params: Iterable[Params]) -> None:
        """Run one statement for each set of parameters."""
        with self.raw.cursor() as cursor:
            cursor.executemany(to_pyformat(sql), list(params))

    def copy_rows(self, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """COPY rows into `table` in the binary format (`types`: the columns' PostgreSQL types).

        The fastest way in for many rows (the search index writes thousands a day): no statement per
        row, the server inserts them in batches, bytea goes as its bytes.
        """
        with self.raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)


def describe(url: str) -> str:
    """The URL as it may be printed, never a password."""
    return shown_url(url)
