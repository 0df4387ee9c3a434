"""Text folding shared by indexing and querying, so both sides always agree.

CJK has no spaces between words, so the unicode61 tokenizer would take a whole sentence as
one token. Each run of CJK characters is therefore indexed as overlapping bigrams (as
Lucene's CJK analyzer does): 扩散模型 -> 扩散 散模 模型. A query of two or more CJK
characters becomes the phrase of its bigrams, which matches exactly where the run occurs.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache

_CJK_RUN = re.compile(
    "[\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f]+"
)
# Letters the Unicode decomposition leaves alone but people type without the stroke.
_UNDECOMPOSED = str.maketrans({
    "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ß": "ss", "æ": "ae", "Æ": "ae",
    "œ": "oe", "Œ": "oe", "ı": "i", "ð": "d", "þ": "th",
})
_NEEDS_TRANSLATION = re.compile("[łŁøØđĐßæÆœŒıðþ]")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_NON_WORD = re.compile(r"[^\w]+|_")


def _bigrams(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(map(str.__add__, run[:-1], run[1:])) + " "


def index_text(text: str) -> str:
    """Return `text` as the index sees it: CJK runs as overlapping bigrams, ł/ø/ß spelt plainly.

    Queries go through the same function, so both sides always agree.
    """
    if not text or text.isascii():
        return text
    if _NEEDS_TRANSLATION.search(text):
        text = text.translate(_UNDECOMPOSED)
    return _CJK_RUN.sub(_bigrams, text)


def has_cjk(text: str) -> bool:
    """Return True when `text` holds at least one CJK character."""
    return not text.isascii() and _CJK_RUN.search(text) is not None


# arXiv's category codes: `cs.CV`, `hep-th`, `astro-ph.GA`, `cond-mat.mtrl-sci`, `q-bio.GN`.
_CATEGORY_SHAPE = re.compile(r"^[a-z]{1,10}(?:-[a-z]{2,10})?(?:\.[A-Za-z]{2,10}(?:-[A-Za-z]{2,10})?)?$")


def is_category_shaped(code: str) -> bool:
    """True when `code` has the shape of an arXiv category (anything else could break out of a code span)."""
    return len(code) <= 24 and _CATEGORY_SHAPE.match(code) is not None


def category_token(category: str) -> str:
    """Return the single index token standing for a category: cs.CV -> catcscv."""
    return "cat" + _NON_ALNUM.sub("", category).lower()


@lru_cache(maxsize=65536)
def fold_name(name: str) -> str:
    """Fold an author name for matching: case, accents, punctuation and spacing ignored."""
    if name.isascii():
        return " ".join(_NON_WORD.sub(" ", name.lower()).split())
    decomposed = unicodedata.normalize("NFKD", name.translate(_UNDECOMPOSED))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", stripped.casefold()).split())


# The six indexed texts of a paper, in the index's column order.
FtsValues = tuple[str, str, str, str, str, str]


def fts_values(row: dict[str, object]) -> FtsValues:
    """Return the six indexed columns for a paper row; deletes must pass exactly these back."""
    authors = index_text(" ; ".join(fold_name(name) for name in json.loads(str(row["authors"]))))
    # English summaries restate the English abstract, so indexing them again costs a third of
    # ingest time for no new words; summaries in another script (Chinese) are the only place
    # their words occur, so they are indexed.
    fields = ["keywords", "translated_title"]
    if has_cjk(str(row["tldr"])):
        fields += ["motivation", "method", "result", "conclusion"]
    details = "\n".join(str(row[name]) for name in fields if row[name])
    return (
        index_text(str(row["title"])),
        authors,
        index_text(str(row["tldr"])),
        index_text(str(row["abstract"])),
        index_text(details),
        " ".join(category_token(c) for c in json.loads(str(row["categories"]))),
    )
