"""Daily posts end to end: a new day on the digest server, the poll, one post per feed at its local time."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from tests.bot.conftest import both_engines
from tests.bot.delivery.conftest import JSONL_DAY, MARKDOWN_DAY, DailyWorld, start_daily_world
from tests.botworld import eventually

pytestmark = both_engines


async def test_each_feed_gets_exactly_one_post_at_its_local_time(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    everything = fake.add_channel(world.guild, "all-papers")
    vision = fake.add_channel(world.guild, "vision")
    finance = fake.add_channel(world.guild, "finance")
    await world.bot.start()
    for channel, options in (
        (everything, {"time": "06:00"}),
        (vision, {"categories": "cs.CV", "time": "09:00", "timezone": "Europe/Berlin"}),
        (finance, {"categories": "q-fin.ST", "time": "07:00"}),
    ):
        reply = await world.run(world.owner, "feed", {"channel": channel, **options}, subcommand="add")
        assert reply.ephemeral and reply.content.startswith("Added the feed"), reply.content

    # 05:00 UTC: the day appears on the data branch; the poll ingests it; nothing is due yet.
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    await eventually(lambda: daily.server.count("2026-03-02_AI_enhanced_Chinese.jsonl", 304) >= 2)
    assert daily.server.count("2026-03-02_AI_enhanced_Chinese.jsonl", 200) == 1  # conditional GET afterwards
    # Every file of the day is asked for on every poll (raw JSONL, markdown, AI JSONL); absent ones answer 404.
    assert daily.server.count("2026-03-02.md", 404) >= 2 and daily.server.count("2026-03-02.jsonl", 404) >= 2
    assert fake.channel_messages(everything) == []

    # 06:00 UTC: the all-categories feed posts.
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(everything.id) == "done")
    assert vision.id not in daily.delivery_states()
    headers = daily.headers(everything)
    assert len(headers) == 1
    header = headers[0].embeds[0]
    assert header["title"] == "arXiv digest · 2026-03-02 (Mon)"
    assert header["description"].startswith("**213 new papers**")
    assert "2026-03-02_AI_enhanced_Chinese.jsonl" in header["description"]  # the source link
    assert headers[0].allowed_mentions == {"parse": []}
    parts = daily.thread_messages(everything)
    assert len(daily.fake.threads_of(everything)) == 1
    linked = daily.linked_ids(parts)
    assert sorted(linked) == sorted(daily.papers_of_day("2026-03-02"))  # every paper once, none twice
    assert all(m.allowed_mentions == {"parse": []} for m in parts)

    # 08:00 UTC is 09:00 in Berlin: the cs.CV feed posts its papers only; finance has none.
    daily.clock.set("2026-03-02T07:59:00+00:00")
    await eventually(lambda: daily.delivery_states().get(finance.id) == "skipped")
    assert daily.fake.channel_messages(vision) == []
    daily.clock.set("2026-03-02T08:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(vision.id) == "done")
    vision_ids = daily.linked_ids(daily.thread_messages(vision))
    assert sorted(vision_ids) == sorted(daily.papers_of_day("2026-03-02", "cs.CV"))
    assert daily.headers(vision)[0].embeds[0]["description"].startswith(f"**{len(vision_ids)} papers** in the categories this channel follows (213")
    assert daily.fake.channel_messages(finance) == []

    # The next morning nothing new has appeared: nothing is posted again.
    daily.clock.set("2026-03-03T09:30:00+00:00")
    polls = len(daily.rows("SELECT id FROM poll_runs"))
    await eventually(lambda: len(daily.rows("SELECT id FROM poll_runs")) >= polls + 3)
    assert len(daily.headers(everything)) == 1 and len(daily.headers(vision)) == 1

    # The day's markdown appears late (10:00 UTC, after both post times): posted at once, once.
    daily.clock.set("2026-03-03T10:00:00+00:00")
    daily.server.publish("2026-03-03.md", MARKDOWN_DAY)
    await eventually(lambda: daily.delivery_states().get(everything.id) == "done,done")
    await eventually(lambda: daily.delivery_states().get(vision.id) == "done,done")
    assert [h.embeds[0]["title"] for h in daily.headers(everything)] == [
        "arXiv digest · 2026-03-02 (Mon)", "arXiv digest · 2026-03-03 (Tue)",
    ]
    assert fake.duplicate_nonces == 0
    await world.bot.stop()
    log = world.bot.log()
    assert "poll of data branch" in log and "posted to channel" in log
    assert fake.token not in log


async def test_downtime_catch_up_posts_once_not_once_per_missed_tick(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    channel = fake.add_channel(world.guild, "digest")
    await world.bot.start()
    await world.run(world.owner, "feed", {"channel": channel, "time": "06:00"}, subcommand="add")
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    assert await world.bot.stop() == 0
    # Down from 05:00 to 11:00: the 06:00 post was missed while the bot was away.
    daily.clock.set("2026-03-02T11:00:00+00:00")
    await world.bot.start()
    await eventually(lambda: daily.delivery_states().get(channel.id) == "done")
    assert len(daily.headers(channel)) == 1
    assert await world.bot.stop(signal.SIGINT) == 0
    daily.clock.set("2026-03-02T12:00:00+00:00")
    await world.bot.start()
    polls = len(daily.rows("SELECT id FROM poll_runs"))
    await eventually(lambda: len(daily.rows("SELECT id FROM poll_runs")) >= polls + 2)
    assert len(daily.headers(channel)) == 1


async def test_nine_in_berlin_is_nine_local_on_both_sides_of_the_spring_change(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    channel = fake.add_channel(world.guild, "berlin")
    daily.clock.set("2026-03-27T05:00:00+00:00")
    await world.bot.start()
    reply = await world.run(world.owner, "feed", {"channel": channel, "time": "09:00", "timezone": "Europe/Berlin"}, subcommand="add")
    assert "Next post time: 2026-03-27 09:00 Europe/Berlin" in reply.content

    # Saturday 28 March: Berlin is on CET (UTC+1), so 09:00 local is 08:00 UTC.
    daily.clock.set("2026-03-28T05:00:00+00:00")
    daily.server.publish("2026-03-28_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: "2026-03-28" in daily.digest_dates())
    daily.clock.set("2026-03-28T07:59:30+00:00")
    polls = len(daily.rows("SELECT id FROM poll_runs"))
    await eventually(lambda: len(daily.rows("SELECT id FROM poll_runs")) >= polls + 2)
    assert daily.headers(channel) == []
    daily.clock.set("2026-03-28T08:00:00+00:00")
    await eventually(lambda: len(daily.headers(channel)) == 1)

    # Monday 30 March, after the change to CEST (UTC+2): 09:00 local is 07:00 UTC.
    daily.clock.set("2026-03-30T05:00:00+00:00")
    daily.server.publish("2026-03-30.md", MARKDOWN_DAY)
    await eventually(lambda: "2026-03-30" in daily.digest_dates())
    daily.clock.set("2026-03-30T06:59:30+00:00")
    polls = len(daily.rows("SELECT id FROM poll_runs"))
    await eventually(lambda: len(daily.rows("SELECT id FROM poll_runs")) >= polls + 2)
    assert len(daily.headers(channel)) == 1
    daily.clock.set("2026-03-30T07:00:00+00:00")
    await eventually(lambda: len(daily.headers(channel)) == 2)
    arrival = daily.rows("SELECT l.updated_at FROM deliveries l JOIN digests d ON d.id = l.digest_id WHERE d.date = '2026-03-30'")
    assert arrival == [("2026-03-30T07:00:00+00:00",)]


async def test_a_local_folder_source_is_watched_and_a_broken_file_is_reported(tmp_path: Path, daily_db: Path | str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    daily = await start_daily_world(tmp_path, clock_start="2026-03-02T05:00:00+00:00", db=daily_db,
                                    env={"DIGESTBOT_SOURCE_DIR": str(folder), "DIGESTBOT_SOURCE_URL": "off"})
    world, fake = daily.world, daily.fake
    try:
        channel = fake.add_channel(world.guild, "local")
        await world.bot.start()
        await world.run(world.owner, "feed", {"channel": channel, "time": "06:00"}, subcommand="add")
        # Files appear the way a sync tool writes them: under another name, then renamed.
        partial = folder / "incoming.part"
        partial.write_bytes(JSONL_DAY)
        partial.rename(folder / "2026-03-02_AI_enhanced_Chinese.jsonl")
        (folder / "2026-03-01.md").write_bytes(b"\x00\x01 not a digest")
        await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
        await eventually(lambda: any("looks like a binary file" in str(r[0]) for r in daily.rows("SELECT summary FROM poll_runs")))
        daily.clock.set("2026-03-02T06:00:00+00:00")
        await eventually(lambda: daily.delivery_states().get(channel.id) == "done")
        assert sorted(daily.linked_ids(daily.thread_messages(channel))) == sorted(daily.papers_of_day("2026-03-02"))
        log = world.bot.log()
        assert re.search(r"WARNING bot.sources.poller: poll of folder .*2026-03-01.md: looks like a binary file", log)
        # A broken file is reported once, when it appears, not at every poll.
        summaries = [str(r[0]) for r in daily.rows("SELECT summary FROM poll_runs")]
        assert sum("looks like a binary file" in summary for summary in summaries) == 1
    finally:
        await world.bot.stop()
        await fake.stop()
        await daily.server.stop()
