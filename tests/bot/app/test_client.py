"""The bot process itself: start-up, settings errors, an empty database, reconnects, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot.cli.test_cli import digestbot
from tests.botworld import ROOT, World, build_world, eventually
from tests.conftest import DIGESTS
from tests.fakediscord import FakeDiscord


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, database: Path | None = None, stop_signal: int = signal.SIGTERM) -> AsyncIterator[World]:
    """The bot process against a fresh fake Discord, over a copy of `database` (or an empty one)."""
    fake = FakeDiscord()
    await fake.start()
    db_path = tmp_path / "bot.sqlite3"
    if database is not None:
        shutil.copyfile(database, db_path)
    world = build_world(fake, db_path, tmp_path / "bot.log")
    await world.bot.start()
    try:
        yield world
    finally:
        assert await world.bot.stop(stop_signal) == 0  # a clean exit on the signal
        await fake.stop()


def run_bot(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    clean.update({"DIGESTBOT_DB": str(tmp_path / "b.sqlite3"), **env})
    return subprocess.run([sys.executable, "-m", "bot", "run"], capture_output=True, text=True, env=clean, cwd=ROOT, timeout=60)


@pytest.mark.parametrize(
    ("token", "message"),
    [(None, "DISCORD_TOKEN is not set"), ("not-a-token", "does not look like a bot token"), ("Bot abc.def.ghi", "starts with 'Bot '")],
)
def test_missing_or_malformed_token_exits_2_with_the_portal_steps(tmp_path: Path, token: str | None, message: str) -> None:
    result = run_bot({"DISCORD_TOKEN": token} if token else {}, tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "discord.com/developers/applications" in result.stderr and "Reset Token" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_token_discord_refuses_exits_2(tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        env = {
            "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.Wrong0.tokenthatthefakewillrefuse0123456789",
            "DISCORD_API_BASE": fake.api_base, "DISCORD_GATEWAY_URL": fake.gateway_url,
        }
        result = await asyncio.to_thread(run_bot, env, tmp_path)
    finally:
        await fake.stop()
    assert result.returncode == 2
    assert "Discord refused DISCORD_TOKEN" in result.stderr and "Traceback" not in result.stderr


async def test_empty_database_answers_with_sentences(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as world:
        search = await world.run(world.member, "search", {"query": "diffusion"})
        assert search.ephemeral and "No papers are stored yet" in search.content
        digest = await world.run(world.member, "digest")
        assert digest.ephemeral and "No digests are stored yet" in digest.content
        categories = await world.run(world.member, "categories")
        assert categories.ephemeral and "No papers are stored yet" in categories.content
        about = await world.run(world.member, "about")
        assert "**0** papers in **0** digests · latest digest: **none yet**" in about.embeds[0]["description"]
        assert await world.autocomplete(world.member, "search", {"query": "x", "category": "c"}, "category") == []


async def test_gateway_drop_is_resumed_and_the_next_command_answered(tmp_path: Path, sample_db_file: Path) -> None:
    async with running_bot(tmp_path, sample_db_file) as world:
        fake = world.fake
        await fake.gateway.drop()
        # Sent while the bot is away: the fake buffers it and replays it on RESUME.
        record = await world.send(world.member, "paper", {"id": "2601.20911"})
        reply = await fake.reply(record, timeout=30)
        assert reply.embeds[0]["footer"]["text"] == "arXiv:2601.20911"
        assert fake.gateway.resumes == 1 and fake.gateway.identifies == 1
        await fake.gateway.request_reconnect()
        again = await world.run(world.member, "paper", {"id": "2512.22208"})
        assert again.embeds[0]["footer"]["text"] == "arXiv:2512.22208"
        assert fake.gateway.resumes == 2
    assert "gateway session resumed" in world.bot.log()


async def test_an_expired_session_is_identified_again(tmp_path: Path, sample_db_file: Path) -> None:
    async with running_bot(tmp_path, sample_db_file) as world:
        fake = world.fake
        fake.gateway.session_id = "expired"  # Discord forgot the session: RESUME gets op 9
        await fake.gateway.drop()
        record = await world.send(world.member, "paper", {"id": "2601.20911"})
        await asyncio.wait_for(fake.gateway.ready.wait(), 30)
        assert fake.gateway.identifies == 2
        # The command sent during the outage belonged to the dead session; a new one is answered.
        again = await world.run(world.member, "paper", {"id": "2512.22208"})
        assert again.embeds[0]["footer"]["text"] == "arXiv:2512.22208"
        assert record.callback_type is None


async def test_an_unexpected_failure_says_something_went_wrong_and_logs_the_traceback(tmp_path: Path, sample_db_file: Path) -> None:
    async with running_bot(tmp_path, sample_db_file, signal.SIGINT) as world:
        with sqlite3.connect(world.bot.db_path) as conn:
            conn.execute("DROP TABLE digest_papers")
        reply = await world.run(world.member, "digest")
        assert reply.ephemeral
        assert reply.content.startswith("Something went wrong on our side")
        assert "Traceback" not in reply.content
    log = world.bot.log()
    assert "unexpected error in digest" in log and "Traceback" in log and "no such table: digest_papers" in log
    assert world.fake.token not in log


async def test_commands_are_registered_once_not_on_every_restart(tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        await world.bot.start()
        assert await world.bot.stop() == 0
        await world.bot.start()
        reply = await world.run(world.member, "about")
        assert reply.embeds[0]["title"].startswith("arxiv-digest-bot")
        assert await world.bot.stop() == 0
    finally:
        await fake.stop()
    registrations = [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert len(registrations) == 1
    assert "slash commands unchanged since the last start" in world.bot.log()


async def test_a_new_application_on_an_existing_database_gets_its_commands(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    test_app = FakeDiscord()
    await test_app.start()
    world = build_world(test_app, db_path, tmp_path / "test-bot.log")
    await world.bot.start()
    assert await world.bot.stop() == 0
    await test_app.stop()
    # The same database under the production application: it has no commands yet, so they are registered.
    production = FakeDiscord()
    await production.start()
    moved = build_world(production, db_path, tmp_path / "production.log")
    try:
        await moved.bot.start()
        assert production.commands.get("global"), "the new application got no slash commands"
        reply = await moved.run(moved.member, "about")
        assert reply.embeds[0]["title"].startswith("arxiv-digest-bot")
    finally:
        await moved.bot.stop()
        await production.stop()
    assert "davey is not installed" not in moved.bot.log() and "PyNaCl" not in moved.bot.log()


async def test_discord_unreachable_at_start_is_one_line_per_try_and_then_connects(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeDiscord()
    world = build_world(fake, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    world.bot.extra_env.update({"DISCORD_API_BASE": f"http://127.0.0.1:{port}/api/v10",
                                "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{port}/gateway"})
    log = tmp_path / "bot.log"
    env = world.bot.environment()
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=env,
                                                       stdout=out, stderr=out)
    world.bot.process = process
    try:
        await eventually(lambda: log.read_text().count("cannot reach Discord at") >= 2, timeout=20)
        await fake.start(port)
        await asyncio.wait_for(fake.gateway.ready.wait(), 30)
        reply = await world.run(world.member, "about")
        assert reply.embeds[0]["title"].startswith("arxiv-digest-bot")
    finally:
        assert await world.bot.stop() == 0
        await fake.stop()
    text = log.read_text()
    assert "Traceback" not in text
    tries = [line for line in text.splitlines() if "cannot reach Discord at" in line]
    assert all(" ERROR " in line and "trying again in" in line for line in tries)


async def test_a_signal_while_discord_is_unreachable_stops_at_once(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"DISCORD_TOKEN": FakeDiscord().token, "DISCORD_API_BASE": f"http://127.0.0.1:{port}/api/v10",
           "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{port}/gateway", "DIGESTBOT_SOURCE_URL": "off",
           "DIGESTBOT_DB": str(tmp_path / "b.sqlite3")}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT), env={**clean, **env},
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    line = await asyncio.wait_for(process.stderr.readline(), 20)
    while b"cannot reach Discord" not in line:
        line = await asyncio.wait_for(process.stderr.readline(), 20)
    process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0 and b"Traceback" not in rest


async def test_a_second_run_on_the_same_database_is_refused_and_the_first_keeps_serving(tmp_path: Path,
                                                                                         sample_db_file: Path) -> None:
    async with running_bot(tmp_path, sample_db_file) as world:
        first = world.bot.process
        assert first is not None
        db_path = world.bot.db_path
        started = time.monotonic()
        second = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=str(ROOT),
                                                      env=world.bot.environment(), stdout=asyncio.subprocess.PIPE,
                                                      stderr=asyncio.subprocess.PIPE)
        try:
            _, err = await asyncio.wait_for(second.communicate(), 30)
        finally:
            if second.returncode is None:  # a second bot that started after all: never leave it running
                second.kill()
                await second.wait()
        assert second.returncode == 1 and time.monotonic() - started < 20
        refusal = err.decode()
        assert (f"digestbot run: another `digestbot run` (PID {first.pid}) is already serving {db_path} "
                f"(it holds {db_path}.run.lock)") in refusal
        assert "Traceback" not in refusal
        assert world.fake.gateway.identifies == 1  # the second never reached Discord
        # The first keeps answering, and the other commands work beside it.
        reply = await world.run(world.member, "paper", {"id": "2601.20911"})
        assert reply.embeds[0]["footer"]["text"] == "arXiv:2601.20911"
        day = tmp_path / "2026-01-03.jsonl"
        shutil.copyfile(DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl", day)
        ingest = await asyncio.to_thread(digestbot, "ingest", str(day), db=db_path)
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        status = await asyncio.to_thread(digestbot, "status", db=db_path)
        assert status.returncode == 0, status.stderr
        assert first.returncode is None
    assert (tmp_path / "bot.sqlite3.run.lock").read_text() == ""  # no PID left behind by a bot that stopped


async def test_a_bot_killed_outright_leaves_no_lock_that_stops_the_next(tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    try:
        await world.bot.start()
        assert world.bot.process is not None
        world.bot.process.kill()
        await world.bot.process.wait()
        assert (tmp_path / "bot.sqlite3.run.lock").read_text().strip() == str(world.bot.process.pid)
        await world.bot.start()  # the kernel let go of the dead bot's lock
        reply = await world.run(world.member, "about")
        assert reply.embeds[0]["title"].startswith("arxiv-digest-bot")
    finally:
        assert await world.bot.stop() == 0
        await fake.stop()


@pytest.mark.postgres
async def test_a_process_that_loses_the_connection_holding_its_locks_stops_with_exit_code_1(tmp_path: Path,
                                                                                             postgres_url: str) -> None:
    import psycopg

    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, postgres_url, tmp_path / "bot.log", env={"DIGESTBOT_TICK_SECONDS": "1"})
    try:
        await world.bot.start()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            # What a network cut or a restarted server does to the connection; its index may be taken meanwhile.
            ended = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE application_name LIKE 'digestbot run 0/1 %%'").fetchall()
        assert ended == [(True,)]
        assert world.bot.process is not None
        assert await asyncio.wait_for(world.bot.process.wait(), 20) == 1
        log = world.bot.log()
        assert "lost the database connection that held its locks" in log and "Traceback" not in log
        await world.bot.start()  # started again (as a supervisor does), it takes its locks anew
        reply = await world.run(world.member, "about")
        assert reply.embeds[0]["title"].startswith("arxiv-digest-bot")
    finally:
        if world.bot.process is not None and world.bot.process.returncode is None:
            assert await world.bot.stop() == 0
        await fake.stop()
