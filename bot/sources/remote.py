"""The data branch of a daily-arXiv-ai-enhanced fork, over HTTP(S): every file of each day, untrusted.

Bodies are capped in size (after decompression), redirects are followed only within the
configured host (or an allow-list) and never into private networks unless the configured URL is
itself private, and credentials in the URL never leave this module unredacted. What was fetched
is remembered (ETag, modification time) only after the caller stored it, so a failed ingest is
fetched again at the next poll instead of being lost behind a 304.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from yarl import URL

from bot import __version__
from bot.ingest.digest import DigestLimits
from bot.sources.base import PROBE_DAYS, DayResult, FetchedDigest, PollOutcome, plan_days
from bot.sources.guards import PublicOnlyResolver, Refused, is_private_host, redirect_refusal
from storage.sources import SourceStateStore
from storage.urls import redact_url

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5

log = logging.getLogger(__name__)


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
        resolver = None if is_private_host(self._base.host) else PublicOnlyResolver()
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
            except Refused as exc:
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
                        raise Refused(f"a redirect without a Location from {redact_url(str(current))}")
                    target = current.join(URL(location))
                    refusal = redirect_refusal(self._base, target, self.redirect_hosts)
                    if refusal is not None:
                        raise Refused(refusal)
                    current = target
                    continue
                if response.status != 200:
                    return response.status, None, response.headers
                return 200, await self._read_capped(response), response.headers
        raise Refused(f"more than {MAX_REDIRECTS} redirects")

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        declared = response.content_length
        cap = self.limits.max_bytes
        if declared is not None and declared > cap and "Content-Encoding" not in response.headers:
            raise Refused(self.limits.too_large())
        chunks: list[bytes] = []
        size = 0
        # Counted after decompression: a small gzip body that expands without end is stopped too.
        async for chunk in response.content.iter_chunked(256 * 1024):
            size += len(chunk)
            if size > cap:
                raise Refused(self.limits.too_large())
            chunks.append(chunk)
        return b"".join(chunks)
