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
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from storage.db import Database
from storage.fts_query import build_match
from storage.records import SearchPage, StoredPaper


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Optional narrowing of a search: category (primary or cross-listed), author, date range."""

    category: str | None = None
    author: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    """One search's result: matching paper ids best first (as many as were asked for) and the total."""

    ids: list[int] = field(default_factory=list)
    total: int = 0

    @property
    def complete(self) -> bool:
        """True when `ids` holds every match."""
        return len(self.ids) >= self.total


# Column weights: title, authors, tldr, abstract, details. Spelled out rather than the stored
# `rank` setting because FTS5 evaluates an explicit bm25() call about a third faster.
_RANK = "bm25(papers_fts, 8.0, 4.0, 3.0, 1.0, 1.5, 0.0)"
# Papers listed in a digest of the date range (a paper may be listed on several days).
_IN_DATES = """
    SELECT dp.paper_id FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id
    WHERE d.date BETWEEN :since AND :until
"""
DEFAULT_DEPTH = 100


def _parts(low: int, high: int, count: int) -> list[tuple[int, int]]:
    """Split the id range [low, high] into `count` contiguous parts of about equal width."""
    count = max(1, min(count, high - low + 1))
    width = (high - low + 1) / count
    bounds = [low + round(width * n) for n in range(count)] + [high + 1]
    return [(bounds[n], bounds[n + 1] - 1) for n in range(count)]


class SearchIndex:
    """Queries the FTS5 index built by PaperStore.ingest."""

    def __init__(self, db: Database, *, budget: float = 2.5, queue_wait: float = 5.0, parallel: int = 2,
                 depth: int = DEFAULT_DEPTH) -> None:
        self._db = db
        # SQLite stops a search that runs longer than `budget` seconds (QueryTimeout); a search
        # waits at most `queue_wait` seconds for a free reader (DatabaseBusy).
        self.budget = budget
        self.queue_wait = queue_wait
        self.parallel = max(1, parallel)
        self.depth = depth

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
        if filters.since is not None or filters.until is not None:
            params["since"] = filters.since.isoformat() if filters.since else "0000-00-00"
            params["until"] = filters.until.isoformat() if filters.until else "9999-99-99"
            # `+rowid` keeps the date set a filter on FTS5's output (bm25 runs only on what passes)
            # instead of a lookup per listed paper; the id range below narrows what FTS5 reads.
            where += f" AND +rowid IN ({_IN_DATES})"
            bounds = f"SELECT min(paper_id), max(paper_id) FROM ({_IN_DATES})"
        else:
            bounds = "SELECT min(id), max(id) FROM papers"
        async with self._db.reading_parallel(most=self.parallel, budget=self.budget, queue_wait=self.queue_wait) as readers:
            low, high = next(iter(await readers[0].execute_fetchall(bounds, params)))
            if low is None:
                return Ranking()
            parts = await asyncio.gather(*(
                self._rank_part(reader, where, {**params, "low": a, "high": b})
                for reader, (a, b) in zip(readers, _parts(low, high, len(readers)), strict=False)
            ))
        total = sum(count for count, _ in parts)
        # Best score first (bm25 is negative: lower is better); among equal scores, newer papers first.
        best = sorted((row for _, rows in parts for row in rows), key=lambda row: (row[1], -row[0]))
        return Ranking([row[0] for row in best[:depth]], total)

    @staticmethod
    async def _rank_part(reader: aiosqlite.Connection, where: str, params: dict[str, Any]) -> tuple[int, list[Any]]:
        scope = f"{where} AND rowid BETWEEN :low AND :high"
        counted = await reader.execute_fetchall(f"SELECT count(*) FROM papers_fts WHERE {scope}", params)
        total = int(next(iter(counted))[0])
        if total == 0:
            return 0, []
        rows = await reader.execute_fetchall(
            f"SELECT rowid, {_RANK} FROM papers_fts WHERE {scope} ORDER BY 2, rowid DESC LIMIT :depth", params
        )
        return total, list(rows)

    async def papers(self, ids: list[int]) -> list[StoredPaper]:
        """The stored papers with these ids, in the order given."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(f"SELECT * FROM papers WHERE id IN ({marks})", tuple(ids))
        by_id = {row["id"]: StoredPaper.from_row(row) for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    async def search(
        self, text: str, filters: SearchFilters | None = None, *, limit: int = 10, offset: int = 0
    ) -> SearchPage:
        """Return one page of papers matching `text`, best first, and the number of matches."""
        ranking = await self.rank(text, filters, depth=max(self.depth, offset + limit))
        return SearchPage(await self.papers(ranking.ids[offset:offset + limit]), ranking.total, offset, limit)

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
