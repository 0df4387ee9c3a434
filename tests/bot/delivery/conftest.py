"""A bot polling a real HTTP digest server, posting to the fake Discord, on a clock the test moves."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.botworld import Clock, World, build_world, query
from tests.conftest import DIGESTS
from tests.digestserver import DigestServer
from tests.fakediscord import Channel, FakeDiscord, Message

JSONL_DAY = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_bytes()
MARKDOWN_DAY = (DIGESTS / "2025-12-31.md").read_bytes()
LINK = re.compile(r"\]\(https://arxiv\.org/abs/([^)]+)\)")


@dataclass
class DailyWorld:
    world: World
    server: DigestServer
    clock: Clock
    db_path: Path

    @property
    def fake(self) -> FakeDiscord:
        return self.world.fake

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        return query(self.db_path, sql, params)

    def digest_dates(self) -> list[str]:
        return [str(r[0]) for r in self.rows("SELECT date FROM digests ORDER BY date")]

    def delivery_states(self) -> dict[int, str]:
        """Channel id -> state of its delivery rows (joined with a comma)."""
        rows = self.rows(
            "SELECT f.channel_id, group_concat(l.state) FROM deliveries l JOIN channel_feeds f ON f.id = l.target_id "
            "WHERE l.target_kind = 'channel' GROUP BY f.channel_id"
        )
        return {int(str(r[0])): str(r[1]) for r in rows}

    def headers(self, channel: Channel) -> list[Message]:
        return [m for m in self.fake.channel_messages(channel) if m.embeds and m.embeds[0].get("title", "").startswith("arXiv digest")]

    def thread_messages(self, channel: Channel) -> list[Message]:
        messages: list[Message] = []
        for thread in self.fake.threads_of(channel):
            messages += self.fake.channel_messages(thread)
        return messages

    def linked_ids(self, messages: list[Message]) -> list[str]:
        found: list[str] = []
        for message in messages:
            for embed in message.embeds:
                found += LINK.findall(embed.get("description", ""))
        return found

    def papers_of_day(self, date: str, category: str | None = None) -> set[str]:
        rows = self.rows(
            "SELECT p.arxiv_id, dp.section, p.categories FROM digest_papers dp JOIN digests d ON d.id = dp.digest_id "
            "JOIN papers p ON p.id = dp.paper_id WHERE d.date = ?", (date,),
        )
        return {str(r[0]) for r in rows if category is None or r[1] == category or f'"{category}"' in str(r[2])}


async def start_daily_world(tmp_path: Path, *, clock_start: str, env: dict[str, str] | None = None) -> DailyWorld:
    server = DigestServer()
    await server.start()
    fake = FakeDiscord()
    await fake.start()
    db_path = tmp_path / "bot.sqlite3"
    clock = Clock(tmp_path / "clock.txt", clock_start)
    settings = {
        "DIGESTBOT_SOURCE_URL": server.base_url,
        "DIGESTBOT_POLL_MINUTES": "0.01",
        "DIGESTBOT_TICK_SECONDS": "0.2",
        "DIGESTBOT_CLOCK_FILE": str(clock.path),
        "DIGESTBOT_SOURCE_RETRY_SECONDS": "0.05",
        **(env or {}),
    }
    world = build_world(fake, db_path, tmp_path / "bot.log", settings)
    return DailyWorld(world, server, clock, db_path)


@pytest.fixture
async def daily(tmp_path: Path) -> AsyncIterator[DailyWorld]:
    """Monday 2026-03-02, 05:00 UTC; nothing published yet; the bot not started yet."""
    state = await start_daily_world(tmp_path, clock_start="2026-03-02T05:00:00+00:00")
    yield state
    process = state.world.bot.process
    if process is not None and process.returncode is None:
        await state.world.bot.stop()
    await state.fake.stop()
    await state.server.stop()
