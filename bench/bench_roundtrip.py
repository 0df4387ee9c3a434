"""Slash-command round trips through the fake Discord at 100,000 and 1,000,000 papers.

    .venv/bin/python bench/bench_roundtrip.py --papers 100000 1000000 --rounds 3

The real bot process over the bench corpus; each command is timed from the INTERACTION_CREATE
event leaving the fake to the reply the member sees, one at a time. /search runs every bench
query; its floor is the bare bm25 top 10 of the same query (plain sqlite3, this process, same
file) measured in the same run. Next page clicks on a broad search (every page from the ids the
search kept), /paper by id.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_search import floor_top10
from bench.botrun import bot_over
from bench.common import QUERIES, percentile
from bench.corpus import build
from storage.search import SearchFilters
from tests.botworld import World


def line(label: str, timings: list[float], floor: list[float] | None = None) -> str:
    text = (f"  {label:<26} p50 {statistics.median(timings) * 1000:7.1f} ms  p99 {percentile(timings, .99) * 1000:7.1f} ms"
            f"  (n={len(timings)})")
    if floor:
        text += (f"   floor p50 {statistics.median(floor) * 1000:6.1f} ms  p99 {percentile(floor, .99) * 1000:6.1f} ms"
                 f"   ratio p99 {percentile(timings, .99) / percentile(floor, .99):4.2f}")
    return text


async def timed(world: World, name: str, options: dict[str, object]) -> float:
    record = await world.send(world.member, name, options)
    await world.fake.reply(record, timeout=30)
    return time.monotonic() - record.sent_at


async def bench(papers: int, rounds: int) -> None:
    corpus = await build(papers)
    floor_conn = sqlite3.connect(f"file:{corpus}?mode=ro", uri=True)
    async with bot_over(corpus) as world:
        for query in QUERIES[:5]:
            await timed(world, "search", {"query": query})
            floor_top10(floor_conn, query, SearchFilters())
        search: list[float] = []
        floor: list[float] = []
        for _ in range(rounds):
            for query in QUERIES:
                search.append(await timed(world, "search", {"query": query}))
                start = time.perf_counter()
                floor_top10(floor_conn, query, SearchFilters())
                floor.append(time.perf_counter() - start)
        pages: list[float] = []
        for query in ("learning", "model", "diffusion"):
            reply = await world.run(world.member, "search", {"query": query})
            for _ in range(rounds * 6):
                record = await world.fake.click(world.member, reply.message, reply.button("Next"))  # type: ignore[arg-type]
                reply = await world.fake.reply(record, timeout=30)
                pages.append(time.monotonic() - record.sent_at)
        paper = [await timed(world, "paper", {"id": f"2001.{n:05d}"}) for n in range(0, rounds * 300, 3)]
    floor_conn.close()
    print(f"\n{papers:,} papers")
    print(line("/search round trip", search, floor))
    print(line("Next page click", pages))
    print(line("/paper round trip", paper))


async def run(sizes: list[int], rounds: int) -> None:
    for papers in sizes:
        await bench(papers, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.papers, args.rounds))


if __name__ == "__main__":
    main()
