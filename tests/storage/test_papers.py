"""Ingesting on either engine (test[sqlite], test[postgres]): one transaction per digest, idempotent, merged in place."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.ingest.digest import parse_digest_file
from bot.ingest.paper import Paper
from bot.ingest.service import ingest_bytes, ingest_path
from storage.engine import Database, latest_schema_version
from storage.errors import StorageError
from storage.ingest import DigestFile
from storage.papers import PaperStore
from storage.search import search_index
from storage.sqlite.database import Database as SqliteDatabase
from tests.conftest import DIGESTS, UNDATED, ingest_samples
from tests.engines import Engine


async def _table_counts(db: Database) -> dict[str, int]:
    counts = {}
    for table in ("papers", "digests", "digest_papers", "digest_files", "paper_categories"):
        rows = await db.fetchall(f"SELECT count(*) FROM {table}")
        counts[table] = next(iter(rows))[0]
    return counts


async def test_samples_land_with_their_counts(sample_db: Database) -> None:
    store = PaperStore(sample_db)
    stats = await store.stats()
    assert stats.digests == 5  # 2025-12-31 is one day in two files
    for name, date in UNDATED.items():
        info = await store.digest_info(date)
        assert info is not None and info.paper_count == parse_digest_file(DIGESTS / name).papers.__len__()
    day = await store.digest_info(dt.date(2025, 12, 31))
    assert day is not None and day.paper_count == 213
    older = await store.digest_info(dt.date(2025, 3, 19))
    assert older is not None and older.paper_count == 172  # 206 lines, 34 repeats of earlier lines


async def test_ingesting_the_same_digest_again_changes_nothing(sample_db: Database) -> None:
    before = await _table_counts(sample_db)
    index = search_index(sample_db)
    matches_before = await index.count("model")
    report = await ingest_path(PaperStore(sample_db), DIGESTS / "2025-12-31.md")
    assert report.result is not None and report.result.already_ingested
    assert await _table_counts(sample_db) == before
    assert await search_index(sample_db).count("model") == matches_before > 0


async def test_a_paper_seen_on_a_later_day_is_updated_in_place_and_linked_to_both(db: Database) -> None:
    store = PaperStore(db)
    first = Paper("2601.00001", "Old Title", ["A"], "cs.CV", tldr="old summary about zebras")
    second = Paper("2601.00001", "New Title", ["A", "B"], "cs.CV", categories=["cs.CV", "cs.LG"], tldr="new summary about giraffes")
    await store.ingest([first], date=dt.date(2026, 1, 1), source="a.md", fmt="markdown", language="English", content_hash="h1")
    result = await store.ingest([second], date=dt.date(2026, 1, 5), source="b.md", fmt="markdown", language="English", content_hash="h2")
    assert (result.new, result.updated) == (0, 1)
    paper = await store.get("2601.00001")
    assert paper is not None
    assert (paper.title, paper.authors, paper.first_seen, paper.last_seen) == ("New Title", ["A", "B"], dt.date(2026, 1, 1), dt.date(2026, 1, 5))
    assert [e.paper.arxiv_id for e in await store.digest_entries(dt.date(2026, 1, 1))] == ["2601.00001"]
    assert [e.paper.arxiv_id for e in await store.digest_entries(dt.date(2026, 1, 5))] == ["2601.00001"]
    search = search_index(db)
    # The index follows the update: the old text no longer matches, the new one does.
    assert (await search.search("zebras")).total == 0
    assert (await search.search("giraffes")).total == 1
    assert (await search.search("giraffes", None)).papers[0].categories == ["cs.CV", "cs.LG"]
    counts = await _table_counts(db)
    assert counts["papers"] == 1 and counts["digest_papers"] == 2 and counts["paper_categories"] == 2


async def test_markdown_then_jsonl_of_a_day_keeps_the_richer_fields(db: Database) -> None:
    await ingest_samples(db, ["2025-12-31.md", "2025-12-31_AI_enhanced_Chinese.jsonl"])
    paper = await PaperStore(db).get("2512.22208")
    assert paper is not None
    assert paper.categories == ["cs.CL", "cs.CV", "cs.LG"]
    assert paper.tldr.startswith("Moxin 7B")


async def test_a_later_file_without_a_field_does_not_erase_it(db: Database) -> None:
    store = PaperStore(db)
    await store.ingest([Paper("2601.00002", "T", ["A"], "cs.CV", tldr="kept")], date=dt.date(2026, 1, 1), source="a", fmt="jsonl", language="", content_hash="x1")
    await store.ingest([Paper("2601.00002", "T", ["A"], "cs.CV")], date=dt.date(2026, 1, 2), source="b", fmt="jsonl", language="", content_hash="x2")
    paper = await store.get("2601.00002")
    assert paper is not None and paper.tldr == "kept"


async def test_a_digest_that_fails_to_parse_changes_nothing(sample_db: Database) -> None:
    before = await _table_counts(sample_db)
    report = await ingest_bytes(PaperStore(sample_db), "2026-03-01.md", b"\x00\x01binary")
    assert report.error is not None and "2026-03-01.md" in report.error
    assert await _table_counts(sample_db) == before


async def test_a_write_that_fails_half_way_rolls_back_the_whole_digest(db: Database) -> None:
    store = PaperStore(db)
    good = Paper("2601.00003", "Good", ["A"], "cs.CV")
    # A title of None violates NOT NULL only after earlier statements of the transaction ran.
    bad = Paper("2601.00004", "Bad", ["B"], "cs.CV")
    bad.title = None  # type: ignore[assignment]
    # Each engine's own words for it (SQLite's, PostgreSQL's).
    with pytest.raises(StorageError, match=r"NOT NULL constraint failed|violates not-null constraint"):
        await store.ingest([good, bad], date=dt.date(2026, 1, 3), source="c", fmt="jsonl", language="", content_hash="c1")
    counts = await _table_counts(db)
    assert counts == dict.fromkeys(counts, 0)
    assert (await search_index(db).search("good")).total == 0
    if db.dialect == "sqlite":
        # The FTS5 index and the file are whole (SQLite's own checks; PostgreSQL has no such check to run).
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('integrity-check')")
        check = await db.fetchall("PRAGMA integrity_check")
        assert next(iter(check))[0] == "ok"
    else:
        # The search index kept nothing of the rolled-back papers.
        rows = await db.fetchall("SELECT (SELECT count(*) FROM search_postings), (SELECT count(*) FROM search_segments)")
        assert tuple(rows[0]) == (0, 0)


async def test_missing_date_is_a_clear_error(db: Database) -> None:
    report = await ingest_path(PaperStore(db), DIGESTS / "000_eb52096bcf26c46f.txt")
    assert report.error is not None
    assert "000_eb52096bcf26c46f.txt" in report.error and "--date" in report.error


async def test_migrations_are_applied_once_and_recorded(bare_engine: Engine) -> None:
    latest = latest_schema_version(bare_engine.name)
    first = await bare_engine.open()
    assert first.created and await first.schema_version() == latest
    await first.close()
    again = await bare_engine.open()
    assert not again.created and await again.schema_version() == latest
    if bare_engine.is_sqlite:
        mode = await again.fetchall("PRAGMA journal_mode")
        assert next(iter(mode))[0] == "wal"
    else:
        # One row per migration, each applied once.
        assert bare_engine.query("SELECT version FROM schema_migrations ORDER BY version") == [
            (n,) for n in range(1, latest + 1)]
    await again.close()


async def test_a_newer_schema_is_refused_with_a_sentence(bare_engine: Engine) -> None:
    # A database some later version of the bot has migrated, as each engine records it.
    if bare_engine.is_sqlite:
        conn = sqlite3.connect(bare_engine.path)
        conn.execute("PRAGMA user_version = 999")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(bare_engine.url, autocommit=True) as pg:
            pg.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
            pg.execute("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', '2030-01-01T00:00:00+00:00')")
    with pytest.raises(StorageError, match="newer than this program knows"):
        await bare_engine.open()


async def test_a_file_that_is_not_a_database_is_refused_with_its_name(tmp_path: Path) -> None:
    # SQLite only: a PostgreSQL database is always the server's (nothing of ours to be the wrong file).
    path = tmp_path / "notes.sqlite3"
    path.write_text("these are not the pages you are looking for" * 100)
    with pytest.raises(StorageError, match=r"notes\.sqlite3"):
        await SqliteDatabase.open(path)


async def test_one_batch_lists_each_paper_of_a_day_once_and_a_later_file_adds_only_new_ones(db: Database,
                                                                                            engine: Engine) -> None:
    """Both files of a day in one transaction (as `digestbot ingest` stores a folder), then a third file of that day."""
    store = PaperStore(db)
    day = dt.date(2025, 12, 31)
    files = []
    for name in ("2025-12-31.md", "2025-12-31_AI_enhanced_Chinese.jsonl"):
        parsed = parse_digest_file(DIGESTS / name)
        files.append(DigestFile(parsed.papers, day, parsed.source, parsed.format, parsed.language, parsed.content_hash,
                                parsed.format_rank))
    results = await store.ingest_many(files)
    assert [r.papers for r in results] == [213, 213]  # the same papers in both files
    info = await store.digest_info(day)
    assert info is not None and info.paper_count == 213
    assert engine.query("SELECT count(*), count(DISTINCT paper_id) FROM digest_papers") == [(213, 213)]
    # A third file of the stored day: a paper listed already, and a new one whose categories repeat.
    listed = files[1].papers[0]
    new = Paper("2601.09999", "Repeated categories", ["A"], "cs.CV", categories=["cs.CV", "cs.LG", "cs.CV"])
    [third] = await store.ingest_many([DigestFile([listed, new], day, "late.jsonl", "jsonl", "", "late-hash")])
    assert (third.papers, third.new) == (2, 1)
    info = await store.digest_info(day)
    assert info is not None and info.paper_count == 214
    assert engine.query("SELECT count(*), count(DISTINCT paper_id) FROM digest_papers") == [(214, 214)]
    paper = await store.get("2601.09999")
    assert paper is not None and paper.categories == ["cs.CV", "cs.LG", "cs.CV"]
    assert engine.query("SELECT category FROM paper_categories pc JOIN papers p ON p.id = pc.paper_id "
                        "WHERE p.arxiv_id = '2601.09999' ORDER BY category") == [("cs.CV",), ("cs.LG",)]
    assert [e.paper.arxiv_id for e in await store.digest_entries(day)].count(listed.arxiv_id) == 1
