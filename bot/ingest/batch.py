"""Collect parsed digest files and store them a batch at a time (one transaction per batch).

Used by bulk loads (`digestbot ingest`, `digestbot backfill`): in a batch each paper is written
and indexed once, with its final text, however many of the batch's days list it.
"""

from __future__ import annotations

import datetime as dt

from bot.ingest.service import IngestReport, ReadDigest, store_read
from storage.papers import PaperStore

# A batch ends at this many files or papers: large enough that a paper listed on several days
# of a week is indexed once, small enough that a batch is a few MB of memory and seconds of work.
BATCH_FILES = 64
BATCH_PAPERS = 20_000


class IngestBatch:
    """Add parsed files (or failed reports); get reports back when a batch is stored, in file order."""

    def __init__(self, store: PaperStore, arrival: str, *, now: dt.datetime | None = None) -> None:
        self.store = store
        self.arrival = arrival
        self.now = now
        self._pending: list[ReadDigest | IngestReport] = []
        self._papers = 0

    async def add(self, read: ReadDigest | IngestReport) -> list[IngestReport]:
        """Queue one file; returns the reports of the batch it completed (often none yet)."""
        self._pending.append(read)
        if isinstance(read, ReadDigest):
            self._papers += len(read.parsed.papers)
        files = sum(1 for item in self._pending if isinstance(item, ReadDigest))
        if files >= BATCH_FILES or self._papers >= BATCH_PAPERS:
            return await self.flush()
        return []

    async def flush(self) -> list[IngestReport]:
        """Store what is queued; storage errors (disk full, locked) propagate with nothing of the batch stored."""
        pending, self._pending, self._papers = self._pending, [], 0
        readable = [item for item in pending if isinstance(item, ReadDigest)]
        stored = iter(await store_read(self.store, readable, arrival=self.arrival, now=self.now))
        return [item if isinstance(item, IngestReport) else next(stored) for item in pending]
