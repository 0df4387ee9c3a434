"""A running bot over the sample digests, shared by the tests of one module."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.botworld import World, build_world
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
