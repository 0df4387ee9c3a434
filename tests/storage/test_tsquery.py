"""The PostgreSQL emitter of the query language: the same parsed query as FTS5's, written as tsquery text."""

from __future__ import annotations

import pytest

from storage.fts_query import (
    EmptyQuery,
    QueryTooComplex,
    build_match,
    build_tsquery,
    parse,
    to_fts5,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("diffusion", "'diffusion'"),
        ("Diffusion MODEL", "'diffusion' & 'model'"),
        ('"diffusion model"', "( 'diffusion' <-> 'model' )"),
        ("GPT-4o", "( 'gpt' <-> '4o' )"),
        ("self-supervised", "( 'self' <-> 'supervised' )"),
        ("diffus*", "'diffus':*"),
        ('"large lang"*', "( 'large' <-> 'lang' )"),  # a quoted phrase is never a prefix, as in FTS5
        ("large lang*", "'large' & 'lang':*"),
        ("video OR image", "( 'video' | 'image' )"),
        ("video OR image generation", "( 'video' | 'image' ) & 'generation'"),
        ("diffusion -video", "( 'diffusion' ) & !'video'"),
        ("diffusion NOT video -image", "( 'diffusion' ) & !'video' & !'image'"),
        ("diffusion AND video", "'diffusion' & 'video'"),
        ("Ünïcödé École", "'unicode' & 'ecole'"),
        ("扩散模型", "( '扩散' <-> '散模' <-> '模型' )"),
        ("幻觉", "'幻觉'"),
        ("幻", "'幻':*"),
        ("LLM幻觉", "( 'llm' <-> '幻觉' )"),
        ("C++ e.g.", "'c' & ( 'e' <-> 'g' )"),
        ("it's O'Brien's \\x", "( 'it' <-> 's' ) & ( 'o' <-> 'brien' <-> 's' ) & 'x'"),
        ("a:*B & !b | (c) <-> 'd'", "( 'a' <-> 'b' ) & ( 'b' | 'c' ) & 'd'"),  # tsquery syntax is plain text
    ],
)
def test_tsquery_of_each_operator(typed: str, expected: str) -> None:
    assert build_tsquery(typed) == expected


@pytest.mark.parametrize(
    ("typed", "author", "category", "expected"),
    [
        ("agents", "Łajewska", None, "'agents' & 'lajewska':B"),
        ("agents", "Jean-Luc Müller", None, "'agents' & ( 'jean':B <-> 'luc':B <-> 'muller':B )"),
        ("agents", None, "cs.MA", "'agents' & 'catcsma':C"),
        ("agents", None, 'cs.MA" OR x', "'agents' & 'catcsmaorx':C"),
        ("", "Zhang", "cs.CV", "'zhang':B & 'catcscv':C"),
        ("x -y", "Zhang", None, "( 'x' & 'zhang':B ) & !'y'"),
    ],
)
def test_tsquery_filters_are_labelled_columns(typed: str, author: str | None, category: str | None, expected: str) -> None:
    assert build_tsquery(typed, author=author, category=category) == expected


@pytest.mark.parametrize("typed", ["", "   ", "***", "-video", '""', "()", "^:", "AND OR NOT", "\u19b0"])
def test_nothing_to_search_for_is_an_empty_query(typed: str) -> None:
    with pytest.raises(EmptyQuery):
        build_tsquery(typed)


def test_budget_is_the_same_for_both_engines() -> None:
    with pytest.raises(QueryTooComplex):
        build_tsquery("diffus* transfor* genera*")


@pytest.mark.parametrize("typed", ["diffusion model", "GPT-4o", "a OR b -c", "扩散模型 幻", "dif* tra*"])
def test_both_emitters_read_one_parse(typed: str) -> None:
    query = parse(typed, author="Zhang", category="cs.CV")
    assert to_fts5(query) == build_match(typed, author="Zhang", category="cs.CV")
    assert [g[0].tokens for g in query.groups][-2:] == [("zhang",), ("catcscv",)]
    assert [g[0].column for g in query.groups][-2:] == ["authors", "categories"]
