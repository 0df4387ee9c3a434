"""/stats and /status through the real bot process and the fake Discord."""

from __future__ import annotations

import json

import pytest

from tests.botworld import World, query
from tests.pngtext import png_info

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_stats_attaches_a_png_whose_data_matches_the_database(world: World) -> None:
    record = await world.send(world.member, "stats", {"days": 365})
    reply = await world.fake.reply(record)
    assert reply.message is not None and len(reply.message.files) == 1
    png = reply.message.files[0]
    width, height, texts = png_info(png)
    assert (width, height) == (1000, 480) and 10_000 < len(png) < 1_000_000
    data = json.loads(texts["digestbot:data"])
    assert data["days"][0] == "2025-02-07" and data["days"][-1] == "2026-02-06" and len(data["days"]) == 365
    rows = query(world.bot.db_path, "SELECT d.date, count(*) FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id GROUP BY d.date")
    per_day = dict(rows)
    for index, day in enumerate(data["days"]):
        assert sum(values[index] for values in data["series"].values()) == per_day.get(day, 0), day
    embed = reply.embeds[0]
    assert embed["image"]["url"] == "attachment://stats.png"
    assert embed["description"].startswith(f"**{sum(per_day.values()):,} papers** in 5 digests")
    top_word, top_count = data["keywords"][0]
    assert f"{top_word} ({top_count})" in embed["description"]


async def test_stats_for_one_category(world: World) -> None:
    empty = await world.fake.reply(await world.send(world.member, "stats", {"days": 7, "category": "cs.MA"}))
    assert empty.ephemeral and empty.content == "No papers in cs.MA between 2026-01-31 and 2026-02-06; try more days."
    record = await world.send(world.member, "stats", {"days": 14, "category": "cs.MA"})
    reply = await world.fake.reply(record)
    assert reply.message is not None
    data = json.loads(png_info(reply.message.files[0])[2]["digestbot:data"])
    assert list(data["series"]) == ["cs.MA"]
    assert sum(data["series"]["cs.MA"]) == query(world.bot.db_path,
        "SELECT count(*) FROM digest_papers dp JOIN digests d ON d.id = dp.digest_id JOIN paper_categories pc ON pc.paper_id = dp.paper_id "
        "WHERE pc.category = 'cs.MA' AND d.date BETWEEN '2026-01-24' AND '2026-02-06'")[0][0] >= 3


async def test_status_shows_a_failing_feeds_reason_and_dm_failures(world: World) -> None:
    channel = world.fake.add_channel(world.guild, "status-check")
    await world.fake.gateway.dispatch("CHANNEL_CREATE", channel.payload())
    await world.run(world.owner, "feed", {"channel": channel, "categories": "cs.RO"}, subcommand="add")
    world.fake.fail("POST", rf"^/channels/{channel.id}/messages$", 403, times=None, code=50001)
    record = await world.send(world.owner, "feed", {"channel": channel}, subcommand="send-now")
    sent = await world.fake.reply(record)
    assert "Discord refused the post: the bot cannot see the channel (Missing Access)" in sent.content

    refused = await world.run(world.member, "status")
    assert refused.ephemeral and "Manage Server" in refused.content
    status = await world.run(world.owner, "status")
    assert status.ephemeral
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert fields["Source"] == "Polling is off (no source configured)."
    assert fields["Latest digest"].startswith("2026-02-06: 402 papers, arrived <t:")
    feeds = next(v for k, v in fields.items() if k.startswith("Feeds in this server"))
    assert f"<#{channel.id}> · `cs.RO`" in feeds and "failing since" in feeds and "Missing Access" in feeds
    assert "last delivery: digest of 2026-02-06, failed" in feeds
    assert fields["Direct messages"].startswith("0 member(s) cannot receive DMs")
