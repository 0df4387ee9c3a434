"""The locks of several `digestbot run` processes on one PostgreSQL database, on the real server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
import pytest

from storage.engine import open_database, run_lock
from storage.errors import RunLockHeld, StorageError
from storage.gateway import IdentifySlots
from storage.postgres.locks import RUN_LOCK, PgRunLock

pytestmark = pytest.mark.postgres


async def soon(attempt: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> bool:
    """True once `attempt()` is, trying again every 20 ms for `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await attempt():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_each_index_runs_once_and_every_process_of_a_bot_runs_the_same_topology(postgres_url: str) -> None:
    processes = [PgRunLock(postgres_url, (k, 3), 6) for k in range(3)]
    for lock in processes:
        await lock.acquire()
    try:
        twice = PgRunLock(postgres_url, (1, 3), 6)
        with pytest.raises(RunLockHeld, match=r"digestbot run 1/3 \(PID \d+ on .*\) is already running as process 1/3"):
            await twice.acquire()
        # Another count of processes or of shards would run some shards twice and others never.
        with pytest.raises(RunLockHeld, match=r"serves this database as one of 3 process\(es\) with 6 shard\(s\); every process"):
            await PgRunLock(postgres_url, (3, 4), 8).acquire()
        with pytest.raises(RunLockHeld, match="with 6 shard"):
            await PgRunLock(postgres_url, (0, 1)).acquire()
        # `db migrate-to` takes the run lock alone: it cannot start under running processes.
        with psycopg.connect(postgres_url, autocommit=True) as copier:
            assert copier.execute("SELECT pg_try_advisory_lock(%s)", (RUN_LOCK,)).fetchone() == (False,)
        # A process that stops lets its index go at once.
        await processes[1].release()

        async def started() -> bool:
            try:
                await twice.acquire()
            except RunLockHeld:
                return False
            return True

        assert await soon(started)
        processes[1] = twice
    finally:
        for lock in processes:
            await lock.release()
    with psycopg.connect(postgres_url, autocommit=True) as copier:

        async def copying() -> bool:
            return copier.execute("SELECT pg_try_advisory_lock(%s)", (RUN_LOCK,)).fetchone() == (True,)

        assert await soon(copying)  # once the stopped processes' sessions have ended
        with pytest.raises(RunLockHeld, match="holds the database"):
            await PgRunLock(postgres_url).acquire()


async def test_one_process_polls_and_another_takes_over_when_it_is_gone(postgres_url: str) -> None:
    first, second = PgRunLock(postgres_url, (0, 2), 2), PgRunLock(postgres_url, (1, 2), 2)
    await first.acquire()
    await second.acquire()
    try:
        assert await first.poll_turn() and not await second.poll_turn()
        assert await first.poll_turn() and not await second.poll_turn()  # kept, not taken turn by turn
        await first.release()  # its process ended (a crash ends the connection the same way)
        # The server lets go once the old session's backend has exited: a moment, not a lease.
        assert await soon(second.poll_turn)
    finally:
        await first.release()
        await second.release()


async def test_the_lease_is_not_claimed_through_a_lost_connection(postgres_url: str) -> None:
    lock = PgRunLock(postgres_url, (0, 2), 2)
    await lock.acquire()
    try:
        assert await lock.poll_turn() and await lock.held()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'digestbot run 0/2%%'")
        with pytest.raises(StorageError, match="the connection holding process 0/2's locks failed"):
            await lock.poll_turn()
        assert not lock.polling and not await lock.held()
    finally:
        await lock.release()


async def test_several_processes_on_sqlite_are_refused_in_a_sentence() -> None:
    with pytest.raises(StorageError, match=r"several bot processes \(DIGESTBOT_PROCESS\) need a PostgreSQL database"):
        run_lock("bot.sqlite3", (0, 2), 2)


async def test_gateway_starts_booked_by_several_processes_keep_one_per_bucket_and_window(postgres_url: str) -> None:
    dbs = [await open_database(postgres_url) for _ in range(3)]
    try:
        waits = await asyncio.gather(*(IdentifySlots(db).book(0, 5.0) for db in dbs), IdentifySlots(dbs[0]).book(1, 5.0))
    finally:
        for db in dbs:
            await db.close()
    bucket0 = sorted(waits[:3])
    # Three processes starting at once in one bucket: now, in 5 s, in 10 s; another bucket at once.
    assert bucket0[0] < 0.5 and 4.5 < bucket0[1] <= 5.0 and 9.5 < bucket0[2] <= 10.0
    assert waits[3] < 0.5
