"""What the digest source last answered per URL (for conditional GET), and the poll log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.engine import Database, pick
from storage.records import iso_utc


@dataclass(frozen=True, slots=True)
class FetchState:
    """The validators and outcome of the last fetch of one URL."""

    url: str
    etag: str | None
    last_modified: str | None
    status: int
    content_hash: str | None
    fetched_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PollRun:
    """One poll of the source: when, whether it worked, what it brought."""

    started_at: dt.datetime
    finished_at: dt.datetime
    ok: bool
    new_digests: int
    summary: str
    # Set when the poll worked but the source looks wrong (nothing at all for a week).
    warning: str | None = None


class SourceStateStore:
    """Fetch validators and the poll log."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def fetch_state(self, url: str) -> FetchState | None:
        """Return what was recorded for `url`."""
        rows = await self._db.fetchall("SELECT * FROM source_fetches WHERE url = ?", (url,))
        for r in rows:
            return FetchState(r["url"], r["etag"], r["last_modified"], r["status"], r["content_hash"], dt.datetime.fromisoformat(r["fetched_at"]))
        return None

    async def record_fetch(self, url: str, *, status: int, etag: str | None, last_modified: str | None,
                           content_hash: str | None, now: dt.datetime) -> None:
        """Remember a fetched file's validators, once what it held is stored (`url` without credentials)."""
        async with self._db.transaction() as conn:
            await conn.execute(
                """
                INSERT INTO source_fetches (url, etag, last_modified, status, content_hash, fetched_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (url) DO UPDATE SET
                    etag = coalesce(excluded.etag, source_fetches.etag),
                    last_modified = coalesce(excluded.last_modified, source_fetches.last_modified),
                    status = excluded.status,
                    content_hash = coalesce(excluded.content_hash, source_fetches.content_hash),
                    fetched_at = excluded.fetched_at
                """,
                (url, etag, last_modified, status, content_hash, iso_utc(now)),
            )

    async def record_poll(self, run: PollRun) -> None:
        """Append one poll to the log, keeping the last 1,000."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO poll_runs (started_at, finished_at, ok, new_digests, summary, warning) VALUES (?, ?, ?, ?, ?, ?)",
                (iso_utc(run.started_at), iso_utc(run.finished_at),
                 int(run.ok), run.new_digests, run.summary, run.warning),
            )
            await conn.execute("DELETE FROM poll_runs WHERE id <= (SELECT max(id) - 1000 FROM poll_runs)")

    async def last_poll(self, *, ok_only: bool = False) -> PollRun | None:
        """Return the latest poll (or the latest successful one)."""
        where = "WHERE ok = 1" if ok_only else ""
        rows = await self._db.fetchall(f"SELECT * FROM poll_runs {where} ORDER BY id DESC LIMIT 1")
        for r in rows:
            return PollRun(dt.datetime.fromisoformat(r["started_at"]), dt.datetime.fromisoformat(r["finished_at"]),
                           bool(r["ok"]), r["new_digests"], r["summary"], r["warning"])
        return None

    async def first_poll_at(self) -> dt.datetime | None:
        """When the first recorded poll finished (the start of failures when none ever worked)."""
        rows = await self._db.fetchall("SELECT finished_at FROM poll_runs ORDER BY id LIMIT 1")
        return dt.datetime.fromisoformat(rows[0][0]) if rows else None

    async def checked_through(self) -> dt.date | None:
        """The day up to which a catch-up after downtime has asked the source for every day."""
        rows = await self._db.fetchall("SELECT value FROM meta WHERE key = 'source_checked_through'")
        return dt.date.fromisoformat(str(rows[0][0])) if rows else None

    async def set_checked_through(self, day: dt.date) -> None:
        """Remember that every day up to `day` was asked for (and stored, or found missing)."""
        async with self._db.transaction() as conn:
            # Dates as text compare as dates; the scalar max is spelt GREATEST on PostgreSQL.
            await conn.execute(
                pick(self._db,
                     sqlite="INSERT INTO meta (key, value) VALUES ('source_checked_through', ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                     postgres="INSERT INTO meta (key, value) VALUES ('source_checked_through', ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = GREATEST(meta.value, excluded.value)"),
                (day.isoformat(),),
            )
