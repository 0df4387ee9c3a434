"""Turn what a person typed into a query that can never be a syntax error, for FTS5 or PostgreSQL.

Supported, and documented in the README:
  words            every word must appear (in any order, in any field)
  "a phrase"       the words next to each other
  word*            a prefix (diffus* finds diffusion, diffusive)
  a OR b           either term
  -word, NOT word  leave out papers with the word (needs at least one other term)
Anything else (quotes that do not close, AND, NEAR, :, ^, +, parentheses, C++, GPT-4o, e.g.,
100%) is searched as plain text. Every term reaches FTS5 as a double-quoted string made only
of letters and digits, so user text is never FTS5 syntax.

One parser (`parse`) makes an engine-neutral Query (an AND of OR-groups of phrases, negatives,
column-restricted author and category phrases); `to_fts5` writes it for SQLite's FTS5 and
`to_tsquery` for PostgreSQL (every lexeme quoted).

A query has a budget, so no member can make the index scan for minutes: at most MAX_TERMS words
or phrases, MAX_PREFIX_TERMS prefixes of at least MIN_PREFIX_CHARS characters, MAX_TOKENS index
tokens in all. Past the budget the query is refused with a sentence saying what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.fts_tokens import tokens as fts_tokens
from storage.text import category_token, has_cjk, index_text

_TERM = re.compile(r'(?P<neg>-?)"(?P<phrase>[^"]*)"|(?P<word>\S+)')
_TOKEN = re.compile(r"[^\W_]+")


MAX_TERMS = 12
MAX_PREFIX_TERMS = 2
MIN_PREFIX_CHARS = 3
MAX_TOKENS = 32


class EmptyQuery(ValueError):
    """The query holds nothing searchable (only punctuation, or only exclusions)."""


class QueryTooComplex(ValueError):
    """The query is over its budget; the message says which limit and what to do.

    The message is a template with `{placeholders}` filled from `values`, so the bot can translate it.
    """

    def __init__(self, message: str, **values: object) -> None:
        self.template = message
        self.values = values
        self.message = message.format(**values) if values else message
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class Phrase:
    """One phrase of a query, engine-neutral: the index tokens next to each other, in one column.

    `tokens` are folded as the index holds them (storage.fts_tokens); `prefix` makes the last one a
    prefix; `column` restricts the phrase to one indexed column; `fts5` is the phrase as FTS5 text.
    """

    tokens: tuple[str, ...]
    fts5: str
    prefix: bool = False
    column: str | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every group must match (a group matches when one of its phrases does), no negative may."""

    groups: tuple[tuple[Phrase, ...], ...]
    negatives: tuple[Phrase, ...] = ()

    def phrases(self) -> tuple[Phrase, ...]:
        """Every phrase in the order FTS5 numbers them (bm25 sums over them in this order)."""
        return (*(p for group in self.groups for p in group), *self.negatives)


@dataclass(frozen=True, slots=True)
class _Term:
    phrase: Phrase
    negative: bool
    tokens: int = 1
    prefix: bool = False


def _phrase(text: str, prefix: bool, column: str | None = None) -> tuple[Phrase, int, bool] | None:
    """The phrase for `text`, its token count (for the budget), and whether it is a typed prefix."""
    tokens = _TOKEN.findall(index_text(text))
    if not tokens:
        return None
    body = " ".join(tokens)
    last = tokens[-1]
    if prefix and len(last) < MIN_PREFIX_CHARS and not has_cjk(last):
        raise QueryTooComplex(
            "A prefix search needs at least {count} letters before the * (`{prefix}*` matches almost everything); "
            "try `{longer}*` or a whole word.", count=MIN_PREFIX_CHARS, prefix=last, longer=(last + "xyz")[:MIN_PREFIX_CHARS],
        )
    indexed = tuple(fts_tokens(body))
    if not indexed:  # only characters FTS5 takes for separators (a few vowel signs): nothing to find
        return None
    label = "" if column is None else column + " : "
    # A lone CJK character only exists inside bigrams in the index, so match it as a prefix.
    if prefix or (len(tokens) == 1 and len(last) == 1 and has_cjk(last)):
        return Phrase(indexed, f'{label}"{body}"*', True, column), len(tokens), prefix
    return Phrase(indexed, f'{label}"{body}"', False, column), len(tokens), False


def _terms(text: str) -> list[_Term | str]:
    items: list[_Term | str] = []
    negate_next = False
    for match in _TERM.finditer(text):
        if match.group("phrase") is not None:
            found = _phrase(match.group("phrase"), prefix=False)
            negative = bool(match.group("neg")) or negate_next
        else:
            word = match.group("word")
            if word in ("OR", "|"):
                items.append("OR")
                continue
            if word in ("AND", "&&", "+"):
                continue
            if word == "NOT":
                negate_next = True
                continue
            negative = negate_next or (word.startswith("-") and len(word) > 1 and word[1] != "-")
            if word.startswith("-"):
                word = word.lstrip("-")
            word = word.replace('"', " ")
            found = _phrase(word.rstrip("*"), prefix=word.endswith("*") and len(word.rstrip("*")) > 0)
        negate_next = False
        if found is not None:
            phrase, tokens, prefix = found
            items.append(_Term(phrase, negative, tokens, prefix))
    _check_budget([item for item in items if isinstance(item, _Term)])
    return items


def _check_budget(terms: list[_Term]) -> None:
    if len(terms) > MAX_TERMS:
        raise QueryTooComplex("Search for at most {most} words or phrases at a time ({count} here); keep the most telling ones.",
                              most=MAX_TERMS, count=len(terms))
    prefixes = sum(1 for t in terms if t.prefix)
    if prefixes > MAX_PREFIX_TERMS:
        raise QueryTooComplex("Use at most {most} prefix searches (word*) in one search ({count} here); write the other "
                              "words in full.", most=MAX_PREFIX_TERMS, count=prefixes)
    tokens = sum(t.tokens for t in terms)
    if tokens > MAX_TOKENS:
        raise QueryTooComplex("That search is too long ({count} words, counting each pair of Chinese characters); use at "
                              "most {most}.", count=tokens, most=MAX_TOKENS)


def parse(text: str, *, author: str | None = None, category: str | None = None) -> Query:
    """Parse a user's query, with optional author and category filters, into an engine-neutral Query.

    Raises EmptyQuery when nothing is left to search for, QueryTooComplex past the budget.
    """
    groups: list[list[Phrase]] = []
    negatives: list[Phrase] = []
    pending_or = False
    for item in _terms(text):
        if item == "OR":
            pending_or = bool(groups)
            continue
        assert isinstance(item, _Term)
        if item.negative:
            negatives.append(item.phrase)
            pending_or = False
        elif pending_or:
            groups[-1].append(item.phrase)
            pending_or = False
        else:
            groups.append([item.phrase])
    if author:
        author_phrase = _phrase(author[:200], prefix=False, column="authors")
        if author_phrase is not None:
            groups.append([author_phrase[0]])
    if not groups:
        raise EmptyQuery(text)
    if category:
        token = category_token(category)
        groups.append([Phrase((token,), "categories : " + token, column="categories")])
    return Query(tuple(tuple(g) for g in groups), tuple(negatives))


def to_fts5(query: Query) -> str:
    """The FTS5 MATCH expression of a parsed query."""
    parts = [g[0].fts5 if len(g) == 1 else "(" + " OR ".join(p.fts5 for p in g) + ")" for g in query.groups]
    expression = " AND ".join(parts)
    if query.negatives:
        expression = f"({expression})" + "".join(f" NOT {n.fts5}" for n in query.negatives)
    return expression


def build_match(text: str, *, author: str | None = None, category: str | None = None) -> str:
    """Return the FTS5 MATCH expression for a user's query, with optional author and category filters."""
    return to_fts5(parse(text, author=author, category=category))
