"""/subscribe, /unsubscribe, /subscriptions, /notify and /digest mine through the bot process and the fake."""

from __future__ import annotations

import pytest

from tests.botworld import World, query

pytestmark = pytest.mark.asyncio(loop_scope="module")


def subs_of(world: World, user_id: int) -> list[tuple[object, ...]]:
    return query(world.bot.db_path, "SELECT kind, value FROM subscriptions WHERE user_id = ? ORDER BY id", (user_id,))


async def test_subscribe_each_kind_merge_duplicates_and_list(world: World) -> None:
    user = world.fake.add_user("erin")
    world.fake.add_member(world.guild, user)
    keyword = await world.run(user, "subscribe", {"value": "diffusion"}, subcommand="keyword")
    assert keyword.ephemeral and keyword.content.startswith("Subscribed to keyword: diffusion. Matching papers of each new digest come by DM at 09:00 UTC")
    assert "stored papers match it today" in keyword.content
    again = await world.run(user, "subscribe", {"value": "  Diffusion "}, subcommand="keyword")
    assert again.content.startswith("You already follow keyword: diffusion; nothing changed.")
    author = await world.run(user, "subscribe", {"value": "weronika LAJEWSKA"}, subcommand="author")
    assert "1 stored papers are by weronika LAJEWSKA" in author.content
    category = await world.run(user, "subscribe", {"value": "cs.cv"}, subcommand="category")
    assert category.content.startswith("Subscribed to category: cs.CV.")
    bad = await world.run(user, "subscribe", {"value": "computer"}, subcommand="category")
    assert bad.ephemeral and "is not an arXiv category" in bad.content
    assert subs_of(world, user.id) == [("keyword", "diffusion"), ("author", "weronika LAJEWSKA"), ("category", "cs.CV")]

    listing = await world.run(user, "subscriptions")
    assert listing.ephemeral
    text = listing.embeds[0]["description"]
    assert text.startswith("**1.** author: weronika LAJEWSKA\n**2.** keyword: diffusion\n**3.** category: cs.CV")
    assert "DMs: each new digest at 09:00 UTC" in text
    assert len(listing.custom_ids()) == 3 and all(c.startswith("unsub:") for c in listing.custom_ids())

    # A stranger cannot press someone else's remove buttons.
    refused = await world.click(world.stranger, listing, listing.custom_ids()[1])
    assert refused.ephemeral and "belong to erin" in refused.content
    assert len(subs_of(world, user.id)) == 3

    removed = await world.click(user, listing, listing.custom_ids()[1])
    assert removed.embeds[0]["description"].startswith("Removed keyword: diffusion.")
    assert subs_of(world, user.id) == [("author", "weronika LAJEWSKA"), ("category", "cs.CV")]
    assert len(removed.custom_ids()) == 2


async def test_unsubscribe_autocompletes_only_your_own(world: World) -> None:
    user = world.fake.add_user("frank")
    await world.run(user, "subscribe", {"value": "reinforcement learning"}, subcommand="keyword")
    await world.run(world.member, "subscribe", {"value": "robot"}, subcommand="keyword")
    choices = await world.autocomplete(user, "unsubscribe", {"subscription": "rein"}, "subscription")
    assert [c["name"] for c in choices] == ["keyword: reinforcement learning"]
    mine = await world.autocomplete(user, "unsubscribe", {"subscription": "robot"}, "subscription")
    assert mine == []
    done = await world.run(user, "unsubscribe", {"subscription": str(choices[0]["value"])})
    assert done.content == "Unsubscribed from keyword: reinforcement learning."
    other = await world.run(user, "unsubscribe", {"subscription": "keyword: robot"})
    assert other.ephemeral and "You do not follow that" in other.content
    assert subs_of(world, world.member.id) == [("keyword", "robot")]


async def test_commands_work_in_direct_messages(world: World) -> None:
    user = world.fake.add_user("gina")
    reply = await world.run(user, "subscribe", {"value": "扩散模型"}, subcommand="keyword", in_dm=True)
    assert reply.ephemeral and reply.content.startswith("Subscribed to keyword: 扩散模型.")
    listing = await world.run(user, "subscriptions", in_dm=True)
    assert "keyword: 扩散模型" in listing.embeds[0]["description"]


async def test_the_subscription_limit_is_clear(world: World) -> None:
    user = world.fake.add_user("hank")
    for n in range(50):
        reply = await world.run(user, "subscribe", {"value": f"topic{n}"}, subcommand="keyword")
        assert reply.content.startswith("Subscribed"), reply.content
    over = await world.run(user, "subscribe", {"value": "one more"}, subcommand="keyword")
    assert over.ephemeral and over.content.startswith("You already follow 50 things, the most allowed.")
    assert len(subs_of(world, user.id)) == 50
    listing = await world.run(user, "subscriptions")
    assert listing.embeds[0]["footer"]["text"].startswith("50 of 50 · page 1 of 5")
    following = await world.click(user, listing, listing.button("Next"))
    assert following.embeds[0]["footer"]["text"].startswith("50 of 50 · page 2 of 5")
    assert following.embeds[0]["description"].startswith("**11.** keyword: topic10")


async def test_notify_time_pause_resume(world: World) -> None:
    user = world.fake.add_user("iris")
    bad = await world.run(user, "notify", {"time": "7.30"}, subcommand="time")
    assert bad.ephemeral and "is not a time" in bad.content
    timed = await world.run(user, "notify", {"time": "07:30", "timezone": "Europe/Berlin"}, subcommand="time")
    assert timed.content.startswith("Your DMs now arrive at 07:30 Europe/Berlin")
    paused = await world.run(user, "notify", subcommand="pause")
    assert paused.content.startswith("Paused your DMs")
    listing = await world.run(user, "subscriptions")
    assert "DMs: **paused** (at 07:30 Europe/Berlin" in listing.embeds[0]["description"]
    resumed = await world.run(user, "notify", subcommand="resume")
    assert resumed.content == "Resumed your DMs."
    assert query(world.bot.db_path, "SELECT post_time, timezone, paused FROM user_settings WHERE user_id = ?", (user.id,)) == [("07:30", "Europe/Berlin", 0)]


async def test_digest_mine_lists_your_matches_with_reasons(world: World) -> None:
    user = world.fake.add_user("jack")
    none = await world.run(user, "digest", {"mine": True})
    assert none.ephemeral and none.content.startswith("You follow nothing yet.")
    await world.run(user, "subscribe", {"value": "cs.MA"}, subcommand="category")
    await world.run(user, "subscribe", {"value": '"multi-agent"'}, subcommand="keyword")
    reply = await world.run(user, "digest", {"mine": True, "date": "2026-01-29"})
    assert reply.ephemeral
    embed = reply.embeds[0]
    assert embed["title"] == "Your matches in the digest of 2026-01-29 (Thu)"
    assert "*keyword: \"multi-agent\"" in embed["description"] or "*category: cs.MA" in embed["description"]
    total = int(embed["description"].split("**")[1].split()[0])
    assert total >= 3  # the three cs.MA papers at least
