"""Placeholders translated for psycopg, and nothing else (table-driven)."""

from __future__ import annotations

import pytest

from storage.postgres.dialect import to_pyformat


@pytest.mark.parametrize(("sqlite", "postgres"), [
    ("SELECT * FROM t WHERE a = ?", "SELECT * FROM t WHERE a = %s"),
    ("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES (%s, %s)"),
    ("SELECT * FROM t WHERE d BETWEEN :since AND :until", "SELECT * FROM t WHERE d BETWEEN %(since)s AND %(until)s"),
    ("SELECT 'a?b', ':not' FROM t WHERE x LIKE 'x%'", "SELECT 'a?b', ':not' FROM t WHERE x LIKE 'x%%'"),
    ("SELECT 'it''s ?' , ?", "SELECT 'it''s ?' , %s"),
    ("SELECT value::int FROM meta WHERE key = ?", "SELECT value::int FROM meta WHERE key = %s"),
    ("SELECT a % 2 FROM t", "SELECT a %% 2 FROM t"),
    ('SELECT "odd?col" FROM t', 'SELECT "odd?col" FROM t'),
    ("SELECT to_tsquery('simple', :q)", "SELECT to_tsquery('simple', %(q)s)"),
])
def test_placeholders_become_psycopgs_and_literals_stay(sqlite: str, postgres: str) -> None:
    assert to_pyformat(sqlite) == postgres
