"""Alerts end to end: a feed turning 403 tells its creator once; a source failing for long tells the owner once."""

from __future__ import annotations

from tests.bot.delivery.conftest import JSONL_DAY, MARKDOWN_DAY, DailyWorld, start_daily_world
from tests.botworld import eventually
from tests.fakediscord import MANAGE_GUILD


async def test_a_feed_that_turns_403_tells_its_creator_once_and_the_system_channel(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    news = fake.add_channel(world.guild, "server-news")
    world.guild.system_channel_id = news.id
    forbidden = fake.add_channel(world.guild, "forbidden")
    calm = fake.add_channel(world.guild, "calm")
    await world.bot.start()
    for channel in (forbidden, calm):
        reply = await world.run(world.owner, "feed", {"channel": channel, "time": "06:00"}, subcommand="add")
        assert reply.content.startswith("Added")
    fake.fail("POST", rf"^/channels/{forbidden.id}/messages$", 403, times=None, code=50013)
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(forbidden.id) == "failed")
    await eventually(lambda: len(fake.dms_to(world.owner)) == 1)
    alert = fake.dms_to(world.owner)[0]
    assert f"<#{forbidden.id}>" in alert.content and "has stopped" in alert.content
    assert "Missing Permissions" in alert.content or "lacks a permission" in alert.content
    assert "/feed resume" in alert.content and alert.allowed_mentions == {"parse": []}
    await eventually(lambda: len(fake.channel_messages(news)) == 1)
    assert fake.channel_messages(news)[0].content == alert.content

    # The feed stays failing: the next day is not tried, and nobody is told twice.
    daily.clock.set("2026-03-03T06:00:00+00:00")
    daily.server.publish("2026-03-03.md", MARKDOWN_DAY)
    await eventually(lambda: daily.delivery_states().get(calm.id) == "done,done")
    assert len(fake.dms_to(world.owner)) == 1 and len(fake.channel_messages(news)) == 1


async def test_a_source_failing_for_hours_tells_the_owner_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    daily = await start_daily_world(tmp_path, clock_start="2026-03-02T05:00:00+00:00",
                                     env={"DIGESTBOT_SOURCE_ALERT_HOURS": "2"})
    try:
        fake, world = daily.fake, daily.world
        fake.app_owner_id = world.owner.id  # no DIGESTBOT_OWNER_ID: the application's owner is told
        daily.server.failures = [500] * 100_000
        await world.bot.start()
        await eventually(lambda: daily.rows("SELECT count(*) FROM poll_runs WHERE ok = 0")[0][0] >= 2)
        assert fake.dms_to(world.owner) == []  # failing, but not for 2 hours yet
        daily.clock.set("2026-03-02T07:30:00+00:00")
        await eventually(lambda: len(fake.dms_to(world.owner)) == 1)
        alert = fake.dms_to(world.owner)[0].content
        assert "failed for more than 2 hours" in alert and "DIGESTBOT_SOURCE_URL" in alert
        polls = daily.rows("SELECT count(*) FROM poll_runs")[0][0]
        await eventually(lambda: daily.rows("SELECT count(*) FROM poll_runs")[0][0] >= polls + 3)
        assert len(fake.dms_to(world.owner)) == 1  # once per stretch of failures
    finally:
        await daily.world.bot.stop()
        await daily.fake.stop()
        await daily.server.stop()


async def test_resuming_a_refused_feed_again_and_again_alerts_once(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    news = fake.add_channel(world.guild, "server-news")
    world.guild.system_channel_id = news.id
    forbidden = fake.add_channel(world.guild, "forbidden")
    await world.bot.start()
    reply = await world.run(world.owner, "feed", {"channel": forbidden, "time": "06:00"}, subcommand="add")
    assert reply.content.startswith("Added")
    fake.fail("POST", rf"^/channels/{forbidden.id}/messages$", 403, times=None, code=50013)
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(forbidden.id) == "failed")
    await eventually(lambda: len(fake.dms_to(world.owner)) == 1)
    # Any Manage Server member may resume it; each resume retries and is refused again, the same breakage.
    for attempt in range(1, 6):
        resumed = await world.run(world.owner, "feed", {"channel": forbidden}, subcommand="resume")
        assert resumed.content.startswith("Resumed")
        await eventually(lambda n=attempt: world.bot.log().count("nobody is told again") == n)  # type: ignore[misc]
    # Removed and added again, refused again: still the same breakage.
    await world.run(world.owner, "feed", {"channel": forbidden}, subcommand="remove")
    await world.run(world.owner, "feed", {"channel": forbidden, "time": "06:00"}, subcommand="add")
    await world.run(world.owner, "feed", {"channel": forbidden}, subcommand="send-now")
    await eventually(lambda: world.bot.log().count("nobody is told again") == 6)
    assert len(fake.dms_to(world.owner)) == 1
    assert len(fake.channel_messages(news)) == 1


async def test_a_feed_whose_creator_was_forgotten_alerts_the_server_not_them(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    moderator = fake.add_user("moderator")
    fake.add_member(world.guild, moderator, fake.add_role(world.guild, "mods", MANAGE_GUILD))
    forbidden = fake.add_channel(world.guild, "forbidden")
    await world.bot.start()
    reply = await world.run(moderator, "feed", {"channel": forbidden, "time": "06:00"}, subcommand="add")
    assert reply.content.startswith("Added")
    asked = await world.run(moderator, "forget", subcommand="me")
    done = await world.click(moderator, asked, asked.button("Delete everything"))
    assert "1 feeds set up by you" in done.content and "Outside my reach" in done.content
    assert daily.rows("SELECT created_by FROM channel_feeds") == [(None,)]
    fake.fail("POST", rf"^/channels/{forbidden.id}/messages$", 403, times=None, code=50013)
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(forbidden.id) == "failed")
    # No system channel: the server's owner is told; the member who left the bot is not.
    await eventually(lambda: len(fake.dms_to(world.owner)) == 1)
    assert f"<#{forbidden.id}>" in fake.dms_to(world.owner)[0].content
    assert fake.dms_to(moderator) == []
