"""Measure parsing, ingesting and searching on the sample digests scaled up to a corpus size.

    .venv/bin/python bench/bench_ingest_search.py [--papers 40000] [FOLDER...]

Prints: parse MB/s over the digest files; ingest papers/s (including the FTS index) while
building a corpus of --papers papers from the samples (each copy gets new arXiv ids and a new
date, so every paper is distinct); the database size; and search latency p50/p99 over a fixed
list of English and Chinese queries, with and without filters.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ingest.digest import find_digest_files, parse_digest_bytes  # noqa: E402
from bot.ingest.paper import Paper  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.papers import PaperStore  # noqa: E402
from storage.search import SearchFilters, SearchIndex  # noqa: E402

SAMPLES = ROOT / "tests" / "fixtures" / "digests"
QUERIES = [
    "diffusion", "diffusion model", '"large language model"', "reinforcement learning", "GPT-4o",
    "self-supervised", "transformer attention", "robot manipulation", "graph neural network",
    "benchmark", "learning", "retrieval augmented generation", "video generation", "C++", "e.g.",
    "扩散模型", "强化学习", "幻觉", "大语言模型", "多模态", "机器人", "视频生成", "检索增强",
]
FILTERS = [
    ("none", SearchFilters()),
    ("category", SearchFilters(category="cs.CV")),
    ("category+dates", SearchFilters(category="cs.LG", since=dt.date(2025, 3, 1), until=dt.date(2025, 4, 30))),
    ("author", SearchFilters(author="Zhang")),
]


def measure_parse(files: list[Path], rounds: int) -> tuple[float, int, list[list[Paper]]]:
    blobs = [(f.name, f.read_bytes()) for f in files]
    total = sum(len(b) for _, b in blobs)
    parsed: list[list[Paper]] = []
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        parsed = [parse_digest_bytes(name, data).papers for name, data in blobs]
        best = min(best, time.perf_counter() - start)
    return total / best / 1e6, total, parsed


def scaled_copies(digests: list[list[Paper]], target: int) -> list[tuple[dt.date, list[Paper]]]:
    """Copies of the sample days with fresh ids and dates until `target` distinct papers exist."""
    days: list[tuple[dt.date, list[Paper]]] = []
    count = 0
    copy = 0
    day = dt.date(2025, 1, 1)
    while count < target:
        index = 0
        for papers in digests:
            unique = {p.arxiv_id: p for p in papers}
            renamed = []
            for paper in unique.values():
                if count >= target:
                    break
                renamed.append(dataclasses.replace(paper, arxiv_id=f"{2000 + copy}.{index:05d}", abs_url="", pdf_url="", categories=list(paper.categories)))
                index += 1
                count += 1
            if renamed:
                days.append((day, renamed))
                day += dt.timedelta(days=1)
        copy += 1
    return days


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(target: int, files: list[Path], rounds: int) -> None:
    mbps, total_bytes, parsed = measure_parse(files, rounds)
    print(f"parse: {len(files)} files, {total_bytes / 1e6:.1f} MB, best of {rounds}: {mbps:.0f} MB/s")

    days = scaled_copies(parsed, target)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        db = await Database.open(path)
        store = PaperStore(db)
        start = time.perf_counter()
        cpu_start = time.process_time()
        papers = 0
        for index, (day, day_papers) in enumerate(days):
            result = await store.ingest(day_papers, date=day, source=f"bench-{index}", fmt="jsonl", language="", content_hash=f"bench-{index}")
            papers += result.papers
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        # CPU time (all threads) varies less than wall time on a shared machine; both are printed.
        print(f"ingest: {papers} papers in {len(days)} digests, {elapsed:.1f} s: {papers / elapsed:.0f} papers/s "
              f"(FTS index included); CPU {cpu:.1f} s: {papers / cpu:.0f} papers per CPU-second")

        reingest_start = time.perf_counter()
        for index, (day, day_papers) in enumerate(days[:5]):
            await store.ingest(day_papers, date=day, source=f"again-{index}", fmt="jsonl", language="", content_hash=f"again-{index}")
        reingest = time.perf_counter() - reingest_start
        print(f"re-ingest of 5 known days (update path): {sum(len(d[1]) for d in days[:5]) / reingest:.0f} papers/s")

        await db.close()
        size = sum(p.stat().st_size for p in Path(folder).glob("bench.sqlite3*"))
        print(f"database: {size / 1e6:.1f} MB for {papers} papers ({size / papers / 1024:.1f} KiB per paper)")

        db = await Database.open(path)
        search = SearchIndex(db)
        for label, filters in FILTERS:
            timings: list[float] = []
            hits: list[int] = []
            for _ in range(rounds):
                for query in QUERIES:
                    t0 = time.perf_counter()
                    page = await search.search(query, filters, limit=5)
                    timings.append((time.perf_counter() - t0) * 1000)
                    hits.append(page.total)
            print(
                f"search [{label:<14}] {len(timings)} queries: p50 {statistics.median(timings):.2f} ms, "
                f"p99 {percentile(timings, 0.99):.2f} ms, max {max(timings):.2f} ms, median hits {statistics.median(hits):.0f}"
            )
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path, help="extra digest folders to parse and ingest")
    parser.add_argument("--papers", type=int, default=40_000, help="corpus size to build (default 40000)")
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of the parse and query runs")
    args = parser.parse_args()
    files = find_digest_files([SAMPLES, *args.folders])
    asyncio.run(run(args.papers, files, args.rounds))


if __name__ == "__main__":
    main()
