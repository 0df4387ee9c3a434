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

Ranking runs in the bot's worker process (bot/worker/pool.py: spawned at the first ranking job),
so every row counts the bot process and its worker process(es) (its children started by
multiprocessing's spawn_main) and prints the project figure as their sum.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.botrun import bot_over, rss_kib  # noqa: E402
from bench.common import QUERIES, WORST_QUERIES, compare  # noqa: E402
from bench.corpus import build  # noqa: E402
from storage.search import SearchFilters  # noqa: E402
from tests.botworld import World  # noqa: E402

SESSION = [(query, filters) for query in QUERIES + WORST_QUERIES
           for filters in (SearchFilters(), SearchFilters(category="cs.CV"), SearchFilters(author="Wang"))]


def options(query: str, filters: SearchFilters) -> dict[str, object]:
    return {"query": query, **({"category": filters.category} if filters.category else {}),
            **({"author": filters.author} if filters.author else {})}


def worker_pids(bot_pid: int, marker: bytes = b"spawn_main") -> list[int]:
    """The bot's worker processes: its children whose command line runs multiprocessing's spawn_main."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid == bot_pid and marker in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue  # the process ended meanwhile
    return sorted(found)


@dataclasses.dataclass(frozen=True)
class Resident:
    """The VmRSS (KiB) of the bot process and of each of its worker processes, at one moment."""

    bot: int
    workers: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.bot + sum(self.workers)

    def parts(self) -> str:
        workers = " + ".join(f"{kib / 1024:.1f}" for kib in self.workers) or "none"
        return f"bot {self.bot / 1024:.1f} MB, worker {workers}{' MB' if self.workers else ''}"


def resident(world: World) -> Resident:
    assert world.bot.process is not None
    pid = world.bot.process.pid
    return Resident(rss_kib(pid), tuple(rss_kib(worker) for worker in worker_pids(pid)))


def row(label: str, project: Resident, floor_kib: int) -> str:
    """`project / floor / ratio` with the sum as the project figure, then what it is made of."""
    return f"{compare(label, project.total / 1024, floor_kib / 1024, 'MB')}  ({project.parts()})"


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
        ready = resident(world)
        for query, filters in SESSION:
            reply = await world.run(world.member, "search", options(query, filters))
            assert reply.embeds or reply.content
        after = resident(world)
        assert world.bot.process is not None
        status = Path(f"/proc/{world.bot.process.pid}/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        await asyncio.sleep(12)  # past the idle release (5 s) and the next watch tick
        idle = resident(world)
        newest = sqlite3.connect(f"file:{corpus}?mode=ro", uri=True).execute(
            "SELECT arxiv_id FROM papers ORDER BY id DESC LIMIT 1").fetchone()[0]
        similar = await world.run(world.member, "similar", {"id": newest})
        assert similar.embeds, similar.content
        await asyncio.sleep(12)
        ranking = resident(world)
        tracker = sum(rss_kib(pid) for pid in worker_pids(world.bot.process.pid, b"resource_tracker"))
        bare_ready, bare_after, bare_ranking = await bare_floor(world.fake.api_base, world.fake.gateway_url, world.fake.token, corpus)
    print(f"\n{papers:,} papers ({corpus.stat().st_size / 1e9:.2f} GB); {len(SESSION)} searches; resident memory (VmRSS)")
    print("  project = the bot process + its worker process(es)")
    print(row("at start", ready, bare_ready))
    print(row("right after the searches", after, bare_after))
    print(row("idle (after the release)", idle, bare_ready))
    print(row("idle after one /similar (ranking loaded)", ranking, bare_ranking))
    if tracker:
        print(f"  not counted: multiprocessing's resource tracker, another child of the bot, {tracker / 1024:.1f} MB")
    print(f"  peak during the searches (VmHWM) {peak / 1024:.1f} MB; the target for idle is < 100 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(run(args.papers))


if __name__ == "__main__":
    main()
