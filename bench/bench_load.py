"""No member can stall the bot: /paper while ten members run the worst searches, through the real bot.

    .venv/bin/python bench/bench_load.py --papers 100000 1000000 --seconds 20

The bot process runs over the bench corpus against the fake Discord. First /paper alone (the
floor: the same requests on an idle bot), then ten members each send the most expensive
searches the query budget allows (prefixes, a dozen common words, ORs), one after another for
--seconds, while another member sends /paper every 20 ms. Per-member cooldowns are off, so the
database isolation (reader pool, time budget) is what is measured. Prints /paper p50 / p99
under load beside the idle floor, and the longest time any interaction waited for its first
answer (a reply or a deferral; Discord drops one not answered within 3 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.botrun import bot_over
from bench.common import WORST_QUERIES, percentile
from bench.corpus import build
from tests.botworld import World
from tests.fakediscord import InteractionRecord

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


async def run(sizes: list[int], seconds: float) -> None:
    for papers in sizes:
        await bench(papers, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.papers, args.seconds))


if __name__ == "__main__":
    main()
