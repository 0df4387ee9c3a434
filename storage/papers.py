"""Papers and digests: storing parsed digest files (storage/ingest.py does the work) and reading them back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from storage.engine import Database, Unit
from storage.ingest import ARRIVALS, DigestFile, FileCounts, store_batch
from storage.records import (
    CorpusStats,
    DigestEntry,
    DigestInfo,
    IngestResult,
    PaperInput,
    StoredPaper,
    iso_utc,
)
from storage.urls import redact_url


class _NothingNew(Exception):
    """Raised inside the ingest transaction to roll back a batch whose files the days already have."""


class PaperStore:
    """Papers and daily digests in the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ingest(
        self,
        papers: Sequence[PaperInput],
        *,
        date: dt.date,
        source: str,
        fmt: str,
        language: str,
        content_hash: str,
        format_rank: int = 2,
        arrival: str = "ingest",
        now: dt.datetime | None = None,
    ) -> IngestResult:
        """Store one digest file's papers for `date` as one transaction (see `ingest_many`)."""
        item = DigestFile(papers, date, source, fmt, language, content_hash, format_rank, arrival)
        return (await self.ingest_many([item], now=now))[0]

    async def ingest_many(self, files: Sequence[DigestFile], *, now: dt.datetime | None = None) -> list[IngestResult]:
        """Store several digest files as one transaction; a result per file, as if each were stored alone.

        The same file (by content) for the same day twice changes nothing; the same bytes for
        another day store that day too. A paper seen before is updated in place and linked to
        the new day as well. `arrival` says how a day came (poll, backfill, ingest) the first time.
        Each paper the batch touches is written and indexed once, with its final text.
        """
        if any(item.arrival not in ARRIVALS for item in files):
            raise ValueError(f"arrival must be one of {ARRIVALS}")
        sources = [redact_url(item.source) for item in files]
        stamp = iso_utc(now or dt.datetime.now(dt.UTC))

        def store(unit: Unit) -> list[FileCounts]:
            counts = store_batch(unit, files, sources, stamp)
            if all(c.already_ingested for c in counts):
                raise _NothingNew  # roll back: the day's rows were touched for nothing
            return counts

        try:
            counts = await self._db.write(store)
        except _NothingNew:
            counts = [FileCounts(len({p.arxiv_id for p in item.papers}), 0, 0, len({p.arxiv_id for p in item.papers}),
                                 already_ingested=True) for item in files]
        return [
            IngestResult(source, item.date, c.papers, c.new, c.updated, c.unchanged, already_ingested=c.already_ingested,
                         merged_repeats=len(item.papers) - c.papers)
            for item, source, c in zip(files, sources, counts, strict=True)
        ]

    async def get(self, arxiv_id: str) -> StoredPaper | None:
        """Return one paper by bare arXiv id."""
        rows = await self._db.fetchall("SELECT * FROM papers WHERE arxiv_id = ?", (arxiv_id,))
        for row in rows:
            return StoredPaper.from_row(row)
        return None

    async def by_arxiv_ids(self, arxiv_ids: Sequence[str]) -> list[StoredPaper]:
        """The stored papers with these arXiv ids, in the order given (unknown ids left out)."""
        found: dict[str, StoredPaper] = {}
        for start in range(0, len(arxiv_ids), 500):
            chunk = list(arxiv_ids[start:start + 500])
            rows = await self._db.fetchall(f"SELECT * FROM papers WHERE arxiv_id IN ({','.join('?' * len(chunk))})", tuple(chunk))
            found.update({row["arxiv_id"]: StoredPaper.from_row(row) for row in rows})
        return [found[i] for i in arxiv_ids if i in found]

    async def recent(self, limit: int) -> list[StoredPaper]:
        """The most recently stored papers (a sample of what the corpus talks about now)."""
        rows = await self._db.fetchall("SELECT * FROM papers ORDER BY id DESC LIMIT ?", (limit,))
        return [StoredPaper.from_row(r) for r in rows]

    async def listed_between(self, since: dt.date, until: dt.date, category: str | None = None, limit: int = 20000) -> list[StoredPaper]:
        """Each paper listed in a digest of [since, until] once (in a category, primary or cross-listed, if given)."""
        sql = ("SELECT p.* FROM papers p WHERE p.id IN (SELECT dp.paper_id FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id "
               "WHERE d.date BETWEEN ? AND ?)")
        params: list[object] = [since.isoformat(), until.isoformat()]
        if category:
            sql += " AND p.id IN (SELECT paper_id FROM paper_categories WHERE category = ?)"
            params.append(category)
        rows = await self._db.fetchall(sql + " ORDER BY p.id DESC LIMIT ?", (*params, limit))
        return [StoredPaper.from_row(r) for r in rows]

    async def digest_dates(self) -> list[dt.date]:
        """Return every stored digest date, newest first."""
        rows = await self._db.fetchall("SELECT date FROM digests ORDER BY date DESC")
        return [dt.date.fromisoformat(r[0]) for r in rows]

    async def digest_info(self, date: dt.date) -> DigestInfo | None:
        """Return the stored digest of one day."""
        rows = await self._db.fetchall("SELECT * FROM digests WHERE date = ?", (date.isoformat(),))
        return next((DigestInfo.from_row(row) for row in rows), None)

    async def news_since(self, moment: dt.datetime, max_age_days: int) -> list[DigestInfo]:
        """Digests that a poll brought at or after `moment`, fresh enough to be posted (oldest day first).

        A day fetched by backfill or ingested by hand is never news; neither is a day that arrived
        more than `max_age_days` after its date (a catch-up after a long downtime).
        """
        rows = await self._db.fetchall(
            "SELECT * FROM digests WHERE ingested_at >= ? AND arrival = 'poll' ORDER BY date",
            (iso_utc(moment),),
        )
        found = [DigestInfo.from_row(row) for row in rows]
        return [d for d in found if d.date >= d.ingested_at.astimezone(dt.UTC).date() - dt.timedelta(days=max_age_days)]

    async def latest_digest(self) -> DigestInfo | None:
        """Return the newest stored digest."""
        rows = await self._db.fetchall("SELECT max(date) FROM digests")
        value = next(iter(rows))[0] if rows else None
        return await self.digest_info(dt.date.fromisoformat(value)) if value else None

    async def digest_entries(self, date: dt.date, categories: Sequence[str] = ()) -> list[DigestEntry]:
        """Return one day's papers in digest order, only those in `categories` when given.

        A paper counts for a category when the digest listed it there or it is cross-listed there.
        """
        query = """
            SELECT dp.section, dp.position, p.*
            FROM digests d
            JOIN digest_papers dp ON dp.digest_id = d.id
            JOIN papers p ON p.id = dp.paper_id
            WHERE d.date = ?
            ORDER BY dp.position
        """
        rows = await self._db.fetchall(query, (date.isoformat(),))
        entries = [DigestEntry(row["section"], row["position"], StoredPaper.from_row(row)) for row in rows]
        if not categories:
            return entries
        wanted = set(categories)
        result: list[DigestEntry] = []
        for entry in entries:
            if entry.section in wanted:
                result.append(entry)
            else:
                # Cross-listed papers appear under the first followed category they carry.
                hit = next((c for c in entry.paper.categories if c in wanted), None)
                if hit is not None:
                    result.append(DigestEntry(hit, entry.position, entry.paper))
        return result

    async def daily_counts(self, since: dt.date, until: dt.date, category: str | None = None) -> list[tuple[dt.date, str, int]]:
        """Papers per digest day and listed category between two dates (one category, cross-lists included, when given)."""
        if category is None:
            query = """
                SELECT d.date, dp.section, count(*) FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id
                WHERE d.date BETWEEN ? AND ? GROUP BY d.date, dp.section ORDER BY d.date
            """
            params: tuple[object, ...] = (since.isoformat(), until.isoformat())
        else:
            query = """
                SELECT d.date, ?, count(*) FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id
                WHERE d.date BETWEEN ? AND ?
                  AND EXISTS (SELECT 1 FROM paper_categories pc WHERE pc.paper_id = dp.paper_id AND pc.category = ?)
                GROUP BY d.date ORDER BY d.date
            """
            params = (category, since.isoformat(), until.isoformat(), category)
        rows = await self._db.fetchall(query, params)
        return [(dt.date.fromisoformat(r[0]), r[1], r[2]) for r in rows]

    async def titles_between(self, since: dt.date, until: dt.date, category: str | None = None) -> list[str]:
        """The titles of the papers in the digests between two dates (each paper once)."""
        query = """
            SELECT DISTINCT p.id, p.title FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id JOIN papers p ON p.id = dp.paper_id
            WHERE d.date BETWEEN ? AND ?
              AND (? IS NULL OR EXISTS (SELECT 1 FROM paper_categories pc WHERE pc.paper_id = p.id AND pc.category = ?))
        """
        rows = await self._db.fetchall(query, (since.isoformat(), until.isoformat(), category, category))
        return [r[1] for r in rows]

    async def categories(self) -> list[tuple[str, int]]:
        """Return every category seen with how many papers carry it, largest first."""
        query = """
            SELECT category, count(*) AS n FROM paper_categories
            GROUP BY category ORDER BY n DESC, category
        """
        rows = await self._db.fetchall(query)
        return [(row[0], row[1]) for row in rows]

    async def totals(self) -> CorpusStats:
        """Papers and digests stored and the digests' date range (cheap at any size; no per-category counts)."""
        query = """
            SELECT (SELECT count(*) FROM papers), (SELECT count(*) FROM digests),
                   (SELECT min(date) FROM digests), (SELECT max(date) FROM digests)
        """
        papers, digests, first, last = (await self._db.fetchall(query))[0]
        return CorpusStats(
            papers=papers,
            digests=digests,
            first_date=dt.date.fromisoformat(first) if first else None,
            last_date=dt.date.fromisoformat(last) if last else None,
        )

    async def stats(self) -> CorpusStats:
        """`totals()` and papers per primary category (reads every paper: for the operator's `digestbot stats`)."""
        totals = await self.totals()
        per_category = await self._db.fetchall(
            "SELECT primary_category, count(*) AS n FROM papers GROUP BY primary_category ORDER BY n DESC, primary_category"
        )
        return dataclasses.replace(totals, per_category=[(r[0], r[1]) for r in per_category])

