"""`digestbot ingest PATH... [--date D]`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from bot.cli.progress import ProgressBar, wrap
from bot.core.dates import parse_day
from bot.core.errors import DigestError, InvalidInput
from bot.core.settings import Settings
from bot.ingest.batch import IngestBatch
from bot.ingest.digest import DigestLimits, date_from_name
from bot.ingest.files import find_digest_files
from bot.ingest.service import IngestReport, read_path
from storage.engine import open_database
from storage.errors import StorageError
from storage.papers import PaperStore

# What --strict adds to the exit-code rule of `ingest` and `backfill`.
STRICT_HELP = ("exit 1 on repairs too (the warnings: a category or code link dropped, bytes replaced); repeated "
               "entries of one paper, merged into one, never count: they lose nothing")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ingest command."""
    parser = sub.add_parser(
        "ingest",
        help="store digest files (markdown or JSONL) in the database",
        description="Parse digest files, or folders of them, and store their papers. In a folder only files named as "
        "the pipeline names them count (2026-01-23.md, 2026-01-23.jsonl, 2026-01-23_AI_enhanced_Chinese.jsonl). "
        "Each file is one transaction: a broken file is reported and skipped, the rest still land. Days ingested "
        "this way are searchable but never posted to feeds or DMs. Exit code 0 when every paper of every file was "
        "stored: repairs (a malformed category or code link dropped, undecodable bytes replaced) are printed as "
        "warnings, repeated entries of one paper are merged into one. Exit code 1 when a file failed (could not be "
        "read or parsed: nothing of it stored), when a paper was lost (an entry that could not become a paper was "
        "skipped) or when the database failed. With --strict, repairs give 1 too.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="digest files or folders")
    parser.add_argument("--date", help="the digest date (YYYY-MM-DD) of files whose names carry none")
    parser.add_argument("--strict", action="store_true", help=STRICT_HELP)
    parser.set_defaults(handler=run)


def describe(report: IngestReport, shown: str | None = None) -> list[str]:
    """Return the lines printed for one ingested file (each at most 100 columns when printed)."""
    name = shown or report.source
    if report.error is not None:
        error = report.error
        if error.startswith(report.source + ": "):
            error = f"{name}: {error[len(report.source) + 2:]}"
        return [f"FAILED   {error}"]
    assert report.result is not None and report.date is not None
    result = report.result
    if result.already_ingested:
        head = f"{report.date}  {name}: already ingested for this day, nothing changed ({result.papers} papers)"
    else:
        repeats = f", {result.merged_repeats} repeated entries merged" if result.merged_repeats else ""
        head = (f"{report.date}  {name}: {result.papers} papers "
                f"({result.new} new, {result.updated} updated, {result.unchanged} unchanged{repeats})")
    lines = [head]
    lines += [f"    skipped {entry}" for entry in report.skipped.lines()]
    lines += [f"    warning {entry}" for entry in report.warnings.lines()]
    return lines


def _shown_name(path: Path, roots: list[Path]) -> str:
    for root in roots:
        try:
            relative = path.relative_to(root)
        except ValueError:
            continue
        if relative != Path("."):
            return str(relative)
    return str(path)


def _check_dates(files: list[Path], date: dt.date | None) -> None:
    """Refuse --date for a file whose name carries another date: it would merge two days into one."""
    if date is None:
        return
    for path in files:
        try:
            named = date_from_name(path.name)
        except DigestError:
            continue  # reported as that file's error
        if named is not None and named != date:
            raise InvalidInput(f"{path} is named for {named} but --date says {date}; --date is only for files whose "
                               "names carry no date. Ingest the dated files without --date.")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest every digest file named on the command line."""
    date = parse_day(args.date) if args.date else None
    found = find_digest_files(args.paths)
    for problem in found.problems:
        for line in wrap(f"FAILED   {problem}"):
            print(line, file=sys.stderr)
    if not found.files and not found.problems:
        print("no digest files found: in a folder, only names like 2026-01-23.md or "
              "2026-01-23_AI_enhanced_Chinese.jsonl count", file=sys.stderr)
        return 1
    _check_dates(found.files, date)
    limits = DigestLimits(max_bytes=settings.max_digest_bytes, max_papers=settings.max_papers_per_digest)
    roots = [p for p in args.paths if p.is_dir()]
    reports: list[IngestReport] = []
    stopped: str | None = None
    db = await open_database(settings.database, write_wait=settings.db_write_wait_seconds)
    try:
        store = PaperStore(db)
        progress = ProgressBar(len(found.files), "files")
        batch = IngestBatch(store, "ingest")
        shown = {str(path): _shown_name(path, roots) for path in found.files}

        def report_all(done: list[IngestReport]) -> None:
            for report in done:
                reports.append(report)
                for line in describe(report, shown.get(report.source)):
                    progress.print(line, sys.stderr if report.error else sys.stdout)

        try:
            for path in found.files:
                read = await read_path(path, date, limits=limits)
                report_all(await batch.add(read))
                progress.advance(path.name)
            report_all(await batch.flush())
        except StorageError as exc:
            stopped = str(exc)
        progress.clear()
    finally:
        await db.close()
    if stopped is not None:
        for line in wrap(f"FAILED   {stopped}; the {len(found.files) - len(reports)} files not reported above were not "
                         "stored (run the same command again)"):
            print(line, file=sys.stderr)
    print(_summary(reports, len(found.files), found.ignored, settings.database_name))
    faulty = bool(found.problems) or stopped is not None or any(r.at_fault(strict=args.strict) for r in reports)
    return 1 if faulty else 0


def _summary(reports: list[IngestReport], total: int, ignored: int, db_path: str) -> str:
    landed = [r for r in reports if r.landed]
    complete = sum(1 for r in reports if r.complete)
    repaired = sum(1 for r in reports if r.repaired)
    lost = sum(1 for r in reports if r.lost)
    failed = total - len(landed)
    days = sorted({r.date for r in landed if r.date is not None})
    papers: set[str] = set()
    for report in landed:
        papers |= report.paper_ids
    new = sum(r.result.new for r in landed if r.result is not None)
    span = f" ({days[0]} to {days[-1]})" if len(days) > 1 else (f" ({days[0]})" if days else "")
    parts = [f"{total} files: {complete} ingested completely"]
    if repaired:
        parts.append(f"{repaired} with repairs")
    if lost:
        parts.append(f"{lost} with papers lost")
    parts.append(f"{failed} failed")
    summary = ", ".join(parts)
    summary += f"; {len(days)} days{span}; {len(papers):,} distinct papers ({new:,} new) into {db_path}"
    if ignored:
        summary += f"; {ignored} files in the folders are not named like digests and were left alone"
    return summary
