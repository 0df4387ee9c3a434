"""No member can stall the bot: another member's /paper while some members do their worst, through the real bot.

    .venv/bin/python bench/bench_load.py --papers 100000 1000000 --seconds 20
    .venv/bin/python bench/bench_load.py --scenario burst --papers 100000 --seconds 60

The bot process runs over the bench corpus against the fake Discord; one member sends /paper
every 20 ms throughout. The floor is the same /paper requests on the same bot with nobody else
busy, measured in the same run just before. Two scenarios:

- `searches`: ten members each send the most expensive searches the query budget allows
  (prefixes, a dozen common words, ORs), one after another, with per-member cooldowns off, so
  the database isolation (reader pool, time budget) is what is measured.
- `burst`: one member, within their cooldowns, sends every expensive command at once and again
  whenever a cooldown allows: /search, /foryou days:60, /similar, /saved export (a full list of
  2,000 papers) and /stats days:365. The member has a model (30 likes, 30 dislikes) and a full
  reading list, set up in a copy of the corpus before the bot starts.

Prints /paper p50 / p99 / max under load beside the floor, and the longest time any interaction
waited for its first answer (a reply or a deferral; Discord drops one not answered within 3 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.botrun import bot_over
from bench.common import WORST_QUERIES, percentile
from bench.corpus import build
from tests.botworld import World
from tests.fakediscord import InteractionRecord, User

PAPER_IDS = [f"2001.{n:05d}" for n in range(0, 20000, 7)]


async def paper_round_trips(world: World, seconds: float, records: list[InteractionRecord]) -> list[float]:
    times: list[float] = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        record = await world.send(world.member, "paper", {"id": PAPER_IDS[n % len(PAPER_IDS)]})
        records.append(record)
        await world.fake.reply(record, timeout=30)
        times.append(time.monotonic() - record.sent_at)
        n += 1
        await asyncio.sleep(0.02)
    return times


async def hostile_member(world: World, number: int, stop: asyncio.Event, records: list[InteractionRecord],
                         outcomes: dict[str, int]) -> None:
    user = world.fake.add_user(f"hostile{number}")
    n = number
    while not stop.is_set():
        query = WORST_QUERIES[n % len(WORST_QUERIES)]
        n += 1
        record = await world.send(user, "search", {"query": query})
        records.append(record)
        reply = await world.fake.reply(record, timeout=60)
        text = reply.text
        kind = "too broad" if "too broad" in text else "busy" if "busy" in text else "answered"
        outcomes[kind] = outcomes.get(kind, 0) + 1


# One member's allowed burst: each command as often as its per-member cooldown lets it run in a minute.
BURST = [("search", 6, 30), ("foryou", 4, 60), ("similar", 6, 60), ("saved", 10, 60), ("stats", 2, 60)]


def burst_options(command: str, n: int, ids: list[str]) -> dict[str, object]:
    if command == "search":
        return {"query": WORST_QUERIES[n % len(WORST_QUERIES)]}
    if command == "foryou":
        return {"days": 60}
    if command == "similar":
        return {"id": ids[n % len(ids)]}
    if command == "saved":
        return {"export": ("bibtex", "csv", "markdown")[n % 3]}
    return {"days": 365}


def prepare_member(db: Path, user_id: int) -> list[str]:
    """Give the member a full reading list and 60 votes (as an operator's sqlite3 would); return some paper ids."""
    conn = sqlite3.connect(db, timeout=30)
    ids = [str(r[0]) for r in conn.execute("SELECT arxiv_id FROM papers ORDER BY id DESC LIMIT 2060")]
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with conn:
        conn.executemany("INSERT INTO saved_papers (user_id, arxiv_id, saved_at) VALUES (?, ?, ?)",
                         [(user_id, i, now) for i in ids[60:2060]])
        conn.executemany("INSERT INTO feedback (user_id, arxiv_id, vote, voted_at) VALUES (?, ?, ?, ?)",
                         [(user_id, i, 1 if n % 2 else -1, now) for n, i in enumerate(ids[:60])])
    conn.close()
    return ids


async def bursting_member(world: World, user: User, ids: list[str], stop: asyncio.Event,
                          records: list[InteractionRecord], outcomes: dict[str, int]) -> None:
    """Send every expensive command as often as the member's cooldowns allow, until `stop`."""
    async def one(command: str, n: int) -> None:
        record = await world.send(user, command, burst_options(command, n, ids))
        records.append(record)
        reply = await world.fake.reply(record, timeout=120)
        kind = "too fast" if "a little fast" in reply.text else "answered"
        outcomes[f"{command} {kind}"] = outcomes.get(f"{command} {kind}", 0) + 1

    async def command_loop(command: str, rate: int, window: float) -> None:
        n = 0
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.gather(*(one(command, n + k) for k in range(rate)))
            n += rate
            pause = window + 0.5 - (time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, pause))

    await asyncio.gather(*(command_loop(c, rate, window) for c, rate, window in BURST))


async def bench_burst(papers: int, seconds: float) -> None:
    corpus = await build(papers)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "burst.sqlite3"
        shutil.copyfile(corpus, copy)
        async with bot_over(copy, {"DIGESTBOT_COOLDOWN_SCALE": "1"}) as world:
            user = world.fake.add_user("burster")
            world.fake.add_member(world.guild, user)
            ids = prepare_member(copy, user.id)
            warm: list[InteractionRecord] = []
            await paper_round_trips(world, 2, warm)
            floor_records: list[InteractionRecord] = []
            floor = await paper_round_trips(world, seconds / 2, floor_records)
            stop = asyncio.Event()
            records: list[InteractionRecord] = []
            outcomes: dict[str, int] = {}
            burst = asyncio.create_task(bursting_member(world, user, ids, stop, records, outcomes))
            loaded = await paper_round_trips(world, seconds, records)
            stop.set()
            await burst
    others = [r.answered_at - r.sent_at for r in records if r.answered_at is not None and r.user_id != user.id]
    print(f"\n{papers:,} papers: one member's allowed burst of /search, /foryou days:60, /similar, /saved export, "
          f"/stats for {seconds:.0f} s; another member's /paper every 20 ms")
    print(f"  other member's /paper   floor p50 {statistics.median(floor) * 1000:6.1f}  p99 {percentile(floor, .99) * 1000:6.1f}"
          f"  max {max(floor) * 1000:6.1f} ms   during the burst p50 {statistics.median(loaded) * 1000:6.1f}"
          f"  p99 {percentile(loaded, .99) * 1000:6.1f}  max {max(loaded) * 1000:6.1f} ms"
          f"   ratio p99 {percentile(loaded, .99) / percentile(floor, .99):5.2f}   ({len(loaded)} requests)")
    firsts = [r.answered_at - r.sent_at for r in records if r.answered_at is not None]
    print(f"  first answer (reply or deferral), every interaction: p99 {percentile(firsts, .99) * 1000:6.0f} ms, "
          f"max {max(firsts) * 1000:6.0f} ms over {len(firsts)}; never answered: "
          f"{sum(1 for r in records if r.answered_at is None)}; other members' max {max(others or [0]) * 1000:6.0f} ms")
    print(f"  the burst: {', '.join(f'{v} {k}' for k, v in sorted(outcomes.items()))}")


async def bench(papers: int, seconds: float) -> None:
    corpus = await build(papers)
    async with bot_over(corpus) as world:
        warm: list[InteractionRecord] = []
        await paper_round_trips(world, 2, warm)
        idle_records: list[InteractionRecord] = []
        idle = await paper_round_trips(world, seconds / 2, idle_records)
        stop = asyncio.Event()
        records: list[InteractionRecord] = []
        outcomes: dict[str, int] = {}
        hostile = [asyncio.create_task(hostile_member(world, n, stop, records, outcomes)) for n in range(10)]
        await asyncio.sleep(1)  # every hostile search under way
        loaded = await paper_round_trips(world, seconds, records)
        stop.set()
        await asyncio.gather(*hostile)
    first_answers = [r.answered_at - r.sent_at for r in records if r.answered_at is not None]
    unanswered = sum(1 for r in records if r.answered_at is None)
    print(f"\n{papers:,} papers: ten members sending the worst searches for {seconds:.0f} s, /paper every 20 ms")
    print(f"  /paper round trip       idle p50 {statistics.median(idle) * 1000:6.1f} ms  p99 {percentile(idle, .99) * 1000:6.1f} ms"
          f"   under load p50 {statistics.median(loaded) * 1000:6.1f} ms  p99 {percentile(loaded, .99) * 1000:6.1f} ms"
          f"   ratio p99 {percentile(loaded, .99) / percentile(idle, .99):5.2f}   ({len(loaded)} requests)")
    print(f"  first answer (reply or deferral), every interaction: p99 {percentile(first_answers, .99) * 1000:6.0f} ms, "
          f"max {max(first_answers) * 1000:6.0f} ms over {len(first_answers)} interactions; never answered: {unanswered}")
    print(f"  worst searches: {', '.join(f'{v} {k}' for k, v in sorted(outcomes.items()))}")


async def run(sizes: list[int], seconds: float, scenario: str) -> None:
    for papers in sizes:
        await (bench_burst if scenario == "burst" else bench)(papers, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--scenario", choices=["searches", "burst"], default="searches")
    args = parser.parse_args()
    asyncio.run(run(args.papers, args.seconds, args.scenario))


if __name__ == "__main__":
    main()
