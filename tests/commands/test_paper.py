"""/paper through the real bot process and the fake Discord."""

from __future__ import annotations

import pytest

from tests.botworld import World

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(
    "given",
    ["2601.20911", "2601.20911v2", "arXiv:2601.20911", "https://arxiv.org/abs/2601.20911v1", "https://arxiv.org/pdf/2601.20911"],
)
async def test_every_id_form_opens_the_paper(world: World, given: str) -> None:
    reply = await world.run(world.member, "paper", {"id": given})
    embed = reply.embeds[0]
    assert embed["title"].startswith("Non-Markov Multi-Round Conversational Image Generation")
    assert embed["url"] == "https://arxiv.org/abs/2601.20911"
    assert embed["footer"]["text"] == "arXiv:2601.20911"


async def test_the_paper_shows_everything_a_reader_needs(world: World) -> None:
    reply = await world.run(world.member, "paper", {"id": "2512.22208"})
    embed = reply.embeds[0]
    names = [f["name"] for f in embed["fields"]]
    assert names == ["Motivation", "Method", "Result", "Conclusion", "Abstract", "Links"]
    assert "Pu Zhao" in embed["description"]
    assert "`cs.CL` `cs.CV` `cs.LG`" in embed["description"]
    assert "2025-12-31" in embed["description"]
    assert "TL;DR" in embed["description"] and "Moxin 7B" in embed["description"]
    links = embed["fields"][-1]["value"]
    assert "[PDF](https://arxiv.org/pdf/2512.22208)" in links


async def test_unknown_and_invalid_ids_get_a_sentence(world: World) -> None:
    unknown = await world.run(world.member, "paper", {"id": "2601.99999"})
    assert unknown.ephemeral
    assert "2601.99999 is not in any stored digest" in unknown.content
    invalid = await world.run(world.member, "paper", {"id": "hello world"})
    assert invalid.ephemeral and "is not an arXiv id" in invalid.content
