"""The gateway floor: a bare discord.py AutoShardedClient with the bot's intents and caches, and nothing else.

    python bench/bare_gateway.py API_BASE GATEWAY_URL TOKEN [CORPUS.sqlite3]

It connects every shard Discord (the fake) recommends, and when all are ready prints one line:
`<seconds from process start to ready> <VmRSS KiB> <guilds>`, then exits. No commands, no
database, no jobs: what any bot with these intents holds for the same servers. Given a corpus,
it then runs the memory bench's searches as bare bm25 top-10 queries on one plain sqlite3
connection (the readers' cache size) and prints a second line: `<VmRSS KiB after them>`; then it
fits what /similar needs with scikit-learn as plainly as it can be done (hashed TF-IDF of the
10,000 most recent papers' title, TL;DR and abstract, rows kept as float32) and prints a third
line: `<VmRSS KiB with those features held>`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

STARTED = time.monotonic()

import discord  # noqa: E402  # imported after the clock starts: its import is part of a start
import yarl  # noqa: E402


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Bare(discord.AutoShardedClient):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # the fake's max_concurrency covers every shard: no wait, as for the bot

    corpus: str | None = None

    async def on_ready(self) -> None:
        print(f"{time.monotonic() - STARTED:.3f} {rss_kib()} {len(self.guilds)}", flush=True)
        if self.corpus is not None:
            search_like_the_bench(self.corpus)
            print(rss_kib(), flush=True)
            held = rank_like_the_bot(self.corpus)
            print(rss_kib(), held.shape[0], flush=True)
        await self.close()


def search_like_the_bench(corpus: str) -> None:
    import sqlite3

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.bench_memory import SESSION
    from bench.bench_search import floor_top10

    conn = sqlite3.connect(f"file:{corpus}?mode=ro", uri=True)
    conn.execute("PRAGMA cache_size = -16000")
    for query, filters in SESSION:
        floor_top10(conn, query, filters)
    conn.close()


def rank_like_the_bot(corpus: str) -> object:
    import sqlite3

    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    conn = sqlite3.connect(f"file:{corpus}?mode=ro", uri=True)
    texts = [f"{r[0]}\n{r[0]}\n{r[1]}\n{r[2]}" for r in conn.execute(
        "SELECT title, tldr, abstract FROM papers ORDER BY id DESC LIMIT 10000")]
    conn.close()
    counts = HashingVectorizer(n_features=2 ** 18, alternate_sign=False, norm=None, stop_words="english").transform(texts)
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts).astype("float32")


async def main(api_base: str, gateway_url: str, token: str, corpus: str | None) -> None:
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    intents = discord.Intents.none()
    intents.guilds = True
    client = Bare(intents=intents, max_messages=None, member_cache_flags=discord.MemberCacheFlags.none(),
                  chunk_guilds_at_startup=False, guild_ready_timeout=0)
    client.corpus = corpus
    async with client:
        await client.start(token)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None))
