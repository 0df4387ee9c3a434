"""The floors: plain sqlite3 on the project's own schema, pragmas and FTS definition, rows prepared beforehand.

A floor does only what the final state needs, with no framework around it: no aiosqlite, no
parse, no reports. Two ingest floors, as issue 11 names them:
- `ingest_per_day`: one transaction per day, a paper re-indexed only when its indexed text changed;
- `ingest_once`: the final state computed first, each paper indexed exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.ingest.paper import Paper
from storage.ingest import fts_values
from storage.sqlite.database import Database

_TEXT = ("title", "primary_category", "tldr", "motivation", "method", "result", "conclusion", "abstract", "comment",
         "code_url", "keywords", "translated_title")
_COLUMNS = ("id", "arxiv_id", "authors", "categories", "language", "first_seen", "last_seen", "updated_at",
            "source_rank", *_TEXT)
_FTS = "INSERT INTO papers_fts (rowid, title, authors, tldr, abstract, details, categories) VALUES (?, ?, ?, ?, ?, ?, ?)"
_FTS_DELETE = ("INSERT INTO papers_fts (papers_fts, rowid, title, authors, tldr, abstract, details, categories) "
               "VALUES ('delete', ?, ?, ?, ?, ?, ?, ?)")


async def empty_database(path: Path) -> sqlite3.Connection:
    """A new file with the project's schema (its own migrations) and the project's pragmas, opened plainly."""
    db = await Database.open(path)
    await db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON", "temp_store = MEMORY",
                   "cache_size = -32000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _row(paper: Paper, day: str, pid: int) -> dict[str, object]:
    row: dict[str, object] = {name: getattr(paper, name) for name in _TEXT}
    row.update(id=pid, arxiv_id=paper.arxiv_id, authors=json.dumps(paper.authors, ensure_ascii=False),
               categories=json.dumps(paper.categories, ensure_ascii=False), language="", first_seen=day, last_seen=day,
               updated_at="2026-01-01T00:00:00+00:00", source_rank=0)
    return row


def ingest_per_day(conn: sqlite3.Connection, days: Sequence[tuple[dt.date, Sequence[Paper]]]) -> int:
    """One transaction per day; new papers inserted and indexed, known ones re-indexed only if their text changed."""
    rows: dict[str, dict[str, object]] = {}
    indexed: dict[str, tuple[str, ...]] = {}
    entries = 0
    for number, (date, papers) in enumerate(days):
        day = date.isoformat()
        conn.execute("BEGIN IMMEDIATE")
        digest_id = conn.execute("INSERT INTO digests (date, source, language, arrival, ingested_at, updated_at) "
                                 "VALUES (?, 'floor', '', 'ingest', '', '') RETURNING id", (day,)).fetchone()[0]
        inserts, updates, reindex = [], [], []
        listing = []
        for position, paper in enumerate(papers):
            entries += 1
            old = rows.get(paper.arxiv_id)
            if old is None:
                row = _row(paper, day, len(rows) + 1)
                rows[paper.arxiv_id] = row
                inserts.append(row)
                indexed[paper.arxiv_id] = fts_values(row)
            else:
                row = {**_row(paper, day, int(str(old["id"]))), "first_seen": old["first_seen"]}
                rows[paper.arxiv_id] = row
                updates.append(row)
                values = fts_values(row)
                if values != indexed[paper.arxiv_id]:
                    reindex.append((int(str(row["id"])), indexed[paper.arxiv_id], values))
                    indexed[paper.arxiv_id] = values
            listing.append((digest_id, rows[paper.arxiv_id]["id"], paper.primary_category, position))
        marks = ", ".join("?" * len(_COLUMNS))
        conn.executemany(f"INSERT INTO papers ({', '.join(_COLUMNS)}) VALUES ({marks})",
                         [tuple(r[c] for c in _COLUMNS) for r in inserts])
        conn.executemany(_FTS, [(r["id"], *indexed[str(r["arxiv_id"])]) for r in inserts])
        conn.executemany("INSERT OR IGNORE INTO paper_categories (category, paper_id) VALUES (?, ?)",
                         [(c, r["id"]) for r in inserts for c in json.loads(str(r["categories"]))])
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[2:])
        conn.executemany(f"UPDATE papers SET {assignments} WHERE id = ?", [(*(r[c] for c in _COLUMNS[2:]), r["id"]) for r in updates])
        conn.executemany(_FTS_DELETE, [(pid, *before) for pid, before, _ in reindex])
        conn.executemany(_FTS, [(pid, *after) for pid, _, after in reindex])
        conn.executemany("INSERT OR IGNORE INTO digest_papers (digest_id, paper_id, section, position) VALUES (?, ?, ?, ?)", listing)
        conn.execute("UPDATE digests SET paper_count = ? WHERE id = ?", (len(listing), digest_id))
        conn.execute("INSERT INTO digest_files (digest_id, content_hash, source, format, paper_count, ingested_at) "
                     "VALUES (?, ?, 'floor', 'jsonl', ?, '')", (digest_id, f"floor{number}", len(listing)))
        conn.execute("COMMIT")
    return entries


def ingest_once(conn: sqlite3.Connection, days: Sequence[tuple[dt.date, Sequence[Paper]]]) -> int:
    """The final state computed in memory first; then every paper inserted and indexed exactly once."""
    final: dict[str, dict[str, object]] = {}
    listings: list[tuple[int, str, str, int]] = []
    entries = 0
    for number, (date, papers) in enumerate(days):
        day = date.isoformat()
        for position, paper in enumerate(papers):
            entries += 1
            old = final.get(paper.arxiv_id)
            row = _row(paper, day, len(final) + 1 if old is None else int(str(old["id"])))
            if old is not None:
                row["first_seen"] = old["first_seen"]
            final[paper.arxiv_id] = row
            listings.append((number + 1, paper.arxiv_id, paper.primary_category, position))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO digests (id, date, source, language, arrival, ingested_at, updated_at) "
                     "VALUES (?, ?, 'floor', '', 'ingest', '', '')", [(n + 1, d.isoformat()) for n, (d, _) in enumerate(days)])
    marks = ", ".join("?" * len(_COLUMNS))
    conn.executemany(f"INSERT INTO papers ({', '.join(_COLUMNS)}) VALUES ({marks})", [tuple(r[c] for c in _COLUMNS) for r in final.values()])
    conn.executemany(_FTS, [(r["id"], *fts_values(r)) for r in final.values()])
    conn.executemany("INSERT OR IGNORE INTO paper_categories (category, paper_id) VALUES (?, ?)",
                     [(c, r["id"]) for r in final.values() for c in json.loads(str(r["categories"]))])
    conn.executemany("INSERT OR IGNORE INTO digest_papers (digest_id, paper_id, section, position) VALUES (?, ?, ?, ?)",
                     [(d, final[a]["id"], s, p) for d, a, s, p in listings])
    conn.execute("COMMIT")
    return entries
