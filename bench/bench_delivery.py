"""Deliver one 456-paper day to many channels through the fake Discord, with Discord-style rate limits.

    .venv/bin/python bench/bench_delivery.py [--channels 1000] [--time-scale 0.1] [--concurrency 50]

The fake answers every message POST with X-RateLimit-* headers for a per-channel bucket of 5
messages per 5 s and a global limit of 50 requests per second, both shortened by --time-scale
(0.1: 5 per 0.5 s and 500/s) so a run takes a minute, not ten. The real bot process posts the
day to every channel's feed; the bench prints the total time, the requests sent, the 429s
received, the rate-limit floor (the least time the limits allow for those requests), and the
bot's CPU time in total and per channel.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ingest.digest import parse_digest_file  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.feeds import FeedStore  # noqa: E402
from storage.papers import PaperStore  # noqa: E402
from tests.botworld import build_world, eventually, query  # noqa: E402
from tests.fakediscord import FakeDiscord  # noqa: E402
from tests.fakediscord.ratelimit import RateLimiter  # noqa: E402

DIGEST = ROOT / "tests" / "fixtures" / "digests" / "000_eb52096bcf26c46f.txt"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def prepare(db_path: Path, guild_id: int, channel_ids: list[int]) -> int:
    db = await Database.open(db_path)
    feeds = FeedStore(db)
    created = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    for channel_id in channel_ids:
        await feeds.upsert(guild_id=guild_id, channel_id=channel_id, categories=[], post_time=dt.time(0, 0),
                           timezone="UTC", created_by=1, now=created)
    papers = parse_digest_file(DIGEST).papers
    await PaperStore(db).ingest(papers, date=dt.datetime.now(dt.UTC).date(), source=DIGEST.name, fmt="markdown",
                                language="English", content_hash="bench")
    await db.close()
    return len(papers)


async def run(channels: int, scale: float, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        fake = FakeDiscord()
        per_channel, window, global_limit = 5, 5.0 * scale, 50
        fake.rate_limiter = RateLimiter(limit=per_channel, per=window, global_limit=int(global_limit / scale), global_per=1.0)
        await fake.start()
        world = build_world(fake, Path(folder) / "bench.sqlite3", Path(folder) / "bot.log", {
            "DIGESTBOT_LOG_LEVEL": "WARNING", "DIGESTBOT_TICK_SECONDS": "0.5",
            "DIGESTBOT_DELIVERY_CONCURRENCY": str(concurrency),
        })
        targets = [fake.add_channel(world.guild, f"feed-{i}") for i in range(channels)]
        paper_count = await prepare(world.bot.db_path, world.guild.id, [c.id for c in targets])
        print(f"{channels} channels, one digest of {paper_count} papers, limits: {per_channel} messages per "
              f"{window:g} s per channel, {global_limit / scale:.0f} requests/s global (time scale {scale:g})")
        start = time.perf_counter()
        await world.bot.start()
        assert world.bot.process is not None
        pid = world.bot.process.pid
        cpu_start = cpu_seconds(pid)

        def finished() -> int:
            return int(query(world.bot.db_path, "SELECT count(*) FROM deliveries WHERE state IN ('done', 'failed')")[0][0])

        await eventually(lambda: finished() >= channels, timeout=3600, interval=0.5)
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds(pid) - cpu_start
        failed = int(query(world.bot.db_path, "SELECT count(*) FROM deliveries WHERE state = 'failed'")[0][0])
        await world.bot.stop()
        posts = [r for r in fake.requests if r.method == "POST" and r.path.startswith("/channels/")]
        accepted = [r for r in posts if r.status < 300]
        per_channel_msgs = len(accepted) / channels
        channel_floor = max(0.0, (per_channel_msgs - per_channel) / per_channel * window)
        global_floor = len(accepted) / (global_limit / scale)
        floor = max(channel_floor, global_floor)
        print(f"delivered to {channels - failed} channels ({failed} failed) in {elapsed:.1f} s")
        print(f"requests: {len(posts)} POSTs ({len(accepted)} accepted: {per_channel_msgs:.1f} per channel = header, "
              f"thread, parts), {fake.rate_limiter.limited + fake.rate_limiter.global_limited} answered 429 "
              f"({fake.rate_limiter.global_limited} global)")
        print(f"rate-limit floor: {floor:.1f} s (per-channel {channel_floor:.1f} s, global {global_floor:.1f} s); "
              f"total / floor = {elapsed / floor:.2f}")
        print(f"bot CPU: {cpu:.1f} s in total, {cpu / channels * 1000:.1f} ms per channel, "
              f"{cpu / elapsed * 100:.0f}% of the wall time; at real limits (x{1 / scale:g} the floor) "
              f"that is {cpu / (floor / scale) * 100:.1f}% of the floor")
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.channels, args.time_scale, args.concurrency))


if __name__ == "__main__":
    main()
