"""The data path at its edges, through the real bot: failed stores, downtime, backfill, a wrong URL, credentials, crafted links."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3

from tests.bot.cli.test_cli import digestbot
from tests.bot.delivery.conftest import JSONL_DAY, MARKDOWN_DAY, DailyWorld, start_daily_world
from tests.botworld import eventually
from tests.digestserver import DigestServer


async def test_a_day_whose_store_failed_is_fetched_again_not_lost_behind_a_304(daily: DailyWorld) -> None:
    daily.world.bot.extra_env["DIGESTBOT_DB_WRITE_WAIT_SECONDS"] = "0.3"
    await daily.world.bot.start()
    await eventually(lambda: len(daily.rows("SELECT id FROM poll_runs")) >= 1)
    # Another process holds the write lock while the day appears: the store fails.
    blocker = sqlite3.connect(daily.db_path, timeout=5, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
        await eventually(lambda: daily.server.count("2026-03-02_AI_enhanced_Chinese.jsonl", 200) >= 2, timeout=20)
        assert daily.digest_dates() == []
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # Once the lock is gone the next poll fetches the file again (no 304: nothing was remembered) and stores it.
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"], timeout=20)
    log = daily.world.bot.log()
    assert "cannot write the database: it is locked by another connection" in log
    failing = [line for line in log.splitlines() if "poll of data branch" in line and "locked" in line]
    assert failing and all(" ERROR " in line for line in failing)
    assert "Traceback" not in log


async def test_after_downtime_the_whole_gap_is_fetched_in_order_and_old_days_are_not_posted(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    world.bot.extra_env["DIGESTBOT_CATCH_UP_DAYS_PER_POLL"] = "10"
    channel = fake.add_channel(world.guild, "news")
    daily.clock.set("2026-01-20T05:00:00+00:00")
    daily.server.publish("2026-01-20_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await world.bot.start()
    await world.run(world.owner, "feed", {"channel": channel, "time": "06:00"}, subcommand="add")
    await eventually(lambda: daily.digest_dates() == ["2026-01-20"])
    assert await world.bot.stop() == 0
    # Forty days away; the source published three days meanwhile, and today's.
    for day in ("2026-01-25", "2026-02-10", "2026-02-26"):
        daily.server.publish(f"{day}.md", MARKDOWN_DAY)
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    daily.clock.set("2026-03-02T07:00:00+00:00")
    await world.bot.start()
    await eventually(lambda: daily.digest_dates() == ["2026-01-20", "2026-01-25", "2026-02-10", "2026-02-26", "2026-03-02"],
                     timeout=30)
    await eventually(lambda: daily.rows("SELECT value FROM meta WHERE key = 'source_checked_through'") == [("2026-03-02",)])
    log = world.bot.log()
    assert "catching up after downtime: fetching 10 days, 2026-01-21 to 2026-01-30" in log
    # Days are asked for oldest first, each once, with nothing skipped in between.
    asked = [name[:10] for name, _ in daily.server.requests if name.endswith(".md") and "2026-01-21" <= name < "2026-02-24"]
    firsts = list(dict.fromkeys(asked))
    assert firsts == sorted(firsts) and len(firsts) == (dt_days("2026-01-21", "2026-02-23"))
    # Today's day is posted; the days that came back late are stored, searchable, and named in the log.
    await eventually(lambda: len(daily.headers(channel)) == 1)
    assert daily.headers(channel)[0].embeds[0]["title"].startswith("arXiv digest · 2026-03-02")
    for day in ("2026-01-25", "2026-02-10", "2026-02-26"):
        assert f"the digest of {day} arrived more than 3 days after its date: stored and searchable, not posted" in log
    await asyncio.sleep(1)
    assert len(daily.headers(channel)) == 1


def dt_days(first: str, last: str) -> int:
    import datetime as dt

    return (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1


async def test_days_fetched_by_backfill_while_the_bot_runs_are_never_posted(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    channel = fake.add_channel(world.guild, "news")
    await world.bot.start()
    await world.run(world.owner, "feed", {"channel": channel, "time": "05:00"}, subcommand="add")
    other = DigestServer()
    await other.start()
    other.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    other.publish("2026-03-01.md", MARKDOWN_DAY)
    try:
        result = await asyncio.to_thread(
            digestbot, "backfill", "--since", "2026-03-01", "--until", "2026-03-02", db=daily.db_path,
            env={"DIGESTBOT_SOURCE_URL": other.base_url},
        )
    finally:
        await other.stop()
    assert result.returncode == 0, result.stderr
    assert daily.digest_dates() == ["2026-03-01", "2026-03-02"]
    daily.clock.set("2026-03-02T09:00:00+00:00")
    polls = len(daily.rows("SELECT id FROM poll_runs"))
    await eventually(lambda: len(daily.rows("SELECT id FROM poll_runs")) >= polls + 3)
    assert fake.channel_messages(channel) == []
    assert daily.rows("SELECT count(*) FROM deliveries")[0][0] == 0
    # A day the poll brings is news as ever.
    daily.server.publish("2026-03-03_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    daily.clock.set("2026-03-03T09:00:00+00:00")
    await eventually(lambda: len(daily.headers(channel)) == 1)
    assert daily.headers(channel)[0].embeds[0]["title"].startswith("arXiv digest · 2026-03-03")


async def test_a_mistyped_source_url_is_a_warning_in_status_and_health(tmp_path) -> None:  # type: ignore[no-untyped-def]
    daily = await start_daily_world(tmp_path, clock_start="2026-03-04T12:00:00+00:00")
    typo = daily.server.base_url + "/dw-dengwei/daily-arXiv-ai-enhance/data"
    daily.world.bot.extra_env["DIGESTBOT_SOURCE_URL"] = typo
    world = daily.world
    try:
        await world.bot.start()
        await eventually(lambda: len(daily.rows("SELECT id FROM poll_runs WHERE warning IS NOT NULL")) >= 1)
        reply = await world.run(world.owner, "status")
        text = reply.text
        assert "no digest of the last 7 days exists at" in text and "DIGESTBOT_SOURCE_URL" in text
        assert "daily-arXiv-ai-enhance/data" in text and "**warning**" in text
        health = await asyncio.to_thread(
            digestbot, "health", db=daily.db_path,
            env={"DIGESTBOT_SOURCE_URL": typo, "DIGESTBOT_CLOCK_FILE": str(daily.clock.path)},
        )
        assert health.returncode == 1
        assert "the last poll found the source suspicious: no digest of the last 7 days" in health.stderr
        assert "DIGESTBOT_SOURCE_URL" in health.stderr
        assert "WARNING" in world.bot.log() and "no digest of the last 7 days" in world.bot.log()
    finally:
        await world.bot.stop()
        await daily.fake.stop()
        await daily.server.stop()


async def test_credentials_in_the_source_url_never_reach_the_log_status_channel_or_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    daily = await start_daily_world(tmp_path, clock_start="2026-03-02T05:00:00+00:00")
    secret_url = daily.server.base_url.replace("http://", "http://reader:s3cret-pass@") + "?token=t0ken-abc"
    daily.world.bot.extra_env["DIGESTBOT_SOURCE_URL"] = secret_url
    world, fake = daily.world, daily.fake
    try:
        channel = fake.add_channel(world.guild, "news")
        await world.bot.start()
        await world.run(world.owner, "feed", {"channel": channel, "time": "05:00"}, subcommand="add")
        daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
        await eventually(lambda: len(daily.headers(channel)) == 1)
        status = await world.run(world.owner, "status")
        header = json.dumps(daily.headers(channel)[0].embeds)
        assert "Source: 2026-03-02\\\\_AI\\\\_enhanced\\\\_Chinese.jsonl" in header  # the file name, no link
        conn = sqlite3.connect(daily.db_path)
        dump = "\n".join(conn.iterdump())
        conn.close()
        await world.bot.stop()
        for place, text in (("log", world.bot.log()), ("/status", status.text), ("channel", header), ("database", dump)):
            assert "s3cret-pass" not in text and "t0ken-abc" not in text, place
        assert "***@127.0.0.1" in status.text
    finally:
        if world.bot.process and world.bot.process.returncode is None:
            await world.bot.stop()
        await daily.fake.stop()
        await daily.server.stop()


CRAFTED = {
    "id": "2601.77777", "categories": ["cs.CV`](https://evil.example/x) **pinned**", "cs.CV", "I.2.10"],
    "authors": ["Mallory"], "title": "[**Verify your Discord account**](https://evil.example/login)",
    "abs": "https://evil.example/login", "pdf": "https://evil.example/login.pdf",
    "code_url": "https://evil.example/login)[**Verify**](https://evil.example/login", "summary": "Abstract.",
    "AI": {"tldr": "Click [here](https://evil.example/login) now", "motivation": "m", "method": "m", "result": "r",
           "conclusion": "c"},
}
HONEST = {**CRAFTED, "id": "2601.77778", "title": "A real paper", "code_url": "https://github.com/owner/repo",
          "categories": ["cs.CV"], "AI": {"tldr": "Fine."}}


def _live_links(text: str) -> list[str]:
    """Targets of Markdown links Discord would render (escaped brackets are plain text)."""
    return re.findall(r"(?<!\\)\]\((https?://[^)\s]+)\)", text)


async def test_links_come_from_the_arxiv_id_and_crafted_links_are_never_clickable(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    channel = fake.add_channel(world.guild, "news")
    await world.bot.start()
    await world.run(world.owner, "feed", {"channel": channel, "time": "05:00"}, subcommand="add")
    lines = [json.dumps(CRAFTED), json.dumps(HONEST), *JSONL_DAY.decode().splitlines()[:3]]
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", ("\n".join(lines) + "\n").encode())
    await eventually(lambda: daily.delivery_states().get(channel.id) == "done")
    posted = json.dumps([m.embeds for m in daily.thread_messages(channel) + daily.headers(channel)], ensure_ascii=False)
    crafted = await world.run(world.member, "paper", {"id": "2601.77777"})
    honest = await world.run(world.member, "paper", {"id": "2601.77778"})
    search = await world.run(world.member, "search", {"query": "Verify your Discord account"})
    digest = await world.run(world.member, "digest", {"date": "2026-03-02"})
    for place, text in (("thread", posted), ("/paper", crafted.text), ("/search", search.text), ("/digest", digest.text)):
        links = _live_links(text.replace("\\\\", "\\"))
        assert links, place
        assert not [link for link in links if "evil.example" in link], (place, links)
    assert "https://arxiv.org/abs/2601.77777" in crafted.text and "https://arxiv.org/pdf/2601.77777" in crafted.text
    assert "code:" not in crafted.text  # the crafted code link is dropped
    assert "code: [github.com/owner/repo](https://github.com/owner/repo)" in honest.text
    # The category that tried to break out of its code span never shows; the ACM class is not a category.
    assert "evil.example/x" not in crafted.text and "I.2.10" not in crafted.text and "`cs.CV`" in crafted.text
