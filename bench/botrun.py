"""The real bot process over a bench corpus, against the fake Discord on 127.0.0.1 (for the benches)."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.botworld import World, build_world
from tests.fakediscord import FakeDiscord


@contextlib.asynccontextmanager
async def bot_over(corpus: Path, env: dict[str, str] | None = None) -> AsyncIterator[World]:
    """Start the bot on `corpus` (the file is used in place: the bot only adds to its meta table)."""
    fake = FakeDiscord()
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = {"DIGESTBOT_LOG_LEVEL": "WARNING", "DIGESTBOT_COOLDOWN_SCALE": "0", **(env or {})}
        world = build_world(fake, corpus, Path(folder) / "bot.log", settings)
        await world.bot.start(timeout=120)
        try:
            yield world
        finally:
            await world.bot.stop(timeout=60)
            await fake.stop()


def rss_kib(pid: int) -> int:
    """A process's resident memory (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bot_rss_kib(world: World) -> int:
    """The bot process's resident memory (VmRSS), in KiB."""
    assert world.bot.process is not None
    return rss_kib(world.bot.process.pid)
