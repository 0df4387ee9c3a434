"""Papers and digests: ingesting a parsed digest in one transaction, and reading them back."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import TypeVar

import aiosqlite

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

_TEXT_FIELDS = (
    "title", "primary_category", "tldr", "motivation", "method", "result", "conclusion",
    "abstract", "comment", "code_url", "keywords", "translated_title", "abs_url", "pdf_url",
)
_CHUNK = 500
T = TypeVar("T")


def _fts_values(row: dict[str, object]) -> tuple[str, str, str, str, str, str]:
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


def _merge(old: dict[str, object] | None, paper: PaperInput, date: str, now: str) -> dict[str, object]:
    """Merge a newly parsed paper into its stored row: new text wins, but never erases text."""
    row: dict[str, object] = dict(old) if old is not None else {}
    for name in _TEXT_FIELDS:
        value = getattr(paper, name)
        if value or old is None:
            row[name] = value
    if paper.authors or old is None:
        row["authors"] = json.dumps(paper.authors, ensure_ascii=False)
    old_categories = json.loads(str(old["categories"])) if old is not None else []
    categories = list(paper.categories)
    if len(old_categories) > len(categories) and set(categories) <= set(old_categories):
        categories = old_categories  # a markdown digest knows only the primary category
    row["categories"] = json.dumps(categories, ensure_ascii=False)
    row["language"] = "zh" if has_cjk(str(row["tldr"])) else ("en" if row["tldr"] else (old or {}).get("language", ""))
    row["first_seen"] = min(date, str(old["first_seen"])) if old is not None else date
    row["last_seen"] = max(date, str(old["last_seen"])) if old is not None else date
    row["updated_at"] = now
    return row


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def _many(conn: aiosqlite.Connection, sql: str, params: list[tuple[object, ...]]) -> None:
    """Run `sql` for every parameter tuple (nothing when there are none)."""
    if params:
        await conn.executemany(sql, params)


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
        now: dt.datetime | None = None,
    ) -> IngestResult:
        """Store one digest file's papers for `date` as one transaction.

        The same file (by content hash) twice changes nothing. A paper seen before is updated
        in place and linked to this digest too.
        """
        day = date.isoformat()
        arrived = now or dt.datetime.now(dt.UTC)
        now_text = iso_utc(arrived)
        # Keep each paper's first position; a repeated entry's later text wins.
        latest: dict[str, PaperInput] = {}
        position: dict[str, int] = {}
        for index, paper in enumerate(papers):
            latest[paper.arxiv_id] = paper
            position.setdefault(paper.arxiv_id, index)
        ids = list(latest)
        async with self._db.transaction() as conn:
            known_file = await conn.execute_fetchall(
                "SELECT 1 FROM digest_files WHERE content_hash = ?", (content_hash,)
            )
            if known_file:
                return IngestResult(source, date, len(ids), 0, 0, len(ids), already_ingested=True)

            digest_row = await conn.execute_fetchall(
                """
                INSERT INTO digests (date, source, language, ingested_at, updated_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (date) DO UPDATE SET source = excluded.source,
                    language = excluded.language, updated_at = excluded.updated_at
                RETURNING id
                """,
                (day, source, language, now_text, now_text),
            )
            digest_id = int(next(iter(digest_row))[0])

            existing: dict[str, dict[str, object]] = {}
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                rows = await conn.execute_fetchall(f"SELECT * FROM papers WHERE arxiv_id IN ({marks})", tuple(chunk))
                for found in rows:
                    existing[found["arxiv_id"]] = dict(found)

            inserts: list[dict[str, object]] = []
            updates: list[tuple[dict[str, object], dict[str, object]]] = []
            unchanged = 0
            for arxiv_id in ids:
                old = existing.get(arxiv_id)
                row = _merge(old, latest[arxiv_id], day, now_text)
                if old is None:
                    row["arxiv_id"] = arxiv_id
                    inserts.append(row)
                elif any(row[k] != old[k] for k in row if k != "updated_at"):
                    updates.append((old, row))
                else:
                    unchanged += 1

            max_rows = await conn.execute_fetchall("SELECT coalesce(max(id), 0) FROM papers")
            next_id = int(next(iter(max_rows))[0]) + 1
            for offset, row in enumerate(inserts):
                # Ids are assigned here (we are the only writer): no read-back after the insert.
                row["id"] = next_id + offset
            columns = ("id", "arxiv_id", "authors", "categories", "language", "first_seen", "last_seen", "updated_at", *_TEXT_FIELDS)
            if inserts:
                await _many(
                    conn, f"INSERT INTO papers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    [tuple(row[c] for c in columns) for row in inserts],
                )
            if updates:
                # The index is contentless: remove the old derived text before adding the new.
                await _many(
                    conn, "INSERT INTO papers_fts (papers_fts, rowid, title, authors, tldr, abstract, details, categories) "
                    "VALUES ('delete', ?, ?, ?, ?, ?, ?, ?)",
                    [(old["id"], *_fts_values(old)) for old, _ in updates],
                )
                assignments = ", ".join(f"{c} = ?" for c in columns[2:])
                await _many(
                    conn, f"UPDATE papers SET {assignments} WHERE id = ?",
                    [(*(row[c] for c in columns[2:]), row["id"]) for _, row in updates],
                )
                await _many(conn, "DELETE FROM paper_categories WHERE paper_id = ?", [(row["id"],) for _, row in updates])
            changed = inserts + [row for _, row in updates]
            await _many(
                conn, "INSERT INTO papers_fts (rowid, title, authors, tldr, abstract, details, categories) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(row["id"], *_fts_values(row)) for row in changed],
            )
            await _many(
                conn, "INSERT OR IGNORE INTO paper_categories (category, paper_id) VALUES (?, ?)",
                [(cat, row["id"]) for row in changed for cat in json.loads(str(row["categories"]))],
            )
            paper_ids = {str(r["arxiv_id"]): r["id"] for r in [*existing.values(), *inserts]}
            await _many(
                conn, "INSERT OR IGNORE INTO digest_papers (digest_id, paper_id, section, position) VALUES (?, ?, ?, ?)",
                [
                    (digest_id, paper_ids[arxiv_id], latest[arxiv_id].section or latest[arxiv_id].primary_category, position[arxiv_id])
                    for arxiv_id in ids
                ],
            )
            await conn.execute(
                "UPDATE digests SET paper_count = (SELECT count(*) FROM digest_papers WHERE digest_id = ?) WHERE id = ?",
                (digest_id, digest_id),
            )
            await conn.execute(
                "INSERT INTO digest_files (content_hash, digest_id, source, format, paper_count, ingested_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (content_hash, digest_id, source, fmt, len(ids), now_text),
            )
        return IngestResult(
            source, date, len(ids), len(inserts), len(updates), unchanged,
            merged_repeats=len(papers) - len(ids),
        )

    async def get(self, arxiv_id: str) -> StoredPaper | None:
        """Return one paper by bare arXiv id."""
        rows = await self._db.reader.execute_fetchall("SELECT * FROM papers WHERE arxiv_id = ?", (arxiv_id,))
        for row in rows:
            return StoredPaper.from_row(row)
        return None

    async def digest_dates(self) -> list[dt.date]:
        """Return every stored digest date, newest first."""
        rows = await self._db.reader.execute_fetchall("SELECT date FROM digests ORDER BY date DESC")
        return [dt.date.fromisoformat(r[0]) for r in rows]

    async def digest_info(self, date: dt.date) -> DigestInfo | None:
        """Return the stored digest of one day."""
        rows = await self._db.reader.execute_fetchall("SELECT * FROM digests WHERE date = ?", (date.isoformat(),))
        return next((DigestInfo.from_row(row) for row in rows), None)

    async def digests_arrived_since(self, moment: dt.datetime) -> list[DigestInfo]:
        """Return the digests that first arrived at or after `moment`, oldest day first."""
        rows = await self._db.reader.execute_fetchall(
            "SELECT * FROM digests WHERE ingested_at >= ? ORDER BY date",
            (iso_utc(moment),),
        )
        return [DigestInfo.from_row(row) for row in rows]

    async def latest_digest(self) -> DigestInfo | None:
        """Return the newest stored digest."""
        rows = await self._db.reader.execute_fetchall("SELECT max(date) FROM digests")
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
        rows = await self._db.reader.execute_fetchall(query, (date.isoformat(),))
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
        rows = await self._db.reader.execute_fetchall(query, params)
        return [(dt.date.fromisoformat(r[0]), r[1], r[2]) for r in rows]

    async def titles_between(self, since: dt.date, until: dt.date, category: str | None = None) -> list[str]:
        """The titles of the papers in the digests between two dates (each paper once)."""
        query = """
            SELECT DISTINCT p.id, p.title FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id JOIN papers p ON p.id = dp.paper_id
            WHERE d.date BETWEEN ? AND ?
              AND (? IS NULL OR EXISTS (SELECT 1 FROM paper_categories pc WHERE pc.paper_id = p.id AND pc.category = ?))
        """
        rows = await self._db.reader.execute_fetchall(query, (since.isoformat(), until.isoformat(), category, category))
        return [r[1] for r in rows]

    async def categories(self) -> list[tuple[str, int]]:
        """Return every category seen with how many papers carry it, largest first."""
        query = """
            SELECT category, count(*) AS n FROM paper_categories
            GROUP BY category ORDER BY n DESC, category
        """
        rows = await self._db.reader.execute_fetchall(query)
        return [(row[0], row[1]) for row in rows]

    async def stats(self) -> CorpusStats:
        """Return counts of papers, digests and papers per primary category."""
        query = """
            SELECT (SELECT count(*) FROM papers), (SELECT count(*) FROM digests),
                   (SELECT min(date) FROM digests), (SELECT max(date) FROM digests)
        """
        rows = list(await self._db.reader.execute_fetchall(query))
        papers, digests, first, last = rows[0]
        per_category = await self._db.reader.execute_fetchall(
            "SELECT primary_category, count(*) AS n FROM papers GROUP BY primary_category ORDER BY n DESC, primary_category"
        )
        return CorpusStats(
            papers=papers,
            digests=digests,
            first_date=dt.date.fromisoformat(first) if first else None,
            last_date=dt.date.fromisoformat(last) if last else None,
            per_category=[(r[0], r[1]) for r in per_category],
        )

