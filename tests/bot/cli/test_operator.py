"""The operator's commands, run as an operator runs them: invite, config, feeds, status, --db, JSON logs."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from bot.cli.operator_cmd import application_id_from_token
from bot.core.logs import setup_logging
from storage.feeds import FeedStore
from storage.sqlite.database import Database
from tests.bot.cli.test_cli import digestbot
from tests.conftest import DIGESTS

APP_ID = 1234567890123456789
TOKEN = base64.urlsafe_b64encode(str(APP_ID).encode()).decode().rstrip("=") + ".GhIjKl." + "x" * 38


def test_invite_reads_the_application_from_the_token_and_asks_exactly_the_needed_permissions(tmp_path: Path) -> None:
    assert application_id_from_token(TOKEN) == APP_ID
    result = digestbot("invite", db=tmp_path / "x.sqlite3", env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    query = parse_qs(urlparse(result.stdout.strip()).query)
    assert query["client_id"] == [str(APP_ID)]
    assert query["scope"] == ["bot applications.commands"]
    # View Channel, Send Messages, Embed Links, Attach Files, Read Message History,
    # Create Public Threads, Send Messages in Threads: nothing more.
    assert int(query["permissions"][0]) == (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 35) | (1 << 38)
    other = digestbot("invite", "--client-id", "42", db=tmp_path / "x.sqlite3")
    assert "client_id=42" in other.stdout
    missing = digestbot("invite", db=tmp_path / "x.sqlite3")
    assert missing.returncode == 2 and "--client-id" in missing.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_config_says_where_each_setting_came_from_and_hides_secrets(tmp_path: Path) -> None:
    (tmp_path / "digestbot.toml").write_text('poll_minutes = 15\nsource_url = "https://user:pw@example.org/data"\n')
    result = digestbot("--db", str(tmp_path / "given.sqlite3"), "config", "--json", db=tmp_path / "x.sqlite3", cwd=tmp_path,
                       env={"DISCORD_TOKEN": TOKEN, "DIGESTBOT_LOG_LEVEL": "DEBUG"})
    assert result.returncode == 0, result.stderr
    settings = {row["setting"]: row for row in json.loads(result.stdout)["settings"]}
    assert settings["DIGESTBOT_DB"]["value"].endswith("given.sqlite3") and settings["DIGESTBOT_DB"]["origin"] == "command line --db"
    assert settings["DIGESTBOT_POLL_MINUTES"]["value"] == 15.0 and settings["DIGESTBOT_POLL_MINUTES"]["origin"].startswith("`poll_minutes` in")
    assert settings["DIGESTBOT_LOG_LEVEL"]["origin"] == "environment variable DIGESTBOT_LOG_LEVEL"
    assert settings["DIGESTBOT_TICK_SECONDS"]["origin"] == "default"
    assert settings["DISCORD_TOKEN"]["value"] == "(set, not shown)"
    assert "pw" not in settings["DIGESTBOT_SOURCE_URL"]["value"]
    assert TOKEN not in result.stdout and ":pw@" not in result.stdout
    text = digestbot("config", db=tmp_path / "x.sqlite3", cwd=tmp_path)
    assert "DIGESTBOT_POLL_MINUTES" in text.stdout and "[default]" in text.stdout


def test_feeds_and_status_show_what_discord_shows(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    assert digestbot("ingest", str(DIGESTS / "2025-12-31.md"), db=db_path).returncode == 0

    async def add_feeds() -> None:
        db = await Database.open(db_path)
        store = FeedStore(db)
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        await store.upsert(guild_id=1, channel_id=11, categories=["cs.CV"], post_time=dt.time(9), timezone="Europe/Berlin",
                           created_by=5, now=now, exclude="survey")
        feed, _ = await store.upsert(guild_id=2, channel_id=22, categories=[], post_time=dt.time(7), timezone="UTC",
                                     created_by=6, now=now)
        await store.mark_failing(feed.id, "403 Missing Access", now)
        await db.close()

    asyncio.run(add_feeds())
    feeds = digestbot("feeds", "--json", db=db_path)
    assert feeds.returncode == 0, feeds.stderr
    listed = json.loads(feeds.stdout)
    assert [(f["guild_id"], f["channel_id"], f["state"]) for f in listed] == [(1, 11, "active"), (2, 22, "failing")]
    assert listed[0]["exclude"] == "survey" and listed[1]["failing_reason"] == "403 Missing Access"
    one = json.loads(digestbot("--db", str(db_path), "feeds", "--guild", "2", "--json", db=tmp_path / "other.sqlite3").stdout)
    assert [f["channel_id"] for f in one] == [22]
    text = digestbot("feeds", db=db_path).stdout
    assert "FAILING since" in text and "exclude: survey" in text

    status = digestbot("status", "--json", db=db_path)
    report = json.loads(status.stdout)
    assert report["latest_digest"]["date"] == "2025-12-31" and report["latest_digest"]["papers"] == 213
    assert len(report["feeds"]) == 2 and report["members_with_failing_dms"] == 0
    assert "latest digest: 2025-12-31, 213 papers" in digestbot("status", db=db_path).stdout
    missing = digestbot("status", db=tmp_path / "typo.sqlite3")
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_json_logs_are_one_object_per_line_with_the_traceback_and_no_token(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", [TOKEN], "json")
    try:
        logger = logging.getLogger("bot.example")
        logger.info("logged in with %s", TOKEN)
        try:
            raise RuntimeError(f"boom {TOKEN}")
        except RuntimeError:
            logger.exception("poll failed")
    finally:
        setup_logging("WARNING")
    lines = capsys.readouterr().err.strip().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "bot.example" and first["message"] == "logged in with [token]"
    assert second["message"] == "poll failed" and "RuntimeError: boom [token]" in second["exception"]
    assert TOKEN not in "".join(lines)


def test_a_bad_log_format_is_named(tmp_path: Path) -> None:
    bad = digestbot("stats", db=tmp_path / "x.sqlite3", env={"DIGESTBOT_LOG_FORMAT": "xml"})
    assert bad.returncode == 2 and "DIGESTBOT_LOG_FORMAT must be text or json" in bad.stderr
