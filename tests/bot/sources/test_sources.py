"""Digest sources: a local folder, which days the data branch is asked for, and what it may send."""

from __future__ import annotations

import datetime as dt
import gzip
import os
from pathlib import Path

import pytest
from aiohttp import web
from yarl import URL

from bot.ingest.digest import DigestLimits
from bot.sources.base import plan_days
from bot.sources.folder import LocalFolderSource
from bot.sources.guards import redirect_refusal
from bot.sources.remote import RemoteBranchSource
from storage.sources import SourceStateStore
from storage.sqlite.database import Database
from tests.digestserver import DigestServer

D = dt.date


async def test_local_folder_yields_new_and_changed_digests_until_remembered(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    source = LocalFolderSource(folder)
    (folder / "2026-03-01.md").write_text("### [1] [T](https://arxiv.org/abs/2601.00001)\n")
    (folder / "2026-03-01_AI_enhanced_Chinese.jsonl").write_text("{}\n")
    (folder / "2026-03-01.jsonl").write_text("{}\n")
    (folder / "notes.txt").write_text("not a digest")
    (folder / "2026-03-01.jsonl.tmp").write_text("partial download")
    first = await source.poll(D(2026, 3, 1), None, None)
    # Every file of the day, in the order a day's files are applied: raw JSONL, markdown, AI JSONL.
    assert [Path(d.name).name for d in first.digests] == [
        "2026-03-01.jsonl", "2026-03-01.md", "2026-03-01_AI_enhanced_Chinese.jsonl",
    ]
    # Not remembered (the caller could not store them): offered again.
    assert len((await source.poll(D(2026, 3, 1), None, None)).digests) == 3
    for fetched in first.digests:
        await source.remember(fetched)
    assert (await source.poll(D(2026, 3, 1), None, None)).digests == []
    changed = folder / "2026-03-01.md"
    changed.write_text("### [1] [T2](https://arxiv.org/abs/2601.00001)\n")
    os.utime(changed, (changed.stat().st_atime + 5, changed.stat().st_mtime + 5))
    assert [Path(d.name).name for d in (await source.poll(D(2026, 3, 2), None, None)).digests] == ["2026-03-01.md"]


async def test_local_folder_reports_a_symlink_loop_and_an_impossible_date(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "loop").symlink_to(folder)
    (folder / "2026-02-30.md").write_text("### [1] [T](https://arxiv.org/abs/2601.00001)\n")
    outcome = await LocalFolderSource(folder).poll(D(2026, 3, 1), None, None)
    assert any("loop" in e and "symbolic link" in e for e in outcome.errors), outcome.errors
    assert any("2026-02-30.md: is named for 2026-02-30, which is not a real date" in e for e in outcome.errors)


async def test_an_empty_or_missing_folder_is_reported(tmp_path: Path) -> None:
    outcome = await LocalFolderSource(tmp_path / "nope").poll(D(2026, 3, 1), None, None)
    assert outcome.errors == [f"digest folder {tmp_path / 'nope'} (DIGESTBOT_SOURCE_DIR) does not exist"]
    empty = await LocalFolderSource(tmp_path).poll(D(2026, 3, 1), None, None)
    assert empty.warning is not None and "holds no digest files" in empty.warning


def test_days_asked_for_cover_recent_days_a_week_when_nothing_is_recent_and_the_whole_gap() -> None:
    today = D(2026, 3, 10)
    catch_up, recent, left = plan_days(today, D(2026, 3, 9), None, lookback=3, per_poll=30)
    assert (catch_up, recent, left) == ([], [D(2026, 3, 8), D(2026, 3, 9), D(2026, 3, 10)], None)
    # A fresh install (or a wrong URL) looks at a whole week, so "nothing at all" can be noticed.
    _, recent, _ = plan_days(today, None, None, lookback=3, per_poll=30)
    assert recent[0] == D(2026, 3, 4) and len(recent) == 7
    # After downtime every missing day is fetched, oldest first; more than 30 continue at the next polls.
    catch_up, recent, left = plan_days(today, D(2026, 1, 1), None, lookback=3, per_poll=30)
    assert catch_up[0] == D(2026, 1, 2) and len(catch_up) == 30 and catch_up[-1] == D(2026, 1, 31)
    assert left == (D(2026, 2, 1), D(2026, 3, 3)) and recent[0] == D(2026, 3, 4)
    catch_up, _, left = plan_days(today, D(2026, 1, 1), D(2026, 1, 31), lookback=3, per_poll=30)
    assert catch_up[0] == D(2026, 2, 1) and catch_up[-1] == D(2026, 3, 2) and left == (D(2026, 3, 3), D(2026, 3, 3))
    # The cursor wins over the latest stored day: a day stored out of order does not hide the gap before it.
    catch_up, _, _ = plan_days(today, D(2026, 3, 10), D(2026, 2, 1), lookback=3, per_poll=30)
    assert catch_up[0] == D(2026, 2, 2) and catch_up[-1] == D(2026, 3, 3)


def test_redirects_stay_on_the_configured_host_or_the_allow_list() -> None:
    public = URL("https://raw.githubusercontent.com/o/r/data")
    assert redirect_refusal(public, URL("https://raw.githubusercontent.com/o/r/other"), frozenset()) is None
    assert redirect_refusal(public, URL("https://objects.githubusercontent.com/x"), frozenset({"objects.githubusercontent.com"})) is None
    assert "only https on the same host" in str(redirect_refusal(public, URL("https://evil.example/x"), frozenset()))
    assert "only https on the same host" in str(redirect_refusal(public, URL("http://raw.githubusercontent.com/x"), frozenset()))
    assert "private address" in str(redirect_refusal(public, URL("https://127.0.0.1/x"), frozenset({"127.0.0.1"})))
    assert redirect_refusal(public, URL("file:///etc/passwd"), frozenset()) is not None
    local = URL("http://127.0.0.1:8000")
    assert redirect_refusal(local, URL("http://127.0.0.1:8000/mirror/x"), frozenset()) is None
    assert "only https on the same host" in str(redirect_refusal(local, URL("http://127.0.0.1:9999/x"), frozenset()))


async def test_an_unreachable_source_is_an_error_not_a_crash(db: Database) -> None:
    source = RemoteBranchSource("http://127.0.0.1:9", "Chinese", SourceStateStore(db), attempts=2, backoff=0.01, timeout=2)
    outcome = await source.poll(D(2026, 3, 10), D(2026, 3, 9), None)
    assert outcome.digests == []
    assert outcome.errors and all("unreachable" in e for e in outcome.errors)
    assert outcome.warning is None  # unreachable is not "nothing there"


@pytest.fixture
async def server() -> DigestServer:
    served = DigestServer()
    await served.start()
    yield served
    await served.stop()


async def test_bodies_over_the_cap_are_refused_even_when_compressed(db: Database, server: DigestServer) -> None:
    limits = DigestLimits(max_bytes=1024 * 1024)
    server.publish("2026-03-10.md", b"x" * (2 * 1024 * 1024))
    # 1 MB of gzip that expands to 64 MB: counted after decompression.
    server.publish_raw("2026-03-10_AI_enhanced_Chinese.jsonl", gzip.compress(b"{}\n" * (22 * 1024 * 1024)),
                       {"Content-Encoding": "gzip"})
    source = RemoteBranchSource(server.base_url, "Chinese", SourceStateStore(db), attempts=1, limits=limits)
    day = await source.fetch_day(D(2026, 3, 10))
    assert day.files == []
    assert len(day.errors) == 2 and all("is larger than 1 MB" in e and "DIGESTBOT_MAX_DIGEST_MB" in e for e in day.errors)


async def test_a_redirect_to_another_port_is_not_followed(db: Database, server: DigestServer) -> None:
    async def admin_page(request: web.Request) -> web.Response:
        return web.Response(text="internal admin page")

    elsewhere = web.Application()
    elsewhere.router.add_get("/{tail:.*}", admin_page)
    runner = web.AppRunner(elsewhere)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        server.redirect("2026-03-10.md", f"http://127.0.0.1:{port}/secret")
        server.redirect("2026-03-10.jsonl", "/mirror/2026-03-10.jsonl")
        server.publish("mirror/2026-03-10.jsonl", b'{"id": "2601.00001", "title": "T", "categories": ["cs.CV"]}\n')
        source = RemoteBranchSource(server.base_url, "Chinese", SourceStateStore(db), attempts=1)
        day = await source.fetch_day(D(2026, 3, 10))
    finally:
        await runner.cleanup()
    assert [Path(f.name).name for f in day.files] == ["2026-03-10.jsonl"]  # same-origin redirect followed
    assert len(day.errors) == 1 and "is not followed" in day.errors[0]
    assert "internal admin page" not in day.errors[0]


async def test_credentials_in_the_source_url_are_never_shown(db: Database, server: DigestServer) -> None:
    base = server.base_url.replace("http://", "http://reader:s3cret-token@") + "?token=abc123"
    source = RemoteBranchSource(base, "Chinese", SourceStateStore(db), attempts=1)
    assert "s3cret" not in source.describe() and "abc123" not in source.describe()
    server.publish("2026-03-10.md", b"### [1] [T](https://arxiv.org/abs/2601.00001)\n")
    day = await source.fetch_day(D(2026, 3, 10))
    assert day.files and all("s3cret" not in f.name and "abc123" not in f.name for f in day.files)
