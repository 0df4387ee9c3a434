"""Full-text search over every stored paper: exact bm25 ranking, filters, counts and ranked ids for paging.

A search ranks every match by bm25 (no sampling, no cut-off): the ranking is split by paper id
into parts that run side by side on several reader connections, and the parts' best results
are merged. The bm25 function, evaluated once per matching paper, is where a search spends its
time (counting the matches costs a twentieth of it), so two parts on two cores halve a broad
search (bench/README.md). A search returns the ranked ids of its first pages and the number of
matches: its view pages through those ids without asking SQLite to rank again.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiosqlite

from storage.engine import Database
from storage.fts_query import build_match

# The shared types, importable from here as before.
from storage.search_base import DEFAULT_DEPTH, FullTextIndex, RankedSearch, Ranking, SearchFilters

# Column weights: title, authors, tldr, abstract, details. Spelled out rather than the stored
# `rank` setting because FTS5 evaluates an explicit bm25() call about a third faster.
_RANK = "bm25(papers_fts, 8.0, 4.0, 3.0, 1.0, 1.5, 0.0)"
# Papers listed in a digest of the date range (a paper may be listed on several days).
_IN_DATES = """
    SELECT dp.paper_id FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id
    WHERE d.date BETWEEN :since AND :until
"""
def _split(low: int, high: int, count: int) -> list[tuple[int | None, int | None]]:
    """[low, high] cut into `count` runs of ids of about equal width (fewer when there are fewer ids)."""
    count = max(1, min(count, high - low + 1))
    width = (high - low + 1) / count
    edges = [low + round(width * n) for n in range(count)] + [high + 1]
    return [(edges[n], edges[n + 1] - 1) for n in range(count)]


class SearchIndex(RankedSearch):
    """Queries the FTS5 index built by PaperStore.ingest (SQLite's progress handler enforces the budget)."""

    def __init__(self, db: Database, *, budget: float = 2.5, queue_wait: float = 5.0, parallel: int = 2,
                 depth: int = DEFAULT_DEPTH) -> None:
        super().__init__(db, budget=budget, queue_wait=queue_wait, parallel=parallel, depth=depth)
        self._id_range: tuple[int, int] | None = None
        self._id_range_at = 0.0

    async def rank(self, text: str, filters: SearchFilters | None = None, *, depth: int | None = None) -> Ranking:
        """Rank every paper matching `text` (and the filters) by bm25; return the best `depth` ids and the total.

        Raises storage.fts_query.EmptyQuery or QueryTooComplex for text that cannot be searched,
        QueryTimeout when SQLite ran past the time budget.
        """
        filters = filters or SearchFilters()
        depth = depth or self.depth
        match = build_match(text, author=filters.author, category=filters.category)
        params: dict[str, Any] = {"match": match, "depth": depth}
        where = "papers_fts MATCH :match"
        dated = filters.since is not None or filters.until is not None
        if dated:
            params["since"] = filters.since.isoformat() if filters.since else "0000-00-00"
            params["until"] = filters.until.isoformat() if filters.until else "9999-99-99"
        async with self._db.reading_parallel(most=self.parallel, budget=self.budget, queue_wait=self.queue_wait) as readers:
            if dated:
                row = next(iter(await readers[0].execute_fetchall(
                    f"SELECT min(paper_id), max(paper_id), count(DISTINCT paper_id) FROM ({_IN_DATES})", params)))
                if row[0] is None:
                    return Ranking()
                low, high, listed = int(row[0]), int(row[1]), int(row[2])
                if high - low + 1 != listed:
                    # The days' papers are not one run of ids (days stored out of order): check each
                    # match against them. `+rowid` keeps that a filter on FTS5's output, so bm25 runs
                    # only on what passes, instead of one FTS5 lookup per listed paper (38 s at 1M).
                    where += f" AND +rowid IN ({_IN_DATES})"
                cuts = _split(low, high, len(readers))
            else:
                cuts = await self._cuts(readers[0], len(readers))
            parts = await asyncio.gather(*(
                self._rank_part(reader, where, params, low, high)
                for reader, (low, high) in zip(readers, cuts, strict=False)  # fewer ids than readers: fewer parts
            ))
        total = sum(count for count, _ in parts)
        # Best score first (bm25 is negative: lower is better); among equal scores, newer papers first.
        best = sorted((row for _, rows in parts for row in rows), key=lambda row: (row[1], -row[0]))
        return Ranking([row[0] for row in best[:depth]], total)

    async def _cuts(self, reader: aiosqlite.Connection, count: int) -> list[tuple[int | None, int | None]]:
        """`count` id ranges covering every paper, open at both ends so papers stored since are never missed."""
        if count == 1:
            return [(None, None)]
        now = time.monotonic()
        if self._id_range is None or now - self._id_range_at > 60:
            # Two subqueries: SQLite answers a lone min() or max() from the index, both at once by a scan.
            row = next(iter(await reader.execute_fetchall(
                "SELECT (SELECT min(id) FROM papers), (SELECT max(id) FROM papers)")))
            self._id_range = (int(row[0] or 0), int(row[1] or 0))
            self._id_range_at = now
        cuts: list[tuple[int | None, int | None]] = list(_split(*self._id_range, count))
        cuts[0] = (None, cuts[0][1])
        cuts[-1] = (cuts[-1][0], None)
        return cuts

    @staticmethod
    async def _rank_part(reader: aiosqlite.Connection, where: str, params: dict[str, Any], low: int | None,
                         high: int | None) -> tuple[int, list[Any]]:
        """Count and rank the matches with ids in [low, high] in one statement (one trip to the reader's thread)."""
        scope = where + ("" if low is None else " AND rowid >= :low") + ("" if high is None else " AND rowid <= :high")
        rows = list(await reader.execute_fetchall(
            f"""
            SELECT NULL, count(*) FROM papers_fts WHERE {scope}
            UNION ALL
            SELECT * FROM (SELECT rowid, {_RANK} FROM papers_fts WHERE {scope} ORDER BY 2, rowid DESC LIMIT :depth)
            """,
            {**params, "low": low, "high": high},
        ))
        return int(rows[0][1]), rows[1:]

    async def count(self, text: str, filters: SearchFilters | None = None) -> int:
        """Return how many papers match, without ranking them."""
        filters = filters or SearchFilters()
        match = build_match(text, author=filters.author, category=filters.category)
        params: dict[str, Any] = {"match": match}
        where = "papers_fts MATCH :match"
        if filters.since is not None or filters.until is not None:
            params["since"] = filters.since.isoformat() if filters.since else "0000-00-00"
            params["until"] = filters.until.isoformat() if filters.until else "9999-99-99"
            where += f" AND +rowid IN ({_IN_DATES})"
        async with self._db.reading(budget=self.budget, heavy=True, queue_wait=self.queue_wait) as reader:
            rows = await reader.execute_fetchall(f"SELECT count(*) FROM papers_fts WHERE {where}", params)
        return int(next(iter(rows))[0])

    async def count_by_author(self, name: str) -> int:
        """How many stored papers have an author of that name (case, accents and spacing ignored)."""
        match = build_match("", author=name)
        async with self._db.reading(budget=self.budget, heavy=True, queue_wait=self.queue_wait) as reader:
            rows = await reader.execute_fetchall("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?", (match,))
        return int(next(iter(rows))[0])


def search_index(db: Database, *, budget: float = 2.5, queue_wait: float = 5.0, parallel: int = 2,
                 depth: int = DEFAULT_DEPTH) -> FullTextIndex:
    """The search index of `db`'s engine: FTS5 on SQLite, compact postings ranked by the same bm25 on PostgreSQL (same API)."""
    if db.dialect == "postgres":
        from storage.postgres.search_index import PostgresSearchIndex

        return PostgresSearchIndex(db, budget=budget, queue_wait=queue_wait, parallel=parallel, depth=depth)
    return SearchIndex(db, budget=budget, queue_wait=queue_wait, parallel=parallel, depth=depth)


def _rebuild_fts5(unit: Any) -> int:
    from storage.text import fts_values

    unit.execute("INSERT INTO papers_fts (papers_fts) VALUES ('delete-all')")
    done = last = 0
    while rows := unit.execute("SELECT * FROM papers WHERE id > ? ORDER BY id LIMIT 5000", (last,)).fetchall():
        unit.executemany("INSERT INTO papers_fts (rowid, title, authors, tldr, abstract, details, categories) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", [(r["id"], *fts_values(dict(r))) for r in rows])
        done += len(rows)
        last = int(rows[-1]["id"])
    return done


async def rebuild_search_index(db: Database) -> int:
    """Index every stored paper anew, in one transaction (`digestbot db reindex`); returns how many."""
    if db.dialect == "postgres":
        from storage.postgres.search_index import rebuild_index

        return int(await db.write(rebuild_index, wait=60.0))
    return int(await db.write(_rebuild_fts5, wait=60.0))
