"""The worker pool with real worker processes: per-member slots, limits, a worker that dies, the bot killed."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from bot.core.errors import LimitReached
from bot.core.settings import Settings
from bot.worker.pool import PER_MEMBER, WorkerPool
from storage.sqlite.database import Database
from tests.botworld import build_world, eventually
from tests.fakediscord import FakeDiscord


def nap(seconds: float, label: str) -> str:
    """A job that holds the worker for a while (runs in the worker process)."""
    time.sleep(seconds)
    return label


def die() -> None:
    """A job that kills its worker (runs in the worker process)."""
    os._exit(1)


@pytest.fixture
async def pool(tmp_path: Path) -> WorkerPool:
    db_path = tmp_path / "worker.sqlite3"
    await (await Database.open(db_path)).close()
    workers = WorkerPool(Settings(db_path=db_path, log_level="WARNING"))
    yield workers  # type: ignore[misc]
    await workers.close()


async def test_one_members_burst_queues_only_their_own_jobs(pool: WorkerPool) -> None:
    await pool.run(1, nap, 0, "warm")  # the worker process is started
    finished: list[str] = []

    async def job(owner: int, label: str) -> None:
        finished.append(await pool.run(owner, nap, 0.3, label))

    burst = [asyncio.create_task(job(1, f"a{n}")) for n in range(PER_MEMBER)]
    await asyncio.sleep(0.05)  # the burst is under way
    other = asyncio.create_task(job(2, "b"))
    await asyncio.gather(*burst, other)
    # The other member waited for the burst's job in progress only, not for all of them.
    assert finished.index("b") < finished.index(f"a{PER_MEMBER - 1}")
    assert finished.index("b") <= 1


async def test_a_member_past_their_jobs_is_refused_with_a_sentence(pool: WorkerPool) -> None:
    running = [asyncio.create_task(pool.run(7, nap, 0.3, str(n))) for n in range(PER_MEMBER)]
    await asyncio.sleep(0)
    with pytest.raises(LimitReached, match="requests still running"):
        await pool.run(7, nap, 0, "one too many")
    assert await pool.run(8, nap, 0, "someone else") == "someone else"
    assert sorted(await asyncio.gather(*running)) == [str(n) for n in range(PER_MEMBER)]
    assert pool.waiting(7) == 0
    assert await pool.run(7, nap, 0, "later") == "later"


async def test_a_worker_that_dies_is_replaced(pool: WorkerPool) -> None:
    from concurrent.futures.process import BrokenProcessPool

    with pytest.raises(BrokenProcessPool):
        await pool.run(1, die)
    assert await pool.run(1, nap, 0, "alive") == "alive"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_killing_the_bot_ends_its_worker(sample_db_file: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, db_path, tmp_path / "bot.log")
    await world.bot.start()
    try:
        reply = await world.run(world.member, "similar", {"id": "2601.20911"})
        assert reply.embeds, reply.content  # the worker answered
        assert world.bot.process is not None
        bot_pid = world.bot.process.pid
        workers = [pid for pid in _children(bot_pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert workers, "no worker process under the bot"
        os.kill(bot_pid, signal.SIGKILL)
        await world.bot.process.wait()
        await eventually(lambda: not any(_alive(pid) for pid in workers), timeout=10)
    finally:
        await fake.stop()
