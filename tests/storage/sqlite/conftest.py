"""The SQLite engine's own tests: `db` and `sample_db` here are SQLite files, never parametrised.

tests/storage/conftest.py runs the storage tests on both engines; these test what only SQLite has
(its time budgets by progress handler, its file, its lock), so they keep the SQLite fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.sqlite.database import Database


@pytest.fixture
async def db(sqlite_db: Database) -> AsyncIterator[Database]:
    """An empty, migrated SQLite file (tests/storage/conftest.py `sqlite_db`)."""
    yield sqlite_db


@pytest.fixture
async def sample_db(sqlite_sample_db: Database) -> AsyncIterator[Database]:
    """A private copy of the SQLite file holding every sample digest."""
    yield sqlite_sample_db
