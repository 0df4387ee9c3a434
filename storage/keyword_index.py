"""Keyword matching for one digest: an in-memory FTS5 index of just that day's papers.

Subscriptions match with the same query language and text folding as /search (build_match,
index_text), but against a few hundred papers instead of the whole corpus, so thousands of
distinct keywords are answered in milliseconds each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from storage.fts_query import EmptyQuery, build_match
from storage.records import StoredPaper
from storage.text import has_cjk, index_text


class KeywordIndex:
    """Title, TL;DR and abstract (and Chinese summaries) of a set of papers, searchable by keyword."""

    def __init__(self, papers: Iterable[StoredPaper]) -> None:
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute("CREATE VIRTUAL TABLE k USING fts5(title, tldr, abstract, content='', tokenize='unicode61 remove_diacritics 2')")
        self._ids: list[str] = []
        rows = []
        for rowid, paper in enumerate(papers):
            self._ids.append(paper.arxiv_id)
            # A Chinese TL;DR is short; its siblings carry the rest of the Chinese text.
            summary = paper.tldr
            if has_cjk(paper.tldr):
                summary = "\n".join([paper.tldr, paper.motivation, paper.method, paper.result, paper.conclusion])
            rows.append((rowid, index_text(paper.title), index_text(summary), index_text(paper.abstract)))
        self._conn.executemany("INSERT INTO k (rowid, title, tldr, abstract) VALUES (?, ?, ?, ?)", rows)

    def matches(self, keyword: str) -> set[str]:
        """The arXiv ids whose text matches `keyword` as /search would understand it."""
        try:
            match = build_match(keyword)
        except EmptyQuery:
            return set()
        rows = self._conn.execute("SELECT rowid FROM k WHERE k MATCH ?", (match,)).fetchall()
        return {self._ids[r[0]] for r in rows}

    def close(self) -> None:
        """Free the index."""
        self._conn.close()
