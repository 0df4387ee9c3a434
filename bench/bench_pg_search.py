"""Search on the PostgreSQL engine beside the SQLite engine, on the same papers in one run: latency and agreement.

    .venv/bin/python bench/bench_pg_search.py --papers 100000 1000000 --rounds 5

The SQLite corpus of bench/corpus.py is copied into a fresh PostgreSQL database the way an
operator moves a bot (`digestbot db migrate-to URL`: storage.migrate.SqliteToPostgres, every table
by COPY, then the search index rebuilt from the papers), then VACUUM (ANALYZE) as `digestbot db
vacuum` runs it. The server is bench/postgres.py's (the tests' launcher, with an operator's
durability). Then both databases are opened by storage.engine.open_database as the bot opens
them (3 readers, a search over 2 of them) and searched through storage.search.search_index(db):
bench_search's 23 English and Chinese queries x its 4 filters x `rounds`, each search being
`rank` plus the first page's rows (what /search waits for), alternating which engine goes
first. Prints p50 / p99 per engine and filter and for all searches together, the ratio
PostgreSQL / SQLite, and the agreement of the top 10: the share of queries whose ten ids (and
match count) are SQLite's exactly, in order, and the mean overlap of the two top-10 sets.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_search import FILTERS
from bench.common import QUERIES, ms, percentile
from bench.corpus import build
from bench.postgres import BenchServer, bench_server
from storage.engine import open_database
from storage.migrate import SqliteToPostgres
from storage.search import SearchFilters, SearchIndex, search_index

READERS = 3  # the bot's default (DIGESTBOT_DB_READERS); it searches over readers - 1
TARGET_RATIO = 2.0
TARGET_P99_MS = 300.0
TARGET_AGREEMENT = 0.9


def migrate(path: Path, url: str) -> None:
    """What `digestbot db migrate-to` does, timed: copy every table, rebuild the index, count, finish."""
    copy = SqliteToPostgres(path, url)
    try:
        copy.check_source()
        copy.plan(restart=True)
        began = time.perf_counter()
        rows = sum(copy.copy_table(table) for table, _ in copy.pending())
        copied = time.perf_counter() - began
        began = time.perf_counter()
        copy.rebuild_index()
        indexed = time.perf_counter() - began
        wrong = [c.table for c in copy.counts() if not c.ok]
        if wrong:
            raise SystemExit(f"row counts differ after the copy: {', '.join(wrong)}")
        copy.finish()
        began = time.perf_counter()
        copy.pg.execute("VACUUM (ANALYZE)")
        vacuumed = time.perf_counter() - began
        size = copy.pg.execute("SELECT pg_database_size(current_database()), "
                               "pg_total_relation_size('search_postings') + pg_total_relation_size('search_segments')").fetchone()
        segments = copy.pg.execute("SELECT count(*) FROM search_segments").fetchone()
        assert size is not None and segments is not None
    finally:
        copy.close()
    print(f"  migrate-to: {rows:,} rows copied in {copied:.1f} s, index rebuilt in {indexed:.1f} s "
          f"({segments[0]} segments), VACUUM (ANALYZE) {vacuumed:.1f} s; PostgreSQL {size[0] / 1e9:.2f} GB "
          f"(index {size[1] / 1e9:.2f} GB), SQLite file {path.stat().st_size / 1e9:.2f} GB")


async def one_search(index: SearchIndex, query: str, filters: SearchFilters) -> tuple[float, list[int], int]:
    start = time.perf_counter()
    ranking = await index.rank(query, filters)
    await index.papers(ranking.ids[:5])
    return time.perf_counter() - start, ranking.ids[:10], ranking.total


def line(label: str, times: dict[str, list[float]], same: int, overlap: list[float], queries: int) -> str:
    p50 = percentile(times["postgres"], .5) / percentile(times["sqlite"], .5)
    p99 = percentile(times["postgres"], .99) / percentile(times["sqlite"], .99)
    return (f"  {label:<17} SQLite {ms(times['sqlite'])}   PostgreSQL {ms(times['postgres'])}   "
            f"ratio p50 {p50:4.2f}, p99 {p99:4.2f}   top 10 identical {same}/{queries}, "
            f"mean overlap {statistics.mean(overlap):.3f}")


async def compare(path: Path, url: str, rounds: int) -> None:
    dbs = {"sqlite": await open_database(path, create=False, readers=READERS),
           "postgres": await open_database(url, readers=READERS)}
    indexes = {who: search_index(db, budget=30, parallel=READERS - 1) for who, db in dbs.items()}
    everything: dict[str, list[float]] = {"sqlite": [], "postgres": []}
    all_same = 0
    all_overlap: list[float] = []
    try:
        for query in QUERIES:  # warm both: page caches, PostgreSQL's shared buffers and its cached segment lengths
            for who in dbs:
                await one_search(indexes[who], query, SearchFilters())
        for label, filters in FILTERS:
            times: dict[str, list[float]] = {"sqlite": [], "postgres": []}
            same = 0
            overlap: list[float] = []
            for round_ in range(rounds):
                for query in QUERIES:
                    order = ("sqlite", "postgres") if round_ % 2 == 0 else ("postgres", "sqlite")
                    tops: dict[str, tuple[list[int], int]] = {}
                    for who in order:
                        spent, top, total = await one_search(indexes[who], query, filters)
                        times[who].append(spent)
                        tops[who] = (top, total)
                    if round_ == 0:
                        same += tops["postgres"] == tops["sqlite"]
                        mine, theirs = tops["postgres"][0], tops["sqlite"][0]
                        # Two empty lists agree entirely (a filter nothing passes).
                        overlap.append(len(set(mine) & set(theirs)) / max(len(theirs), len(mine)) if mine or theirs else 1.0)
            print(line(label, times, same, overlap, len(QUERIES)))
            for who in everything:
                everything[who] += times[who]
            all_same += same
            all_overlap += overlap
        searches = len(QUERIES) * len(FILTERS)
        print(line("all searches", everything, all_same, all_overlap, searches))
        p99 = percentile(everything["postgres"], .99)
        ratio = p99 / percentile(everything["sqlite"], .99)
        agreement = all_same / searches
        print(f"  targets: p99 {p99 * 1000:.1f} ms < {TARGET_P99_MS:.0f} ms {'met' if p99 * 1000 < TARGET_P99_MS else 'MISSED'}; "
              f"p99 ratio {ratio:.2f} <= {TARGET_RATIO:.0f} {'met' if ratio <= TARGET_RATIO else 'MISSED'}; "
              f"agreement {agreement:.3f} >= {TARGET_AGREEMENT} {'met' if agreement >= TARGET_AGREEMENT else 'MISSED'}")
    finally:
        for db in dbs.values():
            await db.close(optimize=False)


async def bench(server: BenchServer, papers: int, rounds: int) -> None:
    path = await build(papers)
    print(f"\n{papers:,} papers, {len(QUERIES)} queries x {len(FILTERS)} filters x {rounds} rounds; p50 / p99")
    name = f"bench_search_{papers}"
    url = server.database(name)
    try:
        db = await open_database(url, readers=1)  # the schema, by the project's migrations (as migrate-to does)
        await db.close()
        await asyncio.to_thread(migrate, path, url)
        await compare(path, url, rounds)
    finally:
        server.drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench_server() as server:
        print(f"PostgreSQL: {server.settings()}")
        for papers in args.papers:
            asyncio.run(bench(server, papers, args.rounds))


if __name__ == "__main__":
    main()
