"""Gateway session starts booked in the database, so every process of one bot keeps Discord's identify pace."""

from __future__ import annotations

from storage.engine import NOW_MS, Database, Unit

# The slot's row is locked until the booking commits: two processes booking one bucket take turns.
_LOCKED_SLOT = {
    "sqlite": "SELECT next_at, {now} FROM gateway_identify_slots WHERE bucket = ?",
    "postgres": "SELECT next_at, {now} FROM gateway_identify_slots WHERE bucket = ? FOR UPDATE",
}


class IdentifySlots:
    """Discord starts at most one session per `max_concurrency` bucket per window, counted over the whole bot."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def book(self, bucket: int, window_seconds: float) -> float:
        """Book the bucket's next free slot; return how many seconds from now it starts."""
        window_ms = int(window_seconds * 1000)

        def booked(unit: Unit) -> float:
            now = NOW_MS[unit.dialect]
            unit.execute(f"INSERT INTO gateway_identify_slots (bucket, next_at) VALUES (?, {now}) ON CONFLICT (bucket) DO NOTHING",
                         (bucket,))
            next_at, at = unit.execute(_LOCKED_SLOT[unit.dialect].format(now=now), (bucket,)).fetchone()
            slot = max(int(next_at), int(at))
            unit.execute("UPDATE gateway_identify_slots SET next_at = ? WHERE bucket = ?", (slot + window_ms, bucket))
            return (slot - int(at)) / 1000

        return await self._db.write(booked)
