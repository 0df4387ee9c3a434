"""A running bot over the sample digests, shared by the tests of one module.

`world` runs on a copy of the SQLite sample file. A module marked `pytestmark = both_engines` runs
each of its tests as test[sqlite] and test[postgres], on one world per engine: the copy, or a clone
of the PostgreSQL samples template (tests/conftest.py `engine_target`). `world.db` is the bot's
database (a file or a URL) for `query(world.db, ...)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.botworld import World, build_world
from tests.conftest import ENGINE_PARAMS, engine_target
from tests.fakediscord import FakeDiscord

# The module's tests run as test[sqlite] and test[postgres], each engine's world started once.
both_engines = pytest.mark.parametrize("world_engine", ENGINE_PARAMS, scope="module")


@pytest.fixture(scope="module")
def world_engine() -> str:
    """The engine of `world`: SQLite, unless `both_engines` parametrises it."""
    return "sqlite"


@pytest.fixture(scope="module")
def world_db(request: pytest.FixtureRequest, world_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    """The database of `world`: a copy of the sample file, or a clone of the samples template."""
    return engine_target(request, world_engine, tmp_path_factory.mktemp("world-db"), samples=True).target


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(world_db: Path | str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, world_db, tmp_path_factory.mktemp("world") / "bot.log")
    await world.bot.start()
    yield world
    await world.bot.stop()
    await fake.stop()
