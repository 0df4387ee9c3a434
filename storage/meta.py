"""Small named values the program keeps about itself (what it last told Discord, and the like)."""

from __future__ import annotations

from storage.engine import Database


class MetaStore:
    """Key/value pairs in the `meta` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value stored under `key`, if any."""
        rows = await self._db.fetchall("SELECT value FROM meta WHERE key = ?", (key,))
        return next((str(r[0]) for r in rows), None)

    async def set(self, key: str, value: str) -> None:
        """Store `value` under `key`."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value)
            )
