"""The /stats picture: papers per day per category, and the words of the period's titles."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Words that say nothing about a paper's topic.
STOPWORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "between", "beyond", "by", "can", "do", "does", "for", "from", "how", "in", "into", "is", "it", "its", "of", "on", "or", "over", "than", "that", "the", "their", "this", "through", "to", "toward", "towards", "under", "use", "using", "via", "vs", "what", "when", "where", "which", "while", "with", "without", "your", "our", "we", "new", "based", "study", "approach", "approaches", "method", "methods", "model", "models", "paper", "framework", "frameworks", "towards", "analysis", "data", "task", "tasks"])
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]+")
MAX_SERIES = 6


@dataclass(frozen=True, slots=True)
class ChartData:
    """Exactly what the chart shows: one count per day for each series, and the top title words."""

    days: list[dt.date]
    series: dict[str, list[int]]
    keywords: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(sum(values) for values in self.series.values())

    @property
    def days_with_papers(self) -> int:
        return sum(1 for i in range(len(self.days)) if any(values[i] for values in self.series.values()))

    def to_json(self) -> str:
        return json.dumps({"days": [d.isoformat() for d in self.days], "series": self.series, "keywords": self.keywords})


def top_keywords(titles: Sequence[str], limit: int = 15) -> list[tuple[str, int]]:
    """The commonest meaningful words of the titles (case folded; each title counts a word once)."""
    counts: Counter[str] = Counter()
    for title in titles:
        words = {w.lower().strip("-") for w in _WORD.findall(title)}
        counts.update(w for w in words if len(w) > 2 and w not in STOPWORDS and not w.isdigit())
    return counts.most_common(limit)


def chart_data(rows: Sequence[tuple[dt.date, str, int]], titles: Sequence[str], since: dt.date, until: dt.date) -> ChartData:
    """Per-day counts for the largest categories (the rest summed as `other`), over every day of the period."""
    days = [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]
    totals: Counter[str] = Counter()
    for _, category, count in rows:
        totals[category] += count
    kept = [c for c, _ in totals.most_common(MAX_SERIES)]
    index = {day: i for i, day in enumerate(days)}
    series: dict[str, list[int]] = {c: [0] * len(days) for c in kept}
    if len(totals) > len(kept):
        series["other"] = [0] * len(days)
    for day, category, count in rows:
        if day in index:
            series[category if category in kept else "other"][index[day]] += count
    return ChartData(days, series, top_keywords(titles))


def render_chart(data: ChartData, title: str) -> bytes:
    """A PNG of stacked bars per day; the data is also stored in the PNG's text chunk `digestbot:data`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = date2num(data.days)
    bottom = [0] * len(data.days)
    for name, values in data.series.items():
        axes.bar(positions, values, bottom=bottom, label=name, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.xaxis_date()
    axes.set_title(title)
    axes.set_ylabel("papers")
    axes.grid(axis="y", alpha=0.3)
    if data.series:
        axes.legend(loc="upper left", fontsize="small", ncols=min(4, len(data.series)))
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"digestbot:data": data.to_json()})
    return buffer.getvalue()
