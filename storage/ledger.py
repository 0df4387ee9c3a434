"""The delivery ledger: one row per (target, digest), recording exactly how far its post got.

Every step of a post (header, thread, each part) is committed as soon as Discord accepted it,
so a restart resumes after the last accepted step; together with message nonces this keeps a
crash from ever producing a second header or a repeated part.

A row is claimed before it is posted, and every step is written only while the claim holds:
several processes sharing one PostgreSQL database never post one row side by side, and a
process that died leaves its rows to another once their lease lapses (`Claimant`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from storage.engine import NOW_MS, Database, Unit
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
              "last_error = NULL, updated_at = ?, claim_until = {now} + ? WHERE id = ? AND claim_token = ? RETURNING id",
    "postgres": f"UPDATE deliveries SET parts_sent = GREATEST(parts_sent, ?), message_ids = {_APPEND_ID['postgres']}, "
                "last_error = NULL, updated_at = ?, claim_until = {now} + ? WHERE id = ? AND claim_token = ? RETURNING id",
}
# A row may be claimed when nobody holds it, its holder is this process (or, by index, its dead
# predecessor: the run lock lets one process of an index live at a time) or the lease lapsed.
# SKIP LOCKED: a row another process is claiming this very moment is simply not this one's.
_CLAIM = {
    "sqlite": "UPDATE deliveries SET claim_owner = ?, claim_token = ?, claim_until = {now} + ? "
              "WHERE id = (SELECT id FROM deliveries WHERE target_kind = ? AND target_id = ? AND digest_id = ? "
              "AND state IN ('pending', 'sending') AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
              "AND (claim_token IS NULL OR claim_token = ? OR claim_owner = ? "
              "OR claim_until < {now})) RETURNING *",
    "postgres": "UPDATE deliveries SET claim_owner = ?, claim_token = ?, claim_until = {now} + ? "
                "WHERE id = (SELECT id FROM deliveries WHERE target_kind = ? AND target_id = ? AND digest_id = ? "
                "AND state IN ('pending', 'sending') AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
                "AND (claim_token IS NULL OR claim_token = ? OR claim_owner = ? "
                "OR claim_until < {now}) FOR UPDATE SKIP LOCKED) RETURNING *",
}
# A delivery row is only ever created for a target that still exists.
_TARGET_EXISTS = {
    CHANNEL: "EXISTS (SELECT 1 FROM channel_feeds WHERE id = ?)",
    DM: "EXISTS (SELECT 1 FROM user_settings WHERE user_id = ?)",
}


class DeliveryGone(StorageError):
    """The delivery row was deleted while its post was under way (feed removed, member forgotten)."""


class ClaimLost(StorageError):
    """Another process holds the row now (this one's lease lapsed): this process stops posting it."""


@dataclass(frozen=True, slots=True)
class Claimant:
    """Who claims rows: a process index (k of DIGESTBOT_PROCESS=k/n), a token drawn at each start, the lease."""

    owner: int = 0
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    lease_seconds: float = 60.0

    @property
    def lease_ms(self) -> int:
        return int(self.lease_seconds * 1000)


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
    # True when another live process holds the row's claim: this one leaves the post to it.
    claimed_elsewhere: bool = False

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


_GONE, _LOST = "gone", "lost"
# Later than any retry time: a post asked for now does not wait for its backoff.
_NEVER = "9999-12-31T23:59:59+00:00"


def _why_not_written(unit: Unit, delivery_id: int) -> str:
    """A fenced step wrote nothing: the row was deleted, or another process claims it now."""
    row = unit.execute("SELECT 1 FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return _GONE if row is None else _LOST


def _written(delivery_id: int, result: Any) -> Any:
    """The step's row, or the reason it was not written raised (after the commit, so other steps stay)."""
    if result == _GONE:
        raise DeliveryGone(f"delivery {delivery_id} is gone: its feed was removed or its member forgotten mid-post")
    if result == _LOST:
        raise ClaimLost(f"delivery {delivery_id} is claimed by another process now (this one's lease lapsed); it goes on there")
    return result


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

    def __init__(self, db: Database, claimant: Claimant | None = None) -> None:
        self._db = db
        self._commits = _GroupCommit(db)
        self.claimant = claimant or Claimant()
        # The rows this process claimed and has not let go of: nothing to renew, no write, when empty.
        self._held: set[int] = set()

    async def open(self, kind: str, target_id: int, digest_id: int, now: dt.datetime, *,
                   early: bool = False) -> Delivery | None:
        """Return the row for (target, digest), created in state `pending` the first time and claimed by this process.

        None when the target is gone: a feed removed, or a member who ran /forget me while their
        DM was being prepared (a row naming them must not come back). A finished row comes back
        as it is; a row another live process (or another task of this one) holds, or one waiting for
        its retry (unless `early`: someone asked for it now), comes back with `claimed_elsewhere`.
        """
        target_exists = _TARGET_EXISTS[kind]
        me = self.claimant

        def opened(unit: Unit) -> tuple[Any, bool]:
            unit.execute(
                _OPEN[unit.dialect].format(target_exists=target_exists),
                (kind, target_id, digest_id, iso_utc(now), iso_utc(now), target_id),
            )
            claimed = unit.execute(_CLAIM[unit.dialect].format(now=NOW_MS[unit.dialect]),
                                   (me.owner, me.token, me.lease_ms, kind, target_id, digest_id,
                                    _NEVER if early else iso_utc(now), me.token, me.owner)).fetchone()
            if claimed is not None:
                return claimed, False
            row = unit.execute(
                "SELECT * FROM deliveries WHERE target_kind = ? AND target_id = ? AND digest_id = ?", (kind, target_id, digest_id)
            ).fetchone()
            return row, row is not None and row["state"] in ("pending", "sending")

        # Alone in its transaction, not in a group commit: a batch creating several rows takes their
        # insert locks in its own order, and two processes batching the same targets in two orders
        # waited on each other until lock_timeout (every write of both stalled, leases lapsed).
        row, elsewhere = await self._db.write(opened)
        if row is None:
            return None
        delivery = Delivery.from_row(row)
        if elsewhere or (not delivery.finished and delivery.id in self._held):
            # Held by another process, or by another task of this one (a scheduled post and /feed send-now).
            return replace(delivery, claimed_elsewhere=True)
        if not delivery.finished:
            self._held.add(delivery.id)
        return delivery

    def done_with(self, delivery_id: int) -> None:
        """This process's task for the row ended (however it ended): another task may open it again."""
        self._held.discard(delivery_id)

    async def renew_claims(self) -> int:
        """Extend the lease of every row this process is posting; returns how many (run well within the lease)."""
        me = self.claimant
        if not self._held:
            return 0

        def renewed(unit: Unit) -> int:
            now = NOW_MS[unit.dialect]
            return len(unit.execute(f"UPDATE deliveries SET claim_until = {now} + ? WHERE claim_token = ? "
                                    "AND state IN ('pending', 'sending') RETURNING id", (me.lease_ms, me.token)).fetchall())

        return await self._commits.run(renewed)

    async def release_claims(self) -> int:
        """Let go of every row this process holds (it is stopping): another process may go on at once."""
        token = self.claimant.token
        self._held.clear()

        def released(unit: Unit) -> int:
            return len(unit.execute("UPDATE deliveries SET claim_token = NULL, claim_until = NULL WHERE claim_token = ? "
                                    "RETURNING id", (token,)).fetchall())

        return await self._commits.run(released)

    async def get(self, delivery_id: int) -> Delivery:
        """Return one row by id."""
        rows = await self._db.fetchall("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        for row in rows:
            return Delivery.from_row(row)
        raise DeliveryGone(f"delivery {delivery_id} is gone: its feed was removed or its member forgotten")

    async def _update(self, delivery_id: int, now: dt.datetime, assignments: str, params: tuple[object, ...], *,
                      release: bool = False) -> Delivery:
        # One statement, one trip to the writer thread: a day posted to many channels is many steps.
        # Written only while this process's claim holds (which the step renews, or ends with `release`).
        me = self.claimant
        claim = "claim_token = NULL, claim_until = NULL" if release else "claim_until = {now} + ?"
        lease = () if release else (me.lease_ms,)

        def updated(unit: Unit) -> Any:
            sql = (f"UPDATE deliveries SET {assignments}, updated_at = ?, {claim.format(now=NOW_MS[unit.dialect])} "
                   "WHERE id = ? AND claim_token = ? RETURNING *")
            row = unit.execute(sql, (*params, iso_utc(now), *lease, delivery_id, me.token)).fetchone()
            return row if row is not None else _why_not_written(unit, delivery_id)

        try:
            row = _written(delivery_id, await self._commits.run(updated))
        except (DeliveryGone, ClaimLost):
            self._held.discard(delivery_id)
            raise
        if release:
            self._held.discard(delivery_id)
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
        me = self.claimant
        params = (index + 1, message_id, iso_utc(now), me.lease_ms, delivery_id, me.token)

        def recorded(unit: Unit) -> object:
            sql = _RECORD_PART[unit.dialect].format(now=NOW_MS[unit.dialect])
            row = unit.execute(sql, params).fetchone()
            return True if row is not None else _why_not_written(unit, delivery_id)

        try:
            _written(delivery_id, await self._commits.run(recorded))
        except (DeliveryGone, ClaimLost):
            self._held.discard(delivery_id)
            raise

    async def finish(self, delivery_id: int, now: dt.datetime, state: str = "done") -> Delivery:
        """The post is complete (`done`), or there was nothing to post (`skipped`)."""
        return await self._update(delivery_id, now, "state = ?, next_attempt_at = NULL", (state,), release=True)

    async def fail(self, delivery_id: int, error: str, now: dt.datetime) -> Delivery:
        """Stop trying: the target refused (403/404) or retries ran out."""
        return await self._update(delivery_id, now, "state = 'failed', attempts = attempts + 1, last_error = ?", (error,),
                                  release=True)

    async def retry_later(self, delivery_id: int, error: str, retry_at: dt.datetime, now: dt.datetime) -> Delivery:
        """A passing failure (5xx, network): count it and try again at `retry_at` (whichever process is there then)."""
        return await self._update(
            delivery_id, now, "attempts = attempts + 1, last_error = ?, next_attempt_at = ?", (error, iso_utc(retry_at)),
            release=True,
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
