"""Member data in a real SQLite file: votes, stale marks that survive a change during training, forgetting."""

from __future__ import annotations

import datetime as dt

from storage.db import Database
from storage.members import MemberModel, MemberStore
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
    assert seen == 3
    await ReadingList(db).save(1, "2601.00002", NOW)  # arrives while the model trains
    await members.store_model(model(1), seen)
    assert await members.stale_mark(1) == 4  # still to learn
    await members.store_model(model(1), 4)
    assert await members.stale_mark(1) is None
    labels = await members.labels(1)
    assert labels.disliked == ["2601.00001"] and labels.liked == ["2601.00002"]  # a saved paper counts as liked


async def test_forget_removes_every_row_of_one_member_only(db: Database) -> None:
    members, reading = MemberStore(db), ReadingList(db)
    for user in (1, 2):
        await members.vote(user, "2601.00001", 1, NOW)
        await reading.save(user, "2601.00002", NOW)
        await members.store_model(model(user), None)
    deleted = await members.forget(1)
    assert deleted["feedback"] == 1 and deleted["saved papers"] == 1 and deleted["model"] == 1
    assert await members.votes(1) == {} and await reading.count(1) == 0 and await members.model(1) is None
    assert await members.votes(2) == {"2601.00001": 1} and await reading.count(2) == 1 and await members.model(2) is not None
