"""The engine of the bot's end-to-end worlds (tests/bot/delivery/conftest.py `daily`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ENGINE_PARAMS, engine_target

# A module (`pytestmark = both_engines`) or a test so marked runs as test[sqlite] and test[postgres].
both_engines = pytest.mark.parametrize("daily_engine", ENGINE_PARAMS, scope="module")


@pytest.fixture(scope="module")
def daily_engine() -> str:
    """The engine of `daily`: SQLite, unless `both_engines` parametrises it."""
    return "sqlite"


@pytest.fixture
def daily_db(request: pytest.FixtureRequest, daily_engine: str, tmp_path: Path) -> Path | str:
    """The bot's database: a new SQLite file, or a clone of the migrated, empty PostgreSQL template."""
    return engine_target(request, daily_engine, tmp_path, samples=False).target
