"""PostgreSQL search beside SQLite search on the same corpus, in one run: index build, latency, agreement.

    .venv/bin/python bench/bench_pg_search.py --papers 100000 1000000 --rounds 3

Loads bench/corpus.py's SQLite corpus into a throwaway PostgreSQL server (bench/pg_launch.py):
the papers and listings by COPY, then the index through storage.postgres.search_index.index_papers
in batches, timed beside SQLite's FTS5 taking the same fts_values rows in the same batches (a fresh
contentless papers_fts); the last papers go in as days of 300 on both. Then bench_search's 23
queries x 4 filters x rounds on SQLite's SearchIndex and on PostgresSearchIndex (+ the first page's
rows on both), p50 / p99 and their ratio, and how often PostgreSQL's top 10 is SQLite's exact bm25
top 10: the same set, and the same order.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench.bench_search import FILTERS
from bench.common import QUERIES, ms, percentile
from bench.corpus import build
from bench.pg_adapter import BASE_SCHEMA, AsyncDb, SyncConn
from bench.pg_launch import server
from storage.ingest import fts_values
from storage.postgres.search_index import PostgresSearchIndex, index_papers
from storage.search import SearchIndex
from storage.sqlite.database import Database

MIGRATION = Path(__file__).resolve().parent.parent / "storage" / "postgres" / "migrations" / "0002_search_index.sql"
FTS = ("CREATE VIRTUAL TABLE papers_fts USING fts5(title, authors, tldr, abstract, details, categories, "
       "content = '', tokenize = 'unicode61 remove_diacritics 2')")
DAYS = 5
DAY = 300


def copy_tables(src: sqlite3.Connection, pg: psycopg.Connection) -> None:
    for table in ("papers", "digests", "digest_papers", "paper_categories"):
        columns = [r[0] for r in pg.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (table,)).fetchall()]
        with pg.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in src.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                copy.write_row(row)
    pg.commit()


def load_index(src: sqlite3.Connection, pg: psycopg.Connection, batch: int) -> None:
    """Index every paper on both engines in the same batches; print the times."""
    lite = sqlite3.connect(str(Path(src.execute("PRAGMA database_list").fetchone()[2]).with_suffix(".fts-only.sqlite3")))
    lite.execute("DROP TABLE IF EXISTS papers_fts")
    lite.execute(FTS)
    lite.commit()
    ids = [r[0] for r in src.execute("SELECT id FROM papers ORDER BY id")]
    bulk, daily = ids[:-DAYS * DAY], ids[-DAYS * DAY:]
    batches = [bulk[n:n + batch] for n in range(0, len(bulk), batch)]
    days = [daily[n:n + DAY] for n in range(0, len(daily), DAY)]
    times = {"values": 0.0, "sqlite": 0.0, "pg": 0.0, "sqlite day": 0.0, "pg day": 0.0}
    day_times: dict[str, list[float]] = {"sqlite": [], "pg": []}
    conn = SyncConn(pg)
    for kind, groups in (("", batches), (" day", days)):
        for group in groups:
            start = time.perf_counter()
            rows = src.execute(f"SELECT * FROM papers WHERE id BETWEEN {group[0]} AND {group[-1]} ORDER BY id").fetchall()
            values = [(int(r["id"]), fts_values(dict(r))) for r in rows]
            times["values"] += time.perf_counter() - start
            start = time.perf_counter()
            lite.executemany("INSERT INTO papers_fts (rowid, title, authors, tldr, abstract, details, categories) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", [(i, *v) for i, v in values])
            lite.commit()
            spent = time.perf_counter() - start
            times["sqlite" + kind] += spent
            if kind:
                day_times["sqlite"].append(spent)
            start = time.perf_counter()
            index_papers(conn, values, [])
            pg.commit()
            spent = time.perf_counter() - start
            times["pg" + kind] += spent
            if kind:
                day_times["pg"].append(spent)
    lite.close()
    print(f"  index build, {len(bulk):,} papers in batches of {batch:,}: SQLite FTS5 {times['sqlite']:.1f} s, "
          f"PostgreSQL {times['pg']:.1f} s, ratio {times['pg'] / times['sqlite']:.2f} "
          f"(fts_values, shared, {times['values']:.1f} s)")
    print(f"  then {DAYS} days of {DAY}: SQLite {ms(day_times['sqlite'])}, PostgreSQL {ms(day_times['pg'])} per day")
    size = pg.execute("SELECT pg_total_relation_size('search_postings') + pg_total_relation_size('search_segments')").fetchone()
    segs = pg.execute("SELECT count(*), sum(papers), sum(tokens) FROM search_segments").fetchone()
    print(f"  PostgreSQL index {size[0] / 1e9:.2f} GB, {segs[0]} segments, {segs[1]:,} papers, {segs[2]:,} tokens")


async def compare(path: Path, dsn: str, rounds: int) -> None:
    lite_db = await Database.open(path, create=False, readers=3)
    lite = SearchIndex(lite_db, budget=30)
    pg_db = await AsyncDb.open(dsn, readers=2)
    pg = PostgresSearchIndex(pg_db, budget=30)
    try:
        for query in QUERIES[:4]:
            await lite.rank(query)
            await pg.rank(query)
        for label, filters in FILTERS:
            times: dict[str, list[float]] = {"sqlite": [], "pg": []}
            same_set = same_order = 0
            for round_ in range(rounds):
                for query in QUERIES:
                    order = ("sqlite", "pg") if round_ % 2 == 0 else ("pg", "sqlite")
                    tops = {}
                    for who in order:
                        index = lite if who == "sqlite" else pg
                        start = time.perf_counter()
                        ranking = await index.rank(query, filters)
                        await index.papers(ranking.ids[:5])
                        times[who].append(time.perf_counter() - start)
                        tops[who] = (ranking.ids[:10], ranking.total)
                    if round_ == 0:
                        same_set += set(tops["pg"][0]) == set(tops["sqlite"][0]) and tops["pg"][1] == tops["sqlite"][1]
                        same_order += tops["pg"] == tops["sqlite"]
            p99 = percentile(times["pg"], .99) / percentile(times["sqlite"], .99)
            p50 = percentile(times["pg"], .5) / percentile(times["sqlite"], .5)
            print(f"  {label:<17} SQLite {ms(times['sqlite'])}   PostgreSQL {ms(times['pg'])}   ratio p50 {p50:4.2f}, "
                  f"p99 {p99:4.2f}   top 10 same set {same_set}/{len(QUERIES)}, same order {same_order}/{len(QUERIES)}")
    finally:
        await pg_db.close()
        await lite_db.close(optimize=False)


async def bench(papers: int, rounds: int, batch: int) -> None:
    path = await build(papers)
    print(f"\n{papers:,} papers, {len(QUERIES)} queries x {rounds} rounds; p50 / p99")
    with server("/tmp/pgbench", "shared_buffers=1GB", "work_mem=64MB") as dsn:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        src.row_factory = sqlite3.Row
        with psycopg.connect(dsn) as pg:
            pg.execute(BASE_SCHEMA)
            pg.execute(MIGRATION.read_text())
            pg.commit()
            copy_tables(src, pg)
            load_index(src, pg, batch)
            pg.commit()
            pg.autocommit = True
            pg.execute("VACUUM ANALYZE")
        src.close()
        await compare(path, dsn, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8192, help="papers per index_papers call in the bulk load")
    args = parser.parse_args()
    for papers in args.papers:
        asyncio.run(bench(papers, args.rounds, args.batch))


if __name__ == "__main__":
    main()
