"""The worker process itself: how it starts (ProcessPoolExecutor's initializer), the state it keeps, how it ends.

It keeps its own database connections and a Recommender (whose fitted ranking features stay in
memory between jobs); it ends when the bot ends, however the bot ends.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import multiprocessing.util
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.app.memory import return_large_blocks, trim_free_memory
from bot.core.logs import setup_logging
from bot.core.services import Services
from bot.core.settings import Settings
from bot.ranking.recommender import Recommender
from storage.errors import StorageError
from storage.sqlite.library import disable_memory_statistics

log = logging.getLogger(__name__)
T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


@dataclass
class _Worker:
    loop: asyncio.AbstractEventLoop
    services: Services
    recommender: Recommender


_worker: _Worker | None = None


def _die_with_the_bot() -> None:
    """Ask Linux to end this process when the bot's process ends, however it ends (kill -9 included)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        ctypes.CDLL(name).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the executor still ends the worker when the bot closes it


def start_worker(settings: Settings) -> None:
    """Set the worker process up (ProcessPoolExecutor's initializer): logging, memory, the database."""
    global _worker
    _die_with_the_bot()
    # Ctrl-C reaches the whole process group: the bot decides when the worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    disable_memory_statistics()
    return_large_blocks()
    setup_logging(settings.log_level, [], settings.log_format)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    services = loop.run_until_complete(Services.open(settings))
    _worker = _Worker(loop, services, Recommender(services))
    # Run as the worker exits: the database's connection threads would otherwise keep it alive.
    multiprocessing.util.Finalize(None, _stop_worker, exitpriority=10)
    log.info("worker process ready")


def _stop_worker() -> None:
    global _worker
    if _worker is not None:
        worker, _worker = _worker, None
        worker.loop.run_until_complete(worker.services.close())
        worker.loop.close()


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the worker's own event loop (jobs are plain functions; storage is async)."""
    assert _worker is not None, "start_worker did not run"
    return _worker.loop.run_until_complete(work)


def run_job(task: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one job, then let the database caches and freed memory go: the worker may sit idle for hours."""
    try:
        return task(*args, **kwargs)
    finally:
        if _worker is not None:
            try:
                run(_worker.services.db.release_memory())
            except StorageError:
                log.debug("releasing the worker's database caches failed", exc_info=True)
            trim_free_memory()


def recommender() -> Recommender:
    """The worker's recommender (its fitted features stay in memory between jobs)."""
    assert _worker is not None, "start_worker did not run"
    return _worker.recommender


def services() -> Services:
    """The worker's stores."""
    assert _worker is not None, "start_worker did not run"
    return _worker.services
