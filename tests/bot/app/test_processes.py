"""Three bot processes on one PostgreSQL database are one bot: shards split, one poller, each post once.

One process is `kill -9`ed in the middle of a day's posts to 20 channels (in six servers over the
three shards) and DMs to 50 members: nothing is doubled, nothing lost, and the survivors finish
what it had claimed once its lease lapses. Then the poller's process is killed and another polls
the next digest; and a process started with an index already running is refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bot.delivery.conftest import JSONL_DAY, LINK, MARKDOWN_DAY, joined_states
from tests.botworld import BotProcess, Clock, eventually, query
from tests.digestserver import DigestServer
from tests.engines import open_database
from tests.fakediscord import Channel, FakeDiscord, Message, User

pytestmark = pytest.mark.postgres

PROCESSES = 3
SHARDS = 3
CLAIM_SECONDS = 3
POLL_SECONDS = 0.6
DAY = "2026-03-02"
POLLS = "polls the digest source from now on"  # what the poller's process logs once it holds the lease


@dataclass
class Bot:
    """The fake Discord, the digest source, the clock, and the bot's processes (index k at bots[k])."""

    fake: FakeDiscord
    server: DigestServer
    clock: Clock
    db: str
    folder: Path
    env: dict[str, str]
    bots: list[BotProcess]
    channels: list[Channel]
    members: list[User]

    def process(self, index: int, name: str = "") -> BotProcess:
        """A new `digestbot run` as process index/PROCESSES (not started), with a log of its own."""
        env = {**self.env, "DIGESTBOT_PROCESS": f"{index}/{PROCESSES}"}
        return BotProcess(self.fake, self.db, self.folder / f"bot{index}{name}.log", env)

    def alive(self) -> list[BotProcess]:
        return [b for b in self.bots if b.process is not None and b.process.returncode is None]

    def sender(self, port: int) -> BotProcess:
        return next(b for b in self.alive() if b.owns_port(port))

    def states(self, kind: str) -> dict[int, str]:
        return joined_states(query(self.db, "SELECT target_id, state FROM deliveries WHERE target_kind = ? ORDER BY id", (kind,)))


def footers(messages: list[Message]) -> list[str]:
    return [m.embeds[-1]["footer"]["text"] for m in messages]


def linked(messages: list[Message]) -> list[str]:
    return [i for m in messages for e in m.embeds for i in LINK.findall(e.get("description", ""))]


async def prepare(db: str, channels: list[Channel], members: list[User]) -> None:
    """What /feed add and /subscribe would leave: 20 feeds and 50 members' subscriptions, all at 06:00 UTC."""
    from storage.feeds import FeedStore
    from storage.subscriptions import SubscriptionStore

    database = await open_database("postgres", db)
    try:
        now = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
        feeds, subscriptions = FeedStore(database), SubscriptionStore(database)
        for channel in channels:
            assert channel.guild_id is not None
            await feeds.upsert(guild_id=channel.guild_id, channel_id=channel.id, categories=[], post_time=dt.time(6),
                               timezone="UTC", created_by=1, now=now)
        for member in members:
            await subscriptions.add(member.id, "category", "cs.CV", now=now, limit=25, default_time=dt.time(6),
                                    default_timezone="UTC")
    finally:
        await database.close()


@pytest.fixture
async def bot(tmp_path: Path, postgres_url: str) -> AsyncIterator[Bot]:
    server = DigestServer()
    await server.start()
    fake = FakeDiscord()
    fake.gateway.max_concurrency = 1  # most bots': one session start per 5 s, for all processes together
    fake.gateway.enforce_identify_pacing = True  # an identify too soon is answered with op 9, as Discord does
    await fake.start()
    clock = Clock(tmp_path / "clock.txt", f"{DAY}T05:00:00+00:00")
    owner = fake.add_user("alice")
    guilds = [fake.add_guild(f"lab {i}", owner, on_shard=(i % SHARDS, SHARDS)) for i in range(6)]
    channels = [fake.add_channel(guilds[i % len(guilds)], f"papers-{i}") for i in range(20)]
    members = [fake.add_user(f"reader{i}") for i in range(50)]
    for index, member in enumerate(members):
        fake.add_member(guilds[index % len(guilds)], member)
    await prepare(postgres_url, channels, members)
    env = {
        "DIGESTBOT_SOURCE_URL": server.base_url,
        "DIGESTBOT_POLL_MINUTES": str(POLL_SECONDS / 60),
        "DIGESTBOT_TICK_SECONDS": "0.2",
        "DIGESTBOT_CLOCK_FILE": str(clock.path),
        "DIGESTBOT_SOURCE_RETRY_SECONDS": "0.05",
        "DIGESTBOT_SHARDS": str(SHARDS),
        "DIGESTBOT_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "DIGESTBOT_LOG_LEVEL": "INFO",
    }
    world = Bot(fake, server, clock, postgres_url, tmp_path, env, [], channels, members)
    world.bots = [world.process(k) for k in range(PROCESSES)]
    try:
        yield world
    finally:
        for process in world.alive():
            await process.stop(signal.SIGKILL)
        await fake.stop()
        await server.stop()


async def test_three_processes_kill_9_mid_posts_nothing_doubled_nothing_lost_and_the_poller_moves(bot: Bot) -> None:
    fake, server = bot.fake, bot.server
    started = time.monotonic()
    await asyncio.gather(*(b.start(timeout=60) for b in bot.bots))
    # Every shard identified once, by the process whose index it has, the identifies paced for the
    # whole bot (one bucket: 5 s apart across the processes), none refused.
    gateway = fake.gateway
    assert sorted(shard for _, shard in gateway.identify_log) == list(range(SHARDS))
    assert gateway.identify_violations == [] and gateway.doubled_shards == []
    for shard, session in gateway.sessions.items():
        assert bot.sender(session.peer) is bot.bots[shard % PROCESSES], shard
    pollers = [b for b in bot.bots if POLLS in b.log()]
    assert len(pollers) <= 1
    ready_at = time.monotonic() - started

    server.publish(f"{DAY}_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: [str(r[0]) for r in query(bot.db, "SELECT date FROM digests")] == [DAY], timeout=30)
    pollers = [b for b in bot.bots if POLLS in b.log()]
    assert len(pollers) == 1, [b.log_path.name for b in pollers]

    # A message of the day, some way in, is applied by Discord and its answer held: its sender dies then.
    hold = fake.hold("POST", r"^/channels/\d+/messages$", 30, skip=40)
    bot.clock.set(f"{DAY}T06:00:00+00:00")
    await asyncio.wait_for(hold.started.wait(), 60)
    victim = bot.sender(hold.held[0].peer)
    assert await victim.stop(signal.SIGKILL) == -signal.SIGKILL
    killed_at = time.monotonic()
    hold.released.set()
    # The held message's nonce names its ledger row ("<id>h", "<id>p<part>"): the dead process's, unfinished.
    held_row = int(re.match(r"\d+", str(hold.held[0].body["nonce"])).group())  # type: ignore[union-attr]
    state_of = "SELECT state FROM deliveries WHERE id = ?"
    assert query(bot.db, state_of, (held_row,)) != [("done",)]

    # The survivors finish every post once the dead process's claims lapse.
    feeds = {int(r[1]): int(r[0]) for r in query(bot.db, "SELECT id, channel_id FROM channel_feeds")}
    members = {m.id for m in bot.members}

    def finished() -> bool:
        channel_states = bot.states("channel")
        dm_states = bot.states("dm")
        return (all(channel_states.get(feeds[c.id]) == "done" for c in bot.channels)
                and all(dm_states.get(m) == "done" for m in members))

    await eventually(finished, timeout=60, interval=0.2)
    finished_after_kill = time.monotonic() - killed_at
    assert query(bot.db, state_of, (held_row,)) == [("done",)]
    assert finished_after_kill >= CLAIM_SECONDS - 0.5  # the dead process's rows waited for its lease to lapse

    # Nothing doubled, nothing lost: one header, one thread and every part once per channel; one DM each.
    papers = sorted(str(r[0]) for r in query(bot.db, "SELECT p.arxiv_id FROM digest_papers dp JOIN digests d ON "
                                                     "d.id = dp.digest_id JOIN papers p ON p.id = dp.paper_id WHERE d.date = ?", (DAY,)))
    for channel in bot.channels:
        headers = [m for m in fake.channel_messages(channel) if m.embeds and m.embeds[0].get("title", "").startswith("arXiv digest")]
        assert len(headers) == 1, (channel.name, len(headers))
        threads = fake.threads_of(channel)
        assert len(threads) == 1, channel.name
        parts = fake.channel_messages(threads[0])
        total = int(re.search(r"of (\d+)$", footers(parts)[0]).group(1))  # type: ignore[union-attr]
        assert footers(parts) == [f"{DAY} · part {n} of {total}" for n in range(1, total + 1)], channel.name
        assert sorted(linked(parts)) == papers, channel.name
    for member in bot.members:
        assert len(fake.dms_to(member)) == 1, member.username
    assert sum(len(fake.dms_to(m)) for m in bot.members) == len(bot.members)

    # The dead process's index is free again: it starts, and a second of an index that runs is refused.
    index = bot.bots.index(victim)
    bot.bots[index] = bot.process(index, "-again")
    await bot.bots[index].start(timeout=60)
    other = (index + 1) % PROCESSES
    twin = bot.process(other, "-twin")
    await twin.launch()
    assert twin.process is not None
    assert await asyncio.wait_for(twin.process.wait(), 30) == 1
    running = bot.bots[other]
    assert running.process is not None
    refusal = rf"PID {running.process.pid} on .*\) is already running as process {other}/{PROCESSES}"
    assert re.search(refusal, twin.log()), twin.log()[-2000:]
    assert gateway.doubled_shards == [], "the refused process identified a shard another holds"

    # The poller dies: another process polls the next digest within one poll interval.
    poller = next(b for b in bot.alive() if POLLS in b.log())
    bot.clock.set("2026-03-03T05:00:00+00:00")
    await poller.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    server.publish("2026-03-03.md", MARKDOWN_DAY)
    await eventually(lambda: "2026-03-03" in [str(r[0]) for r in query(bot.db, "SELECT date FROM digests")], timeout=30)
    took_over = time.monotonic() - killed_at
    assert [b for b in bot.alive() if POLLS in b.log()], "no survivor says it polls"
    print(f"ready in {ready_at:.1f} s; posts finished {finished_after_kill:.1f} s after the kill; "
          f"next digest polled {took_over:.1f} s after the poller died")
    assert took_over < POLL_SECONDS + 10
    assert gateway.identify_violations == []
