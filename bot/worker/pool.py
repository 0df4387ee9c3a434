"""The bot's worker process: CPU-heavy work runs there, one job at a time per member.

Ranking (/foryou, /similar, training, the order of DMs), /stats charts and reading-list exports
are pure Python for much of their time: in a thread of the bot they hold the interpreter lock
and every other member's command waits behind them (bench/bench_load.py measured another
member's /paper at a second). In a process of their own they cost the bot's event loop
nothing. The worker reads the database itself, so only small requests and answers cross over.

Each member has one slot: their jobs run one after another, and at most PER_MEMBER wait, so one
member's burst queues only their own work; other members' jobs get the worker in between. The
worker starts at the first job (a bot whose members never rank never starts it) and is started
again if it dies.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from bot.core.errors import LimitReached
from bot.core.settings import Settings
from bot.worker.process import run_job, start_worker

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# Jobs one member may have running or waiting; more are refused with a sentence.
PER_MEMBER = 3
# Jobs of everyone waiting at most; past it the bot is busy for everyone.
QUEUE_LIMIT = 64
# The bot's own jobs (ordering DMs, background training) queue under this owner.
BOT = 0


class WorkerPool:
    """Runs jobs in the worker process(es); `run` awaits one without blocking the event loop."""

    def __init__(self, settings: Settings, processes: int = 1) -> None:
        # The worker needs the database, not the token.
        self._settings = dataclasses.replace(settings, discord_token=None)
        self._processes = max(1, processes)
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._slots: dict[int, asyncio.Lock] = {}
        self._jobs: dict[int, int] = {}
        self._queued = 0
        self._closed = False

    @property
    def started(self) -> bool:
        """True once a job has started the worker (and it was not shut down since)."""
        return self._executor is not None

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._closed:
            raise RuntimeError("the worker pool is shut down")
        if self._executor is None:
            # spawn, not fork: the bot has threads (SQLite readers, aiohttp) a fork would copy mid-flight.
            self._executor = concurrent.futures.ProcessPoolExecutor(
                self._processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker, initargs=(self._settings,))
        return self._executor

    async def run(self, owner: int, task: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `task(*args)` in the worker, in `owner`'s slot (a member's id, or BOT)."""
        if self._closed:
            raise RuntimeError("the worker pool is shut down")
        if owner != BOT and self._jobs.get(owner, 0) >= PER_MEMBER:
            raise LimitReached("You have {count} requests still running; wait for them to finish, then try again.",
                               count=PER_MEMBER)
        if self._queued >= QUEUE_LIMIT:
            raise LimitReached("The bot is busy with many members' requests right now; try again in a minute.")
        self._jobs[owner] = self._jobs.get(owner, 0) + 1
        self._queued += 1
        slot = self._slots.setdefault(owner, asyncio.Lock())
        try:
            async with slot:
                return await self._submit(task, *args, **kwargs)
        finally:
            self._queued -= 1
            self._jobs[owner] -= 1
            if not self._jobs[owner]:
                del self._jobs[owner]
                self._slots.pop(owner, None)

    async def _submit(self, task: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in (1, 2):
            pool = self._pool()
            try:
                job: concurrent.futures.Future[T] = pool.submit(run_job, task, *args, **kwargs)  # type: ignore[arg-type]
                return await asyncio.wrap_future(job)
            except BrokenProcessPool:
                # The worker died (killed, out of memory): start a new one and try the job once more.
                log.error("the worker process died during %s; starting a new one", getattr(task, "__name__", task))
                if self._executor is pool:
                    self._executor = None
                    pool.shutdown(wait=False, cancel_futures=True)
                if attempt == 2 or self._closed:
                    raise
        raise AssertionError("unreachable")

    def waiting(self, owner: int) -> int:
        """How many jobs of `owner` are running or waiting."""
        return self._jobs.get(owner, 0)

    async def close(self, grace: float = 10.0) -> None:
        """Stop the worker: jobs not started are dropped; one still running after `grace` seconds is killed."""
        self._closed = True
        if self._executor is None:
            return
        executor, self._executor = self._executor, None
        processes = list(getattr(executor, "_processes", {}).values())  # the executor has no public handle on them
        try:
            await asyncio.wait_for(asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True), grace)
        except TimeoutError:
            log.warning("the worker process did not stop within %.0f s; killing it", grace)
            for process in processes:
                process.kill()
