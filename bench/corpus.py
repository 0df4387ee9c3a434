"""Build (once) and reuse a corpus of N distinct papers made from the sample digests.

    .venv/bin/python bench/corpus.py --papers 1000000

Each copy of a sample paper gets a new arXiv id and a new day, and a deterministic variation of
its text (a share of its abstract and TL;DR sentences kept, in a varied order), so copies differ
the way papers on one topic do and ranking has no ties. Days are ingested through the project's
own PaperStore, 200-450 papers a day as the real pipeline writes them. The file is kept in
bench/out/ and reused while the recipe below is unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.common  # noqa: E402,F401  (SQLite set up before the first connection)
from bot.ingest.digest import parse_digest_file  # noqa: E402
from bot.ingest.paper import Paper  # noqa: E402
from storage.papers import PaperStore  # noqa: E402
from storage.sqlite.database import Database  # noqa: E402

SAMPLES = ROOT / "tests" / "fixtures" / "digests"
OUT = ROOT / "bench" / "out"
RECIPE = "corpus-v3"  # change when the way papers are made changes: old files are then rebuilt
FIRST_DAY = dt.date(2020, 1, 1)
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")


def sample_papers() -> list[Paper]:
    """Every distinct paper of the sample digests (dated ones and the undated markdown files)."""
    seen: dict[str, Paper] = {}
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix in (".md", ".jsonl", ".txt") and path.name != "README.md":
            for paper in parse_digest_file(path).papers:
                seen.setdefault(paper.arxiv_id, paper)
    return list(seen.values())


def _vary(text: str, rng: random.Random) -> str:
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    if len(sentences) < 3:
        return text
    keep = max(2, int(len(sentences) * rng.uniform(0.55, 1.0)))
    chosen = sorted(rng.sample(range(len(sentences)), keep))
    if rng.random() < 0.5:
        rng.shuffle(chosen)
    return " ".join(sentences[i] for i in chosen)


def corpus_days(total: int, papers: list[Paper] | None = None) -> Iterator[tuple[dt.date, list[Paper]]]:
    """Days of distinct papers until `total` exist: 200-450 a day, like the real pipeline."""
    papers = papers or sample_papers()
    rng = random.Random(7)
    made = 0
    day = FIRST_DAY
    index = 0
    while made < total:
        size = min(total - made, rng.randint(200, 450))
        batch = []
        for _ in range(size):
            copy, position = divmod(index, len(papers))
            batch.append(_unique_copy(papers[position], index, copy))
            index += 1
        made += size
        yield day, batch
        day += dt.timedelta(days=1)


def _unique_copy(paper: Paper, index: int, copy: int) -> Paper:
    # arXiv ids `YYMM.NNNNN`: 100,000 papers per invented month, months counted from 2001.
    month = index // 100_000
    yymm = f"{20 + month // 12:02d}{month % 12 + 1:02d}"
    rng = random.Random(index)
    return dataclasses.replace(
        paper,
        arxiv_id=f"{yymm}.{index % 100_000:05d}",
        abstract=_vary(paper.abstract, rng) if copy else paper.abstract,
        tldr=_vary(paper.tldr, rng) if copy else paper.tldr,
        authors=list(paper.authors),
        categories=list(paper.categories),
    )


def corpus_path(total: int) -> Path:
    return OUT / f"corpus-{total}.sqlite3"


async def build(total: int, *, quiet: bool = False) -> Path:
    """Return the corpus file of `total` papers, building it first if it is missing or stale."""
    path = corpus_path(total)
    if path.exists():
        db = await Database.open(path, create=False)
        try:
            recipe = await db.fetchone("SELECT value FROM meta WHERE key = 'bench_recipe'")
        finally:
            await db.close(optimize=False)
        if recipe is not None and recipe[0] == RECIPE:
            return path
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    db = await Database.open(path, write_wait=60)
    store = PaperStore(db)
    started = time.perf_counter()
    made = 0
    for n, (day, papers) in enumerate(corpus_days(total)):
        await store.ingest(papers, date=day, source=f"corpus/{day}.jsonl", fmt="jsonl", language="", content_hash=f"c{n}",
                           arrival="backfill", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        made += len(papers)
        if not quiet and n % 200 == 0:
            rate = made / max(1e-9, time.perf_counter() - started)
            print(f"\r  building corpus: {made:,} of {total:,} papers ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    async with db.transaction() as conn:
        await conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('bench_recipe', ?)", (RECIPE,))
        # Merge the index into few segments, as `digestbot db vacuum` would on a long-lived database.
        await conn.execute("INSERT INTO papers_fts (papers_fts) VALUES ('optimize')")
    await db.close()
    if not quiet:
        print(f"\r  built corpus of {total:,} papers in {time.perf_counter() - started:.0f} s at {path}", file=sys.stderr)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=100_000)
    args = parser.parse_args()
    print(asyncio.run(build(args.papers)))


if __name__ == "__main__":
    main()
