"""A 10,000-server instance through the fake Discord: memory per 1,000 servers, start time, fan-out of one day.

    .venv/bin/python bench/bench_shards.py [--guilds 10000] [--concurrency 50]

The fake holds `--guilds` servers, each with a text channel that has a feed, and recommends a
shard per 1,000 servers, as Discord does. The real bot process (DIGESTBOT_SHARDS=auto) starts
against it twice, with one server and with all of them, beside a bare discord.py
AutoShardedClient with the same intents and caches (bench/bare_gateway.py), the floor. Printed:
resident memory per 1,000 servers and start time, project / floor / ratio; then one 456-paper
day posted to every feed with the fake's limits off, and what that costs at Discord's real
limits (50 requests/s per bot, 5 session starts... as computed from the requests measured).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_delivery import DIGEST, cpu_seconds  # noqa: E402
from bench.botrun import rss_kib  # noqa: E402
from bench.common import compare  # noqa: E402
from bot.app.shards import IDENTIFY_WINDOW  # noqa: E402
from bot.ingest.digest import parse_digest_file  # noqa: E402
from storage.feeds import FeedStore  # noqa: E402
from storage.papers import PaperStore  # noqa: E402
from storage.sqlite.database import Database  # noqa: E402
from tests.botworld import BotProcess, eventually, query  # noqa: E402
from tests.fakediscord import Channel, FakeDiscord  # noqa: E402

GLOBAL_LIMIT = 50  # requests per second per bot token (Discord)


@dataclass
class Started:
    seconds: float
    rss_kib: int


def populate(fake: FakeDiscord, guilds: int) -> list[tuple[int, Channel]]:
    owner = fake.add_user("owner")
    made = []
    for i in range(guilds):
        guild = fake.add_guild(f"Lab {i}", owner, on_shard=(i % 10, 10))
        made.append((guild.id, fake.add_channel(guild, "papers")))
    return made


async def prepare(db_path: Path, feeds: list[tuple[int, Channel]]) -> None:
    db = await Database.open(db_path)
    store = FeedStore(db)
    created = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    for guild_id, channel in feeds:
        await store.upsert(guild_id=guild_id, channel_id=channel.id, categories=[], post_time=dt.time(0, 0),
                           timezone="UTC", created_by=1, now=created)
    await db.close()


async def add_day(db_path: Path) -> None:
    """As a poll brings it: a new day, due for every feed."""
    db = await Database.open(db_path)
    await PaperStore(db).ingest(parse_digest_file(DIGEST).papers, date=dt.datetime.now(dt.UTC).date(), source=DIGEST.name,
                                fmt="markdown", language="English", content_hash="bench", arrival="poll")
    await db.close()


async def bot_start(fake: FakeDiscord, folder: Path, env: dict[str, str]) -> tuple[BotProcess, Started]:
    bot = BotProcess(fake, folder / "bench.sqlite3", folder / "bot.log",
                     {"DIGESTBOT_LOG_LEVEL": "WARNING", "DIGESTBOT_SHARDS": "auto", **env})
    started = time.perf_counter()
    await bot.start(timeout=600)
    seconds = time.perf_counter() - started
    await asyncio.sleep(3)  # let the first ticks and the command sync settle
    assert bot.process is not None
    return bot, Started(seconds, rss_kib(bot.process.pid))


async def bare_start(fake: FakeDiscord) -> Started:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "bare_gateway.py"), fake.api_base, fake.gateway_url, fake.token,
        stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), 600)
    seconds, rss, _ = out.decode().split()
    return Started(float(seconds), int(rss))


async def one_size(guilds: int, folder: Path, deliver: bool, concurrency: int) -> tuple[Started, Started, int]:
    fake = FakeDiscord()
    fake.gateway.max_concurrency = 16  # every shard may start at once here; real limits are added below
    await fake.start()
    try:
        feeds = populate(fake, guilds)
        folder.mkdir(parents=True, exist_ok=True)
        await prepare(folder / "bench.sqlite3", feeds)
        bare = await bare_start(fake)
        env = {"DIGESTBOT_DELIVERY_CONCURRENCY": str(concurrency), "DIGESTBOT_TICK_SECONDS": "1"}
        # Memory and start time with nothing to post; then a day arrives and goes out to every feed.
        bot, started = await bot_start(fake, folder, env)
        await bot.stop(timeout=120)
        if deliver:
            await add_day(folder / "bench.sqlite3")
            bot, _ = await bot_start(fake, folder, env)
            try:
                await fan_out(fake, bot, guilds)
            finally:
                await bot.stop(timeout=120)
        return started, bare, fake.gateway.shard_count
    finally:
        await fake.stop()


async def fan_out(fake: FakeDiscord, bot: BotProcess, channels: int) -> None:
    assert bot.process is not None
    cpu_start = cpu_seconds(bot.process.pid)
    wall = time.perf_counter()

    def finished() -> int:
        return int(query(bot.db_path, "SELECT count(*) FROM deliveries WHERE state IN ('done', 'failed')")[0][0])

    await eventually(lambda: finished() >= channels, timeout=7200, interval=1.0)
    elapsed = time.perf_counter() - wall
    cpu = cpu_seconds(bot.process.pid) - cpu_start
    posts = [r for r in fake.requests if r.method == "POST" and r.path.startswith("/channels/") and r.status < 300]
    per_channel = len(posts) / channels
    at_limits = len(posts) / GLOBAL_LIMIT
    failed = int(query(bot.db_path, "SELECT count(*) FROM deliveries WHERE state = 'failed'")[0][0])
    print(f"\nfan-out of one 456-paper day to {channels:,} channels (fake, no limits): {elapsed:.0f} s, {failed} failed; "
          f"{len(posts):,} requests ({per_channel:.1f} per channel)")
    print(f"  at Discord's limit of {GLOBAL_LIMIT} requests/s per bot: {at_limits:,.0f} s = {at_limits / 3600:.2f} h; "
          f"the bot's CPU for the whole fan-out: {cpu:.0f} s = {cpu / at_limits * 100:.1f}% of that time")


async def run(guilds: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        small, small_bare, _ = await one_size(1, Path(folder) / "one", deliver=False, concurrency=concurrency)
        large, large_bare, shards = await one_size(guilds, Path(folder) / "many", deliver=True, concurrency=concurrency)
    per_k = (large.rss_kib - small.rss_kib) / (guilds / 1000) / 1024
    per_k_bare = (large_bare.rss_kib - small_bare.rss_kib) / (guilds / 1000) / 1024
    print(f"\n{guilds:,} servers over {shards} shards (one feed channel each); one server for the baseline")
    print(compare("RSS with 1 server", small.rss_kib / 1024, small_bare.rss_kib / 1024, "MB"))
    print(compare(f"RSS with {guilds:,} servers", large.rss_kib / 1024, large_bare.rss_kib / 1024, "MB"))
    print(compare("RSS per 1,000 servers", per_k, per_k_bare, "MB"))
    print(compare(f"start to ready, {guilds:,} servers", large.seconds, large_bare.seconds, "s"))
    waits = (shards - 1) * IDENTIFY_WINDOW
    print(f"  at Discord's real session-start limit (max_concurrency 1: a shard per {IDENTIFY_WINDOW:g} s) add {waits:.0f} s: "
          f"about {large.seconds + waits:.0f} s to all {shards} shards ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guilds", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.guilds, args.concurrency))


if __name__ == "__main__":
    main()
