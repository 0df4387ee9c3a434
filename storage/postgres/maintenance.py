"""`digestbot db check` and `db vacuum` on PostgreSQL: what the SQLite engine's maintenance does, as the server allows.

There is no file to back up or compact here: backups are the server's business (pg_dump, or the
managed service's snapshots), the pages are the server's to check, and autovacuum keeps the
tables compact. What the program can check is its own: the schema version, rows pointing
nowhere, digests whose paper counts disagree with their links, the search index against the
papers, and a copy by `db migrate-to` left unfinished.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import psycopg

from storage.engine import Database
from storage.postgres.connection import translate_error
from storage.postgres.schema import latest_schema_version
from storage.postgres.search_index import indexed_papers


@dataclass(slots=True)
class PgCheckReport:
    """What `check` found; `ok` only when every check passed."""

    name: str
    schema_version: int
    latest_version: int
    problems: list[str] = field(default_factory=list)
    papers: int = 0
    digests: int = 0
    index_rows: int | None = None  # None: this build has no search index to count

    @property
    def ok(self) -> bool:
        return not self.problems


async def _value(db: Database, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = await db.fetchone(sql, params)
    return row[0] if row else None


async def check(db: Database) -> PgCheckReport:
    """Check an open PostgreSQL database (see the module's docstring)."""
    version = await db.schema_version()
    report = PgCheckReport(db.name, version, latest_schema_version())
    if version != report.latest_version:
        report.problems.append(f"schema version {version}, this program expects {report.latest_version} "
                               "(start the bot once to migrate)")
        return report
    report.papers = int(await _value(db, "SELECT count(*) FROM papers"))
    report.digests = int(await _value(db, "SELECT count(*) FROM digests"))
    for child, parent, pairs in await _foreign_keys(db):
        joined = " AND ".join(f"p.{p} = c.{c}" for c, p in pairs)
        present = " AND ".join(f"c.{c} IS NOT NULL" for c, _ in pairs)
        orphans = int(await _value(
            db, f"SELECT count(*) FROM {child} c WHERE {present} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {joined})"))
        if orphans:
            report.problems.append(f"{orphans} rows of {child} point to no row of {parent}")
    mismatched = await db.fetchall(
        "SELECT d.date FROM digests d WHERE d.paper_count != (SELECT count(*) FROM digest_papers dp WHERE dp.digest_id = d.id) "
        "ORDER BY d.date")
    if mismatched:
        report.problems.append(f"digest paper counts disagree with their links for {len(mismatched)} days "
                               f"(first {mismatched[0][0]})")
    report.index_rows = await indexed_papers(db)
    if report.index_rows != report.papers:
        report.problems.append(f"the search index holds {report.index_rows} papers of {report.papers}: "
                               "rebuild it with `digestbot db reindex`")
    marker = await _value(db, "SELECT value FROM meta WHERE key = 'migrated_from'")
    if marker is not None:
        progress = json.loads(str(marker))
        if progress.get("finished_at") is None:
            report.problems.append(f"the copy from {progress['source'].get('path')} by `digestbot db migrate-to` "
                                   f"begun {progress.get('started_at')} is unfinished: run it again to finish it")
    return report


async def _foreign_keys(db: Database) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Every foreign key of the schema: child table, parent table, (child column, parent column) pairs."""
    rows = await db.fetchall(
        """
        SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
               (SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = c.conkey[k.n]),
               (SELECT attname FROM pg_attribute WHERE attrelid = c.confrelid AND attnum = c.confkey[k.n])
        FROM pg_constraint c
        JOIN pg_namespace s ON s.oid = c.connamespace AND s.nspname = current_schema()
        CROSS JOIN LATERAL generate_subscripts(c.conkey, 1) AS k(n)
        WHERE c.contype = 'f'
        ORDER BY c.conname, k.n
        """)
    keys: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for name, child, parent, child_column, parent_column in rows:
        keys.setdefault((str(name), str(child), str(parent)), []).append((str(child_column), str(parent_column)))
    return [(child, parent, pairs) for (_, child, parent), pairs in keys.items()]


async def vacuum(url: str, where: str) -> tuple[int, int]:
    """VACUUM (ANALYZE) the database beside the running bot (it takes no lock that stops reads or writes).

    Returns the database's size before and after, in bytes: plain VACUUM makes dead rows' space
    reusable and refreshes the planner's statistics; it gives space back to the system only at the
    end of a table (VACUUM FULL would, with each table locked meanwhile).
    """
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            size = "SELECT pg_database_size(current_database())"
            before = (await (await conn.execute(size)).fetchone() or (0,))[0]
            await conn.execute("VACUUM (ANALYZE)")
            after = (await (await conn.execute(size)).fetchone() or (0,))[0]
    except psycopg.Error as exc:
        raise translate_error(exc, where) from exc
    return int(before), int(after)
