"""What commands and jobs need, built once at start and handed to the Discord client."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.settings import Settings
from storage.engine import Database, open_database
from storage.feeds import FeedStore
from storage.ledger import Claimant, DeliveryLedger
from storage.papers import PaperStore
from storage.records import CorpusStats
from storage.search import FullTextIndex, search_index
from storage.sources import SourceStateStore
from storage.subscriptions import SubscriptionStore


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def file_clock(path: Path) -> Callable[[], dt.datetime]:
    """A clock that reads the time from a file (tests move time by rewriting it); real time if unreadable."""

    def now() -> dt.datetime:
        try:
            moment = dt.datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return utc_now()
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

    return now


@dataclass
class CategoryCache:
    """The stored categories and their counts, refreshed at most once a minute for autocomplete."""

    store: PaperStore
    ttl: float = 60.0
    _loaded_at: float = -1e9
    _items: list[tuple[str, int]] = field(default_factory=list)

    async def items(self) -> list[tuple[str, int]]:
        """Return (category, paper count) pairs, largest first."""
        if time.monotonic() - self._loaded_at > self.ttl:
            self._items = await self.store.categories()
            self._loaded_at = time.monotonic()
        return self._items

    def invalidate(self) -> None:
        """Forget the cached list (after an ingest)."""
        self._loaded_at = -1e9


@dataclass
class CorpusCache:
    """Counts over the whole corpus (papers, digests), refreshed at most once a minute: counting a
    million rows for every /about or empty search would cost a member's command its speed."""

    store: PaperStore
    ttl: float = 60.0
    _loaded_at: float = -1e9
    _stats: CorpusStats | None = None

    async def stats(self) -> CorpusStats:
        """Papers, digests and their date range."""
        if self._stats is None or time.monotonic() - self._loaded_at > self.ttl:
            self._stats = await self.store.totals()
            self._loaded_at = time.monotonic()
        return self._stats

    async def papers(self) -> int:
        """How many papers are stored."""
        return (await self.stats()).papers

    def invalidate(self) -> None:
        """Count again next time (after an ingest)."""
        self._stats = None


@dataclass
class Services:
    """The database and the stores over it, the settings, and the clock."""

    settings: Settings
    db: Database
    papers: PaperStore
    search: FullTextIndex
    categories: CategoryCache
    corpus: CorpusCache
    feeds: FeedStore
    ledger: DeliveryLedger
    source_state: SourceStateStore
    subscriptions: SubscriptionStore
    clock: Callable[[], dt.datetime] = utc_now
    # Set when the database file went missing or was replaced under the running bot (shown by /status).
    db_problem: str | None = None

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        """Open the database named by the settings and build every store over it."""
        db = await open_database(settings.database, readers=settings.db_readers, write_wait=settings.db_write_wait_seconds,
                                 connect_patience=settings.db_connect_seconds)
        papers = PaperStore(db)
        return cls(
            settings=settings, db=db, papers=papers, search=search_index(db, budget=settings.search_budget_seconds, parallel=max(1, settings.db_readers - 1)),
            categories=CategoryCache(papers), corpus=CorpusCache(papers),
            feeds=FeedStore(db),
            ledger=DeliveryLedger(db, Claimant(owner=settings.process[0], lease_seconds=settings.claim_seconds)), source_state=SourceStateStore(db),
            subscriptions=SubscriptionStore(db),
            clock=file_clock(settings.clock_file) if settings.clock_file else utc_now,
        )

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()
