"""Each member's reading list: papers saved with the Save button or /save, newest first."""

from __future__ import annotations

import datetime as dt

from storage.engine import Database
from storage.marks import MARK_MODEL_STALE, stale_params
from storage.records import StoredPaper, iso_utc

# A reading list is for reading: past this many papers, saving asks the member to remove some.
MAX_SAVED = 2000


class ReadingListFull(Exception):
    """The member's list already holds MAX_SAVED papers."""


class ReadingList:
    """Save, remove and list a member's papers. A member only ever reads their own list."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, user_id: int, arxiv_id: str, now: dt.datetime) -> bool:
        """Add a paper; return whether it is new to the list (saving twice changes nothing)."""
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT 1 FROM saved_papers WHERE user_id = ? AND arxiv_id = ?", (user_id, arxiv_id))
            if list(rows):
                return False
            counted = await conn.execute_fetchall("SELECT count(*) FROM saved_papers WHERE user_id = ?", (user_id,))
            if int(next(iter(counted))[0]) >= MAX_SAVED:
                raise ReadingListFull(MAX_SAVED)
            await conn.execute("INSERT INTO saved_papers (user_id, arxiv_id, saved_at) VALUES (?, ?, ?)",
                               (user_id, arxiv_id, iso_utc(now)))
            await conn.execute(MARK_MODEL_STALE, stale_params(user_id, now))
        return True

    async def remove(self, user_id: int, arxiv_id: str, now: dt.datetime) -> bool:
        """Take a paper off the list; return whether it was on it."""
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "DELETE FROM saved_papers WHERE user_id = ? AND arxiv_id = ? RETURNING arxiv_id", (user_id, arxiv_id))
            removed = bool(list(rows))
            if removed:
                await conn.execute(MARK_MODEL_STALE, stale_params(user_id, now))
        return removed

    async def count(self, user_id: int) -> int:
        """How many papers the member saved."""
        rows = await self._db.fetchall("SELECT count(*) FROM saved_papers WHERE user_id = ?", (user_id,))
        return int(rows[0][0])

    async def page(self, user_id: int, offset: int, limit: int) -> list[tuple[StoredPaper, dt.datetime]]:
        """Saved papers, newest first, with when each was saved."""
        rows = await self._db.fetchall(
            "SELECT p.*, s.saved_at AS saved_at FROM saved_papers s JOIN papers p ON p.arxiv_id = s.arxiv_id "
            "WHERE s.user_id = ? ORDER BY s.saved_at DESC, s.arxiv_id DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        return [(StoredPaper.from_row(r), dt.datetime.fromisoformat(r["saved_at"])) for r in rows]

    async def everything(self, user_id: int) -> list[tuple[StoredPaper, dt.datetime]]:
        """The whole list, newest first (for exports)."""
        return await self.page(user_id, 0, MAX_SAVED)
