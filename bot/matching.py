"""Who gets which papers of a digest: each user's matches, each paper once, with every reason."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass(slots=True)
class UserMatches:
    """One user's papers of one digest, in digest order, each with the reasons it matched."""

    user_id: int
    papers: list[tuple[StoredPaper, list[Reason]]] = field(default_factory=list)

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
    per_user: dict[int, dict[int, list[Reason]]] = defaultdict(dict)
    try:
        for (kind, key), members in groups.items():
            positions = _hits(entries, kind, key, members[0].value, index, by_category, by_author, by_id)
            if not positions:
                continue
            for subscription in members:
                reason = Reason(kind, subscription.value)
                found = per_user[subscription.user_id]
                for position in positions:
                    found.setdefault(position, []).append(reason)
    finally:
        if index is not None:
            index.close()
    result: dict[int, UserMatches] = {}
    for user_id, found in per_user.items():
        matches = UserMatches(user_id)
        for position in sorted(found):
            reasons = sorted(found[position], key=lambda r: (_ORDER[r.kind], r.value.lower()))
            matches.papers.append((entries[position].paper, reasons))
        result[user_id] = matches
    return result
