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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.text import category_token, has_cjk, index_text

_TERM = re.compile(r'(?P<neg>-?)"(?P<phrase>[^"]*)"|(?P<word>\S+)')
_TOKEN = re.compile(r"[^\W_]+")


class EmptyQuery(ValueError):
    """The query holds nothing searchable (only punctuation, or only exclusions)."""


@dataclass(frozen=True, slots=True)
class _Term:
    fts: str
    negative: bool


def _phrase(text: str, prefix: bool) -> str | None:
    tokens = _TOKEN.findall(index_text(text))
    if not tokens:
        return None
    body = " ".join(tokens)
    last = tokens[-1]
    # A lone CJK character only exists inside bigrams in the index, so match it as a prefix.
    if prefix or (len(tokens) == 1 and len(last) == 1 and has_cjk(last)):
        return f'"{body}"*'
    return f'"{body}"'


def _terms(text: str) -> list[_Term | str]:
    items: list[_Term | str] = []
    negate_next = False
    for match in _TERM.finditer(text):
        if match.group("phrase") is not None:
            fts = _phrase(match.group("phrase"), prefix=False)
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
            fts = _phrase(word.rstrip("*"), prefix=word.endswith("*") and len(word.rstrip("*")) > 0)
        negate_next = False
        if fts is not None:
            items.append(_Term(fts, negative))
    return items


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
        author_phrase = _phrase(author, prefix=False)
        if author_phrase is not None:
            groups.append(["authors : " + author_phrase])
    if not groups:
        raise EmptyQuery(text)
    if category:
        groups.append(["categories : " + category_token(category)])
    parts = [g[0] if len(g) == 1 else "(" + " OR ".join(g) + ")" for g in groups]
    expression = " AND ".join(parts)
    if negatives:
        expression = f"({expression})" + "".join(f" NOT {n}" for n in negatives)
    return expression
