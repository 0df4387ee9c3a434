"""Full-text search over every stored paper, ranked by bm25, with filters and paging."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


class SearchIndex:
    """Queries the FTS5 index built by PaperStore.ingest."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def search(
        self, text: str, filters: SearchFilters | None = None, *, limit: int = 10, offset: int = 0
    ) -> SearchPage:
        """Return one page of papers matching `text`, best first, and the number of matches.

        Raises storage.fts_query.EmptyQuery when the text holds nothing to search for.
        """
        filters = filters or SearchFilters()
        match = build_match(text, author=filters.author)
        # FTS first, materialised: otherwise SQLite may walk the category index and probe the
        # full-text index once per row, which is 10x slower on a large corpus.
        query = """
            WITH hits AS MATERIALIZED (
                SELECT rowid AS paper_id, rank FROM papers_fts WHERE papers_fts MATCH :match
            )
            SELECT p.*, count(*) OVER () AS total
            FROM hits
            JOIN papers p ON p.id = hits.paper_id
            WHERE (:category IS NULL OR EXISTS (
                        SELECT 1 FROM paper_categories pc
                        WHERE pc.category = :category AND pc.paper_id = p.id))
              AND ((:since IS NULL AND :until IS NULL) OR EXISTS (
                        SELECT 1 FROM digest_papers dp JOIN digests d ON d.id = dp.digest_id
                        WHERE dp.paper_id = p.id
                          AND d.date >= coalesce(:since, '0000-00-00')
                          AND d.date <= coalesce(:until, '9999-99-99')))
            ORDER BY hits.rank, p.last_seen DESC
            LIMIT :limit OFFSET :offset
        """
        params = {
            "match": match,
            "category": filters.category,
            "since": filters.since.isoformat() if filters.since else None,
            "until": filters.until.isoformat() if filters.until else None,
            "limit": limit,
            "offset": offset,
        }
        rows = list(await self._db.reader.execute_fetchall(query, params))
        total = rows[0]["total"] if rows else 0
        if not rows and offset:
            # Past the last page: count the matches so the caller can say how many there are.
            total = await self.count(text, filters)
        return SearchPage([StoredPaper.from_row(r) for r in rows], total, offset, limit)

    async def count(self, text: str, filters: SearchFilters | None = None) -> int:
        """Return how many papers match, without fetching them."""
        page = await self.search(text, filters, limit=1, offset=0)
        return page.total

