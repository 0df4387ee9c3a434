"""The PostgreSQL test infrastructure itself: the server, the per-test databases, the engine fixtures."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from tests.botworld import ROOT, BotProcess, query
from tests.engines import Engine
from tests.fakediscord import FakeDiscord
from tests.postgres_server import Databases, PostgresServer, database_of, wipe_leftovers, workspace

pytestmark = pytest.mark.postgres


def test_the_server_accepts_connections_with_durability_off(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.url("postgres")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        if not postgres_server.external:
            settings = dict(conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', "
                "'max_connections', 'listen_addresses')").fetchall())
            assert settings == {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                                "max_connections": "300", "listen_addresses": "127.0.0.1"}
            assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)
    if not postgres_server.external:
        # Measured on the 2-core machine: about 0.35 s to start, 10 to 30 ms a clone; bounds leave room for load.
        assert postgres_server.timings.initdb + postgres_server.timings.start < 5


def _write(url: str, sql: str, params: tuple[object, ...] = ()) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql, params)


def test_each_test_database_is_its_own(postgres_databases: Databases, postgres_template: str) -> None:
    first, second = postgres_databases.create(postgres_template), postgres_databases.create(postgres_template)
    try:
        assert first != second
        _write(first, "CREATE TABLE probe (value text)")
        _write(first, "INSERT INTO probe VALUES (%s)", ("only in the first",))
        assert query(first, "SELECT value FROM probe") == [("only in the first",)]
        assert query(second, "SELECT count(*) FROM pg_tables WHERE tablename = 'probe'") == [(0,)]
    finally:
        postgres_databases.drop(first)
        postgres_databases.drop(second)


def test_a_clone_is_fast(postgres_databases: Databases, postgres_template: str) -> None:
    took = []
    for _ in range(5):
        began = time.perf_counter()
        url = postgres_databases.create(postgres_template)
        took.append(time.perf_counter() - began)
        postgres_databases.drop(url)
    assert sorted(took)[2] < 0.25, took


def test_dropping_ends_connections_left_open(postgres_databases: Databases, postgres_template: str) -> None:
    url = postgres_databases.create(postgres_template)
    left_open = psycopg.connect(url)  # a bot that was not stopped, say
    try:
        postgres_databases.drop(url)
        assert not postgres_databases.exists(url)
        with pytest.raises(psycopg.OperationalError):
            left_open.execute("SELECT 1")
    finally:
        left_open.close()
    postgres_databases.drop(url)  # dropping twice is harmless


def test_the_postgres_url_fixture_is_dropped_after_its_test(postgres_url: str, postgres_databases: Databases) -> None:
    assert postgres_databases.exists(postgres_url)
    assert database_of(postgres_url).startswith(postgres_databases.prefix)


def test_a_template_takes_no_connection(postgres_server: PostgresServer, postgres_template: str) -> None:
    with pytest.raises(psycopg.OperationalError, match="not currently accepting connections"):
        psycopg.connect(postgres_server.url(postgres_template)).close()


def test_a_template_hook_that_leaves_a_connection_open_is_named(postgres_databases: Databases) -> None:
    left: list[psycopg.Connection] = []

    async def leaky(url: str) -> None:
        left.append(psycopg.connect(url))

    try:
        with pytest.raises(AssertionError, match="template 'leaky' hook left connections open"):
            postgres_databases.template("leaky", leaky, idle_timeout=0.3)
    finally:
        for conn in left:
            conn.close()


async def test_the_engine_reads_with_sqlite_placeholders(engine: Engine) -> None:
    create = "CREATE TABLE probe (id integer PRIMARY KEY, label text)"
    rows = [(1, "50% off"), (2, "it's ?"), (3, "plain")]
    if engine.is_sqlite:
        with sqlite3.connect(engine.path) as conn:
            conn.execute(create)
            conn.executemany("INSERT INTO probe VALUES (?, ?)", rows)
        conn.close()
    else:
        with psycopg.connect(engine.url, autocommit=True) as pg:
            pg.execute(create)
            pg.cursor().executemany("INSERT INTO probe VALUES (%s, %s)", rows)
    assert engine.query("SELECT label FROM probe WHERE id = ?", (2,)) == [("it's ?",)]
    assert engine.query("SELECT id FROM probe WHERE id > :low ORDER BY id", {"low": 1}) == [(2,), (3,)]
    assert engine.query("SELECT id FROM probe WHERE label LIKE '%off'") == [(1,)]
    assert engine.query("SELECT id % 2 FROM probe ORDER BY id") == [(1,), (0,), (1,)]


async def test_the_engine_opens_the_projects_database(engine: Engine) -> None:
    database = await engine.open()
    assert engine.query("SELECT count(*) FROM papers") == [(0,)]
    await database.close()


async def test_the_sample_engine_holds_the_samples(sample_engine: Engine) -> None:
    assert engine_count(sample_engine, "papers") > 0
    assert engine_count(sample_engine, "digests") > 0


def engine_count(engine: Engine, table: str) -> int:
    return int(engine.query(f"SELECT count(*) FROM {table}")[0][0])


def test_a_bot_process_is_pointed_at_a_sqlite_file_or_a_url(tmp_path: Path) -> None:
    fake = FakeDiscord()
    on_file = BotProcess(fake, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    assert on_file.environment()["DIGESTBOT_DB"] == str(tmp_path / "bot.sqlite3")
    assert "DIGESTBOT_DATABASE_URL" not in on_file.environment()
    assert on_file.db == on_file.db_path == tmp_path / "bot.sqlite3"
    url = "postgresql://postgres@127.0.0.1:5432/digestbot_test_x"
    on_server = BotProcess(fake, url, tmp_path / "bot.log")
    assert on_server.environment()["DIGESTBOT_DATABASE_URL"] == url
    assert "DIGESTBOT_DB" not in on_server.environment()
    assert on_server.db == url


# A pytest run of its own that starts the session's server through the fixture, says where it is, and waits.
HOLDER = textwrap.dedent('''
    import json, os, time
    from tests.conftest import postgres_server  # noqa: F401  (the fixture itself)

    def test_hold(postgres_server):
        assert not postgres_server.external
        with open(os.environ["HOLDER_REPORT"] + ".tmp", "w") as out:
            json.dump({"postmaster": postgres_server.process.pid, "data": str(postgres_server.data_dir)}, out)
        os.replace(os.environ["HOLDER_REPORT"] + ".tmp", os.environ["HOLDER_REPORT"])
        time.sleep(120)
''')


def _processes_of(postmaster: int) -> set[int]:
    """The postmaster and its children (they rename themselves `postgres: checkpointer` and so on)."""
    found = {postmaster}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                found.add(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited: it only waits to be reaped


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_test_run_leaves_no_server_behind(postgres_server: PostgresServer, tmp_path: Path) -> None:
    if postgres_server.external:
        pytest.skip("an external server is not ours to start")
    (tmp_path / "test_hold.py").write_text(HOLDER)
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "DIGESTBOT_TEST_POSTGRES_URL"} | {"HOLDER_REPORT": str(report)}
    holder = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(ROOT), str(tmp_path / "test_hold.py")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not report.exists():
            assert holder.poll() is None, holder.communicate()[0].decode(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the holder never started its server"
            time.sleep(0.05)
        held = json.loads(report.read_text())
        server = _processes_of(held["postmaster"])
        assert len(server) > 1 and all(_running(pid) for pid in server)
        assert held["data"] in Path(f"/proc/{held['postmaster']}/cmdline").read_text()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in server):
        assert time.monotonic() < deadline, f"postgres outlived the killed run: {[p for p in server if _running(p)]}"
        time.sleep(0.02)
    # Its files stay behind until the next start wipes runs whose process is gone.
    run_dir = Path(held["data"]).parent
    assert run_dir.exists() and run_dir.parent == workspace()
    wipe_leftovers(workspace())
    assert not run_dir.exists()
    assert postgres_server.run_dir is not None and postgres_server.run_dir.exists()  # ours is alive: kept
