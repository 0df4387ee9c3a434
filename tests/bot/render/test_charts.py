"""The /stats chart data, from a real database, and its PNG."""

from __future__ import annotations

import datetime as dt
import json

from bot.render.charts import chart_data, render_chart, top_keywords
from storage.papers import PaperStore
from storage.sqlite.database import Database
from tests.pngtext import png_info


async def test_chart_data_matches_the_database(sample_db: Database) -> None:
    store = PaperStore(sample_db)
    since, until = dt.date(2026, 1, 20), dt.date(2026, 2, 6)
    data = chart_data(await store.daily_counts(since, until), await store.titles_between(since, until), since, until)
    assert len(data.days) == 18 and data.days[0] == since
    rows = await sample_db.fetchall(
        "SELECT d.date, count(*) FROM digests d JOIN digest_papers dp ON dp.digest_id = d.id "
        "WHERE d.date BETWEEN '2026-01-20' AND '2026-02-06' GROUP BY d.date")
    per_day = {dt.date.fromisoformat(r[0]): r[1] for r in rows}
    for index, day in enumerate(data.days):
        assert sum(values[index] for values in data.series.values()) == per_day.get(day, 0)
    assert data.total == 456 + 402 + 76
    assert list(data.series)[:2] == ["cs.LG", "cs.CV"] and "other" in data.series and len(data.series) == 7
    assert data.days_with_papers == 3


async def test_one_category_counts_cross_lists(sample_db: Database) -> None:
    store = PaperStore(sample_db)
    day = dt.date(2025, 12, 31)
    data = chart_data(await store.daily_counts(day, day, "cs.GR"), await store.titles_between(day, day, "cs.GR"), day, day)
    assert data.series == {"cs.GR": [3]}
    assert len(await store.titles_between(day, day, "cs.GR")) == 3


def test_top_keywords_skip_filler_words() -> None:
    titles = ["Diffusion Models for Video", "Video Diffusion with Transformers", "A Study of Video Models", "Towards Robust Robots"]
    assert top_keywords(titles, 3) == [("video", 3), ("diffusion", 2), ("transformers", 1)]


def test_render_chart_is_a_sane_png_carrying_its_data() -> None:
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(30)]
    data = chart_data([(d, "cs.CV", n + 1) for n, d in enumerate(days)], ["Video Diffusion"], days[0], days[-1])
    png = render_chart(data, "test")
    width, height, texts = png_info(png)
    assert (width, height) == (1000, 480)
    assert 10_000 < len(png) < 500_000
    assert json.loads(texts["digestbot:data"])["series"]["cs.CV"] == list(range(1, 31))
