"""`digestbot feeds` and `digestbot status`: what /feed list and /status show, for the operator's shell."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from bot.core.settings import Settings
from storage.engine import Database, open_database
from storage.feeds import FeedStore
from storage.ledger import DeliveryLedger
from storage.papers import PaperStore
from storage.sources import SourceStateStore
from storage.subscriptions import SubscriptionStore
from storage.urls import redact_url


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register feeds and status."""
    feeds = sub.add_parser("feeds", help="list the channel feeds of every server (or one)",
                           description="Every channel feed: server, channel, categories, filters, time, state, last delivery.")
    feeds.add_argument("--guild", type=int, help="only this server (its id)")
    feeds.add_argument("--json", action="store_true", help="print JSON")
    feeds.set_defaults(handler=run_feeds)
    status = sub.add_parser("status", help="polling, the latest digest, feeds and DMs, as /status shows them",
                            description="The last poll and its result, the latest digest, the feeds (of one server with "
                            "--guild) with their last delivery, and how many members cannot receive DMs.")
    status.add_argument("--guild", type=int, help="only this server's feeds")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=run_status)


def _iso(moment: dt.datetime | dt.date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def feed_report(db: Database, guild: int | None) -> list[dict[str, Any]]:
    """Each feed with its state and last delivery, as plain data."""
    store, ledger = FeedStore(db), DeliveryLedger(db)
    feeds = await store.in_guild(guild) if guild is not None else await store.all()
    report = []
    for feed in feeds:
        last = await ledger.latest("channel", feed.id)
        state = "failing" if feed.failing_reason else ("paused" if feed.paused else "active")
        report.append({
            "guild_id": feed.guild_id, "channel_id": feed.channel_id, "categories": feed.categories,
            "include": feed.include, "exclude": feed.exclude,
            "time": feed.post_time.strftime("%H:%M"), "timezone": feed.timezone, "state": state,
            "failing_reason": feed.failing_reason, "failing_since": _iso(feed.failing_since),
            "last_delivery": None if last is None else {
                "digest": _iso(last.date), "state": last.state, "at": _iso(last.updated_at), "error": last.last_error},
        })
    return report


def _feed_line(feed: dict[str, Any]) -> str:
    categories = ", ".join(feed["categories"]) or "all categories"
    filters = "".join(f" · {k}: {feed[k]}" for k in ("include", "exclude") if feed[k])
    state = feed["state"] if feed["state"] != "failing" else f"FAILING since {feed['failing_since']}: {feed['failing_reason']}"
    line = f"server {feed['guild_id']} channel {feed['channel_id']} · {categories}{filters} · {feed['time']} {feed['timezone']} · {state}"
    last = feed["last_delivery"]
    if last is not None:
        line += f"\n    last delivery: digest of {last['digest']}, {last['state']}, {last['at']}"
        if last["error"] and last["state"] != "done":
            line += f": {last['error']}"
    return line


async def run_feeds(args: argparse.Namespace, settings: Settings) -> int:
    """Print the feeds."""
    db = await open_database(settings.database, create=False)
    try:
        report = await feed_report(db, args.guild)
    finally:
        await db.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    if not report:
        print("no feeds" + (f" in server {args.guild}" if args.guild is not None else "") + "; add one with /feed add in Discord")
        return 0
    for feed in report:
        print(_feed_line(feed))
    return 0


async def status_report(db: Database, settings: Settings, guild: int | None) -> dict[str, Any]:
    """What /status shows, as plain data."""
    sources = SourceStateStore(db)
    last, last_good = await sources.last_poll(), await sources.last_poll(ok_only=True)
    latest = await PaperStore(db).latest_digest()
    source = (redact_url(settings.source_url) if settings.source_url else
              str(settings.source_dir) if settings.source_dir else None)
    next_poll = last.finished_at + dt.timedelta(minutes=settings.poll_minutes) if last is not None else None
    return {
        "database": {"path": db.name, "created_at": _iso(await db.created_at()), "problem": db.file_problem()},
        "source": source,
        "last_poll": None if last is None else {
            "at": _iso(last.finished_at), "ok": last.ok, "summary": last.summary, "warning": last.warning},
        "last_successful_poll": _iso(last_good.finished_at) if last_good else None,
        "next_poll_due": _iso(next_poll),
        "latest_digest": None if latest is None else {
            "date": _iso(latest.date), "papers": latest.paper_count, "arrived": _iso(latest.ingested_at)},
        "feeds": await feed_report(db, guild),
        "members_with_failing_dms": await SubscriptionStore(db).dm_failure_count(),
    }


async def run_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print the status."""
    db = await open_database(settings.database, create=False)
    try:
        report = await status_report(db, settings, args.guild)
    finally:
        await db.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    database = report["database"]
    print(f"database:      {database['path']} (created {database['created_at'] or 'at an unknown time'})")
    if database["problem"]:
        print(f"               {database['problem']}")
    print(f"source:        {report['source'] or 'none (polling is off)'}")
    last = report["last_poll"]
    if last is None:
        print("last poll:     none yet")
    else:
        print(f"last poll:     {last['at']}: {'ok' if last['ok'] else 'FAILED'}, {last['summary']}")
        if last["warning"]:
            print(f"               WARNING: {last['warning']}")
        if not last["ok"]:
            print(f"last good:     {report['last_successful_poll'] or 'never'}")
        print(f"next poll due: {report['next_poll_due']} (if the bot is running)")
    latest = report["latest_digest"]
    print(f"latest digest: {latest['date']}, {latest['papers']} papers, arrived {latest['arrived']}" if latest else "latest digest: none yet")
    print(f"feeds:         {len(report['feeds'])}" + (f" in server {args.guild}" if args.guild is not None else ""))
    for feed in report["feeds"]:
        print("  " + _feed_line(feed).replace("\n", "\n  "))
    print(f"DMs:           {report['members_with_failing_dms']} member(s) cannot receive DMs (closed DMs)")
    return 0
