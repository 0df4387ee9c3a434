"""`digestbot backfill --since D [--until D]`: fetch a range of days from the data branch and ingest them."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass, field

from bot.cli.ingest_cmd import STRICT_HELP, describe
from bot.cli.progress import ProgressBar, wrap
from bot.core.dates import parse_day
from bot.core.errors import InvalidInput
from bot.core.settings import Settings
from bot.ingest.batch import IngestBatch
from bot.ingest.digest import DigestLimits
from bot.ingest.service import IngestReport, read_bytes
from bot.sources.remote import RemoteBranchSource
from storage.engine import open_database
from storage.errors import StorageError
from storage.papers import PaperStore
from storage.sources import SourceStateStore

MAX_DAYS = 3660


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the backfill command."""
    parser = sub.add_parser(
        "backfill",
        help="fetch and ingest a range of days from the data branch (DIGESTBOT_SOURCE_URL)",
        description="Fetch every file of each day from --since to --until (default: today) from the configured data "
        "branch (the raw JSONL, the markdown and the AI JSONL, as a folder ingest of a clone reads them) and ingest "
        "them. Days with no file (404, e.g. weekends) are listed. Days fetched this way are stored and searchable but "
        "never posted to feeds or DMs, even while the bot runs, even today's (use /feed send-now for that). "
        "A day failed when one of its files could not be fetched or parsed. Exit code 0 when every paper of every "
        "file fetched was stored: repairs (a malformed category or code link dropped, undecodable bytes replaced) are "
        "printed as warnings, repeated entries of one paper are merged into one. Exit code 1 when a day failed, when a "
        "paper was lost (an entry that could not become a paper was skipped), when the database failed, or when no "
        "day of the range exists at the source at all (check the URL). With --strict, repairs give 1 too.",
    )
    parser.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")
    parser.add_argument("--strict", action="store_true", help=STRICT_HELP)
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
    limits = DigestLimits(max_bytes=settings.max_digest_bytes, max_papers=settings.max_papers_per_digest)
    db = await open_database(settings.database, write_wait=settings.db_write_wait_seconds)
    missing = 0
    stopped: str | None = None
    fetch_failed: set[dt.date] = set()
    day_reports: dict[dt.date, list[IngestReport]] = {}
    try:
        store = PaperStore(db)
        source = RemoteBranchSource(settings.source_url, settings.source_language, SourceStateStore(db),
                                    backoff=settings.source_retry_seconds, limits=limits,
                                    redirect_hosts=settings.source_redirect_hosts)
        progress = ProgressBar(days, "days")
        batch = IngestBatch(store, "backfill")

        def report_all(done: list[IngestReport]) -> None:
            for report in done:
                if report.date is not None:
                    day_reports.setdefault(report.date, []).append(report)
                for line in describe(report, report.source.rsplit("/", 1)[-1]):
                    progress.print(line, sys.stderr if report.error else sys.stdout)

        try:
            for offset in range(days):
                day = since + dt.timedelta(days=offset)
                result = await source.fetch_day(day)
                for error in result.errors:
                    progress.print(f"FAILED   {day}: {error}", sys.stderr)
                    fetch_failed.add(day)
                if not result.published and not result.errors:
                    missing += 1
                    progress.print(f"{day}  not published (404)")
                for fetched in result.files:
                    assert fetched.data is not None
                    read = await read_bytes(fetched.name, fetched.data, fetched.date, limits=limits)
                    if isinstance(read, IngestReport):
                        read.date = fetched.date  # a failed file still belongs to its day
                    report_all(await batch.add(read))
                progress.advance(day.isoformat())
            report_all(await batch.flush())
        except StorageError as exc:
            stopped = str(exc)
        progress.clear()
    finally:
        await db.close()
    where = source.describe()
    if stopped is not None:
        for line in wrap(f"FAILED   {stopped}; backfill stopped"):
            print(line, file=sys.stderr)
        return 1
    tally = _tally(day_reports, fetch_failed)
    print(f"{tally.stored} days stored ({tally.exact} exactly as written, {tally.repaired} with repairs, "
          f"{tally.lost} with papers lost), {len(tally.failed)} failed, {missing} not published; {tally.files} files, "
          f"{len(tally.papers):,} distinct papers, from {where} into {settings.database_name}")
    if missing == days:
        print(f"nothing exists at {where} for any day from {since} to {until}: check DIGESTBOT_SOURCE_URL "
              f"(the raw base URL of a fork's data branch) and DIGESTBOT_SOURCE_LANGUAGE ({settings.source_language})",
              file=sys.stderr)
        return 1
    faulty = tally.failed or tally.lost or (args.strict and tally.repaired)
    return 1 if faulty else 0


@dataclass(slots=True)
class _Tally:
    """The days of a backfill by what happened to them; each day published is in exactly one count."""

    exact: int = 0  # every file stored as written
    repaired: int = 0  # every paper stored, something repaired (a category, link or byte)
    lost: int = 0  # every file stored, but entries that could not become papers were skipped
    failed: set[dt.date] = field(default_factory=set)  # a file could not be fetched or parsed
    files: int = 0
    papers: set[str] = field(default_factory=set)

    @property
    def stored(self) -> int:
        return self.exact + self.repaired + self.lost


def _tally(day_reports: dict[dt.date, list[IngestReport]], fetch_failed: set[dt.date]) -> _Tally:
    tally = _Tally(failed=set(fetch_failed))
    for day, reports in day_reports.items():
        tally.files += sum(r.landed for r in reports)
        for report in reports:
            tally.papers |= report.paper_ids
        if day in fetch_failed or any(not r.landed for r in reports):
            tally.failed.add(day)
        elif any(r.lost for r in reports):
            tally.lost += 1
        elif any(r.repaired for r in reports):
            tally.repaired += 1
        else:
            tally.exact += 1
    return tally
