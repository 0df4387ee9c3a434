"""What the stores see of a database, whichever engine runs beneath, and opening one by its location.

The stores (papers, search, feeds, ledger, subscriptions, members, reading list, meta, sources)
are written against this interface only: reads on a pooled reader with an optional budget,
transactions, units of work run in the writer (plain DB-API code: `unit.execute`,
`unit.executemany`), the schema version. Where the two engines' SQL differs, a store writes
both forms side by side and picks one by `db.dialect`. SQLite (a file path) is the embedded
default; a `postgresql://` URL selects PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from storage.errors import StorageError

T = TypeVar("T")


class Connection(Protocol):
    """A connection lent for a read or a transaction."""

    async def execute(self, sql: str, params: Any = ...) -> Any:
        """Run one statement (rowcount on the result)."""

    async def execute_fetchall(self, sql: str, params: Any = ...) -> Any:
        """Run one statement and return its rows."""

    async def executemany(self, sql: str, params: Any) -> Any:
        """Run one statement for each set of parameters."""


class Unit(Protocol):
    """The connection a unit of work gets, in the writer's thread: DB-API calls, SQLite placeholders."""

    dialect: str
    Error: type[Exception]

    def execute(self, sql: str, params: Any = ...) -> Any:
        """Run one statement; the result has fetchone(), fetchall() and rowcount."""

    def executemany(self, sql: str, params: Any) -> Any:
        """Run one statement for each set of parameters."""

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested step, undone alone when it fails."""

    def translate(self, exc: Exception) -> Any:
        """An engine error as a StorageError."""


class Database(Protocol):
    """An open digest database (storage.sqlite.database.Database, storage.postgres.database.PostgresDatabase)."""

    dialect: str
    name: str
    label: str
    created: bool
    SEVERAL_PROCESSES: bool

    def reading(self, *, budget: float | None = ..., heavy: bool = ...,
                queue_wait: float | None = ...) -> AbstractAsyncContextManager[Any]:
        """Borrow a reader connection."""

    def reading_parallel(self, *, most: int, budget: float | None = ...,
                         queue_wait: float | None = ...) -> AbstractAsyncContextManager[list[Any]]:
        """Borrow several readers for one search split into parts."""

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ..., *,
                       budget: float | None = ...) -> list[Any]:
        """Run one read query and return every row."""

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ...) -> Any:
        """Run one read query and return its first row (None when there is none)."""

    def transaction(self, *, wait: float | None = ..., begin: bool = ...) -> AbstractAsyncContextManager[Any]:
        """Run a block as one write transaction."""

    async def write(self, work: Callable[..., T], *args: Any, wait: float | None = ...) -> T:
        """Run a unit of work (`work(unit, *args)`, DB-API calls) as one transaction in the writer."""

    @property
    def path(self) -> Path | None:
        """The SQLite file (None on PostgreSQL)."""

    @property
    def write_wait(self) -> float:
        """How long a write waits for the lock, in seconds."""

    @property
    def reader_count(self) -> int:
        """How many reader connections the pool holds."""

    @property
    def last_used(self) -> float:
        """When the last search-sized read or any write ended (monotonic)."""

    async def release_memory(self) -> int:
        """Let idle connections drop their caches; return how many did."""

    def file_problem(self) -> str | None:
        """Why the database under us is no longer the one we opened, or None."""

    async def rescue_copy(self) -> Path:
        """Save what the open database holds next to where it was (SQLite only)."""

    async def schema_version(self) -> int:
        """The number of the last migration applied."""

    async def created_at(self) -> dt.datetime | None:
        """When the database was created."""

    def interrupt_reads(self) -> None:
        """Stop every read in flight (shutdown)."""

    async def close(self, *, optimize: bool = ...) -> None:
        """Close every connection."""


def is_postgres(location: str | Path) -> bool:
    """True for a `postgresql://` (or `postgres://`) URL."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def pick(db: Database, *, sqlite: str, postgres: str) -> str:
    """One statement in the dialect of `db`'s engine (both forms written out where they differ)."""
    return postgres if db.dialect == "postgres" else sqlite


async def open_database(location: str | Path, *, migrate: bool = True, create: bool = True, readers: int = 3,
                        write_wait: float = 5.0, connect_patience: float = 30.0) -> Database:
    """Open the database at `location`: a SQLite file path, or a PostgreSQL URL.

    `connect_patience`: how long to keep trying a PostgreSQL server that is down (a line per try).
    """
    if is_postgres(location):
        try:
            # psycopg is needed only for PostgreSQL (the `postgres` extra).
            from storage.postgres.database import PostgresDatabase
        except ImportError as exc:
            raise StorageError("a PostgreSQL database needs its driver: install the bot with "
                               f"`pip install '.[postgres]'` ({exc})") from exc
        return await PostgresDatabase.open(str(location), migrate=migrate, create=create, readers=readers,
                                           write_wait=write_wait, patience=connect_patience)
    from storage.sqlite.database import Database as SqliteDatabase

    return await SqliteDatabase.open(Path(location), migrate=migrate, create=create, readers=readers,
                                     write_wait=write_wait)


# Milliseconds since 1970 by the database's own clock, in each engine's SQL: on PostgreSQL one
# clock for every host, which is what leases and booked slots shared by several hosts need.
NOW_MS = {
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    "postgres": "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
}


class RunLock(Protocol):
    """Held by each `digestbot run` process serving a database (one on SQLite, k of n on PostgreSQL)."""

    async def acquire(self) -> None:
        """Take it, or raise RunLockHeld saying who holds it."""

    async def release(self) -> None:
        """Let it go."""

    async def poll_turn(self) -> bool:
        """True when this process is the one that polls the digest source."""

    async def held(self) -> bool:
        """False once the lock is lost under the running process (its connection ended)."""


class _FileRunLock:
    def __init__(self, path: Path) -> None:
        from storage.sqlite.files import RunLock as FileRunLock

        self._lock = FileRunLock(path)

    async def acquire(self) -> None:
        self._lock.acquire()

    async def release(self) -> None:
        self._lock.release()

    async def poll_turn(self) -> bool:
        return True  # one process serves a SQLite file: it polls

    async def held(self) -> bool:
        return True  # the kernel holds a file lock as long as the process lives


def run_lock(location: str | Path, process: tuple[int, int] = (0, 1), shards: int | None = None) -> RunLock:
    """The run lock of process `process` (k, n) at `location`: a lock file beside a SQLite file, advisory locks on PostgreSQL."""
    if is_postgres(location):
        from storage.postgres.locks import PgRunLock

        return PgRunLock(str(location), process, shards)
    if process[1] > 1:
        raise StorageError("several bot processes (DIGESTBOT_PROCESS) need a PostgreSQL database (DIGESTBOT_DATABASE_URL); "
                           "one process serves a SQLite file")
    return _FileRunLock(Path(location))


def latest_schema_version(dialect: str) -> int:
    """The newest packaged migration of an engine ("sqlite" or "postgres"): each numbers its own."""
    if dialect == "postgres":
        from storage.postgres.schema import latest_schema_version as latest_postgres

        return latest_postgres()
    from storage.sqlite.schema import latest_schema_version as latest_sqlite

    return latest_sqlite()
