"""Ingest speed: the project beside plain sqlite3 floors on the same days, in one run.

    .venv/bin/python bench/bench_ingest.py [--days 184] [--papers 40000]

Real-like days: 184 days of 150-260 entries made from the sample digests, a third of them papers
listed again on a later day with a regenerated TL;DR (and, for Chinese papers, regenerated
summaries), as the upstream data branch has them (12,525 of its 37,877 entries are such). The
project stores each day with `PaperStore.ingest` (what `digestbot ingest` runs per file, parsing
aside); the floors are plain sqlite3 on the same schema and pragmas with the rows prepared
beforehand: one transaction per day re-indexing a paper only when its indexed text changed, and
the final state with every paper indexed once. Then a corpus of --papers distinct papers (no
re-listing). Prints entries per second, the ratio to each floor, and where the project's time
went. Parsing is measured on its own (MB/s over the sample files).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare
from bench.corpus import SAMPLES, corpus_days, sample_papers
from bench.floor import empty_database, ingest_once, ingest_per_day
from bot.ingest.batch import BATCH_FILES
from bot.ingest.digest import parse_digest_file
from bot.ingest.paper import Paper
from storage import ingest as ingest_module
from storage.ingest import DigestFile
from storage.papers import PaperStore
from storage.sqlite.database import Database


def regenerated(paper: Paper, rng: random.Random) -> Paper:
    """The same paper as the pipeline writes it again on a later day: a new TL;DR (and summaries)."""
    def again(text: str) -> str:
        words = text.split()
        if len(words) > 6:
            cut = rng.randint(3, len(words) - 2)
            words = words[cut:] + words[:cut]
        return " ".join(words) if words else text
    return dataclasses.replace(paper, tldr=again(paper.tldr), motivation=again(paper.motivation),
                               method=again(paper.method), authors=list(paper.authors), categories=list(paper.categories))


def real_like_days(count: int) -> list[tuple[dt.date, list[Paper]]]:
    """`count` days; about a third of each day's entries are papers of the previous week listed again."""
    pool = sample_papers()
    rng = random.Random(11)
    days: list[tuple[dt.date, list[Paper]]] = []
    fresh = 0
    for n in range(count):
        size = rng.randint(150, 260)
        recent = [p for _, day in days[-7:] for p in day]
        again = rng.sample(recent, min(len(recent), size // 3)) if recent else []
        new = []
        for _ in range(size - len(again)):
            base = pool[fresh % len(pool)]
            new.append(dataclasses.replace(base, arxiv_id=f"{2001 + fresh // 99999:04d}.{fresh % 99999:05d}",
                                           authors=list(base.authors), categories=list(base.categories)))
            fresh += 1
        days.append((dt.date(2025, 6, 1) + dt.timedelta(days=n), new + [regenerated(p, rng) for p in again]))
    return days


async def project_ingest(path: Path, days: list[tuple[dt.date, list[Paper]]], batch: int = 1) -> tuple[float, dict[str, float]]:
    """`batch` days per transaction: 1 as the poll stores a day, BATCH_FILES as `digestbot ingest` stores a folder."""
    db = await Database.open(path)
    store = PaperStore(db)
    ingest_module.PHASE_TIMES = {}
    files = [DigestFile(papers, day, f"bench/{day}.jsonl", "jsonl", "", f"b{n}") for n, (day, papers) in enumerate(days)]
    start = time.perf_counter()
    for first in range(0, len(files), batch):
        await store.ingest_many(files[first:first + batch])
    elapsed = time.perf_counter() - start
    phases = ingest_module.PHASE_TIMES
    ingest_module.PHASE_TIMES = None
    await db.close()
    return elapsed, phases


async def floor_ingest(path: Path, days: list[tuple[dt.date, list[Paper]]], once: bool) -> float:
    conn = await empty_database(path)
    start = time.perf_counter()
    (ingest_once if once else ingest_per_day)(conn, days)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def measure_parse() -> float:
    files = [p for p in sorted(SAMPLES.iterdir()) if p.name != "README.md"]
    size = sum(p.stat().st_size for p in files)
    best = min(_timed_parse(files) for _ in range(3))
    return size / best / 1e6


def _timed_parse(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        parse_digest_file(path)
    return time.perf_counter() - start


async def run(day_count: int, corpus: int) -> None:
    print(f"parse: {measure_parse():.0f} MB/s over the sample digests")
    days = real_like_days(day_count)
    entries = sum(len(p) for _, p in days)
    relisted = entries - len({p.arxiv_id for _, ps in days for p in ps})
    print(f"\nreal-like days: {day_count} days, {entries:,} entries, {relisted:,} of them papers listed again")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        per_day = await floor_ingest(out / "per_day.sqlite3", days, once=False)
        once = await floor_ingest(out / "once.sqlite3", days, once=True)
        daily, daily_phases = await project_ingest(out / "project.sqlite3", days)
        bulk, bulk_phases = await project_ingest(out / "bulk.sqlite3", days, batch=BATCH_FILES)
        print(compare("a day per transaction vs per-day floor", entries / daily, entries / per_day, "entries/s"))
        print(compare("digestbot ingest (batches) vs indexed-once", entries / bulk, entries / once, "entries/s"))
        for label, elapsed, phases in (("a day per transaction", daily, daily_phases), ("batches", bulk, bulk_phases)):
            spent = sum(phases.values())
            print(f"  where the time went, {label}: " + ", ".join(
                f"{name} {seconds:.2f} s ({seconds / elapsed:.0%})" for name, seconds in sorted(phases.items(), key=lambda kv: -kv[1])
            ) + f"; outside the writer {elapsed - spent:.2f} s ({(elapsed - spent) / elapsed:.0%})")

        distinct = list(corpus_days(corpus))
        total = sum(len(p) for _, p in distinct)
        print(f"\ncorpus of {total:,} distinct papers in {len(distinct)} days")
        project, _ = await project_ingest(out / "project2.sqlite3", distinct)
        per_day = await floor_ingest(out / "per_day2.sqlite3", distinct, once=False)
        print(compare("ingest vs per-day floor", total / project, total / per_day, "papers/s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=184)
    parser.add_argument("--papers", type=int, default=40_000)
    args = parser.parse_args()
    asyncio.run(run(args.days, args.papers))


if __name__ == "__main__":
    main()
