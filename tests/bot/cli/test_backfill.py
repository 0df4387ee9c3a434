"""`digestbot backfill` against a real HTTP data branch on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from pathlib import Path

from tests.bot.cli.test_cli import digestbot, flat
from tests.conftest import DIGESTS
from tests.digestserver import DigestServer
from tests.mirror import FIRST_DAY, LAST_DAY, mirror_files, write_mirror


def _state(db: Path) -> dict[str, object]:
    """Everything a day holds, as an operator would compare two databases."""
    conn = sqlite3.connect(db)
    try:
        days = conn.execute("SELECT date, paper_count, language FROM digests ORDER BY date").fetchall()
        listings = conn.execute(
            "SELECT d.date, p.arxiv_id, dp.section, dp.position FROM digest_papers dp JOIN digests d ON d.id = dp.digest_id "
            "JOIN papers p ON p.id = dp.paper_id ORDER BY d.date, p.arxiv_id"
        ).fetchall()
        columns = [r[1] for r in conn.execute("PRAGMA table_info(papers)") if r[1] not in ("id", "updated_at")]
        papers = conn.execute(f"SELECT {', '.join(columns)} FROM papers ORDER BY arxiv_id").fetchall()
        return {"days": days, "listings": listings, "papers": papers}
    finally:
        conn.close()


async def test_a_backfilled_month_equals_the_same_files_ingested_from_a_clone(tmp_path: Path) -> None:
    server = DigestServer()
    await server.start()
    for name, body in mirror_files().items():
        server.publish(name, body)
    try:
        fetched = await asyncio.to_thread(
            digestbot, "backfill", "--since", FIRST_DAY, "--until", LAST_DAY, db=tmp_path / "remote.sqlite3",
            env={"DIGESTBOT_SOURCE_URL": server.base_url, "DIGESTBOT_SOURCE_RETRY_SECONDS": "0.01"},
        )
    finally:
        await server.stop()
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    local = digestbot("ingest", str(write_mirror(tmp_path / "clone")), db=tmp_path / "local.sqlite3")
    assert local.returncode == 0, local.stdout + local.stderr
    remote_state, local_state = _state(tmp_path / "remote.sqlite3"), _state(tmp_path / "local.sqlite3")
    assert remote_state == local_state

    days = {str(d[0]): int(d[1]) for d in remote_state["days"]}  # type: ignore[union-attr]
    # The raw file of 06-01 holds 20 papers more than its markdown and AI JSONL: they are in the day.
    assert days == {"2026-06-01": 233, "2026-06-02": 26, "2026-06-03": 26, "2026-06-04": 76, "2026-06-05": 172}
    assert "2026-06-06  not published (404)" in fetched.stdout and "2026-06-07  not published (404)" in fetched.stdout
    assert ("5 days stored (5 exactly as written, 0 with repairs, 0 with papers lost), 0 failed, 2 not published; "
            "7 files") in fetched.stdout
    assert "2026-06-03  2026-06-03.jsonl: 26 papers (0 new" in fetched.stdout  # a byte copy is its own day
    assert "7 files: 7 ingested completely" in local.stdout
    assert "2 files in the folders are not named like digests and were left alone" in local.stdout
    arrival = sqlite3.connect(tmp_path / "remote.sqlite3").execute("SELECT DISTINCT arrival FROM digests").fetchall()
    assert arrival == [("backfill",)]


async def test_backfill_reports_a_broken_day_and_goes_on(tmp_path: Path) -> None:
    server = DigestServer()
    await server.start()
    server.publish("2026-01-05_AI_enhanced_Chinese.jsonl", (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_bytes())
    server.publish("2026-01-06.md", (DIGESTS / "2025-12-31.md").read_bytes())
    server.publish("2026-01-07.md", b"\x00\x01 broken")
    try:
        result = await asyncio.to_thread(
            digestbot, "backfill", "--since", "2026-01-04", "--until", "2026-01-07", db=tmp_path / "b.sqlite3",
            env={"DIGESTBOT_SOURCE_URL": server.base_url, "DIGESTBOT_SOURCE_RETRY_SECONDS": "0.01"},
        )
    finally:
        await server.stop()
    assert result.returncode == 1  # the broken day
    assert "2026-01-04  not published (404)" in result.stdout
    assert "2026-01-05  2026-01-05_AI_enhanced_Chinese.jsonl: 213 papers (213 new" in result.stdout
    assert "2026-01-06  2026-01-06.md: 213 papers (0 new" in result.stdout
    assert "2026-01-07.md: looks like a binary file" in result.stderr
    assert ("2 days stored (2 exactly as written, 0 with repairs, 0 with papers lost), 1 failed, 1 not published; "
            "2 files, 213 distinct papers") in result.stdout
    # Every file of each day is asked for: raw JSONL, markdown, AI JSONL.
    assert server.count("2026-01-06.jsonl", 404) == 1 and server.count("2026-01-06_AI_enhanced_Chinese.jsonl", 404) == 1
    assert "Traceback" not in result.stderr


async def test_a_source_with_nothing_at_all_fails_and_names_the_setting(tmp_path: Path) -> None:
    server = DigestServer()
    await server.start()
    try:
        result = await asyncio.to_thread(
            digestbot, "backfill", "--since", "2026-01-01", "--until", "2026-01-05", db=tmp_path / "b.sqlite3",
            env={"DIGESTBOT_SOURCE_URL": server.base_url + "/typo", "DIGESTBOT_SOURCE_RETRY_SECONDS": "0.01"},
        )
    finally:
        await server.stop()
    assert result.returncode == 1
    assert "0 days stored" in result.stdout and "0 failed, 5 not published" in result.stdout
    assert "nothing exists at data branch http://127.0.0.1" in result.stderr and "check DIGESTBOT_SOURCE_URL" in result.stderr


def _with_odd_category(lines: list[str], *, repeat: bool = False, lost: bool = False) -> bytes:
    """A day as upstream writes many: an MSC class with a note among a paper's categories (dropped, a repair)."""
    first = json.loads(lines[0])
    first["categories"] = [*first["categories"], "68U10 (Primary)"]
    body = [json.dumps(first, ensure_ascii=False), *lines[1:]]
    if repeat:
        body.append(lines[3])  # a paper listed twice: merged, nothing lost
    if lost:
        body.insert(2, '{"id": "2503.99999"}')  # no title: this entry cannot become a paper
    return ("\n".join(body) + "\n").encode()


async def _backfill(server: DigestServer, db: Path, since: str, until: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        digestbot, "backfill", "--since", since, "--until", until, *extra, db=db,
        env={"DIGESTBOT_SOURCE_URL": server.base_url, "DIGESTBOT_SOURCE_RETRY_SECONDS": "0.01"},
    )


async def test_days_stored_with_repairs_are_stored_not_failed_and_exit_0(tmp_path: Path) -> None:
    lines = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_text(encoding="utf-8").splitlines()
    server = DigestServer()
    await server.start()
    server.publish("2025-03-20_AI_enhanced_Chinese.jsonl", _with_odd_category(lines[:40]))
    server.publish("2025-03-21_AI_enhanced_Chinese.jsonl", ("\n".join(lines[40:80]) + "\n").encode())
    server.publish("2025-03-22_AI_enhanced_Chinese.jsonl", _with_odd_category(lines[80:120], repeat=True))
    db = tmp_path / "b.sqlite3"
    try:
        result = await _backfill(server, db, "2025-03-20", "2025-03-23")
        strict = await _backfill(server, tmp_path / "strict.sqlite3", "2025-03-20", "2025-03-23", "--strict")
        server.publish("2025-03-24.jsonl", _with_odd_category(lines[120:160], lost=True))
        lossy = await _backfill(server, tmp_path / "lossy.sqlite3", "2025-03-22", "2025-03-24")
    finally:
        await server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "category '68U10 (Primary)' is not an arXiv category; dropped" in flat(result.stdout)
    assert "40 papers (40 new, 0 updated, 0 unchanged, 1 repeated entries merged)" in flat(result.stdout)
    assert ("3 days stored (1 exactly as written, 2 with repairs, 0 with papers lost), 0 failed, 1 not published; "
            "3 files, 120 distinct papers") in result.stdout
    assert "FAILED" not in result.stderr
    stored = sqlite3.connect(db).execute("SELECT date, paper_count FROM digests ORDER BY date").fetchall()
    assert stored == [("2025-03-20", 40), ("2025-03-21", 40), ("2025-03-22", 40)]
    # --strict: the repairs fail the run (the merge alone would not); the same days are stored.
    assert strict.returncode == 1 and "2 with repairs" in strict.stdout
    # A day that lost a paper is stored, counted apart, and fails the run.
    assert lossy.returncode == 1
    assert "skipped line 3: paper 2503.99999 has no title" in flat(lossy.stdout)
    assert "2 days stored (0 exactly as written, 1 with repairs, 1 with papers lost), 0 failed, 1 not published" in lossy.stdout


def test_backfill_without_a_source_says_what_to_set(tmp_path: Path) -> None:
    result = digestbot("backfill", "--since", "2026-01-01", db=tmp_path / "b.sqlite3", env={"DIGESTBOT_SOURCE_URL": "off"})
    assert result.returncode == 2
    assert "set DIGESTBOT_SOURCE_URL" in result.stderr and "Traceback" not in result.stderr
