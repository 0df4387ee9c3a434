"""The jobs the worker process runs: ranking, /stats pictures, reading-list exports.

Each job is a plain function: its arguments and its answer are small (ids, dates, a file), and
it reads what it needs from the database itself, so nothing large is copied between the
processes and nothing the bot does waits on the copying. The bot calls them through
WorkerPool.run; they run in the worker process (bot/worker/process.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.ranking.recommender import Ranked
from bot.render.charts import chart_data, render_chart
from bot.render.export import export_list
from bot.worker.process import recommender as worker_recommender
from bot.worker.process import run, services
from storage.reading_list import ReadingList

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ForYou:
    """/foryou's answer: the ranked papers, and how many liked papers the member's model learnt from."""

    ranked: list[Ranked]
    positives: int


def for_you(user_id: int, since: dt.date, until: dt.date, category: str | None, locale: str) -> ForYou:
    """Rank the papers of [since, until] for the member (training their model first if it is out of date)."""
    recommender = worker_recommender()
    ranked = run(recommender.for_you(user_id, since, until, category, locale=locale))
    model = run(recommender.members.model(user_id))
    return ForYou(ranked, model.positives if model else 0)


def similar(arxiv_id: str, locale: str) -> list[Ranked] | None:
    """The stored papers most like one paper; None when that paper is not stored."""
    recommender = worker_recommender()
    paper = run(recommender.services.papers.get(arxiv_id))
    if paper is None:
        return None
    return run(recommender.similar(paper, locale=locale))


def train_member(user_id: int) -> bool:
    """Retrain one member's model from what they told the bot; True when a model was kept."""
    return run(worker_recommender().train_member(user_id)) is not None



def order_positions(digest_id: int, arxiv_ids: list[str], positions: dict[int, list[int]]) -> dict[int, dict[int, float]]:
    """Each member's model score of their matched positions of one digest (members with a usable model)."""
    return run(worker_recommender().order_positions(digest_id, arxiv_ids, positions))


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
    papers = services().papers
    rows = run(papers.daily_counts(since, until, category))
    titles = run(papers.titles_between(since, until, category))
    data = chart_data(rows, titles, since, until)
    if data.total == 0:
        return None
    return StatsPicture(render_chart(data, title), data.keywords, data.total, len(titles), data.days_with_papers)


def export_reading_list(user_id: int, format: str) -> tuple[str, bytes, int] | None:
    """(file name, bytes, papers) of the member's whole reading list in `format`; None when it is empty."""
    papers = run(ReadingList(services().db).everything(user_id))
    if not papers:
        return None
    name, data = export_list(papers, format)
    return name, data, len(papers)
