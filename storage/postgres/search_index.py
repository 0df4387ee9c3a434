"""Full-text search on PostgreSQL that gives what the SQLite engine's FTS5 search gives: the same matches, the same bm25.

The index (migrations/0002_search_index.sql, written by storage/postgres/search_ingest.py) keeps
compact postings per index token and segment of paper ids. A search reads only its tokens' rows
(one index range each, split by segment across parallel readers; a small segment is one packed
row, read once per version and kept in memory: storage/postgres/packed.py), never a paper's row, and
ranks every match by FTS5's bm25 in numpy (storage/postgres/postings.py): no candidate is pruned,
so the ranking is exact, ties broken newer first as on SQLite. Term statistics come from the
same rows (a phrase's document frequency is its matches over the whole index), the row and
token counts from the segments. Each statement is an index read, so a time budget cancels it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from storage.fts_query import Phrase, Query, parse
from storage.postgres import postings as pst
from storage.postgres.packed import Packed, fold, parts_of
from storage.postgres.search_ingest import index_papers, rebuild_index
from storage.search_base import DEFAULT_DEPTH, RankedSearch, Ranking, SearchFilters

__all__ = ["PostgresSearchIndex", "index_papers", "indexed_papers", "rebuild_index"]


async def indexed_papers(db: Any) -> int:
    """How many papers the index holds (db check compares it with the papers table)."""
    row = await db.fetchone("SELECT coalesce(sum(papers), 0) FROM search_segments")
    return int(row[0]) if row is not None else 0

_IN_DATES = """
    SELECT DISTINCT dp.paper_id FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id
    WHERE d.date BETWEEN :since AND :until
"""
# The days' papers as one row: when they are one run of ids (days stored in order, as they are),
# the range alone narrows the matches, as on SQLite, without sending 20,000 ids (25 ms at 1M).
_DATE_SPAN = f"SELECT min(paper_id), max(paper_id), count(*) FROM ({_IN_DATES}) AS listed"
# A search splits its fetch across readers only from this many papers: below, the rows are small and
# a second server process costs more in tail latency than it saves (bench_pg_search on the 2-core
# box: 100,000 papers p99 18 ms split, 10 ms not; 1,000,000 papers 54 ms split, 63 ms not).
_SPLIT_FROM_PAPERS = 200_000
# Postings entries above which the ranking runs in a thread (numpy releases the GIL; the loop goes on).
_THREAD_ABOVE = 50_000
_FETCH = ("SELECT term, seg, entries, counts, CASE WHEN term = ANY(:positioned) THEN positions END AS positions "
          "FROM search_postings WHERE term = ANY(:terms) AND seg = ANY(:segs)")


def _prefix_bound(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix`, in code point (UTF-8 byte) order."""
    last = ord(prefix[-1])
    return None if last >= 0x10FFFF else prefix[:-1] + chr(last + 1 + (0x800 if 0xD7FF <= last < 0xE000 else 0))


class _IndexMoved(Exception):
    """The segments changed while a search was reading them."""


_SEGMENT_KEY = "SELECT seg, version FROM search_segments ORDER BY low"
_ATTEMPTS = 3


def _key(rows: Any) -> tuple[tuple[int, int], ...]:
    """The segments and their versions: what changes when an ingest changes the index."""
    return tuple((int(r[0]), int(r[1])) for r in rows)


class _Segments:
    """The segments' ranges, counts, each paper's length and the packed segments' postings, cached by segment version."""

    def __init__(self) -> None:
        self._cached: dict[int, tuple[int, int, np.ndarray, Packed | None]] = {}  # seg: version, low, lengths, postings
        self._dense: tuple[tuple[tuple[int, int], ...], np.ndarray] | None = None
        self.key: tuple[tuple[int, int], ...] = ()  # as last loaded
        self.papers = 0  # in the index at the last load

    def packed(self, seg: int) -> Packed | None:
        """A packed segment's postings as last loaded (None: a segment of rows)."""
        return self._cached[seg][3]

    async def load(self, reader: Any) -> tuple[list[tuple[int, int]], np.ndarray, int, int]:
        """[(seg, low)] in id order, lengths by paper id, papers, tokens."""
        rows = list(await reader.execute_fetchall(
            "SELECT seg, low, papers, tokens, version FROM search_segments ORDER BY low", ()))
        stale = [int(r[0]) for r in rows if self._cached.get(int(r[0]), (None,))[0] != int(r[4])]
        if stale:
            # Each stale segment's lengths and, packed, the parts newer than the copy held (all of a
            # segment not held): one statement, so all of one version.
            held = [self._cached[seg][0] if seg in self._cached and self._cached[seg][3] is not None else -1 for seg in stale]
            found = await reader.execute_fetchall(
                "SELECT s.seg, s.low, s.version, s.lengths, s.packed, p.drops, p.terms, p.ends, p.entries, p.counts, "
                "p.positions FROM search_segments s JOIN unnest(?::bigint[], ?::int[]) AS h (seg, held) ON h.seg = s.seg "
                "LEFT JOIN search_packed p ON p.seg = s.seg AND p.part > h.held ORDER BY s.seg, p.part", (stale, held), binary=True)
            by_seg: dict[int, list[Any]] = {}
            for r in found:
                by_seg.setdefault(int(r[0]), []).append(r)
            for seg, parts in by_seg.items():
                first = parts[0]
                postings = None
                if first[4]:
                    copy = self._cached[seg][3] if seg in self._cached else None
                    postings = fold(copy, parts_of([r[5:] for r in parts if r[6] is not None]))
                self._cached[seg] = (int(first[2]), int(first[1]), np.frombuffer(first[3], "<i4"), postings)
        key = self.key = tuple((int(r[0]), int(r[4])) for r in rows)
        if any(seg not in self._cached for seg, _ in key):
            raise _IndexMoved  # a segment merged away between the two reads
        if self._dense is None or self._dense[0] != key:
            top = max((low + len(arr) for _, low, arr, _ in (self._cached[s] for s, _ in key)), default=1)
            dense = np.zeros(top, np.int64)
            for seg, _ in key:
                _, low, arr, _ = self._cached[seg]
                dense[low:low + len(arr)] = arr
            live = {seg for seg, _ in key}
            self._cached = {seg: value for seg, value in self._cached.items() if seg in live}
            self._dense = (key, dense)
        self.papers = sum(int(r[2]) for r in rows)
        return [(int(r[0]), int(r[1])) for r in rows], self._dense[1], self.papers, sum(int(r[3]) for r in rows)


def _hits(query: Query, expansions: dict[str, list[str]], fetched: dict[str, list[tuple[int, pst.Postings]]],
          order: dict[int, int]) -> list[pst.Hits]:
    """Each phrase's matches and weighted frequencies, from the fetched rows."""
    def token(term: str) -> pst.Postings:
        parts = sorted(fetched.get(term, []), key=lambda item: order[item[0]])
        return pst.concat([p for _, p in parts])

    def for_token(phrase: Phrase, n: int) -> pst.Postings:
        if phrase.prefix and n == len(phrase.tokens) - 1:
            found = [token(term) for term in expansions[phrase.tokens[n]]]
            return found[0] if len(found) == 1 else pst.merge(found)
        return token(phrase.tokens[n])

    return [pst.phrase_hits(p, [for_token(p, n) for n in range(len(p.tokens))]) for p in query.phrases()]


class PostgresSearchIndex(RankedSearch):
    """Queries the PostgreSQL full-text index; the same methods as storage.search.SearchIndex."""

    def __init__(self, db: Any, *, budget: float = 2.5, queue_wait: float = 5.0, parallel: int = 2,
                 depth: int = DEFAULT_DEPTH) -> None:
        super().__init__(db, budget=budget, queue_wait=queue_wait, parallel=parallel, depth=depth)
        self._segments = _Segments()

    async def _evaluate(self, query: Query, filters: SearchFilters, depth: int) -> Ranking:
        # A search reads the segments, then their postings, in separate statements on parallel
        # readers (no shared snapshot). An ingest that commits between them (a merge replaces
        # segments, a re-index rewrites one) would give a ranking of neither state, so the segments
        # are read again after the postings and a search that saw them change runs again; the last
        # try reads everything on one reader in one snapshot, which cannot see a change.
        for attempt in range(_ATTEMPTS):
            snapshot = attempt == _ATTEMPTS - 1
            try:
                ranking, settled = await self._evaluate_once(query, filters, depth, snapshot=snapshot)
            except _IndexMoved:
                continue
            if settled or snapshot:
                return ranking
        raise AssertionError("the snapshot try always returns")

    async def _evaluate_once(self, query: Query, filters: SearchFilters, depth: int, *,
                             snapshot: bool = False) -> tuple[Ranking, bool]:
        phrases = query.phrases()
        most = 1 if snapshot or self._segments.papers < _SPLIT_FROM_PAPERS else self.parallel
        async with self._db.reading_parallel(most=most, budget=self.budget, queue_wait=self.queue_wait) as readers:
            first = readers[0]
            if snapshot:  # ended by ROLLBACK below, or by the pool if the search is cut off
                await first.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            segments, lengths, papers, tokens = await self._segments.load(first)
            if not segments or papers == 0:
                return Ranking(), True
            # Packed segments' postings are in memory (loaded with the segments); only the others' rows are fetched.
            packed = {seg: part for seg, _ in segments if (part := self._segments.packed(seg)) is not None}
            row_segs = [seg for seg, _ in segments if seg not in packed]
            expansions: dict[str, list[str]] = {}
            for phrase in phrases:
                if phrase.prefix:
                    prefix = phrase.tokens[-1]
                    bound = _prefix_bound(prefix)
                    found = {term for part in packed.values() for term in part.expand(prefix, bound)}
                    if row_segs:
                        sql = "SELECT DISTINCT term FROM search_postings WHERE term >= ?" + (" AND term < ?" if bound else "")
                        found |= {str(r[0]) for r in await first.execute_fetchall(sql, (prefix, bound) if bound else (prefix,))}
                    expansions[prefix] = sorted(found)
            terms = sorted({t for p in phrases for t in (p.tokens[:-1] if p.prefix else p.tokens)}
                           | {t for found in expansions.values() for t in found})
            positioned = sorted({t for p in phrases if len(p.tokens) > 1
                                 for t in (p.tokens[:-1] + tuple(expansions[p.tokens[-1]]) if p.prefix else p.tokens)})
            only = None
            between = None
            if filters.since is not None or filters.until is not None:
                dates = {"since": filters.since.isoformat() if filters.since else "0000-00-00",
                         "until": filters.until.isoformat() if filters.until else "9999-99-99"}
                span = (await first.execute_fetchall(_DATE_SPAN, dates))[0]
                if span[0] is None:
                    return Ranking(), True
                between = (int(span[0]), int(span[1]))
                if between[1] - between[0] + 1 != int(span[2]):
                    rows = await first.execute_fetchall(_IN_DATES + " ORDER BY 1", dates, binary=True)
                    only = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            segs = [seg for seg, _ in segments]
            shares = [row_segs[n::len(readers)] for n in range(len(readers))]
            parts = await asyncio.gather(*(
                # Binary rows: bytea as its bytes, not as hex to decode (a third of the time on broad searches).
                reader.execute_fetchall(_FETCH, {"positioned": positioned, "terms": terms, "segs": share}, binary=True)
                for reader, share in zip(readers, shares, strict=False) if share))
            if snapshot:
                await first.execute("ROLLBACK")
                settled = True
            else:
                settled = self._segments.key == _key(await first.execute_fetchall(_SEGMENT_KEY, ()))
        fetched: dict[str, list[tuple[int, pst.Postings]]] = {}
        wanted = set(positioned)
        for seg, part in packed.items():
            for term in terms:
                if (found_postings := part.get(term, positions=term in wanted)) is not None:
                    fetched.setdefault(term, []).append((seg, found_postings))
        for rows in parts:
            for r in rows:
                fetched.setdefault(str(r[0]), []).append(
                    (int(r[1]), pst.Postings.from_bytes(r[2], r[3], r[4])))
        order = {seg: n for n, seg in enumerate(segs)}

        def work() -> tuple[list[int], int]:
            hits = _hits(query, expansions, fetched, order)
            return pst.rank(query, hits, lengths, papers, tokens, depth, only, between)

        size = sum(len(p.entries) for found in fetched.values() for _, p in found)
        ids, total = await asyncio.to_thread(work) if size > _THREAD_ABOVE else work()
        return Ranking(ids, total), settled

    async def rank(self, text: str, filters: SearchFilters | None = None, *, depth: int | None = None) -> Ranking:
        """Rank every paper matching `text` (and the filters) by bm25; return the best `depth` ids and the total.

        Raises storage.fts_query.EmptyQuery or QueryTooComplex for text that cannot be searched.
        """
        filters = filters or SearchFilters()
        query = parse(text, author=filters.author, category=filters.category)
        return await self._evaluate(query, filters, depth or self.depth)

    async def count(self, text: str, filters: SearchFilters | None = None) -> int:
        """Return how many papers match."""
        return (await self.rank(text, filters, depth=1)).total

    async def count_by_author(self, name: str) -> int:
        """How many stored papers have an author of that name (case, accents and spacing ignored)."""
        return (await self._evaluate(parse("", author=name), SearchFilters(), 1)).total
