"""End-to-end harness: the real bot as a separate process, against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakediscord import Channel, FakeDiscord, Guild, InteractionRecord, Reply, User
from tests.postgres_server import is_postgres_url

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    """`python -m bot run` with its settings pointing at the fake Discord and a real database.

    The database is a SQLite file (`DIGESTBOT_DB`) or a PostgreSQL URL (`DIGESTBOT_DATABASE_URL`);
    `db` is either, ready for `query()`.
    """

    def __init__(self, fake: FakeDiscord, db_path: Path | str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.fake = fake
        self.db_url: str | None = str(db_path) if is_postgres_url(db_path) else None
        self.db_path: Path | None = None if self.db_url else Path(db_path)
        self.log_path = log_path
        self.extra_env = env or {}
        self.process: asyncio.subprocess.Process | None = None

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "DISCORD_"))}
        env.update({
            "DISCORD_TOKEN": self.fake.token,
            "DISCORD_API_BASE": self.fake.api_base,
            "DISCORD_GATEWAY_URL": self.fake.gateway_url,
            **({"DIGESTBOT_DATABASE_URL": self.db_url} if self.db_url else {"DIGESTBOT_DB": str(self.db_path)}),
            "DIGESTBOT_LOG_LEVEL": "DEBUG",
            # No remote polling unless a test serves a source.
            "DIGESTBOT_SOURCE_URL": "off",
            # Tests run many commands as one member; the limits have a test of their own.
            "DIGESTBOT_COOLDOWN_SCALE": "0",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    async def launch(self) -> None:
        """Start the process and return at once (`start` also waits until the bot is ready)."""
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command(), cwd=str(ROOT), env=self.environment(),
                stdout=log, stderr=log,
            )

    async def start(self, timeout: float = 20.0) -> None:
        """Start the bot and wait until every shard of the bot is ready (with other processes: theirs too)."""
        self.fake.gateway.ready.clear()
        self.fake.commands_synced.clear()
        await self.launch()
        assert self.process is not None
        try:
            await asyncio.wait_for(self._until_ready(), timeout)
        except BaseException as exc:
            # Never leave a half-started bot behind (it would keep the database and a port busy).
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            if isinstance(exc, TimeoutError):
                raise AssertionError(f"bot did not become ready; log:\n{self.log()[-4000:]}") from None
            raise

    async def _until_ready(self) -> None:
        assert self.process is not None
        # A restart over the same database finds its commands registered already and skips the sync.
        synced = self.fake.commands_synced.wait() if not self.fake.commands else asyncio.sleep(0)
        ready = asyncio.ensure_future(asyncio.gather(self.fake.gateway.ready.wait(), synced))
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        if exited in done:
            ready.cancel()
            raise AssertionError(f"bot exited with {self.process.returncode}; log:\n{self.log()[-4000:]}")
        exited.cancel()

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the bot and wait for it to exit; return its exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        # Every end-to-end run checks that the token never reached the log, whatever happened.
        assert self.fake.token not in self.log(), "the Discord token appeared in the bot's log"
        return code

    @property
    def db(self) -> Path | str:
        """The bot's database: its SQLite file, or its PostgreSQL URL."""
        if self.db_url:
            return self.db_url
        assert self.db_path is not None
        return self.db_path

    def owns_port(self, port: int) -> bool:
        """Whether this process holds a TCP socket bound to local `port` (Linux /proc): a request's sender."""
        assert self.process is not None
        inodes = set()
        fds = Path(f"/proc/{self.process.pid}/fd")
        for fd in fds.iterdir() if fds.exists() else []:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                    return True
        return False

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def command(self) -> list[str]:
        """The command line of the bot process."""
        return [sys.executable, "-m", "bot", "run"]


@dataclass
class World:
    """A fake Discord with one server, its people and channels, and the bot running against it."""

    fake: FakeDiscord
    bot: BotProcess
    guild: Guild
    channel: Channel
    owner: User
    member: User
    stranger: User
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def db(self) -> Path | str:
        """The bot's database (a SQLite file or a PostgreSQL URL), for `query(world.db, ...)`."""
        return self.bot.db

    async def run(self, user: User, name: str, options: dict[str, object] | None = None, *,
                  channel: Channel | None = None, subcommand: str | None = None, in_dm: bool = False) -> Reply:
        """Run a slash command as `user` in the main channel (or a DM) and return the reply."""
        record = await self.send(user, name, options, channel=channel, subcommand=subcommand, in_dm=in_dm)
        return await self.fake.reply(record)

    async def send(self, user: User, name: str, options: dict[str, object] | None = None, *,
                   channel: Channel | None = None, subcommand: str | None = None, in_dm: bool = False) -> InteractionRecord:
        if in_dm:
            return await self.fake.slash(user, name, options, channel=self.fake.dm_channel(user), subcommand=subcommand)
        return await self.fake.slash(user, name, options, channel=channel or self.channel, guild=self.guild, subcommand=subcommand)

    async def autocomplete(self, user: User, name: str, options: dict[str, object], focused: str, *,
                           subcommand: str | None = None, in_dm: bool = False) -> list[dict[str, object]]:
        guild = None if in_dm else self.guild
        channel = self.fake.dm_channel(user) if in_dm else self.channel
        record = await self.fake.slash(user, name, options, channel=channel, guild=guild, subcommand=subcommand, focused=focused)
        reply = await self.fake.reply(record)
        assert reply.choices is not None
        return reply.choices

    async def click(self, user: User, reply: Reply, custom_id: str, values: list[str] | None = None) -> Reply:
        assert reply.message is not None
        record = await self.fake.click(user, reply.message, custom_id, values)
        return await self.fake.reply(record)


def build_world(fake: FakeDiscord, db_path: Path | str, log_path: Path, env: dict[str, str] | None = None) -> World:
    """The usual cast: a server owned by `owner`, a plain `member`, and a `stranger`."""
    owner = fake.add_user("alice")
    member = fake.add_user("bob")
    stranger = fake.add_user("carol")
    guild = fake.add_guild("Reading Group", owner)
    fake.add_member(guild, member)
    fake.add_member(guild, stranger)
    channel = fake.add_channel(guild, "papers")
    bot = BotProcess(fake, db_path, log_path, env)
    return World(fake, bot, guild, channel, owner, member, stranger)


class Clock:
    """The bot's clock, moved by rewriting DIGESTBOT_CLOCK_FILE (no sleeping through real hours)."""

    def __init__(self, path: Path, start: str) -> None:
        self.path = path
        self.set(start)

    def set(self, moment: str) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(moment, encoding="utf-8")
        tmp.replace(self.path)


async def eventually(condition: Callable[[], bool], timeout: float = 15.0, interval: float = 0.05) -> None:
    """Wait until `condition()` is true (checking every `interval`), or fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def query(db_path: Path | str, sql: str, params: tuple[object, ...] | dict[str, object] = ()) -> list[tuple[Any, ...]]:
    """Read the bot's database directly, as an operator would: sqlite3 on a file, psycopg on a postgresql:// URL.

    The statement has SQLite's placeholders (`?`, `:name`) on either engine; rows are plain tuples.
    Values come back as each engine gives them (PostgreSQL: bool, datetime, ... where SQLite has int, str).
    """
    if is_postgres_url(db_path):
        return _query_postgres(str(db_path), sql, params)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _query_postgres(url: str, sql: str, params: tuple[object, ...] | dict[str, object]) -> list[tuple[Any, ...]]:
    import psycopg

    from storage.postgres.dialect import to_pyformat

    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.read_only = True
        # Parameters always passed (even none): psycopg reads `%%` only when it formats.
        rows = conn.execute(to_pyformat(sql), params).fetchall()
        conn.rollback()
    return [tuple(row) for row in rows]
