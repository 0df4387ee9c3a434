"""The delivery ledger and the subscription store on either engine (test[sqlite], test[postgres])."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from bot.ingest.paper import Paper
from storage.engine import Database
from storage.errors import StorageError
from storage.feeds import ALERTS_PER_SERVER, FeedStore
from storage.ledger import CHANNEL, DM, Claimant, ClaimLost, DeliveryGone, DeliveryLedger
from storage.members import MemberStore
from storage.papers import PaperStore
from storage.subscriptions import SubscriptionLimit, SubscriptionStore

NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


async def a_digest(db: Database) -> int:
    store = PaperStore(db)
    await store.ingest([Paper("2601.00001", "T", ["A"], "cs.CV")], date=dt.date(2026, 3, 2), source="s", fmt="jsonl",
                       language="", content_hash="h", now=NOW)
    info = await store.digest_info(dt.date(2026, 3, 2))
    assert info is not None and info.ingested_at == NOW
    return info.id


async def a_feed(db: Database, channel_id: int) -> int:
    feed, _ = await FeedStore(db).upsert(guild_id=1, channel_id=channel_id, categories=[], post_time=dt.time(9),
                                         timezone="UTC", created_by=3, now=NOW)
    return feed.id


async def a_member(db: Database, user_id: int) -> None:
    await SubscriptionStore(db).add(user_id, "category", "cs.CV", now=NOW, limit=50, default_time=dt.time(9),
                                    default_timezone="UTC")


async def test_a_delivery_row_is_one_per_target_and_digest_and_records_each_step(db: Database) -> None:
    ledger = DeliveryLedger(db)
    digest_id = await a_digest(db)
    feed_id = await a_feed(db, 70)
    await a_member(db, feed_id)
    first = await ledger.open(CHANNEL, feed_id, digest_id, NOW)
    again = await ledger.open(CHANNEL, feed_id, digest_id, NOW)
    assert first is not None and again is not None and first.id == again.id and first.state == "pending"
    dm = await ledger.open(DM, feed_id, digest_id, NOW)
    assert dm is not None and dm.id != first.id  # a DM to a user with the same number is another target
    row = await ledger.start(first.id, 3, NOW)
    row = await ledger.record_header(row.id, 100, NOW)
    row = await ledger.record_thread(row.id, 100, NOW)
    await ledger.record_part(row.id, 0, 101, NOW)
    await ledger.record_part(row.id, 1, 102, NOW)
    row = await ledger.get(row.id)
    assert (row.state, row.parts_total, row.parts_sent, row.message_ids) == ("sending", 3, 2, [100, 101, 102])
    row = await ledger.retry_later(row.id, "Discord server error 502", NOW + dt.timedelta(minutes=1), NOW)
    assert (row.attempts, row.last_error, row.next_attempt_at) == (1, "Discord server error 502", NOW + dt.timedelta(minutes=1))
    # A retry lets go of the row: the next try (in any process) claims it again first.
    with pytest.raises(ClaimLost):
        await ledger.record_part(row.id, 2, 103, NOW)
    waiting = await ledger.open(CHANNEL, feed_id, digest_id, NOW)  # not before its retry time
    assert waiting is not None and waiting.claimed_elsewhere
    reopened = await ledger.open(CHANNEL, feed_id, digest_id, NOW + dt.timedelta(minutes=1))
    assert reopened is not None and not reopened.claimed_elsewhere and reopened.parts_sent == 2
    await ledger.record_part(row.id, 2, 103, NOW)
    row = await ledger.get(row.id)
    assert row.last_error is None and row.parts_sent == 3
    done = await ledger.finish(row.id, NOW)
    assert done.finished and done.state == "done" and done.next_attempt_at is None
    latest = await ledger.latest(CHANNEL, feed_id)
    assert latest is not None and (latest.date, latest.state) == (dt.date(2026, 3, 2), "done")
    assert await ledger.count_by_state(CHANNEL) == {"done": 1}


async def test_a_row_is_posted_by_one_process_at_a_time_and_left_to_another_when_its_lease_lapses(db: Database) -> None:
    digest_id = await a_digest(db)
    feed_id = await a_feed(db, 71)
    first = DeliveryLedger(db, Claimant(owner=0, lease_seconds=0.5))
    second = DeliveryLedger(db, Claimant(owner=1, lease_seconds=0.5))
    mine = await first.open(CHANNEL, feed_id, digest_id, NOW)
    assert mine is not None and not mine.claimed_elsewhere
    theirs = await second.open(CHANNEL, feed_id, digest_id, NOW)
    assert theirs is not None and theirs.id == mine.id and theirs.claimed_elsewhere
    # Nor twice in one process at once (a scheduled post and /feed send-now): one task holds it.
    again = await first.open(CHANNEL, feed_id, digest_id, NOW)
    assert again is not None and again.claimed_elsewhere
    await first.start(mine.id, 2, NOW)
    await first.record_header(mine.id, 500, NOW)
    assert await first.renew_claims() == 1 and await second.renew_claims() == 0  # only what each holds
    # The first process stops answering: once its lease lapses the second resumes from the checkpoint.
    await asyncio.sleep(0.6)
    resumed = await second.open(CHANNEL, feed_id, digest_id, NOW)
    assert resumed is not None and not resumed.claimed_elsewhere
    assert (resumed.state, resumed.header_message_id) == ("sending", 500)
    # The first comes back: its next step is refused, nothing of it is written.
    with pytest.raises(ClaimLost):
        await first.record_thread(mine.id, 501, NOW)
    with pytest.raises(ClaimLost):
        await first.record_part(mine.id, 0, 502, NOW)
    assert (await second.get(mine.id)).thread_id is None
    # A process stopping lets go at once; a process of the same index started again may go on at once
    # (its predecessor is dead: the run lock keeps one process per index alive).
    assert await second.release_claims() == 1
    first.done_with(mine.id)  # its task ended (with ClaimLost)
    again = await first.open(CHANNEL, feed_id, digest_id, NOW)
    assert again is not None and not again.claimed_elsewhere
    restarted = DeliveryLedger(db, Claimant(owner=0, lease_seconds=60))
    taken_over = await restarted.open(CHANNEL, feed_id, digest_id, NOW)
    assert taken_over is not None and not taken_over.claimed_elsewhere
    with pytest.raises(ClaimLost):
        await first.finish(mine.id, NOW)
    done = await restarted.finish(mine.id, NOW)
    assert done.state == "done"
    finished = await second.open(CHANNEL, feed_id, digest_id, NOW)
    assert finished is not None and finished.finished and not finished.claimed_elsewhere


async def test_steps_of_concurrent_posts_share_commits_but_fail_alone(db: Database) -> None:
    ledger = DeliveryLedger(db)
    digest_id = await a_digest(db)
    rows = [row for target in range(1, 41) if (row := await ledger.open(CHANNEL, await a_feed(db, target), digest_id, NOW))]
    assert len(rows) == 40
    # Forty posts step at once; one step is refused by the schema (no such state).
    steps = [ledger.start(row.id, 2, NOW) for row in rows[:-1]] + [ledger.finish(rows[-1].id, NOW, state="lost")]
    results = await asyncio.gather(*steps, return_exceptions=True)
    assert all(not isinstance(r, BaseException) and r.state == "sending" for r in results[:-1])
    assert isinstance(results[-1], StorageError)
    assert (await ledger.get(rows[-1].id)).state == "pending"  # undone alone, the others stayed
    assert await ledger.count_by_state(CHANNEL) == {"sending": 39, "pending": 1}
    # Parts recorded together keep their own order per post.
    await asyncio.gather(*(ledger.record_part(row.id, 0, 1000 + row.id, NOW) for row in rows[:-1]))
    await asyncio.gather(*(ledger.record_part(row.id, 1, 2000 + row.id, NOW) for row in rows[:-1]))
    again = await ledger.get(rows[0].id)
    assert (again.parts_sent, again.message_ids) == (2, [1000 + rows[0].id, 2000 + rows[0].id])


async def test_resuming_a_failing_feed_reopens_its_failed_deliveries(db: Database) -> None:
    ledger, feeds = DeliveryLedger(db), FeedStore(db)
    digest_id = await a_digest(db)
    feed, created = await feeds.upsert(guild_id=1, channel_id=2, categories=["cs.CV"], post_time=dt.time(9), timezone="UTC",
                                       created_by=3, now=NOW)
    assert created and feed.active
    row = await ledger.open(CHANNEL, feed.id, digest_id, NOW)
    assert row is not None
    await ledger.fail(row.id, "the bot lacks a permission there", NOW)
    await feeds.mark_failing(feed.id, "the bot lacks a permission there", NOW)
    failing = await feeds.by_channel(2)
    assert failing is not None and not failing.active and failing.failing_reason == "the bot lacks a permission there"
    resumed = await feeds.set_paused(2, False, NOW)
    assert resumed is not None and resumed.active
    assert (await ledger.get(row.id)).state == "pending"
    assert await feeds.remove(2) and await feeds.by_channel(2) is None
    assert await ledger.count_by_state(CHANNEL) == {}  # a removed feed leaves no rows behind


async def test_subscriptions_merge_duplicates_respect_the_limit_and_bump_the_version(db: Database) -> None:
    subs = SubscriptionStore(db)
    add: dict[str, Any] = {"now": NOW, "limit": 3, "default_time": dt.time(9), "default_timezone": "UTC"}
    version = await subs.version()
    first, created = await subs.add(1, "author", "Ángel Aso-Mollar", **add)
    assert created and first.key == "angel aso mollar"
    same, created = await subs.add(1, "author", "angel ASO mollar", **add)
    assert not created and same.id == first.id
    assert await subs.version() == version + 1
    await subs.add(1, "keyword", "Diffusion  Policy", **add)
    await subs.add(1, "category", "cs.CV", **add)
    with pytest.raises(SubscriptionLimit):
        await subs.add(1, "keyword", "one too many", **add)
    assert [s.kind for s in await subs.for_user(1)] == ["author", "keyword", "category"]
    assert await subs.remove(2, first.id) is None  # not user 2's to remove
    assert (await subs.remove(1, first.id)) == first
    settings = await subs.settings(1)
    assert settings is not None and (settings.post_time, settings.timezone, settings.paused) == (dt.time(9), "UTC", False)


async def test_a_returning_user_gets_failed_dms_tried_again(db: Database) -> None:
    subs, ledger = SubscriptionStore(db), DeliveryLedger(db)
    digest_id = await a_digest(db)
    await subs.add(5, "category", "cs.CV", now=NOW, limit=50, default_time=dt.time(9), default_timezone="UTC")
    row = await ledger.open(DM, 5, digest_id, NOW)
    assert row is not None
    await ledger.fail(row.id, "the user does not accept direct messages", NOW)
    await subs.mark_dm_failing(5, "the user does not accept direct messages", NOW)
    assert await subs.failing_users() == {5} and await subs.dm_failure_count() == 1
    assert await subs.clear_dm_failure(5, NOW)
    assert not await subs.clear_dm_failure(5, NOW)
    assert await subs.failing_users() == set()
    assert (await ledger.get(row.id)).state == "pending"


async def test_no_row_is_made_for_a_target_that_is_gone_and_a_post_stops_when_its_row_goes(db: Database) -> None:
    ledger = DeliveryLedger(db)
    digest_id = await a_digest(db)
    assert await ledger.open(DM, 42, digest_id, NOW) is None  # not a member (or forgotten)
    assert await ledger.open(CHANNEL, 999, digest_id, NOW) is None  # no such feed
    await a_member(db, 42)
    row = await ledger.open(DM, 42, digest_id, NOW)
    assert row is not None
    await MemberStore(db).forget(42)  # while the DM is under way
    with pytest.raises(DeliveryGone):
        await ledger.start(row.id, 2, NOW)
    assert await ledger.open(DM, 42, digest_id, NOW) is None
    assert await ledger.count_by_state(DM) == {}


async def test_a_channels_breakage_is_told_once_a_day_and_a_server_of_a_few_channels(db: Database) -> None:
    feeds = FeedStore(db)
    ids = [await a_feed(db, channel) for channel in (11, 12, 13, 14)]
    assert await feeds.mark_failing(ids[0], "403", NOW)
    await feeds.set_paused(11, False, NOW)
    assert not await feeds.mark_failing(ids[0], "403", NOW + dt.timedelta(hours=23))  # resumed, refused again
    assert await feeds.remove(11)
    again = await a_feed(db, 11)  # removed and added again: the same channel's breakage
    assert not await feeds.mark_failing(again, "403", NOW + dt.timedelta(hours=23))
    await feeds.set_paused(11, False, NOW)
    assert await feeds.mark_failing(again, "403", NOW + dt.timedelta(days=1))  # a day later it is news again
    # At most ALERTS_PER_SERVER channels of one server a day.
    told = [await feeds.mark_failing(feed_id, "403", NOW + dt.timedelta(days=1)) for feed_id in ids[1:]]
    assert told == [True] * (ALERTS_PER_SERVER - 1) + [False] * (4 - ALERTS_PER_SERVER)
    # A post that goes through ends the channel's stretch.
    feed = await feeds.by_channel(12)
    assert feed is not None
    await feeds.end_alert_stretch(feed)
    await feeds.set_paused(12, False, NOW)
    assert await feeds.mark_failing(ids[1], "403", NOW + dt.timedelta(days=1, hours=1))  # news again, within the quota
