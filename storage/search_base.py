"""What both engines' full-text search share: the filters, a ranking, the interface the bot calls.

A leaf module, so storage/search.py (SQLite's FTS5) and storage/postgres/search_index.py can both
build on it without importing each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

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
