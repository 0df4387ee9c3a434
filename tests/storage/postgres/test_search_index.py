"""PostgreSQL full-text search against a real server: the query language, exact statistics, SQLite's ranking.

The server and its databases come from tests/postgres_server.py (a clone of the migrated template
per test); the index is written and read through the engine's own Database and units of work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from storage.engine import Database, open_database
from storage.fts_tokens import tokens
from storage.ingest import fts_values
from storage.postgres import search_ingest
from storage.postgres.search_index import (
    PostgresSearchIndex,
    index_papers,
    indexed_papers,
    rebuild_index,
)
from storage.search import SearchFilters, SearchIndex, rebuild_search_index
from tests.postgres_server import Databases

pytestmark = pytest.mark.postgres


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


async def _load(url: str, papers: list[dict[str, object]], batches: list[list[int]] | None = None) -> Database:
    """Rows straight into the tables, then indexed by the engine's index_papers, batch by batch, as ingests do."""
    with psycopg.connect(url) as pg:
        for paper in papers:
            columns = ", ".join(paper)
            pg.execute(f"INSERT INTO papers ({columns}) OVERRIDING SYSTEM VALUE VALUES ({', '.join(['%s'] * len(paper))})",
                       tuple(paper.values()))
        for n, (day, ids) in enumerate(DAYS, 1):
            pg.execute("INSERT INTO digests (id, date, source, ingested_at, updated_at) OVERRIDING SYSTEM VALUE "
                       "VALUES (%s, %s, 'x', '', '')", (n, day))
            for position, pid in enumerate(ids):
                pg.execute("INSERT INTO digest_papers VALUES (%s, %s, 'cs', %s)", (n, pid, position))
    db = await open_database(url)
    by_id = {int(str(p["id"])): p for p in papers}
    for batch in batches or [sorted(by_id)]:
        await db.write(index_papers, [(i, fts_values(by_id[i])) for i in batch], [])
    return db


@pytest.fixture
async def pg_index(postgres_url: str) -> AsyncIterator[PostgresSearchIndex]:
    db = await _load(postgres_url, PAPERS)
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


async def _state(db: Database) -> tuple[Any, ...]:
    """The index's statistics, each paper's length and a few rankings: what must not drift."""
    segments = tuple(await db.fetchone("SELECT sum(papers), sum(tokens) FROM search_segments") or ())
    lengths = await db.fetchall("SELECT low, lengths FROM search_segments ORDER BY low")
    index = PostgresSearchIndex(db)
    rankings = [await index.rank(q) for q in ["diffusion", "model OR models", "zhang", "扩散模型", "large lang*", "updated"]]
    dense: dict[int, int] = {}
    for low, blob in lengths:
        for n in range(0, len(blob), 4):
            if (length := int.from_bytes(blob[n:n + 4], "little")):
                dense[low + n // 4] = length
    return segments, dense, [(r.ids, r.total) for r in rankings]


@pytest.mark.parametrize("pack_most", [search_ingest.PACK_MOST, 0], ids=["packed", "rows"])
async def test_statistics_stay_exact_after_changes_and_merges(postgres_url: str, postgres_databases: Databases,
                                                              postgres_template: str, pack_most: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Papers indexed one at a time (merges run: none is kept out as recent here), then changed
    # twice; the same as indexing the final texts at once. Segments either packed or of rows.
    monkeypatch.setattr(search_ingest, "KEEP_RECENT", 0)
    monkeypatch.setattr(search_ingest, "PACK_MOST", pack_most)
    db = await _load(postgres_url, PAPERS, batches=[[n] for n in range(1, 9)])
    changed = {2: _paper(2, "Updated large models", "Updated text, much longer than before: " + "words " * 40),
               6: _paper(6, "扩散模型 updated", "", ["Wei Zhang"], ["cs.CV"]), 7: _paper(7, "Zhang", "")}
    final = [changed.get(int(str(p["id"])), p) for p in PAPERS]
    first = {2: _paper(2, "Intermediate text", "x y z"), 6: PAPERS[5], 7: _paper(7, "Zhang Zhang Zhang")}
    await db.write(index_papers, [], [(n, fts_values(PAPERS[n - 1]), fts_values(first[n])) for n in sorted(first)])
    await db.write(index_papers, [], [(n, fts_values(first[n]), fts_values(changed[n])) for n in sorted(changed)])
    segments = await db.fetchone("SELECT count(*) FROM search_segments")
    assert segments is not None and segments[0] < 8
    fresh_url = postgres_databases.create(postgres_template)
    fresh = await _load(fresh_url, final)
    try:
        want = await _state(fresh)
        assert want[0] == (8, sum(len(tokens(t)) for p in final for t in fts_values(p)))
        assert await _state(db) == want
        assert await fresh.write(rebuild_index) == 8  # and a rebuild from the papers table gives it too
        assert await _state(fresh) == want
        assert await indexed_papers(fresh) == 8
    finally:
        await fresh.close()
        await db.close()
        postgres_databases.drop(fresh_url)


SAMPLE_QUERIES = ["diffusion", "diffusion model", '"large language model"', "reinforcement learning", "GPT-4o",
                  "self-supervised", "agent*", "video OR image", "learning -robot", "benchmark", "learning", "C++",
                  "扩散模型", "强化学习", "幻觉", "幻", "大语言模型", "多模态", "模型 -视频"]
SAMPLE_FILTERS = [SearchFilters(), SearchFilters(category="cs.CV"), SearchFilters(category="cs.CL"),
                  SearchFilters(author="Zhang"), SearchFilters(author="Wang"),
                  SearchFilters(since=dt.date(2025, 3, 19), until=dt.date(2025, 3, 19)),
                  SearchFilters(category="cs.LG", since=dt.date(2025, 12, 1))]


async def _answers(index: SearchIndex | PostgresSearchIndex) -> list[tuple[list[str], int]]:
    answers = []
    for typed in SAMPLE_QUERIES:
        for filters in SAMPLE_FILTERS:
            page = await index.search(typed, filters, limit=50)
            answers.append(([p.arxiv_id for p in page.papers], page.total))
    return answers


async def test_the_same_answers_as_sqlite_after_the_same_ingests(sqlite_sample_db: Database,
                                                                  postgres_samples_url: str) -> None:
    # Both databases were filled by the bot's own ingest of the sample digests (tests/conftest.py).
    pg_db = await open_database(postgres_samples_url)
    try:
        on_sqlite = await _answers(SearchIndex(sqlite_sample_db))
        on_postgres = await _answers(PostgresSearchIndex(pg_db))
        assert on_postgres == on_sqlite
        assert sum(total > 0 for _, total in on_sqlite) > len(SAMPLE_QUERIES) * 2  # most of them find something
        # And after rebuilding the index from the papers, on either engine, still the same.
        assert await rebuild_search_index(pg_db) == await rebuild_search_index(sqlite_sample_db) == 1319
        assert await _answers(PostgresSearchIndex(pg_db)) == await _answers(SearchIndex(sqlite_sample_db)) == on_sqlite
    finally:
        await pg_db.close()


async def test_searches_beside_an_ingest_that_merges_segments_see_one_state_or_the_next(postgres_url: str) -> None:
    # Every paper holds the word and papers are indexed in id order, one transaction each (each
    # eighth one merges segments): whatever a search sees must be papers 1..n for some n.
    db = await open_database(postgres_url)
    papers = [_paper(n, f"Diffusion study {n}", "diffusion " * (n % 5 + 1)) for n in range(1, 201)]
    with psycopg.connect(postgres_url) as pg:
        for paper in papers:
            pg.execute(f"INSERT INTO papers ({', '.join(paper)}) OVERRIDING SYSTEM VALUE "
                       f"VALUES ({', '.join(['%s'] * len(paper))})", tuple(paper.values()))
    index = PostgresSearchIndex(db)
    seen: list[tuple[set[int], int]] = []
    writing = True

    async def search_meanwhile() -> None:
        while writing:
            ranking = await index.rank("diffusion", depth=1000)
            seen.append((set(ranking.ids), ranking.total))

    searching = asyncio.ensure_future(search_meanwhile())
    try:
        for paper in papers:
            await db.write(index_papers, [(int(str(paper["id"])), fts_values(paper))], [])
            await asyncio.sleep(0)
    finally:
        writing = False
        await searching
        await db.close()
    assert len(seen) > 10
    assert all(ids == set(range(1, total + 1)) for ids, total in seen), str([(sorted(set(range(1, t + 1)) - ids), sorted(ids - set(range(1, t + 1))), t) for ids, t in seen if ids != set(range(1, t + 1))])


async def test_a_searcher_keeps_its_copy_of_packed_segments_up_to_date_part_by_part(postgres_url: str) -> None:
    # The same index object before and after re-indexes reads only the new parts of the packed
    # segments it holds; it must answer as an index that reads everything afresh.
    db = await _load(postgres_url, PAPERS, batches=[[1, 2, 3, 4], [5, 6], [7, 8]])
    queries = ["diffusion", "model OR models", "zhang", "扩散模型", "large lang*", "updated", '"updated large"']
    try:
        kept = PostgresSearchIndex(db)
        assert [(await kept.rank(q)).total for q in queries][:3] == [2, 3, 4]
        texts = {n: fts_values(p) for n, p in enumerate(PAPERS, 1)}
        for round_ in range(3):
            changed = {2: _paper(2, f"Updated large models {round_}", "updated " * round_),
                       6: _paper(6, "扩散模型 updated", "", ["Wei Zhang"], ["cs.CV"], tldr=f"round {round_}")}
            await db.write(index_papers, [], [(n, texts[n], fts_values(p)) for n, p in sorted(changed.items())])
            texts.update({n: fts_values(p) for n, p in changed.items()})
            fresh = PostgresSearchIndex(db)
            for q in queries:
                assert await kept.rank(q) == await fresh.rank(q), (round_, q)
        parts = await db.fetchone("SELECT max(part) FROM search_packed")
        assert parts is not None and parts[0] == 3
    finally:
        await db.close()


async def test_segments_of_rows_from_before_packing_merge_with_packed_ones(
        postgres_url: str, postgres_databases: Databases, postgres_template: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # An index written before migration 0003 (every segment one row per token) goes on growing
    # with packed segments; merges take both kinds. The same as indexing everything at once.
    monkeypatch.setattr(search_ingest, "KEEP_RECENT", 0)
    monkeypatch.setattr(search_ingest, "PACK_MOST", 0)
    db = await _load(postgres_url, PAPERS, batches=[[1], [2], [3]])
    monkeypatch.setattr(search_ingest, "PACK_MOST", 2_048)
    by_id = {int(str(p["id"])): p for p in PAPERS}
    for n in range(4, 9):
        await db.write(index_papers, [(n, fts_values(by_id[n]))], [])
    fresh_url = postgres_databases.create(postgres_template)
    fresh = await _load(fresh_url, PAPERS)
    try:
        kinds = await db.fetchall("SELECT packed, count(*) FROM search_segments GROUP BY packed")
        assert {bool(r[0]) for r in kinds} == {True}  # the 8 merged into one packed segment
        assert await _state(db) == await _state(fresh)
    finally:
        await fresh.close()
        await db.close()
        postgres_databases.drop(fresh_url)
