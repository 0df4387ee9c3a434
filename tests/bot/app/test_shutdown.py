"""Stopping: within 10 seconds in every case, no traceback, every delivery at a ledger checkpoint."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

from storage.subscriptions import SubscriptionStore
from tests.bot.conftest import both_engines
from tests.bot.delivery.conftest import JSONL_DAY, DailyWorld, start_daily_world
from tests.botworld import eventually

STOP_WINDOW = 10.0  # what README promises, well inside the deploy files' 30 s before a SIGKILL


async def _stop_cleanly(daily: DailyWorld) -> str:
    assert await daily.world.bot.stop(timeout=STOP_WINDOW) == 0
    log = daily.world.bot.log()
    assert "Traceback" not in log and "CancelledError" not in log, log[-3000:]
    return log


async def _teardown(daily: DailyWorld) -> None:
    process = daily.world.bot.process
    if process is not None and process.returncode is None:
        process.kill()
        await process.wait()
    await daily.fake.stop()
    await daily.server.stop()


async def test_a_signal_during_a_polls_backoff_stops_at_once(tmp_path: Path) -> None:
    daily = await start_daily_world(tmp_path, clock_start="2026-03-02T05:00:00+00:00",
                                    env={"DIGESTBOT_SOURCE_RETRY_SECONDS": "30"})
    try:
        daily.server.failures = [503] * 50
        await daily.world.bot.start()
        await eventually(lambda: "source answered 503" in daily.world.bot.log())
        log = await _stop_cleanly(daily)
        assert "poll stopped for shutdown" in log
    finally:
        await _teardown(daily)


async def test_a_signal_during_a_slow_fetch_stops_at_once(tmp_path: Path) -> None:
    daily = await start_daily_world(tmp_path, clock_start="2026-03-02T05:00:00+00:00")
    try:
        daily.server.delay = 25
        await daily.world.bot.start()
        await eventually(lambda: "connected as" in daily.world.bot.log())
        await asyncio.sleep(0.5)  # the poll's first request is on its way and will not be answered for 25 s
        assert daily.server.requests == []
        log = await _stop_cleanly(daily)
        assert "poll stopped for shutdown" in log
    finally:
        daily.server.delay = 0
        await _teardown(daily)


@both_engines
async def test_a_signal_during_dm_fan_out_stops_it_and_the_restart_sends_each_dm_once(tmp_path: Path, daily_db: Path | str) -> None:
    daily = await start_daily_world(tmp_path, clock_start="2026-03-02T10:00:00+00:00", db=daily_db,
                                    env={"DIGESTBOT_DELIVERY_CONCURRENCY": "3"})
    fake = daily.fake
    users = [fake.add_user(f"reader{n}") for n in range(40)]
    db = await daily.open_db()
    store = SubscriptionStore(db)
    for user in users:
        await store.add(user.id, "category", "cs.CV", now=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), limit=50,
                        default_time=dt.time(5, 0), default_timezone="UTC")
    await db.close()
    fake.hold("POST", r"^/channels/\d+/messages$", 0.25, times=1000)
    try:
        daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
        await daily.world.bot.start()
        await eventually(lambda: sum(len(fake.dms_to(u)) for u in users) >= 6, timeout=30)
        daily.world.bot.process.send_signal(15)  # type: ignore[union-attr]
        signalled = sum(len(fake.dms_to(u)) for u in users)
        await _stop_cleanly(daily)
        after = sum(len(fake.dms_to(u)) for u in users)
        # Only the DMs already on their way when the signal came (at most one per concurrent slot) went out.
        assert after - signalled <= 3, (signalled, after)
        assert after < len(users)
        states = Counter(str(r[0]) for r in daily.rows("SELECT state FROM deliveries WHERE target_kind = 'dm'"))
        assert set(states) <= {"done", "pending", "sending"}
        # The next start sends the rest, and nobody gets a second copy.
        fake.holds.clear()
        await daily.world.bot.start()
        await eventually(lambda: all(len(fake.dms_to(u)) >= 1 for u in users), timeout=30)
        await asyncio.sleep(0.5)
        assert all(len(fake.dms_to(u)) == 1 for u in users), Counter(len(fake.dms_to(u)) for u in users)
        await _stop_cleanly(daily)
    finally:
        await _teardown(daily)
