"""Keyword filters of a feed: `include` keeps only matching papers, `exclude` drops matching ones.

A filter is a comma-separated list of terms, each in the /search query language (words,
"a phrase", Chinese, prefix*), matched on title, TL;DR and abstract exactly as keyword
subscriptions are (storage.keyword_index). Commas inside quotes belong to the phrase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.errors import InvalidInput
from storage.fts_query import EmptyQuery, QueryTooComplex, build_match
from storage.keyword_index import KeywordIndex
from storage.records import DigestEntry

MAX_FILTER_TERMS = 10
MAX_TERM_CHARS = 100


def split_filter(text: str | None) -> list[str]:
    """`survey, "large language model", 综述` -> its terms; commas inside quotes stay in the phrase."""
    if not text:
        return []
    terms: list[str] = []
    current = ""
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [" ".join(t.split()) for t in terms if t.strip()]


def parse_filter(text: str | None, option: str) -> list[str]:
    """Check a filter as typed; raise InvalidInput naming the option and the term that cannot work."""
    terms = split_filter(text)
    if len(terms) > MAX_FILTER_TERMS:
        raise InvalidInput("`{option}` takes at most {count} terms, comma separated.", option=option, count=MAX_FILTER_TERMS)
    for term in terms:
        if len(term) > MAX_TERM_CHARS:
            raise InvalidInput("A term of `{option}` is longer than {count} characters; use a few words.", option=option,
                               count=MAX_TERM_CHARS)
        try:
            build_match(term)
        except EmptyQuery:
            raise InvalidInput('`{term}` in `{option}` has nothing to match: use words or "a phrase".', term=term[:40],
                               option=option) from None
        except QueryTooComplex as exc:
            raise InvalidInput("`{term}` in `{option}`: {problem}", term=term[:40], option=option, problem=exc.message) from None
    return terms


def join_filter(terms: Sequence[str]) -> str:
    """The stored and shown form of a filter."""
    return ", ".join(terms)


@dataclass(frozen=True, slots=True)
class Filtered:
    """What a filter kept of a list of entries, and how many it left out."""

    entries: list[DigestEntry]
    left_out: int


def apply_filters(entries: Sequence[DigestEntry], include: Sequence[str], exclude: Sequence[str]) -> Filtered:
    """Keep the entries that match one `include` term (all when there is none) and no `exclude` term."""
    if not include and not exclude:
        return Filtered(list(entries), 0)
    index = KeywordIndex(e.paper for e in entries)
    try:
        kept_ids: set[str] | None = None
        if include:
            kept_ids = set().union(*(index.matches(term) for term in include))
        dropped = set().union(*(index.matches(term) for term in exclude)) if exclude else set()
    finally:
        index.close()
    kept = [e for e in entries if (kept_ids is None or e.paper.arxiv_id in kept_ids) and e.paper.arxiv_id not in dropped]
    return Filtered(kept, len(entries) - len(kept))
