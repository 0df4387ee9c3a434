"""The database file: the reader pool, time budgets enforced by SQLite, bounded writes, honest errors."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from storage.errors import DatabaseBusy, DatabaseFull, DatabaseMissing, QueryTimeout, StorageError
from storage.sqlite.database import Database

ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


async def test_a_read_past_its_budget_is_stopped_by_sqlite(db: Database) -> None:
    with pytest.raises(QueryTimeout):
        async with db.reading(budget=0.2) as conn:
            await conn.execute_fetchall(ENDLESS)
    # The connection is fine afterwards.
    assert (await db.fetchone("SELECT 1"))[0] == 1  # type: ignore[index]


async def test_a_slow_read_never_queues_a_point_lookup(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "p.sqlite3", readers=2)
    try:
        async def heavy() -> None:
            async with db.reading(budget=1, heavy=True) as conn:
                await conn.execute_fetchall(ENDLESS)

        first = asyncio.create_task(heavy())
        second = asyncio.create_task(heavy())  # waits: heavy reads may use all readers but one
        await asyncio.sleep(0.2)
        row = await db.fetchone("SELECT count(*) FROM papers")
        assert row is not None and row[0] == 0
        assert not first.done() and not second.done()  # the lookup was answered while the heavy read ran
        for task in (first, second):
            with pytest.raises(QueryTimeout):
                await task
    finally:
        await db.close()


async def test_closing_stops_a_read_in_flight(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "c.sqlite3")

    async def forever() -> None:
        async with db.reading() as conn:
            await conn.execute_fetchall(ENDLESS)

    reading = asyncio.create_task(forever())
    await asyncio.sleep(0.2)
    await asyncio.wait_for(db.close(), 5)
    with pytest.raises(StorageError):
        await reading


async def test_a_write_behind_another_process_lock_waits_a_bounded_time(db: Database) -> None:
    holder = sqlite3.connect(db.path, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy, match="locked by another connection"):
            async with db.transaction(wait=0.3) as conn:
                await conn.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
    assert (await db.fetchone("SELECT value FROM meta WHERE key = 'x'"))[0] == "1"  # type: ignore[index]


async def test_a_full_database_says_so(db: Database) -> None:
    pages = (await db.fetchone("PRAGMA page_count"))[0]  # type: ignore[index]
    async with db.transaction() as conn:
        await conn.execute(f"PRAGMA max_page_count = {pages + 1}")
    with pytest.raises(DatabaseFull, match="disk full"):
        async with db.transaction() as conn:
            await conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [(str(n), "x" * 4000) for n in range(200)])
    assert (await db.fetchone("SELECT count(*) FROM meta WHERE value LIKE 'xxx%'"))[0] == 0  # type: ignore[index]


async def test_a_missing_database_is_not_created_where_one_was_expected(tmp_path: Path) -> None:
    with pytest.raises(DatabaseMissing, match="does not exist; check DIGESTBOT_DB"):
        await Database.open(tmp_path / "typo.sqlite3", create=False)
    assert not (tmp_path / "typo.sqlite3").exists()
    # A write-ahead log without its database is a deleted database, not a first start.
    (tmp_path / "gone.sqlite3-wal").write_bytes(b"x" * 100)
    with pytest.raises(DatabaseMissing, match="was deleted or moved"):
        await Database.open(tmp_path / "gone.sqlite3")
    new = await Database.open(tmp_path / "new.sqlite3")
    assert new.created and await new.created_at() is not None
    await new.close()
    again = await Database.open(tmp_path / "new.sqlite3")
    assert not again.created
    await again.close()


async def test_idle_connections_drop_their_caches_and_keep_working(sample_db: Database) -> None:
    before = sample_db.last_used
    async with sample_db.reading(heavy=True) as conn:
        rows = await conn.execute_fetchall("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'model'")
    assert sample_db.last_used > before  # a search-sized read counts as use
    async with sample_db.reading() as conn:
        used = sample_db.last_used
        # While a reader is lent out, only the others (and the writer) are shrunk.
        assert await sample_db.release_memory() == sample_db.reader_count
    assert sample_db.last_used == used  # a point lookup does not keep the caches alive
    assert await sample_db.release_memory() == sample_db.reader_count + 1
    async with sample_db.reading(heavy=True) as conn:
        assert await conn.execute_fetchall("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'model'") == rows
