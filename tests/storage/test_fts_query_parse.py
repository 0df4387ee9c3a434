"""The engine-neutral parse both search engines read: filters as column phrases, nothing to search, the budget."""

from __future__ import annotations

import pytest

from storage.fts_query import EmptyQuery, QueryTooComplex, build_match, parse, to_fts5


@pytest.mark.parametrize("typed", ["", "   ", "***", "-video", '""', "()", "^:", "AND OR NOT", "\u19b0"])
def test_nothing_to_search_for_is_an_empty_query(typed: str) -> None:
    with pytest.raises(EmptyQuery):
        parse(typed)


def test_too_many_prefixes_are_refused_by_the_parse_itself() -> None:
    with pytest.raises(QueryTooComplex):
        parse("diffus* transfor* genera*")


@pytest.mark.parametrize("typed", ["diffusion model", "GPT-4o", "a OR b -c", "扩散模型 幻", "dif* tra*"])
def test_filters_are_phrases_restricted_to_their_column(typed: str) -> None:
    query = parse(typed, author="Zhang", category="cs.CV")
    assert to_fts5(query) == build_match(typed, author="Zhang", category="cs.CV")
    assert [g[0].tokens for g in query.groups][-2:] == [("zhang",), ("catcscv",)]
    assert [g[0].column for g in query.groups][-2:] == ["authors", "categories"]


def test_a_quoted_phrase_is_never_a_prefix_and_one_chinese_character_is() -> None:
    assert not parse('"large lang"*').groups[0][0].prefix
    assert parse("幻").groups[0][0].prefix
    assert parse("扩散模型").groups[0][0].tokens == ("扩散", "散模", "模型")
