"""Personal subscriptions and each user's DM settings."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from storage.engine import Database, pick
from storage.marks import BUMP_SUBSCRIPTIONS, MARK_MODEL_STALE, stale_params
from storage.records import iso_utc
from storage.text import fold_name

KINDS = ("category", "keyword", "author", "exclude")


class SubscriptionLimit(Exception):
    """The user already has the maximum number of subscriptions."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def subscription_key(kind: str, value: str) -> str:
    """The folded form two subscriptions share when they mean the same thing."""
    if kind == "author":
        return fold_name(value)
    return " ".join(value.lower().split())


@dataclass(frozen=True, slots=True)
class Subscription:
    """One thing a user follows."""

    id: int
    user_id: int
    kind: str
    value: str
    key: str
    created_at: dt.datetime

    @property
    def label(self) -> str:
        """`keyword: diffusion` as shown to people."""
        return f"{self.kind}: {self.value}"

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscription:
        """Build from a subscriptions row."""
        return cls(row["id"], row["user_id"], row["kind"], row["value"], row["value_key"], dt.datetime.fromisoformat(row["created_at"]))


@dataclass(frozen=True, slots=True)
class UserSettings:
    """When a user's DMs go out, and whether they can."""

    user_id: int
    post_time: dt.time
    timezone: str
    paused: bool
    dm_failing_reason: str | None
    dm_failing_since: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> UserSettings:
        """Build from a user_settings row."""
        return cls(
            row["user_id"], dt.time.fromisoformat(row["post_time"]), row["timezone"], bool(row["paused"]),
            row["dm_failing_reason"],
            dt.datetime.fromisoformat(row["dm_failing_since"]) if row["dm_failing_since"] else None,
            dt.datetime.fromisoformat(row["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class SubscriptionGroup:
    """Everyone who follows the same thing written the same way: matched once, shown to each of them."""

    kind: str
    key: str
    value: str
    user_ids: list[int]


def group_subscriptions(subscriptions: list[Subscription]) -> list[SubscriptionGroup]:
    """Subscriptions gathered into groups of equal (kind, key, value)."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for s in subscriptions:
        groups.setdefault((s.kind, s.key, s.value), []).append(s.user_id)
    return [SubscriptionGroup(kind, key, value, users) for (kind, key, value), users in groups.items()]


_SETTINGS_ROW = {
    "sqlite": "INSERT OR IGNORE INTO user_settings (user_id, post_time, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
    "postgres": "INSERT INTO user_settings (user_id, post_time, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
}


class SubscriptionStore:
    """Read and change subscriptions and DM settings."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, user_id: int, kind: str, value: str, *, now: dt.datetime, limit: int,
                  default_time: dt.time, default_timezone: str) -> tuple[Subscription, bool]:
        """Follow something; return it and whether it is new (a duplicate merges into the old one)."""
        key = subscription_key(kind, value)
        async with self._db.transaction() as conn:
            await conn.execute(
                _SETTINGS_ROW[self._db.dialect],
                (user_id, default_time.strftime("%H:%M"), default_timezone, iso_utc(now), iso_utc(now)),
            )
            existing = await conn.execute_fetchall(
                "SELECT * FROM subscriptions WHERE user_id = ? AND kind = ? AND value_key = ?", (user_id, kind, key)
            )
            for row in existing:
                return Subscription.from_row(row), False
            counted = await conn.execute_fetchall("SELECT count(*) FROM subscriptions WHERE user_id = ?", (user_id,))
            if int(next(iter(counted))[0]) >= limit:
                raise SubscriptionLimit(limit)
            rows = await conn.execute_fetchall(
                "INSERT INTO subscriptions (user_id, kind, value, value_key, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *",
                (user_id, kind, value, key, iso_utc(now)),
            )
            await conn.execute(BUMP_SUBSCRIPTIONS[self._db.dialect])
            # Subscriptions are weak positives of the member's ranking model: it learns again.
            await conn.execute(MARK_MODEL_STALE, stale_params(user_id, now))
        return Subscription.from_row(next(iter(rows))), True

    async def remove(self, user_id: int, subscription_id: int) -> Subscription | None:
        """Stop following one of the user's subscriptions; return it, or None if it was not theirs."""
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "DELETE FROM subscriptions WHERE id = ? AND user_id = ? RETURNING *", (subscription_id, user_id)
            )
            removed = [Subscription.from_row(r) for r in rows]
            if removed:
                await conn.execute(BUMP_SUBSCRIPTIONS[self._db.dialect])
                await conn.execute(MARK_MODEL_STALE, stale_params(user_id, dt.datetime.now(dt.UTC)))
        return removed[0] if removed else None

    async def for_user(self, user_id: int) -> list[Subscription]:
        """The user's subscriptions, by kind then age."""
        rows = await self._db.fetchall(
            "SELECT * FROM subscriptions WHERE user_id = ? "
            "ORDER BY CASE kind WHEN 'author' THEN 0 WHEN 'keyword' THEN 1 WHEN 'category' THEN 2 ELSE 3 END, id",
            (user_id,),
        )
        return [Subscription.from_row(r) for r in rows]

    async def matching_groups(self) -> list[SubscriptionGroup]:
        """Every subscription of every user, grouped in SQLite: one group per thing followed, with its users.

        What the DM delivery matches a digest against. Grouping in SQL keeps a hundred thousand
        members' subscriptions from becoming half a million Python objects first.
        """
        rows = await self._db.fetchall(pick(
            self._db,
            # Members in id order on both engines: every process then opens a day's DMs in one order
            # (two processes opening rows in crossed orders would deadlock on each other's inserts).
            sqlite="SELECT kind, value_key, value, group_concat(user_id) FROM "
                   "(SELECT * FROM subscriptions ORDER BY user_id) GROUP BY kind, value_key, value",
            postgres="SELECT kind, value_key, value, string_agg(user_id::text, ',' ORDER BY user_id) FROM subscriptions "
                     "GROUP BY kind, value_key, value"))
        return [SubscriptionGroup(r[0], r[1], r[2], [int(u) for u in str(r[3]).split(",")]) for r in rows]

    async def version(self) -> int:
        """A number that changes whenever any subscription does."""
        rows = await self._db.fetchall("SELECT value FROM meta WHERE key = 'subscriptions_version'")
        return int(next(iter(rows))[0]) if rows else 0

    async def settings(self, user_id: int) -> UserSettings | None:
        """The user's DM settings (None until they first subscribe or set a time)."""
        rows = await self._db.fetchall("SELECT * FROM user_settings WHERE user_id = ?", (user_id,))
        return next((UserSettings.from_row(r) for r in rows), None)

    async def all_settings(self) -> dict[int, UserSettings]:
        """Every user's DM settings."""
        rows = await self._db.fetchall("SELECT * FROM user_settings")
        return {r["user_id"]: UserSettings.from_row(r) for r in rows}

    async def set_time(self, user_id: int, at: dt.time, timezone: str, now: dt.datetime) -> UserSettings:
        """Change when the user's DMs go out."""
        async with self._db.transaction() as conn:
            await conn.execute(
                """
                INSERT INTO user_settings (user_id, post_time, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET post_time = excluded.post_time, timezone = excluded.timezone,
                    updated_at = excluded.updated_at
                """,
                (user_id, at.strftime("%H:%M"), timezone, iso_utc(now), iso_utc(now)),
            )
        found = await self.settings(user_id)
        assert found is not None
        return found

    async def set_paused(self, user_id: int, paused: bool, *, now: dt.datetime, default_time: dt.time,
                         default_timezone: str) -> UserSettings:
        """Pause or resume the user's DMs."""
        async with self._db.transaction() as conn:
            await conn.execute(
                _SETTINGS_ROW[self._db.dialect],
                (user_id, default_time.strftime("%H:%M"), default_timezone, iso_utc(now), iso_utc(now)),
            )
            await conn.execute("UPDATE user_settings SET paused = ?, updated_at = ? WHERE user_id = ?", (int(paused), iso_utc(now), user_id))
        found = await self.settings(user_id)
        assert found is not None
        return found

    async def mark_dm_failing(self, user_id: int, reason: str, now: dt.datetime) -> None:
        """Stop DMing a user whose DMs are closed, until they use a command again."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE user_settings SET dm_failing_reason = ?, dm_failing_since = ?, updated_at = ? WHERE user_id = ?",
                (reason, iso_utc(now), iso_utc(now), user_id),
            )

    async def clear_dm_failure(self, user_id: int, now: dt.datetime) -> bool:
        """Try DMs again for a user who came back; return whether there was a failure to clear."""
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "UPDATE user_settings SET dm_failing_reason = NULL, dm_failing_since = NULL, updated_at = ? "
                "WHERE user_id = ? AND dm_failing_reason IS NOT NULL RETURNING user_id",
                (iso_utc(now), user_id),
            )
            cleared = bool(list(rows))
            if cleared:
                # DMs stopped by the failure get another chance.
                await conn.execute(
                    "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = ? "
                    "WHERE target_kind = 'dm' AND target_id = ? AND state = 'failed' AND header_message_id IS NULL",
                    (iso_utc(now), user_id),
                )
        return cleared

    async def failing_users(self) -> set[int]:
        """Users whose DMs are marked failing."""
        rows = await self._db.fetchall("SELECT user_id FROM user_settings WHERE dm_failing_reason IS NOT NULL")
        return {r[0] for r in rows}

    async def dm_failure_count(self) -> int:
        """How many users cannot be DMed right now."""
        return len(await self.failing_users())
