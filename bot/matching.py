"""Who gets which papers of a digest: each user's matches, each paper once, with every reason."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from storage.keyword_index import KeywordIndex
from storage.records import DigestEntry, StoredPaper
from storage.subscriptions import Subscription
from storage.text import fold_name

# A paper matching several subscriptions is listed under the most specific one.
_ORDER = {"author": 0, "keyword": 1, "category": 2}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a paper reached a user: `keyword: diffusion`."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class UserMatches:
    """One user's papers of one digest: which subscriptions hit which papers.

    The per-paper view (`papers`) is built on first use, when the DM is rendered, so matching
    ten thousand users costs one pass over the subscriptions, not one pass over every paper of
    every user.
    """

    __slots__ = ("_entries", "_papers", "hits", "user_id")

    def __init__(self, user_id: int, entries: Sequence[DigestEntry]) -> None:
        self.user_id = user_id
        self.hits: list[tuple[Reason, Sequence[int]]] = []
        self._entries = entries
        self._papers: list[tuple[StoredPaper, list[Reason]]] | None = None

    @property
    def papers(self) -> list[tuple[StoredPaper, list[Reason]]]:
        """Each matching paper once, in digest order, with every reason it matched (most specific first)."""
        if self._papers is None:
            found: dict[int, list[Reason]] = {}
            for reason, positions in self.hits:
                for position in positions:
                    found.setdefault(position, []).append(reason)
            self._papers = [
                (self._entries[position].paper, sorted(found[position], key=lambda r: (_ORDER[r.kind], r.value.lower())))
                for position in sorted(found)
            ]
        return self._papers

    def grouped(self) -> list[tuple[Reason, list[tuple[StoredPaper, list[Reason]]]]]:
        """Papers grouped under their first (most specific) reason, groups in subscription order."""
        groups: dict[Reason, list[tuple[StoredPaper, list[Reason]]]] = {}
        for paper, reasons in self.papers:
            groups.setdefault(reasons[0], []).append((paper, reasons))
        return sorted(groups.items(), key=lambda item: (_ORDER[item[0].kind], item[0].value.lower()))


def _hits(entries: Sequence[DigestEntry], kind: str, key: str, value: str, index: KeywordIndex | None,
          by_category: dict[str, list[int]], by_author: dict[str, list[int]], by_id: dict[str, int]) -> list[int]:
    if kind == "category":
        return by_category.get(key, [])
    if kind == "author":
        return by_author.get(key, [])
    assert index is not None
    return sorted(by_id[a] for a in index.matches(value))


def match_digest(entries: Sequence[DigestEntry], subscriptions: Sequence[Subscription]) -> dict[int, UserMatches]:
    """Match every subscription against one digest; return only users with at least one paper.

    Category = the paper's primary category, any cross-listed one, or the section it was listed
    under; author = the folded name equals one of the paper's folded author names; keyword =
    the same full-text match as /search, on title, TL;DR and abstract.
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
    groups: dict[tuple[str, str], list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        groups[(subscription.kind, subscription.key)].append(subscription)
    index = KeywordIndex(e.paper for e in entries) if any(kind == "keyword" for kind, _ in groups) else None
    result: dict[int, UserMatches] = {}
    try:
        for (kind, key), members in groups.items():
            positions = tuple(_hits(entries, kind, key, members[0].value, index, by_category, by_author, by_id))
            if not positions:
                continue
            for subscription in members:
                matches = result.get(subscription.user_id)
                if matches is None:
                    matches = result[subscription.user_id] = UserMatches(subscription.user_id, entries)
                matches.hits.append((Reason(kind, subscription.value), positions))
    finally:
        if index is not None:
            index.close()
    return result
