"""Search latency at 100,000 and 1,000,000 papers, the project beside the bare bm25 floor in one run.

    .venv/bin/python bench/bench_search.py --papers 100000 1000000 --rounds 3

Project: `SearchIndex.rank` (every match ranked by bm25, split across reader connections, the
count, the ranked ids of the first pages) plus the first page's paper rows: what /search waits
for. Floor: plain sqlite3, one connection, the same FTS5 expression, `ORDER BY bm25 LIMIT 10`
and nothing else. Both in this process, on the same file. Agreement: the share of queries whose
top 10 are the same papers as the floor's (ties in score broken the same way, newest first).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import QUERIES, ms, percentile
from bench.corpus import build
from storage.fts_query import build_match
from storage.search import SearchFilters, SearchIndex
from storage.sqlite.database import Database

RANK = "bm25(papers_fts, 8.0, 4.0, 3.0, 1.0, 1.5, 0.0)"
DATES = "SELECT dp.paper_id FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id WHERE d.date BETWEEN ? AND ?"
FILTERS = [
    ("no filter", SearchFilters()),
    ("category", SearchFilters(category="cs.CV")),
    ("category + dates", SearchFilters(category="cs.LG", since=dt.date(2021, 3, 1), until=dt.date(2021, 4, 30))),
    ("author", SearchFilters(author="Zhang")),
]


def floor_top10(conn: sqlite3.Connection, query: str, filters: SearchFilters) -> list[int]:
    """The bare query a person would write: bm25 top 10 of the same expression."""
    match = build_match(query, author=filters.author, category=filters.category)
    if filters.since or filters.until:
        # `+rowid`: without it SQLite looks every listed paper up in FTS5 one by one (38 s at 1M).
        sql = (f"SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? AND +rowid IN ({DATES}) "
               f"ORDER BY {RANK}, rowid DESC LIMIT 10")
        params: tuple[object, ...] = (match, str(filters.since), str(filters.until))
    else:
        sql = f"SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY {RANK}, rowid DESC LIMIT 10"
        params = (match,)
    return [row[0] for row in conn.execute(sql, params)]


async def bench(papers: int, rounds: int) -> None:
    path = await build(papers)
    db = await Database.open(path, create=False, readers=3)
    index = SearchIndex(db, budget=30)
    floor = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    floor.execute("PRAGMA cache_size = -16000")
    print(f"\n{papers:,} papers ({path.stat().st_size / 1e9:.2f} GB), {len(QUERIES)} queries x {rounds} rounds; "
          "p50 / p99")
    try:
        for query in QUERIES[:4]:  # warm the page cache for both
            await index.rank(query)
            floor_top10(floor, query, SearchFilters())
        for label, filters in FILTERS:
            project_times: list[float] = []
            floor_times: list[float] = []
            agree = 0
            for round_ in range(rounds):
                for query in QUERIES:
                    # Alternate who goes first, so neither always gets the warmer cache.
                    order = (0, 1) if round_ % 2 == 0 else (1, 0)
                    for who in order:
                        start = time.perf_counter()
                        if who == 0:
                            ranking = await index.rank(query, filters)
                            await index.papers(ranking.ids[:5])
                            project_times.append(time.perf_counter() - start)
                            mine = ranking.ids[:10]
                        else:
                            theirs = floor_top10(floor, query, filters)
                            floor_times.append(time.perf_counter() - start)
                    if round_ == 0:
                        agree += mine == theirs
            print(f"  {label:<18} project {ms(project_times)}   floor {ms(floor_times)}   ratio p50 "
                  f"{percentile(project_times, .5) / percentile(floor_times, .5):4.2f}, p99 "
                  f"{percentile(project_times, .99) / percentile(floor_times, .99):4.2f}   top 10 agrees {agree}/{len(QUERIES)}")
    finally:
        floor.close()
        await db.close(optimize=False)


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
