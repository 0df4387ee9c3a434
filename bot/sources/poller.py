"""One poll of the digest source: fetch what is new, ingest it, log one line, remember the run."""

from __future__ import annotations

import datetime as dt
import logging

from bot.core.services import Services
from bot.ingest.digest import DigestLimits
from bot.ingest.service import IngestReport, ReadDigest, read_bytes, read_path, store_read
from bot.sources.base import DigestSource, FetchedDigest, PollOutcome
from storage.errors import StorageError
from storage.sources import PollRun

log = logging.getLogger(__name__)


class Poller:
    """Polls one source and ingests what it brings, each day's files in their canonical order."""

    def __init__(self, services: Services, source: DigestSource) -> None:
        self.services = services
        self.source = source
        settings = services.settings
        self.limits = DigestLimits(max_bytes=settings.max_digest_bytes, max_papers=settings.max_papers_per_digest)
        # What the last poll left for later polls after downtime (shown by /status).
        self.catch_up_left: tuple[dt.date, dt.date] | None = None

    async def _read(self, fetched: FetchedDigest) -> ReadDigest | IngestReport:
        if fetched.path is not None:
            return await read_path(fetched.path, fetched.date, limits=self.limits)
        assert fetched.data is not None
        return await read_bytes(fetched.name, fetched.data, fetched.date, limits=self.limits)

    async def _ingest_day(self, files: list[FetchedDigest]) -> list[IngestReport]:
        """Parse a day's files, then store them as one transaction (in the order their source gave)."""
        reads = [await self._read(fetched) for fetched in files]
        readable = [read for read in reads if isinstance(read, ReadDigest)]
        stored = iter(await store_read(self.services.papers, readable, arrival="poll", now=self.services.clock()))
        return [read if isinstance(read, IngestReport) else next(stored) for read in reads]

    async def poll_once(self) -> PollRun:
        """Fetch and ingest; a broken digest is reported and the rest still land.

        A file is remembered by the source (its ETag, its modification time) only once it is
        stored or found broken, so a file that could not be stored (database locked, disk full)
        is fetched again at the next poll.
        """
        services = self.services
        started = services.clock()
        problems: list[str] = []
        storage_problems: list[str] = []
        new_days: list[str] = []
        held_back: list[str] = []
        failed_days: set[dt.date] = set()
        outcome: PollOutcome | None = None
        try:
            latest = await services.papers.latest_digest()
            checked = await services.source_state.checked_through()
            outcome = await self.source.poll(started.date(), latest.date if latest else None, checked)
        except StorageError as exc:
            storage_problems.append(str(exc))
        except Exception as exc:  # a source bug must not stop the scheduler
            log.exception("poll of %s crashed", self.source.describe())
            problems.append(f"{type(exc).__name__}: {exc}")
        if outcome is not None:
            problems += outcome.errors
            failed_days |= {d.day for d in outcome.days if d.errors}
            for day in outcome.days:
                if not day.files:
                    continue
                try:
                    reports = await self._ingest_day(day.files)
                    for fetched in day.files:
                        await self.source.remember(fetched)
                except StorageError as exc:
                    # Not remembered: the next poll fetches the day's files again.
                    storage_problems.append(str(exc))
                    failed_days.add(day.day)
                    continue
                for fetched, report in zip(day.files, reports, strict=True):
                    if report.error is not None:
                        problems.append(report.error)
                        continue
                    result = report.result
                    if result is not None and not result.already_ingested:
                        new_days.append(f"{fetched.date} ({result.papers} papers, {result.new} new)")
                        if self._too_old_to_post(fetched.date, started):
                            held_back.append(str(fetched.date))
            try:
                await self._advance_cursor(outcome, failed_days)
            except StorageError as exc:
                storage_problems.append(str(exc))
            self.catch_up_left = outcome.left
        if new_days:
            services.categories.invalidate()
            services.corpus.invalidate()
        for late in sorted(set(held_back)):
            log.info("the digest of %s arrived more than %d days after its date: stored and searchable, not posted to "
                     "feeds or DMs (DIGESTBOT_MAX_POST_AGE_DAYS)", late, services.settings.max_post_age_days)
        unique_storage = list(dict.fromkeys(storage_problems))
        problems = unique_storage + problems
        summary = self._summary(outcome, new_days, problems)
        warning = outcome.warning if outcome is not None else None
        run = PollRun(started, services.clock(), not problems and warning is None, len(new_days), summary, warning)
        try:
            await services.source_state.record_poll(run)
        except StorageError as exc:
            if str(exc) not in unique_storage:
                summary += f"; {exc}"
        if unique_storage:
            # One clear line per poll; the traceback would only repeat it.
            log.error("poll of %s: %s", self.source.describe(), summary)
        elif problems or warning:
            log.warning("poll of %s: %s%s", self.source.describe(), summary, f"; WARNING: {warning}" if warning else "")
        else:
            log.info("poll of %s: %s", self.source.describe(), summary)
        return run

    def _too_old_to_post(self, day: dt.date, now: dt.datetime) -> bool:
        return day < now.astimezone(dt.UTC).date() - dt.timedelta(days=self.services.settings.max_post_age_days)

    async def _advance_cursor(self, outcome: PollOutcome, failed: set[dt.date]) -> None:
        """Move the cursor past every day asked for without a failure, in order, up to the first failure.

        After downtime the next poll starts from the cursor, so no day between is ever skipped.
        """
        done: dt.date | None = None
        # With missed days still ahead, the recent days must not move the cursor past them.
        asked = outcome.catch_up if outcome.left is not None else [*outcome.catch_up, *outcome.recent]
        for day in asked:
            if day in failed:
                break
            done = day
        if done is not None:
            await self.services.source_state.set_checked_through(done)

    @staticmethod
    def _summary(outcome: PollOutcome | None, new_days: list[str], problems: list[str]) -> str:
        parts = [f"ingested {', '.join(new_days)}"] if new_days else ["nothing new"]
        if outcome is not None:
            missing = [d for d in outcome.days if not d.published and not d.errors]
            if missing:
                parts.append(f"not published (404): {_day_ranges([d.day for d in missing])}")
            if outcome.left is not None:
                first, last = outcome.left
                parts.append(f"catching up after downtime: {first} to {last} come at the next polls "
                             f"(or now: digestbot backfill --since {first} --until {last})")
        if problems:
            parts.append(f"problems: {' | '.join(problems)}")
        return "; ".join(parts)


def _day_ranges(days: list[dt.date]) -> str:
    """`2026-03-01, 2026-03-03 to 2026-03-05`: consecutive days as ranges."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if ranges and day == ranges[-1][1] + dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in ranges)
