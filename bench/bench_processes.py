"""One day delivered to many channels by 1 and by 3 bot processes on one PostgreSQL database.

    .venv/bin/python bench/bench_processes.py [--channels 10000] [--processes 1 3] [--time-scale 0.1]

The fake Discord enforces Discord's global limit, 50 requests per second for the whole bot over
every process, and the per-channel limit of 5 messages per 5 s; --time-scale shortens both
windows (0.1: 500 requests/s and 5 per 0.5 s), so 10,000 channels take minutes, not an hour.
Figures are printed at Discord's real scale (requests/s x time scale, seconds / time scale).

Each process keeps to its share of the global limit, what DIGESTBOT_REST_RATE=auto gives when
the bot talks to Discord directly: 0.9 x 50 / n requests/s (one process: discord.py's own
handling of the limit). The floor is bench/bare_client.py sending the same requests in the same
run, started no closer than 1/50 s apart (scaled): the fastest any sender stays within the limit.
Printed per run: requests, wall time, requests/s against the limit, global 429s, duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_delivery import prepare  # noqa: E402
from bench.common import compare  # noqa: E402
from bench.postgres import BenchServer, Unavailable, bench_server  # noqa: E402
from tests.botworld import BotProcess, eventually, query  # noqa: E402
from tests.fakediscord import Channel, FakeDiscord  # noqa: E402
from tests.fakediscord.ratelimit import RateLimiter  # noqa: E402

GLOBAL_LIMIT = 50  # requests per second, the whole bot
SHARE = 0.9  # of the limit, over every process (DIGESTBOT_REST_RATE=auto)
SHARDS = 3
GUILDS = 30


@dataclass
class Run:
    processes: int
    fake: FakeDiscord
    limiter: RateLimiter
    targets: list[Channel]
    elapsed: float  # first message POST to the last answer
    failed: int
    papers: int


def limiter_for(scale: float) -> RateLimiter:
    return RateLimiter(limit=5, per=5.0 * scale, global_limit=round(GLOBAL_LIMIT / scale), global_per=1.0)


async def deliver(server: BenchServer, folder: Path, processes: int, channels: int, scale: float) -> Run:
    fake = FakeDiscord()
    fake.gateway.max_concurrency = SHARDS
    limiter = limiter_for(scale)
    fake.rate_limiter = limiter
    await fake.start()
    folder.mkdir(parents=True, exist_ok=True)
    url = server.database(f"bench_processes_{processes}")
    owner = fake.add_user("owner")
    guilds = [fake.add_guild(f"guild {g}", owner, on_shard=(g % SHARDS, SHARDS)) for g in range(GUILDS)]
    targets = [fake.add_channel(guilds[i % GUILDS], f"feed-{i}") for i in range(channels)]
    papers = await prepare(url, [(channel.guild_id, channel.id) for channel in targets if channel.guild_id is not None])
    env = {"DIGESTBOT_LOG_LEVEL": "WARNING", "DIGESTBOT_TICK_SECONDS": "0.5", "DIGESTBOT_SHARDS": str(SHARDS),
           "DIGESTBOT_SOURCE_URL": "off", "DIGESTBOT_DELIVERY_CONCURRENCY": "50"}
    if processes > 1:
        # What auto gives a process of n talking to Discord directly; the fake is DISCORD_API_BASE, so say it.
        env["DIGESTBOT_REST_RATE"] = f"{SHARE * GLOBAL_LIMIT / processes / scale:.2f}"
    bots = [BotProcess(fake, url, folder / f"bot{k}.log",
                       {**env, **({"DIGESTBOT_PROCESS": f"{k}/{processes}"} if processes > 1 else {})})
            for k in range(processes)]
    await asyncio.gather(*(b.start(timeout=120) for b in bots))

    def finished() -> int:
        return int(query(url, "SELECT count(*) FROM deliveries WHERE state IN ('done', 'failed')")[0][0])

    await eventually(lambda: finished() >= channels, timeout=7200, interval=1.0)
    posts = [r for r in fake.requests if r.method == "POST" and r.path.startswith("/channels/")]
    elapsed = max(r.at for r in fake.requests) - min(r.at for r in posts)
    failed = int(query(url, "SELECT count(*) FROM deliveries WHERE state = 'failed'")[0][0])
    for bot in bots:
        await bot.stop()
    return Run(processes, fake, limiter, targets, elapsed, failed, papers)


def threads_by_parent(fake: FakeDiscord) -> dict[int, list[Channel]]:
    """Every thread by the channel it was started in, built once: 10,000 channels have 10,000 threads."""
    found: dict[int, list[Channel]] = {}
    for channel in fake.channels.values():
        if channel.type == 11 and channel.parent_id is not None:
            found.setdefault(channel.parent_id, []).append(channel)
    return found


def duplicates(run: Run) -> int:
    """Messages beyond one header, one thread and each part once, per channel."""
    fake, extra, threads_of = run.fake, 0, threads_by_parent(run.fake)
    for channel in run.targets:
        headers = [m for m in fake.channel_messages(channel) if m.embeds and m.embeds[0].get("title", "").startswith("arXiv digest")]
        threads = threads_of.get(channel.id, [])
        extra += max(0, len(headers) - 1) + max(0, len(threads) - 1)
        footers = [m.embeds[-1].get("footer", {}).get("text", "") for t in threads for m in fake.channel_messages(t)]
        extra += len(footers) - len(set(footers))
    return extra


def lost(run: Run) -> int:
    """Channels without their complete post: no header, or parts missing."""
    fake, missing, threads_of = run.fake, 0, threads_by_parent(run.fake)
    for channel in run.targets:
        threads = threads_of.get(channel.id, [])
        footers = {m.embeds[-1].get("footer", {}).get("text", "") for t in threads for m in fake.channel_messages(t)}
        total = next((int(found.group(1)) for f in footers if (found := re.search(r"of (\d+)$", f))), 0)
        if not threads or not total or len(footers) != total:
            missing += 1
    return missing


async def floor_seconds(run: Run, folder: Path, scale: float) -> tuple[float, int]:
    """Wall time of a bare aiohttp client sending the run's accepted message POSTs, paced at the global limit,
    and how many it sent."""
    fake = run.fake
    thread_of = {c.id: c.parent_id for c in fake.channels.values() if c.type == 11 and c.parent_id}
    wanted = {c.id for c in run.targets}
    plans: dict[int, dict[str, object]] = {}
    for request in fake.requests:
        if request.method != "POST" or request.status >= 300 or not isinstance(request.body, dict):
            continue
        body = {k: v for k, v in request.body.items() if k not in ("nonce", "enforce_nonce")}
        parts = request.path.strip("/").split("/")
        if parts[0] != "channels":
            continue
        channel = int(parts[1])
        if channel in wanted and parts[-1] == "messages":
            plans.setdefault(channel, {"channel_id": channel, "parts": []})["header"] = body
        elif channel in wanted and parts[-1] == "threads":
            plans.setdefault(channel, {"channel_id": channel, "parts": []})["thread_name"] = body["name"]
        elif channel in thread_of and parts[-1] == "messages":
            plans.setdefault(thread_of[channel], {"channel_id": thread_of[channel], "parts": []})["parts"].append(body)  # type: ignore[attr-defined]
    plan_path = folder / f"plan{run.processes}.json"
    plan_path.write_text(json.dumps(list(plans.values())), encoding="utf-8")
    fake.rate_limiter = None  # the pacing keeps the floor within the limit; a bare client handles no 429
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "bare_client.py"), str(plan_path), fake.api_base, fake.token, "200",
        str(GLOBAL_LIMIT / scale), stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    sent = sum(2 + len(plan["parts"]) for plan in plans.values())  # type: ignore[arg-type]
    return float(out.decode().strip().splitlines()[-2]), sent


async def run(server: BenchServer, channels: int, counts: list[int], scale: float) -> None:
    print(f"{channels:,} channels in {GUILDS} servers over {SHARDS} shards, PostgreSQL ({server.settings()}); "
          f"limits: {GLOBAL_LIMIT} requests/s global, 5 messages per 5 s per channel, time scale {scale:g} "
          f"(the fake enforces {GLOBAL_LIMIT / scale:.0f}/s and 5 per {5 * scale:g} s); figures at Discord's scale")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for processes in counts:
            started = time.perf_counter()
            done = await deliver(server, folder / f"run{processes}", processes, channels, scale)
            first_post = min(x.at for x in done.fake.requests if x.method == "POST")
            requests = [r for r in done.fake.requests if r.at >= first_post]
            real_seconds = done.elapsed / scale
            rate = len(requests) / real_seconds
            doubled, missing = duplicates(done), lost(done)  # before the floor adds its own copies
            floor_time, floor_requests = await floor_seconds(done, folder, scale)
            floor = floor_time / scale
            print(f"\n{processes} process(es){'' if processes == 1 else f', each at {SHARE * GLOBAL_LIMIT / processes:.1f} requests/s'}: "
                  f"{len(requests):,} requests (a day of {done.papers} papers to each channel), {done.failed} failed, "
                  f"{done.limiter.global_limited} global 429s, {done.limiter.limited} per-channel 429s, "
                  f"{doubled} duplicates, {missing} channels lost; bench run {time.perf_counter() - started:.0f} s")
            print(compare("wall time of the day (s at real limits)", real_seconds, floor, "s"))
            print(compare("requests/s (limit 50)", rate, floor_requests / floor, "req/s"))
            print(f"  the floor sent {floor_requests:,} requests: the accepted message POSTs (header, thread, parts); "
                  f"the bot's {len(requests):,} count every request it made from its first post on, 429s included")
            await done.fake.stop()
            server.drop(f"bench_processes_{processes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=10000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--time-scale", type=float, default=0.1)
    args = parser.parse_args()
    try:
        with bench_server() as server:
            asyncio.run(run(server, args.channels, args.processes, args.time_scale))
    except Unavailable as exc:
        sys.exit(f"no PostgreSQL server: {exc}")


if __name__ == "__main__":
    main()
