"""Ingest digest files or fetched bytes into storage: date, parse (off the event loop), store.

Files can be stored one by one or in batches: a batch is one transaction in which each paper is
written and indexed once with its final text (storage/ingest.py), which is what makes a bulk
load of many days fast. Parsing happens first, file by file: a file that cannot be parsed is
reported and never reaches a batch, so the rest still land.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.errors import DigestError
from bot.ingest.digest import DigestLimits, date_from_name, parse_digest_bytes, parse_digest_file
from bot.ingest.paper import ParsedDigest, SkipLog
from storage.ingest import DigestFile
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
        """True when every byte was ingested as written: nothing skipped, dropped or repaired.

        Repeated entries of one paper, merged into one, do not count: no paper is lost.
        """
        return self.landed and not self.skipped and not self.warnings

    @property
    def lost(self) -> bool:
        """True when the file landed but entries that could not become papers were skipped: papers (or lines) lost."""
        return self.landed and bool(self.skipped)

    @property
    def repaired(self) -> bool:
        """True when the file landed with every paper but something was repaired (a category, link or byte dropped)."""
        return self.landed and not self.skipped and bool(self.warnings)

    def at_fault(self, *, strict: bool = False) -> bool:
        """Whether this file makes `ingest` or `backfill` exit 1: it failed or lost papers (with `strict`, or was repaired)."""
        return not self.landed or self.lost or (strict and self.repaired)


@dataclass(slots=True)
class ReadDigest:
    """A digest file parsed and dated, ready to be stored."""

    parsed: ParsedDigest
    date: dt.date


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


async def read_bytes(name: str, data: bytes, date: dt.date | None = None, *,
                     limits: DigestLimits | None = None) -> ReadDigest | IngestReport:
    """Date and parse fetched bytes in a worker thread; a file that cannot be read comes back as a failed report."""
    try:
        day = resolve_date(name, date)
        parsed = await asyncio.to_thread(parse_digest_bytes, name, data, limits)
    except DigestError as exc:
        if exc.__cause__ is not None:
            log.warning("%s", exc.message, exc_info=exc.__cause__)
        return IngestReport(source=name, error=exc.message)
    return ReadDigest(parsed, day)


async def read_path(path: Path, date: dt.date | None = None, *,
                    limits: DigestLimits | None = None) -> ReadDigest | IngestReport:
    """Date and parse a file from disk as a stream, in a worker thread."""
    try:
        day = resolve_date(str(path), date)
        parsed = await asyncio.to_thread(parse_digest_file, path, limits)
    except DigestError as exc:
        if exc.__cause__ is not None and not isinstance(exc.__cause__, OSError):
            log.warning("%s", exc.message, exc_info=exc.__cause__)
        return IngestReport(source=str(path), error=exc.message)
    return ReadDigest(parsed, day)


async def store_read(store: PaperStore, batch: list[ReadDigest], *, arrival: str,
                     now: dt.datetime | None = None) -> list[IngestReport]:
    """Store parsed files as one transaction; storage errors (disk full, locked) propagate to the caller."""
    if not batch:
        return []
    files = [
        DigestFile(read.parsed.papers, read.date, read.parsed.source, read.parsed.format, read.parsed.language,
                   read.parsed.content_hash, read.parsed.format_rank, arrival)
        for read in batch
    ]
    results = await store.ingest_many(files, now=now)
    reports = []
    for read, result in zip(batch, results, strict=True):
        parsed = read.parsed
        reports.append(IngestReport(source=parsed.source, date=read.date, result=result, entries=len(parsed.papers),
                                    skipped=parsed.skipped, warnings=parsed.warnings,
                                    paper_ids=frozenset(p.arxiv_id for p in parsed.papers)))
        log.info("ingested %s for %s: %d papers (%d new, %d updated)%s", result.source, read.date, result.papers,
                 result.new, result.updated, " (already ingested for that day)" if result.already_ingested else "")
        if parsed.skipped:
            log.warning("%s: skipped %s", result.source, "; ".join(parsed.skipped.lines()))
    return reports


async def ingest_bytes(store: PaperStore, name: str, data: bytes, date: dt.date | None = None, *,
                       arrival: str = "ingest", limits: DigestLimits | None = None,
                       now: dt.datetime | None = None) -> IngestReport:
    """Parse and store fetched bytes; a digest that cannot be parsed is reported and changes nothing."""
    read = await read_bytes(name, data, date, limits=limits)
    if isinstance(read, IngestReport):
        return read
    return (await store_read(store, [read], arrival=arrival, now=now))[0]


async def ingest_path(store: PaperStore, path: Path, date: dt.date | None = None, *, arrival: str = "ingest",
                      limits: DigestLimits | None = None, now: dt.datetime | None = None) -> IngestReport:
    """Read one file from disk as a stream and ingest it."""
    read = await read_path(path, date, limits=limits)
    if isinstance(read, IngestReport):
        return read
    return (await store_read(store, [read], arrival=arrival, now=now))[0]
