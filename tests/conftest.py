"""Shared fixtures: the sample digests, real SQLite files built from them, and the same on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.ingest.service import ingest_path
from storage.engine import Database as AnyDatabase
from storage.papers import PaperStore
from storage.sqlite.database import Database
from tests.engines import (
    Engine,
    fill_samples_template,
    migrate_template,
)
from tests.postgres_server import Databases, PostgresServer, PostgresUnavailable, start_server

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


async def ingest_samples(db: AnyDatabase, names: list[str] | None = None) -> None:
    """Ingest sample digests (all of them by default) into `db`, on either engine."""
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


# --- PostgreSQL and the engine-parametrised fixtures (tests/postgres_server.py, tests/engines.py) ---
# A test that takes `engine` (or `sample_engine`) runs twice, as test[sqlite] and test[postgres];
# the server starts on the first PostgreSQL test only, so a SQLite-only run never pays for it.

# pgserver's wheels (the test extra): Linux x86_64, CPython up to 3.12.
PGSERVER_PLATFORM = sys.platform == "linux" and platform.machine() == "x86_64" and sys.version_info < (3, 13)
ENGINE_PARAMS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
_SERVER = pytest.StashKey[PostgresServer]()


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (DIGESTBOT_TEST_POSTGRES_URL, else one from pgserver's binaries)."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        # Where the test extra installs pgserver, its server must start: a skip there would hide an
        # engine that stopped working. Elsewhere (no wheel) the PostgreSQL tests skip, saying why.
        if PGSERVER_PLATFORM or os.environ.get("CI"):
            pytest.fail(f"the PostgreSQL tests must run here: {exc}")
        pytest.skip(f"{exc} (set DIGESTBOT_TEST_POSTGRES_URL to a server to run them)")
    request.config.stash[_SERVER] = server
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: PostgresServer) -> Iterator[Databases]:
    """Makes and drops the databases of this run on the session's server."""
    databases = Databases(postgres_server)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_databases: Databases) -> str:
    """The migrated, empty template (prepared once by the hook tests/engines.py `migrate_template`)."""
    return postgres_databases.template("empty", migrate_template)


@pytest.fixture(scope="session")
def postgres_samples_template(postgres_databases: Databases) -> str:
    """The template holding every sample digest (the hook tests/engines.py `fill_samples_template`)."""
    return postgres_databases.template("samples", fill_samples_template)


@pytest.fixture
def postgres_url(postgres_databases: Databases, postgres_template: str) -> Iterator[str]:
    """The URL of a fresh, migrated, empty database, dropped after the test."""
    url = postgres_databases.create(postgres_template)
    yield url
    postgres_databases.drop(url)


@pytest.fixture
def postgres_samples_url(postgres_databases: Databases, postgres_samples_template: str) -> Iterator[str]:
    """The URL of a fresh database holding every sample digest, dropped after the test."""
    url = postgres_databases.create(postgres_samples_template)
    yield url
    postgres_databases.drop(url)


def engine_target(request: pytest.FixtureRequest, name: str, folder: Path, *, samples: bool) -> Engine:
    """An Engine on a fresh database: a new file (a copy of sample_db_file) or a clone of a template.

    Call it from a sync fixture (the fixtures it asks for run asyncio themselves).
    """
    if name == "sqlite":
        path = folder / "engine.sqlite3"
        if samples:
            shutil.copyfile(request.getfixturevalue("sample_db_file"), path)
        return Engine("sqlite", path)
    databases: Databases = request.getfixturevalue("postgres_databases")
    template = request.getfixturevalue("postgres_samples_template" if samples else "postgres_template")
    url = databases.create(template)
    request.addfinalizer(lambda: databases.drop(url))
    return Engine("postgres", url)


@pytest.fixture(params=ENGINE_PARAMS)
def _engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    return engine_target(request, request.param, tmp_path, samples=False)


@pytest.fixture(params=ENGINE_PARAMS)
def _sample_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    return engine_target(request, request.param, tmp_path, samples=True)


@pytest.fixture
async def engine(_engine: Engine) -> AsyncIterator[Engine]:
    """test[sqlite] and test[postgres]: a fresh, empty database (a file path or a URL).

    `await engine.open()` is the project's Database on it, `engine.query(sql, params)` reads it with
    SQLite placeholders, `engine.env()` points a bot at it. Databases opened are closed after the test.
    """
    yield _engine
    await _engine.close_opened()


@pytest.fixture
async def sample_engine(_sample_engine: Engine) -> AsyncIterator[Engine]:
    """As `engine`, over a private copy of every sample digest (sample_db_file / the samples template)."""
    yield _sample_engine
    await _sample_engine.close_opened()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    server = config.stash.get(_SERVER, None)
    if server is not None:
        terminalreporter.write_line(server.timings.summary(server.external))
