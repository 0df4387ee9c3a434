"""`digestbot db backup PATH | check | vacuum` and `digestbot health`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

from bot.core.settings import Settings
from storage.engine import latest_schema_version, open_database
from storage.errors import StorageError
from storage.sources import SourceStateStore
from storage.sqlite import maintenance


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `db` and `health`."""
    db = sub.add_parser("db", help="back up, check or compact the database", description="Database maintenance. Safe while the bot runs, except vacuum.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.required = True
    backup = db_sub.add_parser("backup", help="copy the live database to PATH, then check the copy",
                               description="Take a consistent copy of the database while the bot keeps running, then run an integrity check on the copy.")
    backup.add_argument("path", type=Path, help="the new backup file (must not exist)")
    backup.set_defaults(handler=run_backup)
    check = db_sub.add_parser("check", help="check integrity, schema version and the search index",
                              description="PRAGMA integrity_check, foreign keys, digest links and the FTS5 index. Exit code 1 on any problem.")
    check.set_defaults(handler=run_check)
    vacuum = db_sub.add_parser("vacuum", help="merge the search index and compact the file (stop the bot first)",
                               description="Optimise the full-text index and VACUUM the file. Needs the database to itself for a while: stop the bot first.")
    vacuum.set_defaults(handler=run_vacuum)

    health = sub.add_parser("health", help="exit 0 when the database is usable and polling is recent",
                            description="For container health checks: exits 0 when the database opens, its migrations are current and the "
                            "last successful poll is recent (DIGESTBOT_MAX_POLL_AGE_HOURS); otherwise prints why and exits 1.")
    health.set_defaults(handler=run_health)


async def run_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Copy and verify (SQLite); say how to on PostgreSQL."""
    if settings.database_url:
        url = settings.database_name
        print(f"{url} is a PostgreSQL database: back it up with the server's own tool, which must be of the server's "
              f"version or newer: pg_dump --format=custom --file={args.path} '{url}' (it reads the password from "
              f"~/.pgpass or PGPASSWORD); restore into an empty database with pg_restore --dbname=URL {args.path}. "
              "Nothing done.", file=sys.stderr)
        return 2
    report, seconds = await asyncio.to_thread(maintenance.backup, settings.db_path, args.path)
    size = args.path.stat().st_size
    if not report.ok:
        print(f"backup written to {args.path} but its check FAILED: {'; '.join(report.problems)}", file=sys.stderr)
        return 1
    print(f"backup of {settings.db_path} written to {args.path} in {seconds:.2f} s ({size / 1e6:.1f} MB, "
          f"{report.papers} papers, {report.digests} digests); integrity check ok")
    return 0


async def run_check(args: argparse.Namespace, settings: Settings) -> int:
    """Check and report."""
    if settings.database_url:
        return await _check_postgres(settings)
    report = await asyncio.to_thread(maintenance.check, settings.db_path)
    if report.ok:
        print(f"{settings.db_path}: ok (schema {report.schema_version}, {report.papers} papers, {report.digests} digests)")
        return 0
    for problem in report.problems:
        print(f"{settings.db_path}: {problem}", file=sys.stderr)
    return 1


async def _check_postgres(settings: Settings) -> int:
    from storage.postgres import maintenance as pg_maintenance

    db = await open_database(settings.database, migrate=False, create=False, readers=1)
    try:
        report = await pg_maintenance.check(db)
    finally:
        await db.close()
    if not report.ok:
        for problem in report.problems:
            print(f"{report.name}: {problem}", file=sys.stderr)
        return 1
    index = "search index not checked (none in this build)" if report.index_rows is None else \
        f"search index {report.index_rows} rows"
    print(f"{report.name}: ok (schema {report.schema_version}, {report.papers} papers, {report.digests} digests, {index}; "
          "pages are the server's to check)")
    return 0


async def run_vacuum(args: argparse.Namespace, settings: Settings) -> int:
    """Compact (SQLite); VACUUM (ANALYZE) on PostgreSQL, which is safe beside the bot."""
    if settings.database_url:
        from storage.postgres import maintenance as pg_maintenance

        before, after = await pg_maintenance.vacuum(settings.database_url, settings.database_name)
        print(f"{settings.database_name}: VACUUM (ANALYZE) done, {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB "
              "(the server's autovacuum does this on its own; VACUUM FULL, which locks each table, gives space back)")
        return 0
    before, after = await asyncio.to_thread(maintenance.vacuum, settings.db_path)
    print(f"{settings.db_path}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    return 0


async def health_problems(settings: Settings, now: dt.datetime) -> tuple[list[str], list[str]]:
    """Every reason the bot is not healthy (empty when it is), and facts worth printing either way."""
    if not settings.database_url and not settings.db_path.exists():
        return [f"database {settings.db_path} does not exist (has the bot started? was it deleted?)"], []
    try:
        db = await open_database(settings.database, migrate=False, create=False, readers=1)
    except StorageError as exc:
        return [str(exc)], []
    problems: list[str] = []
    facts: list[str] = []
    try:
        # SQLite files older than migration 5 did not record when they were made.
        created = await db.created_at() if db.dialect == "postgres" or await db.schema_version() >= 5 else None
        if created is not None:
            facts.append(f"database created {created:%Y-%m-%d %H:%M} UTC")
        version = await db.schema_version()
        latest = latest_schema_version(db.dialect)
        if version != latest:
            problems.append(f"schema version {version}, expected {latest}: migrations not applied")
            return problems, facts
        if db.path is not None:
            problems += _disk_problems(db.path)
        if settings.source_url is None and settings.source_dir is None:
            return problems, facts  # polling is off by choice
        sources = SourceStateStore(db)
        last_any = await sources.last_poll()
        if last_any is not None and last_any.warning:
            problems.append(f"the last poll found the source suspicious: {last_any.warning}")
        last_good = await sources.last_poll(ok_only=True)
        limit = dt.timedelta(hours=settings.max_poll_age_hours)
        if last_good is None:
            detail = f"; the last poll said: {last_any.summary}" if last_any and not last_any.warning else ""
            problems.append(f"no successful poll of the digest source yet{detail}")
        elif now - last_good.finished_at > limit:
            detail = f"; the last poll said: {last_any.summary}" if last_any else ""
            problems.append(f"last successful poll was at {last_good.finished_at:%Y-%m-%d %H:%M} UTC, "
                            f"more than {settings.max_poll_age_hours:g} hours ago{detail}")
        else:
            facts.append(f"last successful poll {last_good.finished_at:%Y-%m-%d %H:%M} UTC")
    finally:
        await db.close(optimize=False)
    return problems, facts


def _disk_problems(path: Path) -> list[str]:
    """A database that cannot be written (read-only file system, full disk) is not healthy."""
    folder = path.resolve().parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return []
    if stats.f_flag & os.ST_RDONLY:
        return [f"cannot write the database: read-only file system at {path}"]
    free = stats.f_bavail * stats.f_frsize
    if free < 1024 * 1024:
        return [f"cannot write the database: disk full at {path} ({free // 1024} KiB free)"]
    if not os.access(folder, os.W_OK) or not os.access(path, os.W_OK):
        return [f"cannot write the database: no write permission at {path}"]
    return []


async def run_health(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 if healthy, else print why and exit 1."""
    from bot.core.services import file_clock, utc_now

    now = file_clock(settings.clock_file)() if settings.clock_file else utc_now()
    problems, facts = await health_problems(settings, now)
    if problems:
        for problem in problems:
            print(f"unhealthy: {problem}", file=sys.stderr)
        for fact in facts:
            print(f"  {fact}", file=sys.stderr)
        return 1
    print("healthy" + (f" ({'; '.join(facts)})" if facts else ""))
    return 0
