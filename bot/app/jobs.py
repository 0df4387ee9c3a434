"""The scheduler: a poll job, a delivery job and a database watch, started and stopped with the bot.

Nothing is scheduled per post: the delivery job looks at stored state (feeds, digests, the
ledger) on every tick and posts what is due by then. So after downtime each due post goes out
once at the first tick, and a restart needs no job to be rebuilt beyond these.

Every job runs as a tracked task, so stopping can end each one the right way: a poll is
cancelled at once (a fetch or a backoff has nothing to keep; a store in progress rolls back), a
delivery gets a few seconds to reach its next ledger checkpoint and is then cancelled (the ledger
and the message nonces make the next start resume it without a duplicate).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.app.memory import trim_free_memory
from bot.core.services import Services
from bot.sources.poller import Poller
from storage.engine import RunLock
from storage.errors import StorageError
from storage.sources import PollRun

log = logging.getLogger(__name__)

# How long a delivery in flight may take to reach its next checkpoint when the bot stops. The
# whole stop stays well inside the 10 s the deploy files promise (30 s before a SIGKILL).
DELIVERY_GRACE = 4.0


class Jobs:
    """Owns the AsyncIOScheduler and the jobs, and every task they run."""

    def __init__(self, services: Services, poller: Poller | None, deliver: Callable[[], Awaitable[int]],
                 ready: Callable[[], bool], after_poll: Callable[[PollRun], Awaitable[None]] | None = None,
                 run_lock: RunLock | None = None, lock_lost: Callable[[], None] | None = None) -> None:
        self.services = services
        # Several processes on one database: only the one holding the poller's lease polls, and a
        # process whose locks are gone stops (another may run its index by now).
        self._run_lock = run_lock
        self._lock_lost = lock_lost
        self._after_poll = after_poll
        self.poller = poller
        self._deliver_due = deliver
        self._ready = ready
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self._delivering = asyncio.Lock()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.stopping = False
        self._released_at: float | None = None

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
        # A third of the lease: a live process's claims never lapse between two renewals.
        self.scheduler.add_job(self.renew_claims, IntervalTrigger(seconds=settings.claim_seconds / 3), id="claims", **common)
        self.scheduler.start()

    def next_poll(self) -> dt.datetime | None:
        """When the next poll runs."""
        job = self.scheduler.get_job("poll")
        return job.next_run_time if job is not None else None

    async def _tracked(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` as the job's task, so `stop` can find it; a cancellation by `stop` ends it quietly."""
        if self.stopping:
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks[name] = task
        try:
            await work()
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            log.info("%s stopped for shutdown", name)
        finally:
            self._tasks.pop(name, None)

    async def poll(self) -> None:
        """Poll the source; deliver at once if something new arrived."""
        await self._tracked("poll", self._poll)

    async def _poll(self) -> None:
        assert self.poller is not None
        if self._run_lock is not None:
            try:
                if not await self._run_lock.poll_turn():
                    log.debug("another process polls the digest source")
                    return
            except StorageError as exc:
                log.error("poll: %s", exc)
                return
        try:
            run = await self.poller.poll_once()
        except StorageError as exc:
            log.error("poll of %s: %s", self.poller.source.describe(), exc)
            return
        except Exception:
            log.exception("poll of %s failed", self.poller.source.describe())
            return
        if self._after_poll is not None:
            try:
                await self._after_poll(run)
            except StorageError as exc:  # the database's trouble (full, read-only, busy): one line, as the poll says
                log.error("checking the poll for alerts: %s", exc)
            except Exception:  # alerting never stops polling
                log.exception("checking the poll for alerts failed")
        if run.new_digests and not self.stopping:
            # Deliver now, as the deliver job (not inside this poll's task): stopping cancels a poll
            # at once but gives a delivery its grace to reach a ledger checkpoint.
            self.scheduler.modify_job("deliver", next_run_time=dt.datetime.now(dt.UTC))

    async def renew_claims(self) -> None:
        """Keep the lease of the posts this process is carrying out."""
        try:
            await self.services.ledger.renew_claims()
        except StorageError as exc:
            log.error("renewing this process's claims on its posts: %s", exc)

    async def deliver(self) -> None:
        """Post whatever is due (once the gateway is ready)."""
        await self._tracked("deliver", self._deliver)

    async def _deliver(self) -> None:
        if not self._ready() or self.stopping:
            return
        async with self._delivering:
            try:
                await self._deliver_due()
            except StorageError as exc:
                log.error("delivery check: %s", exc)
            except Exception:
                log.exception("delivery check failed")

    async def watch_database(self) -> None:
        """Notice a database file deleted or replaced under the running bot (say so, rescue what it held); settle memory when idle."""
        await self._tracked("watch", self._watch_database)
        await self._tracked("watch", self._settle_memory)
        await self._tracked("watch", self._watch_lock)

    async def _watch_lock(self) -> None:
        if self._run_lock is None or await self._run_lock.held():
            return
        log.error("this process lost the database connection that held its locks (its index, the poller's lease): "
                  "another process may run its shards by now, so it stops; start it again (a supervisor does)")
        if self._lock_lost is not None:
            self._lock_lost()

    async def _settle_memory(self) -> None:
        db = self.services.db
        # After a while without a read or write, connections drop their caches (bot/memory.py).
        if time.monotonic() - db.last_used < self.services.settings.idle_release_seconds or self._released_at == db.last_used:
            return
        try:
            shrunk = await db.release_memory()
        except StorageError as exc:
            log.warning("could not release the database caches: %s", exc)
            return
        self._released_at = db.last_used
        trim_free_memory()
        log.debug("idle for %.0f s: %d database connections dropped their caches", time.monotonic() - db.last_used, shrunk)

    async def _watch_database(self) -> None:
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
                               f"{services.db.label}, start the bot again")
        log.error("wrote what the database held to %s: stop the bot, move that file to %s, and start again", rescued,
                  services.db.name)

    async def stop(self, grace: float = DELIVERY_GRACE) -> None:
        """Stop every job: the poll at once, a delivery at its next checkpoint (at most `grace` seconds)."""
        if not self.scheduler.running:
            return
        self.stopping = True
        self.scheduler.pause()
        for name in ("poll", "watch"):
            task = self._tasks.get(name)
            if task is not None:
                task.cancel()
        delivery = self._tasks.get("deliver")
        if delivery is not None:
            _, pending = await asyncio.wait({delivery}, timeout=grace)
            if pending:
                log.warning("a delivery was still sending after %.0f s; it resumes from the ledger at the next start", grace)
                delivery.cancel()
        remaining = [task for task in self._tasks.values() if not task.done()]
        if remaining:
            await asyncio.wait(remaining, timeout=2)
        self.scheduler.shutdown(wait=False)
        try:
            # Another process sharing the database goes on with these posts at once, not after the lease.
            released = await self.services.ledger.release_claims()
        except StorageError as exc:
            log.warning("could not let go of this process's posts (%s): another process resumes them when the lease "
                        "lapses", exc)
        else:
            if released:
                log.info("let go of %d post(s) in flight; they resume from the ledger", released)
