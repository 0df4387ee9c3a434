"""Turn what a person typed into an FTS5 query that can never be a syntax error.

Supported, and documented in the README:
  words            every word must appear (in any order, in any field)
  "a phrase"       the words next to each other
  word*            a prefix (diffus* finds diffusion, diffusive)
  a OR b           either term
  -word, NOT word  leave out papers with the word (needs at least one other term)
Anything else (quotes that do not close, AND, NEAR, :, ^, +, parentheses, C++, GPT-4o, e.g.,
100%) is searched as plain text. Every term reaches FTS5 as a double-quoted string made only
of letters and digits, so user text is never FTS5 syntax.

A query has a budget, so no member can make the index scan for minutes: at most MAX_TERMS words
or phrases, MAX_PREFIX_TERMS prefixes of at least MIN_PREFIX_CHARS characters, MAX_TOKENS index
tokens in all. Past the budget the query is refused with a sentence saying what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
class _Term:
    fts: str
    negative: bool
    tokens: int = 1
    prefix: bool = False


def _phrase(text: str, prefix: bool) -> tuple[str, int, bool] | None:
    """The FTS5 phrase for `text`, its token count, and whether it is a typed prefix."""
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
    # A lone CJK character only exists inside bigrams in the index, so match it as a prefix.
    if prefix or (len(tokens) == 1 and len(last) == 1 and has_cjk(last)):
        return f'"{body}"*', len(tokens), prefix
    return f'"{body}"', len(tokens), False


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
            fts, tokens, prefix = found
            items.append(_Term(fts, negative, tokens, prefix))
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


def build_match(text: str, *, author: str | None = None, category: str | None = None) -> str:
    """Return the FTS5 MATCH expression for a user's query, with optional author and category filters."""
    groups: list[list[str]] = []
    negatives: list[str] = []
    pending_or = False
    for item in _terms(text):
        if item == "OR":
            pending_or = bool(groups)
            continue
        assert isinstance(item, _Term)
        if item.negative:
            negatives.append(item.fts)
            pending_or = False
        elif pending_or:
            groups[-1].append(item.fts)
            pending_or = False
        else:
            groups.append([item.fts])
    if author:
        author_phrase = _phrase(author[:200], prefix=False)
        if author_phrase is not None:
            groups.append(["authors : " + author_phrase[0]])
    if not groups:
        raise EmptyQuery(text)
    if category:
        groups.append(["categories : " + category_token(category)])
    parts = [g[0] if len(g) == 1 else "(" + " OR ".join(g) + ")" for g in groups]
    expression = " AND ".join(parts)
    if negatives:
        expression = f"({expression})" + "".join(f" NOT {n}" for n in negatives)
    return expression
