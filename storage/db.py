"""The SQLite file: connections, numbered migrations, and the single writer.

Reads go through their own connection (WAL lets them run beside a write); every write goes
through one writer connection, one `BEGIN IMMEDIATE` transaction at a time.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StorageError(Exception):
    """The database file cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One forward-only schema step, numbered from 1."""

    version: int
    name: str
    sql: str


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


class Database:
    """An open digest database: one writer connection and one reader connection."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database file, switch it to WAL and apply migrations."""
        path = Path(path)
        if path.parent and not path.parent.exists():
            raise StorageError(f"cannot open database {path}: folder {path.parent} does not exist")
        try:
            writer = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        try:
            writer.row_factory = sqlite3.Row
            # Larger pages hold a paper's text without overflow chains: +20% ingest (bench/README.md).
            # Only takes effect on a new, empty file.
            await writer.execute("PRAGMA page_size = 16384")
            await writer.execute("PRAGMA journal_mode = WAL")
            for pragma in ("foreign_keys = ON", "busy_timeout = 5000", "synchronous = NORMAL", "temp_store = MEMORY", "cache_size = -32000"):
                await writer.execute(f"PRAGMA {pragma}")
            if migrate:
                await apply_migrations(writer, path)
            reader = await aiosqlite.connect(path, isolation_level=None)
            reader.row_factory = sqlite3.Row
            for pragma in ("busy_timeout = 5000", "temp_store = MEMORY", "cache_size = -32000", "query_only = ON"):
                await reader.execute(f"PRAGMA {pragma}")
        except sqlite3.DatabaseError as exc:
            await writer.close()
            raise StorageError(f"cannot use database {path}: {exc}") from exc
        except BaseException:
            await writer.close()
            raise
        return cls(path, writer, reader)

    async def close(self) -> None:
        """Checkpoint the WAL and close both connections."""
        async with self._write_lock:
            try:
                await self._writer.execute("PRAGMA optimize")
                await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                log.warning("checkpoint on close failed", exc_info=True)
            await self._reader.close()
            await self._writer.close()

    @property
    def reader(self) -> aiosqlite.Connection:
        """The connection for queries that only read."""
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run a block as one write transaction on the writer connection; roll back on error."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.rollback()
                raise
            else:
                await self._writer.commit()

    async def schema_version(self) -> int:
        """Return the number of the last migration applied to this file."""
        async with self._reader.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0


async def apply_migrations(conn: aiosqlite.Connection, path: Path) -> int:
    """Apply every migration newer than the file's user_version, each in its own transaction."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    migrations = load_migrations()
    latest = migrations[-1].version if migrations else 0
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
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{migration.sql}\n;PRAGMA user_version = {migration.version};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                await conn.rollback()
            raise StorageError(f"migration {migration.name} failed on {path}: {exc}") from exc
    return latest


def latest_schema_version() -> int:
    """Return the number of the newest packaged migration."""
    migrations = load_migrations()
    return migrations[-1].version if migrations else 0
