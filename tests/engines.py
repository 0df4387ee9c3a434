"""The two storage engines as tests see them: where a database is, how to open it, how to read it.

An `Engine` names the engine (`sqlite` or `postgres`) and its target: a fresh SQLite file path, or
the URL of a fresh PostgreSQL database. `await engine.open()` gives the project's Database for it,
`engine.query(sql, params)` reads it with SQLite-style placeholders on either engine, and
`engine.env()` is what a bot process needs to use it.

The HOOKS section below is the only place that reaches into the engines' code: the fixtures
(tests/conftest.py) and the bot harness (tests/botworld.py) go through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.botworld import query
from tests.postgres_server import is_postgres_url

ENGINES = ("sqlite", "postgres")
def require_postgres_driver() -> None:
    """Skip when psycopg is not installed (outside CI: tests/conftest.py fails a CI run instead)."""
    pytest.importorskip("psycopg", reason="the PostgreSQL engine needs psycopg (pip install -e '.[test]')")


# --- HOOKS: how the tests open each engine's Database and prepare the PostgreSQL templates ---------

async def open_database(engine: str, target: Path | str, **options: Any) -> Any:
    """The project's Database for a SQLite file or a PostgreSQL URL (what `Engine.open` calls)."""
    from storage.engine import open_database as open_engine

    if engine == "postgres":
        require_postgres_driver()
    return await open_engine(target, **options)


async def migrate_template(url: str) -> None:
    """Prepare the 'empty' template, cloned for every PostgreSQL test: apply the migrations.

    Whatever this opens is closed when it returns (no connection may remain on a template).
    """
    database = await open_database("postgres", url)
    await database.close()


async def fill_samples_template(url: str) -> None:
    """Prepare the 'samples' template: migrated and holding every sample digest (as sample_db_file)."""
    from tests.conftest import ingest_samples

    database = await open_database("postgres", url)
    try:
        await ingest_samples(database)
    finally:
        await database.close()

# --- end of HOOKS ------------------------------------------------------------------------------


@dataclass
class Engine:
    """One engine's database for a test: `name` is 'sqlite' or 'postgres', `target` its file or URL."""

    name: str
    target: Path | str
    _opened: list[Any] = field(default_factory=list, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite only)."""
        if not isinstance(self.target, Path):
            raise AttributeError(f"a {self.name} database has no file path; use .target or .url")
        return self.target

    @property
    def url(self) -> str:
        """The database URL (PostgreSQL only)."""
        if not is_postgres_url(self.target):
            raise AttributeError(f"a {self.name} database has no URL; use .target or .path")
        return str(self.target)

    async def open(self, **options: Any) -> Any:
        """The project's Database on this target (closed at the test's end if the test did not)."""
        database = await open_database(self.name, self.target, **options)
        self._opened.append(database)
        return database

    def query(self, sql: str, params: tuple[object, ...] | dict[str, object] = ()) -> list[tuple[Any, ...]]:
        """A read with SQLite placeholders (`?`, `:name`), on either engine."""
        return query(self.target, sql, params)

    def env(self) -> dict[str, str]:
        """The settings that point a bot process at this database."""
        if self.is_sqlite:
            return {"DIGESTBOT_DB": str(self.target)}
        return {"DIGESTBOT_DATABASE_URL": str(self.target)}

    async def close_opened(self) -> None:
        while self._opened:
            await self._opened.pop().close()
