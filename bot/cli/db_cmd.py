"""`digestbot db backup PATH | check | vacuum | migrate-to URL` and `digestbot health`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import os
import sys
import threading
import time
from pathlib import Path

from bot.cli.progress import ProgressBar
from bot.core.settings import Settings
from storage.engine import is_postgres, latest_schema_version, open_database
from storage.errors import StorageError
from storage.search import rebuild_search_index
from storage.sources import SourceStateStore
from storage.sqlite import maintenance


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `db` and `health`."""
    db = sub.add_parser("db", help="back up, check, compact or move the database",
                        description="Database maintenance. Safe while the bot runs, except vacuum (on SQLite) and migrate-to.")
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
    reindex = db_sub.add_parser("reindex", help="build the search index anew from the stored papers",
                                description="Index every stored paper again, in one transaction (searches keep the old index until it "
                                "commits). For when db check reports the search index and the papers disagree.")
    reindex.set_defaults(handler=run_reindex)
    migrate = db_sub.add_parser(
        "migrate-to", help="copy the SQLite database into an empty PostgreSQL database (stop the bot first)",
        description="Copy every table of the SQLite database (--db or DIGESTBOT_DB) into the PostgreSQL database at "
        "URL, which must be empty (createdb): ids kept, the search index rebuilt, the rows of every table counted on "
        "both sides. Stop the bot first: a running bot keeps writing (refused while it runs). Interrupted, the same "
        "command goes on where it stopped. Exit code 0 when every count matches. Then set DIGESTBOT_DATABASE_URL=URL.")
    migrate.add_argument("url", metavar="URL", help="postgresql://user:password@host:5432/database")
    migrate.add_argument("--restart", action="store_true",
                         help="empty an unfinished copy whose SQLite file changed since, and copy again")
    migrate.set_defaults(handler=run_migrate)

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
    print(f"{report.name}: ok (schema {report.schema_version}, {report.papers} papers, {report.digests} digests, "
          f"{report.index_rows} papers in the search index; pages are the server's to check)")
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


async def run_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the full-text index on either engine."""
    db = await open_database(settings.database, create=False, readers=1)
    try:
        began = time.perf_counter()
        done = await rebuild_search_index(db)
    finally:
        await db.close()
    print(f"{settings.database_name}: {done} papers indexed in {time.perf_counter() - began:.1f} s")
    return 0


async def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the SQLite file into PostgreSQL, rebuild the index, count (see storage/migrate.py)."""
    from storage.migrate import source_locks
    from storage.postgres.dialect import shown_url

    if not is_postgres(args.url):
        print("digestbot db migrate-to: URL must be a PostgreSQL URL: postgresql://user:password@host:5432/database",
              file=sys.stderr)
        return 2
    source = settings.db_path
    if not source.exists():
        raise StorageError(f"database {source} does not exist; give the SQLite file to copy with --db or DIGESTBOT_DB")
    with source_locks(source):
        target = await open_database(args.url, readers=1)  # the schema, by the project's own migrations
        await target.close()
        # In a thread (the event loop stays free for Ctrl-C), which stops at the next batch once asked to.
        stop = threading.Event()
        work = asyncio.ensure_future(asyncio.to_thread(_copy, source, args.url, shown_url(args.url), args.restart, stop))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            stop.set()
            return await work


class _Stopped(Exception):
    """Ctrl-C, seen by the copy between two batches."""


def _copy(source: Path, url: str, where: str, restart: bool, stop: threading.Event) -> int:
    from storage.migrate import TABLES, SqliteToPostgres

    copy = SqliteToPostgres(source, url)
    try:
        copy.check_source()
        progress = copy.plan(restart=restart)
        print(f"copying {source} into {where}")
        if progress.finished_at is not None:
            print(f"this copy finished {progress.finished_at}; counting the rows again")
        elif copy.resumed:
            print(f"going on with the copy begun {progress.started_at}: {len(copy.resumed)} of {len(TABLES)} tables "
                  "were copied before")
        pending = copy.pending()
        bar = ProgressBar(sum(rows for _, rows in pending), "rows")

        def advance(table: str, rows: int) -> None:
            bar.advance(table, rows)
            if stop.is_set():
                raise _Stopped

        started = time.perf_counter()
        done = 0
        try:
            for table, _ in pending:
                if stop.is_set():
                    raise _Stopped
                copy.copy_table(table, functools.partial(advance, table))
                done += 1
        except _Stopped:
            bar.clear()
            print(f"interrupted: {len(copy.resumed) + done} of {len(TABLES)} tables copied, the one in progress "
                  "rolled back; run the same command again to go on", file=sys.stderr)
            return 130
        except StorageError as exc:
            bar.clear()
            print(f"digestbot db migrate-to: {exc}", file=sys.stderr)
            print(f"the {len(copy.resumed) + done} tables before it are copied; run the same command again to go on",
                  file=sys.stderr)
            return 1
        bar.clear()
        print(f"copied {sum(rows for _, rows in pending)} rows of {done} tables in {time.perf_counter() - started:.1f} s")
        begun = time.perf_counter()
        copy.rebuild_index()
        print(f"search index rebuilt in {time.perf_counter() - begun:.1f} s")
        counts = copy.counts()
        print(f"{'table':<20} {'SQLite rows':>12} {'PostgreSQL rows':>16}  ok")
        for count in counts:
            print(f"{count.table:<20} {count.sqlite:>12} {count.postgres:>16}  {'ok' if count.ok else 'DIFFERENT'}")
        wrong = [count.table for count in counts if not count.ok]
        if wrong:
            why = ("PostgreSQL changed since the copy finished (the bot ran on it?)" if progress.finished_at is not None
                   else "run again with --restart to copy afresh")
            print(f"row counts differ for {', '.join(wrong)}: {why}", file=sys.stderr)
            return 1
        copy.finish()
        print(f"every count matches; point the bot at it: DIGESTBOT_DATABASE_URL='{where}' (with its password)")
        return 0
    finally:
        copy.close()


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
