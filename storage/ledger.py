"""The delivery ledger: one row per (target, digest), recording exactly how far its post got.

Every step of a post (header, thread, each part) is committed as soon as Discord accepted it,
so a restart resumes after the last accepted step; together with message nonces this keeps a
crash from ever producing a second header or a repeated part.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from storage.engine import Database, Unit
from storage.errors import StorageError
from storage.records import iso_utc

CHANNEL = "channel"
DM = "dm"
# Where the two engines' SQL differs, both forms side by side.
_OPEN = {
    "sqlite": "INSERT OR IGNORE INTO deliveries (target_kind, target_id, digest_id, created_at, updated_at) "
              "SELECT ?, ?, ?, ?, ? WHERE {target_exists}",
    "postgres": "INSERT INTO deliveries (target_kind, target_id, digest_id, created_at, updated_at) "
                "SELECT ?, ?, ?, ?, ? WHERE {target_exists} ON CONFLICT DO NOTHING",
}
# Append one message id to the JSON list of the row's messages.
_APPEND_ID = {
    "sqlite": "json_insert(message_ids, '$[#]', ?)",
    "postgres": "(message_ids::jsonb || to_jsonb(?::bigint))::text",
}
_RECORD_PART = {
    "sqlite": f"UPDATE deliveries SET parts_sent = max(parts_sent, ?), message_ids = {_APPEND_ID['sqlite']}, "
              "last_error = NULL, updated_at = ? WHERE id = ?",
    "postgres": f"UPDATE deliveries SET parts_sent = GREATEST(parts_sent, ?), message_ids = {_APPEND_ID['postgres']}, "
                "last_error = NULL, updated_at = ? WHERE id = ?",
}
# A delivery row is only ever created for a target that still exists.
_TARGET_EXISTS = {
    CHANNEL: "EXISTS (SELECT 1 FROM channel_feeds WHERE id = ?)",
    DM: "EXISTS (SELECT 1 FROM user_settings WHERE user_id = ?)",
}


class DeliveryGone(StorageError):
    """The delivery row was deleted while its post was under way (feed removed, member forgotten)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One target's post of one digest, and how far it got."""

    id: int
    target_kind: str
    target_id: int
    digest_id: int
    state: str
    header_message_id: int | None
    thread_id: int | None
    parts_total: int
    parts_sent: int
    message_ids: list[int]
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any) -> Delivery:
        """Build from a deliveries row."""
        return cls(
            id=row["id"],
            target_kind=row["target_kind"],
            target_id=row["target_id"],
            digest_id=row["digest_id"],
            state=row["state"],
            header_message_id=row["header_message_id"],
            thread_id=row["thread_id"],
            parts_total=row["parts_total"],
            parts_sent=row["parts_sent"],
            message_ids=json.loads(row["message_ids"]),
            attempts=row["attempts"],
            last_error=row["last_error"],
            next_attempt_at=dt.datetime.fromisoformat(row["next_attempt_at"]) if row["next_attempt_at"] else None,
            updated_at=dt.datetime.fromisoformat(row["updated_at"]),
        )

    @property
    def finished(self) -> bool:
        """True when nothing more will be sent for this row."""
        return self.state in ("done", "skipped", "failed")


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """The latest delivery of a target, for /feed list and /status."""

    date: dt.date
    state: str
    last_error: str | None
    updated_at: dt.datetime


T = TypeVar("T")
# How long the first ledger step waits for others to share its commit.
_COMMIT_WINDOW = 0.005
Step = Callable[[Unit], object]


def _run_steps(unit: Unit, steps: list[Step]) -> list[tuple[bool, object]]:
    """Run each step in its own savepoint: a step that fails is undone alone and fails alone."""
    results: list[tuple[bool, object]] = []
    for step in steps:
        try:
            with unit.savepoint():
                results.append((True, step(unit)))
        except unit.Error as exc:
            results.append((False, unit.translate(exc)))
    return results


class _GroupCommit:
    """Ledger steps of every post in flight, committed together.

    Each caller still waits until its own step is committed before it sends the next message,
    but the steps that arrive while a commit is running share the next transaction and one trip
    to the writer thread: fifty channels posting at once cost a few commits per round, not fifty.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[Step, asyncio.Future[object]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, step: Callable[[Unit], T]) -> T:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending.append((step, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future  # type: ignore[return-value]  # the step's own result

    async def _flush(self) -> None:
        # Gather the steps of the next few milliseconds first: without the wait, a batch averaged
        # 1.2 steps (a transaction and a thread hop each); with 5 ms it is about 5, and a post's
        # pace is set by Discord's limits (a message a second per channel), not by 5 ms.
        await asyncio.sleep(_COMMIT_WINDOW)
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                rows = await self._db.write(_run_steps, [step for step, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    # Nobody may wait forever on a step that will never be committed.
                    for _, future in self._pending:
                        if not future.done():
                            future.set_exception(exc)
                    self._pending = []
                    raise
                continue
            for (_, future), (ok, result) in zip(batch, rows, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(result)
                else:
                    assert isinstance(result, StorageError)
                    future.set_exception(result)


class DeliveryLedger:
    """Reads and advances delivery rows; every step is committed before the caller goes on."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._commits = _GroupCommit(db)

    async def open(self, kind: str, target_id: int, digest_id: int, now: dt.datetime) -> Delivery | None:
        """Return the row for (target, digest), creating it in state `pending` the first time.

        None when the target is gone: a feed removed, or a member who ran /forget me while their
        DM was being prepared (a row naming them must not come back).
        """
        target_exists = _TARGET_EXISTS[kind]

        def opened(unit: Unit) -> Any:
            unit.execute(
                _OPEN[unit.dialect].format(target_exists=target_exists),
                (kind, target_id, digest_id, iso_utc(now), iso_utc(now), target_id),
            )
            return unit.execute(
                "SELECT * FROM deliveries WHERE target_kind = ? AND target_id = ? AND digest_id = ?", (kind, target_id, digest_id)
            ).fetchone()

        row = await self._commits.run(opened)
        return Delivery.from_row(row) if row is not None else None

    async def get(self, delivery_id: int) -> Delivery:
        """Return one row by id."""
        rows = await self._db.fetchall("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        return Delivery.from_row(next(iter(rows)))

    async def _update(self, delivery_id: int, now: dt.datetime, assignments: str, params: tuple[object, ...]) -> Delivery:
        # One statement, one trip to the writer thread: a day posted to many channels is many steps.
        sql = f"UPDATE deliveries SET {assignments}, updated_at = ? WHERE id = ? RETURNING *"

        def updated(unit: Unit) -> Any:
            return unit.execute(sql, (*params, iso_utc(now), delivery_id)).fetchone()

        row = await self._commits.run(updated)
        if row is None:
            raise DeliveryGone(f"delivery {delivery_id} is gone: its feed was removed or its member forgotten mid-post")
        return Delivery.from_row(row)

    async def start(self, delivery_id: int, parts_total: int, now: dt.datetime) -> Delivery:
        """Mark the row as being sent, with the number of parts the post has."""
        return await self._update(delivery_id, now, "state = 'sending', parts_total = ?", (parts_total,))

    async def record_header(self, delivery_id: int, message_id: int, now: dt.datetime) -> Delivery:
        """The header (or the first DM) was accepted by Discord."""
        return await self._update(
            delivery_id, now, f"header_message_id = ?, message_ids = {_APPEND_ID[self._db.dialect]}", (message_id, message_id)
        )

    async def record_thread(self, delivery_id: int, thread_id: int, now: dt.datetime) -> Delivery:
        """The thread under the header exists."""
        return await self._update(delivery_id, now, "thread_id = ?", (thread_id,))

    async def record_part(self, delivery_id: int, index: int, message_id: int, now: dt.datetime) -> None:
        """Part `index` (0-based) was accepted; parts before it were accepted earlier.

        The most frequent step of all (a part per message), so it returns nothing: the caller
        knows where it is, and reading the row back would cost more than the update.
        """
        params = (index + 1, message_id, iso_utc(now), delivery_id)

        def recorded(unit: Unit) -> None:
            unit.execute(_RECORD_PART[unit.dialect], params)

        await self._commits.run(recorded)

    async def finish(self, delivery_id: int, now: dt.datetime, state: str = "done") -> Delivery:
        """The post is complete (`done`), or there was nothing to post (`skipped`)."""
        return await self._update(delivery_id, now, "state = ?, next_attempt_at = NULL", (state,))

    async def fail(self, delivery_id: int, error: str, now: dt.datetime) -> Delivery:
        """Stop trying: the target refused (403/404) or retries ran out."""
        return await self._update(delivery_id, now, "state = 'failed', attempts = attempts + 1, last_error = ?", (error,))

    async def retry_later(self, delivery_id: int, error: str, retry_at: dt.datetime, now: dt.datetime) -> Delivery:
        """A passing failure (5xx, network): count it and try again at `retry_at`."""
        return await self._update(
            delivery_id, now, "attempts = attempts + 1, last_error = ?, next_attempt_at = ?", (error, iso_utc(retry_at))
        )

    async def for_digests(self, kind: str, digest_ids: list[int]) -> dict[tuple[int, int], Delivery]:
        """Return the rows of these digests, keyed by (target id, digest id)."""
        if not digest_ids:
            return {}
        marks = ",".join("?" * len(digest_ids))
        rows = await self._db.fetchall(
            f"SELECT * FROM deliveries WHERE target_kind = ? AND digest_id IN ({marks})", (kind, *digest_ids)
        )
        return {(r["target_id"], r["digest_id"]): Delivery.from_row(r) for r in rows}

    async def latest(self, kind: str, target_id: int) -> DeliverySummary | None:
        """Return the most recent delivery of a target, with its digest date."""
        rows = await self._db.fetchall(
            """
            SELECT d.date, l.state, l.last_error, l.updated_at
            FROM deliveries l JOIN digests d ON d.id = l.digest_id
            WHERE l.target_kind = ? AND l.target_id = ?
            ORDER BY d.date DESC, l.id DESC LIMIT 1
            """,
            (kind, target_id),
        )
        for row in rows:
            return DeliverySummary(dt.date.fromisoformat(row[0]), row[1], row[2], dt.datetime.fromisoformat(row[3]))
        return None

    async def count_by_state(self, kind: str) -> dict[str, int]:
        """Return how many rows of a kind are in each state."""
        rows = await self._db.fetchall(
            "SELECT state, count(*) FROM deliveries WHERE target_kind = ? GROUP BY state", (kind,)
        )
        return {r[0]: r[1] for r in rows}
