"""A running bot over the sample digests, shared by the tests of one module."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.botworld import World, build_world
from tests.conftest import ENGINE_PARAMS, engine_target
from tests.engines import Engine
from tests.fakediscord import FakeDiscord


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(sample_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    folder = tmp_path_factory.mktemp("world")
    db_path = folder / "bot.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, db_path, folder / "bot.log")
    await world.bot.start()
    yield world
    await world.bot.stop()
    await fake.stop()


@pytest.fixture(scope="module", params=ENGINE_PARAMS)
def _world_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine_target(request, request.param, tmp_path_factory.mktemp("engine-world"), samples=True)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def engine_world(_world_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """As `world`, on either engine: the module's tests run as test[sqlite] and test[postgres].

    `world.db` is the bot's database (a file or a URL) for `query(world.db, ...)`. Not used yet: a
    module switches by asking for `engine_world` instead of `world`.
    """
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, _world_engine.target, tmp_path_factory.mktemp("engine-world-log") / "bot.log")
    await world.bot.start()
    yield world
    await world.bot.stop()
    await fake.stop()
