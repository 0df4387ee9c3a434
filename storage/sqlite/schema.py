"""The SQLite schema: numbered, forward-only migrations (storage/sqlite/migrations/), applied at start in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.errors import StorageError
from storage.migration_files import numbered_scripts
from storage.urls import redact_url

log = logging.getLogger(__name__)



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
    return [Migration(number, name, sql) for number, name, sql in numbered_scripts("storage.sqlite.migrations")]


def latest_schema_version() -> int:
    """Return the number of the newest packaged migration."""
    migrations = load_migrations()
    return migrations[-1].version if migrations else 0


def redact_sql(value: object) -> object:
    """`redact_url()` in SQL, for migrations that clean URLs stored before they were redacted."""
    return redact_url(value) if isinstance(value, str) else value


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
