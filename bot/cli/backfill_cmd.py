"""`digestbot backfill --since D [--until D]`: fetch a range of days from the data branch and ingest them."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.cli.ingest_cmd import describe
from bot.cli.progress import ProgressBar
from bot.dates import parse_day
from bot.errors import InvalidInput
from bot.ingest.service import ingest_bytes
from bot.settings import Settings
from bot.sources import RemoteBranchSource
from storage.db import Database
from storage.papers import PaperStore
from storage.sources import SourceStateStore

MAX_DAYS = 3660


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the backfill command."""
    parser = sub.add_parser(
        "backfill",
        help="fetch and ingest a range of days from the data branch (DIGESTBOT_SOURCE_URL)",
        description="Fetch each day from --since to --until (default: today) from the configured data branch "
        "and ingest it. Days not published (404, e.g. weekends) are listed and are not errors. Old days "
        "fetched this way are stored and searchable but never posted to feeds.",
    )
    parser.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch and ingest every day of the range."""
    today = dt.datetime.now(dt.UTC).date()
    since = parse_day(args.since, today)
    until = parse_day(args.until, today) if args.until else today
    if until < since:
        raise InvalidInput(f"--until {until} is before --since {since}.")
    days = (until - since).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(f"{days} days is more than {MAX_DAYS}; backfill a shorter range at a time.")
    if not settings.source_url:
        raise InvalidInput("backfill needs a data branch: set DIGESTBOT_SOURCE_URL (for a local folder use `digestbot ingest FOLDER`).")
    db = await Database.open(settings.db_path)
    failures = stored = missing = 0
    try:
        store = PaperStore(db)
        source = RemoteBranchSource(settings.source_url, settings.source_language, SourceStateStore(db),
                                    backoff=settings.source_retry_seconds)
        progress = ProgressBar(days, "days")
        for offset in range(days):
            day = since + dt.timedelta(days=offset)
            outcome = await source.fetch_day(day)
            for error in outcome.errors:
                failures += 1
                progress.print(f"FAILED   {day}: {error}", sys.stderr)
            if not outcome.digests and not outcome.errors:
                missing += 1
                progress.print(f"{day}  not published (404)")
            for fetched in outcome.digests:
                report = await ingest_bytes(store, fetched.name, fetched.data, fetched.date)
                for line in describe(report):
                    progress.print(line, sys.stderr if report.error else sys.stdout)
                if report.complete:
                    stored += 1
                else:
                    failures += 1
            progress.advance(day.isoformat())
        progress.clear()
    finally:
        await db.close()
    print(f"{stored} days ingested, {missing} not published, {failures} failed, from {source.describe()} into {settings.db_path}")
    return 0 if failures == 0 else 1
