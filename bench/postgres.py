"""A PostgreSQL server for the benches that compare the two engines, and fresh databases on it.

The server is the tests' (tests/postgres_server.py: DIGESTBOT_TEST_POSTGRES_URL if set, else a
private server from the pgserver wheel that dies with this process), started with durability as
an operator would run it rather than as the tests do, so the comparison with SQLite is fair:

- `fsync` and `full_page_writes` on, and `synchronous_commit = off`: a commit returns before its
  WAL reaches the disk, a crash loses at most the last moment of commits and never corrupts,
  which is what the SQLite engine's WAL with `synchronous = NORMAL` gives;
- `shared_buffers` 1 GB (the tests use 64 MB): a production server gets a share of the RAM.

Each database is created from template0 with the C locale, as an operator's `createdb` would be
for the bot, and gets the project's schema when the project opens it (storage.engine.open_database).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests import postgres_server

SETTINGS = {
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "off",
    "shared_buffers": "1GB",
    "max_wal_size": "4GB",
}


@dataclass
class BenchServer:
    """A started server; `database(name)` makes an empty database and returns its URL."""

    server: postgres_server.PostgresServer
    admin: Any

    def database(self, name: str) -> str:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
        return self.server.url(name)

    def drop(self, name: str) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def settings(self) -> str:
        """The settings that matter for the figures, as the server reports them."""
        names = ("server_version", "shared_buffers", "fsync", "full_page_writes", "synchronous_commit", "work_mem")
        values = self.admin.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names)).fetchone()
        return ", ".join(f"{name} {value}" for name, value in zip(names, values, strict=True))


@contextlib.contextmanager
def bench_server() -> Iterator[BenchServer]:
    """Start the server (from the main thread) and stop it afterwards; PostgresUnavailable when there is none."""
    import psycopg

    # start_private_server reads the module's SETTINGS when it runs: the benches' durability on top of the tests' rest.
    tests_settings = postgres_server.SETTINGS
    postgres_server.SETTINGS = {**tests_settings, **SETTINGS}
    try:
        server = postgres_server.start_server()
    finally:
        postgres_server.SETTINGS = tests_settings
    try:
        with psycopg.connect(server.admin_url, autocommit=True) as admin:
            yield BenchServer(server, admin)
    finally:
        if not server.external:
            server.stop()


Unavailable = postgres_server.PostgresUnavailable
