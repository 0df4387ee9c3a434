"""Digest sources: a local folder, and which days the data branch is asked for."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from bot.sources import LocalFolderSource, RemoteBranchSource
from storage.db import Database
from storage.sources import SourceStateStore


async def test_local_folder_yields_new_and_changed_digests_once(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    source = LocalFolderSource(folder)
    (folder / "2026-03-01.md").write_text("### [1] [T](https://arxiv.org/abs/2601.00001)\n")
    (folder / "notes.txt").write_text("not a digest")
    (folder / "2026-03-01.jsonl.tmp").write_text("partial download")
    first = await source.poll(dt.date(2026, 3, 1), None)
    assert [(Path(d.name).name, d.date) for d in first.digests] == [("2026-03-01.md", dt.date(2026, 3, 1))]
    assert (await source.poll(dt.date(2026, 3, 1), None)).digests == []
    (folder / "2026-03-02_AI_enhanced_English.jsonl").write_text("{}\n")
    changed = folder / "2026-03-01.md"
    changed.write_text("### [1] [T2](https://arxiv.org/abs/2601.00001)\n")
    os.utime(changed, (changed.stat().st_atime + 5, changed.stat().st_mtime + 5))
    names = sorted(Path(d.name).name for d in (await source.poll(dt.date(2026, 3, 2), None)).digests)
    assert names == ["2026-03-01.md", "2026-03-02_AI_enhanced_English.jsonl"]


async def test_missing_folder_is_reported(tmp_path: Path) -> None:
    outcome = await LocalFolderSource(tmp_path / "nope").poll(dt.date(2026, 3, 1), None)
    assert outcome.errors == [f"digest folder {tmp_path / 'nope'} does not exist"]


async def test_days_checked_cover_recent_days_and_gaps(db: Database) -> None:
    source = RemoteBranchSource("http://127.0.0.1:9", "Chinese", SourceStateStore(db))
    today = dt.date(2026, 3, 10)
    assert source.days_to_check(today, None) == [dt.date(2026, 3, 8), dt.date(2026, 3, 9), dt.date(2026, 3, 10)]
    assert source.days_to_check(today, dt.date(2026, 3, 4))[0] == dt.date(2026, 3, 5)  # the gap since the latest
    assert source.days_to_check(today, dt.date(2025, 1, 1))[0] == dt.date(2026, 2, 24)  # at most two weeks back
    assert source.urls_for(today) == [
        "http://127.0.0.1:9/data/2026-03-10_AI_enhanced_Chinese.jsonl", "http://127.0.0.1:9/data/2026-03-10.md",
    ]


async def test_an_unreachable_source_is_an_error_not_a_crash(db: Database) -> None:
    source = RemoteBranchSource("http://127.0.0.1:9", "Chinese", SourceStateStore(db), attempts=2, backoff=0.01, timeout=2)
    outcome = await source.poll(dt.date(2026, 3, 10), dt.date(2026, 3, 9))
    assert outcome.digests == []
    assert outcome.errors and all("unreachable" in e for e in outcome.errors)
