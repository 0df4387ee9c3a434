"""The digestbot command line, run as a user runs it: a separate process on a real database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import DIGESTS


def digestbot(*args: str, db: Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    clean["DIGESTBOT_DB"] = str(db)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=clean, timeout=120, cwd=cwd,
    )


def flat(text: str) -> str:
    """Report text with wrapped continuation lines joined back (the CLI wraps lines at 100 columns)."""
    return re.sub(r"\n {4,}", " ", text)


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = digestbot("--help", db=tmp_path / "x.sqlite3")
    assert result.returncode == 0
    for command in ("run", "ingest", "backfill", "search", "stats", "health", "db", "feeds", "status", "invite", "config"):
        assert command in result.stdout
        sub = digestbot(command, "--help", db=tmp_path / "x.sqlite3")
        assert sub.returncode == 0 and "usage: digestbot " + command in sub.stdout
    for action in ("backup", "check", "vacuum", "migrate-to"):
        sub = digestbot("db", action, "--help", db=tmp_path / "x.sqlite3")
        assert sub.returncode == 0 and f"usage: digestbot db {action}" in sub.stdout


def test_ingest_a_folder_takes_the_dated_digests_and_an_undated_file_needs_a_date(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    result = digestbot("ingest", str(DIGESTS), db=db)
    assert result.returncode == 0, result.stderr
    assert "2025-12-31" in result.stdout and "213 papers (213 new" in result.stdout
    assert "3 files: 3 ingested completely, 0 failed; 2 days (2025-03-19 to 2025-12-31)" in flat(result.stdout)
    assert "4 files in the folders are not named like digests and were left alone" in flat(result.stdout)
    undated = digestbot("ingest", str(DIGESTS / "000_eb52096bcf26c46f.txt"), db=db)
    assert undated.returncode == 1
    assert "000_eb52096bcf26c46f.txt: has no date in its file name" in flat(undated.stderr)
    assert "Traceback" not in undated.stderr
    again = digestbot("ingest", str(DIGESTS / "2025-12-31.md"), db=db)
    assert again.returncode == 0 and "already ingested for this day, nothing changed" in flat(again.stdout)


def test_ingest_with_date_then_search_and_stats(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    ingest = digestbot("ingest", "--date", "2026-01-29", str(DIGESTS / "000_eb52096bcf26c46f.txt"), db=db)
    assert ingest.returncode == 0, ingest.stderr
    assert "2026-01-29" in ingest.stdout and "456 papers (456 new" in ingest.stdout
    search = digestbot("search", "non-Markov", "conversational", "--limit", "3", db=db)
    assert search.returncode == 0
    assert search.stdout.splitlines()[1].startswith("2601.20911   2026-01-29  cs.CV")
    filtered = digestbot("search", "learning", "--category", "cs.MA", "--since", "2026-01-01", db=db)
    assert all(" cs.MA " in line for line in filtered.stdout.splitlines()[1::2])
    stats = digestbot("stats", db=db)
    assert "papers:    456" in stats.stdout and "cs.LG" in stats.stdout and "Machine Learning" in stats.stdout


def test_ingest_reports_skipped_lines_and_exits_nonzero(tmp_path: Path) -> None:
    source = tmp_path / "2026-02-01_AI_enhanced_English.jsonl"
    lines = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    source.write_text("\n".join([lines[0], "{broken", lines[1], lines[2]]) + "\n", encoding="utf-8")
    result = digestbot("ingest", str(source), db=tmp_path / "d.sqlite3")
    assert result.returncode == 1
    assert "3 papers (3 new" in result.stdout
    assert "skipped line 2: not valid JSON" in result.stdout


def test_broken_digest_among_good_ones_is_skipped_and_the_rest_land(tmp_path: Path) -> None:
    folder = tmp_path / "digests"
    folder.mkdir()
    shutil.copy(DIGESTS / "2025-12-31.md", folder)
    (folder / "2026-01-01.md").write_bytes(b"\x00\x01\x02")
    (folder / "2026-01-02.md").write_text("")
    result = digestbot("ingest", str(folder), db=tmp_path / "d.sqlite3")
    assert result.returncode == 1
    assert "2026-01-01.md: looks like a binary file" in result.stderr
    assert "2026-01-02.md: is empty" in result.stderr
    assert "3 files: 1 ingested completely, 2 failed; 1 days (2025-12-31); 213 distinct papers" in flat(result.stdout)


def test_search_with_nothing_to_search_is_a_sentence(tmp_path: Path) -> None:
    result = digestbot("search", "*** ()", db=tmp_path / "d.sqlite3")
    assert result.returncode == 2
    assert "no words to search for" in result.stderr and "Traceback" not in result.stderr


def test_bad_setting_names_the_variable(tmp_path: Path) -> None:
    env_db = tmp_path / "missing-folder" / "d.sqlite3"
    result = digestbot("stats", db=env_db)
    assert result.returncode == 1
    assert "missing-folder" in result.stderr and "does not exist" in result.stderr
