"""Channel feeds: which channel of which server gets which categories, when."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from storage.engine import Database
from storage.records import iso_utc

# A feed refused again within this long after its breakage was told is the same breakage.
ALERT_STRETCH = dt.timedelta(days=1)
# Channels of one server whose breakage is told within ALERT_STRETCH; more are in /feed list and the log only.
ALERTS_PER_SERVER = 3


@dataclass(frozen=True, slots=True)
class ChannelFeed:
    """One channel's daily post settings."""

    id: int
    guild_id: int
    channel_id: int
    categories: list[str]
    post_time: dt.time
    timezone: str
    paused: bool
    failing_reason: str | None
    failing_since: dt.datetime | None
    created_at: dt.datetime
    # Keyword filters as typed, comma separated (see bot.filters); empty = none.
    include: str = ""
    exclude: str = ""
    created_by: int | None = None
    channel_type: str = "text"  # or "forum": each day is one forum post
    language: str = "en"  # of the posts: en, zh-CN or zh-TW

    @property
    def active(self) -> bool:
        """True when the feed should receive posts (not paused, not failing)."""
        return not self.paused and self.failing_reason is None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ChannelFeed:
        """Build from a channel_feeds row."""
        return cls(
            id=row["id"],
            guild_id=row["guild_id"],
            channel_id=row["channel_id"],
            categories=json.loads(row["categories"]),
            post_time=dt.time.fromisoformat(row["post_time"]),
            timezone=row["timezone"],
            paused=bool(row["paused"]),
            failing_reason=row["failing_reason"],
            failing_since=dt.datetime.fromisoformat(row["failing_since"]) if row["failing_since"] else None,
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            include=row["include_filter"],
            exclude=row["exclude_filter"],
            created_by=row["created_by"],
            channel_type=row["channel_type"],
            language=row["language"],
        )


class FeedStore:
    """Read and change channel feeds."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(
        self, *, guild_id: int, channel_id: int, categories: list[str], post_time: dt.time, timezone: str,
        created_by: int, now: dt.datetime, include: str = "", exclude: str = "", channel_type: str = "text",
        language: str = "en",
    ) -> tuple[ChannelFeed, bool]:
        """Create the channel's feed, or change it if it exists; return it and whether it is new."""
        async with self._db.transaction() as conn:
            existing = await conn.execute_fetchall("SELECT id FROM channel_feeds WHERE channel_id = ?", (channel_id,))
            created = not existing
            await conn.execute(
                """
                INSERT INTO channel_feeds (guild_id, channel_id, categories, post_time, timezone, include_filter,
                                           exclude_filter, channel_type, language, created_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (channel_id) DO UPDATE SET
                    categories = excluded.categories, post_time = excluded.post_time,
                    timezone = excluded.timezone, include_filter = excluded.include_filter,
                    exclude_filter = excluded.exclude_filter, channel_type = excluded.channel_type,
                    language = excluded.language,
                    updated_at = excluded.updated_at
                """,
                (guild_id, channel_id, json.dumps(categories), post_time.strftime("%H:%M"), timezone, include, exclude,
                 channel_type, language, created_by, iso_utc(now), iso_utc(now)),
            )
        feed = await self.by_channel(channel_id)
        assert feed is not None
        return feed, created

    async def by_channel(self, channel_id: int) -> ChannelFeed | None:
        """Return the feed of one channel."""
        rows = await self._db.fetchall("SELECT * FROM channel_feeds WHERE channel_id = ?", (channel_id,))
        return next((ChannelFeed.from_row(r) for r in rows), None)

    async def by_id(self, feed_id: int) -> ChannelFeed | None:
        """Return one feed by id."""
        rows = await self._db.fetchall("SELECT * FROM channel_feeds WHERE id = ?", (feed_id,))
        return next((ChannelFeed.from_row(r) for r in rows), None)

    async def in_guild(self, guild_id: int) -> list[ChannelFeed]:
        """Return a server's feeds, oldest first."""
        rows = await self._db.fetchall("SELECT * FROM channel_feeds WHERE guild_id = ? ORDER BY id", (guild_id,))
        return [ChannelFeed.from_row(r) for r in rows]

    async def all(self) -> list[ChannelFeed]:
        """Return every feed."""
        rows = await self._db.fetchall("SELECT * FROM channel_feeds ORDER BY id")
        return [ChannelFeed.from_row(r) for r in rows]

    async def remove(self, channel_id: int) -> bool:
        """Delete the channel's feed and its delivery records; return whether there was one."""
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall("SELECT id FROM channel_feeds WHERE channel_id = ?", (channel_id,))
            if not rows:
                return False
            feed_id = next(iter(rows))[0]
            await conn.execute("DELETE FROM deliveries WHERE target_kind = 'channel' AND target_id = ?", (feed_id,))
            await conn.execute("DELETE FROM channel_feeds WHERE id = ?", (feed_id,))
        return True

    async def set_paused(self, channel_id: int, paused: bool, now: dt.datetime) -> ChannelFeed | None:
        """Pause or resume a feed. Resuming also clears a failure, so delivery is tried again."""
        async with self._db.transaction() as conn:
            if paused:
                await conn.execute(
                    "UPDATE channel_feeds SET paused = 1, updated_at = ? WHERE channel_id = ?", (iso_utc(now), channel_id)
                )
            else:
                await conn.execute(
                    "UPDATE channel_feeds SET paused = 0, failing_reason = NULL, failing_since = NULL, updated_at = ? "
                    "WHERE channel_id = ?",
                    (iso_utc(now), channel_id),
                )
                # Deliveries stopped by the failure get a fresh start.
                await conn.execute(
                    """
                    UPDATE deliveries SET state = CASE WHEN header_message_id IS NULL THEN 'pending' ELSE 'sending' END,
                        attempts = 0, next_attempt_at = NULL, updated_at = ?
                    WHERE target_kind = 'channel' AND state = 'failed'
                      AND target_id = (SELECT id FROM channel_feeds WHERE channel_id = ?)
                    """,
                    (iso_utc(now), channel_id),
                )
        return await self.by_channel(channel_id)

    async def mark_failing(self, feed_id: int, reason: str, now: dt.datetime) -> bool:
        """Stop delivering to a feed until someone fixes it and runs /feed resume; return whether to tell anyone.

        True only when the feed was working until now, its channel's breakage was not told within
        ALERT_STRETCH (resumed, or removed and added again, ten times: one alert), and its server
        was told of fewer than ALERTS_PER_SERVER channels in that time.
        """
        cutoff = iso_utc(now - ALERT_STRETCH)
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "UPDATE channel_feeds SET failing_reason = ?, failing_since = ?, updated_at = ? "
                "WHERE id = ? AND failing_reason IS NULL RETURNING guild_id, channel_id",
                (reason, iso_utc(now), iso_utc(now), feed_id))
            found = list(rows)
            if not found:
                return False  # failing already (or removed)
            guild_id, channel_id = int(found[0][0]), int(found[0][1])
            told = list(await conn.execute_fetchall(
                "SELECT count(*) FROM feed_alerts WHERE guild_id = ? AND alerted_at > ? "
                "UNION ALL SELECT count(*) FROM feed_alerts WHERE guild_id = ? AND channel_id = ? AND alerted_at > ?",
                (guild_id, cutoff, guild_id, channel_id, cutoff)))
            server_told, channel_told = int(told[0][0]), int(told[1][0])
            if channel_told or server_told >= ALERTS_PER_SERVER:
                return False
            await conn.execute(
                "INSERT INTO feed_alerts (guild_id, channel_id, alerted_at) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id, channel_id) DO UPDATE SET alerted_at = excluded.alerted_at",
                (guild_id, channel_id, iso_utc(now)))
        return True

    async def end_alert_stretch(self, feed: ChannelFeed) -> None:
        """A post went through: a later breakage of this channel is news again."""
        # Read first: almost every post follows no breakage, and a read takes no write lock.
        if not await self._db.fetchall("SELECT 1 FROM feed_alerts WHERE guild_id = ? AND channel_id = ?",
                                       (feed.guild_id, feed.channel_id)):
            return
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM feed_alerts WHERE guild_id = ? AND channel_id = ?", (feed.guild_id, feed.channel_id))
