"""PostgreSQL full-text search against a real server: the query language, exact statistics, SQLite's ranking.

The server comes from bench/pg_launch.py for now (the lead's tests/postgres_server.py fixture will
replace it); without the pgserver package these tests are skipped.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("pgserver") is None or importlib.util.find_spec("psycopg") is None:
    pytest.skip("PostgreSQL tests need the pgserver and psycopg packages (pip install pgserver 'psycopg[binary]')",
                allow_module_level=True)

import psycopg

from bench.pg_adapter import BASE_SCHEMA, AsyncDb, SyncConn
from bench.pg_launch import server
from storage.fts_query import TSQUERY_LABELS, build_tsquery, parse
from storage.fts_tokens import tokens
from storage.ingest import fts_values
from storage.postgres.postings import COLUMNS
from storage.postgres.search_index import PostgresSearchIndex, index_papers, rebuild_index
from storage.search import SearchFilters, SearchIndex
from storage.sqlite.database import Database

MIGRATION = Path(__file__).resolve().parents[3] / "storage" / "postgres" / "migrations" / "0002_search_index.sql"
_made = 0


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with server("/tmp/pgtests") as dsn:
        yield dsn


@pytest.fixture
def pg_dsn(pg_server: str) -> Iterator[str]:
    """A fresh database with the base tables and the search index."""
    global _made
    _made += 1
    name = f"t{_made}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    dsn = pg_server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(dsn) as conn:
        conn.execute(BASE_SCHEMA)
        conn.execute(MIGRATION.read_text())
        conn.commit()
    yield dsn
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _copy(src: sqlite3.Connection, pg: psycopg.Connection[Any]) -> None:
    for table in ("papers", "digests", "digest_papers", "paper_categories"):
        columns = [r[0] for r in pg.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                                            "ORDER BY ordinal_position", (table,)).fetchall()]
        with pg.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in src.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                copy.write_row(tuple(row))
    pg.commit()


def _paper(n: int, title: str, abstract: str = "", authors: list[str] | None = None,
           categories: list[str] | None = None, tldr: str = "") -> dict[str, object]:
    return {"id": n, "arxiv_id": f"2501.{n:05d}", "title": title, "authors": json.dumps(authors or ["Ann Lee"]),
            "primary_category": (categories or ["cs.LG"])[0], "categories": json.dumps(categories or ["cs.LG"]),
            "tldr": tldr, "motivation": "", "method": "", "result": "", "conclusion": "", "abstract": abstract,
            "keywords": "", "translated_title": "", "first_seen": "2025-01-01", "last_seen": "2025-01-01",
            "updated_at": "2025-01-01"}


PAPERS = [
    _paper(1, "Diffusion models for video generation", "We study diffusive processes.", ["Wei Zhang"], ["cs.CV"]),
    _paper(2, "Large language model hallucination", "A large language model often hallucinates.", ["Anna Łajewska"]),
    _paper(3, "Language models that are large", "Large, yes; language model, no.", ["Zhang Wei"], ["cs.CL", "cs.LG"]),
    _paper(4, "Robot manipulation with diffusion", "Policies for robots.", ["Bo Li"], ["cs.RO"]),
    _paper(5, "大语言模型的幻觉", "我们研究大语言模型中的幻觉问题。", ["Li Hua"], ["cs.CL"], tldr="幻觉检测"),
    _paper(6, "扩散模型用于视频生成", "扩散模型是生成模型。", ["Zhang San"], ["cs.CV"]),
    _paper(7, "Zhang's theorem on graphs", "Graph neural network results by Zhang.", ["Ann Lee"], ["math.CO"]),
    _paper(8, "GPT-4o and C++ e.g. benchmarks", "Self-supervised benchmark for GPT-4o.", ["Eve Adams"], ["cs.SE"]),
]
DAYS = [("2025-01-01", [1, 2, 3, 4]), ("2025-01-02", [5, 6]), ("2025-01-03", [7, 8])]


def _load(dsn: str, papers: list[dict[str, object]], batches: list[list[int]] | None = None) -> None:
    with psycopg.connect(dsn) as pg:
        for paper in papers:
            columns = ", ".join(paper)
            pg.execute(f"INSERT INTO papers ({columns}) VALUES ({', '.join(['%s'] * len(paper))})", tuple(paper.values()))
        for n, (day, ids) in enumerate(DAYS, 1):
            pg.execute("INSERT INTO digests (id, date, source, ingested_at, updated_at) VALUES (%s, %s, 'x', '', '')", (n, day))
            for position, pid in enumerate(ids):
                pg.execute("INSERT INTO digest_papers VALUES (%s, %s, 'cs', %s)", (n, pid, position))
        by_id = {int(str(p["id"])): p for p in papers}
        for batch in batches or [sorted(by_id)]:
            index_papers(SyncConn(pg), [(i, fts_values(by_id[i])) for i in batch], [])
        pg.commit()


@pytest.fixture
async def pg_index(pg_dsn: str) -> AsyncIterator[PostgresSearchIndex]:
    _load(pg_dsn, PAPERS)
    db = await AsyncDb.open(pg_dsn, binary=False)
    yield PostgresSearchIndex(db)
    await db.close()


@pytest.mark.parametrize(
    ("typed", "filters", "expected"),
    [
        ("diffusion", {}, {1, 4}),
        ("diffus*", {}, {1, 4}),
        ('"large language model"', {}, {2}),
        ("large language model", {}, {2, 3}),
        ("video OR robot", {}, {1, 4}),
        ("diffusion -robot", {}, {1}),
        ("diffusion NOT video", {}, {4}),
        ("GPT-4o", {}, {8}),
        ("C++", {}, {8}),
        ("e.g.", {}, {8}),
        ("self-supervised", {}, {8}),
        ("zhang", {}, {1, 3, 6, 7}),
        ("graph", {"author": "Zhang"}, set()),
        ("diffusion OR graph OR model", {"author": "ZHANG"}, {1, 3}),
        ("models OR language", {"author": "Zhang Wei"}, {3}),
        ("model OR models OR diffusion", {"category": "cs.CV"}, {1}),
        ("large", {"category": "cs.LG"}, {2, 3}),
        ("扩散模型", {}, {6}),
        ("幻觉", {}, {5}),
        ("幻", {}, {5}),
        ("大语言模型", {}, {5}),
        ("模型", {"since": dt.date(2025, 1, 2), "until": dt.date(2025, 1, 2)}, {5, 6}),
        ("diffusion", {"since": dt.date(2025, 1, 2)}, set()),
        ("model OR models", {"until": dt.date(2025, 1, 1)}, {1, 2, 3}),
        ("łajewska", {}, {2}),
    ],
)
async def test_the_query_language_on_postgresql(pg_index: PostgresSearchIndex, typed: str, filters: dict[str, Any],
                                                expected: set[int]) -> None:
    ranking = await pg_index.rank(typed, SearchFilters(**filters))
    assert set(ranking.ids) == expected
    assert ranking.total == len(expected) == await pg_index.count(typed, SearchFilters(**filters))


async def test_count_by_author_and_pages(pg_index: PostgresSearchIndex) -> None:
    assert await pg_index.count_by_author("zhang") == 3  # authors only: "Zhang's theorem" is a title
    page = await pg_index.search("diffusion", limit=1)
    assert page.total == 2 and len(page.papers) == 1


def _tsvector(values: tuple[str, ...]) -> str:
    """A tsvector literal of the same tokens: columns apart (a gap of 10 positions), authors and categories labelled."""
    where: dict[str, list[str]] = {}
    base = 1
    for column, text in zip(COLUMNS, values, strict=True):
        toks = tokens(text)
        label = TSQUERY_LABELS.get(column, "D")
        for n, token in enumerate(toks):
            where.setdefault(token, []).append(f"{base + n}{label}")
        base += len(toks) + 10
    return " ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "':" + ",".join(p) for t, p in where.items())


@pytest.mark.parametrize("typed", ["diffusion", "diffus*", '"large language model"', "video OR robot", "diffusion -robot",
                                   "GPT-4o", "扩散模型", "幻", "large lang*", "zhang", "it's a:*B & !b | (c)"])
@pytest.mark.parametrize("author", [None, "Zhang"])
async def test_the_tsquery_emitter_matches_what_the_index_matches(pg_index: PostgresSearchIndex, pg_dsn: str,
                                                                   typed: str, author: str | None) -> None:
    try:
        tsquery = build_tsquery(typed, author=author)
    except ValueError:
        return
    with psycopg.connect(pg_dsn) as pg:
        found = {r[0] for r in pg.execute(
            "SELECT id FROM unnest(%s::bigint[], %s::text[]) AS d(id, v) WHERE v::tsvector @@ %s::tsquery",
            ([p["id"] for p in PAPERS], [_tsvector(fts_values(p)) for p in PAPERS], tsquery)).fetchall()}
    assert found == set((await pg_index.rank(typed, SearchFilters(author=author))).ids)


async def _state(dsn: str) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as pg:
        segments = pg.execute("SELECT sum(papers), sum(tokens) FROM search_segments").fetchone()
        lengths = pg.execute("SELECT low, lengths FROM search_segments ORDER BY low").fetchall()
    db = await AsyncDb.open(dsn)
    index = PostgresSearchIndex(db)
    rankings = [await index.rank(q) for q in ["diffusion", "model OR models", "zhang", "扩散模型", "large lang*", "updated"]]
    await db.close()
    dense: dict[int, int] = {}
    for low, blob in lengths:
        for n in range(0, len(blob), 4):
            if (length := int.from_bytes(blob[n:n + 4], "little")):
                dense[low + n // 4] = length
    return tuple(segments), dense, [(r.ids, r.total) for r in rankings]


async def test_statistics_stay_exact_after_changes_and_merges(pg_server: str, pg_dsn: str) -> None:
    # Papers indexed one at a time (merges run), then changed twice; the same as indexing the final texts at once.
    _load(pg_dsn, PAPERS, batches=[[n] for n in range(1, 9)])
    changed = {2: _paper(2, "Updated large models", "Updated text, much longer than before: " + "words " * 40),
               6: _paper(6, "扩散模型 updated", "", ["Wei Zhang"], ["cs.CV"]), 7: _paper(7, "Zhang", "")}
    final = [changed.get(int(str(p["id"])), p) for p in PAPERS]
    with psycopg.connect(pg_dsn) as pg:
        conn = SyncConn(pg)
        first = {2: _paper(2, "Intermediate text", "x y z"), 6: PAPERS[5], 7: _paper(7, "Zhang Zhang Zhang")}
        index_papers(conn, [], [(n, fts_values(PAPERS[n - 1]), fts_values(first[n])) for n in sorted(first)])
        index_papers(conn, [], [(n, fts_values(first[n]), fts_values(changed[n])) for n in sorted(changed)])
        pg.commit()
        assert pg.execute("SELECT count(*) FROM search_segments").fetchone()[0] < 8
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute("CREATE DATABASE fresh")
    fresh = pg_server.rsplit("/", 1)[0] + "/fresh"
    try:
        with psycopg.connect(fresh) as pg:
            pg.execute(BASE_SCHEMA)
            pg.execute(MIGRATION.read_text())
            pg.commit()
        _load(fresh, final)
        want = await _state(fresh)
        assert want[0] == (8, sum(len(tokens(t)) for p in final for t in fts_values(p)))
        assert await _state(pg_dsn) == want
        with psycopg.connect(fresh) as pg:  # and a rebuild from the papers table gives it too
            assert rebuild_index(SyncConn(pg)) == 8
            pg.commit()
        assert await _state(fresh) == want
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute("DROP DATABASE fresh WITH (FORCE)")


SAMPLE_QUERIES = ["diffusion", "diffusion model", '"large language model"', "reinforcement learning", "GPT-4o",
                  "self-supervised", "agent*", "video OR image", "learning -robot", "benchmark", "learning", "C++",
                  "扩散模型", "强化学习", "幻觉", "幻", "大语言模型", "多模态", "模型 -视频"]
SAMPLE_FILTERS = [SearchFilters(), SearchFilters(category="cs.CV"), SearchFilters(category="cs.CL"),
                  SearchFilters(author="Zhang"), SearchFilters(author="Wang"),
                  SearchFilters(since=dt.date(2025, 3, 19), until=dt.date(2025, 3, 19)),
                  SearchFilters(category="cs.LG", since=dt.date(2025, 12, 1))]


async def test_the_same_ranking_as_sqlite_on_the_sample_digests(sample_db_file: Path, tmp_path: Path, pg_dsn: str) -> None:
    path = tmp_path / "s.sqlite3"
    shutil.copy(sample_db_file, path)
    src = sqlite3.connect(path)
    src.row_factory = sqlite3.Row
    with psycopg.connect(pg_dsn) as pg:
        _copy(src, pg)
        rows = [dict(r) for r in src.execute("SELECT * FROM papers ORDER BY id")]
        for start in range(0, len(rows), 50):  # in batches, as ingests come
            index_papers(SyncConn(pg), [(int(r["id"]), fts_values(r)) for r in rows[start:start + 50]], [])
        pg.commit()
    src.close()
    lite_db = await Database.open(path, create=False)
    pg_db = await AsyncDb.open(pg_dsn)
    lite, pg_index = SearchIndex(lite_db), PostgresSearchIndex(pg_db)
    try:
        compared = 0
        for typed in SAMPLE_QUERIES:
            for filters in SAMPLE_FILTERS:
                theirs = await lite.rank(typed, filters)
                mine = await pg_index.rank(typed, filters)
                assert (mine.ids, mine.total) == (theirs.ids, theirs.total), (typed, filters)
                compared += theirs.total > 0
        assert compared > len(SAMPLE_QUERIES) * 2  # most of them find something
        assert parse("幻").groups[0][0].prefix
    finally:
        await pg_db.close()
        await lite_db.close()
