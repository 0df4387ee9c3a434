"""Deliver one 456-paper day to many channels through the fake Discord, with Discord-style rate limits.

    .venv/bin/python bench/bench_delivery.py [--channels 1000] [--time-scale 0.1] [--concurrency 50]

The fake answers every message POST with X-RateLimit-* headers for a per-channel bucket of 5
messages per 5 s and a global limit of 50 requests per second, both shortened by --time-scale
(0.1: 5 per 0.5 s and 500/s) so a run takes a minute, not ten. The real bot process posts the
day to every channel's feed; the bench prints the total time, the requests sent per channel
beside their floor (the rendered characters in full 6,000-character messages, plus the header
and the thread), the 429s received, the rate-limit floor, and the bot's CPU time per channel
beside a bare aiohttp client (bench/bare_client.py) sending the same requests in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import compare  # noqa: E402
from bot.ingest.digest import parse_digest_file  # noqa: E402
from storage.engine import open_database  # noqa: E402
from storage.feeds import FeedStore  # noqa: E402
from storage.papers import PaperStore  # noqa: E402
from tests.botworld import build_world, eventually, query  # noqa: E402
from tests.fakediscord import Channel, FakeDiscord  # noqa: E402
from tests.fakediscord.ratelimit import RateLimiter  # noqa: E402

DIGEST = ROOT / "tests" / "fixtures" / "digests" / "000_eb52096bcf26c46f.txt"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def prepare(database: Path | str, targets: list[tuple[int, int]]) -> int:
    """A feed, due now, on each (guild id, channel id), and the day's digest as a poll brings it; returns its papers.

    `database` is a SQLite file or a PostgreSQL URL (bench_processes).
    """
    db = await open_database(database)
    feeds = FeedStore(db)
    created = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    for guild_id, channel_id in targets:
        await feeds.upsert(guild_id=guild_id, channel_id=channel_id, categories=[], post_time=dt.time(0, 0),
                           timezone="UTC", created_by=1, now=created)
    papers = parse_digest_file(DIGEST).papers
    # As a poll brings it: news, posted to every feed.
    await PaperStore(db).ingest(papers, date=dt.datetime.now(dt.UTC).date(), source=DIGEST.name, fmt="markdown",
                                language="English", content_hash="bench", arrival="poll")
    await db.close()
    return len(papers)


@dataclass
class Delivered:
    fake: FakeDiscord
    targets: list[Channel]
    elapsed: float
    cpu: float
    failed: int
    papers: int


async def deliver_day(folder: Path, channels: int, concurrency: int, limiter: RateLimiter | None) -> Delivered:
    """The real bot posts one day to `channels` feeds through the fake; wall time and the bot's CPU."""
    fake = FakeDiscord()
    fake.rate_limiter = limiter
    await fake.start()
    folder.mkdir(parents=True, exist_ok=True)
    world = build_world(fake, folder / "bench.sqlite3", folder / "bot.log", {
        "DIGESTBOT_LOG_LEVEL": "WARNING", "DIGESTBOT_TICK_SECONDS": "0.5",
        "DIGESTBOT_DELIVERY_CONCURRENCY": str(concurrency),
    })
    targets = [fake.add_channel(world.guild, f"feed-{i}") for i in range(channels)]
    papers = await prepare(world.bot.db, [(world.guild.id, c.id) for c in targets])
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
    return Delivered(fake, targets, elapsed, cpu, failed, papers)


async def run(channels: int, scale: float, concurrency: int) -> None:
    per_channel, window, global_limit = 5, 5.0 * scale, 50
    with tempfile.TemporaryDirectory() as folder:
        limiter = RateLimiter(limit=per_channel, per=window, global_limit=int(global_limit / scale), global_per=1.0)
        limited = await deliver_day(Path(folder) / "limited", channels, concurrency, limiter)
        fake = limited.fake
        print(f"{channels} channels, one digest of {limited.papers} papers, limits: {per_channel} messages per "
              f"{window:g} s per channel, {global_limit / scale:.0f} requests/s global (time scale {scale:g})")
        posts = [r for r in fake.requests if r.method == "POST" and r.path.startswith("/channels/")]
        accepted = [r for r in posts if r.status < 300]
        per_channel_msgs = len(accepted) / channels
        channel_floor = max(0.0, (per_channel_msgs - per_channel) / per_channel * window)
        global_floor = len(accepted) / (global_limit / scale)
        floor = max(channel_floor, global_floor)
        print(f"delivered to {channels - limited.failed} channels ({limited.failed} failed) in {limited.elapsed:.1f} s")
        print(f"requests: {len(posts)} POSTs ({len(accepted)} accepted: {per_channel_msgs:.1f} per channel = header, "
              f"thread, parts), {limiter.limited + limiter.global_limited} answered 429 ({limiter.global_limited} global)")
        print(f"rate-limit floor: {floor:.1f} s (per-channel {channel_floor:.1f} s, global {global_floor:.1f} s); "
              f"total / floor = {limited.elapsed / floor:.2f}")
        thread = next(c for c in fake.channels.values() if c.parent_id == limited.targets[0].id)
        rendered = sum(len(e.get("title", "")) + len(e.get("description", "")) + len((e.get("footer") or {}).get("text", ""))
                       for m in fake.channel_messages(thread) for e in m.embeds)
        request_floor = -(-rendered // 6000) + 2
        print(compare("requests per channel (day of 456 papers)", per_channel_msgs, request_floor, "requests"))
        print(f"  {rendered:,} characters rendered per channel; the floor is full 6,000-character messages plus header "
              f"and thread. Bot CPU under the limits: {limited.cpu / channels * 1000:.1f} ms per channel, at Discord's "
              f"real limits (x{1 / scale:g} the floor) {limited.cpu / (floor / scale) * 100:.1f}% of the floor")
        await fake.stop()
        # CPU per channel, bot and bare client both without limits (waiting costs no CPU; 429s would).
        free = await deliver_day(Path(folder) / "free", channels, concurrency, None)
        bare = await bare_client_cpu(free.fake, free.targets, Path(folder), concurrency)
        print(compare("CPU per channel, bot vs bare aiohttp client", free.cpu / channels * 1000, bare / channels * 1000, "ms"))
        await free.fake.stop()


async def bare_client_cpu(fake: FakeDiscord, targets: list[Channel], folder: Path, concurrency: int) -> float:
    """Replay what the bot sent with a bare aiohttp client (limits off, as the bot's wait costs no CPU)."""
    by_channel: dict[int, dict[str, object]] = {}
    thread_of: dict[int, int] = {c.id: c.parent_id for c in fake.channels.values() if c.type == 11 and c.parent_id}
    wanted = {c.id for c in targets}
    for request in fake.requests:
        if request.method != "POST" or request.status >= 300:
            continue
        if isinstance(request.body, dict):
            # A replay is new messages: the bot's nonces would make Discord (the fake) return the old ones.
            request.body.pop("nonce", None)
            request.body.pop("enforce_nonce", None)
        parts = request.path.strip("/").split("/")
        if parts[0] != "channels":
            continue
        channel = int(parts[1])
        if channel in wanted and parts[-1] == "messages":
            by_channel.setdefault(channel, {"channel_id": channel, "parts": []})["header"] = request.body
        elif channel in wanted and parts[-1] == "threads":
            by_channel.setdefault(channel, {"channel_id": channel, "parts": []})["thread_name"] = request.body["name"]
        elif channel in thread_of and parts[-1] == "messages":
            plan = by_channel.setdefault(thread_of[channel], {"channel_id": thread_of[channel], "parts": []})
            plan["parts"].append(request.body)  # type: ignore[attr-defined]
    plan_path = folder / "plan.json"
    plan_path.write_text(json.dumps(list(by_channel.values())), encoding="utf-8")
    fake.rate_limiter = None
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "bare_client.py"), str(plan_path), fake.api_base, fake.token, str(concurrency),
        stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return float(out.decode().strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.channels, args.time_scale, args.concurrency))


if __name__ == "__main__":
    main()
