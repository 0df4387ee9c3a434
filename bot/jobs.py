"""The scheduler: a poll job and a delivery job, started and stopped with the bot.

Nothing is scheduled per post: the delivery job looks at stored state (feeds, digests, the
ledger) on every tick and posts what is due by then. So after downtime each due post goes out
once at the first tick, and a restart needs no job to be rebuilt beyond these two.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.poller import Poller
from bot.services import Services
from storage.db import StorageError

log = logging.getLogger(__name__)


class Jobs:
    """Owns the AsyncIOScheduler and the two jobs."""

    def __init__(self, services: Services, poller: Poller | None, deliver: Callable[[], Awaitable[int]],
                 ready: Callable[[], bool]) -> None:
        self.services = services
        self.poller = poller
        self._deliver_due = deliver
        self._ready = ready
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self._delivering = asyncio.Lock()

    def start(self) -> None:
        """Start polling (now, then every DIGESTBOT_POLL_MINUTES) and checking for due posts."""
        settings = self.services.settings
        now = dt.datetime.now(dt.UTC)
        common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        if self.poller is not None:
            self.scheduler.add_job(self.poll, IntervalTrigger(minutes=settings.poll_minutes), id="poll", next_run_time=now, **common)
        else:
            log.info("no digest source configured (DIGESTBOT_SOURCE_URL=off, no DIGESTBOT_SOURCE_DIR): not polling")
        self.scheduler.add_job(self.deliver, IntervalTrigger(seconds=settings.tick_seconds), id="deliver", next_run_time=now, **common)
        self.scheduler.add_job(self.watch_database, IntervalTrigger(seconds=min(30.0, settings.tick_seconds)), id="watch",
                               next_run_time=now, **common)
        self.scheduler.start()

    def next_poll(self) -> dt.datetime | None:
        """When the next poll runs."""
        job = self.scheduler.get_job("poll")
        return job.next_run_time if job is not None else None

    async def poll(self) -> None:
        """Poll the source; deliver at once if something new arrived."""
        assert self.poller is not None
        try:
            run = await self.poller.poll_once()
        except StorageError as exc:
            log.error("poll of %s: %s", self.poller.source.describe(), exc)
            return
        except Exception:
            log.exception("poll of %s failed", self.poller.source.describe())
            return
        if run.new_digests:
            await self.deliver()

    async def deliver(self) -> None:
        """Post whatever is due (once the gateway is ready)."""
        if not self._ready():
            return
        async with self._delivering:
            try:
                await self._deliver_due()
            except Exception:
                log.exception("delivery check failed")

    async def watch_database(self) -> None:
        """Notice a database file deleted or replaced under the running bot, say so loudly, rescue what it held."""
        services = self.services
        if services.db_problem is not None:
            return
        problem = services.db.file_problem()
        if problem is None:
            return
        services.db_problem = problem
        log.error("%s: papers, feeds and subscriptions written from now on would be lost at the next start", problem)
        try:
            rescued = await services.db.rescue_copy()
        except StorageError as exc:
            log.error("could not write a rescue copy of the database: %s", exc)
            return
        services.db_problem = (f"{problem}. What it held is saved in {rescued.name}: stop the bot, move that file to "
                               f"{services.db.path.name}, start the bot again")
        log.error("wrote what the database held to %s: stop the bot, move that file to %s, and start again", rescued,
                  services.db.path)

    async def stop(self, grace: float = 20.0) -> None:
        """Stop both jobs and wait (up to `grace` seconds) for a delivery in flight to reach a checkpoint."""
        if not self.scheduler.running:
            return
        # Pause first: shutting the scheduler down cancels the job coroutines it is running.
        self.scheduler.pause()
        try:
            async with asyncio.timeout(grace):
                async with self._delivering:
                    pass
        except TimeoutError:
            log.warning("a delivery was still running after %.0f s; it resumes from the ledger at the next start", grace)
        self.scheduler.shutdown(wait=False)
