"""The query builder: what people type becomes FTS5 text that cannot be syntax."""

from __future__ import annotations

import pytest

from storage.fts_query import EmptyQuery, QueryTooComplex, build_match


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("diffusion", '"diffusion"'),
        ("diffusion model", '"diffusion" AND "model"'),
        ('"diffusion model"', '"diffusion model"'),
        ("GPT-4o", '"GPT 4o"'),
        ("self-supervised", '"self supervised"'),
        ("diffus*", '"diffus"*'),
        ("video OR image", '("video" OR "image")'),
        ("video OR image generation", '("video" OR "image") AND "generation"'),
        ("diffusion -video", '("diffusion") NOT "video"'),
        ("diffusion NOT video", '("diffusion") NOT "video"'),
        ("diffusion AND video", '"diffusion" AND "video"'),
        ("扩散模型", '"扩散 散模 模型"'),
        ("幻觉", '"幻觉"'),
        ("幻", '"幻"*'),
        ("LLM幻觉", '"LLM 幻觉"'),
    ],
)
def test_supported_operators(typed: str, expected: str) -> None:
    assert build_match(typed) == expected


def test_author_filter_is_a_column_phrase() -> None:
    assert build_match("agents", author="Łajewska") == '"agents" AND authors : "lajewska"'


@pytest.mark.parametrize("typed", ["", "   ", "***", "-", "- -", "NOT", "AND OR NOT", "-video", '""', "()", "^:"])
def test_nothing_to_search_for_is_an_empty_query(typed: str) -> None:
    with pytest.raises(EmptyQuery):
        build_match(typed)


def test_category_filter_is_a_single_token_in_its_own_column() -> None:
    assert build_match("agents", category="cs.MA") == '"agents" AND categories : catcsma'
    assert build_match("agents", category='cs.MA" OR x') == '"agents" AND categories : catcsmaorx'


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        (" ".join(["a*"] * 100), "at least 3 letters before the *"),
        ("ab*", "at least 3 letters before the *"),
        ("diffus* transfor* genera*", "at most 2 prefix searches"),
        (" ".join(f"word{n}" for n in range(13)), "at most 12 words or phrases"),
        ('"' + " ".join(f"w{n}" for n in range(40)) + '"', "too long (40 words"),
        ("扩散模型" * 12, "counting each pair of Chinese characters"),
    ],
)
def test_queries_past_the_budget_are_refused_with_what_to_change(typed: str, says: str) -> None:
    with pytest.raises(QueryTooComplex) as caught:
        build_match(typed)
    assert says in caught.value.message


def test_queries_within_the_budget_still_work() -> None:
    assert build_match("dif* tra*") == '"dif"* AND "tra"*'
    assert build_match(" ".join(f"word{n}" for n in range(12))).count("AND") == 11
    assert build_match("扩*") == '"扩"*'  # one Chinese character is a word's worth of text
