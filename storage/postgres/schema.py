"""The PostgreSQL schema: numbered, forward-only migrations (storage/postgres/migrations/), applied at start.

Several bot processes may start at once against one server: the migrations run under an
advisory lock, inside one transaction, and the version is read again once the lock is held, so
each migration is applied exactly once and nobody reads a half-migrated schema.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from storage.errors import StorageError
from storage.migration_files import numbered_scripts

log = logging.getLogger(__name__)

# The advisory lock key that serialises migrations (any fixed 64-bit number; "digestbot" in ASCII).
MIGRATION_LOCK = 0x64696765737462


@dataclass(frozen=True, slots=True)
class Migration:
    """One forward-only schema step of the PostgreSQL engine, numbered from 1."""

    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """The packaged PostgreSQL migrations in order; numbers must run 1, 2, 3... without gaps."""
    return [Migration(number, name, sql) for number, name, sql in numbered_scripts("storage.postgres.migrations")]


def latest_schema_version() -> int:
    """The number of the newest packaged PostgreSQL migration."""
    migrations = load_migrations()
    return migrations[-1].version if migrations else 0


async def schema_version(conn: psycopg.AsyncConnection[Any]) -> int:
    """The last migration applied (0 for an empty database)."""
    cursor = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    exists = await cursor.fetchone()
    if not exists or not exists[0]:
        return 0
    cursor = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def apply_migrations(conn: psycopg.AsyncConnection[Any], where: str) -> bool:
    """Bring the database to the newest schema under the migration lock; return whether it was new (empty).

    `conn` is in autocommit mode: the migrations run in one transaction of their own.
    """
    migrations = load_migrations()
    latest = migrations[-1].version if migrations else 0
    if await schema_version(conn) == latest:
        return False
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        current = await schema_version(conn)
        if current > latest:
            raise StorageError(
                f"database {where} has schema version {current}, newer than this program knows ({latest}); "
                "upgrade arxiv-digest-bot or use another DIGESTBOT_DATABASE_URL"
            )
        if current == 0:
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                               "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        for migration in migrations:
            if migration.version <= current:
                continue
            log.info("applying migration %s to %s", migration.name, where)
            try:
                await conn.execute(migration.sql)  # a script without parameters: several statements at once
            except psycopg.Error as exc:
                raise StorageError(f"migration {migration.name} failed on {where}: {exc}") from exc
            await conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                               (migration.version, migration.name, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
        if current == 0:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', %s) ON CONFLICT (key) DO NOTHING",
                               (dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),))
    return current == 0
