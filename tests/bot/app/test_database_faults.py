"""The database file under the running bot: deleted, new, full, read-only. Always said clearly, never lost silently."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.cli.test_cli import digestbot
from tests.bot.delivery.conftest import JSONL_DAY, MARKDOWN_DAY, start_daily_world
from tests.botworld import build_world, eventually
from tests.fakediscord import FakeDiscord


async def test_a_database_deleted_under_the_bot_is_noticed_rescued_and_never_replaced_silently(
        tmp_path: Path, sample_db_file: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    db_path = tmp_path / "bot.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    world = build_world(fake, db_path, tmp_path / "bot.log", {"DIGESTBOT_TICK_SECONDS": "0.2"})
    try:
        await world.bot.start()
        db_path.unlink()
        await eventually(lambda: "wrote what the database held to" in world.bot.log())
        assert "was deleted while the bot was running" in world.bot.log()
        status = await world.run(world.owner, "status")
        assert "was deleted while the bot was running" in status.text and ".rescued-" in status.text
        health = await asyncio.to_thread(digestbot, "health", db=db_path, env={"DIGESTBOT_SOURCE_URL": "off"})
        assert health.returncode == 1 and "does not exist" in health.stderr
        assert await world.bot.stop() == 0
        # The restart does not make a new, empty database over the loss: it says where the papers are.
        refused = await asyncio.to_thread(subprocess.run, world.bot.command(), capture_output=True, text=True,
                                          env=world.bot.environment(), timeout=60)
        assert refused.returncode == 1 and "the bot saved what it held to bot.sqlite3.rescued-" in refused.stderr
        assert not db_path.exists()
        rescued = next(tmp_path.glob("bot.sqlite3.rescued-*"))
        rescued.rename(db_path)
        await world.bot.start()
        paper = await world.run(world.member, "paper", {"id": "2601.20911"})
        assert paper.embeds[0]["footer"]["text"] == "arXiv:2601.20911"
    finally:
        if world.bot.process and world.bot.process.returncode is None:
            await world.bot.stop()
        await fake.stop()


async def test_a_new_database_is_announced_loudly_and_shown_in_status_and_health(tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, tmp_path / "fresh.sqlite3", tmp_path / "bot.log")
    try:
        await world.bot.start()
        assert "created a NEW, EMPTY database at" in world.bot.log()
        status = await world.run(world.owner, "status")
        assert "created <t:" in status.text and "by this start: it was new and empty" in status.text
        health = await asyncio.to_thread(digestbot, "health", db=tmp_path / "fresh.sqlite3", env={"DIGESTBOT_SOURCE_URL": "off"})
        assert health.returncode == 0 and "database created " in health.stdout
    finally:
        await world.bot.stop()
        await fake.stop()
    fake = FakeDiscord()
    await fake.start()
    again = build_world(fake, tmp_path / "fresh.sqlite3", tmp_path / "bot2.log")
    try:
        await again.bot.start()
        assert "NEW, EMPTY" not in again.bot.log()
    finally:
        await again.bot.stop()
        await fake.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB file system of its own (tmpfs), so the test can fill it and make it read-only."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small file system")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _remount(mount: Path, mode: str, *, check: bool = True) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=check, capture_output=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


async def test_a_full_disk_then_a_read_only_one_are_one_clear_line_per_poll_and_recover(tmp_path: Path, small_disk: Path) -> None:
    db_path = small_disk / "bot.sqlite3"
    daily = await start_daily_world(tmp_path, clock_start="2026-03-02T05:00:00+00:00", db=db_path,
                                    env={"DIGESTBOT_DB_WRITE_WAIT_SECONDS": "0.5"})
    health_env = {"DIGESTBOT_SOURCE_URL": daily.server.base_url, "DIGESTBOT_CLOCK_FILE": str(daily.clock.path)}
    try:
        await daily.world.bot.start()
        daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
        await eventually(lambda: daily.digest_dates() == ["2026-03-02"])

        filler = _fill(small_disk)
        daily.server.publish("2026-03-03.md", MARKDOWN_DAY)
        daily.clock.set("2026-03-03T05:00:00+00:00")
        await eventually(lambda: daily.world.bot.log().count("cannot write the database: disk full at") >= 2, timeout=30)
        full = await asyncio.to_thread(digestbot, "health", db=db_path, env=health_env)
        assert full.returncode == 1 and "cannot write the database: disk full at" in full.stderr

        filler.unlink()  # space returns: the next poll fetches the day again and stores it
        await eventually(lambda: daily.digest_dates() == ["2026-03-02", "2026-03-03"], timeout=30)

        log = daily.world.bot.log()
        assert "Traceback" not in log
        failing = [line for line in log.splitlines() if "cannot write the database" in line]
        assert failing and all("poll of data branch" in line and " ERROR " in line for line in failing)  # one line per poll

        # The file system turns read-only (as the kernel does after disk errors); the bot is restarted.
        assert await daily.world.bot.stop() == 0
        await asyncio.to_thread(_remount, small_disk, "ro")
        refused = await asyncio.to_thread(subprocess.run, daily.world.bot.command(), capture_output=True, text=True,
                                          env=daily.world.bot.environment(), timeout=60)
        assert refused.returncode == 1 and "cannot write the database: read-only file system at" in refused.stderr
        assert "Traceback" not in refused.stderr
        readonly = await asyncio.to_thread(digestbot, "health", db=db_path, env=health_env)
        assert readonly.returncode == 1 and "read-only" in readonly.stderr
        await asyncio.to_thread(_remount, small_disk, "rw")
        daily.server.publish("2026-03-04.md", MARKDOWN_DAY)
        daily.clock.set("2026-03-04T05:00:00+00:00")
        await daily.world.bot.start()
        await eventually(lambda: "2026-03-04" in daily.digest_dates(), timeout=30)
    finally:
        await asyncio.to_thread(_remount, small_disk, "rw", check=False)
        process = daily.world.bot.process
        if process is not None and process.returncode is None:
            await daily.world.bot.stop()
        await daily.fake.stop()
        await daily.server.stop()
