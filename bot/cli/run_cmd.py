"""`digestbot run`: start the bot and keep it running until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

import aiohttp
import discord

from bot.app.client import DigestBot, point_at_api
from bot.core.services import Services
from bot.core.settings import TOKEN_HELP, Settings
from storage.engine import RunLock, run_lock

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the run command."""
    parser = sub.add_parser(
        "run",
        help="start the Discord bot (needs DISCORD_TOKEN)",
        description="Connect to Discord, register the slash commands and serve them until stopped "
        "with Ctrl-C or SIGTERM. The database (DIGESTBOT_DB) is created if missing. One bot serves one "
        "SQLite database: a second `run` on the same file is refused with exit code 1 while the first holds the "
        "lock file beside it (bot.sqlite3.run.lock for bot.sqlite3); ingest, backfill, status and the other "
        "commands work beside a running bot. On PostgreSQL several processes can serve one bot (DIGESTBOT_PROCESS=k/n, "
        "each the shards with shard %% n == k): one of them polls, each post is made by one. A second process with the "
        "same index is refused with exit code 1. Exit code 0 after a signal, 2 when DISCORD_TOKEN is missing or refused.",
    )
    parser.set_defaults(handler=run)


async def login_until_reachable(bot: DigestBot, token: str, stop: asyncio.Event) -> bool:
    """Log in, waiting out a Discord (or network) that cannot be reached: one line per try, growing waits.

    Returns False when a signal arrived first. A refused token is not retried (LoginFailure).
    """
    delay = 1.0
    while not stop.is_set():
        try:
            await bot.login(token)
            return True
        except (aiohttp.ClientError, OSError, discord.DiscordServerError) as exc:
            reason = f"HTTP {exc.status}" if isinstance(exc, discord.DiscordServerError) else (str(exc) or type(exc).__name__)
            log.error("cannot reach Discord at %s: %s; trying again in %.0f s", discord.http.Route.BASE, reason, delay)
            # Start the next try with a fresh HTTP session (the failed one is closed with its connector).
            await bot.http.close()
            bot.http.connector = discord.utils.MISSING
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            pass
        delay = min(delay * 2, 300.0)
    return False


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until a signal arrives or Discord refuses us; refuse when another bot serves the database."""
    token = settings.require_token()
    settings.check_processes()
    point_at_api(settings)
    # Before the database is even opened: a second bot on one database (or a second process of one
    # index) would poll and deliver twice.
    lock = run_lock(settings.database, settings.process, settings.shards)
    await lock.acquire()  # RunLockHeld says who holds it; the command line prints it and exits 1
    try:
        return await _serve(token, settings, lock)
    finally:
        await lock.release()


async def _serve(token: str, settings: Settings, lock: RunLock) -> int:
    services = await Services.open(settings)
    if services.db.created:
        log.warning(
            "created a NEW, EMPTY database at %s. If you expected existing papers, feeds and subscriptions, stop the bot "
            "now and check DIGESTBOT_DB (or restore a backup); /status and `digestbot health` show when it was created.",
            settings.database_name if settings.database_url else settings.db_path.resolve(),
        )
    stop = asyncio.Event()
    lost: list[bool] = []

    def lock_lost() -> None:
        lost.append(True)
        stop.set()

    bot = DigestBot(services, run_lock=lock, lock_lost=lock_lost)
    if settings.process[1] > 1:
        log.info("process %d of %d: gateway shards %s of %d", *settings.process, settings.shard_ids, settings.shards)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("starting with database %s", settings.database_name)
    try:
        async with bot:
            if not await login_until_reachable(bot, token, stop):
                log.info("stopping: signal received before Discord could be reached")
                await bot.close()
                return 0
            runner = asyncio.create_task(bot.connect(reconnect=True))
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                log.info("stopping: its locks were lost" if lost else "stopping: signal received")
            await bot.close()
            stopper.cancel()
            if runner in done:
                runner.result()  # re-raise why the client stopped
            else:
                await asyncio.wait({runner}, timeout=10)
    except discord.LoginFailure:
        print(f"digestbot run: Discord refused DISCORD_TOKEN (401 Unauthorized). {TOKEN_HELP}", file=sys.stderr)
        return 2
    except discord.PrivilegedIntentsRequired:
        print("digestbot run: Discord refused a privileged intent; this bot needs none. Please report this.", file=sys.stderr)
        return 2
    finally:
        await services.close()
        log.info("stopped; database closed")
    return 1 if lost else 0
