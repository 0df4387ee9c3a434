"""PostgreSQL faults, on a real server through the real driver, as the SQLite engine's are tested on its file.

- the server down at start: a sentence naming the server (never its password) after a few tries,
  and a server that comes up while the bot still waits is used;
- the connection killed mid-ingest: nothing of the batch is stored, and the next poll fetches and
  stores it all, once;
- the connection lost mid-post: the next ledger step goes through on a fresh connection, and a post
  cut off in the middle of a step resumes where the ledger says, sending and recording nothing twice;
- a statement past its time budget: stopped on the server (the connection stays usable), raised as
  QueryTimeout, which the member reads as a sentence.

Faults are made on the server: sessions ended by `pg_terminate_backend` from an admin connection (what
a restart or a failover does to them), timed by a trigger that holds a statement in `pg_sleep` at the
chosen point; a port that refuses connections until a forwarder starts listening on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.app.error_replies import TOO_BROAD, sentence_for
from bot.core.services import Services
from bot.core.settings import Settings
from bot.delivery.executor import PostPlan, carry_out
from bot.ingest.digest import parse_digest_file
from bot.render.post import PostPart
from bot.sources.folder import LocalFolderSource
from bot.sources.poller import Poller
from storage.engine import Database, open_database
from storage.errors import QueryTimeout, StorageError
from storage.feeds import FeedStore
from storage.ingest import DigestFile
from storage.ledger import CHANNEL, DeliveryLedger
from storage.papers import PaperStore
from storage.postgres.dialect import shown_url
from storage.search import search_index
from tests.botworld import ROOT
from tests.conftest import DIGESTS
from tests.postgres_server import PostgresServer, database_of
from tests.storage.postgres.forwarder import HANG as FORWARDER_HANG

psycopg = pytest.importorskip("psycopg")
discord = pytest.importorskip("discord")

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
DAY = ["2025-12-31.md", "2025-12-31_AI_enhanced_Chinese.jsonl"]  # one day in two files: one transaction
TABLES = ("digests", "digest_files", "digest_papers", "papers", "paper_categories", "search_postings", "search_segments")


# --- the faults --------------------------------------------------------------------------------

@pytest.fixture
def admin(postgres_server: PostgresServer) -> Iterator[Any]:
    """An autocommit superuser connection to the server's `postgres` database (where faults are made from)."""
    with psycopg.connect(postgres_server.url("postgres"), autocommit=True) as conn:
        yield conn


def terminate_sessions(admin: Any, url: str) -> int:
    """End every session on the database at `url` (what a server restart does to them); return how many.

    Each is waited for (up to 5 s) until its backend has exited and its client has been told.
    """
    rows = admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (database_of(url),)).fetchall()
    assert all(ended for ended, in rows)
    return len(rows)


def stall_on(url: str, table: str, event: str, when: str = "true") -> None:
    """From now on a statement that `event`s (INSERT, UPDATE) a row of `table` matching `when` sleeps a minute in the trigger."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE FUNCTION test_stall() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$")
        conn.execute(f"CREATE TRIGGER test_stall BEFORE {event} ON {table} FOR EACH ROW WHEN ({when}) "
                     "EXECUTE FUNCTION test_stall()")


def unstall(url: str, table: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TRIGGER test_stall ON {table}")


async def wait_for_sleep(admin: Any, url: str, timeout: float = 20.0) -> None:
    """Until a session of the database sits in pg_sleep (the stalling trigger's, or a test's own)."""
    deadline = time.monotonic() + timeout
    while not admin.execute("SELECT 1 FROM pg_stat_activity WHERE datname = %s AND wait_event = 'PgSleep'",
                            (database_of(url),)).fetchall():
        assert time.monotonic() < deadline, "no statement reached pg_sleep"
        await asyncio.sleep(0.02)


async def kill_when_stalled(admin: Any, url: str, work: Any) -> BaseException:
    """Run `work` (a coroutine), end every session of the database once it stalls, and return what `work` raised."""
    task = asyncio.ensure_future(work)
    try:
        await wait_for_sleep(admin, url)
        assert terminate_sessions(admin, url) >= 1
        with pytest.raises(StorageError) as raised:
            await asyncio.wait_for(task, 20)
    finally:
        task.cancel()
    return raised.value


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def on_port(url: str, port: int) -> str:
    """`url` with its host and port replaced by 127.0.0.1:`port`."""
    parts = urlsplit(url)
    login = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{login}127.0.0.1:{port}", parts.path, parts.query, ""))


class Forwarder:
    """A port in front of the real server, served by another process (tests/storage/postgres/forwarder.py).

    Nothing listens there until `listen()` (a server not up yet: connections refused); then
    connections are forwarded to the server; after `hang()`, new ones are accepted and never
    answered (a server, or a network, that stopped answering), each dropped after `HANG` seconds.
    """

    HANG = FORWARDER_HANG

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.port = free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.storage.postgres.forwarder", parts.hostname or "127.0.0.1",
             str(parts.port or 5432), str(self.port)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def url(self, url: str) -> str:
        """`url` (a database on the real server) through this port."""
        return on_port(url, self.port)

    def _tell(self, command: str) -> None:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        assert self._process.stdout.readline().strip() == "ok", f"the forwarder did not {command}"

    def listen(self) -> None:
        self._tell("listen")

    def hang(self) -> None:
        self._tell("hang")

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@pytest.fixture
def forwarder(postgres_server: PostgresServer) -> Iterator[Forwarder]:
    found = Forwarder(postgres_server.admin_url)
    yield found
    found.close()


# --- the server down at start -------------------------------------------------------------------

async def test_a_server_that_is_down_at_start_is_tried_again_then_named_in_a_sentence(
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://digestbot:hunter2@127.0.0.1:{port}/digests"
    settings = Settings.load({"DIGESTBOT_DATABASE_URL": url, "DIGESTBOT_DB_CONNECT_SECONDS": "2"})
    assert settings.db_connect_seconds == 2
    caplog.set_level(logging.ERROR, logger="storage.postgres.database")
    began = time.monotonic()
    with pytest.raises(StorageError) as raised:
        await Services.open(settings)
    took = time.monotonic() - began
    message = str(raised.value)
    assert f"cannot reach the database server postgresql://digestbot@127.0.0.1:{port}/digests" in message
    assert "hunter2" not in message and "\n" not in message
    # Tries at 0, 0.5 and 1.5 s (waits doubling), a line for each before the last; never past the patience.
    retries = [r.getMessage() for r in caplog.records if "trying again in" in r.getMessage()]
    assert len(retries) == 2, retries
    assert all(f"127.0.0.1:{port}" in line and "hunter2" not in line for line in retries)
    assert 1.4 <= took < 2.0 + 1.0


async def test_a_server_that_comes_up_while_the_bot_waits_is_used(
        postgres_url: str, forwarder: Forwarder, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="storage.postgres.database")
    opening = asyncio.ensure_future(open_database(forwarder.url(postgres_url), connect_patience=10))
    try:
        await asyncio.sleep(1.0)  # refused at 0 and 0.5 s; the next try is at 1.5 s
        assert not opening.done()
        forwarder.listen()
        db = await asyncio.wait_for(opening, 10)
        try:
            assert await db.schema_version() > 0
            await PaperStore(db).ingest([], date=dt.date(2026, 3, 2), source="s", fmt="jsonl", language="",
                                        content_hash="h", now=NOW)
            assert (await PaperStore(db).digest_info(dt.date(2026, 3, 2))) is not None
        finally:
            await db.close()
    finally:
        opening.cancel()
    assert len([r for r in caplog.records if "trying again in" in r.getMessage()]) >= 2  # refused, then used


async def test_a_server_that_accepts_and_never_answers_fails_the_start_in_a_sentence(
        postgres_url: str, forwarder: Forwarder) -> None:
    forwarder.listen()
    forwarder.hang()  # TCP accepted, not a byte back: a hung or overloaded server
    # Bounded by the patience (each try's own connect timeout), not held for ever; 30 s only stops a hang here.
    with pytest.raises(StorageError) as raised:
        await asyncio.wait_for(open_database(forwarder.url(postgres_url), connect_patience=2), 30)
    assert "127.0.0.1" in str(raised.value) and "\n" not in str(raised.value)


async def test_closing_while_the_server_hangs_never_holds_up_the_event_loop(
        postgres_url: str, forwarder: Forwarder, admin: Any) -> None:
    forwarder.listen()
    db = await open_database(forwarder.url(postgres_url), readers=2)

    async def long_read() -> None:
        async with db.reading() as conn:
            await conn.execute_fetchall("SELECT pg_sleep(30)")

    reading = asyncio.ensure_future(long_read())
    gaps: list[float] = []

    async def heartbeat() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            gaps.append(time.monotonic() - last)
            last = time.monotonic()

    beating = asyncio.ensure_future(heartbeat())
    try:
        await wait_for_sleep(admin, postgres_url)
        forwarder.hang()  # from now on the server answers no new connection (a cancel request is one)
        began = time.monotonic()
        await asyncio.wait_for(db.close(), 10)
        took = time.monotonic() - began
        with pytest.raises(StorageError):
            await asyncio.wait_for(reading, 5)  # ended by the close
    finally:
        beating.cancel()
        reading.cancel()
    # The cancel request waited in the background, a bounded time; everything else went on meanwhile.
    assert took < Forwarder.HANG
    assert max(gaps) < 1.0, f"the event loop stood still for {max(gaps):.1f} s"


# --- the connection killed mid-ingest ------------------------------------------------------------

async def test_a_batch_cut_off_by_the_server_stores_nothing_and_stores_everything_once_when_tried_again(
        postgres_url: str, admin: Any, tmp_path: Path) -> None:
    items = []
    for name in DAY:
        parsed = parse_digest_file(DIGESTS / name)
        items.append(DigestFile(parsed.papers, dt.date(2025, 12, 31), parsed.source, parsed.format, parsed.language,
                                parsed.content_hash, parsed.format_rank, "poll"))
    db = await open_database(postgres_url)
    try:
        store = PaperStore(db)
        # The batch stops at its very last statement (the files' rows), everything else written, uncommitted.
        stall_on(postgres_url, "digest_files", "INSERT")
        error = await kill_when_stalled(admin, postgres_url, store.ingest_many(items, now=NOW))
        assert str(error).startswith(f"cannot reach the database server {shown_url(postgres_url)}: ")
        assert counts(postgres_url) == dict.fromkeys(TABLES, 0)
        unstall(postgres_url, "digest_files")
        # The same database object goes on: its connections are replaced as they are found dead.
        results = await store.ingest_many(items, now=NOW)
        assert [r.already_ingested for r in results] == [False, False]
        stored = counts(postgres_url)
        again = await store.ingest_many(items, now=NOW)
        assert all(r.already_ingested for r in again) and counts(postgres_url) == stored
        matches = [await search_index(db).count(word) for word in ("model", "扩散模型")]
    finally:
        await db.close()
    # Exactly what an undisturbed database holds after the same batch.
    clean = await open_database(tmp_path / "clean.sqlite3")
    try:
        await PaperStore(clean).ingest_many(items, now=NOW)
        for table in TABLES[:5]:
            row = await clean.fetchone(f"SELECT count(*) FROM {table}")
            assert row is not None and stored[table] == row[0], table
        assert [await search_index(clean).count(word) for word in ("model", "扩散模型")] == matches
    finally:
        await clean.close()
    assert stored["search_segments"] > 0 and stored["search_postings"] > 0


async def test_a_poll_cut_off_mid_ingest_is_fetched_again_by_the_next_poll(
        postgres_url: str, admin: Any, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in DAY:
        shutil.copy(DIGESTS / name, folder / name)
    settings = Settings.load({"DIGESTBOT_DATABASE_URL": postgres_url, "DIGESTBOT_DB_CONNECT_SECONDS": "5"})
    services = await Services.open(settings)
    try:
        services.clock = lambda: dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)
        poller = Poller(services, LocalFolderSource(folder))
        stall_on(postgres_url, "digest_files", "INSERT")
        task = asyncio.ensure_future(poller.poll_once())
        await wait_for_sleep(admin, postgres_url)
        terminate_sessions(admin, postgres_url)
        first = await asyncio.wait_for(task, 20)
        assert not first.ok and first.new_digests == 0 and "problems:" in first.summary
        assert counts(postgres_url) == dict.fromkeys(TABLES, 0)
        unstall(postgres_url, "digest_files")
        second = await poller.poll_once()
        # The day's two files, each new to the database (the second brings no new paper).
        assert second.ok and second.new_digests == 2, second.summary
        assert "2025-12-31 (213 papers, 213 new)" in second.summary
        info = await services.papers.digest_info(dt.date(2025, 12, 31))
        assert info is not None and info.paper_count == 213
        third = await poller.poll_once()
        assert third.new_digests == 0 and "nothing new" in third.summary
        # Both polls are in the log, the failed one saying why.
        log = [(ok, summary) for ok, summary in
               ((bool(r[0]), str(r[1])) for r in await services.db.fetchall("SELECT ok, summary FROM poll_runs ORDER BY id"))]
        assert [ok for ok, _ in log] == [False, True, True]
    finally:
        await services.close()
    assert counts(postgres_url)["digest_files"] == 2


async def test_searches_right_after_the_server_ended_every_connection_are_answered(
        postgres_samples_url: str, admin: Any) -> None:
    db = await open_database(postgres_samples_url, readers=3)
    try:
        index = search_index(db, parallel=2)
        expected = (await index.search("diffusion")).total
        assert terminate_sessions(admin, postgres_samples_url) == db.reader_count == 3  # nothing has written yet
        # One search per reader (and more): none may fail for a connection the restart ended.
        for _ in range(db.reader_count + 1):
            assert (await index.search("diffusion")).total == expected
        async with db.reading() as conn:
            assert await conn.execute_fetchall("SELECT 1") == [(1,)]
    finally:
        await db.close()


# --- the connection lost mid-post -----------------------------------------------------------------

class Channel:
    """A Discord channel as carry_out sees one (bot/delivery/executor.py Destination): messages by id."""

    def __init__(self, on_part: Any = None) -> None:
        self.messages: dict[int, str] = {}
        self.on_part = on_part

    def _send(self, text: str) -> int:
        message_id = 1000 + len(self.messages)
        self.messages[message_id] = text
        return message_id

    async def send_header(self, plan: PostPlan, nonce: str) -> int:
        return self._send(plan.header_title)

    async def find_header(self, title: str) -> int | None:
        return next((i for i, text in self.messages.items() if text == title), None)

    async def open_thread(self, header_id: int, name: str) -> int:
        return self._send(f"thread {name}")

    async def send_part(self, thread_id: int, part: PostPart, nonce: str) -> int:
        footer = part.embeds[-1].footer.text or ""
        if self.on_part is not None:
            await self.on_part(footer)
        return self._send(footer)

    async def find_part(self, thread_id: int, footer: str) -> int | None:
        return next((i for i, text in self.messages.items() if text == footer), None)


def plan(parts: int) -> PostPlan:
    def part(n: int) -> PostPart:
        embed = discord.Embed(title=f"part {n}")
        embed.set_footer(text=f"part {n} of {parts}")
        return PostPart([embed])

    return PostPlan([discord.Embed(title="arXiv digest · 2 March 2026")], [part(n) for n in range(1, parts + 1)],
                    thread_name="papers")


@pytest.fixture
async def post_db(postgres_url: str) -> AsyncIterator[tuple[DeliveryLedger, int]]:
    """A database with a digest and a channel feed: (a ledger, the feed's pending delivery id, claimed by it)."""
    db = await open_database(postgres_url)
    try:
        await PaperStore(db).ingest([], date=dt.date(2026, 3, 2), source="s", fmt="jsonl", language="",
                                    content_hash="h", now=NOW)
        info = await PaperStore(db).digest_info(dt.date(2026, 3, 2))
        feed, _ = await FeedStore(db).upsert(guild_id=1, channel_id=70, categories=[], post_time=dt.time(9),
                                             timezone="UTC", created_by=3, now=NOW)
        assert info is not None
        ledger = DeliveryLedger(db)
        row = await ledger.open(CHANNEL, feed.id, info.id, NOW)
        assert row is not None
        yield ledger, row.id
    finally:
        await db.close()


async def test_a_connection_lost_between_two_steps_of_a_post_is_replaced_for_the_next(
        post_db: tuple[DeliveryLedger, int], postgres_url: str, admin: Any) -> None:
    ledger, delivery_id = post_db
    ended: list[int] = []

    async def restart_the_server(footer: str) -> None:
        if footer.startswith("part 2 "):
            # Between recording part 1 and recording part 2: every session of the database ends.
            ended.append(terminate_sessions(admin, postgres_url))

    channel = Channel(restart_the_server)
    done = await carry_out(await ledger.get(delivery_id), plan(3), channel, ledger, lambda: NOW)
    assert ended and ended[0] >= 1  # the writer's connection (and the readers') were ended under it
    assert done.state == "done" and done.parts_sent == 3
    # Each message once (1001 is the thread, no message of the post).
    assert done.message_ids == [1000, 1002, 1003, 1004]
    assert list(channel.messages.values()) == ["arXiv digest · 2 March 2026", "thread papers",
                                               "part 1 of 3", "part 2 of 3", "part 3 of 3"]


async def test_a_post_cut_off_during_a_step_resumes_from_the_last_recorded_step_and_nothing_twice(
        post_db: tuple[DeliveryLedger, int], postgres_url: str, admin: Any) -> None:
    ledger, delivery_id = post_db
    channel = Channel()
    # Part 2 reaches Discord, then its ledger step is cut off by the server before it commits.
    stall_on(postgres_url, "deliveries", "UPDATE", "NEW.parts_sent = 2 AND OLD.parts_sent = 1")
    await kill_when_stalled(admin, postgres_url, carry_out(await ledger.get(delivery_id), plan(3), channel, ledger,
                                                           lambda: NOW))
    unstall(postgres_url, "deliveries")
    row = await ledger.get(delivery_id)
    assert (row.state, row.parts_sent, row.message_ids) == ("sending", 1, [1000, 1002])  # the last recorded step
    assert list(channel.messages.values())[-1] == "part 2 of 3"  # sent, not recorded
    # The post resumes (as the scheduler does at its next round): part 2 is found, not sent again.
    done = await carry_out(row, plan(3), channel, ledger, lambda: NOW)
    assert done.state == "done" and done.parts_sent == 3
    assert done.message_ids == [1000, 1002, 1003, 1004]
    assert list(channel.messages.values()) == ["arXiv digest · 2 March 2026", "thread papers",
                                               "part 1 of 3", "part 2 of 3", "part 3 of 3"]


# --- a statement past its budget ------------------------------------------------------------------

async def _backend_pid(db: Database) -> int:
    row = await db.fetchone("SELECT pg_backend_pid()")
    assert row is not None
    return int(row[0])


def _sleeping(admin: Any, url: str) -> list[Any]:
    return admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
                         "AND query LIKE 'SELECT pg_sleep%%'", (database_of(url),)).fetchall()


async def test_a_read_past_its_budget_is_cancelled_on_the_server_and_its_connection_goes_on(
        postgres_url: str, admin: Any) -> None:
    db = await open_database(postgres_url, readers=1)  # one reader: the one cancelled is the one used after
    try:
        pid = await _backend_pid(db)
        began = time.monotonic()
        with pytest.raises(QueryTimeout) as raised:
            async with db.reading(budget=0.3) as conn:
                await conn.execute_fetchall("SELECT pg_sleep(30)")
        assert time.monotonic() - began < 2.0
        assert "ran past its time budget" in str(raised.value)
        assert _sleeping(admin, postgres_url) == []  # stopped on the server, not left running
        assert await _backend_pid(db) == pid and (await db.fetchone("SELECT 1")) == (1,)
        # fetchall's budget: the same, and a timeout is not run again as a dropped connection is.
        began = time.monotonic()
        with pytest.raises(QueryTimeout):
            await db.fetchall("SELECT pg_sleep(30)", budget=0.3)
        assert time.monotonic() - began < 2.0 and _sleeping(admin, postgres_url) == []
        # The server's own ceiling (statement_timeout) is a QueryTimeout too.
        async with db.reading() as conn:
            await conn.execute("SET statement_timeout = 200")
        try:
            with pytest.raises(QueryTimeout):
                async with db.reading() as conn:
                    await conn.execute_fetchall("SELECT pg_sleep(30)")
        finally:
            async with db.reading() as conn:
                await conn.execute("RESET statement_timeout")
        assert await _backend_pid(db) == pid
    finally:
        await db.close()


async def test_a_search_past_its_budget_is_stopped_and_the_member_told_in_a_sentence(
        postgres_samples_url: str) -> None:
    db = await open_database(postgres_samples_url)
    index = search_index(db, budget=0.3)
    try:
        expected = (await index.search("diffusion")).total
        assert expected > 0
        # Something holds the index's table (a long maintenance statement): the search waits on it.
        with psycopg.connect(postgres_samples_url) as blocker:
            blocker.execute("LOCK TABLE search_segments IN ACCESS EXCLUSIVE MODE")
            began = time.monotonic()
            with pytest.raises(QueryTimeout) as raised:
                await index.search("diffusion")
            assert time.monotonic() - began < 2.0
            blocker.rollback()
        assert (await index.search("diffusion")).total == expected  # every reader is usable after
        assert sentence_for(raised.value) == TOO_BROAD
    finally:
        await db.close()
