"""Compact postings and the exact FTS5 bm25 over them, in numpy (PostgreSQL holds the bytes).

The index keeps, for each index token and each segment (a run of paper ids), three arrays: the
entries (paper id * 8 + column, ascending: a token in two columns of a paper is two entries), each
entry's count, and each entry's positions in its column (uint16); as one row per token, or for a
small segment every token's arrays in one row (storage/postgres/packed.py). Tokens are
storage.fts_tokens' (FTS5's own), positions are FTS5's, so a phrase matches exactly where it
matches in FTS5, and bm25 is computed as FTS5's fts5Bm25Function computes it, in the same order
of floating-point operations: ties fall the same way on both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from storage.fts_query import Phrase, Query

COLUMNS = ("title", "authors", "tldr", "abstract", "details", "categories")
COLUMN_INDEX = {name: n for n, name in enumerate(COLUMNS)}
# bm25(papers_fts, 8.0, 4.0, 3.0, 1.0, 1.5, 0.0), as storage/search.py ranks on SQLite.
WEIGHTS = np.array([8.0, 4.0, 3.0, 1.0, 1.5, 0.0, 0.0, 0.0])
MAX_POSITION = 0xFFFF  # a column's tokens past this share the last position (phrases there may miss)
K1, B = 1.2, 0.75

Ints = npt.NDArray[np.int64]


@dataclass(slots=True)
class Postings:
    """One token's entries (id * 8 + column, ascending), counts and positions, for any set of papers."""

    entries: npt.NDArray[np.int32]
    counts: npt.NDArray[np.uint16]
    positions: npt.NDArray[np.uint16]

    @staticmethod
    def empty() -> Postings:
        return Postings(np.empty(0, np.int32), np.empty(0, np.uint16), np.empty(0, np.uint16))

    @staticmethod
    def from_bytes(entries: bytes, counts: bytes, positions: bytes | None) -> Postings:
        return Postings(np.frombuffer(entries, "<i4"), np.frombuffer(counts, "<u2"),
                        np.frombuffer(positions, "<u2") if positions is not None else np.empty(0, np.uint16))

    def to_bytes(self) -> tuple[bytes, bytes, bytes]:
        return (np.asarray(self.entries, "<i4").tobytes(), np.asarray(self.counts, "<u2").tobytes(),
                np.asarray(self.positions, "<u2").tobytes())

    def papers(self) -> npt.NDArray[np.int32]:
        """The distinct paper ids, ascending."""
        ids = self.entries >> 3
        if len(ids) < 2:
            return ids
        return ids[np.concatenate(([True], ids[1:] != ids[:-1]))]

    def keys(self) -> Ints:
        """Every occurrence as entry << 16 | position, ascending."""
        starts = np.repeat(self.entries.astype(np.int64) << 16, self.counts.astype(np.int64))
        return np.asarray(starts | self.positions.astype(np.int64), np.int64)


def concat(parts: Sequence[Postings]) -> Postings:
    """Postings of disjoint, ascending id ranges (a token's chunks in order) as one."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return Postings.empty()
    return Postings(np.concatenate([p.entries for p in parts]), np.concatenate([p.counts for p in parts]),
                    np.concatenate([p.positions for p in parts]))


def merge(parts: Sequence[Postings], drop: npt.NDArray[np.int64] | None = None) -> Postings:
    """Postings of any entries merged into ascending order; papers in `drop` left out."""
    whole = concat(parts)
    starts = np.concatenate(([0], np.cumsum(whole.counts.astype(np.int64))[:-1])) if len(whole.counts) else np.empty(0, np.int64)
    keep = np.ones(len(whole.entries), bool) if drop is None else ~np.isin(whole.entries >> 3, drop)
    order = np.argsort(whole.entries, kind="stable")
    order = order[keep[order]]
    counts = whole.counts[order].astype(np.int64)
    if len(order) == 0:
        return Postings.empty()
    if len(whole.positions) == 0:  # positions not fetched (a search that needs none): counts alone
        return Postings(whole.entries[order], whole.counts[order], whole.positions)
    # The positions of entry k are whole.positions[starts[k]: starts[k] + counts[k]], taken in the new order.
    first = np.repeat(starts[order] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
    return Postings(whole.entries[order], whole.counts[order], whole.positions[first])


def in_sorted(values: Ints, sorted_: Ints) -> npt.NDArray[np.bool_]:
    """Which of `values` occur in the ascending array `sorted_`."""
    if len(sorted_) == 0:
        return np.zeros(len(values), bool)
    at = np.searchsorted(sorted_, values)
    at[at == len(sorted_)] = 0
    return np.asarray(sorted_[at] == values)


@dataclass(slots=True)
class Hits:
    """The papers a phrase matches (ascending) and its weighted frequency in each (FTS5's aFreq)."""

    papers: Ints
    freq: npt.NDArray[np.float64]


def _per_paper(entries: Ints, weights: npt.NDArray[np.float64]) -> Hits:
    """Sum the weights of ascending entries per paper."""
    if len(entries) == 0:
        return Hits(np.empty(0, np.int64), np.empty(0))
    papers = entries >> 3
    first = np.flatnonzero(np.concatenate(([True], papers[1:] != papers[:-1])))
    return Hits(papers[first], np.add.reduceat(weights, first))


def phrase_hits(phrase: Phrase, per_token: Sequence[Postings]) -> Hits:
    """Where `phrase` occurs, given the postings of each of its tokens (a prefix's tokens merged).

    FTS5 counts every instance of a phrase (overlapping ones too), weighted by its column's weight.
    """
    column = COLUMN_INDEX[phrase.column] if phrase.column else None
    if len(per_token) == 1:
        postings = per_token[0]
        entries = postings.entries.astype(np.int64)
        counts = postings.counts.astype(np.float64)
        if column is not None:
            keep = (entries & 7) == column
            entries, counts = entries[keep], counts[keep]
        return _per_paper(entries, WEIGHTS[entries & 7] * counts)
    keys = [p.keys() for p in per_token]
    anchor = min(range(len(keys)), key=lambda n: len(keys[n]))
    starts = keys[anchor] - anchor
    if column is not None:
        starts = starts[((starts >> 16) & 7) == column]
    for n, other in enumerate(keys):
        if n != anchor and len(starts):
            starts = starts[in_sorted(starts + n, other)]
    entries = starts >> 16
    return _per_paper(entries, WEIGHTS[entries & 7])


def _union(arrays: Sequence[Ints]) -> Ints:
    if len(arrays) == 1:
        return arrays[0]
    return np.unique(np.concatenate(arrays))


def rank(query: Query, hits: Sequence[Hits], lengths: npt.NDArray[np.int64], documents: int, tokens: int, depth: int,
         only: Ints | None = None, between: tuple[int, int] | None = None) -> tuple[list[int], int]:
    """The best `depth` paper ids by FTS5's bm25 (newer first on equal scores) and the number of matches.

    `hits` holds one Hits per phrase of query.phrases(), in that order; `lengths[id]` is a paper's
    length; `documents` and `tokens` are the index's row and token counts (FTS5's xRowCount and
    xColumnTotalSize(-1)); `only`, ascending, and `between`, ids low..high, narrow the matches (a
    date range) without changing any statistic.
    """
    phrases = query.phrases()
    at = 0
    matched: Ints | None = None
    for group in query.groups:
        members = _union([hits[at + n].papers for n in range(len(group))])
        at += len(group)
        matched = members if matched is None else matched[in_sorted(matched, members)]
    assert matched is not None
    for negative in hits[at:]:
        matched = matched[~in_sorted(matched, negative.papers)]
    if between is not None:
        matched = matched[(matched >= between[0]) & (matched <= between[1])]
    if only is not None:
        matched = matched[in_sorted(matched, only)]
    total = len(matched)
    if total == 0:
        return [], 0
    avgdl = float(tokens) / float(documents)
    norm = K1 * (1 - B + B * lengths[matched].astype(np.float64) / avgdl)
    score = np.zeros(total)
    for phrase_hit in hits[:len(phrases)]:
        n = len(phrase_hit.papers)
        idf = float(np.log((documents - n + 0.5) / (n + 0.5)))
        if idf <= 0.0:
            idf = 1e-6
        where = np.searchsorted(phrase_hit.papers, matched)
        where[where == n] = 0
        present = phrase_hit.papers[where] == matched if n else np.zeros(total, bool)
        freq = np.where(present, phrase_hit.freq[where] if n else 0.0, 0.0)
        score += idf * ((freq * (K1 + 1.0)) / (freq + norm))
    score = -1.0 * score
    if total > depth:
        cut = np.partition(score, depth - 1)[depth - 1]
        pick = np.flatnonzero(score <= cut)
        matched, score = matched[pick], score[pick]
    order = np.lexsort((-matched, score))[:depth]
    return [int(i) for i in matched[order]], total
