"""Slash-command round trip through the fake Discord: event sent -> reply received.

    .venv/bin/python bench/bench_roundtrip.py [--papers 40000] [--rounds 10]

Builds a corpus of --papers papers (as bench_ingest_search.py does), starts the real bot process
against tests/fakediscord on 127.0.0.1, then sends /search with each of the benchmark queries
--rounds times, one at a time, and prints p50 / p99 / max of the time from the INTERACTION_CREATE
event leaving the fake to the interaction callback arriving at it. Also times /paper and a
Next-page click.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ingest_search import QUERIES, SAMPLES, measure_parse, percentile, scaled_copies  # noqa: E402
from bot.ingest.digest import find_digest_files  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.papers import PaperStore  # noqa: E402
from tests.botworld import build_world  # noqa: E402
from tests.fakediscord import FakeDiscord  # noqa: E402


async def build_corpus(path: Path, papers: int) -> None:
    _, _, parsed = measure_parse(find_digest_files([SAMPLES]), 1)
    db = await Database.open(path)
    store = PaperStore(db)
    for index, (day, day_papers) in enumerate(scaled_copies(parsed, papers)):
        await store.ingest(day_papers, date=day, source=f"bench-{index}", fmt="jsonl", language="", content_hash=f"bench-{index}")
    await db.close()


def report(label: str, timings: list[float]) -> None:
    print(f"{label:<18} n={len(timings):>4}  p50 {statistics.median(timings):6.2f} ms  "
          f"p99 {percentile(timings, 0.99):6.2f} ms  max {max(timings):6.2f} ms")


async def run(papers: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.sqlite3"
        start = time.perf_counter()
        await build_corpus(db_path, papers)
        print(f"corpus: {papers} papers built in {time.perf_counter() - start:.1f} s")
        fake = FakeDiscord()
        await fake.start()
        world = build_world(fake, db_path, Path(folder) / "bot.log", {"DIGESTBOT_LOG_LEVEL": "WARNING"})
        await world.bot.start()
        try:
            # Warm up: first queries pay for page cache and imports.
            for query in QUERIES[:3]:
                await world.run(world.member, "search", {"query": query})
            search: list[float] = []
            for _ in range(rounds):
                for query in QUERIES:
                    t0 = time.perf_counter()
                    await world.run(world.member, "search", {"query": query})
                    search.append((time.perf_counter() - t0) * 1000)
            report("/search", search)
            filtered: list[float] = []
            for _ in range(rounds):
                for query in QUERIES:
                    t0 = time.perf_counter()
                    await world.run(world.member, "search", {"query": query, "category": "cs.CV"})
                    filtered.append((time.perf_counter() - t0) * 1000)
            report("/search cs.CV", filtered)
            paper: list[float] = []
            for i in range(rounds * 10):
                t0 = time.perf_counter()
                await world.run(world.member, "paper", {"id": f"2000.{i:05d}"})
                paper.append((time.perf_counter() - t0) * 1000)
            report("/paper", paper)
            reply = await world.run(world.member, "search", {"query": "learning"})
            clicks: list[float] = []
            for _ in range(rounds * 5):
                t0 = time.perf_counter()
                reply = await world.click(world.member, reply, reply.custom_ids()[2])
                clicks.append((time.perf_counter() - t0) * 1000)
            report("Next page click", clicks)
        finally:
            await world.bot.stop()
            await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.papers, args.rounds))


if __name__ == "__main__":
    main()
