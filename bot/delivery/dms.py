"""Personal DMs: match each new digest against every subscription and DM each user once, at their time."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import discord

from bot.core.services import Services
from bot.delivery.channels import LOOKBACK_DAYS, in_turn
from bot.delivery.destinations import DirectMessageDestination
from bot.delivery.executor import PostPlan, ShuttingDown, carry_out
from bot.delivery.failures import Outcome, settle_failure
from bot.delivery.schedule import due_at
from bot.i18n.catalogs import ENGLISH
from bot.ranking.matching import UserMatches, match_digest
from bot.render.dm import render_matches_shown
from bot.render.paper_controls import paper_menus
from bot.worker.ordering import order_by_models
from bot.worker.pool import WorkerPool
from storage.ledger import DM, ClaimLost, Delivery, DeliveryGone
from storage.members import MemberStore
from storage.records import DigestInfo
from storage.subscriptions import UserSettings

log = logging.getLogger(__name__)


class DirectMessageDeliveries:
    """Matches digests to subscriptions (cached per digest) and DMs the results through the ledger."""

    def __init__(self, client: discord.Client, services: Services, worker: WorkerPool | None = None) -> None:
        self.client = client
        self.services = services
        self.worker = worker
        self.stopping = False
        self._lock = asyncio.Lock()
        self._matches: dict[int, tuple[int, int, dict[int, UserMatches]]] = {}
        self.failing: set[int] = set()
        # Why a returning user's DMs had failed, shown once by /subscriptions.
        self.cleared: dict[int, UserSettings] = {}

    async def load(self) -> None:
        """Remember which users' DMs are failing (checked on every interaction)."""
        self.failing = await self.services.subscriptions.failing_users()

    async def user_came_back(self, user_id: int) -> None:
        """A user whose DMs failed ran a command: try their DMs again (and keep the reason to show them)."""
        if user_id in self.failing:
            self.failing.discard(user_id)
            before = await self.services.subscriptions.settings(user_id)
            if await self.services.subscriptions.clear_dm_failure(user_id, self.services.clock()):
                if before is not None:
                    self.cleared[user_id] = before
                log.info("user %d used a command again; DMs will be tried again", user_id)

    async def matches_for(self, digest: DigestInfo) -> dict[int, UserMatches]:
        """Every user's matches in a digest; recomputed only when subscriptions or the digest change."""
        version = await self.services.subscriptions.version()
        cached = self._matches.get(digest.id)
        if cached is not None and cached[0] == version and cached[1] == digest.paper_count:
            return cached[2]
        entries = await self.services.papers.digest_entries(digest.date)
        groups = await self.services.subscriptions.matching_groups()
        started = dt.datetime.now(dt.UTC)
        matches = await asyncio.to_thread(match_digest, entries, groups)
        log.info("matched %d subscriptions (%d distinct) against the digest of %s (%d papers): %d users have papers (%.2f s)",
                 sum(len(g.user_ids) for g in groups), len(groups), digest.date, len(entries), len(matches),
                 (dt.datetime.now(dt.UTC) - started).total_seconds())
        if len(self._matches) >= 16:
            self._matches.clear()  # only the last few days are ever due; never grow without bound
        self._matches[digest.id] = (version, digest.paper_count, matches)
        return matches

    async def due(self) -> list[tuple[int, DigestInfo, UserMatches]]:
        """Every (user, digest) whose DM is due now and not sent."""
        services = self.services
        now = services.clock()
        settings = await services.subscriptions.all_settings()
        # Whose DMs fail, as the database says: a member who came back through another process counts.
        self.failing = {user_id for user_id, user in settings.items() if user.dm_failing_reason}
        digests = await services.papers.news_since(now - dt.timedelta(days=LOOKBACK_DAYS), services.settings.max_post_age_days)
        if not digests:
            return []
        if not settings:
            return []
        rows = await services.ledger.for_digests(DM, [d.id for d in digests])
        due: list[tuple[int, DigestInfo, UserMatches]] = []
        for digest in digests:
            for user_id, matches in (await self.matches_for(digest)).items():
                user = settings.get(user_id)
                if user is None or user.paused or user.dm_failing_reason or digest.ingested_at < user.created_at:
                    continue
                row = rows.get((user_id, digest.id))
                if row is not None and (row.finished or (row.next_attempt_at is not None and row.next_attempt_at > now)):
                    continue
                if due_at(digest.ingested_at, user.post_time, ZoneInfo(user.timezone)) <= now:
                    due.append((user_id, digest, matches))
        return due

    async def run_due(self) -> int:
        """DM everyone whose DM is due; one slow or failing user never holds up the others."""
        if self._lock.locked():
            return 0
        async with self._lock:
            pending = in_turn(await self.due(), self.services.settings.process)
            await self._order(pending)
            gate = asyncio.Semaphore(self.services.settings.delivery_concurrency)

            async def one(user_id: int, digest: DigestInfo, matches: UserMatches) -> None:
                async with gate:
                    # Stopping: no new DM starts; the rest go out after the restart.
                    if user_id not in self.failing and not self.stopping:
                        try:
                            await self.deliver(user_id, digest, matches)
                        except Exception:  # one member's trouble ends their DM's turn, not the others'
                            log.exception("the DM of %s to user %d failed; tried again at the next tick", digest.date, user_id)

            await asyncio.gather(*(one(*item) for item in pending))
            return len(pending)

    async def _order(self, pending: list[tuple[int, DigestInfo, UserMatches]]) -> None:
        """Order each due DM's papers by its member's model (members who gave enough feedback)."""
        if self.worker is None or not pending:
            return
        by_digest: dict[int, dict[int, UserMatches]] = {}
        for user_id, digest, matches in pending:
            by_digest.setdefault(digest.id, {})[user_id] = matches
        for digest_id, matches_of in by_digest.items():
            entries = next(iter(matches_of.values())).entries
            try:
                ordered = await order_by_models(self.worker, digest_id, entries, matches_of)
            except Exception:  # the DMs still go out, in digest order
                log.exception("ordering the DMs of digest %d by member models failed", digest_id)
                continue
            if ordered:
                log.info("ordered the DMs of %d member(s) by their ranking model", ordered)

    async def deliver(self, user_id: int, digest: DigestInfo, matches: UserMatches) -> Outcome:
        """DM one user their matches of one digest; never raises for Discord errors."""
        services = self.services
        delivery = await services.ledger.open(DM, user_id, digest.id, services.clock())
        if delivery is None:
            return Outcome("skipped", "the member is gone (/forget me)")
        if delivery.finished:
            return Outcome(delivery.state, "already finished")
        if delivery.claimed_elsewhere:
            return Outcome("busy", "it is being sent already")
        try:
            return await self._send(user_id, digest, matches, delivery)
        finally:
            services.ledger.done_with(delivery.id)

    async def _send(self, user_id: int, digest: DigestInfo, matches: UserMatches, delivery: Delivery) -> Outcome:
        services = self.services
        locale = await MemberStore(services.db).language(user_id) or ENGLISH
        embeds, shown = render_matches_shown(digest.date, matches, locale)
        plan = PostPlan(embeds, view=paper_menus(shown, locale=locale) if shown else None)
        try:
            done = await carry_out(delivery, plan, DirectMessageDestination(self.client, user_id), services.ledger,
                                   services.clock, lambda: self.stopping)
        except ShuttingDown:
            return Outcome("sending", "paused for shutdown")
        except DeliveryGone:
            log.info("the DM of %s to user %d stopped: the member ran /forget me meanwhile", digest.date, user_id)
            return Outcome("skipped", "the member is gone (/forget me)")
        except ClaimLost as lost:
            log.warning("%s; this process stops sending the DM to user %d", lost, user_id)
            return Outcome("sending", "another process took it over")
        except Exception as error:  # every failure is recorded, then classified
            async def stop_dms(reason: str) -> None:
                await services.subscriptions.mark_dm_failing(user_id, reason, services.clock())
                self.failing.add(user_id)

            return await settle_failure(services.ledger, delivery.id, error, services.clock(),
                                        f"the DMs of user {user_id} (digest {digest.date})", stop_dms)
        log.info("delivery %d: DM with %d papers of %s sent to user %d (message %s)",
                 done.id, matches.count(), digest.date, user_id, done.header_message_id)
        return Outcome("done")
