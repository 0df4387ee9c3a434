"""Keyword filters as typed: splitting, checking, and what they keep."""

from __future__ import annotations

import pytest

from bot.core.errors import InvalidInput
from bot.ranking.filters import parse_filter, split_filter


def test_commas_split_terms_but_not_phrases() -> None:
    assert split_filter('survey,  benchmark , "large language model, LLM", 综述') == [
        "survey", "benchmark", '"large language model, LLM"', "综述"]
    assert split_filter("") == [] and split_filter(None) == [] and split_filter(" , ,") == []


@pytest.mark.parametrize(("text", "message"), [
    ("survey, ***", "`***` in `exclude` has nothing to match"),
    (", ".join(f"w{n}" for n in range(11)), "takes at most 10 terms"),
    ("x" * 101, "longer than 100 characters"),
])
def test_bad_terms_are_named_with_the_option(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("*", r"\*")):
        parse_filter(text, "exclude")
