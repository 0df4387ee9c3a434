"""The Discord client: the app-command tree, the commands/ extensions, and its lifecycle."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.app.error_replies import reply_with_error
from bot.app.jobs import Jobs
from bot.app.shards import IDENTIFY_WINDOW, IdentifyPacer, pace_requests
from bot.core.errors import LimitReached
from bot.core.services import Services
from bot.core.settings import Settings
from bot.delivery.alerts import Alerts
from bot.delivery.channels import ChannelDeliveries
from bot.delivery.dms import DirectMessageDeliveries
from bot.i18n.catalogs import CatalogTranslator, catalogs_version
from bot.sources.configured import build_source
from bot.sources.poller import Poller
from bot.worker import tasks as worker_tasks
from bot.worker.pool import WorkerPool
from storage.engine import RunLock
from storage.errors import StorageError
from storage.gateway import IdentifySlots
from storage.members import MemberStore
from storage.meta import MetaStore

log = logging.getLogger(__name__)

# Every module in commands/ that holds slash commands, loaded in setup_hook.
EXTENSIONS = (
    "commands.search",
    "commands.paper",
    "commands.digest",
    "commands.categories",
    "commands.about",
    "commands.feeds",
    "commands.subscriptions",
    "commands.status",
    "commands.stats",
    "commands.paper_actions",
    "commands.reading_list",
    "commands.foryou",
    "commands.similar",
    "commands.privacy",
    "commands.language",
)


def point_at_api(settings: Settings) -> None:
    """Send REST and gateway traffic to DISCORD_API_BASE / DISCORD_GATEWAY_URL when set (tests only)."""
    if settings.api_base:
        discord.http.Route.BASE = settings.api_base
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def amortise_bucket_cleanup(http: discord.http.HTTPClient) -> None:
    """Make discord.py's sweep of idle rate-limit buckets linear over a day's posts instead of quadratic.

    discord.py keeps a bucket per channel (and per thread) it sends to, and once it holds 256 it
    scans every bucket each time a new one appears: a day posted to 10,000 channels (20,000 new
    buckets, threads included) is then 200 million checks. Here the scan runs only when the
    number of buckets has doubled since the last one (or 256 were added), which still removes
    idle buckets but costs a constant amount of work per new bucket.
    """
    buckets = http._buckets
    state = {"after": 256}
    sweep = http._try_clear_expired_ratelimits

    def amortised() -> None:
        if len(buckets) >= state["after"]:
            sweep()
            state["after"] = max(256, len(buckets) * 2, len(buckets) + 256)

    http._try_clear_expired_ratelimits = amortised  # type: ignore[method-assign]


class DigestTree(app_commands.CommandTree["DigestBot"]):
    """The command tree; every command error goes through the one error path."""

    async def on_error(self, interaction: discord.Interaction[DigestBot], error: app_commands.AppCommandError) -> None:
        await reply_with_error(interaction, error)

    async def interaction_check(self, interaction: discord.Interaction[DigestBot], /) -> bool:
        # Any command from a user whose DMs failed is a sign they are back: try DMs again.
        await interaction.client.dm_deliveries.user_came_back(interaction.user.id)
        return True


class DigestBot(commands.AutoShardedBot):
    """arxiv-digest-bot's client: every shard, or process k of n's share of them. Needs no privileged intents."""

    def __init__(self, services: Services, extensions: tuple[str, ...] = EXTENSIONS, run_lock: RunLock | None = None,
                 lock_lost: Callable[[], None] | None = None) -> None:
        # A text-only bot: no voice libraries needed, so no warning about them at every start.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            tree_cls=DigestTree,
            # Digest text is written by an LLM from arXiv text: it must never ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
            chunk_guilds_at_startup=False,
            guild_ready_timeout=0,
            # Only what the bot uses is cached: no message cache, no member cache (memory per server).
            max_messages=None,
            member_cache_flags=discord.MemberCacheFlags.none(),
            # None: as many shards as Discord recommends (GET /gateway/bot), one per 1,000 servers.
            shard_count=services.settings.shards,
        )
        # Process k of n runs the shards with shard % n == k (None: every shard). Set here, not in the
        # constructor: discord.py types `shard_ids` as a list only, yet takes None for "every shard".
        self.shard_ids = services.settings.shard_ids
        amortise_bucket_cleanup(self.http)
        rate = services.settings.requests_per_second
        if rate is not None:
            pace_requests(self.http, rate)
            log.info("sending at most %.1f REST requests a second (DIGESTBOT_REST_RATE)", rate)
        self._run_lock = run_lock
        self._lock_lost = lock_lost
        self.services = services
        self._extensions = extensions
        self.channel_deliveries = ChannelDeliveries(self, services)
        self.alerts = Alerts(self, services)
        self.channel_deliveries.alerts = self.alerts
        # Ranking, charts and exports run in a worker process, started at first use (bot/worker/).
        self.worker = WorkerPool(services.settings, services.settings.worker_processes)
        self.dm_deliveries = DirectMessageDeliveries(self, services, self.worker)
        self._training: asyncio.Task[None] | None = None
        self.jobs: Jobs | None = None
        self._identify_pacer: IdentifyPacer | None = None

    async def setup_hook(self) -> None:
        # A login retried after a network failure runs this again: every step is done once.
        for name in self._extensions:
            if name not in self.extensions:
                await self.load_extension(name)
        if self.tree.translator is None:
            await self.tree.set_translator(CatalogTranslator())
        await self.sync_commands()
        await self.dm_deliveries.load()
        if self.jobs is None:
            source = build_source(self.services.settings, self.services.source_state)
            self.jobs = Jobs(self.services, Poller(self.services, source) if source else None, self.deliver_due, self.is_ready,
                             after_poll=self.alerts.after_poll, run_lock=self._run_lock, lock_lost=self._lock_lost)
            self.jobs.start()

    async def deliver_due(self) -> int:
        """Post every due channel post and DM (the delivery job's work)."""
        posts = await self.channel_deliveries.run_due()
        posts += await self.dm_deliveries.run_due()
        if not self.channel_deliveries.stopping and (self._training is None or self._training.done()):
            # Models of members whose feedback changed learn again, a few per tick, in the worker;
            # the next tick's deliveries do not wait for them.
            self._training = asyncio.create_task(self.train_stale_models())
        return posts

    async def train_stale_models(self, limit: int = 50) -> None:
        """Retrain the models of members whose feedback, list or subscriptions changed, each in its member's slot.

        A member whose slot is busy (their own commands running) waits for a later tick; nobody
        else waits for them.
        """
        done = 0
        try:
            # Each process of several trains its own share of the members.
            stale = await MemberStore(self.services.db).stale_members(limit, self.services.settings.process)
        except StorageError:
            log.warning("cannot read which member models are out of date; trying again at the next tick", exc_info=True)
            return
        for user_id in stale:
            if self.channel_deliveries.stopping:
                return
            if self.worker.waiting(user_id):
                continue
            try:
                await self.worker.run(user_id, worker_tasks.train_member, user_id)
                done += 1
            except LimitReached:
                continue
            except Exception:
                # One line per tick, not one per member: the cause (a full disk, say) is usually shared.
                log.exception("retraining the ranking model of member %d failed; the rest are tried at the next tick", user_id)
                break
        if done:
            log.info("retrained %d member ranking model(s)", done)

    async def close(self) -> None:
        """Stop the jobs (letting a post in flight reach a checkpoint), then disconnect."""
        self.channel_deliveries.stopping = True
        self.dm_deliveries.stopping = True
        if self.jobs is not None:
            await self.jobs.stop()
        if self._training is not None:
            self._training.cancel()
        await self.worker.close()
        await super().close()

    async def sync_commands(self) -> None:
        """Register the slash commands: with one guild when DISCORD_GUILD_ID is set, globally otherwise.

        Skipped when nothing changed since the last start: Discord limits how often commands may
        be re-registered, and a bot that restarts in a loop must not use that up.
        """
        guild_id = self.services.settings.guild_id
        guild = discord.Object(id=guild_id) if guild_id is not None else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        # Keyed on the application too: a new application (a test bot moved to production, a
        # restored backup) starts with no commands registered, whatever this database remembers.
        described = json.dumps(
            {"application": self.application_id, "guild": guild_id, "catalogs": catalogs_version(),
             "commands": [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]}, sort_keys=True
        )
        fingerprint = hashlib.sha256(described.encode()).hexdigest()
        meta = MetaStore(self.services.db)
        if await meta.get("synced_commands") == fingerprint:
            log.info("slash commands unchanged since the last start; not registering them again")
            return
        try:
            synced = await self.tree.sync(guild=guild)
            await meta.set("synced_commands", fingerprint)
            if guild_id is not None:
                log.info("synced %d commands to guild %s", len(synced), guild_id)
            else:
                log.info("synced %d global commands (Discord may take up to an hour to show changes)", len(synced))
        except discord.HTTPException as exc:
            log.error(
                "could not register slash commands (%s %s): was the bot invited with the "
                "applications.commands scope%s?", exc.status, exc.text,
                f" to guild {guild_id}" if guild_id else "",
            )

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Start shards as fast as Discord allows (bot/shards.py), and warn before the daily limit bites."""
        if self._identify_pacer is None:
            try:
                limits = await self.fetch_session_start_limits()
            except (discord.HTTPException, discord.GatewayNotFound) as exc:
                log.warning("could not read Discord's session start limits (%s); starting one shard per 5 s", exc)
                self._identify_pacer = IdentifyPacer(1)
            else:
                self._identify_pacer = IdentifyPacer(limits.max_concurrency)
                # Counted for the whole bot: every process's sessions come out of the same daily allowance.
                shards = self.shard_count or 1
                if limits.remaining < 2 * shards:
                    log.warning("Discord allows %d more gateway sessions today (of %d) and each start of the bot uses %d: a "
                                "restart loop would run out, and Discord then resets the bot's token", limits.remaining,
                                limits.total, shards)
        if self.services.settings.process[1] > 1:
            # Several processes: the slots are booked in the database, so the bot as a whole keeps the pace.
            bucket = (shard_id or 0) % self._identify_pacer.max_concurrency
            try:
                delay = await IdentifySlots(self.services.db).book(bucket, IDENTIFY_WINDOW)
            except StorageError as exc:
                log.warning("could not book a gateway start in the database (%s); waiting a whole window", exc)
                delay = IDENTIFY_WINDOW
            if delay > 0:
                log.debug("shard %s starts in %.1f s (bucket %d, booked with the other processes)", shard_id, delay, bucket)
                await asyncio.sleep(delay)
            return
        await self._identify_pacer.wait(shard_id or 0)

    async def on_shard_ready(self, shard_id: int) -> None:
        log.info("shard %d of %d connected", shard_id, self.shard_count or 1)

    async def on_ready(self) -> None:
        user = self.user
        log.info("connected as %s (%s) to %d servers over %d shard(s)", user, user.id if user else "?", len(self.guilds),
                 self.shard_count or 1)

    async def on_resumed(self) -> None:
        log.info("gateway session resumed")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("unhandled error in event %s", event_method)
