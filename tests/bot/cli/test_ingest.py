"""`digestbot ingest` on the files users really have: copies, clones, conflicts, loops, bad bytes, huge files."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.bot.cli.test_cli import digestbot, flat
from tests.botworld import ROOT
from tests.conftest import DIGESTS
from tests.mirror import write_mirror

DAY = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_bytes()


def days_of(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {str(d): int(n) for d, n in conn.execute("SELECT date, paper_count FROM digests ORDER BY date")}
    finally:
        conn.close()


def test_a_file_whose_bytes_equal_another_days_file_stores_its_own_day(tmp_path: Path) -> None:
    (tmp_path / "2026-01-03.jsonl").write_bytes(DAY)
    (tmp_path / "2026-01-04.jsonl").write_bytes(DAY)
    db = tmp_path / "d.sqlite3"
    result = digestbot("ingest", str(tmp_path / "2026-01-03.jsonl"), str(tmp_path / "2026-01-04.jsonl"), db=db)
    assert result.returncode == 0, result.stderr
    assert days_of(db) == {"2026-01-03": 213, "2026-01-04": 213}
    assert "2 files: 2 ingested completely, 0 failed; 2 days (2026-01-03 to 2026-01-04); 213 distinct papers (213 new)" in flat(result.stdout)
    # The order files come in does not change a day's result, and a repeat changes nothing.
    again = digestbot("ingest", str(tmp_path / "2026-01-04.jsonl"), db=db)
    assert again.returncode == 0 and "already ingested for this day, nothing changed" in flat(again.stdout)
    # One undated file given two dates is two days.
    undated = tmp_path / "undated.md"
    undated.write_bytes((DIGESTS / "004_8ce2d82a3946f536.txt").read_bytes())
    assert digestbot("ingest", "--date", "2026-02-01", str(undated), db=db).returncode == 0
    assert digestbot("ingest", "--date", "2026-02-02", str(undated), db=db).returncode == 0
    assert days_of(db)["2026-02-01"] == 76 and days_of(db)["2026-02-02"] == 76


def test_date_option_that_contradicts_a_file_name_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    dated = tmp_path / "2026-01-03.md"
    dated.write_bytes((DIGESTS / "2025-12-31.md").read_bytes())
    undated = tmp_path / "notes.md"
    undated.write_bytes((DIGESTS / "004_8ce2d82a3946f536.txt").read_bytes())
    db = tmp_path / "d.sqlite3"
    result = digestbot("ingest", "--date", "2026-01-04", str(undated), str(dated), db=db)
    assert result.returncode == 2
    assert "2026-01-03.md is named for 2026-01-03 but --date says 2026-01-04" in flat(result.stderr)
    assert not db.exists() or days_of(db) == {}


def test_a_clone_of_the_data_branch_is_ingested_whole_and_other_files_are_left_alone(tmp_path: Path) -> None:
    clone = write_mirror(tmp_path / "clone")
    result = digestbot("ingest", str(clone), db=tmp_path / "d.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "file-list.txt" not in flat(result.stderr) and "README" not in flat(result.stderr)
    # Files, days and distinct papers, truthfully: 7 files, 5 days, each paper counted once.
    conn = sqlite3.connect(tmp_path / "d.sqlite3")
    papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    conn.close()
    assert f"7 files: 7 ingested completely, 0 failed; 5 days (2026-06-01 to 2026-06-05); {papers:,} distinct papers" in flat(result.stdout)
    assert all(len(line) <= 100 for line in result.stdout.splitlines()[:-1])


def test_an_impossible_date_is_called_impossible(tmp_path: Path) -> None:
    (tmp_path / "2026-02-30.md").write_bytes((DIGESTS / "2025-12-31.md").read_bytes())
    result = digestbot("ingest", str(tmp_path / "2026-02-30.md"), db=tmp_path / "d.sqlite3")
    assert result.returncode == 1
    assert "2026-02-30.md: is named for 2026-02-30, which is not a real date" in flat(result.stderr)
    assert "has no date" not in flat(result.stderr)


def test_deep_nesting_and_junk_lines_do_not_stop_the_batch_and_are_summarised(tmp_path: Path) -> None:
    nested = tmp_path / "2026-01-01.jsonl"
    good_line = DAY.decode().splitlines()[0]
    junk = [f"{{not json {n}" for n in range(5000)]
    nested.write_text("\n".join([good_line, "[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, *junk]) + "\n")
    (tmp_path / "2026-01-02.jsonl").write_bytes(DAY)
    result = digestbot("ingest", str(nested), str(tmp_path / "2026-01-02.jsonl"), db=tmp_path / "d.sqlite3")
    assert result.returncode == 1  # lines were skipped
    assert "Traceback" not in flat(result.stderr) and "RecursionError" not in flat(result.stdout) + result.stderr
    assert re.search(r"2026-01-01  \S*2026-01-01.jsonl: 1 papers", flat(result.stdout))
    assert "skipped line 3: JSON nested too deeply to be a paper" in flat(result.stdout)
    assert "... and 4,997 more" in flat(result.stdout)  # the first five with line numbers, then a count
    assert len(result.stdout.splitlines()) < 20
    assert days_of(tmp_path / "d.sqlite3") == {"2026-01-01": 1, "2026-01-02": 213}


def test_invalid_utf8_is_stored_repaired_with_a_warning_and_strict_fails_it(tmp_path: Path) -> None:
    text = (DIGESTS / "2025-12-31.md").read_bytes()
    broken = tmp_path / "2026-01-05.md"
    broken.write_bytes(text.replace("扩散".encode(), b"\xff\xfe", 1))
    result = digestbot("ingest", str(broken), db=tmp_path / "d.sqlite3")
    assert result.returncode == 0, result.stdout + result.stderr  # a repair loses no paper
    assert re.search(r"warning line \d+: invalid UTF-8 at byte [\d,]+; replaced with U\+FFFD", flat(result.stdout))
    assert "1 files: 0 ingested completely, 1 with repairs, 0 failed" in flat(result.stdout)
    assert days_of(tmp_path / "d.sqlite3") == {"2026-01-05": 213}
    strict = digestbot("ingest", "--strict", str(broken), db=tmp_path / "d.sqlite3")
    assert strict.returncode == 1 and "1 with repairs, 0 failed" in flat(strict.stdout)


def _upstream_day(path: Path, *, lost_line: bool = False) -> Path:
    """A day as upstream really writes them: an MSC class with a note among the categories, a paper listed twice."""
    lines = DAY.decode().splitlines()
    first = json.loads(lines[0])
    first["categories"] = [*first["categories"], "68U10 (Primary)"]
    body = [json.dumps(first, ensure_ascii=False), *lines[1:], lines[5]]
    if lost_line:
        body.insert(3, '{"id": "2601.00001", "title": ""}')
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path


def test_an_ordinary_upstream_day_exits_0_with_its_repairs_printed(tmp_path: Path) -> None:
    day = _upstream_day(tmp_path / "2026-01-10_AI_enhanced_Chinese.jsonl")
    merged = tmp_path / "2026-01-11.jsonl"
    merged.write_text(DAY.decode() + DAY.decode().splitlines()[7] + "\n", encoding="utf-8")
    db = tmp_path / "d.sqlite3"
    result = digestbot("ingest", str(day), str(merged), db=db)
    assert result.returncode == 0, result.stdout + result.stderr
    out = flat(result.stdout)
    assert "warning line 1: paper 2512.22208: category '68U10 (Primary)' is not an arXiv category; dropped" in out
    assert "213 papers (213 new, 0 updated, 0 unchanged, 1 repeated entries merged)" in out
    assert "2 files: 1 ingested completely, 1 with repairs, 0 failed" in out
    assert days_of(db) == {"2026-01-10": 213, "2026-01-11": 213}
    # --strict fails the repair; a merge alone loses nothing and passes even --strict.
    assert digestbot("ingest", "--strict", str(day), db=db).returncode == 1
    only_merged = digestbot("ingest", "--strict", str(merged), db=db)
    assert only_merged.returncode == 0 and "1 files: 1 ingested completely, 0 failed" in flat(only_merged.stdout)


def test_a_paper_lost_in_a_stored_file_exits_1_and_is_counted_apart(tmp_path: Path) -> None:
    lossy = _upstream_day(tmp_path / "2026-01-12.jsonl", lost_line=True)
    (tmp_path / "2026-01-13.jsonl").write_bytes(DAY)
    result = digestbot("ingest", str(lossy), str(tmp_path / "2026-01-13.jsonl"), db=tmp_path / "d.sqlite3")
    assert result.returncode == 1
    assert "skipped line 4: paper 2601.00001 has no title" in flat(result.stdout)
    assert "2 files: 1 ingested completely, 1 with papers lost, 0 failed" in flat(result.stdout)
    assert days_of(tmp_path / "d.sqlite3") == {"2026-01-12": 213, "2026-01-13": 213}


def test_a_symlink_loop_given_directly_or_met_in_a_folder_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(DIGESTS / "2025-12-31.md", folder)
    (folder / "sub").mkdir()
    (folder / "sub" / "back").symlink_to(folder)
    (tmp_path / "a.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "b.md").symlink_to(tmp_path / "a.md")
    result = digestbot("ingest", str(folder), str(tmp_path / "a.md"), db=tmp_path / "d.sqlite3")
    assert result.returncode == 1
    assert "sub/back: a symbolic link loop" in flat(result.stderr)
    assert "a.md: cannot be read: it is a symbolic link loop" in flat(result.stderr)
    assert "no such file" not in flat(result.stderr) and "Traceback" not in flat(result.stderr)
    assert days_of(tmp_path / "d.sqlite3") == {"2025-12-31": 213}


def _without_file_permission_override() -> list[str]:
    """A command prefix under which permissions apply (root normally reads anything)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder unreadable")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_unreadable_folders_and_files_are_reported_not_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "locked").mkdir(parents=True)
    shutil.copy(DIGESTS / "2025-12-31.md", folder)
    shutil.copy(DIGESTS / "2025-12-31.md", folder / "locked" / "2026-01-01.md")
    secret = tmp_path / "2026-01-02.md"
    shutil.copy(DIGESTS / "2025-12-31.md", secret)
    (folder / "locked").chmod(0)
    secret.chmod(0)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    env["DIGESTBOT_DB"] = str(tmp_path / "d.sqlite3")
    try:
        result = subprocess.run([*_without_file_permission_override(), sys.executable, "-m", "bot", "ingest", str(folder), str(secret)],
                                capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    finally:
        (folder / "locked").chmod(0o755)
        secret.chmod(0o644)
    assert result.returncode == 1
    assert "locked: cannot be read: permission denied" in flat(result.stderr)
    assert "2026-01-02.md: cannot be read: permission denied" in flat(result.stderr)
    assert "Traceback" not in flat(result.stderr)
    assert "2025-12-31  2025-12-31.md: 213 papers" in flat(result.stdout)


def test_a_huge_file_is_streamed_in_little_memory(tmp_path: Path) -> None:
    huge = tmp_path / "2026-01-09.jsonl"
    line = json.dumps({"id": "not an id", "title": "x" * 3000}) + "\n"
    with huge.open("w") as out:
        for _ in range(200 * 1024 * 1024 // len(line)):
            out.write(line)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    env.update(DIGESTBOT_DB=str(tmp_path / "d.sqlite3"), DIGESTBOT_MAX_DIGEST_MB="300")
    # Measure the child's peak memory from a parent of its own, so nothing else run by the tests counts.
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.returncode); print(r.stderr)")
    result = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "bot", "ingest", str(huge)],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    peak_kib, code, stderr = result.stdout.split("\n", 2)
    assert int(code) == 1 and "holds no papers" in flat(stderr)
    assert int(peak_kib) < 200 * 1024, f"peak RSS {int(peak_kib) // 1024} MB for a 200 MB file"
    over = digestbot("ingest", str(huge), db=tmp_path / "d.sqlite3")
    assert over.returncode == 1 and "is larger than 64 MB, the most one digest may be (DIGESTBOT_MAX_DIGEST_MB" in flat(over.stderr)


def _screen(output: str, columns: int) -> list[str]:
    """What a terminal shows after `output`: \\r returns, \\x1b[K erases to the line end, lines wrap at `columns`."""
    lines = [""]
    col = 0
    i = 0
    while i < len(output):
        if output.startswith("\x1b[K", i):
            lines[-1] = lines[-1][:col]
            i += 3
            continue
        ch = output[i]
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append("")
            col = 0
        else:
            if col >= columns:
                lines.append("")
                col = 0
            row = lines[-1]
            lines[-1] = row[:col] + ch + row[col + 1:]
            col += 1
        i += 1
    return lines


def test_progress_bar_fits_an_80_column_terminal_and_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "a-rather-long-folder-name-that-someone-really-uses" / "daily-arXiv-ai-enhanced-data"
    folder.mkdir(parents=True)
    for n in range(12):
        (folder / f"2026-01-{n + 1:02d}_AI_enhanced_Chinese.jsonl").write_bytes(DAY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
    env.update(DIGESTBOT_DB=str(tmp_path / "d.sqlite3"), COLUMNS="80", LINES="24", TERM="xterm")
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(folder)], stdout=child, stderr=child,
                               env=env, cwd=ROOT)
    os.close(child)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(main)
    output = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    assert process.returncode == 0, output
    assert "[#" in output  # the bar was drawn
    screen = [line for line in _screen(output, 80) if line.strip()]
    assert not any("[#" in line or "[." in line for line in screen), screen  # no stale bar left
    assert sum(1 for line in screen if line.startswith("2026-01-") and "213 papers (" in line) == 12  # every file line whole
    assert all(len(line) <= 80 for line in screen)
