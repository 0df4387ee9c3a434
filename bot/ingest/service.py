"""Ingest digest files or fetched bytes into storage: parse, date, hash, store."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import DigestError
from bot.ingest.digest import date_from_name, parse_digest_bytes
from bot.ingest.paper import SkippedEntry
from storage.papers import PaperStore
from storage.records import IngestResult

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestReport:
    """The outcome of ingesting one digest: what landed and what was skipped, and why."""

    source: str
    result: IngestResult | None = None
    entries: int = 0
    skipped: list[SkippedEntry] = field(default_factory=list)
    warnings: list[SkippedEntry] = field(default_factory=list)
    error: str | None = None

    @property
    def complete(self) -> bool:
        """True when the whole digest landed, nothing skipped."""
        return self.error is None and not self.skipped


async def ingest_bytes(
    store: PaperStore, name: str, data: bytes, date: dt.date | None = None, now: dt.datetime | None = None
) -> IngestReport:
    """Parse and store one digest; a digest that cannot be parsed is reported and changes nothing."""
    report = IngestReport(source=name)
    try:
        day = date or date_from_name(name)
        if day is None:
            raise DigestError(name, "has no date in its file name (YYYY-MM-DD...); pass --date YYYY-MM-DD")
        parsed = parse_digest_bytes(name, data)
    except DigestError as exc:
        report.error = exc.message
        return report
    report.entries = len(parsed.papers)
    report.skipped = parsed.skipped
    report.warnings = parsed.warnings
    report.result = await store.ingest(
        parsed.papers,
        date=day,
        source=name,
        fmt=parsed.format,
        language=parsed.language,
        content_hash=hashlib.sha256(data).hexdigest(),
        now=now,
    )
    log.info(
        "ingested %s for %s: %d papers (%d new, %d updated)%s",
        name, day, report.result.papers, report.result.new, report.result.updated,
        " (already ingested)" if report.result.already_ingested else "",
    )
    return report


async def ingest_path(store: PaperStore, path: Path, date: dt.date | None = None) -> IngestReport:
    """Read one file from disk and ingest it."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        return IngestReport(source=str(path), error=f"{path}: cannot be read: {exc.strerror or exc}")
    return await ingest_bytes(store, str(path), data, date)
