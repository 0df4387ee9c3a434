"""Ingest speed: the project beside plain sqlite3 floors on the same days, in one run.

    .venv/bin/python bench/bench_ingest.py [--days 184] [--papers 40000] [--engine both|sqlite|postgres]

Real-like days: 184 days of 150-260 entries made from the sample digests, a third of them papers
listed again on a later day with a regenerated TL;DR (and, for Chinese papers, regenerated
summaries), as the upstream data branch has them (12,525 of its 37,877 entries are such). The
project stores each day with `PaperStore.ingest` (what `digestbot ingest` runs per file, parsing
aside); the floors are plain sqlite3 on the same schema and pragmas with the rows prepared
beforehand: one transaction per day re-indexing a paper only when its indexed text changed, and
the final state with every paper indexed once. Then a corpus of --papers distinct papers (no
re-listing). Prints entries per second, the ratio to each floor, and where the project's time
went. Parsing is measured on its own (MB/s over the sample files).

The PostgreSQL engine (with --engine both, the default, when a server can be had: bench/postgres.py)
stores the same days in the same run, each into a fresh database, through the same PaperStore
code; it prints both engines' times and the ratio PostgreSQL / SQLite, and where its time went.
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
from bench.postgres import BenchServer, Unavailable, bench_server
from bot.ingest.batch import BATCH_FILES
from bot.ingest.digest import parse_digest_file
from bot.ingest.paper import Paper
from storage import ingest as ingest_module
from storage.engine import open_database
from storage.ingest import DigestFile
from storage.papers import PaperStore


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


async def project_ingest(location: Path | str, days: list[tuple[dt.date, list[Paper]]],
                         batch: int = 1) -> tuple[float, dict[str, float]]:
    """`batch` days per transaction: 1 as the poll stores a day, BATCH_FILES as `digestbot ingest` stores a folder.

    `location`: a new SQLite file, or the URL of an empty PostgreSQL database.
    """
    db = await open_database(location)
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


async def same_searches(sqlite: Path, postgres: str) -> tuple[int, int]:
    """bench_search's queries and filters on both engines after the same ingest: how many give the same top 10 and count."""
    from bench.bench_search import FILTERS
    from bench.common import QUERIES
    from storage.search import search_index

    dbs = [await open_database(sqlite, create=False), await open_database(postgres, create=False)]
    try:
        indexes = [search_index(db, budget=30) for db in dbs]
        same = 0
        for _, filters in FILTERS:
            for query in QUERIES:
                lite, pg = [await index.rank(query, filters, depth=10) for index in indexes]
                same += (lite.ids, lite.total) == (pg.ids, pg.total)
        return same, len(FILTERS) * len(QUERIES)
    finally:
        for db in dbs:
            await db.close(optimize=False)


def where_the_time_went(label: str, elapsed: float, phases: dict[str, float]) -> str:
    spent = sum(phases.values())
    return f"  where the time went, {label}: " + ", ".join(
        f"{name} {seconds:.2f} s ({seconds / elapsed:.0%})" for name, seconds in sorted(phases.items(), key=lambda kv: -kv[1])
    ) + f"; outside the writer {elapsed - spent:.2f} s ({(elapsed - spent) / elapsed:.0%})"


def engines(label: str, sqlite: float, postgres: float, count: int, unit: str) -> str:
    """One line of the two engines on the same rows: time and rate of each, ratio of the times."""
    return (f"{label:<40} SQLite {sqlite:6.2f} s ({count / sqlite:7,.0f} {unit})   PostgreSQL {postgres:6.2f} s "
            f"({count / postgres:7,.0f} {unit})   ratio PostgreSQL / SQLite {postgres / sqlite:4.2f}")


async def run(day_count: int, corpus: int, server: BenchServer | None) -> None:
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
            print(where_the_time_went(label, elapsed, phases))
        if server is not None:
            pg_daily, pg_daily_phases = await project_ingest(server.database("bench_ingest_daily"), days)
            pg_bulk, pg_bulk_phases = await project_ingest(server.database("bench_ingest_bulk"), days, batch=BATCH_FILES)
            print("\nthe same days on the PostgreSQL engine (a fresh database each):")
            print(engines("a day per transaction", daily, pg_daily, entries, "entries/s"))
            print(engines("digestbot ingest (batches)", bulk, pg_bulk, entries, "entries/s"))
            for label, elapsed, phases in (("a day per transaction", pg_daily, pg_daily_phases),
                                           ("batches", pg_bulk, pg_bulk_phases)):
                print(where_the_time_went(f"PostgreSQL, {label}", elapsed, phases))
            for label, lite, pg in (("a day per transaction", out / "project.sqlite3", "bench_ingest_daily"),
                                    ("batches", out / "bulk.sqlite3", "bench_ingest_bulk")):
                same, asked = await same_searches(lite, server.server.url(pg))
                print(f"  then the same searches on both ({label}): top 10 and count identical for {same} of {asked}")
            server.drop("bench_ingest_daily")
            server.drop("bench_ingest_bulk")

        distinct = list(corpus_days(corpus))
        total = sum(len(p) for _, p in distinct)
        print(f"\ncorpus of {total:,} distinct papers in {len(distinct)} days")
        project, _ = await project_ingest(out / "project2.sqlite3", distinct)
        per_day = await floor_ingest(out / "per_day2.sqlite3", distinct, once=False)
        print(compare("ingest vs per-day floor", total / project, total / per_day, "papers/s"))
        if server is not None:
            pg_project, _ = await project_ingest(server.database("bench_ingest_corpus"), distinct)
            print(engines("ingest, a day per transaction", project, pg_project, total, "papers/s"))
            server.drop("bench_ingest_corpus")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=184)
    parser.add_argument("--papers", type=int, default=40_000)
    parser.add_argument("--engine", choices=("both", "sqlite", "postgres"), default="both",
                        help="both: the PostgreSQL engine beside SQLite when a server can be had; postgres: "
                             "the same, but fail without a server")
    args = parser.parse_args()
    if args.engine == "sqlite":
        asyncio.run(run(args.days, args.papers, None))
        return
    try:
        with bench_server() as server:
            print(f"PostgreSQL: {server.settings()}")
            asyncio.run(run(args.days, args.papers, server))
    except Unavailable as exc:
        if args.engine == "postgres":
            raise SystemExit(f"no PostgreSQL server: {exc}") from None
        print(f"(PostgreSQL engine skipped: {exc})")
        asyncio.run(run(args.days, args.papers, None))


if __name__ == "__main__":
    main()
