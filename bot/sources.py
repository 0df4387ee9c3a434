"""Where digests come from: a local folder, or the data branch of a daily-arXiv-ai-enhanced fork.

Both are untrusted: bodies are capped in size (after decompression), redirects are followed only
within the configured host (or an allow-list) and never into private networks unless the
configured URL is itself private, and credentials in the URL never leave this module unredacted.
What a source fetched is remembered (ETag, modification time) only after the caller stored it,
so a failed ingest is fetched again at the next poll instead of being lost behind a 304.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot import __version__
from bot.errors import DigestError
from bot.ingest.digest import DigestLimits, date_from_name, describe_os_error
from bot.ingest.files import find_digest_files
from bot.settings import Settings
from storage.sources import SourceStateStore
from storage.urls import redact_url

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
# With no digest of the last week stored, a poll looks at a whole week: a wrong URL shows itself.
PROBE_DAYS = 7


@dataclass(frozen=True, slots=True)
class FetchedDigest:
    """One digest file: its name (path, or URL without credentials), its date, and its bytes or path."""

    name: str
    date: dt.date
    data: bytes | None = None
    path: Path | None = None
    # What to remember once the file is stored: (url key, ETag, Last-Modified, content hash), or a file signature.
    validators: tuple[str, str | None, str | None, str] | None = None
    signature: tuple[float, int] | None = None


@dataclass(slots=True)
class DayResult:
    """What the source holds for one day: files fetched, files unchanged (304), files absent (404), errors."""

    day: dt.date
    files: list[FetchedDigest] = field(default_factory=list)
    unchanged: int = 0
    missing: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return bool(self.files) or self.unchanged > 0


@dataclass(slots=True)
class PollOutcome:
    """What one poll of a source found, day by day (oldest first)."""

    days: list[DayResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warning: str | None = None
    # Days of a catch-up after downtime fetched by this poll, and the range left for later polls.
    catch_up: list[dt.date] = field(default_factory=list)
    left: tuple[dt.date, dt.date] | None = None
    # The recent days asked for (always, every poll).
    recent: list[dt.date] = field(default_factory=list)

    @property
    def digests(self) -> list[FetchedDigest]:
        return [f for day in self.days for f in day.files]


class DigestSource(Protocol):
    """Anything that can be polled for new digest files."""

    def describe(self) -> str:
        """A short description for logs and /status (never with credentials)."""
        ...

    async def poll(self, today: dt.date, latest: dt.date | None, checked_through: dt.date | None) -> PollOutcome:
        """Return the digest files that are new or changed since they were last remembered."""
        ...

    async def remember(self, fetched: FetchedDigest) -> None:
        """The caller stored `fetched` (or found it broken): do not fetch it again until it changes."""
        ...


def plan_days(today: dt.date, latest: dt.date | None, checked_through: dt.date | None, *, lookback: int,
              per_poll: int) -> tuple[list[dt.date], list[dt.date], tuple[dt.date, dt.date] | None]:
    """Which days one poll asks for: (catch-up days, recent days, catch-up range left for later polls).

    Recent days (today and the `lookback - 1` before) are asked every time: a republished file is
    caught by its ETag. Without a digest of the last week, the recent window is a week, so a
    source with nothing at all is noticed. After downtime, every day after the cursor (the last
    day every earlier day was asked for; else the latest stored day) is fetched, oldest first,
    at most `per_poll` per poll.
    """
    recent_start = today - dt.timedelta(days=lookback - 1)
    if latest is None or latest < today - dt.timedelta(days=PROBE_DAYS - 1):
        recent_start = min(recent_start, today - dt.timedelta(days=PROBE_DAYS - 1))
    recent = [recent_start + dt.timedelta(days=n) for n in range((today - recent_start).days + 1)]
    # The cursor says up to where every day was asked for; without one (a first start after an
    # upgrade), the latest stored day is where the gap starts.
    known = checked_through if checked_through is not None else latest
    if known is None or known + dt.timedelta(days=1) >= recent_start:
        return [], recent, None
    first = known + dt.timedelta(days=1)
    last = recent_start - dt.timedelta(days=1)
    gap = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    taken = gap[:per_poll]
    left = (gap[len(taken)], last) if len(gap) > len(taken) else None
    return taken, recent, left


class LocalFolderSource:
    """A folder where `YYYY-MM-DD*.md|jsonl` files appear (a clone of the data branch, a mount)."""

    def __init__(self, folder: Path, limits: DigestLimits | None = None) -> None:
        self.folder = folder
        self.limits = limits or DigestLimits()
        self._seen: dict[Path, tuple[float, int]] = {}

    def describe(self) -> str:
        return f"folder {self.folder}"

    def _scan(self) -> tuple[list[tuple[Path, tuple[float, int]]], list[str]]:
        found = find_digest_files([self.folder])
        files: list[tuple[Path, tuple[float, int]]] = []
        problems = list(found.problems)
        for path in found.files:
            try:
                stat = path.stat()
            except OSError as exc:
                problems.append(f"{path}: cannot be read: {describe_os_error(exc)}")
                continue
            files.append((path, (stat.st_mtime, stat.st_size)))
        return files, problems

    async def poll(self, today: dt.date, latest: dt.date | None, checked_through: dt.date | None) -> PollOutcome:
        outcome = PollOutcome()
        if not self.folder.is_dir():
            outcome.errors.append(f"digest folder {self.folder} (DIGESTBOT_SOURCE_DIR) does not exist")
            return outcome
        files, problems = await asyncio.to_thread(self._scan)
        outcome.errors += problems
        if not files and not problems:
            outcome.warning = (f"folder {self.folder} (DIGESTBOT_SOURCE_DIR) holds no digest files "
                               "(names like 2026-01-23.md or 2026-01-23_AI_enhanced_Chinese.jsonl)")
        by_day: dict[dt.date, DayResult] = {}
        for path, signature in files:
            if self._seen.get(path) == signature:
                continue
            try:
                day = date_from_name(path.name)
            except DigestError as exc:
                outcome.errors.append(exc.message)
                self._seen[path] = signature
                continue
            if day is None:
                continue
            if signature[1] > self.limits.max_bytes:
                outcome.errors.append(f"{path}: {self.limits.too_large()}")
                self._seen[path] = signature
                continue
            result = by_day.setdefault(day, DayResult(day))
            result.files.append(FetchedDigest(str(path), day, path=path, signature=signature))
        outcome.days = [by_day[d] for d in sorted(by_day)]
        return outcome

    async def remember(self, fetched: FetchedDigest) -> None:
        if fetched.path is not None and fetched.signature is not None:
            self._seen[fetched.path] = fetched.signature


def _is_private_host(host: str | None) -> bool:
    if not host:
        return True
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved \
        or address.is_multicast or address.is_unspecified


def redirect_refusal(base: URL, target: URL, allowed_hosts: frozenset[str]) -> str | None:
    """Why a redirect from the source to `target` is not followed (None when it may be)."""
    if target.scheme not in ("http", "https") or not target.host:
        return f"a redirect to {target.scheme or '?'}:// is not followed"
    host = target.host.lower()
    same_origin = (target.scheme, host, target.port) == (base.scheme, (base.host or "").lower(), base.port)
    same_host_https = host == (base.host or "").lower() and target.scheme == "https"
    listed = host in allowed_hosts and target.scheme == "https"
    if not (same_origin or same_host_https or listed):
        return (f"a redirect to {redact_url(str(target.origin()))} is not followed: only https on the same host, "
                "or a host listed in DIGESTBOT_SOURCE_REDIRECT_HOSTS")
    if _is_private_host(host) and not _is_private_host(base.host):
        return f"a redirect to the private address {host} is not followed"
    return None


class _PublicOnlyResolver(AbstractResolver):
    """DNS that refuses private, loopback and link-local answers (for a source on the public internet)."""

    def __init__(self) -> None:
        self._inner = aiohttp.resolver.DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        public = [r for r in results if not _is_private_host(r["host"])]
        if not public:
            raise OSError(f"{host} resolves only to private addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()


class _Refused(Exception):
    """The source answered something we will not take (too large, a redirect we do not follow)."""


class RemoteBranchSource:
    """The raw files of a fork's data branch: for each day `D.jsonl`, `D.md` and `D_AI_enhanced_<Language>.jsonl`.

    Every file of a day is fetched and applied in the order a folder ingest applies them (raw
    JSONL, markdown, AI JSONL), so a day fetched equals the same day ingested from a clone.
    Uses conditional GET (ETag / Last-Modified), a timeout, and retries with backoff on 5xx and
    network errors. A 404 for every file of a day means it is not published (weekends).
    """

    def __init__(self, base_url: str, language: str, state: SourceStateStore, *,
                 timeout: float = 30.0, attempts: int = 3, backoff: float = 2.0, lookback_days: int = 3,
                 catch_up_per_poll: int = 30, limits: DigestLimits | None = None,
                 redirect_hosts: frozenset[str] = frozenset()) -> None:
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.state = state
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts = attempts
        self.backoff = backoff
        self.lookback_days = lookback_days
        self.catch_up_per_poll = catch_up_per_poll
        self.limits = limits or DigestLimits()
        self.redirect_hosts = frozenset(h.lower() for h in redirect_hosts)
        self._base = URL(self.base_url)

    def describe(self) -> str:
        return f"data branch {redact_url(self.base_url)}"

    def urls_for(self, day: dt.date) -> list[str]:
        """The files of one day, in the order they are applied (raw JSONL, markdown, AI JSONL)."""
        stem = day.isoformat()
        return [self._file_url(name) for name in (f"{stem}.jsonl", f"{stem}.md", f"{stem}_AI_enhanced_{self.language}.jsonl")]

    def _file_url(self, name: str) -> str:
        # A query string on the base (a token) stays at the end of every file's URL.
        parts = urlsplit(self.base_url)
        return urlunsplit((parts.scheme, parts.netloc, f"{parts.path.rstrip('/')}/data/{name}", parts.query, ""))

    def _session(self) -> aiohttp.ClientSession:
        resolver = None if _is_private_host(self._base.host) else _PublicOnlyResolver()
        connector = aiohttp.TCPConnector(resolver=resolver, limit=4)
        return aiohttp.ClientSession(timeout=self.timeout, connector=connector,
                                     headers={"User-Agent": f"arxiv-digest-bot/{__version__}"})

    async def poll(self, today: dt.date, latest: dt.date | None, checked_through: dt.date | None) -> PollOutcome:
        catch_up, recent, left = plan_days(today, latest, checked_through, lookback=self.lookback_days,
                                           per_poll=self.catch_up_per_poll)
        outcome = PollOutcome(catch_up=catch_up, left=left, recent=recent)
        if catch_up:
            behind = (recent[0] - catch_up[0]).days
            log.info("catching up after downtime: fetching %d days, %s to %s (%d days behind)%s", len(catch_up),
                     catch_up[0], catch_up[-1], behind,
                     f"; {left[0]} to {left[1]} at the next polls" if left else "")
        async with self._session() as session:
            for index, day in enumerate([*catch_up, *recent]):
                outcome.days.append(await self._fetch_day(session, day, conditional=True))
                if catch_up and index + 1 < len(catch_up) and (index + 1) % 10 == 0:
                    log.info("catching up: %d of %d days fetched", index + 1, len(catch_up))
        for result in outcome.days:
            outcome.errors += result.errors
        probe = [r for r in outcome.days if r.day > today - dt.timedelta(days=PROBE_DAYS)]
        if len(probe) >= PROBE_DAYS and not any(r.published or r.errors for r in probe):
            tried = self.urls_for(today)[-1]
            outcome.warning = (
                f"no digest of the last {PROBE_DAYS} days exists at {redact_url(self.base_url)} (DIGESTBOT_SOURCE_URL): "
                f"every file answered 404, e.g. {redact_url(tried)}. Check the setting: it is the raw base URL of a "
                "fork's data branch, such as https://raw.githubusercontent.com/<owner>/<repo>/data, and "
                f"DIGESTBOT_SOURCE_LANGUAGE ({self.language}) must match the fork's file names"
            )
        return outcome

    async def fetch_day(self, day: dt.date) -> DayResult:
        """Fetch one day regardless of what was fetched before (for backfill)."""
        async with self._session() as session:
            return await self._fetch_day(session, day, conditional=False)

    async def _fetch_day(self, session: aiohttp.ClientSession, day: dt.date, *, conditional: bool) -> DayResult:
        result = DayResult(day)
        for url in self.urls_for(day):
            status, data, validators, problem = await self._get(session, url, conditional)
            shown = redact_url(url)
            if status == 200 and data is not None:
                result.files.append(FetchedDigest(shown, day, data=data, validators=validators))
            elif status == 304:
                result.unchanged += 1
            elif status in (404, 410):
                result.missing += 1
            else:
                result.errors.append(f"{shown}: {problem or (f'HTTP {status}' if status else 'unreachable')}")
        if not result.published and not result.errors:
            log.debug("no digest for %s at %s (404)", day, redact_url(self.base_url))
        return result

    async def remember(self, fetched: FetchedDigest) -> None:
        if fetched.validators is not None:
            key, etag, last_modified, content_hash = fetched.validators
            await self.state.record_fetch(key, status=200, etag=etag, last_modified=last_modified,
                                          content_hash=content_hash, now=dt.datetime.now(dt.UTC))

    async def _get(self, session: aiohttp.ClientSession, url: str, conditional: bool
                   ) -> tuple[int, bytes | None, tuple[str, str | None, str | None, str] | None, str | None]:
        """GET with validators, redirects checked, body capped, retries; status 0 means unreachable."""
        key = redact_url(url)
        known = await self.state.fetch_state(key) if conditional else None
        request_headers = {}
        if known is not None and known.status == 200:
            if known.etag:
                request_headers["If-None-Match"] = known.etag
            if known.last_modified:
                request_headers["If-Modified-Since"] = known.last_modified
        status = 0
        problem: str | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                status, data, headers = await self._follow(session, URL(url, encoded=False), request_headers)
                if status == 200 and data is not None:
                    validators = (key, headers.get("ETag"), headers.get("Last-Modified"), hashlib.sha256(data).hexdigest())
                    return 200, data, validators, None
                if status < 500:
                    return status, None, None, None
                log.warning("source answered %d for %s (attempt %d of %d)", status, key, attempt, self.attempts)
            except _Refused as exc:
                return -1, None, None, str(exc)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                status = 0
                problem = f"unreachable ({type(exc).__name__})"
                log.warning("source unreachable for %s: %s (attempt %d of %d)", key, type(exc).__name__, attempt, self.attempts)
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        return status, None, None, problem

    async def _follow(self, session: aiohttp.ClientSession, url: URL, headers: dict[str, str]
                      ) -> tuple[int, bytes | None, Any]:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            async with session.get(current, headers=headers, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise _Refused(f"a redirect without a Location from {redact_url(str(current))}")
                    target = current.join(URL(location))
                    refusal = redirect_refusal(self._base, target, self.redirect_hosts)
                    if refusal is not None:
                        raise _Refused(refusal)
                    current = target
                    continue
                if response.status != 200:
                    return response.status, None, response.headers
                return 200, await self._read_capped(response), response.headers
        raise _Refused(f"more than {MAX_REDIRECTS} redirects")

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        declared = response.content_length
        cap = self.limits.max_bytes
        if declared is not None and declared > cap and "Content-Encoding" not in response.headers:
            raise _Refused(self.limits.too_large())
        chunks: list[bytes] = []
        size = 0
        # Counted after decompression: a small gzip body that expands without end is stopped too.
        async for chunk in response.content.iter_chunked(256 * 1024):
            size += len(chunk)
            if size > cap:
                raise _Refused(self.limits.too_large())
            chunks.append(chunk)
        return b"".join(chunks)


def build_source(settings: Settings, state: SourceStateStore) -> DigestSource | None:
    """The source the settings name: DIGESTBOT_SOURCE_DIR wins over DIGESTBOT_SOURCE_URL; None when both are off."""
    limits = DigestLimits(max_bytes=settings.max_digest_bytes, max_papers=settings.max_papers_per_digest)
    if settings.source_dir is not None:
        return LocalFolderSource(settings.source_dir, limits)
    if settings.source_url:
        return RemoteBranchSource(settings.source_url, settings.source_language, state,
                                  backoff=settings.source_retry_seconds, limits=limits,
                                  catch_up_per_poll=settings.catch_up_days_per_poll,
                                  redirect_hosts=settings.source_redirect_hosts)
    return None
