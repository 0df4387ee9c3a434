"""Scheduling maths: local post times across DST, due times, recency."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.schedule import due_at, local_post_time, next_post_time, retry_delay

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        ("2026-03-28", "2026-03-28T08:00"),  # Saturday before the change: CET, UTC+1
        ("2026-03-29", "2026-03-29T07:00"),  # change day: CEST, UTC+2
        ("2026-03-30", "2026-03-30T07:00"),
        ("2026-10-24", "2026-10-24T07:00"),  # before the autumn change: CEST
        ("2026-10-25", "2026-10-25T08:00"),  # after: CET
    ],
)
def test_nine_in_berlin_is_nine_local_on_both_sides_of_each_change(day: str, expected_utc: str) -> None:
    instant = local_post_time(dt.date.fromisoformat(day), dt.time(9, 0), BERLIN)
    assert instant == utc(expected_utc)
    assert instant.astimezone(BERLIN).time() == dt.time(9, 0)


def test_a_skipped_wall_time_moves_forward_and_a_repeated_one_takes_the_first() -> None:
    skipped = local_post_time(dt.date(2026, 3, 29), dt.time(2, 30), BERLIN)
    assert skipped.astimezone(BERLIN).time() == dt.time(3, 30)
    repeated = local_post_time(dt.date(2026, 10, 25), dt.time(2, 30), BERLIN)
    assert repeated == utc("2026-10-25T00:30")


def test_due_at_the_post_time_of_the_arrival_day_or_at_once_when_late() -> None:
    early = utc("2026-03-02T02:00")  # 03:00 in Berlin
    assert due_at(early, dt.time(9, 0), BERLIN) == utc("2026-03-02T08:00")
    late = utc("2026-03-02T10:00")  # 11:00 in Berlin, after 09:00
    assert due_at(late, dt.time(9, 0), BERLIN) == late
    # 23:30 UTC on the 1st is already the 2nd in Berlin: due at 09:00 on the 2nd.
    assert due_at(utc("2026-03-01T23:30"), dt.time(9, 0), BERLIN) == utc("2026-03-02T08:00")
    # New York is still on the 1st at 02:00 UTC; 09:00 there has passed, so at once.
    assert due_at(utc("2026-03-02T02:00"), dt.time(9, 0), NEW_YORK) == utc("2026-03-02T02:00")


def test_next_post_time() -> None:
    assert next_post_time(utc("2026-03-29T06:59"), dt.time(9, 0), BERLIN) == utc("2026-03-29T07:00")
    assert next_post_time(utc("2026-03-29T07:01"), dt.time(9, 0), BERLIN) == utc("2026-03-30T07:00")


def test_backoff() -> None:
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 4, 10)] == [1, 2, 4, 8, 60]
