"""The bot's resident memory over a 1,000,000-paper database: at start, after a burst of searches, idle.

    .venv/bin/python bench/bench_memory.py [--papers 1000000]

The real bot process starts over the bench corpus (bench/corpus.py builds it once, about four
minutes for a million papers) against the fake Discord, answers a burst of /search commands
(the search bench's queries, plus the worst ones the query budget allows, each unfiltered, by
category and by author), then sits idle past DIGESTBOT_IDLE_RELEASE_SECONDS (5 s here); then
one /similar loads the ranking features (numpy, scipy, scikit-learn and the 10,000 latest papers'
rows) and the bot idles again. The floor is a bare discord.py client with the same intents and
caches running the same searches as bare bm25 queries on one plain sqlite3 connection, then
fitting the same kind of features with scikit-learn (bench/bare_gateway.py), in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.botrun import bot_over, bot_rss_kib  # noqa: E402
from bench.common import QUERIES, WORST_QUERIES, compare  # noqa: E402
from bench.corpus import build  # noqa: E402
from storage.search import SearchFilters  # noqa: E402

SESSION = [(query, filters) for query in QUERIES + WORST_QUERIES
           for filters in (SearchFilters(), SearchFilters(category="cs.CV"), SearchFilters(author="Wang"))]


def options(query: str, filters: SearchFilters) -> dict[str, object]:
    return {"query": query, **({"category": filters.category} if filters.category else {}),
            **({"author": filters.author} if filters.author else {})}


async def bare_floor(api_base: str, gateway_url: str, token: str, corpus: Path) -> tuple[int, int, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "bare_gateway.py"), api_base, gateway_url, token, str(corpus),
        stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), 900)
    first, second, third = out.decode().strip().splitlines()[-3:]
    return int(first.split()[1]), int(second), int(third.split()[0])


async def run(papers: int) -> None:
    corpus = await build(papers)
    env = {"DIGESTBOT_IDLE_RELEASE_SECONDS": "5", "DIGESTBOT_TICK_SECONDS": "1"}
    async with bot_over(corpus, env) as world:
        await asyncio.sleep(2)
        ready = bot_rss_kib(world)
        for query, filters in SESSION:
            reply = await world.run(world.member, "search", options(query, filters))
            assert reply.embeds or reply.content
        after = bot_rss_kib(world)
        assert world.bot.process is not None
        status = Path(f"/proc/{world.bot.process.pid}/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        await asyncio.sleep(12)  # past the idle release (5 s) and the next watch tick
        idle = bot_rss_kib(world)
        newest = sqlite3.connect(f"file:{corpus}?mode=ro", uri=True).execute(
            "SELECT arxiv_id FROM papers ORDER BY id DESC LIMIT 1").fetchone()[0]
        similar = await world.run(world.member, "similar", {"id": newest})
        assert similar.embeds, similar.content
        await asyncio.sleep(12)
        ranking = bot_rss_kib(world)
        bare_ready, bare_after, bare_ranking = await bare_floor(world.fake.api_base, world.fake.gateway_url, world.fake.token, corpus)
    print(f"\n{papers:,} papers ({corpus.stat().st_size / 1e9:.2f} GB); {len(SESSION)} searches; resident memory (VmRSS)")
    print(compare("at start", ready / 1024, bare_ready / 1024, "MB"))
    print(compare("right after the searches", after / 1024, bare_after / 1024, "MB"))
    print(compare("idle (after the release)", idle / 1024, bare_ready / 1024, "MB"))
    print(compare("idle after one /similar (ranking loaded)", ranking / 1024, bare_ranking / 1024, "MB"))
    print(f"  peak during the searches (VmHWM) {peak / 1024:.1f} MB; the target for idle is < 100 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(run(args.papers))


if __name__ == "__main__":
    main()
