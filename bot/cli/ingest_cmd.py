"""`digestbot ingest PATH... [--date D]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.progress import ProgressBar
from bot.dates import parse_day
from bot.ingest.digest import find_digest_files
from bot.ingest.service import IngestReport, ingest_path
from bot.settings import Settings
from storage.db import Database
from storage.papers import PaperStore


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ingest command."""
    parser = sub.add_parser(
        "ingest",
        help="store digest files (markdown or JSONL) in the database",
        description="Parse digest files or folders of them and store their papers. Each digest is one "
        "transaction: a broken digest is reported and skipped, the rest still land. "
        "Exit code 0 only when everything was ingested.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="digest files or folders")
    parser.add_argument("--date", help="the digest date (YYYY-MM-DD) when file names carry none")
    parser.set_defaults(handler=run)


def describe(report: IngestReport) -> list[str]:
    """Return the lines printed for one ingested digest."""
    if report.error is not None:
        return [f"FAILED   {report.error}"]
    assert report.result is not None
    result = report.result
    if result.already_ingested:
        head = f"{result.date}  {report.source}: already ingested, nothing changed ({result.papers} papers)"
    else:
        repeats = f", {result.merged_repeats} repeated entries merged" if result.merged_repeats else ""
        head = (
            f"{result.date}  {report.source}: {result.papers} papers "
            f"({result.new} new, {result.updated} updated, {result.unchanged} unchanged{repeats})"
        )
    lines = [head]
    lines += [f"    skipped {entry}" for entry in report.skipped]
    lines += [f"    warning {entry}" for entry in report.warnings]
    return lines


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest every digest file named on the command line."""
    date = parse_day(args.date) if args.date else None
    missing = [p for p in args.paths if not p.exists()]
    for path in missing:
        print(f"FAILED   {path}: no such file or folder", file=sys.stderr)
    files = find_digest_files([p for p in args.paths if p.exists()])
    if not files and not missing:
        print("no digest files found (looked for *.md, *.jsonl, *.txt)", file=sys.stderr)
        return 1
    db = await Database.open(settings.db_path)
    complete = 0
    papers = 0
    try:
        store = PaperStore(db)
        progress = ProgressBar(len(files), "digests")
        for path in files:
            report = await ingest_path(store, path, date)
            for line in describe(report):
                progress.print(line, sys.stderr if report.error else sys.stdout)
            complete += report.complete
            if report.result is not None:
                papers += report.result.papers
            progress.advance(path.name)
        progress.clear()
    finally:
        await db.close()
    total = len(files) + len(missing)
    print(f"{complete} of {total} digests fully ingested, {papers} papers, into {settings.db_path}")
    return 0 if complete == total else 1
