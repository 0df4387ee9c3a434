"""Writing the PostgreSQL full-text index: new papers as a new segment, changed ones in place, merges by level.

Called inside the ingest's transaction with a sync connection adapter (`execute`, `executemany`,
SQLite placeholders). The statistics bm25 needs stay exact: each segment keeps its papers' count,
their tokens and each paper's length; a term's document frequency is read off its postings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from storage.postgres.postings import Postings, build, replace
from storage.text import FtsValues, fts_values

SEGMENT_PAPERS = 65_536  # a rebuild writes segments of this many ids
MERGE_COUNT = 8          # this many segments of one level, at the end of the ids, are merged into one
MERGE_MOST = 131_072     # ... unless together they would span more ids than this
_ROWS_PER_STATEMENT = 20_000


class SyncConnection(Protocol):
    def execute(self, sql: str, params: Any = ..., *, binary: bool = ...) -> Any: ...

    def executemany(self, sql: str, seq: Iterable[Any]) -> Any: ...

    def copy_rows(self, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None: ...


def _level(papers: int) -> int:
    return max(0, int(math.log(max(papers, 1) / 256, 8))) if papers >= 256 else 0


def _write_rows(conn: SyncConnection, seg: int, rows: dict[str, Postings]) -> None:
    """COPY a segment's rows in (binary): every term's arrays turned to bytes in one go, then cut per term."""
    items = [(term, postings) for term, postings in sorted(rows.items()) if len(postings.entries)]
    if not items:
        return
    parts = [postings for _, postings in items]
    entries = np.concatenate([p.entries for p in parts]).astype("<i4", copy=False).tobytes()
    counts = np.concatenate([p.counts for p in parts]).astype("<u2", copy=False).tobytes()
    positions = np.concatenate([p.positions for p in parts]).astype("<u2", copy=False).tobytes()
    entry_ends = np.cumsum([len(p.entries) for p in parts]).tolist()
    position_ends = np.cumsum([len(p.positions) for p in parts]).tolist()

    def cut() -> Iterator[tuple[str, int, bytes, bytes, bytes]]:
        entry_at = position_at = 0
        for (term, _), entry_end, position_end in zip(items, entry_ends, position_ends, strict=True):
            yield (term, seg, entries[entry_at * 4:entry_end * 4], counts[entry_at * 2:entry_end * 2],
                   positions[position_at * 2:position_end * 2])
            entry_at, position_at = entry_end, position_end

    conn.copy_rows("search_postings", ("term", "seg", "entries", "counts", "positions"),
                   ("text", "int8", "bytea", "bytea", "bytea"), cut())


def _dense(low: int, high: int, lengths: dict[int, int]) -> npt.NDArray[np.int32]:
    dense = np.zeros(high - low + 1, np.int32)
    for paper_id, length in lengths.items():
        dense[paper_id - low] = length
    return dense


def _new_segment(conn: SyncConnection, papers: Sequence[tuple[int, Sequence[str]]]) -> None:
    rows, lengths = build(papers)
    low, high = min(lengths), max(lengths)
    seg = int(conn.execute("SELECT nextval('search_segment_ids')").fetchone()[0])
    conn.execute("INSERT INTO search_segments (seg, low, high, papers, tokens, level, lengths) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (seg, low, high, len(lengths), sum(lengths.values()), _level(high - low + 1),
                  _dense(low, high, lengths).astype("<i4").tobytes()))
    _write_rows(conn, seg, rows)


def _segments(conn: SyncConnection) -> list[tuple[int, int, int, int]]:
    """(seg, low, high, level) of every segment, by ids."""
    return [(int(r[0]), int(r[1]), int(r[2]), int(r[3]))
            for r in conn.execute("SELECT seg, low, high, level FROM search_segments ORDER BY low").fetchall()]


def _blank_unchanged(old: FtsValues, new: FtsValues) -> tuple[FtsValues, FtsValues]:
    """Both texts with the columns they share emptied: only the columns that differ are re-indexed."""
    keep = [a != b for a, b in zip(old, new, strict=True)]
    return (tuple(a if k else "" for a, k in zip(old, keep, strict=True)),  # type: ignore[return-value]
            tuple(b if k else "" for b, k in zip(new, keep, strict=True)))


def _update(conn: SyncConnection, seg: int, low: int, items: Sequence[tuple[int, FtsValues | None, FtsValues]]) -> None:
    """Re-index papers of one segment in place: their old entries out, their new ones in, the statistics adjusted.

    Entries are per paper and column, so a column whose text did not change keeps its entries
    (a paper listed again mostly gets a new TL;DR alone): only the changed columns' tokens are
    read, rewritten and counted again.
    """
    olds: dict[int, FtsValues] = {}
    news: dict[int, FtsValues] = {}
    gone: list[int] = []
    for paper_id, old, new in items:
        if old is not None:
            old, new = _blank_unchanged(old, new)
            olds[paper_id] = old
            gone += [paper_id * 8 + column for column, text in enumerate(new) if text or old[column]]
        else:
            gone += [paper_id * 8 + column for column in range(len(new))]
        news[paper_id] = new
    ids = np.array(sorted(news), np.int64)
    old_rows, old_lengths = build(list(olds.items()))
    new_rows, new_lengths = build(list(news.items()))
    terms = sorted(set(old_rows) | set(new_rows))
    stored: dict[str, Postings] = {}
    for start in range(0, len(terms), _ROWS_PER_STATEMENT):
        for row in conn.execute("SELECT term, entries, counts, positions FROM search_postings WHERE seg = ? AND term = ANY(?)",
                                (seg, terms[start:start + _ROWS_PER_STATEMENT]), binary=True).fetchall():
            stored[row[0]] = Postings.from_bytes(row[1], row[2], row[3])
    # Every term at once: the changed columns' old entries out, their new ones in.
    merged = replace(stored, new_rows, np.array(sorted(set(gone)), np.int64))
    for start in range(0, len(terms), _ROWS_PER_STATEMENT):
        conn.execute("DELETE FROM search_postings WHERE seg = ? AND term = ANY(?)", (seg, terms[start:start + _ROWS_PER_STATEMENT]))
    _write_rows(conn, seg, merged)
    row = conn.execute("SELECT high, lengths FROM search_segments WHERE seg = ?", (seg,), binary=True).fetchone()
    high, lengths = int(row[0]), np.frombuffer(row[1], "<i4").copy()
    top = max(int(ids[-1]), high)
    if top > high:
        lengths = np.concatenate((lengths, np.zeros(top - high, np.int32)))
    before = lengths[ids - low].astype(np.int64)
    # A paper's length is its tokens in every column: the unchanged columns' count stays.
    after = np.array([(lengths[int(i) - low] - old_lengths[int(i)] if int(i) in olds else 0) + new_lengths[int(i)]
                      for i in ids], np.int64)
    lengths[ids - low] = after
    conn.execute("UPDATE search_segments SET high = ?, papers = papers + ?, tokens = tokens + ?, lengths = ?, "
                 "version = version + 1 WHERE seg = ?",
                 (top, int(np.count_nonzero(before == 0)), int((after - before).sum()), lengths.astype("<i4").tobytes(), seg))


def _merge(conn: SyncConnection, run: Sequence[tuple[int, int, int, int]]) -> None:
    """Merge segments of adjacent id ranges (in id order) into one.

    A token's postings in the merged segment are its postings in each segment, in id order, one
    after the other: the server joins the bytes itself (string_agg), nothing comes to Python.
    """
    segs = [seg for seg, _, _, _ in run]
    stats = conn.execute("SELECT seg, low, high, papers, tokens, lengths FROM search_segments WHERE seg = ANY(?)",
                         (segs,), binary=True).fetchall()
    low, high = min(int(r[1]) for r in stats), max(int(r[2]) for r in stats)
    lengths = np.zeros(high - low + 1, np.int32)
    for r in stats:
        lengths[int(r[1]) - low:int(r[2]) - low + 1] = np.frombuffer(r[5], "<i4")
    seg = int(conn.execute("SELECT nextval('search_segment_ids')").fetchone()[0])
    # At least a level above its parts, whatever its span: a day's segment holds fewer papers than
    # level 0's nominal 256, so by span alone 8 days' merge stayed at level 0 and its papers were
    # merged (rewritten) again at level 0 two more times.
    level = max(_level(high - low + 1), max(level for _, _, _, level in run) + 1)
    conn.execute("INSERT INTO search_segments (seg, low, high, papers, tokens, level, lengths) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (seg, low, high, sum(int(r[3]) for r in stats), sum(int(r[4]) for r in stats),
                  level, lengths.astype("<i4").tobytes()))
    conn.execute(
        "INSERT INTO search_postings (term, seg, entries, counts, positions) "
        "SELECT p.term, ?, string_agg(p.entries, ''::bytea ORDER BY s.low), string_agg(p.counts, ''::bytea ORDER BY s.low), "
        "string_agg(p.positions, ''::bytea ORDER BY s.low) "
        "FROM search_postings p JOIN search_segments s ON s.seg = p.seg WHERE p.seg = ANY(?) GROUP BY p.term",
        (seg, segs))
    conn.execute("DELETE FROM search_postings WHERE seg = ANY(?)", (segs,))
    conn.execute("DELETE FROM search_segments WHERE seg = ANY(?)", (segs,))


def _merge_tail(conn: SyncConnection) -> None:
    while True:
        segments = _segments(conn)
        if len(segments) < MERGE_COUNT:
            return
        level = segments[-1][3]
        run = []
        for segment in reversed(segments):
            if segment[3] != level:
                break
            run.append(segment)
        run = run[:MERGE_COUNT][::-1]
        if len(run) < MERGE_COUNT or run[-1][2] - run[0][1] + 1 > MERGE_MOST:
            return
        _merge(conn, run)


def index_papers(conn: SyncConnection, new: list[tuple[int, FtsValues]],
                 changed: list[tuple[int, FtsValues, FtsValues]]) -> None:
    """Index new papers and re-index changed ones (old and new texts of storage.ingest.fts_values)."""
    segments = _segments(conn)
    top = segments[-1][2] if segments else 0
    fresh: list[tuple[int, FtsValues]] = [item for item in new if item[0] > top]
    strays: list[tuple[int, FtsValues]] = []
    inside: list[tuple[int, FtsValues | None, FtsValues]] = [(pid, None, values) for pid, values in new if pid <= top]
    inside += [(pid, old, values) for pid, old, values in changed]
    by_segment: dict[tuple[int, int], list[tuple[int, FtsValues | None, FtsValues]]] = {}
    lows = [low for _, low, _, _ in segments]
    for item in inside:
        at = int(np.searchsorted(lows, item[0], side="right")) - 1
        if at < 0:
            strays.append((item[0], item[2]))  # below every segment: a segment of its own
            continue
        by_segment.setdefault((segments[at][0], segments[at][1]), []).append(item)
    for (seg, low), items in by_segment.items():
        _update(conn, seg, low, items)
    for stray in strays:
        _new_segment(conn, [stray])
    if fresh:
        _new_segment(conn, fresh)
    _merge_tail(conn)


def rebuild_index(conn: SyncConnection, *, papers_per_segment: int = SEGMENT_PAPERS) -> int:
    """Index every paper of `papers` anew (for `db migrate-to`); returns how many were indexed."""

    conn.execute("DELETE FROM search_postings")
    conn.execute("DELETE FROM search_segments")
    done = 0
    last = 0
    while True:
        rows = conn.execute("SELECT * FROM papers WHERE id > ? AND id < ? ORDER BY id",
                            (last, last + papers_per_segment + 1)).fetchall()
        if not rows:
            more = conn.execute("SELECT min(id) FROM papers WHERE id > ?", (last,)).fetchone()
            if more is None or more[0] is None:
                return done
            last = int(more[0]) - 1
            continue
        _new_segment(conn, [(int(r["id"]), fts_values(dict(r))) for r in rows])
        done += len(rows)
        last = int(rows[-1]["id"])
