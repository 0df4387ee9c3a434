"""Writing the PostgreSQL full-text index: new papers as a new segment, changed ones in place, merges by level.

Called inside the ingest's transaction with a sync connection adapter (`execute`, `executemany`,
SQLite placeholders). The statistics bm25 needs stay exact: each segment keeps its papers' count,
their tokens and each paper's length; a term's document frequency is read off its postings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from storage.postgres.postings import Postings, build, merge

FtsValues = tuple[str, str, str, str, str, str]
SEGMENT_PAPERS = 65_536  # a rebuild writes segments of this many ids
MERGE_COUNT = 8          # this many segments of one level, at the end of the ids, are merged into one
MERGE_MOST = 131_072     # ... unless together they would span more ids than this
_ROWS_PER_STATEMENT = 20_000


class SyncConnection(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Any: ...

    def executemany(self, sql: str, seq: Iterable[Any]) -> Any: ...


def _level(papers: int) -> int:
    return max(0, int(math.log(max(papers, 1) / 256, 8))) if papers >= 256 else 0


def _write_rows(conn: SyncConnection, seg: int, rows: dict[str, Postings]) -> None:
    items = sorted(rows.items())
    for start in range(0, len(items), _ROWS_PER_STATEMENT):
        part = [(term, *postings.to_bytes()) for term, postings in items[start:start + _ROWS_PER_STATEMENT]
                if len(postings.entries)]
        if not part:
            continue
        terms, entries, counts, positions = (list(column) for column in zip(*part, strict=True))
        conn.execute(
            "INSERT INTO search_postings (term, seg, entries, counts, positions) "
            "SELECT t, ?, e, c, p FROM unnest(CAST(? AS text[]), CAST(? AS bytea[]), CAST(? AS bytea[]), "
            "CAST(? AS bytea[])) AS r(t, e, c, p)",
            (seg, terms, entries, counts, positions),
        )


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


def _update(conn: SyncConnection, seg: int, low: int, items: Sequence[tuple[int, FtsValues | None, FtsValues]]) -> None:
    """Re-index papers of one segment in place: their old entries out, their new ones in, the statistics adjusted."""
    ids = np.array(sorted({paper_id for paper_id, _, _ in items}), np.int64)
    old_rows, _ = build([(paper_id, old) for paper_id, old, _ in items if old is not None])
    new_rows, new_lengths = build([(paper_id, new) for paper_id, _, new in items])
    terms = sorted(set(old_rows) | set(new_rows))
    stored: dict[str, Postings] = {}
    for start in range(0, len(terms), _ROWS_PER_STATEMENT):
        for row in conn.execute("SELECT term, entries, counts, positions FROM search_postings WHERE seg = ? AND term = ANY(?)",
                                (seg, terms[start:start + _ROWS_PER_STATEMENT])).fetchall():
            stored[row[0]] = Postings.from_bytes(bytes(row[1]), bytes(row[2]), bytes(row[3]))
    merged: dict[str, Postings] = {}
    for term in terms:
        parts = [merge([stored[term]], drop=ids)] if term in stored else []
        if term in new_rows:
            parts.append(new_rows[term])
        merged[term] = merge(parts) if len(parts) > 1 else parts[0]
    for start in range(0, len(terms), _ROWS_PER_STATEMENT):
        conn.execute("DELETE FROM search_postings WHERE seg = ? AND term = ANY(?)", (seg, terms[start:start + _ROWS_PER_STATEMENT]))
    _write_rows(conn, seg, merged)
    row = conn.execute("SELECT high, lengths FROM search_segments WHERE seg = ?", (seg,)).fetchone()
    high, lengths = int(row[0]), np.frombuffer(bytes(row[1]), "<i4").copy()
    top = max(int(ids[-1]), high)
    if top > high:
        lengths = np.concatenate((lengths, np.zeros(top - high, np.int32)))
    before = lengths[ids - low].astype(np.int64)
    after = np.array([new_lengths[int(i)] for i in ids], np.int64)
    lengths[ids - low] = after
    conn.execute("UPDATE search_segments SET high = ?, papers = papers + ?, tokens = tokens + ?, lengths = ?, "
                 "version = version + 1 WHERE seg = ?",
                 (top, int(np.count_nonzero(before == 0)), int((after - before).sum()), lengths.astype("<i4").tobytes(), seg))


def _merge(conn: SyncConnection, run: Sequence[tuple[int, int, int, int]]) -> None:
    """Merge segments of adjacent id ranges (in id order) into one."""
    segs = [seg for seg, _, _, _ in run]
    order = {seg: n for n, seg in enumerate(segs)}
    parts: dict[str, list[tuple[int, Postings]]] = {}
    for row in conn.execute("SELECT term, seg, entries, counts, positions FROM search_postings WHERE seg = ANY(?)",
                            (segs,)).fetchall():
        parts.setdefault(row[0], []).append((order[int(row[1])],
                                             Postings.from_bytes(bytes(row[2]), bytes(row[3]), bytes(row[4]))))
    rows = {}
    for term, found in parts.items():
        found.sort(key=lambda item: item[0])
        ps = [p for _, p in found]
        rows[term] = ps[0] if len(ps) == 1 else Postings(np.concatenate([p.entries for p in ps]),
                                                          np.concatenate([p.counts for p in ps]),
                                                          np.concatenate([p.positions for p in ps]))
    stats = conn.execute("SELECT seg, low, high, papers, tokens, lengths FROM search_segments WHERE seg = ANY(?)",
                         (segs,)).fetchall()
    low, high = min(int(r[1]) for r in stats), max(int(r[2]) for r in stats)
    lengths = np.zeros(high - low + 1, np.int32)
    for r in stats:
        lengths[int(r[1]) - low:int(r[2]) - low + 1] = np.frombuffer(bytes(r[5]), "<i4")
    seg = int(conn.execute("SELECT nextval('search_segment_ids')").fetchone()[0])
    conn.execute("DELETE FROM search_postings WHERE seg = ANY(?)", (segs,))
    conn.execute("DELETE FROM search_segments WHERE seg = ANY(?)", (segs,))
    conn.execute("INSERT INTO search_segments (seg, low, high, papers, tokens, level, lengths) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (seg, low, high, sum(int(r[3]) for r in stats), sum(int(r[4]) for r in stats),
                  _level(high - low + 1), lengths.astype("<i4").tobytes()))
    _write_rows(conn, seg, rows)


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
    from storage.text import fts_values

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
