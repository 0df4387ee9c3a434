"""Papers and digests: ingesting a parsed digest in one transaction, and reading them back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from storage.db import Database
from storage.records import (
    CorpusStats,
    DigestEntry,
    DigestInfo,
    IngestResult,
    PaperInput,
    StoredPaper,
    iso_utc,
)
from storage.text import category_token, fold_name, has_cjk, index_text
from storage.urls import redact_url

_TEXT_FIELDS = (
    "title", "primary_category", "tldr", "motivation", "method", "result", "conclusion",
    "abstract", "comment", "code_url", "keywords", "translated_title",
)
# Columns that only say when a paper was seen: a change there is not a change of the paper.
_BOOKKEEPING = frozenset({"first_seen", "last_seen", "updated_at", "source_rank"})
_COLUMNS = ("id", "arxiv_id", "authors", "categories", "language", "first_seen", "last_seen", "updated_at",
            "source_rank", *_TEXT_FIELDS)
_CHUNK = 500
ARRIVALS = ("poll", "backfill", "ingest")
T = TypeVar("T")


def source_rank(day: dt.date, format_rank: int) -> int:
    """Which text wins when two files describe a paper: the later day, then the richer format (0-2)."""
    return day.toordinal() * 4 + format_rank


def fts_values(row: dict[str, object]) -> tuple[str, str, str, str, str, str]:
    """Return the six indexed columns for a paper row; deletes must pass exactly these back."""
    authors = index_text(" ; ".join(fold_name(name) for name in json.loads(str(row["authors"]))))
    # English summaries restate the English abstract, so indexing them again costs a third of
    # ingest time for no new words; summaries in another script (Chinese) are the only place
    # their words occur, so they are indexed.
    fields = ["keywords", "translated_title"]
    if has_cjk(str(row["tldr"])):
        fields += ["motivation", "method", "result", "conclusion"]
    details = "\n".join(str(row[name]) for name in fields if row[name])
    return (
        index_text(str(row["title"])),
        authors,
        index_text(str(row["tldr"])),
        index_text(str(row["abstract"])),
        index_text(details),
        " ".join(category_token(c) for c in json.loads(str(row["categories"]))),
    )


def _merge(old: dict[str, object] | None, paper: PaperInput, date: str, now: str, rank: int) -> dict[str, object]:
    """Merge a newly parsed paper into its stored row.

    Text of a file that ranks at least as high as the one the row came from wins (but never
    erases text); a lower-ranked file only fills fields that are still empty. So the markdown and
    the JSONL of a day give the same paper whichever arrives first.
    """
    row: dict[str, object] = dict(old) if old is not None else {}
    wins = old is None or rank >= int(str(old["source_rank"]))
    for name in _TEXT_FIELDS:
        value = getattr(paper, name)
        if old is None or (value and (wins or not old[name])):
            row[name] = value
    if old is None or (paper.authors and (wins or old["authors"] == "[]")):
        row["authors"] = json.dumps(paper.authors, ensure_ascii=False)
    old_categories = json.loads(str(old["categories"])) if old is not None else []
    categories = list(paper.categories)
    if old is not None and (not wins or not categories) and old_categories:
        categories = old_categories
    elif len(old_categories) > len(categories) and set(categories) <= set(old_categories):
        categories = old_categories  # a markdown digest knows only the primary category
    row["categories"] = json.dumps(categories, ensure_ascii=False)
    row["language"] = "zh" if has_cjk(str(row["tldr"])) else ("en" if row["tldr"] else (old or {}).get("language", ""))
    row["first_seen"] = min(date, str(old["first_seen"])) if old is not None else date
    row["last_seen"] = max(date, str(old["last_seen"])) if old is not None else date
    row["source_rank"] = max(rank, int(str(old["source_rank"]))) if old is not None else rank
    row["updated_at"] = now
    return row


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True, slots=True)
class _DigestFile:
    papers: Sequence[PaperInput]
    day: str
    source: str
    fmt: str
    language: str
    content_hash: str
    rank: int
    arrival: str
    now: str


def _ingest_in_writer(conn: sqlite3.Connection, item: _DigestFile) -> tuple[int, int, int, int, bool]:
    """The whole ingest of one file, run in the writer's thread inside the caller's transaction.

    Returns (distinct papers, new, updated, unchanged, day already had this file).
    """
    # Keep each paper's first position; a repeated entry's later text wins.
    latest: dict[str, PaperInput] = {}
    position: dict[str, int] = {}
    for index, paper in enumerate(item.papers):
        latest[paper.arxiv_id] = paper
        position.setdefault(paper.arxiv_id, index)
    ids = list(latest)
    digest_id = int(conn.execute(
        """
        INSERT INTO digests (date, source, language, arrival, ingested_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (date) DO UPDATE SET source = excluded.source,
            language = CASE WHEN excluded.language != '' THEN excluded.language ELSE digests.language END,
            updated_at = excluded.updated_at
        RETURNING id
        """,
        (item.day, item.source, item.language, item.arrival, item.now, item.now),
    ).fetchone()[0])
    known = conn.execute(
        "SELECT 1 FROM digest_files WHERE digest_id = ? AND content_hash = ?", (digest_id, item.content_hash)
    ).fetchone()
    if known is not None:
        # The day has this very file already; the caller rolls back the touch of updated_at above.
        return len(ids), 0, 0, len(ids), True

    existing: dict[str, dict[str, object]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for found in conn.execute(f"SELECT * FROM papers WHERE arxiv_id IN ({marks})", tuple(chunk)):
            existing[found["arxiv_id"]] = dict(found)

    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    reindex: list[tuple[dict[str, object], dict[str, object]]] = []
    recategorise: list[dict[str, object]] = []
    changed_text = 0
    for arxiv_id in ids:
        old = existing.get(arxiv_id)
        row = _merge(old, latest[arxiv_id], item.day, item.now, item.rank)
        if old is None:
            row["arxiv_id"] = arxiv_id
            inserts.append(row)
            continue
        if any(row[k] != old[k] for k in row if k not in _BOOKKEEPING):
            changed_text += 1
        if any(row[k] != old[k] for k in row if k != "updated_at"):
            updates.append(row)
            # The index is contentless: touch it only when the derived text changed, and then
            # remove exactly the old derived text before adding the new.
            before, after = fts_values(old), fts_values(row)
            if before != after:
                reindex.append((old, row))
            if row["categories"] != old["categories"]:
                recategorise.append(row)

    next_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM papers").fetchone()[0]) + 1
    for offset, row in enumerate(inserts):
        # Ids are assigned here (we are the only writer): no read-back after the insert. New
        # papers get growing ids, so a higher id is a more recently listed paper.
        row["id"] = next_id + offset
    if inserts:
        conn.executemany(
            f"INSERT INTO papers ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            [tuple(row[c] for c in _COLUMNS) for row in inserts],
        )
        conn.executemany(
            "INSERT INTO papers_fts (rowid, title, authors, tldr, abstract, details, categories) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(row["id"], *fts_values(row)) for row in inserts],
        )
    if updates:
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[2:])
        conn.executemany(
            f"UPDATE papers SET {assignments} WHERE id = ?",
            [(*(row[c] for c in _COLUMNS[2:]), row["id"]) for row in updates],
        )
    if reindex:
        conn.executemany(
            "INSERT INTO papers_fts (papers_fts, rowid, title, authors, tldr, abstract, details, categories) "
            "VALUES ('delete', ?, ?, ?, ?, ?, ?, ?)",
            [(old["id"], *fts_values(old)) for old, _ in reindex],
        )
        conn.executemany(
            "INSERT INTO papers_fts (rowid, title, authors, tldr, abstract, details, categories) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(row["id"], *fts_values(row)) for _, row in reindex],
        )
    if recategorise:
        conn.executemany("DELETE FROM paper_categories WHERE paper_id = ?", [(row["id"],) for row in recategorise])
    conn.executemany(
        "INSERT OR IGNORE INTO paper_categories (category, paper_id) VALUES (?, ?)",
        [(cat, row["id"]) for row in [*inserts, *recategorise] for cat in json.loads(str(row["categories"]))],
    )
    paper_ids = {str(r["arxiv_id"]): r["id"] for r in [*existing.values(), *inserts]}
    conn.executemany(
        "INSERT OR IGNORE INTO digest_papers (digest_id, paper_id, section, position) VALUES (?, ?, ?, ?)",
        [
            (digest_id, paper_ids[arxiv_id], latest[arxiv_id].section or latest[arxiv_id].primary_category, position[arxiv_id])
            for arxiv_id in ids
        ],
    )
    conn.execute(
        "UPDATE digests SET paper_count = (SELECT count(*) FROM digest_papers WHERE digest_id = ?) WHERE id = ?",
        (digest_id, digest_id),
    )
    conn.execute(
        "INSERT INTO digest_files (digest_id, content_hash, source, format, paper_count, ingested_at) VALUES (?, ?, ?, ?, ?, ?)",
        (digest_id, item.content_hash, item.source, item.fmt, len(ids), item.now),
    )
    return len(ids), len(inserts), changed_text, len(ids) - len(inserts) - changed_text, False


class _NothingNew(Exception):
    """Raised inside the ingest transaction to roll back the bookkeeping of a file the day already has."""

    def __init__(self, papers: int) -> None:
        super().__init__(papers)
        self.papers = papers


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
        """Store one digest file's papers for `date` as one transaction.

        The same file (by content) for the same day twice changes nothing; the same bytes for
        another day store that day too. A paper seen before is updated in place and linked to
        this day as well. `arrival` says how the day came (poll, backfill, ingest) the first time.
        """
        if arrival not in ARRIVALS:
            raise ValueError(f"arrival must be one of {ARRIVALS}")
        item = _DigestFile(papers, date.isoformat(), redact_url(source), fmt, language, content_hash,
                           source_rank(date, format_rank), arrival, iso_utc(now or dt.datetime.now(dt.UTC)))
        try:
            async with self._db.transaction():
                distinct, new, updated, unchanged, known = await self._db.run_in_writer(_ingest_in_writer, item)
                if known:
                    raise _NothingNew(distinct)
        except _NothingNew as nothing:
            return IngestResult(item.source, date, nothing.papers, 0, 0, nothing.papers, already_ingested=True)
        return IngestResult(item.source, date, distinct, new, updated, unchanged, merged_repeats=len(papers) - distinct)

    async def get(self, arxiv_id: str) -> StoredPaper | None:
        """Return one paper by bare arXiv id."""
        rows = await self._db.fetchall("SELECT * FROM papers WHERE arxiv_id = ?", (arxiv_id,))
        for row in rows:
            return StoredPaper.from_row(row)
        return None

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

