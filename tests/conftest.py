"""Shared fixtures: the sample digests and real SQLite files built from them."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ingest.service import ingest_path
from storage.papers import PaperStore
from storage.sqlite.database import Database

FIXTURES = Path(__file__).parent / "fixtures"
DIGESTS = FIXTURES / "digests"

# Files whose names carry no date, with the date their arXiv ids put them on.
UNDATED = {
    "000_eb52096bcf26c46f.txt": dt.date(2026, 1, 29),
    "002_5858082daa70f9c8.txt": dt.date(2026, 2, 6),
    "004_8ce2d82a3946f536.txt": dt.date(2026, 1, 22),
}
SAMPLES = [
    "000_eb52096bcf26c46f.txt",
    "002_5858082daa70f9c8.txt",
    "004_8ce2d82a3946f536.txt",
    "2025-03-19_AI_enhanced_Chinese.jsonl",
    "2025-12-31.md",
    "2025-12-31_AI_enhanced_Chinese.jsonl",
]


async def ingest_samples(db: Database, names: list[str] | None = None) -> None:
    """Ingest sample digests (all of them by default) into `db`."""
    store = PaperStore(db)
    for name in names or SAMPLES:
        report = await ingest_path(store, DIGESTS / name, UNDATED.get(name))
        assert report.error is None, report.error


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """An empty, migrated database in a real file."""
    database = await Database.open(tmp_path / "test.sqlite3")
    yield database
    await database.close()


@pytest.fixture(scope="session")
def sample_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file holding every sample digest, built once per test run; copy before use."""
    path = tmp_path_factory.mktemp("samples") / "samples.sqlite3"

    async def build() -> None:
        database = await Database.open(path)
        await ingest_samples(database)
        await database.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def sample_db(sample_db_file: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A private copy of the database holding every sample digest."""
    copy = tmp_path / "samples.sqlite3"
    shutil.copyfile(sample_db_file, copy)
    database = await Database.open(copy)
    yield database
    await database.close()
