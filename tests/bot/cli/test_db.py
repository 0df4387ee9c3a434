"""`digestbot health` and `digestbot db backup | check | vacuum` on real database files."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from storage.sources import PollRun, SourceStateStore
from storage.sqlite.database import Database
from storage.sqlite.schema import latest_schema_version
from tests.bot.cli.test_cli import digestbot
from tests.botworld import ROOT, build_world
from tests.conftest import DIGESTS
from tests.fakediscord import FakeDiscord


async def record_poll(db_path: Path, finished: str, ok: bool = True) -> None:
    db = await Database.open(db_path)
    moment = dt.datetime.fromisoformat(finished)
    await SourceStateStore(db).record_poll(PollRun(moment, moment, ok, 0, "nothing new" if ok else "problems: HTTP 502"))
    await db.close()


async def test_health_passes_and_fails_for_the_right_reasons(tmp_path: Path) -> None:
    db_path = tmp_path / "h.sqlite3"
    clock = tmp_path / "clock.txt"
    clock.write_text("2026-03-02T12:00:00+00:00")
    env = {"DIGESTBOT_CLOCK_FILE": str(clock), "DIGESTBOT_SOURCE_URL": "http://127.0.0.1:9"}

    missing = digestbot("health", db=db_path, env=env)
    assert missing.returncode == 1 and "does not exist" in missing.stderr

    old = sqlite3.connect(db_path)
    old.execute("PRAGMA user_version = 1")
    old.close()
    unmigrated = digestbot("health", db=db_path, env=env)
    assert unmigrated.returncode == 1 and "migrations not applied" in unmigrated.stderr
    db_path.unlink()

    db = await Database.open(db_path)  # creates and migrates the file, as the bot's first start does
    await db.close()
    never = digestbot("health", db=db_path, env=env)
    assert never.returncode == 1 and "no successful poll of the digest source yet" in never.stderr

    await record_poll(db_path, "2026-03-02T11:30:00+00:00")
    fresh = digestbot("health", db=db_path, env=env)
    assert fresh.returncode == 0 and fresh.stdout.startswith("healthy (database created ")
    assert "last successful poll 2026-03-02 11:30 UTC" in fresh.stdout

    await record_poll(db_path, "2026-03-02T11:45:00+00:00", ok=False)
    clock.write_text("2026-03-04T06:00:00+00:00")
    stale = digestbot("health", db=db_path, env=env)
    assert stale.returncode == 1
    assert "last successful poll was at 2026-03-02 11:30 UTC, more than 36 hours ago; the last poll said: problems: HTTP 502" in stale.stderr
    assert digestbot("health", db=db_path, env={**env, "DIGESTBOT_MAX_POLL_AGE_HOURS": "72"}).returncode == 0
    assert digestbot("health", db=db_path, env={**env, "DIGESTBOT_SOURCE_URL": "off"}).returncode == 0  # polling off by choice

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 1000)
    broken = digestbot("health", db=garbage, env=env)
    assert broken.returncode == 1 and "garbage.sqlite3" in broken.stderr and "Traceback" not in broken.stderr


def many_days(folder: Path, days: int) -> None:
    """Write `days` JSONL digests of distinct papers (fresh ids per day) to `folder`."""
    lines = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_text(encoding="utf-8").splitlines()
    for day in range(days):
        date = dt.date(2026, 1, 1) + dt.timedelta(days=day)
        out = []
        for index, line in enumerate(lines):
            record = json.loads(line)
            record["id"] = f"{2700 + day // 10}.{(day % 10) * 1000 + index:05d}"
            out.append(json.dumps(record, ensure_ascii=False))
        (folder / f"{date}_AI_enhanced_Chinese.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")


def test_backup_during_a_bulk_ingest_is_consistent_and_does_not_block_it(tmp_path: Path) -> None:
    folder = tmp_path / "days"
    folder.mkdir()
    many_days(folder, 150)  # more than two batches of BATCH_FILES, so the backup falls between commits
    db_path = tmp_path / "live.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    env["DIGESTBOT_DB"] = str(db_path)
    ingest = subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(folder)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Wait until the ingest has committed a few days, then back up while it keeps going.
        while not db_path.exists() or _committed_days(db_path) < 5:
            assert ingest.poll() is None, ingest.communicate()
            time.sleep(0.05)
        backups = []
        for n in range(2):
            target = tmp_path / f"backup-{n}.sqlite3"
            result = digestbot("db", "backup", str(target), db=db_path)
            assert result.returncode == 0, result.stderr
            assert "integrity check ok" in result.stdout
            backups.append(target)
        out, err = ingest.communicate(timeout=300)
    finally:
        if ingest.poll() is None:
            ingest.kill()
    assert ingest.returncode == 0, err
    assert "150 files: 150 ingested completely, 0 failed; 150 days (2026-01-01 to 2026-05-30); 31,950 distinct papers" in out
    first = sqlite3.connect(backups[0])
    assert 5 <= first.execute("SELECT count(*) FROM digests").fetchone()[0] < 150  # taken mid-ingest
    first.close()
    for target in backups:
        conn = sqlite3.connect(target)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        days = conn.execute("SELECT count(*) FROM digests").fetchone()[0]
        papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        # A snapshot: every committed day whole, with all of its papers; nothing half-written.
        assert papers == 213 * days
        assert conn.execute("SELECT count(*) FROM digest_papers").fetchone()[0] == papers
        assert conn.execute("SELECT count(*) FROM digest_files").fetchone()[0] == days
        assert conn.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'model'").fetchone()[0] > 0
        conn.close()
    check = digestbot("db", "check", db=backups[-1])
    assert check.returncode == 0 and "ok (schema" in check.stdout


def _committed_days(db_path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM digests").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_backup_refuses_to_overwrite_and_names_the_file(tmp_path: Path, sample_db_file: Path) -> None:
    db_path = tmp_path / "s.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    taken = tmp_path / "taken.sqlite3"
    taken.write_text("x")
    result = digestbot("db", "backup", str(taken), db=db_path)
    assert result.returncode == 1 and "taken.sqlite3 already exists" in result.stderr
    nowhere = digestbot("db", "backup", str(tmp_path / "no" / "b.sqlite3"), db=db_path)
    assert nowhere.returncode == 1 and "does not exist" in nowhere.stderr


def test_check_finds_damage_and_vacuum_compacts(tmp_path: Path, sample_db_file: Path) -> None:
    db_path = tmp_path / "s.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    assert digestbot("db", "check", db=db_path).returncode == 0
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE digests SET paper_count = 1 WHERE date = '2025-12-31'")
    conn.commit()
    conn.close()
    damaged = digestbot("db", "check", db=db_path)
    assert damaged.returncode == 1 and "digest paper counts disagree with their links for 1 days (first 2025-12-31)" in damaged.stderr
    vacuumed = digestbot("db", "vacuum", db=db_path)
    assert vacuumed.returncode == 0 and " MB -> " in vacuumed.stdout


def test_reindex_builds_the_search_index_anew(tmp_path: Path, sample_db_file: Path) -> None:
    db_path = tmp_path / "s.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    before = digestbot("search", "diffusion", "model", "--limit", "20", db=db_path)
    assert before.returncode == 0 and "papers match" in before.stdout
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO papers_fts (papers_fts) VALUES ('delete-all')")
    conn.commit()
    conn.close()
    assert "no papers match" in digestbot("search", "diffusion", "model", db=db_path).stdout
    reindexed = digestbot("db", "reindex", db=db_path)
    assert reindexed.returncode == 0 and "s.sqlite3: 1319 papers indexed in" in reindexed.stdout, reindexed.stderr
    assert digestbot("search", "diffusion", "model", "--limit", "20", db=db_path).stdout == before.stdout


async def test_vacuum_refuses_while_the_bot_has_the_database_open(tmp_path: Path, sample_db_file: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    db_path = tmp_path / "bot.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    world = build_world(fake, db_path, tmp_path / "bot.log")
    await world.bot.start()
    try:
        before = db_path.stat().st_size
        refused = await asyncio.to_thread(digestbot, "db", "vacuum", db=db_path)
        assert refused.returncode == 1
        assert "another digestbot process (the bot, an ingest or a backfill) has" in refused.stderr
        assert "stop it first" in refused.stderr and "Traceback" not in refused.stderr
        assert db_path.stat().st_size == before
        reply = await world.run(world.member, "paper", {"id": "2601.20911"})
        assert reply.embeds[0]["footer"]["text"] == "arXiv:2601.20911"
    finally:
        assert await world.bot.stop() == 0
        await fake.stop()
    done = digestbot("db", "vacuum", db=db_path)
    assert done.returncode == 0 and " MB -> " in done.stdout


def test_read_only_commands_on_a_mistyped_database_say_it_does_not_exist(tmp_path: Path) -> None:
    typo = tmp_path / "digestbot.sqlite"
    for args in (("stats",), ("search", "diffusion"), ("db", "check"), ("health",)):
        result = digestbot(*args, db=typo)
        assert result.returncode == 1, args
        assert "does not exist" in result.stderr and "Traceback" not in result.stderr, args
    assert not typo.exists()


def test_many_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    folder = tmp_path / "days"
    folder.mkdir()
    lines = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_text(encoding="utf-8").splitlines()[:20]
    db_path = tmp_path / "new.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    env["DIGESTBOT_DB"] = str(db_path)
    env["DIGESTBOT_DB_WRITE_WAIT_SECONDS"] = "30"
    processes = []
    for n in range(24):
        day = folder / f"2026-01-{n + 1:02d}_AI_enhanced_Chinese.jsonl"
        day.write_text("\n".join(lines) + "\n", encoding="utf-8")
        processes.append(subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(day)], cwd=ROOT, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for process in processes:
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        assert "Traceback" not in err and "migration" not in err and "locked" not in err, err
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM digests").fetchone()[0] == 24
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_schema_version()
    conn.close()
