"""Ingest digest files or fetched bytes into storage: date, parse (off the event loop), store."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import DigestError
from bot.ingest.digest import DigestLimits, date_from_name, parse_digest_bytes, parse_digest_file
from bot.ingest.paper import ParsedDigest, SkipLog
from storage.papers import PaperStore
from storage.records import IngestResult

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestReport:
    """The outcome of ingesting one digest file: what landed, what was skipped or repaired, and why."""

    source: str
    date: dt.date | None = None
    result: IngestResult | None = None
    entries: int = 0
    skipped: SkipLog = field(default_factory=SkipLog)
    warnings: SkipLog = field(default_factory=SkipLog)
    error: str | None = None
    paper_ids: frozenset[str] = frozenset()

    @property
    def landed(self) -> bool:
        """True when the file's papers are stored (some lines may have been skipped)."""
        return self.error is None and self.result is not None

    @property
    def complete(self) -> bool:
        """True when every byte was ingested as written: nothing skipped, dropped or repaired."""
        return self.landed and not self.skipped and not self.warnings


def resolve_date(name: str, given: dt.date | None) -> dt.date:
    """The digest date: from the file name, else `given` (--date); a conflict between them is refused."""
    in_name = date_from_name(name)
    if in_name is not None and given is not None and in_name != given:
        raise DigestError(name, f"is named for {in_name} but --date says {given}; --date is only for files "
                                "whose names carry no date")
    day = in_name or given
    if day is None:
        raise DigestError(name, "has no date in its file name (YYYY-MM-DD...); pass --date YYYY-MM-DD")
    return day


async def store_parsed(store: PaperStore, parsed: ParsedDigest, day: dt.date, *, arrival: str,
                       now: dt.datetime | None = None) -> IngestReport:
    """Store one parsed digest for `day`; storage errors (disk full, locked) propagate to the caller."""
    report = IngestReport(source=parsed.source, date=day, entries=len(parsed.papers), skipped=parsed.skipped,
                          warnings=parsed.warnings, paper_ids=frozenset(p.arxiv_id for p in parsed.papers))
    report.result = await store.ingest(
        parsed.papers, date=day, source=parsed.source, fmt=parsed.format, language=parsed.language,
        content_hash=parsed.content_hash, format_rank=parsed.format_rank, arrival=arrival, now=now,
    )
    result = report.result
    log.info("ingested %s for %s: %d papers (%d new, %d updated)%s", result.source, day, result.papers, result.new,
             result.updated, " (already ingested for that day)" if result.already_ingested else "")
    if parsed.skipped:
        log.warning("%s: skipped %s", result.source, "; ".join(parsed.skipped.lines()))
    return report


async def ingest_bytes(store: PaperStore, name: str, data: bytes, date: dt.date | None = None, *,
                       arrival: str = "ingest", limits: DigestLimits | None = None,
                       now: dt.datetime | None = None) -> IngestReport:
    """Parse (in a worker thread) and store fetched bytes; a digest that cannot be parsed is reported and changes nothing."""
    try:
        day = resolve_date(name, date)
        parsed = await asyncio.to_thread(parse_digest_bytes, name, data, limits)
    except DigestError as exc:
        if exc.__cause__ is not None:
            log.warning("%s", exc.message, exc_info=exc.__cause__)
        return IngestReport(source=name, error=exc.message)
    return await store_parsed(store, parsed, day, arrival=arrival, now=now)


async def ingest_path(store: PaperStore, path: Path, date: dt.date | None = None, *, arrival: str = "ingest",
                      limits: DigestLimits | None = None, now: dt.datetime | None = None) -> IngestReport:
    """Read one file from disk as a stream (in a worker thread) and ingest it."""
    try:
        day = resolve_date(str(path), date)
        parsed = await asyncio.to_thread(parse_digest_file, path, limits)
    except DigestError as exc:
        if exc.__cause__ is not None and not isinstance(exc.__cause__, OSError):
            log.warning("%s", exc.message, exc_info=exc.__cause__)
        return IngestReport(source=str(path), error=exc.message)
    return await store_parsed(store, parsed, day, arrival=arrival, now=now)
