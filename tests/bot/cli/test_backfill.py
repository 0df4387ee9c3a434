"""`digestbot backfill` against a real HTTP data branch on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.bot.cli.test_cli import digestbot
from tests.conftest import DIGESTS
from tests.digestserver import DigestServer


async def test_backfill_fetches_a_range_jsonl_first_then_markdown(tmp_path: Path) -> None:
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
    assert "2026-01-05  http://127.0.0.1" in result.stdout and "213 papers (213 new" in result.stdout
    assert "2026-01-06  http://127.0.0.1" in result.stdout and "2026-01-06.md: 213 papers (0 new" in result.stdout
    assert "2026-01-07.md: looks like a binary file" in result.stderr
    assert "2 days ingested, 1 not published, 1 failed" in result.stdout
    assert server.count("2026-01-06_AI_enhanced_Chinese.jsonl", 404) == 1  # JSONL tried first


def test_backfill_without_a_source_says_what_to_set(tmp_path: Path) -> None:
    result = digestbot("backfill", "--since", "2026-01-01", db=tmp_path / "b.sqlite3", env={"DIGESTBOT_SOURCE_URL": "off"})
    assert result.returncode == 2
    assert "set DIGESTBOT_SOURCE_URL" in result.stderr and "Traceback" not in result.stderr
