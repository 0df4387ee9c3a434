"""Writing the PostgreSQL full-text index: new papers as a new segment, changed ones in place, merges by level.

Called inside the ingest's transaction with a sync connection adapter (`execute`, `executemany`,
SQLite placeholders). The statistics bm25 needs stay exact: each segment keeps its papers' count,
their tokens and each paper's length; a term's document frequency is read off its postings.

A segment spanning few ids (a day's papers, a week's merged) is written whole as one row
(search_packed), a big one as a row per token (search_postings): see storage/postgres/packed.py.
A day thus writes a handful of rows, re-indexing a paper listed again rewrites the small recent
segment that holds it, and merges of small segments never write a row per token.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from storage.postgres.packed import Packed, build, fold, parts_of, replace, token_counts
from storage.text import FtsValues, fts_values

SEGMENT_PAPERS = 65_536  # a rebuild writes segments of this many ids
MERGE_COUNT = 8          # this many segments of one level, side by side, are merged into one
MERGE_MOST = 131_072     # ... unless together they would span more ids than this
# A segment spanning at most this many ids is kept whole in one row: a search reads all of it
# (once per version, then from memory), so it must stay small (about 2 KB of postings a paper).
PACK_MOST = 2_048
# The newest segments of the newest level stay out of merges: the papers listed again on a day
# are mostly of the week before (a third of a day's entries), and re-indexing them rewrites the
# segment that holds them, cheap while that is a day's segment, not a merged week's.
KEEP_RECENT = 8
_ROWS_PER_STATEMENT = 20_000


class SyncConnection(Protocol):
    def execute(self, sql: str, params: Any = ..., *, binary: bool = ...) -> Any: ...

    def executemany(self, sql: str, seq: Iterable[Any]) -> Any: ...

    def copy_rows(self, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None: ...


class Segment(NamedTuple):
    seg: int
    low: int
    high: int
    level: int
    packed: bool


def _level(papers: int) -> int:
    return max(0, int(math.log(max(papers, 1) / 256, 8))) if papers >= 256 else 0


def _write_rows(conn: SyncConnection, seg: int, postings: Packed) -> None:
    """COPY a segment's rows in (binary), one per term."""
    if postings.terms:
        conn.copy_rows("search_postings", ("term", "seg", "entries", "counts", "positions"),
                       ("text", "int8", "bytea", "bytea", "bytea"), postings.term_rows(seg))


def _dense(low: int, high: int, lengths: dict[int, int]) -> npt.NDArray[np.int32]:
    dense = np.zeros(high - low + 1, np.int32)
    for paper_id, length in lengths.items():
        dense[paper_id - low] = length
    return dense


def _insert_segment(conn: SyncConnection, low: int, high: int, papers: int, tokens: int, level: int,
                    lengths: npt.NDArray[np.int32], postings: Packed | None) -> tuple[int, bool]:
    """A new segment's row and its postings (packed when it spans few ids); `postings` None: the caller writes its rows."""
    seg = int(conn.execute("SELECT nextval('search_segment_ids')").fetchone()[0])
    packed = postings is not None and high - low + 1 <= PACK_MOST
    conn.execute("INSERT INTO search_segments (seg, low, high, papers, tokens, level, lengths, packed) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (seg, low, high, papers, tokens, level, lengths.astype("<i4").tobytes(), packed))
    if packed:
        assert postings is not None
        conn.execute("INSERT INTO search_packed (seg, part, drops, terms, ends, entries, counts, positions) "
                     "VALUES (?, 0, ?, ?, ?, ?, ?, ?)", (seg, b"", *postings.to_row()))
    elif postings is not None:
        _write_rows(conn, seg, postings)
    return seg, packed


def _new_segment(conn: SyncConnection, papers: Sequence[tuple[int, Sequence[str]]]) -> None:
    postings, lengths = build(papers)
    low, high = min(lengths), max(lengths)
    _insert_segment(conn, low, high, len(lengths), sum(lengths.values()), _level(high - low + 1),
                    _dense(low, high, lengths), postings)


def _segments(conn: SyncConnection) -> list[Segment]:
    """Every segment, by ids."""
    return [Segment(int(r[0]), int(r[1]), int(r[2]), int(r[3]), bool(r[4])) for r in
            conn.execute("SELECT seg, low, high, level, packed FROM search_segments ORDER BY low").fetchall()]


def _parts(conn: SyncConnection, segment: Segment) -> list[tuple[npt.NDArray[np.int64], Packed]]:
    """A segment's postings as parts to fold: a packed one's parts, a segment of rows as one part."""
    if segment.packed:
        return parts_of(conn.execute("SELECT drops, terms, ends, entries, counts, positions FROM search_packed "
                                     "WHERE seg = ? ORDER BY part", (segment.seg,), binary=True).fetchall())
    rows = conn.execute("SELECT term, entries, counts, positions FROM search_postings WHERE seg = ? ORDER BY term",
                        (segment.seg,), binary=True).fetchall()
    return [(np.empty(0, np.int64), Packed.from_term_rows(rows))]


def _read_rows(conn: SyncConnection, seg: int, terms: Sequence[str]) -> Packed:
    """The postings of `terms` in a segment of rows."""
    rows: list[Any] = []
    for start in range(0, len(terms), _ROWS_PER_STATEMENT):
        rows += conn.execute("SELECT term, entries, counts, positions FROM search_postings WHERE seg = ? AND term = ANY(?) "
                             "ORDER BY term", (seg, terms[start:start + _ROWS_PER_STATEMENT]), binary=True).fetchall()
    return Packed.from_term_rows(rows)


def _blank_unchanged(old: FtsValues, new: FtsValues) -> tuple[FtsValues, FtsValues]:
    """Both texts with the columns they share emptied: only the columns that differ are re-indexed."""
    keep = [a != b for a, b in zip(old, new, strict=True)]
    return (tuple(a if k else "" for a, k in zip(old, keep, strict=True)),  # type: ignore[return-value]
            tuple(b if k else "" for b, k in zip(new, keep, strict=True)))


def _update(conn: SyncConnection, segment: Segment, items: Sequence[tuple[int, FtsValues | None, FtsValues]]) -> None:
    """Re-index papers of one segment in place: their old entries out, their new ones in, the statistics adjusted.

    Entries are per paper and column, so a column whose text did not change keeps its entries
    (a paper listed again mostly gets a new TL;DR alone): only the changed columns' tokens are
    taken out, indexed again and counted again. A packed segment gets a part with the entries
    dropped and the new ones; in a segment of rows the rows of the tokens concerned are rewritten.
    """
    seg, low = segment.seg, segment.low
    old_tokens: dict[int, int] = {}
    old_terms: set[str] = set()
    news: dict[int, FtsValues] = {}
    gone: list[int] = []
    for paper_id, old, new in items:
        if old is not None:
            old, new = _blank_unchanged(old, new)
            found, old_tokens[paper_id] = token_counts(old)
            old_terms |= found
            gone += [paper_id * 8 + column for column, text in enumerate(new) if text or old[column]]
        else:
            gone += [paper_id * 8 + column for column in range(len(new))]
        news[paper_id] = new
    ids = np.array(sorted(news), np.int64)
    new_postings, new_lengths = build(list(news.items()))
    drops = np.array(sorted(set(gone)), np.int64)
    row = conn.execute("SELECT high, lengths, version FROM search_segments WHERE seg = ?", (seg,), binary=True).fetchone()
    high, lengths = int(row[0]), np.frombuffer(row[1], "<i4").copy()
    if segment.packed:
        # A part of its own, nothing rewritten (searchers read only the parts newer than their copy).
        conn.execute("INSERT INTO search_packed (seg, part, drops, terms, ends, entries, counts, positions) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (seg, int(row[2]) + 1, drops.astype("<i4").tobytes(), *new_postings.to_row()))
    else:
        terms = sorted(old_terms | set(new_postings.terms))
        merged = replace(_read_rows(conn, seg, terms), new_postings, drops)
        for start in range(0, len(terms), _ROWS_PER_STATEMENT):
            conn.execute("DELETE FROM search_postings WHERE seg = ? AND term = ANY(?)", (seg, terms[start:start + _ROWS_PER_STATEMENT]))
        _write_rows(conn, seg, merged)
    top = max(int(ids[-1]), high)
    if top > high:
        lengths = np.concatenate((lengths, np.zeros(top - high, np.int32)))
    before = lengths[ids - low].astype(np.int64)
    # A paper's length is its tokens in every column: the unchanged columns' count stays.
    after = np.array([(lengths[int(i) - low] - old_tokens[int(i)] if int(i) in old_tokens else 0) + new_lengths[int(i)]
                      for i in ids], np.int64)
    lengths[ids - low] = after
    conn.execute("UPDATE search_segments SET high = ?, papers = papers + ?, tokens = tokens + ?, lengths = ?, "
                 "version = version + 1 WHERE seg = ?",
                 (top, int(np.count_nonzero(before == 0)), int((after - before).sum()), lengths.astype("<i4").tobytes(), seg))


def _merge(conn: SyncConnection, run: Sequence[Segment]) -> None:
    """Merge segments of adjacent id ranges (in id order) into one.

    A token's postings in the merged segment are its postings in each segment, in id order, one
    after the other. Between segments of rows into a segment of rows the server joins the bytes
    itself (string_agg), nothing comes to Python; otherwise (a packed segment on either side) the
    segments are read whole and combined in numpy.
    """
    segs = [segment.seg for segment in run]
    stats = conn.execute("SELECT seg, low, high, papers, tokens, lengths FROM search_segments WHERE seg = ANY(?)",
                         (segs,), binary=True).fetchall()
    low, high = min(int(r[1]) for r in stats), max(int(r[2]) for r in stats)
    lengths = np.zeros(high - low + 1, np.int32)
    for r in stats:
        lengths[int(r[1]) - low:int(r[2]) - low + 1] = np.frombuffer(r[5], "<i4")
    in_sql = high - low + 1 > PACK_MOST and not any(segment.packed for segment in run)
    postings = None if in_sql else fold(None, [part for segment in run for part in _parts(conn, segment)])
    # At least a level above its parts, whatever its span: a day's segment holds fewer papers than
    # level 0's nominal 256, so by span alone 8 days' merge stayed at level 0 and its papers were
    # merged (rewritten) again at level 0 two more times.
    level = max(_level(high - low + 1), max(segment.level for segment in run) + 1)
    seg, _ = _insert_segment(conn, low, high, sum(int(r[3]) for r in stats), sum(int(r[4]) for r in stats),
                             level, lengths, postings)
    if in_sql:
        conn.execute(
            "INSERT INTO search_postings (term, seg, entries, counts, positions) "
            "SELECT p.term, ?, string_agg(p.entries, ''::bytea ORDER BY s.low), string_agg(p.counts, ''::bytea ORDER BY s.low), "
            "string_agg(p.positions, ''::bytea ORDER BY s.low) "
            "FROM search_postings p JOIN search_segments s ON s.seg = p.seg WHERE p.seg = ANY(?) GROUP BY p.term",
            (seg, segs))
    if not all(segment.packed for segment in run):
        conn.execute("DELETE FROM search_postings WHERE seg = ANY(?)", (segs,))
    conn.execute("DELETE FROM search_segments WHERE seg = ANY(?)", (segs,))  # and their search_packed rows (cascade)


def _next_merge(segments: Sequence[Segment]) -> list[Segment] | None:
    """The segments to merge next, if any: MERGE_COUNT side by side of one level, the oldest of their run.

    Runs of one level are taken from the newest ids back; the newest run keeps its KEEP_RECENT
    newest segments out (they are the ones re-indexed most), an older run merges as soon as it
    has MERGE_COUNT.
    """
    end = len(segments)
    newest = True
    while end > 0:
        start = end
        while start > 0 and segments[start - 1].level == segments[end - 1].level:
            start -= 1
        if end - start >= MERGE_COUNT + (KEEP_RECENT if newest else 0):
            run = list(segments[start:start + MERGE_COUNT])
            if run[-1].high - run[0].low + 1 <= MERGE_MOST:
                return run
        end, newest = start, False
    return None


def _merge_due(conn: SyncConnection) -> None:
    while (run := _next_merge(_segments(conn))) is not None:
        _merge(conn, run)


def index_papers(conn: SyncConnection, new: list[tuple[int, FtsValues]],
                 changed: list[tuple[int, FtsValues, FtsValues]]) -> None:
    """Index new papers and re-index changed ones (old and new texts of storage.ingest.fts_values)."""
    segments = _segments(conn)
    top = segments[-1].high if segments else 0
    fresh: list[tuple[int, FtsValues]] = [item for item in new if item[0] > top]
    strays: list[tuple[int, FtsValues]] = []
    inside: list[tuple[int, FtsValues | None, FtsValues]] = [(pid, None, values) for pid, values in new if pid <= top]
    inside += [(pid, old, values) for pid, old, values in changed]
    by_segment: dict[Segment, list[tuple[int, FtsValues | None, FtsValues]]] = {}
    lows = [segment.low for segment in segments]
    for item in inside:
        at = int(np.searchsorted(lows, item[0], side="right")) - 1
        if at < 0:
            strays.append((item[0], item[2]))  # below every segment: a segment of its own
            continue
        by_segment.setdefault(segments[at], []).append(item)
    for segment, items in by_segment.items():
        _update(conn, segment, items)
    for stray in strays:
        _new_segment(conn, [stray])
    if fresh:
        _new_segment(conn, fresh)
    _merge_due(conn)


def rebuild_index(conn: SyncConnection, *, papers_per_segment: int = SEGMENT_PAPERS) -> int:
    """Index every paper of `papers` anew (for `db migrate-to`); returns how many were indexed."""

    conn.execute("DELETE FROM search_postings")
    conn.execute("DELETE FROM search_segments")  # and search_packed (cascade)
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
