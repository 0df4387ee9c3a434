"""Member data on either engine (test[sqlite], test[postgres]): votes, stale marks that survive a change during training, forgetting."""

from __future__ import annotations

import datetime as dt

from storage.engine import Database
from storage.feeds import FeedStore
from storage.members import MAX_VOTES, Labels, MemberModel, MemberStore
from storage.reading_list import ReadingList

NOW = dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC)


def model(user_id: int) -> MemberModel:
    return MemberModel(user_id, b"\x01\x00\x00\x00", b"\x00\x00\x80\x3f", 0.0, 5, 1, NOW)


async def test_votes_toggle_and_a_change_during_training_keeps_the_member_stale(db: Database) -> None:
    members = MemberStore(db)
    assert await members.vote(1, "2601.00001", 1, NOW) == 1
    assert await members.vote(1, "2601.00001", 1, NOW) is None  # the same vote again takes it back
    assert await members.vote(1, "2601.00001", -1, NOW) == -1
    seen = await members.stale_mark(1)
    assert seen is not None and seen.changes == 3
    await ReadingList(db).save(1, "2601.00002", NOW)  # arrives while the model trains
    assert await members.store_model(model(1), seen)
    after = await members.stale_mark(1)
    assert after is not None and after.changes == 4 and after.era == seen.era  # still to learn
    assert await members.store_model(model(1), after)
    assert await members.stale_mark(1) is None
    labels = await members.labels(1)
    assert labels.disliked == ["2601.00001"] and labels.liked == ["2601.00002"]  # a saved paper counts as liked


async def test_forget_removes_every_row_of_one_member_only(db: Database) -> None:
    members, reading = MemberStore(db), ReadingList(db)
    for user in (1, 2):
        await members.vote(user, "2601.00001", 1, NOW)
        await reading.save(user, "2601.00002", NOW)
        assert await members.store_model(model(user), await members.stale_mark(user))
    deleted = await members.forget(1)
    assert deleted["feedback"] == 1 and deleted["saved papers"] == 1 and deleted["model"] == 1
    assert await members.votes(1) == {} and await reading.count(1) == 0 and await members.model(1) is None
    assert await members.votes(2) == {"2601.00001": 1} and await reading.count(2) == 1 and await members.model(2) is not None


async def test_a_model_trained_before_forget_me_is_thrown_away(db: Database) -> None:
    members = MemberStore(db)
    await members.vote(1, "2601.00001", 1, NOW)
    seen = await members.stale_mark(1)  # a training run starts: it read the mark, then the labels
    await members.forget(1)
    assert not await members.store_model(model(1), seen)
    assert await members.model(1) is None
    # A vote right after the forget starts a new era: the old run's model still cannot land.
    await members.vote(1, "2601.00003", 1, NOW)
    assert not await members.store_model(model(1), seen)
    assert await members.model(1) is None and await members.labels(1) == Labels(["2601.00003"], [])
    # Nor can a run that saw no mark write a model for a member with nothing left.
    await members.forget(1)
    assert not await members.store_model(model(1), None)
    assert await members.model(1) is None


async def test_votes_are_capped_per_member_oldest_first(db: Database) -> None:
    members = MemberStore(db)
    for n in range(MAX_VOTES + 5):
        await members.vote(1, f"2601.{n:05d}", 1, NOW + dt.timedelta(seconds=n))
    votes = await members.votes(1)
    assert len(votes) == MAX_VOTES
    assert "2601.00000" not in votes and f"2601.{MAX_VOTES + 4:05d}" in votes


async def test_forget_clears_the_member_from_the_feeds_they_set_up(db: Database) -> None:
    feeds = FeedStore(db)
    feed, _ = await feeds.upsert(guild_id=10, channel_id=20, categories=[], post_time=dt.time(9), timezone="UTC",
                                 created_by=1, now=NOW)
    deleted = await MemberStore(db).forget(1)
    assert deleted["feeds set up"] == 1
    kept = await feeds.by_channel(20)
    assert kept is not None and kept.id == feed.id and kept.created_by is None  # the server's feed stays


async def test_each_process_of_several_trains_its_own_share_of_the_stale_members(db: Database) -> None:
    members = MemberStore(db)
    for user_id in range(1, 8):
        await members.vote(user_id, "2601.00001", 1, NOW + dt.timedelta(seconds=user_id))
    assert await members.stale_members(10) == [1, 2, 3, 4, 5, 6, 7]
    # Process 1 of 3 takes ids 1, 4, 7 however many of the others' members wait before them.
    assert await members.stale_members(10, (1, 3)) == [1, 4, 7]
    assert await members.stale_members(2, (0, 3)) == [3, 6]
