"""Storing digest files: a batch of files as one transaction, each paper written and indexed once.

A file's papers are merged into what is stored (new text wins over older, richer formats over
poorer on the same day, never erasing text); a paper listed again is linked to its new day. The
full-text index is contentless, so changing a paper there means deleting exactly the old
derived text and adding the new: the costliest step of an ingest. In a batch, every file is
merged in memory in order first, and each paper touched by the batch is then written and
re-indexed once, with its final text: a paper listed on five days of a bulk load is indexed
once, not five times (bench/README.md). Each file keeps its own counts, as if stored alone.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from storage.engine import Unit
from storage.records import PaperInput
from storage.text import FtsValues, fts_values, has_cjk

_TEXT_FIELDS = (
    "title", "primary_category", "tldr", "motivation", "method", "result", "conclusion",
    "abstract", "comment", "code_url", "keywords", "translated_title",
)
# Columns that only say when a paper was seen: a change there is not a change of the paper.
_BOOKKEEPING = frozenset({"first_seen", "last_seen", "updated_at", "source_rank"})
_COLUMNS = ("id", "arxiv_id", "authors", "categories", "language", "first_seen", "last_seen", "updated_at",
            "source_rank", *_TEXT_FIELDS)
# The columns' PostgreSQL types, for COPY (binary COPY sends each value as its type).
_COPY_TYPES = tuple("int8" if c == "id" else "int4" if c == "source_rank" else "text" for c in _COLUMNS)
_CHUNK = 500
ARRIVALS = ("poll", "backfill", "ingest")
T = TypeVar("T")
# Both engines' forms where they differ.
_INSERT_CATEGORY = {
    "sqlite": "INSERT OR IGNORE INTO paper_categories (category, paper_id) VALUES (?, ?)",
    "postgres": "INSERT INTO paper_categories (category, paper_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
}
_INSERT_LISTING = {
    "sqlite": "INSERT OR IGNORE INTO digest_papers (digest_id, paper_id, section, position) VALUES (?, ?, ?, ?)",
    "postgres": "INSERT INTO digest_papers (digest_id, paper_id, section, position) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
}
# On PostgreSQL, per table: its columns, their types, and how many of the first make the key.
_PG_ROWS = {
    "paper_categories": (("category", "paper_id"), ("text", "int8"), 2),
    "digest_papers": (("digest_id", "paper_id", "section", "position"), ("int8", "int8", "text", "int4"), 2),
}
# ... and the same rows as one statement, a column per array: a statement per row cost 1.5 s of a
# 184-day ingest, a day per transaction (1.1 s so; SQLite's per-row inserts: 0.2 s).
_INSERT_ROWS = {
    table: f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(f'?::{t}[]' for t in types)}) "
           "ON CONFLICT DO NOTHING"
    for table, (columns, types, _) in _PG_ROWS.items()
}
# The advisory lock that makes ingests take turns on PostgreSQL ("ingest" in ASCII).
INGEST_LOCK = 0x696E67657374

# The ingest bench sets a dict here to learn where an ingest spends its time (phase -> seconds).
PHASE_TIMES: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class DigestFile:
    """One parsed digest file to store for a day."""

    papers: Sequence[PaperInput]
    date: dt.date
    source: str
    fmt: str
    language: str
    content_hash: str
    format_rank: int = 2
    arrival: str = "ingest"


@dataclass(frozen=True, slots=True)
class FileCounts:
    """What storing one file did: distinct papers, new ones, ones whose text changed, unchanged ones."""

    papers: int
    new: int
    updated: int
    unchanged: int
    already_ingested: bool = False


def source_rank(day: dt.date, format_rank: int) -> int:
    """Which text wins when two files describe a paper: the later day, then the richer format (0-2)."""
    return day.toordinal() * 4 + format_rank


def merge(old: dict[str, object] | None, paper: PaperInput, date: str, now: str, rank: int) -> dict[str, object]:
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


class _Phases:
    """Adds the time since the last mark to PHASE_TIMES[name], when the bench is looking."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = time.perf_counter()

    def mark(self, name: str) -> None:
        if PHASE_TIMES is not None:
            now = time.perf_counter()
            PHASE_TIMES[name] = PHASE_TIMES.get(name, 0.0) + now - self.last
            self.last = now


def _digest_id(conn: Unit, item: DigestFile, now: str, source: str) -> int:
    return int(conn.execute(
        """
        INSERT INTO digests (date, source, language, arrival, ingested_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (date) DO UPDATE SET source = excluded.source,
            language = CASE WHEN excluded.language != '' THEN excluded.language ELSE digests.language END,
            updated_at = excluded.updated_at
        RETURNING id
        """,
        (item.date.isoformat(), source, item.language, item.arrival, now, now),
    ).fetchone()[0])


def _stored_papers(conn: Unit, arxiv_ids: list[str]) -> dict[str, dict[str, object]]:
    """The stored rows of these papers, by arXiv id: an array on PostgreSQL, lists of 500 on SQLite (its variable limit)."""
    if conn.dialect == "postgres":
        return {row["arxiv_id"]: dict(row) for row in
                conn.execute("SELECT * FROM papers WHERE arxiv_id = ANY(?)", (arxiv_ids,)).fetchall()}
    found: dict[str, dict[str, object]] = {}
    for chunk in _chunks(arxiv_ids):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT * FROM papers WHERE arxiv_id IN ({marks})", tuple(chunk)):
            found[row["arxiv_id"]] = dict(row)
    return found


def store_batch(conn: Unit, items: Sequence[DigestFile], sources: Sequence[str],
                now: str) -> list[FileCounts]:
    """Store every file of `items` in the caller's transaction (a unit of work, in the writer's own thread)."""
    phases = _Phases()
    if conn.dialect == "postgres":
        # Paper ids are given here (max + 1): one ingest at a time, whichever process runs it.
        conn.execute("SELECT pg_advisory_xact_lock(?)", (INGEST_LOCK,))
    # 1. Each file's day, and whether the day has this very file already (by content).
    digest_ids: list[int] = []
    known: list[bool] = []
    seen_files: set[tuple[int, str]] = set()
    created: set[int] = set()  # days this batch adds: none of their listings is stored yet
    for item, source in zip(items, sources, strict=True):
        day = item.date.isoformat()
        existing = conn.execute("SELECT id FROM digests WHERE date = ?", (day,)).fetchone()
        stored = existing is not None and conn.execute(
            "SELECT 1 FROM digest_files WHERE digest_id = ? AND content_hash = ?", (existing[0], item.content_hash)
        ).fetchone() is not None
        if stored or (existing is not None and (existing[0], item.content_hash) in seen_files):
            digest_ids.append(int(existing[0]))
            known.append(True)
            continue
        digest_id = _digest_id(conn, item, now, source)
        if existing is None:
            created.add(digest_id)
        digest_ids.append(digest_id)
        known.append(False)
        seen_files.add((digest_id, item.content_hash))
    # 2. Every paper the batch mentions, as stored before it.
    wanted = list(dict.fromkeys(p.arxiv_id for item, old in zip(items, known, strict=True) if not old for p in item.papers))
    before = _stored_papers(conn, wanted)
    phases.mark("read known papers")
    # 3. Merge file after file in memory; count per file as if each were stored alone.
    state: dict[str, dict[str, object]] = dict(before)
    results: list[FileCounts] = []
    listings: list[tuple[int, str, str, int]] = []
    for item, digest_id, old_file in zip(items, digest_ids, known, strict=True):
        latest: dict[str, PaperInput] = {}
        position: dict[str, int] = {}
        for index, paper in enumerate(item.papers):
            latest[paper.arxiv_id] = paper
            position.setdefault(paper.arxiv_id, index)
        if old_file:
            results.append(FileCounts(len(latest), 0, 0, len(latest), already_ingested=True))
            continue
        rank = source_rank(item.date, item.format_rank)
        day = item.date.isoformat()
        new = changed = 0
        for arxiv_id, paper in latest.items():
            old = state.get(arxiv_id)
            row = merge(old, paper, day, now, rank)
            if old is None:
                row["arxiv_id"] = arxiv_id
                new += 1
            elif any(row[k] != old[k] for k in row if k not in _BOOKKEEPING):
                changed += 1
            state[arxiv_id] = row
            listings.append((digest_id, arxiv_id, paper.section or paper.primary_category, position[arxiv_id]))
        results.append(FileCounts(len(latest), new, changed, len(latest) - new - changed))
    phases.mark("merge (Python)")
    # 4. Each touched paper written once, with its final text; the index touched only where the text changed.
    next_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM papers").fetchone()[0]) + 1
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    reindex: list[tuple[int, FtsValues, FtsValues]] = []
    recategorise: list[dict[str, object]] = []
    for arxiv_id in wanted:
        row = state[arxiv_id]
        old = before.get(arxiv_id)
        if old is None:
            # Ids are assigned here (we are the only writer): no read-back. New papers get growing
            # ids, so a higher id is a more recently listed paper (search splits by id).
            row["id"] = next_id + len(inserts)
            inserts.append(row)
        elif any(row[k] != old[k] for k in row if k != "updated_at"):
            updates.append(row)
            old_text, new_text = fts_values(old), fts_values(row)
            if old_text != new_text:
                reindex.append((int(str(row["id"])), old_text, new_text))
            if row["categories"] != old["categories"]:
                recategorise.append(row)
    texts = [(int(str(row["id"])), fts_values(row)) for row in inserts]
    phases.mark("index text (Python)")
    if inserts:
        _insert_papers(conn, [tuple(row[c] for c in _COLUMNS) for row in inserts])
    if updates:
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[2:])
        conn.executemany(f"UPDATE papers SET {assignments} WHERE id = ?",
                         [(*(row[c] for c in _COLUMNS[2:]), row["id"]) for row in updates])
    phases.mark("paper rows")
    if conn.dialect == "postgres":
        from storage.postgres.connection import SyncUnit
        from storage.postgres.search_index import index_papers

        assert isinstance(conn, SyncUnit)  # the PostgreSQL writer's unit of work (binary reads, COPY)
        index_papers(conn, texts, reindex)
        phases.mark("index new and changed papers")
    else:
        if texts:
            conn.executemany("INSERT INTO papers_fts (rowid, title, authors, tldr, abstract, details, categories) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", [(pid, *text) for pid, text in texts])
        phases.mark("index new papers")
        if reindex:
            conn.executemany("INSERT INTO papers_fts (papers_fts, rowid, title, authors, tldr, abstract, details, categories) "
                             "VALUES ('delete', ?, ?, ?, ?, ?, ?, ?)", [(pid, *old_text) for pid, old_text, _ in reindex])
            conn.executemany("INSERT INTO papers_fts (rowid, title, authors, tldr, abstract, details, categories) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", [(pid, *new_text) for pid, _, new_text in reindex])
        phases.mark("re-index changed papers")
    # 5. Categories, the days' listings, counts and the files.
    if recategorise:
        conn.executemany("DELETE FROM paper_categories WHERE paper_id = ?", [(row["id"],) for row in recategorise])
    # Neither a new paper nor a re-categorised one (its rows deleted above) has a category stored.
    _insert_rows(conn, "paper_categories", _INSERT_CATEGORY,
                 [(c, row["id"]) for row in [*inserts, *recategorise] for c in json.loads(str(row["categories"]))],
                 none_stored=True)
    listed = [(digest_id, state[arxiv_id]["id"], section, position) for digest_id, arxiv_id, section, position in listings]
    _insert_rows(conn, "digest_papers", _INSERT_LISTING, [row for row in listed if row[0] in created], none_stored=True)
    _insert_rows(conn, "digest_papers", _INSERT_LISTING, [row for row in listed if row[0] not in created])
    for digest_id in dict.fromkeys(d for d, old in zip(digest_ids, known, strict=True) if not old):
        conn.execute("UPDATE digests SET paper_count = (SELECT count(*) FROM digest_papers WHERE digest_id = ?) WHERE id = ?",
                     (digest_id, digest_id))
    conn.executemany(
        "INSERT INTO digest_files (digest_id, content_hash, source, format, paper_count, ingested_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(digest_id, item.content_hash, source, item.fmt, counts.papers, now)
         for item, source, digest_id, counts in zip(items, sources, digest_ids, results, strict=True)
         if not counts.already_ingested],
    )
    phases.mark("categories and listings")
    return results


def _insert_papers(conn: Unit, rows: list[tuple[object, ...]]) -> None:
    """New papers' rows: a statement per row on SQLite, one binary COPY on PostgreSQL.

    COPY is safe here: the ids are new (max + 1 under the ingest lock) and the arXiv ids were
    looked up in the same transaction, so no row can conflict.
    """
    if conn.dialect == "postgres":
        _copy(conn, "papers", _COLUMNS, _COPY_TYPES, rows)
    else:
        conn.executemany(f"INSERT INTO papers ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", rows)


def _insert_rows(conn: Unit, table: str, per_row: dict[str, str], rows: list[tuple[object, ...]], *,
                 none_stored: bool = False) -> None:
    """Insert rows, a row whose key is already there left alone (the first of the batch's wins, as it is stored).

    SQLite: a statement per row. PostgreSQL: one statement of arrays, or, when the caller knows
    no row of the table has one of these keys (`none_stored`), the batch's first row per key by
    binary COPY, which has no ON CONFLICT (batch ingest: bench/README.md, "Ingest").
    """
    if not rows:
        return
    if conn.dialect != "postgres":
        conn.executemany(per_row[conn.dialect], rows)
        return
    if not none_stored:
        conn.execute(_INSERT_ROWS[table], tuple(list(column) for column in zip(*rows, strict=True)))
        return
    columns, types, key = _PG_ROWS[table]
    first: dict[tuple[object, ...], tuple[object, ...]] = {}
    for row in rows:
        first.setdefault(row[:key], row)
    _copy(conn, table, columns, types, first.values())


def _copy(conn: Unit, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Binary COPY on the PostgreSQL writer's unit of work."""
    from storage.postgres.connection import SyncUnit

    assert isinstance(conn, SyncUnit)
    conn.copy_rows(table, columns, types, rows)


def record_phase(name: str, seconds: float) -> None:
    """Add a phase measured outside the writer's thread (the commit) for the ingest bench."""
    if PHASE_TIMES is not None:
        PHASE_TIMES[name] = PHASE_TIMES.get(name, 0.0) + seconds
