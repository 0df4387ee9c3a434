"""The jobs the worker process runs, and the state it keeps between them (its database, the ranking features).

Each job is a plain function: its arguments and its answer are small (ids, dates, a file), and
it reads what it needs from the database itself, so nothing large is copied between the
processes and nothing the bot does waits on the copying. The bot calls them through
WorkerPool.run; `order_by_models` is the bot-side half of ordering DMs.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import datetime as dt
import logging
import multiprocessing.util
import signal
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.charts import chart_data, render_chart
from bot.logs import setup_logging
from bot.matching import UserMatches
from bot.memory import return_large_blocks
from bot.recommender import Ranked, Recommender
from bot.render.export import export_list
from bot.services import Services
from bot.settings import Settings
from bot.worker.pool import BOT, WorkerPool
from storage.reading_list import ReadingList
from storage.records import DigestEntry
from storage.sqlite.library import disable_memory_statistics

log = logging.getLogger(__name__)
T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


@dataclass
class _Worker:
    loop: asyncio.AbstractEventLoop
    services: Services
    recommender: Recommender


_worker: _Worker | None = None


def _die_with_the_bot() -> None:
    """Ask Linux to end this process when the bot's process ends, however it ends (kill -9 included)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        ctypes.CDLL(name).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the executor still ends the worker when the bot closes it


def start_worker(settings: Settings) -> None:
    """Set the worker process up (ProcessPoolExecutor's initializer): logging, memory, the database."""
    global _worker
    _die_with_the_bot()
    # Ctrl-C reaches the whole process group: the bot decides when the worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    disable_memory_statistics()
    return_large_blocks()
    setup_logging(settings.log_level, [], settings.log_format)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    services = loop.run_until_complete(Services.open(settings))
    _worker = _Worker(loop, services, Recommender(services))
    # Run as the worker exits: the database's connection threads would otherwise keep it alive.
    multiprocessing.util.Finalize(None, _stop_worker, exitpriority=10)
    log.info("worker process ready")


def _stop_worker() -> None:
    global _worker
    if _worker is not None:
        worker, _worker = _worker, None
        worker.loop.run_until_complete(worker.services.close())
        worker.loop.close()


def _run(work: Coroutine[Any, Any, T]) -> T:
    assert _worker is not None, "start_worker did not run"
    return _worker.loop.run_until_complete(work)


def _recommender() -> Recommender:
    assert _worker is not None, "start_worker did not run"
    return _worker.recommender


@dataclass(frozen=True, slots=True)
class ForYou:
    """/foryou's answer: the ranked papers, and how many liked papers the member's model learnt from."""

    ranked: list[Ranked]
    positives: int


def for_you(user_id: int, since: dt.date, until: dt.date, category: str | None, locale: str) -> ForYou:
    """Rank the papers of [since, until] for the member (training their model first if it is out of date)."""
    recommender = _recommender()
    ranked = _run(recommender.for_you(user_id, since, until, category, locale=locale))
    model = _run(recommender.members.model(user_id))
    return ForYou(ranked, model.positives if model else 0)


def similar(arxiv_id: str, locale: str) -> list[Ranked] | None:
    """The stored papers most like one paper; None when that paper is not stored."""
    recommender = _recommender()
    paper = _run(recommender.services.papers.get(arxiv_id))
    if paper is None:
        return None
    return _run(recommender.similar(paper, locale=locale))


def train_member(user_id: int) -> bool:
    """Retrain one member's model from what they told the bot; True when a model was kept."""
    return _run(_recommender().train_member(user_id)) is not None


def stale_members(limit: int) -> list[int]:
    """Members whose model is out of date, oldest change first."""
    return _run(_recommender().members.stale_members(limit))


def order_positions(digest_id: int, arxiv_ids: list[str], positions: dict[int, list[int]]) -> dict[int, dict[int, float]]:
    """Each member's model score of their matched positions of one digest (members with a usable model)."""
    return _run(_recommender().order_positions(digest_id, arxiv_ids, positions))


@dataclass(frozen=True, slots=True)
class StatsPicture:
    """/stats' answer: the chart and the figures told beside it."""

    png: bytes
    keywords: list[tuple[str, int]]
    listings: int
    papers: int
    days_with_papers: int


def stats_picture(since: dt.date, until: dt.date, category: str | None, title: str) -> StatsPicture | None:
    """Papers per day and category over a period, drawn; None when the period holds no paper."""
    assert _worker is not None, "start_worker did not run"
    papers = _worker.services.papers
    rows = _run(papers.daily_counts(since, until, category))
    titles = _run(papers.titles_between(since, until, category))
    data = chart_data(rows, titles, since, until)
    if data.total == 0:
        return None
    return StatsPicture(render_chart(data, title), data.keywords, data.total, len(titles), data.days_with_papers)


def export_reading_list(user_id: int, format: str) -> tuple[str, bytes, int] | None:
    """(file name, bytes, papers) of the member's whole reading list in `format`; None when it is empty."""
    assert _worker is not None, "start_worker did not run"
    papers = _run(ReadingList(_worker.services.db).everything(user_id))
    if not papers:
        return None
    name, data = export_list(papers, format)
    return name, data, len(papers)


async def order_by_models(pool: WorkerPool, digest_id: int, entries: Sequence[DigestEntry],
                          matches: dict[int, UserMatches], owner: int = BOT) -> int:
    """(In the bot.) Order each member's matched papers by their model, in the worker; return how many were ordered.

    `owner` is whose slot the work waits in: the bot's for DMs, the member's for /digest mine.
    """
    if not matches:
        return 0
    positions = {user_id: sorted(frozenset().union(*(p for _, p in user.hits))) for user_id, user in matches.items()}
    scored = await pool.run(owner, order_positions, digest_id, [e.paper.arxiv_id for e in entries], positions)
    for user_id, order in scored.items():
        matches[user_id].order = order
    return len(scored)
