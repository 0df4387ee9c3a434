"""/search through the real bot process and the fake Discord."""

from __future__ import annotations

import pytest

from tests.botworld import World
from tests.commands.conftest import both_engines

pytestmark = [pytest.mark.asyncio(loop_scope="module"), both_engines]


async def test_search_answers_with_ranked_results_and_paging_controls(world: World) -> None:
    reply = await world.run(world.member, "search", {"query": "non-Markov conversational image generation"})
    assert not reply.ephemeral
    embed = reply.embeds[0]
    assert "non-Markov" in embed["description"]
    assert embed["description"].index("2601.20911") < 400  # best match first, linked
    assert "Page 1 of" in embed["footer"]["text"]
    ids = reply.custom_ids()
    assert len(ids) == 3  # the paper menu, Previous, Next


async def test_paging_forward_and_back_and_opening_a_paper(world: World) -> None:
    reply = await world.run(world.member, "search", {"query": "diffusion"})
    first_page = reply.embeds[0]["description"]
    menu, previous, following = reply.custom_ids()
    second = await world.click(world.member, reply, following)
    assert second.embeds[0]["footer"]["text"].startswith("Page 2 of")
    assert second.embeds[0]["description"] != first_page
    assert "**6.**" in second.embeds[0]["description"]
    back = await world.click(world.member, second, previous)
    assert back.embeds[0]["description"] == first_page
    options = back.message.components[0]["components"][0]["options"]
    opened = await world.click(world.member, back, menu, [options[0]["value"]])
    assert opened.ephemeral
    assert opened.embeds[0]["footer"]["text"] == f"arXiv:{options[0]['value']}"
    assert opened.embeds[0]["url"].endswith(options[0]["value"])


async def test_a_strangers_click_is_refused(world: World) -> None:
    reply = await world.run(world.member, "search", {"query": "robot"})
    refused = await world.click(world.stranger, reply, reply.custom_ids()[2])
    assert refused.ephemeral
    assert "belong to bob" in refused.content
    assert reply.message is not None and reply.message.edits == 0


async def test_chinese_search(world: World) -> None:
    reply = await world.run(world.member, "search", {"query": "扩散模型"})
    description = reply.embeds[0]["description"]
    assert "扩散模型" in description
    assert "papers" in description.split("\n")[0]


@pytest.mark.parametrize("query", ['"unbalanced', "C++ AND (", "NOT", "-", "title:x^2 NEAR/3", "<@123> @everyone"])
async def test_hostile_query_text_gets_a_sentence_not_an_error(world: World, query: str) -> None:
    reply = await world.run(world.member, "search", {"query": query})
    assert "Something went wrong" not in reply.text
    if reply.ephemeral:
        assert "No papers match" in reply.content or "at least one word" in reply.content


async def test_no_results_says_what_was_searched(world: World) -> None:
    reply = await world.run(world.member, "search", {"query": "zzyzx quokka", "category": "cs.CV", "since": "2026-01-01"})
    assert reply.ephemeral
    assert "No papers match **zzyzx quokka** in `cs.CV` since 2026-01-01" in reply.content


async def test_filters_narrow_the_results(world: World) -> None:
    reply = await world.run(world.member, "search", {"query": "Moxin", "category": "cs.CV"})
    assert "2512.22208" in reply.embeds[0]["description"]
    bad = await world.run(world.member, "search", {"query": "Moxin", "category": "nope.XX"})
    assert bad.ephemeral and "No papers in category `nope.XX`" in bad.content
    date = await world.run(world.member, "search", {"query": "Moxin", "since": "someday"})
    assert date.ephemeral and "not a date" in date.content


async def test_category_autocomplete_answers_from_stored_categories(world: World) -> None:
    choices = await world.autocomplete(world.member, "search", {"query": "x", "category": "vision"}, "category")
    assert choices and choices[0]["value"] == "cs.CV"
    assert "Computer Vision" in str(choices[0]["name"])
    everything = await world.autocomplete(world.member, "search", {"query": "x", "category": ""}, "category")
    assert [c["value"] for c in everything][:4] == ["cs.CV", "cs.LG", "cs.AI", "cs.CL"]  # largest first
    assert len(everything) == 25  # 42 categories stored; Discord shows at most 25


async def test_replies_never_ping(world: World) -> None:
    await world.run(world.member, "search", {"query": "@everyone"})
    callbacks = [r for r in world.fake.requests if r.path.endswith("/callback") and r.body["type"] == 4]
    assert callbacks
    for request in callbacks:
        assert request.body["data"]["allowed_mentions"] == {"parse": []}
