"""storage.fts_tokens gives the tokens FTS5's unicode61 remove_diacritics 2 gives, checked against live SQLite."""

from __future__ import annotations

import random
import sqlite3

from storage.fts_tokens import tokens


def _fts5_tokens(texts: list[str]) -> list[list[str]]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(x, tokenize = 'unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')")
    conn.executemany("INSERT INTO f (rowid, x) VALUES (?, ?)", list(enumerate(texts, 1)))
    found: list[list[tuple[int, str]]] = [[] for _ in texts]
    for doc, offset, term in conn.execute("SELECT doc, offset, term FROM v"):
        found[doc - 1].append((offset, term))
    return [[term for _, term in sorted(rows)] for rows in found]


def test_every_code_point_is_split_and_folded_as_fts5_does() -> None:
    texts = ["a" + chr(code) + "b" for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF]
    theirs = _fts5_tokens(texts)
    wrong = [(text, mine, their) for text, their in zip(texts, theirs, strict=True) if (mine := tokens(text)) != their]
    assert not wrong, wrong[:5]


def test_mixed_text_positions_agree() -> None:
    rng = random.Random(3)
    alphabet = "aZ9 .-_'\u0301\u00e9\u00c9\u0131\u0130\u00df\u03c2\u03a3\u6269\u6563\uff21\u2167\u00b2\U00020000\U0001f600"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    texts += ["Ünïcödé ÉCOLE ǅ ﬁ ² Ⅻ", "x \u0300 y", "Łajewska Øre", "GPT-4o e.g. C++", "扩散 散模 模型"]
    assert [tokens(text) for text in texts] == _fts5_tokens(texts)
