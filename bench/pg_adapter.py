"""Stand-ins for the PostgreSQL driver's connection objects, from before storage/postgres had its own.

No bench uses them any more (bench_pg_search.py opens both engines with storage.engine.open_database);
they stay only while tests/storage/postgres/test_search_index.py imports them, and go with that import.

`AsyncDb` offers what PostgresSearchIndex uses: `reading`, `reading_parallel` and `fetchall`,
with SQLite placeholders translated by storage.postgres.dialect.to_pyformat; `SyncConn` what
index_papers uses: `execute`, `executemany` and `copy_rows`. Rows index by position and by column name.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import psycopg

from storage.postgres.dialect import to_pyformat


class Row(tuple):  # type: ignore[type-arg]
    """A row that indexes by position and by column name, as sqlite3.Row."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names = {d.name: n for n, d in enumerate(cursor.description or [])}
    cls = type("R", (Row,), {"_names": names})
    return lambda values: cls(values)


class SyncConn:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = (), *, binary: bool = True) -> Any:
        cur = self.conn.cursor(row_factory=_row_factory, binary=True)
        return cur.execute(to_pyformat(sql), params or None)

    def executemany(self, sql: str, seq: Iterable[Any]) -> Any:
        cur = self.conn.cursor()
        cur.executemany(to_pyformat(sql), list(seq))
        return cur

    def copy_rows(self, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)


class AsyncConn:
    def __init__(self, conn: psycopg.AsyncConnection[Any], binary: bool) -> None:
        self.conn = conn
        self.binary = binary

    async def execute_fetchall(self, sql: str, params: Any = (), *, binary: bool = True) -> Sequence[Any]:
        cur = self.conn.cursor(row_factory=_row_factory, binary=self.binary)
        await cur.execute(to_pyformat(sql), params or None)
        return await cur.fetchall()


class AsyncDb:
    """A fixed set of autocommit connections; readers are handed out in order (the bench runs one search at a time)."""

    def __init__(self, conns: list[AsyncConn]) -> None:
        self.conns = conns

    @staticmethod
    async def open(dsn: str, readers: int = 2, binary: bool = True) -> AsyncDb:
        return AsyncDb([AsyncConn(await psycopg.AsyncConnection.connect(dsn, autocommit=True), binary)
                        for _ in range(readers)])

    @contextlib.asynccontextmanager
    async def reading(self, budget: float = 2.5, heavy: bool = False, queue_wait: float = 5.0) -> AsyncIterator[AsyncConn]:
        yield self.conns[0]

    @contextlib.asynccontextmanager
    async def reading_parallel(self, most: int = 2, budget: float = 2.5,
                               queue_wait: float = 5.0) -> AsyncIterator[list[AsyncConn]]:
        yield self.conns[:most]

    async def fetchall(self, sql: str, params: Any = ()) -> Sequence[Any]:
        return await self.conns[0].execute_fetchall(sql, params)

    async def close(self) -> None:
        for c in self.conns:
            await c.conn.close()


BASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS papers (
    id BIGINT PRIMARY KEY, arxiv_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, authors TEXT NOT NULL DEFAULT '[]',
    primary_category TEXT NOT NULL DEFAULT '', categories TEXT NOT NULL DEFAULT '[]', tldr TEXT NOT NULL DEFAULT '',
    motivation TEXT NOT NULL DEFAULT '', method TEXT NOT NULL DEFAULT '', result TEXT NOT NULL DEFAULT '',
    conclusion TEXT NOT NULL DEFAULT '', abstract TEXT NOT NULL DEFAULT '', comment TEXT NOT NULL DEFAULT '',
    code_url TEXT NOT NULL DEFAULT '', keywords TEXT NOT NULL DEFAULT '', translated_title TEXT NOT NULL DEFAULT '',
    abs_url TEXT NOT NULL DEFAULT '', pdf_url TEXT NOT NULL DEFAULT '', language TEXT NOT NULL DEFAULT '',
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, updated_at TEXT NOT NULL, source_rank INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS paper_categories (category TEXT NOT NULL, paper_id BIGINT NOT NULL, PRIMARY KEY (category, paper_id));
CREATE TABLE IF NOT EXISTS digests (
    id BIGINT PRIMARY KEY, date TEXT NOT NULL UNIQUE, source TEXT NOT NULL, language TEXT NOT NULL DEFAULT '',
    paper_count INTEGER NOT NULL DEFAULT 0, ingested_at TEXT NOT NULL, updated_at TEXT NOT NULL, arrival TEXT NOT NULL DEFAULT 'ingest'
);
CREATE TABLE IF NOT EXISTS digest_papers (
    digest_id BIGINT NOT NULL, paper_id BIGINT NOT NULL, section TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (digest_id, paper_id)
);
CREATE INDEX IF NOT EXISTS digest_papers_paper ON digest_papers (paper_id);
"""
