"""The SQLite file: connections, numbered migrations, the single writer and a pool of readers.

Every write goes through one writer connection, one `BEGIN IMMEDIATE` transaction at a time, and
waits a bounded time for the lock (another process may hold it). Reads go through a small pool of
reader connections (WAL lets them run beside the writer and beside each other), so a slow query
never queues the others behind it; each read can carry a time budget that SQLite itself enforces
through a progress handler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.urls import redact_url

log = logging.getLogger(__name__)

T = TypeVar("T")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# How many SQLite VM steps run between two looks at a read's deadline: about 0.1 ms of work.
_PROGRESS_STEPS = 4000
DEFAULT_READERS = 3
DEFAULT_WRITE_WAIT = 5.0


class StorageError(Exception):
    """The database file cannot be used; the message says which file and why."""


class DatabaseMissing(StorageError):
    """The database file does not exist where it is expected (a read-only command, or it was deleted)."""


class DatabaseBusy(StorageError):
    """Another connection (often another process) held the write lock longer than we wait."""


class DatabaseFull(StorageError):
    """The disk (or the file system) holding the database is full."""


class DatabaseReadOnly(StorageError):
    """The database file or its folder cannot be written (read-only file system or permissions)."""


class QueryTimeout(StorageError):
    """A read ran past its time budget and SQLite stopped it."""


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


@dataclass(frozen=True, slots=True)
class Migration:
    """One forward-only schema step, numbered from 1."""

    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The migration's SQL split into complete statements (so they can run inside one transaction)."""
        found: list[str] = []
        buffer = ""
        for line in self.sql.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                statement = buffer.strip()
                if statement.strip(";").strip() and not all(
                    part.strip().startswith("--") or not part.strip() for part in statement.splitlines()
                ):
                    found.append(statement)
                buffer = ""
        if buffer.strip() and not all(p.strip().startswith("--") or not p.strip() for p in buffer.splitlines()):
            found.append(buffer.strip())
        return found


def load_migrations() -> list[Migration]:
    """Return the packaged migrations in order; numbers must run 1, 2, 3... without gaps."""
    found: list[Migration] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StorageError(f"migration {migration.name} is out of sequence (expected number {expected})")
    return found


def latest_schema_version() -> int:
    """Return the number of the newest packaged migration."""
    migrations = load_migrations()
    return migrations[-1].version if migrations else 0


class ProcessLock:
    """A lock file beside the database: every process using the database holds it shared; `db vacuum`
    needs it alone, so it can tell that the bot (or an ingest) is running instead of waiting on it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(f"{path}.lock")
        self._fd: int | None = None

    def acquire(self, *, exclusive: bool) -> bool:
        """Take the lock without waiting; False when another process holds it the other way."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return True  # a read-only folder: nothing can vacuum there either
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let go (closing the file releases the lock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class RunLockHeld(StorageError):
    """Another `digestbot run` serves this database already (it holds the run lock)."""


class RunLock:
    """`<db>.run.lock`, held exclusively by the one `digestbot run` serving a database, with its PID inside.

    SQLite gives one database one poller and one deliverer only if one bot process uses it: a second
    `run` would fetch and post every day twice over the same delivery ledger. Only `run` takes this
    lock (ingest, backfill, status and the rest work beside a running bot: they hold ProcessLock
    shared), and only on an engine that cannot coordinate several processes itself
    (`Database.SEVERAL_PROCESSES`). flock ends with the process, so a crashed bot leaves no stale lock.
    """

    def __init__(self, path: Path) -> None:
        self.database = Path(path)
        self.path = Path(f"{path}.run.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting, or raise RunLockHeld naming the file and the PID that holds it."""
        folder = self.database.parent
        if not folder.exists():
            raise StorageError(f"cannot open database {self.database}: folder {folder} does not exist")
        problem = _write_problem(self.database)
        if problem is not None:
            raise DatabaseReadOnly(problem)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(f"cannot open the run lock {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                written = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
            pid = f" (PID {written})" if written.isdigit() else ""
            raise RunLockHeld(
                f"another `digestbot run`{pid} is already serving {self.database} (it holds {self.path}); two bots on "
                "one SQLite database would both poll and both deliver. Stop that one first; ingest, backfill and "
                "status work beside it."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        """Let go: empty the file (no PID of a bot that stopped) and close it, which releases the lock."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None


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


def _redact_sql(value: object) -> object:
    """`redact_url()` in SQL, for migrations that clean URLs stored before they were redacted."""
    return redact_url(value) if isinstance(value, str) else value


async def _connect(path: Path, *, readonly: bool = False) -> aiosqlite.Connection:
    target = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = await aiosqlite.connect(target, uri=True, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


class Database:
    """An open digest database: one writer connection and a pool of reader connections."""

    # Whether several bot processes may serve this engine at once. SQLite: no, nothing here shares the
    # poll or the delivery ledger between processes, so `digestbot run` holds a RunLock. An engine
    # that coordinates processes itself (PostgreSQL, docs/scaling.md) says True and needs no run lock.
    SEVERAL_PROCESSES = False

    def __init__(self, path: Path, writer: aiosqlite.Connection, readers: list[_Reader], *,
                 write_wait: float, created: bool) -> None:
        self.path = path
        self._writer = writer
        self._readers = readers
        self._idle: asyncio.Queue[_Reader] = asyncio.Queue()
        for reader in readers:
            self._idle.put_nowait(reader)
        # Expensive reads (full-text searches) may use all but one reader, so a point lookup always finds one.
        self._heavy = asyncio.Semaphore(max(1, len(readers) - 1))
        self._write_lock = asyncio.Lock()
        self.write_wait = write_wait
        self._busy_wait = write_wait
        self.created = created
        self._identity = _file_identity(path)
        self._closed = False
        self._lock: ProcessLock | None = None
        # When the last search-sized read or write ended (monotonic), for `release_memory`: the
        # delivery tick's small reads every minute do not count, they fill no cache.
        self.last_used = time.monotonic()

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
            if leftover:
                raise DatabaseMissing(
                    f"database {path} is missing but {leftover[0].name} is still there: the database was deleted or moved. "
                    f"Restore it from a backup (digestbot db backup makes one), or delete {leftover[0].name} to start a new, empty database"
                )
        problem = _write_problem(path)
        if problem is not None:
            raise DatabaseReadOnly(problem)
        lock = ProcessLock(path)
        if not lock.acquire(exclusive=False):
            raise DatabaseBusy(f"database {path} is being compacted by `digestbot db vacuum`; try again when it has finished")
        try:
            writer = await _connect(path)
        except sqlite3.Error as exc:
            lock.release()
            raise translate_error(exc, path) from exc
        created = False
        try:
            await writer.execute(f"PRAGMA busy_timeout = {int(write_wait * 1000)}")
            await writer.create_function("redact_url", 1, _redact_sql, deterministic=True)
            if not exists or await _is_empty(writer):
                # Larger pages hold a paper's text without overflow chains: +20% ingest (bench/README.md).
                # Only takes effect on a new, empty file.
                await writer.execute("PRAGMA page_size = 16384")
            await _set_wal(writer, path)
            for pragma in ("foreign_keys = ON", "synchronous = NORMAL", "temp_store = MEMORY", "cache_size = -32000"):
                await writer.execute(f"PRAGMA {pragma}")
            if migrate:
                created = await apply_migrations(writer, path)
            pool: list[_Reader] = []
            for _ in range(max(1, readers)):
                conn = await _connect(path)
                for pragma in (f"busy_timeout = {int(write_wait * 1000)}", "temp_store = MEMORY", "cache_size = -16000", "query_only = ON"):
                    await conn.execute(f"PRAGMA {pragma}")
                deadline = _Deadline()
                await conn.set_progress_handler(deadline, _PROGRESS_STEPS)
                pool.append(_Reader(conn, deadline))
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
        database = cls(path, writer, pool, write_wait=write_wait, created=created)
        database._lock = lock
        return database

    async def close(self, *, optimize: bool = True) -> None:
        """Checkpoint the WAL (best effort: another process may be writing) and close every connection."""
        if self._closed:
            return
        self._closed = True
        for reader in self._readers:
            reader.deadline.at = 0.0  # end anything still running at once
        async with self._write_lock:
            if optimize:
                try:
                    await self._writer.execute("PRAGMA busy_timeout = 200")
                    await self._writer.execute("PRAGMA optimize")
                    await self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:
                    # Another process holds the database; it checkpoints when it closes.
                    log.debug("optimize/checkpoint on close of %s skipped: %s", self.path, exc)
            for reader in self._readers:
                await reader.conn.close()
            await self._writer.close()
        if self._lock is not None:
            self._lock.release()

    def interrupt_reads(self) -> None:
        """Stop every read in flight (shutdown): each ends with QueryTimeout at SQLite's next check."""
        for reader in self._readers:
            reader.deadline.at = 0.0

    # ----- reads ---------------------------------------------------------------------------

    @asynccontextmanager
    async def reading(self, *, budget: float | None = None, heavy: bool = False,
                      queue_wait: float | None = None) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow a reader connection; with `budget`, SQLite stops the reads that run past it.

        `heavy` reads (full-text searches) may occupy all readers but one; `queue_wait` bounds how
        long to wait for a free reader before DatabaseBusy.
        """
        if self._closed:
            raise StorageError(f"database {self.path} is closed")
        gate = self._heavy if heavy else None
        try:
            async with asyncio.timeout(queue_wait):
                if gate is not None:
                    await gate.acquire()
                try:
                    reader = await self._idle.get()
                except BaseException:
                    if gate is not None:
                        gate.release()
                    raise
        except TimeoutError:
            raise DatabaseBusy(f"every reader of {self.path} is busy") from None
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
            if not self._closed:
                reader.deadline.at = None
            self._idle.put_nowait(reader)
            if gate is not None:
                gate.release()
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
                while len(extras) + 1 < most and not self._heavy.locked() and not self._idle.empty():
                    await self._heavy.acquire()  # free: returns at once
                    reader = self._idle.get_nowait()
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
                    if not self._closed:
                        reader.deadline.at = None
                    self._idle.put_nowait(reader)
                    self._heavy.release()

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *,
                       budget: float | None = None) -> list[sqlite3.Row]:
        """Run one read query on a pooled reader and return every row."""
        async with self.reading(budget=budget) as conn:
            return list(await conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        """Run one read query and return its first row (None when there is none)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    # ----- writes --------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self, *, wait: float | None = None, begin: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """Run a block as one write transaction on the writer connection; roll back on error.

        Waits at most `wait` seconds (default: the database's write wait) for the write lock, held
        by this process or another, then raises DatabaseBusy. SQLite errors come out as
        StorageError subclasses that say what is wrong (DatabaseFull, DatabaseReadOnly, ...).
        """
        if self._closed:
            raise StorageError(f"database {self.path} is closed")
        limit = self.write_wait if wait is None else wait
        try:
            async with asyncio.timeout(limit):
                await self._write_lock.acquire()
        except TimeoutError:
            raise DatabaseBusy(f"cannot write the database: a long write is still running at {self.path}") from None
        try:
            started = time.monotonic()
            remaining = max(0.05, limit - (time.monotonic() - started))
            if abs(remaining - self._busy_wait) > 0.01:
                await self._writer.execute(f"PRAGMA busy_timeout = {int(remaining * 1000)}")
                self._busy_wait = remaining
            if not begin:
                # The caller runs the whole transaction in the writer's thread (see `write`).
                try:
                    yield self._writer
                except sqlite3.Error as exc:
                    raise translate_error(exc, self.path) from exc
                return
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from exc
            except BaseException:
                await self._quiet_rollback()
                raise
            try:
                yield self._writer
            except BaseException as exc:
                await self._quiet_rollback()
                if isinstance(exc, sqlite3.Error):
                    raise translate_error(exc, self.path) from exc
                raise
            try:
                await self._writer.commit()
            except sqlite3.Error as exc:
                await self._quiet_rollback()
                raise translate_error(exc, self.path) from exc
        finally:
            self._write_lock.release()
            self.last_used = time.monotonic()

    async def write(self, work: Callable[..., T], *args: Any, wait: float | None = None) -> T:
        """Run `work(connection, *args)` as one write transaction, all of it in the writer's own thread.

        One trip to the writer thread instead of one per statement: for small, frequent writes
        such as the delivery ledger's steps (a day posted to a thousand channels is 23,000 of them).
        `work` runs plain sqlite3 calls and must not await; errors come out as StorageError.
        """
        limit = self.write_wait if wait is None else wait
        async with self.transaction(wait=limit, begin=False):
            return await self._writer._execute(_in_transaction, work, self._writer._conn, *args)

    @property
    def reader_count(self) -> int:
        """How many reader connections the pool holds."""
        return len(self._readers)

    async def release_memory(self) -> int:
        """Let every connection not in use drop its page cache (`PRAGMA shrink_memory`); return how many did.

        For an idle bot: the caches refill from the operating system's file cache at the next
        search, which costs a few milliseconds once instead of tens of megabytes held all day.
        """
        if self._closed:
            return 0
        idle: list[_Reader] = []
        while not self._idle.empty():
            idle.append(self._idle.get_nowait())
        try:
            for reader in idle:
                await reader.conn.execute("PRAGMA shrink_memory")
            shrunk = len(idle)
            if not self._write_lock.locked():
                async with self._write_lock:
                    await self._writer.execute("PRAGMA shrink_memory")
                    shrunk += 1
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        finally:
            for reader in idle:
                self._idle.put_nowait(reader)
        return shrunk

    async def _quiet_rollback(self) -> None:
        try:
            await self._writer.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # nothing was open (the BEGIN itself failed)

    async def run_in_writer(self, work: Any, *args: Any) -> Any:
        """Run `work(connection, *args)` in the writer's own thread, inside a transaction the caller opened.

        For bulk work (an ingest of many papers) that would otherwise cross between threads once
        per statement. Only call it inside `transaction()`.
        """
        return await self._writer._execute(work, self._writer._conn, *args)

    # ----- the file --------------------------------------------------------------------------

    def file_problem(self) -> str | None:
        """Why the file we have open is no longer the one at our path (deleted, replaced), or None."""
        now = _file_identity(self.path)
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
        async with self._write_lock:
            await self._writer.execute("VACUUM INTO ?", (str(target),))
        return target

    async def schema_version(self) -> int:
        """Return the number of the last migration applied to this file."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def created_at(self) -> dt.datetime | None:
        """When this database file was created (as recorded in it)."""
        row = await self.fetchone("SELECT value FROM meta WHERE key = 'created_at'")
        return dt.datetime.fromisoformat(str(row[0])) if row else None


def _write_problem(path: Path) -> str | None:
    """Why the database cannot be written at all (a read-only file system, no permission), or None."""
    folder = path.resolve().parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"cannot write the database: read-only file system at {path}"
    except OSError:
        return None
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"cannot write the database: no permission to write {path} (or its folder)"
    return None


def _in_transaction(work: Callable[..., T], conn: sqlite3.Connection, *args: Any) -> T:
    """BEGIN IMMEDIATE, `work`, COMMIT (ROLLBACK on any error), in the calling (writer) thread."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn, *args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


async def _is_empty(conn: aiosqlite.Connection) -> bool:
    rows = await conn.execute_fetchall("SELECT count(*) FROM sqlite_schema")
    return int(next(iter(rows))[0]) == 0


async def _set_wal(conn: aiosqlite.Connection, path: Path) -> None:
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


async def apply_migrations(conn: aiosqlite.Connection, path: Path) -> bool:
    """Bring the file to the newest schema in one `BEGIN IMMEDIATE` transaction; return whether it was new.

    The version is read again once the write lock is held, so several processes opening a new
    file at once apply each migration exactly once: the others find the work done.
    """
    migrations = load_migrations()
    latest = migrations[-1].version if migrations else 0
    rows = await conn.execute_fetchall("PRAGMA user_version")
    if int(next(iter(rows))[0]) == latest:
        return False
    await conn.execute("BEGIN IMMEDIATE")
    try:
        rows = await conn.execute_fetchall("PRAGMA user_version")
        current = int(next(iter(rows))[0])
        if current > latest:
            raise StorageError(
                f"database {path} has schema version {current}, newer than this program knows ({latest}); "
                "upgrade arxiv-digest-bot or use another DIGESTBOT_DB"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            log.info("applying migration %s to %s", migration.name, path)
            try:
                for statement in migration.statements():
                    await conn.execute(statement)
            except sqlite3.Error as exc:
                raise StorageError(f"migration {migration.name} failed on {path}: {exc}") from exc
        if current == 0:
            await conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('created_at', ?)",
                (dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),),
            )
        await conn.execute(f"PRAGMA user_version = {latest}")
        await conn.commit()
    except BaseException:
        try:
            await conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        raise
    return current == 0
