"""When a post is due: wall-clock times in IANA zones, correct on both sides of a DST change."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def local_post_time(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of wall-clock time `at` on `day` in `zone`.

    A time skipped by a spring-forward change (02:30 in Europe/Berlin on the last Sunday of
    March) becomes the instant an hour later on the wall clock; a repeated time takes its first
    occurrence.
    """
    local = dt.datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(dt.UTC)


def due_at(arrival: dt.datetime, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """When a digest that arrived at `arrival` is due for a target posting at `at` in `zone`.

    At the post time of the (local) day it arrived; at once if it arrived after that day's post time.
    """
    local_day = arrival.astimezone(zone).date()
    return max(arrival.astimezone(dt.UTC), local_post_time(local_day, at, zone))


def next_post_time(now: dt.datetime, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The next instant at or after `now` when the local clock in `zone` shows `at`."""
    local_day = now.astimezone(zone).date()
    for offset in range(3):
        candidate = local_post_time(local_day + dt.timedelta(days=offset), at, zone)
        if candidate >= now:
            return candidate
    raise AssertionError("unreachable: a wall-clock time occurs at least once in three days")


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after a passing failure: 1, 2, 4, 8... minutes, at most an hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))
