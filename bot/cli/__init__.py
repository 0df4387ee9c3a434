"""The `digestbot` command line: every subcommand is one module in this package."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.app.memory import return_large_blocks
from bot.cli import backfill_cmd, db_cmd, ingest_cmd, operator_cmd, query_cmd, report_cmd, run_cmd
from bot.core.errors import DigestBotError
from bot.core.logs import setup_logging
from bot.core.settings import Settings
from storage.errors import StorageError
from storage.sqlite.library import disable_memory_statistics
from storage.urls import database_url_secrets, url_secrets

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every digestbot subcommand."""
    parser = argparse.ArgumentParser(
        prog="digestbot",
        description="arxiv-digest-bot: daily-arXiv-ai-enhanced digests in Discord. Settings come from "
        "the environment (DIGESTBOT_DB, DISCORD_TOKEN, ...) and an optional digestbot.toml.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--db", metavar="PATH", help="the SQLite database file, for this command (overrides DIGESTBOT_DB)")
    parser.add_argument("--db-url", metavar="URL", help="a PostgreSQL database, for this command (overrides "
                        "DIGESTBOT_DATABASE_URL): postgresql://user:password@host/db")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    run_cmd.add_parser(sub)
    ingest_cmd.add_parser(sub)
    backfill_cmd.add_parser(sub)
    query_cmd.add_parsers(sub)
    db_cmd.add_parsers(sub)
    report_cmd.add_parsers(sub)
    operator_cmd.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one digestbot command and return its exit code."""
    # Everything the bot writes (the database, its WAL, backups, rescue copies) is for its user only.
    os.umask(0o077)
    # Before any connection opens: lets reader threads run in parallel (storage/sqlite_setup.py).
    disable_memory_statistics()
    # Large blocks (a search's doclists) go back to the system when freed (bot/memory.py).
    return_large_blocks()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.load()
    except DigestBotError as exc:
        print(f"digestbot: {exc.message}", file=sys.stderr)
        return 2
    if args.db:
        # --db picks the SQLite file: it wins over a DIGESTBOT_DATABASE_URL from the environment.
        settings = dataclasses.replace(settings, db_path=Path(args.db), database_url=None,
                                       origins={**settings.origins, "db_path": "command line --db"})
    if args.db_url:
        if not args.db_url.startswith(("postgresql://", "postgres://")):
            print("digestbot: --db-url must be a PostgreSQL URL: postgresql://user:password@host:5432/database", file=sys.stderr)
            return 2
        settings = dataclasses.replace(settings, database_url=args.db_url,
                                       origins={**settings.origins, "database_url": "command line --db-url"})
    # Commands other than `run` print their own report; the log adds only warnings.
    level = settings.log_level if args.command == "run" else max(logging.getLevelName(settings.log_level), logging.WARNING)
    # The token and any credentials in the source URL never reach the log.
    secrets = [settings.discord_token or "", *url_secrets(settings.source_url),
               *database_url_secrets(settings.database_url), *database_url_secrets(getattr(args, "url", None))]  # migrate-to
    setup_logging(logging.getLevelName(level) if isinstance(level, int) else level, secrets, settings.log_format)
    try:
        return int(asyncio.run(args.handler(args, settings)))
    except DigestBotError as exc:
        print(f"digestbot {args.command}: {exc.message}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"digestbot {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `digestbot stats | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
