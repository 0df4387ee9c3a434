"""/feed commands through the real bot process and the fake Discord."""

from __future__ import annotations

import pytest

from tests.botworld import World, query
from tests.fakediscord.model import CREATE_PUBLIC_THREADS, EMBED_LINKS

pytestmark = pytest.mark.asyncio(loop_scope="module")


def feed_rows(world: World) -> list[tuple[object, ...]]:
    return query(world.bot.db_path, "SELECT channel_id, categories, post_time, timezone, paused FROM channel_feeds ORDER BY id")


async def test_a_member_without_manage_server_is_refused_and_nothing_changes(world: World) -> None:
    before = feed_rows(world)
    reply = await world.run(world.member, "feed", {"channel": world.channel}, subcommand="add")
    assert reply.ephemeral
    assert reply.content == "You need the Manage Server permission to do that."
    assert feed_rows(world) == before
    listing = await world.run(world.member, "feed", subcommand="list")
    assert "Manage Server" in listing.content


async def test_add_list_pause_resume_remove(world: World) -> None:
    channel = world.fake.add_channel(world.guild, "cv-papers")
    # The bot only learns about channels from the gateway; a channel made after start is unknown to its cache.
    await world.fake.gateway.dispatch("CHANNEL_CREATE", channel.payload())
    reply = await world.run(world.owner, "feed", {"channel": channel, "categories": "cs.cv, cs.LG", "time": "07:30",
                                                  "timezone": "Asia/Shanghai"}, subcommand="add")
    assert reply.ephemeral
    assert reply.content.startswith(f"Added the feed for <#{channel.id}>: `cs.CV`, `cs.LG`, every day at 07:30 Asia/Shanghai.")
    assert (channel.id, '["cs.CV", "cs.LG"]', "07:30", "Asia/Shanghai", 0) in feed_rows(world)

    changed = await world.run(world.owner, "feed", {"channel": channel, "time": "08:00"}, subcommand="add")
    assert changed.content.startswith(f"Updated the feed for <#{channel.id}>: all categories, every day at 08:00 UTC.")

    listing = await world.run(world.owner, "feed", subcommand="list")
    assert f"<#{channel.id}> · all categories · 08:00 UTC · active" in listing.embeds[0]["description"]

    paused = await world.run(world.owner, "feed", {"channel": channel}, subcommand="pause")
    assert paused.content.startswith("Paused the feed")
    listing = await world.run(world.owner, "feed", subcommand="list")
    assert f"<#{channel.id}> · all categories · 08:00 UTC · paused" in listing.embeds[0]["description"]
    resumed = await world.run(world.owner, "feed", {"channel": channel}, subcommand="resume")
    assert resumed.content.startswith("Resumed the feed")

    removed = await world.run(world.owner, "feed", {"channel": channel}, subcommand="remove")
    assert removed.content.startswith("Removed the feed")
    assert all(row[0] != channel.id for row in feed_rows(world))
    again = await world.run(world.owner, "feed", {"channel": channel}, subcommand="remove")
    assert again.ephemeral and again.content == f"<#{channel.id}> has no feed."


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time": "9am"}, "`9am` is not a time; use HH:MM"),
        ({"time": "25:00"}, "`25:00` is not a time"),
        ({"timezone": "Mars/Base"}, "`Mars/Base` is not a time zone; use an IANA name"),
        ({"categories": "computer vision"}, "`computer` is not an arXiv category"),
    ],
)
async def test_bad_options_are_named(world: World, options: dict[str, object], message: str) -> None:
    before = feed_rows(world)
    reply = await world.run(world.owner, "feed", {"channel": world.channel, **options}, subcommand="add")
    assert reply.ephemeral and message in reply.content
    assert feed_rows(world) == before


async def test_add_names_the_permissions_the_bot_lacks(world: World) -> None:
    locked = world.fake.add_channel(world.guild, "locked", deny_bot=EMBED_LINKS | CREATE_PUBLIC_THREADS)
    await world.fake.gateway.dispatch("CHANNEL_CREATE", locked.payload())
    reply = await world.run(world.owner, "feed", {"channel": locked}, subcommand="add")
    assert reply.ephemeral
    assert f"I cannot post digests in <#{locked.id}>: I am missing Embed Links, Create Public Threads there." in reply.content
    assert all(row[0] != locked.id for row in feed_rows(world))


async def test_category_autocomplete_completes_the_last_item(world: World) -> None:
    choices = await world.autocomplete(world.owner, "feed", {"channel": world.channel, "categories": "cs.CV, robot"},
                                       "categories", subcommand="add")
    assert [c["value"] for c in choices] == ["cs.CV, cs.RO"]


async def test_preview_and_send_now(world: World) -> None:
    moderator = world.fake.add_user("dana")
    role = world.fake.admin_role(world.guild)
    await world.fake.gateway.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(world.guild.id), "role": role.payload()})
    world.fake.add_member(world.guild, moderator, role)
    channel = world.fake.add_channel(world.guild, "robotics")
    await world.fake.gateway.dispatch("GUILD_MEMBER_ADD", {**world.guild.member_payload(moderator), "guild_id": str(world.guild.id)})
    await world.fake.gateway.dispatch("CHANNEL_CREATE", channel.payload())
    added = await world.run(moderator, "feed", {"channel": channel, "categories": "cs.RO"}, subcommand="add")
    assert added.content.startswith("Added"), added.content

    preview = await world.run(moderator, "feed", {"channel": channel}, subcommand="preview")
    assert preview.ephemeral
    assert preview.embeds[0]["title"] == "arXiv digest · 2026-02-06 (Fri)"
    assert preview.embeds[0]["description"].startswith("**")
    assert world.fake.channel_messages(channel) == []

    record = await world.send(moderator, "feed", {"channel": channel}, subcommand="send-now")
    reply = await world.fake.reply(record)
    assert reply.ephemeral and reply.content == f"Posted the digest of 2026-02-06 in <#{channel.id}>."
    headers = world.fake.channel_messages(channel)
    assert len(headers) == 1 and headers[0].embeds[0]["title"] == "arXiv digest · 2026-02-06 (Fri)"
    again = await world.run(moderator, "feed", {"channel": channel}, subcommand="send-now")
    assert "was already posted" in again.content
    assert len(world.fake.channel_messages(channel)) == 1
