"""Statements several stores run as part of their own writes: marking a member's model out of date, a new subscriptions version."""

from __future__ import annotations

import datetime as dt
import secrets

from storage.records import iso_utc

# Every change to what a member's model learns from (feedback, reading list, subscriptions) runs
# this, with `stale_params`: a new mark gets a new era (migration 0007), a standing one counts up.
MARK_MODEL_STALE = ("INSERT INTO member_models_stale (user_id, since, era) VALUES (?, ?, ?) "
                    "ON CONFLICT (user_id) DO UPDATE SET changes = member_models_stale.changes + 1")


def stale_params(user_id: int, now: dt.datetime) -> tuple[int, str, int]:
    """The parameters of MARK_MODEL_STALE."""
    return user_id, iso_utc(now), secrets.randbits(62)


# The meta value is text on both engines; PostgreSQL wants the sum turned back into text.
BUMP_SUBSCRIPTIONS = {
    "sqlite": "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'subscriptions_version'",
    "postgres": "UPDATE meta SET value = (CAST(value AS BIGINT) + 1)::text WHERE key = 'subscriptions_version'",
}
