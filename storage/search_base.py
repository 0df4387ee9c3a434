"""What both engines' full-text search share: the filters, a ranking, the interface the bot calls.

A leaf module, so storage/search.py (SQLite's FTS5) and storage/postgres/search_index.py can both
build on it without importing each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

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


DEFAULT_DEPTH = 100


class FullTextIndex(Protocol):
    """What the bot searches through, on either engine (storage.search.SearchIndex on SQLite, PostgresSearchIndex)."""

    budget: float
    depth: int

    async def rank(self, text: str, filters: SearchFilters | None = None, *, depth: int | None = None) -> Ranking: ...

    async def papers(self, ids: list[int]) -> list[StoredPaper]: ...

    async def search(self, text: str, filters: SearchFilters | None = None, *, limit: int = 10,
                     offset: int = 0) -> SearchPage: ...

    async def count(self, text: str, filters: SearchFilters | None = None) -> int: ...

    async def count_by_author(self, name: str) -> int: ...


class RankedSearch:
    """What both engines' indexes do alike: their budgets, and papers and pages from a ranking.

    A subclass ranks (`rank`) and counts; this class turns a ranking into the stored papers.
    """

    def __init__(self, db: Any, *, budget: float = 2.5, queue_wait: float = 5.0, parallel: int = 2,
                 depth: int = DEFAULT_DEPTH) -> None:
        self._db = db
        # A search running longer than `budget` seconds is stopped (QueryTimeout); a search waits
        # at most `queue_wait` seconds for a free reader (DatabaseBusy).
        self.budget = budget
        self.queue_wait = queue_wait
        self.parallel = max(1, parallel)
        self.depth = depth

    async def rank(self, text: str, filters: SearchFilters | None = None, *, depth: int | None = None) -> Ranking:
        raise NotImplementedError

    async def papers(self, ids: list[int]) -> list[StoredPaper]:
        """The stored papers with these ids, in the order given."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(f"SELECT * FROM papers WHERE id IN ({marks})", tuple(ids))
        by_id = {row["id"]: StoredPaper.from_row(row) for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    async def search(self, text: str, filters: SearchFilters | None = None, *, limit: int = 10,
                     offset: int = 0) -> SearchPage:
        """Return one page of papers matching `text`, best first, and the number of matches."""
        ranking = await self.rank(text, filters, depth=max(self.depth, offset + limit))
        return SearchPage(await self.papers(ranking.ids[offset:offset + limit]), ranking.total, offset, limit)
