"""Forum channels as feed targets: one post per day, tags from the feed's categories, exactly once through a crash."""

from __future__ import annotations

import signal

import pytest

from tests.bot.conftest import both_engines
from tests.bot.delivery.conftest import JSONL_DAY, DailyWorld
from tests.bot.delivery.test_crash_and_faults import footers
from tests.botworld import eventually
from tests.fakediscord import Channel


async def forum_feed(daily: DailyWorld, **options: object) -> Channel:
    world = daily.world
    forum = daily.fake.add_forum(world.guild, "papers", tags=["cs.CV", "Robotics", "cs.CL", "meta"])
    await world.bot.start()
    reply = await world.run(world.owner, "feed", {"channel": forum, "time": "06:00", **options}, subcommand="add")
    assert reply.content.startswith("Added"), reply.content
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    return forum


def check_one_post(daily: DailyWorld, forum: Channel, expected: set[str]) -> Channel:
    posts = daily.fake.forum_posts(forum)
    assert len(posts) == 1
    post = posts[0]
    assert post.name == f"arXiv 2026-03-02 · {len(expected)} papers"
    messages = daily.fake.channel_messages(post)
    header, parts = messages[0], messages[1:]
    assert header.id == post.id and header.embeds[0]["title"] == "arXiv digest · 2026-03-02 (Mon)"
    total = len(parts)
    assert footers(parts) == [f"2026-03-02 · part {n} of {total}" for n in range(1, total + 1)]
    linked = daily.linked_ids(parts)
    assert len(linked) == len(set(linked)) and set(linked) == expected
    assert all(m.allowed_mentions == {"parse": []} for m in messages)
    return post


async def test_a_forum_feed_posts_each_day_as_one_tagged_post(daily: DailyWorld) -> None:
    forum = await forum_feed(daily, categories="cs.CV, cs.RO")
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(forum.id) == "done")
    expected = daily.papers_of_day("2026-03-02", "cs.CV") | daily.papers_of_day("2026-03-02", "cs.RO")
    post = check_one_post(daily, forum, expected)
    names = {int(t["id"]): t["name"] for t in forum.available_tags}
    assert sorted(names[t] for t in post.applied_tags) == ["Robotics", "cs.CV"]  # a code or the arXiv name
    listing = await daily.world.run(daily.world.owner, "feed", subcommand="list")
    assert f"<#{forum.id}>" in listing.embeds[0]["description"]


@pytest.mark.parametrize(("path", "skip", "what"), [
    (r"^/channels/\d+/threads$", 0, "the post created by Discord, the bot killed before it heard back"),
    (r"^/channels/\d+/messages$", 3, "three parts sent, the fourth accepted but not recorded"),
])
@both_engines
async def test_kill_9_mid_forum_post_then_restart_posts_it_once(daily: DailyWorld, path: str, skip: int, what: str) -> None:
    world, fake = daily.world, daily.fake
    forum = await forum_feed(daily)
    hold = fake.hold("POST", path, 30, skip=skip)
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await hold.started.wait()
    assert await world.bot.stop(signal.SIGKILL) == -signal.SIGKILL
    assert daily.rows("SELECT state FROM deliveries")[0][0] == "sending", what
    for held in fake.holds:
        held.released.set()
    fake.holds.clear()
    await world.bot.start()
    await eventually(lambda: daily.delivery_states().get(forum.id) == "done")
    check_one_post(daily, forum, daily.papers_of_day("2026-03-02"))
    assert fake.duplicate_nonces == 0  # the part in flight was found in the post (history), not sent again


async def test_a_forum_post_waits_out_429s_and_a_403_forum_fails_and_tells_its_creator(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    closed = fake.add_forum(world.guild, "closed-forum")  # before the bot starts, so its guild cache holds it
    forum = await forum_feed(daily)
    reply = await world.run(world.owner, "feed", {"channel": closed, "time": "06:00"}, subcommand="add")
    assert reply.content.startswith("Added")
    fake.fail("POST", rf"^/channels/{forum.id}/threads$", 429, times=3, retry_after=0.02)
    fake.fail("POST", rf"^/channels/{closed.id}/threads$", 403, times=None, code=50013)
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(forum.id) == "done")
    check_one_post(daily, forum, daily.papers_of_day("2026-03-02"))
    await eventually(lambda: daily.delivery_states().get(closed.id) == "failed")
    assert fake.forum_posts(closed) == []
    await eventually(lambda: len(fake.dms_to(world.owner)) == 1)
    assert f"<#{closed.id}>" in fake.dms_to(world.owner)[0].content
