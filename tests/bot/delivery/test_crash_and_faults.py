"""Crashes mid-post and Discord failures: nothing lost, nothing doubled, other feeds unaffected."""

from __future__ import annotations

import re
import signal

import pytest

from tests.bot.conftest import both_engines
from tests.bot.delivery.conftest import JSONL_DAY, DailyWorld
from tests.botworld import eventually
from tests.fakediscord import Channel, Message
from tests.fakediscord.model import READ_MESSAGE_HISTORY
from tests.fakediscord.ratelimit import RateLimiter

pytestmark = both_engines


def footers(messages: list[Message]) -> list[str]:
    return [m.embeds[-1]["footer"]["text"] for m in messages]


async def setup_one_feed(daily: DailyWorld, name: str = "digest", deny_bot: int = 0, **options: object) -> Channel:
    world = daily.world
    channel = daily.fake.add_channel(world.guild, name, deny_bot=deny_bot)
    await world.bot.start()
    reply = await world.run(world.owner, "feed", {"channel": channel, "time": "06:00", **options}, subcommand="add")
    assert reply.content.startswith("Added"), reply.content
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    return channel


@pytest.mark.parametrize(
    ("crash_after", "history", "what"),
    [
        (0, True, "the header accepted by Discord, not yet recorded"),
        (3, True, "three parts sent, the fourth accepted but not recorded"),
        (3, False, "the same, in a channel whose history the bot cannot read: the nonce saves it"),
    ],
)
async def test_kill_9_mid_post_then_restart_completes_it_once(daily: DailyWorld, crash_after: int, history: bool, what: str) -> None:
    world, fake = daily.world, daily.fake
    channel = await setup_one_feed(daily, deny_bot=0 if history else READ_MESSAGE_HISTORY)
    # Discord applies the message, then the bot dies before it hears back.
    hold = fake.hold("POST", r"^/channels/\d+/messages$", 30, skip=crash_after if crash_after == 0 else crash_after + 1)
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await hold.started.wait()
    assert await world.bot.stop(signal.SIGKILL) == -signal.SIGKILL
    state = daily.rows("SELECT state, header_message_id, parts_sent FROM deliveries")
    assert state[0][0] == "sending", what
    for held in fake.holds:
        held.released.set()
    fake.holds.clear()

    reads_before = len([r for r in fake.requests if r.method == "GET" and r.path.endswith("/messages")])
    await world.bot.start()
    await eventually(lambda: daily.delivery_states().get(channel.id) == "done")
    assert len(daily.headers(channel)) == 1
    # History is read once, for the step that was in flight, not again before every remaining part.
    history_reads = len([r for r in fake.requests if r.method == "GET" and r.path.endswith("/messages")]) - reads_before
    assert history_reads == 1, history_reads
    parts = daily.thread_messages(channel)
    total = int(re.search(r"of (\d+)$", footers(parts)[0]).group(1))  # type: ignore[union-attr]
    assert footers(parts) == [f"2026-03-02 · part {n} of {total}" for n in range(1, total + 1)]
    assert sorted(daily.linked_ids(parts)) == sorted(daily.papers_of_day("2026-03-02"))
    # Without history the resent part carried the same nonce, and Discord (the fake) dropped it.
    assert fake.duplicate_nonces == (0 if history else 1)


async def test_429_storm_403_and_source_5xx(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    stormy = fake.add_channel(world.guild, "stormy")
    forbidden = fake.add_channel(world.guild, "forbidden")
    calm = fake.add_channel(world.guild, "calm")
    await world.bot.start()
    for channel in (stormy, forbidden, calm):
        reply = await world.run(world.owner, "feed", {"channel": channel, "time": "06:00"}, subcommand="add")
        assert reply.content.startswith("Added")
    # The source fails twice with 5xx before it answers: the poll retries with backoff.
    daily.server.failures = [502, 503]
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    assert [status for _, status in daily.server.requests if status >= 500] == [502, 503]

    # A storm of 429s (with Via and retry_after, as Discord sends them) on one channel, 403 on another.
    fake.fail("POST", rf"^/channels/{stormy.id}/messages$", 429, times=8, retry_after=0.02)
    fake.fail("POST", rf"^/channels/{forbidden.id}/messages$", 403, times=None, code=50013)
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(calm.id) == "done")
    await eventually(lambda: daily.delivery_states().get(forbidden.id) == "failed")
    # The storm outlasts discord.py's own five tries once: the post is put off and retried later.
    stormy_row = "SELECT l.attempts, l.last_error, l.next_attempt_at FROM deliveries l JOIN channel_feeds f ON f.id = l.target_id WHERE f.channel_id = ?"
    await eventually(lambda: daily.rows(stormy_row, (stormy.id,))[0][0] == 1)
    assert daily.rows(stormy_row, (stormy.id,))[0][1:] == ("still rate limited after retries", "2026-03-02T06:01:00+00:00")
    daily.clock.set("2026-03-02T06:01:00+00:00")
    await eventually(lambda: daily.delivery_states().get(stormy.id) == "done", timeout=30)

    every_paper = sorted(daily.papers_of_day("2026-03-02"))
    for channel in (stormy, calm):
        assert len(daily.headers(channel)) == 1
        assert sorted(daily.linked_ids(daily.thread_messages(channel))) == every_paper
    assert fake.channel_messages(forbidden) == []

    listing = await world.run(world.owner, "feed", subcommand="list")
    text = listing.embeds[0]["description"]
    assert f"<#{forbidden.id}>" in text and "failing since" in text
    assert "the bot lacks a permission there" in text and "code 50013" in text
    assert f"<#{calm.id}> · all categories · 06:00 UTC · active" in text

    # Someone fixes the permission and resumes: the missed post goes out, once.
    fake.faults.clear()
    resumed = await world.run(world.owner, "feed", {"channel": forbidden}, subcommand="resume")
    assert "Resumed" in resumed.content
    await eventually(lambda: daily.delivery_states().get(forbidden.id) == "done")
    assert len(daily.headers(forbidden)) == 1
    assert sorted(daily.linked_ids(daily.thread_messages(forbidden))) == every_paper
    assert fake.duplicate_nonces == 0


async def test_sigterm_mid_post_checkpoints_and_the_restart_finishes_it(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    channel = await setup_one_feed(daily)
    # One message per 0.3 s per channel (announced in X-RateLimit headers): the post takes seconds.
    fake.rate_limiter = RateLimiter(limit=1, per=0.3)
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: len(daily.thread_messages(channel)) >= 2)
    assert await world.bot.stop(signal.SIGTERM) == 0
    assert "paused for shutdown; it resumes at the next start" in world.bot.log()
    state, parts_sent, parts_total = daily.rows("SELECT state, parts_sent, parts_total FROM deliveries")[0]
    assert state == "sending" and 2 <= int(str(parts_sent)) < int(str(parts_total))
    sent_before = len(daily.thread_messages(channel))
    assert sent_before == parts_sent  # every accepted message was recorded before exiting

    await world.bot.start()
    await eventually(lambda: daily.delivery_states().get(channel.id) == "done", timeout=30)
    parts = daily.thread_messages(channel)
    assert len(daily.headers(channel)) == 1
    assert footers(parts) == [f"2026-03-02 · part {n} of {parts_total}" for n in range(1, int(str(parts_total)) + 1)]
    assert fake.duplicate_nonces == 0
