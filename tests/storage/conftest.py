"""The storage tests run on both engines: `db` and `sample_db` here are test[sqlite] and test[postgres].

They override the SQLite-only fixtures of tests/conftest.py for tests/storage only (the bot's tests
elsewhere keep theirs). Each is the project's Database (storage.engine) on a fresh database: a new
file or a clone of the migrated template for `db`; a copy of sample_db_file or a clone of the samples
template for `sample_db`. A test that also takes `engine` (or `sample_engine`) gets the same database,
to read it with `engine.query` or to look at `engine.name`.

A test that needs SQLite itself (the FTS5 table, PRAGMAs, the file) takes `sqlite_db` or
`sqlite_sample_db` instead and says why. `bare_engine` is a target with no schema yet (migrations).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.engine import Database
from storage.sqlite.database import Database as SqliteDatabase
from tests.conftest import ENGINE_PARAMS
from tests.engines import Engine
from tests.postgres_server import Databases


@pytest.fixture
async def db(engine: Engine) -> Database:
    """test[sqlite] and test[postgres]: an empty, migrated database (closed by `engine` after the test)."""
    database: Database = await engine.open()
    return database


@pytest.fixture
async def sample_db(sample_engine: Engine) -> Database:
    """test[sqlite] and test[postgres]: a private database holding every sample digest."""
    database: Database = await sample_engine.open()
    return database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    """SQLite only: an empty, migrated database in a real file."""
    database = await SqliteDatabase.open(tmp_path / "test.sqlite3")
    yield database
    await database.close()


@pytest.fixture
async def sqlite_sample_db(sample_db_file: Path, tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    """SQLite only: a private copy of the file holding every sample digest."""
    copy = tmp_path / "samples.sqlite3"
    shutil.copyfile(sample_db_file, copy)
    database = await SqliteDatabase.open(copy)
    yield database
    await database.close()


@pytest.fixture(params=ENGINE_PARAMS)
def _bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return Engine("sqlite", tmp_path / "bare.sqlite3")
    databases: Databases = request.getfixturevalue("postgres_databases")
    url = databases.create()
    request.addfinalizer(lambda: databases.drop(url))
    return Engine("postgres", url)


@pytest.fixture
async def bare_engine(_bare_engine: Engine) -> AsyncIterator[Engine]:
    """test[sqlite] and test[postgres] on a database with no schema yet: a file not made, an empty database."""
    yield _bare_engine
    await _bare_engine.close_opened()
