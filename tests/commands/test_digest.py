"""/digest, /categories and /about through the real bot process and the fake Discord."""

from __future__ import annotations

import pytest

from tests.botworld import World

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_digest_defaults_to_the_latest_day_with_counts_and_pages(world: World) -> None:
    reply = await world.run(world.member, "digest")
    embed = reply.embeds[0]
    assert embed["title"].startswith("arXiv digest of 2026-02-06")
    assert embed["description"].startswith("**402 papers**: `cs.CV` 107 · `eess.IV` 7")
    assert "**1.** [SIDeR" in embed["description"]
    assert embed["footer"]["text"].startswith("Page 1 of 51")
    following = await world.click(world.member, reply, reply.button("Next"))
    assert following.embeds[0]["footer"]["text"].startswith("Page 2 of 51")
    assert "**9.**" in following.embeds[0]["description"]


async def test_digest_of_a_date_and_category(world: World) -> None:
    reply = await world.run(world.member, "digest", {"date": "2025-12-31", "category": "cs.GR"})
    embed = reply.embeds[0]
    assert "2025-12-31" in embed["title"] and "cs.GR (Graphics)" in embed["title"]
    # the one paper listed under cs.GR, plus those cross-listed in cs.GR from other sections
    assert embed["description"].startswith("**")
    assert "`cs.GR`" in embed["description"]


async def test_digest_of_a_missing_day_lists_the_days_there_are(world: World) -> None:
    reply = await world.run(world.member, "digest", {"date": "2024-01-01"})
    assert reply.ephemeral
    assert "There is no digest for 2024-01-01. Latest digests: 2026-02-06, 2026-01-29" in reply.content
    today = await world.run(world.member, "digest", {"date": "today"})
    assert today.ephemeral and "There is no digest for" in today.content


async def test_categories_lists_names_and_counts(world: World) -> None:
    reply = await world.run(world.member, "categories")
    text = reply.embeds[0]["description"]
    assert text.splitlines()[0].startswith("`cs.CV` Computer Vision and Pattern Recognition · **")
    assert "`eess.IV` Image and Video Processing" in text


async def test_about_shows_what_is_stored(world: World) -> None:
    reply = await world.run(world.member, "about")
    assert reply.ephemeral
    text = reply.embeds[0]["description"]
    assert "**1,319** papers in **5** digests · latest digest: **2026-02-06**" in text
    assert "/search" in text and "[Full guide](" in text
