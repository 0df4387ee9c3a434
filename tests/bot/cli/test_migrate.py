"""`digestbot db migrate-to URL` and the db commands, health and status on PostgreSQL, run as a user runs them.

Needs a PostgreSQL server: DIGESTBOT_TEST_POSTGRES_URL (a database to connect to for CREATE
DATABASE, e.g. postgresql://postgres@127.0.0.1:55432/postgres); each test gets a database of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from storage.engine import latest_schema_version
from storage.feeds import FeedStore
from storage.ledger import DeliveryLedger
from storage.members import MemberModel, MemberStore
from storage.papers import PaperStore
from storage.reading_list import ReadingList
from storage.sources import PollRun, SourceStateStore
from storage.sqlite.database import Database
from storage.sqlite.files import RunLock
from storage.subscriptions import SubscriptionStore
from tests.bot.cli.test_cli import digestbot
from tests.botworld import ROOT
from tests.postgres_server import Databases

NOW = dt.datetime(2026, 3, 2, 11, 30, tzinfo=dt.UTC)
# Every table, as storage.migrate.TABLES names them (that module needs psycopg, which may be missing).
TABLES = (
    "meta", "papers", "paper_categories", "digests", "digest_files", "digest_papers", "channel_feeds",
    "deliveries", "source_fetches", "poll_runs", "subscriptions", "user_settings", "saved_papers",
    "member_languages", "feedback", "member_models", "member_models_stale", "feed_alerts", "gateway_identify_slots",
)
# Trust authentication ignores it; it must never be printed.
PASSWORD = "s3cret-pw"


@pytest.fixture
def pg_url(postgres_databases: Databases) -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, with a password in its URL."""
    url = postgres_databases.create()
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port or 5432}"
    try:
        yield urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    finally:
        postgres_databases.drop(url)


def pg(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description is not None else []


async def build_source(sample_db_file: Path, path: Path) -> None:
    """The sample digests plus a bit of everything else the bot stores, through the stores."""
    shutil.copy(sample_db_file, path)
    db = await Database.open(path)
    try:
        latest = await PaperStore(db).latest_digest()
        assert latest is not None
        feeds = FeedStore(db)
        feed, _ = await feeds.upsert(guild_id=10, channel_id=100, categories=["cs.CV"], post_time=dt.time(9),
                                     timezone="Europe/Berlin", created_by=7, now=NOW, include="diffusion")
        other, _ = await feeds.upsert(guild_id=10, channel_id=101, categories=[], post_time=dt.time(18),
                                      timezone="UTC", created_by=7, now=NOW, channel_type="forum", language="zh-CN")
        await feeds.mark_failing(other.id, "403 Missing Access", NOW)  # and a feed alert
        ledger = DeliveryLedger(db)
        delivery = await ledger.open("channel", feed.id, latest.id, NOW)
        assert delivery is not None
        await ledger.start(delivery.id, 2, NOW)
        await ledger.record_header(delivery.id, 555, NOW)
        await ledger.record_part(delivery.id, 0, 556, NOW)
        await ledger.finish(delivery.id, NOW)
        subs = SubscriptionStore(db)
        for kind, value in (("category", "cs.CV"), ("keyword", "diffusion policy"), ("author", "Ángel Aso-Mollar"),
                            ("exclude", "survey")):
            await subs.add(42, kind, value, now=NOW, limit=50, default_time=dt.time(8), default_timezone="Asia/Shanghai")
        await subs.mark_dm_failing(42, "closed DMs", NOW)
        members = MemberStore(db)
        papers = [r[0] for r in await db.fetchall("SELECT arxiv_id FROM papers ORDER BY id LIMIT 5")]
        await members.vote(42, papers[0], 1, NOW)
        await members.vote(42, papers[1], -1, NOW)
        await ReadingList(db).save(42, papers[2], NOW)
        await members.set_language(42, "zh-TW")
        mark = await members.stale_mark(42)
        await members.store_model(MemberModel(42, b"\x01\x00\x00\x00\x07\x00\x00\x00", b"\x00\x00\x80?\x00\x00\x00\xbf",
                                              -0.25, 2, 1, NOW), mark)
        await members.vote(42, papers[3], 1, NOW)  # stale again
        sources = SourceStateStore(db)
        await sources.record_fetch("https://example.org/data/2025-12-31.md", status=200, etag='"abc"',
                                   last_modified=None, content_hash="00ff", now=NOW)
        await sources.record_poll(PollRun(NOW, NOW, True, 1, "1 new digest"))
    finally:
        await db.close()


def sqlite_rows(path: Path, table: str, where: str = "") -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute(f"SELECT * FROM {table} {where}").fetchall(), key=repr)
    finally:
        conn.close()


def assert_same_contents(source: Path, url: str) -> None:
    for table in TABLES:
        if table == "papers":
            continue
        where = "WHERE key <> 'migrated_from'" if table == "meta" else ""
        columns = [r[1] for r in sqlite3.connect(source).execute(f"PRAGMA table_info({table})")]
        copied = sorted(pg(url, f"SELECT {', '.join(columns)} FROM {table} {where}"), key=repr)
        assert copied == sqlite_rows(source, table, where), table
    # Papers: every count, and every 23rd row whole.
    columns = [r[1] for r in sqlite3.connect(source).execute("PRAGMA table_info(papers)")]
    original = sqlite_rows(source, "papers", "WHERE id % 23 = 1")
    assert len(original) > 10
    assert sorted(pg(url, f"SELECT {', '.join(columns)} FROM papers WHERE id % 23 = 1"), key=repr) == original
    assert pg(url, "SELECT count(*), max(id) FROM papers")[0] == \
        sqlite3.connect(source).execute("SELECT count(*), max(id) FROM papers").fetchone()


def migrate(source: Path, url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return digestbot("db", "migrate-to", *args, url, db=source)


def no_password(*results: subprocess.CompletedProcess[str]) -> None:
    for result in results:
        assert PASSWORD not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr


def test_the_copy_knows_every_table_of_the_schema(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    from storage.migrate import TABLES as COPIED

    assert COPIED == TABLES
    conn = sqlite3.connect(tmp_path / "new.sqlite3")
    for script in sorted((ROOT / "storage" / "sqlite" / "migrations").glob("*.sql")):
        conn.create_function("redact_url", 1, lambda url: url)
        conn.executescript(script.read_text(encoding="utf-8"))
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert {n for n in names if not n.startswith("papers_fts")} == set(TABLES)


async def test_migrate_copies_every_table_and_the_db_commands_work_on_postgres(
        sample_db_file: Path, tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "bot.sqlite3"
    await build_source(sample_db_file, source)
    result = migrate(source, pg_url, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split() == ["table", "SQLite", "rows", "PostgreSQL", "rows", "ok"] for line in lines)
    counted = {line.split()[0]: line.split()[1:] for line in lines if line.split() and line.split()[0] in TABLES}
    assert list(counted) == list(TABLES)
    assert all(row[0] == row[1] and row[2] == "ok" for row in counted.values()), counted
    for table in ("papers", "deliveries", "subscriptions", "feedback", "saved_papers", "member_models",
                  "member_models_stale", "feed_alerts", "channel_feeds", "poll_runs", "source_fetches"):
        assert int(counted[table][0]) > 0, table
    assert "every count matches" in result.stdout
    assert_same_contents(source, pg_url)
    # Identity sequences are past the copied ids: the next row gets a new id.
    assert pg(pg_url, "INSERT INTO poll_runs (started_at, finished_at, ok, summary) VALUES ('a', 'b', 1, 'x') RETURNING id") == \
        [(sqlite3.connect(source).execute("SELECT max(id) FROM poll_runs").fetchone()[0] + 1,)]
    pg(pg_url, "DELETE FROM poll_runs WHERE summary = 'x'")

    # Run again: the copy is finished; the counts are checked again and nothing else happens.
    again = migrate(source, pg_url, tmp_path)
    assert again.returncode == 0 and "this copy finished" in again.stdout and "copied 0 rows of 0 tables" in again.stdout
    # Another SQLite file into the same database: refused.
    other = tmp_path / "other.sqlite3"
    shutil.copy(sample_db_file, other)
    refused = migrate(other, pg_url, tmp_path)
    assert refused.returncode == 1 and "already holds a finished copy" in refused.stderr

    env = {"DIGESTBOT_DATABASE_URL": pg_url}
    # The bot answers the same searches after: every result, in order, on both engines.
    for words in (["diffusion"], ["扩散", "模型"], ["\"large", "language\"", "model*"], ["--author", "Wang", "vision"],
                  ["--category", "cs.CV", "--since", "2026-01-29", "segmentation"], ["transformer", "NOT", "vision"]):
        args = ["--limit", "25", *words] if words[0].startswith("--") else [*words, "--limit", "25"]
        on_sqlite = digestbot("search", *args, db=source)
        on_postgres = digestbot("search", *args, db=source, env=env)
        assert on_sqlite.returncode == on_postgres.returncode == 0, on_postgres.stderr
        assert on_sqlite.stdout == on_postgres.stdout and "papers match" in on_sqlite.stdout, words
    check = digestbot("db", "check", db=source, env={**env})
    assert check.returncode == 0, check.stdout + check.stderr
    assert (f": ok (schema {latest_schema_version('postgres')}, 1319 papers, 5 digests, 1319 papers in the search index"
            in check.stdout)
    # An index that lost papers is found by db check and made whole by db reindex.
    pg(pg_url, "DELETE FROM search_postings; DELETE FROM search_segments WHERE seg = (SELECT max(seg) FROM search_segments)")
    damaged = digestbot("db", "check", db=source, env=env)
    assert damaged.returncode == 1 and "papers of 1319: rebuild it with `digestbot db reindex`" in damaged.stderr
    reindex = digestbot("db", "reindex", db=source, env=env)
    assert reindex.returncode == 0 and ": 1319 papers indexed in" in reindex.stdout, reindex.stderr
    assert digestbot("search", "diffusion", db=source, env=env).stdout == digestbot("search", "diffusion", db=source).stdout
    assert digestbot("db", "check", db=source, env=env).returncode == 0
    backup = digestbot("db", "backup", str(tmp_path / "b.dump"), db=source, env=env)
    assert backup.returncode == 2 and "pg_dump --format=custom --file=" in backup.stderr and "pg_restore" in backup.stderr
    assert not (tmp_path / "b.dump").exists()
    vacuum = digestbot("db", "vacuum", db=source, env=env)
    assert vacuum.returncode == 0 and "VACUUM (ANALYZE) done" in vacuum.stdout
    clock = tmp_path / "clock.txt"
    clock.write_text("2026-03-02T12:00:00+00:00")
    health_env = {**env, "DIGESTBOT_CLOCK_FILE": str(clock), "DIGESTBOT_SOURCE_URL": "http://127.0.0.1:9"}
    health = digestbot("health", db=source, env=health_env)
    assert health.returncode == 0 and "last successful poll 2026-03-02 11:30 UTC" in health.stdout, health.stderr
    clock.write_text("2026-03-05T12:00:00+00:00")
    stale = digestbot("health", db=source, env=health_env)
    assert stale.returncode == 1 and "more than 36 hours ago" in stale.stderr
    status = digestbot("status", db=source, env=env)
    assert status.returncode == 0, status.stderr
    assert "latest digest: 2026-02-06" in status.stdout and "feeds:         2" in status.stdout
    assert "FAILING since" in status.stdout and "last delivery: digest of 2026-02-06, done" in status.stdout
    no_password(result, again, refused, check, damaged, reindex, backup, vacuum, health, stale, status)

    # db check finds rows pointing nowhere (foreign keys switched off for the session, as a restore can).
    pg(pg_url, "SET session_replication_role = replica; "
               "INSERT INTO digest_papers (digest_id, paper_id, section, position) VALUES (999999, 999999, 'x', 0)")
    broken = digestbot("db", "check", db=source, env=env)
    assert broken.returncode == 1
    assert "1 rows of digest_papers point to no row of digests" in broken.stderr
    assert "1 rows of digest_papers point to no row of papers" in broken.stderr


async def test_migrate_refuses_a_running_bot_a_used_target_and_a_wrong_url(
        sample_db_file: Path, tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "bot.sqlite3"
    shutil.copy(sample_db_file, source)
    lock = RunLock(source)
    lock.acquire()
    try:
        running = migrate(source, pg_url, tmp_path)
    finally:
        lock.release()
    assert running.returncode == 1 and "stop it before copying" in running.stderr
    assert f"PID {os.getpid()}" in running.stderr
    import psycopg

    from storage.postgres.locks import RUN_LOCK as PG_RUN_LOCK

    with psycopg.connect(pg_url, autocommit=True) as bot:  # a bot serving the PostgreSQL database already
        bot.execute("SELECT pg_advisory_lock(%s)", (PG_RUN_LOCK,))
        served = migrate(source, pg_url, tmp_path)
    assert served.returncode == 1 and "a `digestbot run` or another `db migrate-to` is using" in served.stderr
    assert migrate(source, "sqlite:///x", tmp_path).returncode == 2

    # A database the bot already used (it holds a feed): refused, nothing touched.
    assert digestbot("status", db=source, env={"DIGESTBOT_DATABASE_URL": pg_url}).returncode == 0  # migrates it
    pg(pg_url, "INSERT INTO channel_feeds (guild_id, channel_id, created_at, updated_at) VALUES (1, 2, 'x', 'x')")
    used = migrate(source, pg_url, tmp_path)
    assert used.returncode == 1 and "is not empty: channel_feeds (1 rows)" in used.stderr
    assert pg(pg_url, "SELECT count(*) FROM papers") == [(0,)]
    no_password(running, served, used)


async def test_migrate_goes_on_after_a_table_fails(sample_db_file: Path, tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "bot.sqlite3"
    await build_source(sample_db_file, source)
    assert digestbot("status", db=source, env={"DIGESTBOT_DATABASE_URL": pg_url}).returncode == 0  # the schema
    pg(pg_url, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN RAISE EXCEPTION 'the disk broke'; END $$; "
               "CREATE TRIGGER refuse BEFORE INSERT ON saved_papers EXECUTE FUNCTION refuse()")
    failed = migrate(source, pg_url, tmp_path)
    assert failed.returncode == 1
    assert "copying table saved_papers into" in failed.stderr and "the disk broke" in failed.stderr
    assert "the 12 tables before it are copied; run the same command again to go on" in failed.stderr
    assert pg(pg_url, "SELECT count(*) FROM papers")[0][0] > 0
    assert pg(pg_url, "SELECT count(*) FROM member_languages") == [(0,)]  # after it: not begun

    pg(pg_url, "DROP TRIGGER refuse ON saved_papers")
    again = migrate(source, pg_url, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"12 of {len(TABLES)} tables were copied before" in again.stdout
    assert_same_contents(source, pg_url)
    no_password(failed, again)


def test_migrate_goes_on_after_ctrl_c_and_after_being_killed(sample_db_file: Path, tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "bot.sqlite3"
    asyncio.run(build_source(sample_db_file, source))
    assert digestbot("status", db=source, env={"DIGESTBOT_DATABASE_URL": pg_url}).returncode == 0  # the schema
    # Each paper takes the server 3 ms: the copy of papers lasts seconds, long enough to be cut off.
    pg(pg_url, "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN PERFORM pg_sleep(0.003); RETURN NEW; END $$; "
               "CREATE TRIGGER slow BEFORE INSERT ON papers FOR EACH ROW EXECUTE FUNCTION slow()")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    env.update(DIGESTBOT_DB=str(source))

    def start_and_wait_for_papers() -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, "-m", "bot", "db", "migrate-to", pg_url], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not pg(pg_url, "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY papers%%' AND state = 'active'"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        return process

    # Ctrl-C: the copy stops between two batches or two tables and says how to go on.
    interrupted = start_and_wait_for_papers()
    # Meanwhile the SQLite file is the copy's alone: an ingest or any other command is refused.
    beside = digestbot("stats", db=source)
    assert beside.returncode == 1 and "copied (`digestbot db migrate-to`)" in beside.stderr
    interrupted.send_signal(signal.SIGINT)
    out, err = interrupted.communicate(timeout=60)
    assert interrupted.returncode == 130, out + err
    assert "interrupted:" in err and "run the same command again to go on" in err and "Traceback" not in err
    # Killed mid-table: the server rolls the table back.
    pg(pg_url, "DELETE FROM meta WHERE key = 'migrated_from'; TRUNCATE papers CASCADE")
    killed = start_and_wait_for_papers()
    killed.kill()
    killed.communicate(timeout=60)
    deadline = time.monotonic() + 60
    while pg(pg_url, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'digestbot db migrate-to'"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert pg(pg_url, "SELECT count(*) FROM papers") == [(0,)]

    pg(pg_url, "DROP TRIGGER slow ON papers")
    again = migrate(source, pg_url, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"1 of {len(TABLES)} tables were copied before" in again.stdout  # meta
    assert_same_contents(source, pg_url)


