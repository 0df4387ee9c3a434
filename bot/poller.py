"""One poll of the digest source: fetch what is new, ingest it, log one line, remember the run."""

from __future__ import annotations

import logging

from bot.ingest.service import ingest_bytes
from bot.services import Services
from bot.sources import DigestSource
from storage.sources import PollRun

log = logging.getLogger(__name__)


class Poller:
    """Polls one source and ingests what it brings."""

    def __init__(self, services: Services, source: DigestSource) -> None:
        self.services = services
        self.source = source

    async def poll_once(self) -> PollRun:
        """Fetch and ingest; a broken digest is reported and the rest still land."""
        services = self.services
        started = services.clock()
        latest = await services.papers.latest_digest()
        problems: list[str] = []
        new_days: list[str] = []
        notes: list[str] = []
        try:
            outcome = await self.source.poll(started.date(), latest.date if latest else None)
        except Exception as exc:  # a source bug must not stop the scheduler
            log.exception("poll of %s crashed", self.source.describe())
            outcome = None
            problems.append(f"{type(exc).__name__}: {exc}")
        if outcome is not None:
            problems += outcome.errors
            notes = outcome.notes
            for fetched in outcome.digests:
                report = await ingest_bytes(services.papers, fetched.name, fetched.data, fetched.date, now=services.clock())
                if report.error is not None:
                    problems.append(report.error)
                    log.warning("digest skipped: %s", report.error)
                    continue
                for entry in report.skipped:
                    log.warning("%s: skipped %s", fetched.name, entry)
                result = report.result
                if result is not None and not result.already_ingested and (result.new or result.updated):
                    new_days.append(f"{fetched.date} ({result.papers} papers, {result.new} new)")
        if new_days:
            services.categories.invalidate()
        finished = services.clock()
        ok = not problems
        summary = "; ".join(
            ([f"ingested {', '.join(new_days)}"] if new_days else ["nothing new"])
            + notes  # e.g. "2026-03-01: not published yet (404)": normal on weekends, no alarm
            + ([f"problems: {' | '.join(problems)}"] if problems else [])
        )
        run = PollRun(started, finished, ok, len(new_days), summary)
        await services.source_state.record_poll(run)
        (log.info if ok else log.warning)("poll of %s: %s", self.source.describe(), summary)
        return run
