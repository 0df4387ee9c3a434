"""A segment's postings as flat arrays with a term directory: how the index is built, merged and re-indexed.

`Packed` holds every term of a segment at once: the terms ascending, where each term's entries
end, and the entries, counts and positions of all terms one after the other (per term as
storage/postgres/postings.py's Postings). It is the index's unit of work in Python: build()
makes one from papers' texts, combine() merges segments or swaps a paper's entries in every
term in a few numpy operations (no Python object per term), and a segment is written either as
one row per term (search_postings, a big segment: a search reads only its tokens' rows) or,
a small one, whole as one row (search_packed: a day's segment is one row, not ~10,000) that
searchers keep decoded per segment version.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress

import numpy as np
import numpy.typing as npt

from storage.fts_tokens import tokens as fts_tokens
from storage.postgres.postings import MAX_POSITION, Postings, in_sorted

Ints = npt.NDArray[np.int64]
# Tokens never hold a newline (it is an FTS5 separator), so one joins the directory's terms.
_SEPARATOR = "\n"


@dataclass(slots=True)
class Packed:
    """Every term's postings of one segment: terms ascending (code point order, PostgreSQL's "C" order)."""

    terms: list[str]
    ends: Ints                      # the end of each term's entries
    entries: npt.NDArray[np.int32]  # paper id * 8 + column, ascending within a term
    counts: npt.NDArray[np.uint16]
    positions: npt.NDArray[np.uint16]
    _starts: Ints | None = field(default=None, repr=False)  # where each entry's positions start (lazy)

    @staticmethod
    def empty() -> Packed:
        return Packed([], np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.uint16), np.empty(0, np.uint16))

    def position_starts(self) -> Ints:
        """Entry k's positions are positions[starts[k]:starts[k + 1]] (one more than the entries)."""
        if self._starts is None:
            self._starts = np.concatenate(([0], np.cumsum(self.counts, dtype=np.int64)))
        return self._starts

    def get(self, term: str, *, positions: bool = True) -> Postings | None:
        """One term's postings (positions left out unless asked: a search fetches them only for phrases)."""
        at = bisect_left(self.terms, term)
        if at == len(self.terms) or self.terms[at] != term:
            return None
        low, high = (int(self.ends[at - 1]) if at else 0), int(self.ends[at])
        if not positions:
            return Postings(self.entries[low:high], self.counts[low:high], np.empty(0, np.uint16))
        starts = self.position_starts()
        return Postings(self.entries[low:high], self.counts[low:high], self.positions[int(starts[low]):int(starts[high])])

    def expand(self, prefix: str, bound: str | None) -> list[str]:
        """The terms from `prefix` up to (not including) `bound`."""
        return self.terms[bisect_left(self.terms, prefix):bisect_left(self.terms, bound) if bound else len(self.terms)]

    def to_row(self) -> tuple[bytes, bytes, bytes, bytes, bytes]:
        """terms, ends, entries, counts, positions as search_packed stores them (little-endian arrays)."""
        return (_SEPARATOR.join(self.terms).encode(), np.asarray(self.ends, "<i4").tobytes(),
                np.asarray(self.entries, "<i4").tobytes(), np.asarray(self.counts, "<u2").tobytes(),
                np.asarray(self.positions, "<u2").tobytes())

    @staticmethod
    def from_row(terms: bytes, ends: bytes, entries: bytes, counts: bytes, positions: bytes) -> Packed:
        return Packed(terms.decode().split(_SEPARATOR) if terms else [], np.frombuffer(ends, "<i4").astype(np.int64),
                      np.frombuffer(entries, "<i4"), np.frombuffer(counts, "<u2"), np.frombuffer(positions, "<u2"))

    @staticmethod
    def from_term_rows(rows: Sequence[Sequence[object]]) -> Packed:
        """search_postings rows (term, entries, counts, positions), ascending by term, as one Packed."""
        if not rows:
            return Packed.empty()
        entries = [bytes(r[1]) for r in rows]  # type: ignore[call-overload]
        return Packed([str(r[0]) for r in rows], np.cumsum([len(e) // 4 for e in entries], dtype=np.int64),
                      np.frombuffer(b"".join(entries), "<i4"), np.frombuffer(b"".join(bytes(r[2]) for r in rows), "<u2"),  # type: ignore[call-overload]
                      np.frombuffer(b"".join(bytes(r[3]) for r in rows), "<u2"))  # type: ignore[call-overload]

    def term_rows(self, seg: int) -> Iterator[tuple[str, int, bytes, bytes, bytes]]:
        """(term, seg, entries, counts, positions) per term, for COPY into search_postings: cut from one buffer each."""
        entries = np.asarray(self.entries, "<i4").tobytes()
        counts = np.asarray(self.counts, "<u2").tobytes()
        positions = np.asarray(self.positions, "<u2").tobytes()
        starts = self.position_starts()
        ends = self.ends.tolist()
        position_ends = starts[self.ends].tolist()
        low = position_low = 0
        for term, high, position_high in zip(self.terms, ends, position_ends, strict=True):
            yield (term, seg, entries[low * 4:high * 4], counts[low * 2:high * 2], positions[position_low * 2:position_high * 2])
            low, position_low = high, position_high


class _Vocabulary(dict[str, int]):
    """Numbers tokens in the order they are first seen."""

    def __missing__(self, token: str) -> int:
        number = self[token] = len(self)
        return number


def build(papers: Sequence[tuple[int, Sequence[str]]]) -> tuple[Packed, dict[int, int]]:
    """The postings of these papers' six indexed texts, and each paper's length (FTS5's xColumnSize(-1))."""
    if not papers:
        return Packed.empty(), {}
    base = min(paper_id for paper_id, _ in papers)
    vocabulary = _Vocabulary()
    number = vocabulary.__getitem__
    found = array("q")
    sizes = array("q")
    local: list[int] = []
    lengths: dict[int, int] = {}
    for paper_id, values in papers:
        total = 0
        for column, text in enumerate(values):
            toks = fts_tokens(text)
            found.extend(map(number, toks))
            sizes.append(len(toks))
            local.append((paper_id - base) * 8 + column)
            total += len(toks)
        lengths[paper_id] = total
    names = list(vocabulary)
    if not names:
        return Packed.empty(), lengths
    # Tokens renumbered in term order, so the one sort below leaves them as the directory lists them.
    by_name = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), np.int64)
    rank[by_name] = np.arange(len(names))
    ids = rank[np.frombuffer(found, np.int64)]
    size = np.frombuffer(sizes, np.int64)
    starts = np.cumsum(size) - size
    position = np.minimum(np.arange(len(ids), dtype=np.int64) - np.repeat(starts, size), MAX_POSITION)
    # One sort of token << 40 | entry << 16 | position gives every token's entries and positions in order.
    keys = np.sort((ids << 40) | (np.repeat(np.array(local, np.int64), size) << 16) | position)
    entry_key = keys >> 16
    new_entry = np.flatnonzero(np.concatenate(([True], entry_key[1:] != entry_key[:-1])))
    entries = (entry_key[new_entry] & 0xFFFFFF) + base * 8
    counts = np.diff(np.append(new_entry, len(keys)))
    ends = np.cumsum(np.bincount(keys[new_entry] >> 40, minlength=len(names)))
    return Packed([names[n] for n in by_name], ends, entries.astype(np.int32), np.minimum(counts, 0xFFFF).astype(np.uint16),
                  (keys & 0xFFFF).astype(np.uint16)), lengths


def combine(parts: Sequence[Packed], drop: Ints | None = None, drop_in: int = 0,
            keep: npt.NDArray[np.bool_] | None = None) -> Packed:
    """Every term's entries of all `parts`, ascending; the entries `drop` (ascending) left out of parts[:drop_in].

    Merging segments (parts of adjacent id ranges) and re-indexing papers (the stored segment with
    the changed columns' entries dropped, and their new entries) are both this: one sort of
    term << 32 | entry over every entry, positions following their entries. Terms left with no
    entry are left out. `keep`, one per entry of all parts in order, leaves out the others.
    """
    if keep is not None:
        sizes = np.cumsum([0] + [len(p.entries) for p in parts])
        keep = np.concatenate([keep[sizes[n]:sizes[n + 1]] for n, p in enumerate(parts) if p.terms])
    parts = [p for p in parts if p.terms]
    if not parts:
        return Packed.empty()
    terms = parts[0].terms if len(parts) == 1 else sorted(set().union(*(p.terms for p in parts)))
    number = dict(zip(terms, range(len(terms)), strict=True))
    term = np.concatenate([np.repeat(np.fromiter(map(number.__getitem__, p.terms), np.int64, len(p.terms)),
                                     np.diff(p.ends, prepend=0)) for p in parts])
    entries = np.concatenate([p.entries for p in parts]).astype(np.int64)
    counts = np.concatenate([p.counts for p in parts]).astype(np.int64)
    positions = np.concatenate([p.positions for p in parts])
    assert len(positions) == int(counts.sum()), "combine() needs the positions of every entry"
    keep = np.ones(len(entries), bool) if keep is None else keep.copy()
    if drop is not None and len(drop):
        dropped_from = sum(len(p.entries) for p in parts[:drop_in])
        keep[:dropped_from] = ~in_sorted(entries[:dropped_from], drop)
    kept = np.flatnonzero(keep)
    order = kept[np.argsort((term[kept] << 32) | entries[kept])]
    first = _gather(counts, order)
    per_term = np.bincount(term[order], minlength=len(terms))
    used = per_term > 0
    return Packed(list(compress(terms, used.tolist())), np.cumsum(per_term[used]),
                  entries[order].astype(np.int32), counts[order].astype(np.uint16), positions[first])


def token_counts(values: Sequence[str]) -> tuple[set[str], int]:
    """The distinct tokens of some texts and how many tokens they hold."""
    found: set[str] = set()
    total = 0
    for text in values:
        toks = fts_tokens(text)
        found.update(toks)
        total += len(toks)
    return found, total


def _gather(counts: Ints, order: Ints) -> Ints:
    """Where the positions of entries `order` (indexes into entries with these counts) are, one after the other."""
    starts = np.cumsum(counts) - counts
    taken = counts[order]
    ends = np.cumsum(taken)
    return np.repeat(starts[order] - (ends - taken), taken) + np.arange(int(ends[-1]) if len(ends) else 0)


def replace(stored: Packed, new: Packed, drop: Ints) -> Packed:
    """`stored` with the entries `drop` (ascending) taken out and `new`'s put in: combine([stored, new], drop, 1).

    The same result without sorting the stored entries again: they are in order already (terms
    ascending, entries ascending within), so the few new ones are put in where they belong. A
    day's re-index touches a merged segment of hundreds of thousands of entries with a few hundred.
    """
    if not stored.terms or not new.terms:
        return combine([stored, new], drop, drop_in=1)
    at = [bisect_left(stored.terms, t) for t in new.terms]
    missing = [t for t, n in zip(new.terms, at, strict=True) if n == len(stored.terms) or stored.terms[n] != t]
    terms = sorted(stored.terms + missing) if missing else stored.terms
    # A stored term's number in `terms`: its own plus the missing terms before it.
    before = np.array([bisect_left(stored.terms, t) for t in missing], np.int64)
    stored_number = np.arange(len(stored.terms), dtype=np.int64) + np.searchsorted(before, np.arange(len(stored.terms)), "right")
    new_number = np.array([bisect_left(terms, t) for t in new.terms], np.int64)
    stored_term = np.repeat(stored_number, np.diff(stored.ends, prepend=0))
    new_term = np.repeat(new_number, np.diff(new.ends, prepend=0))
    stored_entries = stored.entries.astype(np.int64)
    kept = np.flatnonzero(~in_sorted(stored_entries, drop)) if len(drop) else np.arange(len(stored_entries))
    kept_keys = (stored_term[kept] << 32) | stored_entries[kept]
    new_keys = (new_term << 32) | new.entries.astype(np.int64)
    # Indexes into stored's entries then new's, in the merged order.
    order = np.insert(kept, np.searchsorted(kept_keys, new_keys), len(stored_entries) + np.arange(len(new_keys)))
    counts = np.concatenate((stored.counts, new.counts)).astype(np.int64)
    positions = np.concatenate((stored.positions, new.positions))[_gather(counts, order)]
    per_term = np.bincount(np.concatenate((stored_term, new_term))[order], minlength=len(terms))
    used = per_term > 0
    return Packed(list(compress(terms, used.tolist())) if not used.all() else terms,
                  np.cumsum(per_term[used]), np.concatenate((stored.entries, new.entries))[order],
                  counts[order].astype(np.uint16), positions)


def parts_of(rows: Sequence[Sequence[bytes]]) -> list[tuple[Ints, Packed]]:
    """search_packed rows (drops, terms, ends, entries, counts, positions) as (drops, postings) parts."""
    return [(np.frombuffer(row[0], "<i4").astype(np.int64), Packed.from_row(*row[1:])) for row in rows]


def fold(base: Packed | None, parts: Sequence[tuple[Ints, Packed]]) -> Packed:
    """Postings from parts in order: each drops entries of the ones before it (and of `base`) and adds its own.

    A packed segment is its part 0 (as written) and a part per re-index. A merge folds the parts
    of all its segments at once (a part's drops only ever meet entries of its own segment).
    """
    if base is not None or len(parts) < 3:
        for drops, part in parts:
            base = part if base is None else replace(base, part, drops)
        return base if base is not None else Packed.empty()
    # One combine of all the parts: an entry of part n is kept unless a later part drops it.
    dropped = np.concatenate([drops for drops, _ in parts])
    by = np.concatenate([np.full(len(drops), n, np.int64) for n, (drops, _) in enumerate(parts)])
    order = np.lexsort((by, dropped))
    dropped, by = dropped[order], by[order]
    last = np.flatnonzero(np.append(dropped[1:] != dropped[:-1], True)) if len(dropped) else np.empty(0, np.int64)
    dropped, by = dropped[last], by[last]  # each entry's last part to drop it
    keep = []
    for n, (_, pack) in enumerate(parts):
        entries = pack.entries.astype(np.int64)
        if len(dropped) == 0:
            keep.append(np.ones(len(entries), bool))
            continue
        at = np.minimum(np.searchsorted(dropped, entries), len(dropped) - 1)
        keep.append(~((dropped[at] == entries) & (by[at] > n)))
    return combine([pack for _, pack in parts], keep=np.concatenate(keep))
