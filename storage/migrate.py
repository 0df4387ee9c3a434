"""Copying a SQLite database into an empty PostgreSQL one (`digestbot db migrate-to URL`), resumably.

The PostgreSQL database gets the project's own schema first (storage/postgres/migrations, by
the caller through open_database); then every table is copied with COPY, rows streamed in
batches from one read snapshot of the SQLite file, ids kept. Each table is copied in a
transaction of its own, together with its identity sequence moved past the largest id and
the progress marker, so a table is in PostgreSQL whole or not at all: a copy cut off (Ctrl-C,
a dropped connection, a killed process) is run again and goes on with the first table not yet
copied. The marker is the meta row `migrated_from`: the source file's identity (path, inode,
size and modification time of the file and of its write-ahead log), the tables copied, whether
the search index was built, when the copy finished. A source that changed since the copy
began (the bot ran on it meanwhile) is not resumed: `restart` empties the copy and begins
again. The caller keeps the bot away from the file meanwhile (`source_locks`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from storage.errors import RunLockHeld, StorageError
from storage.postgres.connection import SyncUnit, row_factory, translate_error
from storage.postgres.dialect import shown_url
from storage.postgres.locks import RUN_LOCK as PG_RUN_LOCK
from storage.postgres.search_index import rebuild_index
from storage.sqlite.files import ProcessLock, RunLock
from storage.sqlite.schema import latest_schema_version

# Every table of the schema, parents before the tables that refer to them.
TABLES = (
    "meta", "papers", "paper_categories", "digests", "digest_files", "digest_papers", "channel_feeds",
    "deliveries", "source_fetches", "poll_runs", "subscriptions", "user_settings", "saved_papers",
    "member_languages", "feedback", "member_models", "member_models_stale", "feed_alerts",
    "gateway_identify_slots",
)
MARKER = "migrated_from"
# Rows read from SQLite at a time: a few MB of papers, whatever the size of the database.
BATCH_ROWS = 2000


@dataclass(slots=True)
class Progress:
    """What the marker in the target says: where the copy came from and how far it got."""

    source: dict[str, Any]
    started_at: str
    tables: list[str] = field(default_factory=list)
    indexed: bool = False
    finished_at: str | None = None

    def dumps(self) -> str:
        return json.dumps({"source": self.source, "started_at": self.started_at, "tables": self.tables,
                           "indexed": self.indexed, "finished_at": self.finished_at}, sort_keys=True)

    @classmethod
    def loads(cls, text: str) -> Progress:
        data = json.loads(text)
        return cls(data["source"], data["started_at"], list(data["tables"]), bool(data["indexed"]), data["finished_at"])


@dataclass(frozen=True, slots=True)
class TableCount:
    """One line of the final check: rows in SQLite and in PostgreSQL."""

    table: str
    sqlite: int
    postgres: int

    @property
    def ok(self) -> bool:
        return self.sqlite == self.postgres


def source_identity(path: Path) -> dict[str, Any]:
    """What tells this SQLite file, as it is now, from another file or from itself after a write."""
    stat = os.stat(path)
    identity: dict[str, Any] = {"path": str(path.resolve()), "inode": stat.st_ino, "size": stat.st_size,
                                "mtime_ns": stat.st_mtime_ns}
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        identity["wal_size"] = wal.stat().st_size
        identity["wal_mtime_ns"] = wal.stat().st_mtime_ns
    return identity


def source_schema_version(path: Path) -> int:
    """The schema version of a SQLite file, read without writing anything."""
    with _closing(_open_source(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


@contextmanager
def source_locks(path: Path) -> Iterator[None]:
    """Keep every other digestbot process off the SQLite file while it is copied, or refuse to start.

    A running bot keeps writing: what it wrote after its table was copied would be lost. The run
    lock keeps a bot from starting meanwhile; the process lock, held alone, tells that an ingest or
    backfill has the file open.
    """
    run = RunLock(path)
    try:
        run.acquire()
    except RunLockHeld as exc:
        raise StorageError(f"{exc}: a running bot keeps writing, so stop it before copying its database") from None
    process = ProcessLock(path)
    try:
        if not process.acquire(exclusive=True):
            raise StorageError(f"another digestbot process (an ingest, a backfill, a vacuum) has {path} open; "
                               "let it finish, then copy")
        yield
    finally:
        process.release()
        run.release()


def _open_source(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise StorageError(f"database {path} does not exist; give the SQLite file with --db or DIGESTBOT_DB")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, isolation_level=None)
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    return conn


@contextmanager
def _closing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield conn
    finally:
        conn.close()


class SqliteToPostgres:
    """One run of the copy: the SQLite file read in one snapshot, the PostgreSQL database written table by table."""

    def __init__(self, source: Path, url: str) -> None:
        self.source = source
        self.url = url
        self.where = shown_url(url)
        self.identity = source_identity(source)
        self.src = _open_source(source)
        # One read transaction for the whole run: every table from the same moment of the file.
        self.src.execute("BEGIN")
        try:
            self.pg = psycopg.Connection.connect(url, autocommit=True, row_factory=row_factory,
                                                 application_name="digestbot db migrate-to")
            # The run lock of the target, for the whole copy: no bot serves it meanwhile, no second copy runs.
            row = self.pg.execute("SELECT pg_try_advisory_lock(%s)", (PG_RUN_LOCK,)).fetchone()
        except psycopg.Error as exc:
            self.src.close()
            raise translate_error(exc, self.where) from exc
        if not row or not row[0]:
            self.close()
            raise StorageError(f"a `digestbot run` or another `db migrate-to` is using {self.where}; stop it first")
        self.progress: Progress | None = None
        self.resumed: list[str] = []

    def close(self) -> None:
        """Let go of both databases (a table in flight is rolled back by the server)."""
        self.src.close()
        self.pg.close()

    # ----- what is where ----------------------------------------------------------------------

    def check_source(self) -> None:
        """Refuse a file this program cannot copy whole: an old schema, a table it does not know."""
        version = int(self.src.execute("PRAGMA user_version").fetchone()[0])
        if version > latest_schema_version():
            raise StorageError(f"{self.source} has schema version {version}, newer than this program knows "
                               f"({latest_schema_version()}): upgrade arxiv-digest-bot first")
        if version < latest_schema_version():
            raise StorageError(f"{self.source} has schema version {version}, this program copies version "
                               f"{latest_schema_version()}; open it once with this version (digestbot stats) to migrate it")
        names = {r[0] for r in self.src.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        unknown = sorted(n for n in names - set(TABLES) if not n.startswith(("sqlite_", "papers_fts")))
        if unknown:
            raise StorageError(f"{self.source} holds tables this program does not know how to copy: {', '.join(unknown)}")
        missing = [t for t in TABLES if t not in names]
        if missing:
            raise StorageError(f"{self.source} lacks tables of its schema version {version}: {', '.join(missing)} "
                               "(made by a development version?); nothing copied")

    def sqlite_count(self, table: str) -> int:
        where, params = _rows_of(table, "?")
        try:
            return int(self.src.execute(f"SELECT count(*) FROM {table}{where}", params).fetchone()[0])
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read table {table} of {self.source}: {exc}") from exc

    def postgres_count(self, table: str) -> int:
        where, params = _rows_of(table, "%s")
        return int(self._pg(f"SELECT count(*) FROM {table}{where}", params)[0][0])

    def _pg(self, sql: str, params: Any = None) -> list[Any]:
        try:
            cursor = self.pg.execute(sql, params)
            return cursor.fetchall() if cursor.description is not None else []
        except psycopg.Error as exc:
            raise translate_error(exc, self.where) from exc

    def plan(self, *, restart: bool = False) -> Progress:
        """Read the target's marker and decide: a fresh copy, the rest of an interrupted one, or a refusal."""
        rows = self._pg("SELECT value FROM meta WHERE key = %s", (MARKER,))
        progress = Progress.loads(str(rows[0][0])) if rows else None
        if progress is not None and progress.source == self.identity and not restart:
            self.resumed = [t for t in TABLES if t in progress.tables]
            self.progress = progress
            return progress
        if progress is not None:
            if progress.finished_at is not None:
                raise StorageError(
                    f"{self.where} already holds a finished copy of {progress.source.get('path')} (finished "
                    f"{progress.finished_at}) and may be in use since; to copy again, create a new, empty database")
            if not restart:
                raise StorageError(
                    f"{self.where} holds an unfinished copy of {progress.source.get('path')} begun {progress.started_at}, "
                    f"but {self.source} is not that file as it was then (it changed, or it is another file); "
                    "run again with --restart to empty the copy and begin again")
            self._empty()
        else:
            filled = [f"{t} ({n} rows)" for t in TABLES[1:] if (n := self.postgres_count(t))]
            if filled:
                raise StorageError(f"{self.where} is not empty: {', '.join(filled[:4])}{', ...' if len(filled) > 4 else ''}; "
                                   "migrate-to copies into an empty database only: create one (createdb) and give its URL")
        self.progress = Progress(self.identity, _now())
        self._save_marker()
        return self.progress

    def _empty(self) -> None:
        # CASCADE reaches the tables that refer to these alone (the search index's).
        self._pg(f"TRUNCATE {', '.join(TABLES[1:])} CASCADE")
        self._pg("DELETE FROM meta WHERE key <> %s", (MARKER,))

    def _save_marker(self, **changes: Any) -> None:
        """Write the marker: the progress as it stands, with `changes` (kept in memory once the caller commits)."""
        assert self.progress is not None
        progress = dataclasses.replace(self.progress, **changes)
        self._pg("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (MARKER, progress.dumps()))

    # ----- the copy -----------------------------------------------------------------------------

    def pending(self) -> list[tuple[str, int]]:
        """The tables still to copy, with their rows in SQLite."""
        assert self.progress is not None
        return [(t, self.sqlite_count(t)) for t in TABLES if t not in self.progress.tables]

    def copy_table(self, table: str, on_rows: Callable[[int], None] = lambda n: None) -> int:
        """Copy one table in one transaction (COPY, its sequence, the marker); return the rows copied."""
        assert self.progress is not None
        columns = self._columns(table)
        names = ", ".join(f'"{c}"' for c in columns)
        copied = 0
        try:
            with self.pg.transaction():
                if table == "meta":
                    self.pg.execute("DELETE FROM meta WHERE key <> %s", (MARKER,))
                else:
                    self.pg.execute(f"DELETE FROM {table}")  # empty already, unless written by hand meanwhile
                where, params = _rows_of(table, "?")
                rows = self.src.execute(f"SELECT {names} FROM {table}{where}", params)
                with self.pg.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    while batch := rows.fetchmany(BATCH_ROWS):
                        for row in batch:
                            copy.write_row(row)
                        copied += len(batch)
                        on_rows(len(batch))
                self._move_sequences(table)
                self._save_marker(tables=[*self.progress.tables, table])
        except psycopg.Error as exc:
            detail = str(translate_error(exc, self.where)).removeprefix(f"database {self.where}: ")
            raise StorageError(f"copying table {table} into {self.where} failed: {detail}") from exc
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read table {table} of {self.source}: {exc}") from exc
        self.progress.tables.append(table)  # committed
        return copied

    def _columns(self, table: str) -> list[str]:
        """The columns to copy: SQLite's, each of which PostgreSQL must have (its own extras take their defaults)."""
        have = [r[1] for r in self.src.execute(f"PRAGMA table_info({table})")]
        writable = {r[0] for r in self._pg(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND is_generated = 'NEVER'", (table,))}
        missing = [c for c in have if c not in writable]
        if missing:
            raise StorageError(f"table {table} of {self.where} has no column {', '.join(missing)}: "
                               "the two schemas disagree (is the PostgreSQL database migrated by this version?)")
        return have

    def _move_sequences(self, table: str) -> None:
        """Set each identity column's sequence past the largest id copied, so new rows get new ids."""
        for (column,) in self.pg.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s AND is_identity = 'YES'", (table,)).fetchall():
            self.pg.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({column}), 0) + 1, false) "
                            f"FROM {table}", (table, column))

    # ----- after the copy ----------------------------------------------------------------------

    def rebuild_index(self) -> None:
        """Build the full-text index from the copied papers (storage.postgres.search_index)."""
        assert self.progress is not None
        if self.progress.indexed:
            return
        try:
            with self.pg.transaction():
                rebuild_index(SyncUnit(self.pg, self.where))
                self._save_marker(indexed=True)
        except psycopg.Error as exc:
            raise translate_error(exc, self.where) from exc
        self.progress.indexed = True

    def counts(self) -> list[TableCount]:
        """Rows per table on both sides (the marker row left out)."""
        return [TableCount(t, self.sqlite_count(t), self.postgres_count(t)) for t in TABLES]

    def finish(self) -> None:
        """Mark the copy finished and give the planner statistics for the tables just filled."""
        assert self.progress is not None
        if self.progress.finished_at is None:
            finished = _now()
            self._save_marker(finished_at=finished)
            self.progress.finished_at = finished
        self._pg(f"ANALYZE {', '.join(TABLES)}")


def _rows_of(table: str, placeholder: str) -> tuple[str, tuple[str, ...]]:
    """The rows of `table` that are the database's own: every row but the copy's marker."""
    return (f" WHERE key <> {placeholder}", (MARKER,)) if table == "meta" else ("", ())


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
