"""Where digests come from: a local folder, or the data branch of a daily-arXiv-ai-enhanced fork."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp

from bot import __version__
from bot.ingest.digest import date_from_name
from bot.settings import Settings
from storage.sources import SourceStateStore

log = logging.getLogger(__name__)

_DIGEST_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}.*\.(md|jsonl)$")


@dataclass(frozen=True, slots=True)
class FetchedDigest:
    """One digest file's bytes, its name (path or URL) and its date."""

    name: str
    date: dt.date
    data: bytes


@dataclass(slots=True)
class PollOutcome:
    """What one poll of a source found."""

    digests: list[FetchedDigest]
    notes: list[str]
    errors: list[str]


class DigestSource(Protocol):
    """Anything that can be polled for new digest files."""

    def describe(self) -> str:
        """A short description for logs and /status."""
        ...

    async def poll(self, today: dt.date, latest: dt.date | None) -> PollOutcome:
        """Return the digest files that are new or changed since the last poll."""
        ...


class LocalFolderSource:
    """A folder where `YYYY-MM-DD*.md|jsonl` files appear (a clone of the data branch, a mount)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen: dict[Path, tuple[float, int]] = {}

    def describe(self) -> str:
        return f"folder {self.folder}"

    def _scan(self) -> list[tuple[Path, tuple[float, int]]]:
        found = []
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and _DIGEST_NAME.match(path.name):
                stat = path.stat()
                found.append((path, (stat.st_mtime, stat.st_size)))
        return found

    async def poll(self, today: dt.date, latest: dt.date | None) -> PollOutcome:
        outcome = PollOutcome([], [], [])
        if not self.folder.is_dir():
            outcome.errors.append(f"digest folder {self.folder} does not exist")
            return outcome
        for path, signature in await asyncio.to_thread(self._scan):
            if self._seen.get(path) == signature:
                continue
            day = date_from_name(path.name)
            if day is None:
                continue
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                outcome.errors.append(f"{path}: cannot be read: {exc.strerror or exc}")
                continue
            self._seen[path] = signature
            outcome.digests.append(FetchedDigest(str(path), day, data))
        return outcome


class RemoteBranchSource:
    """The raw files of a fork's data branch: `{base}/data/D_AI_enhanced_<Language>.jsonl`, then `{base}/data/D.md`.

    Uses conditional GET (ETag / Last-Modified), a timeout, and retries with backoff on 5xx and
    network errors. A 404 means the day is not published yet and is logged without alarm.
    """

    def __init__(self, base_url: str, language: str, state: SourceStateStore, *,
                 timeout: float = 30.0, attempts: int = 3, backoff: float = 2.0, lookback_days: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.state = state
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts = attempts
        self.backoff = backoff
        self.lookback_days = lookback_days

    def describe(self) -> str:
        return f"data branch {self.base_url}"

    def urls_for(self, day: dt.date) -> list[str]:
        """The files to try for one day, richest first."""
        return [
            f"{self.base_url}/data/{day.isoformat()}_AI_enhanced_{self.language}.jsonl",
            f"{self.base_url}/data/{day.isoformat()}.md",
        ]

    def days_to_check(self, today: dt.date, latest: dt.date | None) -> list[dt.date]:
        """Today, the last few days (republished files are caught by their ETag), and any gap since the latest digest."""
        start = today - dt.timedelta(days=self.lookback_days - 1)
        if latest is not None and latest + dt.timedelta(days=1) < start:
            start = max(latest + dt.timedelta(days=1), today - dt.timedelta(days=14))
        return [start + dt.timedelta(days=n) for n in range((today - start).days + 1)]

    async def poll(self, today: dt.date, latest: dt.date | None) -> PollOutcome:
        outcome = PollOutcome([], [], [])
        headers = {"User-Agent": f"arxiv-digest-bot/{__version__}"}
        async with aiohttp.ClientSession(timeout=self.timeout, headers=headers) as session:
            for day in self.days_to_check(today, latest):
                await self._poll_day(session, day, outcome)
        return outcome

    async def fetch_day(self, day: dt.date) -> PollOutcome:
        """Fetch one day regardless of what was fetched before (for backfill)."""
        outcome = PollOutcome([], [], [])
        headers = {"User-Agent": f"arxiv-digest-bot/{__version__}"}
        async with aiohttp.ClientSession(timeout=self.timeout, headers=headers) as session:
            await self._poll_day(session, day, outcome, conditional=False)
        return outcome

    async def _poll_day(self, session: aiohttp.ClientSession, day: dt.date, outcome: PollOutcome, conditional: bool = True) -> None:
        for url in self.urls_for(day):
            status, data = await self._get(session, url, conditional)
            if status == 200 and data is not None:
                outcome.digests.append(FetchedDigest(url, day, data))
                return
            if status == 304:
                return  # unchanged since the last fetch, and already ingested then
            if status == 404:
                continue
            outcome.errors.append(f"{url}: HTTP {status}" if status else f"{url}: unreachable")
            return
        outcome.notes.append(f"{day}: not published yet (404)")
        log.debug("digest for %s not published yet at %s (404)", day, self.base_url)

    async def _get(self, session: aiohttp.ClientSession, url: str, conditional: bool) -> tuple[int, bytes | None]:
        """GET with validators and retries; return (status, body) with status 0 for a network failure."""
        known = await self.state.fetch_state(url) if conditional else None
        request_headers = {}
        if known is not None and known.status in (200, 304):
            if known.etag:
                request_headers["If-None-Match"] = known.etag
            if known.last_modified:
                request_headers["If-Modified-Since"] = known.last_modified
        status = 0
        for attempt in range(1, self.attempts + 1):
            try:
                async with session.get(url, headers=request_headers) as response:
                    status = response.status
                    if status == 200:
                        data = await response.read()
                        await self.state.record_fetch(
                            url, status=200, etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
                            content_hash=hashlib.sha256(data).hexdigest(), now=dt.datetime.now(dt.UTC),
                        )
                        return 200, data
                    if status < 500:
                        if status != 304:
                            await self.state.record_fetch(url, status=status, etag=None, last_modified=None, content_hash=None,
                                                          now=dt.datetime.now(dt.UTC))
                        return status, None
                    log.warning("source answered %d for %s (attempt %d of %d)", status, url, attempt, self.attempts)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = 0
                log.warning("source unreachable for %s: %s (attempt %d of %d)", url, exc or type(exc).__name__, attempt, self.attempts)
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        return status, None


def build_source(settings: Settings, state: SourceStateStore) -> DigestSource | None:
    """The source the settings name: DIGESTBOT_SOURCE_DIR wins over DIGESTBOT_SOURCE_URL; None when both are off."""
    if settings.source_dir is not None:
        return LocalFolderSource(settings.source_dir)
    if settings.source_url:
        return RemoteBranchSource(settings.source_url, settings.source_language, state,
                                  backoff=settings.source_retry_seconds)
    return None
