"""Who gets which papers of a digest: each user's matches, each paper once, with every reason."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from storage.keyword_index import KeywordIndex
from storage.records import DigestEntry, StoredPaper
from storage.subscriptions import Subscription, SubscriptionGroup
from storage.text import fold_name

# A paper matching several subscriptions is listed under the most specific one.
_ORDER = {"author": 0, "keyword": 1, "category": 2, "exclude": 3}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a paper reached a user: `keyword: diffusion`."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


def _priority(reason: Reason) -> tuple[int, str]:
    return _ORDER[reason.kind], reason.value.lower()


class UserMatches:
    """One user's papers of one digest: which subscriptions hit which papers (digest positions).

    Matching only records the hits; grouping for the DM is a few set operations, and a paper's
    full list of reasons is worked out only for the papers a DM shows.
    """

    __slots__ = ("_entries", "hits", "order", "user_id")

    def __init__(self, user_id: int, entries: Sequence[DigestEntry]) -> None:
        self.user_id = user_id
        self.hits: list[tuple[Reason, frozenset[int]]] = []
        # The member's model score of each matched position, once they gave enough feedback: best first.
        self.order: dict[int, float] | None = None
        self._entries = entries

    def _sorted(self, positions: set[int] | frozenset[int]) -> list[int]:
        """Best first by the member's model when there is one, else digest order."""
        if self.order is None:
            return sorted(positions)
        order = self.order
        return sorted(positions, key=lambda p: (-order.get(p, float("-inf")), p))

    @property
    def entries(self) -> Sequence[DigestEntry]:
        """Every entry of the digest matched (positions index it)."""
        return self._entries

    def count(self) -> int:
        """How many distinct papers matched."""
        return len(frozenset().union(*(positions for _, positions in self.hits)))

    def groups(self) -> list[tuple[Reason, list[int]]]:
        """Each matched paper once, under its most specific reason (author, keyword, category); digest order within."""
        taken: set[int] = set()
        result: list[tuple[Reason, list[int]]] = []
        for reason, positions in sorted(self.hits, key=lambda hit: _priority(hit[0])):
            mine = self._sorted(positions - taken)
            if mine:
                result.append((reason, mine))
                taken.update(mine)
        return result

    def paper(self, position: int) -> StoredPaper:
        """The paper at a digest position."""
        return self._entries[position].paper

    def reasons(self, position: int) -> list[Reason]:
        """Every reason the paper at `position` matched, most specific first."""
        return sorted((reason for reason, positions in self.hits if position in positions), key=_priority)

    @property
    def papers(self) -> list[tuple[StoredPaper, list[Reason]]]:
        """Each matching paper once, in digest order (best first for a member with a model), with all its reasons."""
        every = self._sorted(frozenset().union(*(positions for _, positions in self.hits)))
        return [(self.paper(p), self.reasons(p)) for p in every]

    def grouped(self) -> list[tuple[Reason, list[tuple[StoredPaper, list[Reason]]]]]:
        """`groups()` with each paper and all its reasons."""
        return [(reason, [(self.paper(p), self.reasons(p)) for p in positions]) for reason, positions in self.groups()]


def _hits(kind: str, key: str, value: str, index: KeywordIndex | None, by_category: dict[str, list[int]],
          by_author: dict[str, list[int]], by_id: dict[str, int]) -> list[int]:
    if kind == "category":
        return by_category.get(key, [])
    if kind == "author":
        return by_author.get(key, [])
    assert index is not None
    return [by_id[a] for a in index.matches(value)]


def match_digest(entries: Sequence[DigestEntry], subscriptions: Sequence[SubscriptionGroup] | Sequence[Subscription]
                 ) -> dict[int, UserMatches]:
    """Match every subscription against one digest; return only users with at least one paper.

    Category = the paper's primary category, any cross-listed one, or the section it was listed
    under; author = the folded name equals one of the paper's folded author names; keyword =
    the same full-text match as /search, on title, TL;DR and abstract; exclude = a keyword whose
    papers are taken away from that user's matches.
    """
    by_category: dict[str, list[int]] = defaultdict(list)
    by_author: dict[str, list[int]] = defaultdict(list)
    by_id: dict[str, int] = {}
    for position, entry in enumerate(entries):
        paper = entry.paper
        by_id[paper.arxiv_id] = position
        for category in {*(c.lower() for c in paper.categories), entry.section.lower()}:
            by_category[category].append(position)
        for name in {fold_name(a) for a in paper.authors}:
            by_author[name].append(position)
    groups: list[SubscriptionGroup] = [
        s if isinstance(s, SubscriptionGroup) else SubscriptionGroup(s.kind, s.key, s.value, [s.user_id]) for s in subscriptions
    ]
    index = KeywordIndex(e.paper for e in entries) if any(g.kind in ("keyword", "exclude") for g in groups) else None
    result: dict[int, UserMatches] = {}
    found: dict[tuple[str, str], frozenset[int]] = {}
    excluded: dict[int, set[int]] = {}
    try:
        for group in groups:
            # Equal keys written differently (`Diffusion`, `diffusion`) are matched once.
            positions = found.get((group.kind, group.key))
            if positions is None:
                positions = found[(group.kind, group.key)] = frozenset(
                    _hits(group.kind, group.key, group.value, index, by_category, by_author, by_id))
            if not positions:
                continue
            if group.kind == "exclude":
                for user_id in group.user_ids:
                    excluded.setdefault(user_id, set()).update(positions)
                continue
            hit = (Reason(group.kind, group.value), positions)
            for user_id in group.user_ids:
                matches = result.get(user_id)
                if matches is None:
                    matches = result[user_id] = UserMatches(user_id, entries)
                matches.hits.append(hit)
    finally:
        if index is not None:
            index.close()
    # An excluded paper never reaches the member, whatever else it matched.
    for user_id, dropped in excluded.items():
        matches = result.get(user_id)
        if matches is None:
            continue
        matches.hits = [(reason, kept) for reason, hit_positions in matches.hits if (kept := hit_positions - dropped)]
        if not matches.hits:
            del result[user_id]
    return result
