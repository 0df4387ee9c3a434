"""A bot polling a real HTTP digest server, posting to the fake Discord, on a clock the test moves.

`daily` runs on a new SQLite file (`daily_db`). A module or test marked `both_engines`
(tests/bot/conftest.py) runs as test[sqlite] and test[postgres]: `daily` then has a new file, or a
clone of the migrated, empty PostgreSQL template.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.botworld import Clock, World, build_world, query
from tests.conftest import DIGESTS
from tests.digestserver import DigestServer
from tests.engines import open_database
from tests.fakediscord import Channel, FakeDiscord, Message
from tests.postgres_server import is_postgres_url

JSONL_DAY = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_bytes()
MARKDOWN_DAY = (DIGESTS / "2025-12-31.md").read_bytes()
LINK = re.compile(r"\]\(https://arxiv\.org/abs/([^)]+)\)")


@dataclass
class DailyWorld:
    world: World
    server: DigestServer
    clock: Clock
    db: Path | str  # the bot's database: a SQLite file or a PostgreSQL URL

    @property
    def fake(self) -> FakeDiscord:
        return self.world.fake

    @property
    def db_path(self) -> Path:
        """The bot's SQLite file (SQLite only)."""
        assert isinstance(self.db, Path), f"{self.db} is no SQLite file"
        return self.db

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """A read with SQLite placeholders, on either engine."""
        return query(self.db, sql, params)

    async def open_db(self) -> Any:
        """The project's Database on the bot's database, whichever engine (close it after use)."""
        return await open_database("postgres" if is_postgres_url(self.db) else "sqlite", self.db)

    def digest_dates(self) -> list[str]:
        return [str(r[0]) for r in self.rows("SELECT date FROM digests ORDER BY date")]

    def delivery_states(self) -> dict[int, str]:
        """Channel id -> states of its delivery rows, oldest first, joined with a comma."""
        rows = self.rows(
            "SELECT f.channel_id, l.state FROM deliveries l JOIN channel_feeds f ON f.id = l.target_id "
            "WHERE l.target_kind = 'channel' ORDER BY l.id"
        )
        return joined_states(rows)

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


def joined_states(rows: list[tuple[object, ...]]) -> dict[int, str]:
    """(target, state) rows -> target id -> its states joined with a comma, in the rows' order.

    What group_concat gave on SQLite alone, joined here so that the read is the same on both engines.
    """
    states: dict[int, list[str]] = {}
    for target, state in rows:
        states.setdefault(int(str(target)), []).append(str(state))
    return {target: ",".join(found) for target, found in states.items()}


async def start_daily_world(tmp_path: Path, *, clock_start: str, env: dict[str, str] | None = None,
                            db: Path | str | None = None) -> DailyWorld:
    """The world, not started; its database is `db` (a SQLite file or a PostgreSQL URL), else a new file."""
    server = DigestServer()
    await server.start()
    fake = FakeDiscord()
    await fake.start()
    target = tmp_path / "bot.sqlite3" if db is None else db
    clock = Clock(tmp_path / "clock.txt", clock_start)
    settings = {
        "DIGESTBOT_SOURCE_URL": server.base_url,
        "DIGESTBOT_POLL_MINUTES": "0.01",
        "DIGESTBOT_TICK_SECONDS": "0.2",
        "DIGESTBOT_CLOCK_FILE": str(clock.path),
        "DIGESTBOT_SOURCE_RETRY_SECONDS": "0.05",
        **(env or {}),
    }
    world = build_world(fake, target, tmp_path / "bot.log", settings)
    return DailyWorld(world, server, clock, target)


@pytest.fixture
async def daily(tmp_path: Path, daily_db: Path | str) -> AsyncIterator[DailyWorld]:
    """Monday 2026-03-02, 05:00 UTC; nothing published yet; the bot not started yet."""
    state = await start_daily_world(tmp_path, clock_start="2026-03-02T05:00:00+00:00", db=daily_db)
    yield state
    process = state.world.bot.process
    if process is not None and process.returncode is None:
        await state.world.bot.stop()
    await state.fake.stop()
    await state.server.stop()
