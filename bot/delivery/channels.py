"""Channel feeds: decide which posts are due, and post them through the ledger."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from typing import TypeVar
from zoneinfo import ZoneInfo

import discord

from bot.core.services import Services
from bot.delivery.alerts import Alerts
from bot.delivery.destinations import ChannelDestination, ForumDestination, forum_tags
from bot.delivery.executor import PostPlan, ShuttingDown, carry_out
from bot.delivery.failures import Outcome, settle_failure
from bot.delivery.schedule import due_at
from bot.i18n.catalogs import ENGLISH
from bot.ranking.filters import apply_filters, split_filter
from bot.render.post import forum_post_title, render_digest_header, render_digest_parts, thread_name
from storage.feeds import ChannelFeed
from storage.ledger import CHANNEL, ClaimLost, Delivery, DeliveryGone
from storage.records import DigestInfo

log = logging.getLogger(__name__)

T = TypeVar("T")
# Digests older than this (by arrival) are never looked at by the periodic check.
LOOKBACK_DAYS = 8


async def plan_for(services: Services, feed_categories: list[str], digest: DigestInfo, include: str = "",
                   exclude: str = "", locale: str = ENGLISH) -> PostPlan | None:
    """The post of one digest for a feed following `feed_categories` through its keyword filters; None when nothing is left."""
    entries = await services.papers.digest_entries(digest.date, feed_categories)
    filtered = await asyncio.to_thread(apply_filters, entries, split_filter(include), split_filter(exclude))
    if not filtered.entries:
        return None
    header = render_digest_header(digest.date, filtered.entries, digest.paper_count, feed_categories, digest.source,
                                  left_out=filtered.left_out if include or exclude else None, locale=locale)
    sections = tuple(section for section, _ in Counter(e.section for e in filtered.entries).most_common())
    return PostPlan([header], render_digest_parts(filtered.entries, digest.date, locale), thread_name(digest.date, feed_categories),
                    forum_title=forum_post_title(digest.date, len(filtered.entries), locale), categories=sections)


def in_turn(items: list[T], process: tuple[int, int]) -> list[T]:
    """The due posts, starting at this process's share (k of n): processes sharing a database claim apart, not in a crowd."""
    index, count = process
    start = len(items) * index // count
    return items[start:] + items[:start]


class ChannelDeliveries:
    """Posts digests to channel feeds: on schedule, on demand, resuming what was cut short."""

    def __init__(self, client: discord.Client, services: Services) -> None:
        self.client = client
        self.services = services
        self.stopping = False
        self.alerts: Alerts | None = None
        self._lock = asyncio.Lock()
        # Feeds that follow the same categories get the same post: render it once per digest.
        # The rendering is shared while it runs too: fifty feeds starting at once read and render once.
        self._plans: dict[tuple[int, int, str, tuple[str, ...], str, str, str], asyncio.Task[PostPlan | None]] = {}

    async def _plan(self, feed: ChannelFeed, digest: DigestInfo) -> PostPlan | None:
        key = (digest.id, digest.paper_count, digest.source, tuple(feed.categories), feed.include, feed.exclude, feed.language)
        task = self._plans.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            if len(self._plans) > 256:
                self._plans = {k: t for k, t in self._plans.items() if not t.done()}
            task = self._plans[key] = asyncio.create_task(plan_for(self.services, feed.categories, digest, feed.include, feed.exclude,
                                                                    feed.language))
        return await asyncio.shield(task)

    async def due(self) -> list[tuple[ChannelFeed, DigestInfo]]:
        """Every (feed, digest) whose post is due now and not finished, oldest digest first."""
        services = self.services
        now = services.clock()
        digests = await services.papers.news_since(now - dt.timedelta(days=LOOKBACK_DAYS), services.settings.max_post_age_days)
        if not digests:
            return []
        rows = await services.ledger.for_digests(CHANNEL, [d.id for d in digests])
        due: list[tuple[ChannelFeed, DigestInfo]] = []
        for feed in await services.feeds.all():
            if not feed.active:
                continue
            zone = ZoneInfo(feed.timezone)
            for digest in digests:
                if digest.ingested_at < feed.created_at:
                    continue
                row = rows.get((feed.id, digest.id))
                if row is not None and (row.finished or (row.next_attempt_at is not None and row.next_attempt_at > now)):
                    continue
                if due_at(digest.ingested_at, feed.post_time, zone) <= now:
                    due.append((feed, digest))
        return due

    async def run_due(self) -> int:
        """Post everything due; return how many posts were attempted. Feeds run side by side."""
        if self._lock.locked():
            return 0  # the previous run is still posting; never two runs on one feed
        async with self._lock:
            pending = await self.due()
            by_feed: dict[int, list[tuple[ChannelFeed, DigestInfo]]] = {}
            for feed, digest in in_turn(pending, self.services.settings.process):
                by_feed.setdefault(feed.id, []).append((feed, digest))
            gate = asyncio.Semaphore(self.services.settings.delivery_concurrency)

            async def one_feed(items: list[tuple[ChannelFeed, DigestInfo]]) -> None:
                async with gate:
                    for feed, digest in items:
                        if self.stopping:
                            return  # the rest go out after the restart
                        try:
                            outcome = await self.deliver(feed, digest)
                        except Exception:
                            # One feed's trouble (the database busy, a bug) ends its turn, not the others':
                            # the run waits for every feed, so no post of this run outlives it.
                            log.exception("posting %s to channel %d failed; tried again at the next tick", digest.date,
                                          feed.channel_id)
                            break
                        # A later day waits while this one is unfinished (failed, paused, another process's):
                        # a channel gets its days in order.
                        if outcome.state in ("failed", "refused", "sending", "busy"):
                            break

            await asyncio.gather(*(one_feed(items) for items in by_feed.values()))
            return len(pending)

    async def _forum(self, channel_id: int) -> object:
        """The forum channel, for its tags: cached by the process whose shard has its server, else asked of Discord."""
        channel = self.client.get_channel(channel_id)
        if channel is not None:
            return channel
        try:
            return await self.client.fetch_channel(channel_id)
        except discord.HTTPException as exc:
            log.warning("could not read forum %d's tags (HTTP %s); posting without tags", channel_id, exc.status)
            return None

    async def deliver(self, feed: ChannelFeed, digest: DigestInfo, *, now: bool = False) -> Outcome:
        """Post one digest to one feed (or finish a post cut short; `now`: without waiting for a retry's backoff).

        Never raises for Discord errors.
        """
        services = self.services
        opened = await services.ledger.open(CHANNEL, feed.id, digest.id, services.clock(), early=now)
        if opened is None:
            return Outcome("skipped", "the feed was removed")
        delivery: Delivery = opened
        if delivery.finished:
            return Outcome(delivery.state, "already finished")
        if delivery.claimed_elsewhere:
            return Outcome("busy", "it is being posted already")
        try:
            return await self._post(feed, digest, delivery)
        finally:
            services.ledger.done_with(delivery.id)

    async def _post(self, feed: ChannelFeed, digest: DigestInfo, delivery: Delivery) -> Outcome:
        services = self.services
        try:
            plan = await self._plan(feed, digest)
            if plan is None:
                await services.ledger.finish(delivery.id, services.clock(), state="skipped")
                log.info("delivery %d: digest %s has no papers for feed %d (channel %d); nothing posted",
                         delivery.id, digest.date, feed.id, feed.channel_id)
                return Outcome("skipped", "no papers in the followed categories (after the feed's filters)")
            destination: ChannelDestination
            if feed.channel_type == "forum":
                tags = forum_tags(await self._forum(feed.channel_id), feed.categories or list(plan.categories))
                destination = ForumDestination(self.client, feed.channel_id, feed.guild_id, plan.forum_title, tags)
            else:
                destination = ChannelDestination(self.client, feed.channel_id, feed.guild_id)
            done = await carry_out(delivery, plan, destination, services.ledger, services.clock, lambda: self.stopping)
        except ShuttingDown:
            log.info("delivery %d to channel %d paused for shutdown; it resumes at the next start", delivery.id, feed.channel_id)
            return Outcome("sending", "paused for shutdown")
        except DeliveryGone:
            log.info("the post of %s to channel %d stopped: its feed was removed meanwhile", digest.date, feed.channel_id)
            return Outcome("skipped", "the feed was removed")
        except ClaimLost as lost:
            log.warning("%s; this process stops posting to channel %d", lost, feed.channel_id)
            return Outcome("sending", "another process took it over")
        except Exception as error:  # every failure is recorded, then classified
            async def stop_feed(reason: str) -> None:
                if not await services.feeds.mark_failing(feed.id, reason, services.clock()):
                    log.info("feed %d (channel %d) refused again; its server was told of this breakage already (or of "
                             "several today): nobody is told again", feed.id, feed.channel_id)
                elif self.alerts is not None:
                    try:
                        await self.alerts.feed_failing(feed, reason)
                    except Exception:  # an alert never turns into a delivery failure
                        log.exception("alerting about failing feed %d failed", feed.id)

            return await settle_failure(services.ledger, delivery.id, error, services.clock(),
                                        f"channel {feed.channel_id} (guild {feed.guild_id}, feed {feed.id}, digest {digest.date})", stop_feed)
        log.info("delivery %d: digest %s posted to channel %d (guild %d, feed %d): header %s, %d parts",
                 done.id, digest.date, feed.channel_id, feed.guild_id, feed.id, done.header_message_id, done.parts_total)
        await services.feeds.end_alert_stretch(feed)
        return Outcome("done")
