"""What the bot keeps about a member beyond subscriptions: feedback, their ranking model, and forgetting all of it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from storage.engine import Database, pick
from storage.marks import BUMP_SUBSCRIPTIONS, MARK_MODEL_STALE, stale_params
from storage.records import iso_utc

# Most labelled papers a member's model learns from (the latest).
MAX_LABELS = 1000
# Most votes kept per member: the oldest beyond it are forgotten (the model reads the latest 1,000).
MAX_VOTES = 2000
@dataclass(frozen=True, slots=True)
class StaleMark:
    """A member's model is out of date: since which mark (`era`) and by how many changes."""

    era: int
    changes: int


@dataclass(frozen=True, slots=True)
class MemberModel:
    """A member's linear model: weights of hashed TF-IDF features (bytes as stored), and what it learnt from."""

    user_id: int
    features: bytes
    weights: bytes
    intercept: float
    positives: int
    negatives: int
    trained_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Labels:
    """What a member told the bot about papers: liked (👍 or saved) and disliked (👎), by arXiv id."""

    liked: list[str]
    disliked: list[str]


class MemberStore:
    """Feedback votes, member models, and /forget me."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def vote(self, user_id: int, arxiv_id: str, vote: int, now: dt.datetime) -> int | None:
        """Record 👍 (1) or 👎 (-1); the same vote again takes it back. Return the vote now standing."""
        if vote not in (-1, 1):
            raise ValueError(f"a vote is 1 or -1, not {vote}")
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT vote FROM feedback WHERE user_id = ? AND arxiv_id = ?", (user_id, arxiv_id))
            before = next((int(r[0]) for r in rows), None)
            if before == vote:
                await conn.execute("DELETE FROM feedback WHERE user_id = ? AND arxiv_id = ?", (user_id, arxiv_id))
                standing = None
            else:
                await conn.execute(
                    "INSERT INTO feedback (user_id, arxiv_id, vote, voted_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (user_id, arxiv_id) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                    (user_id, arxiv_id, vote, iso_utc(now)))
                standing = vote
                # Bounded per member: past MAX_VOTES the oldest votes go.
                await conn.execute(pick(
                    self._db,
                    sqlite="DELETE FROM feedback WHERE user_id = ? AND arxiv_id IN (SELECT arxiv_id FROM feedback "
                           "WHERE user_id = ? ORDER BY voted_at DESC, arxiv_id LIMIT -1 OFFSET ?)",
                    postgres="DELETE FROM feedback WHERE user_id = ? AND arxiv_id IN (SELECT arxiv_id FROM feedback "
                             "WHERE user_id = ? ORDER BY voted_at DESC, arxiv_id OFFSET ?)"), (user_id, user_id, MAX_VOTES))
            await conn.execute(MARK_MODEL_STALE, stale_params(user_id, now))
        return standing

    async def votes(self, user_id: int) -> dict[str, int]:
        """The member's standing votes by arXiv id."""
        rows = await self._db.fetchall("SELECT arxiv_id, vote FROM feedback WHERE user_id = ?", (user_id,))
        return {str(r[0]): int(r[1]) for r in rows}

    async def labels(self, user_id: int, limit: int = MAX_LABELS) -> Labels:
        """Liked = 👍 or saved (and not 👎); disliked = 👎; the latest `limit` of them, newest first.

        The cap bounds what one member's training reads, however many papers they pressed.
        """
        rows = await self._db.fetchall(
            "SELECT arxiv_id, vote, voted_at AS at FROM feedback WHERE user_id = ? "
            "UNION ALL SELECT arxiv_id, 1, saved_at FROM saved_papers WHERE user_id = ? "
            "AND arxiv_id NOT IN (SELECT arxiv_id FROM feedback WHERE user_id = ? AND vote = -1) "
            "ORDER BY at DESC LIMIT ?",
            (user_id, user_id, user_id, limit))
        liked = list(dict.fromkeys(str(r[0]) for r in rows if int(r[1]) == 1))
        disliked = list(dict.fromkeys(str(r[0]) for r in rows if int(r[1]) == -1))
        return Labels(liked, disliked)

    async def stale_members(self, limit: int, share: tuple[int, int] = (0, 1)) -> list[int]:
        """Members whose model is out of date, oldest change first; `share` (k, n): those with id % n == k only."""
        index, count = share
        rows = await self._db.fetchall("SELECT user_id FROM member_models_stale WHERE user_id % ? = ? ORDER BY since LIMIT ?",
                                       (count, index, limit))
        return [int(r[0]) for r in rows]

    async def stale_mark(self, user_id: int) -> StaleMark | None:
        """The member's stale mark: read it before their labels to train (None: the model is up to date)."""
        rows = await self._db.fetchall("SELECT era, changes FROM member_models_stale WHERE user_id = ?", (user_id,))
        return StaleMark(int(rows[0][0]), int(rows[0][1])) if rows else None

    async def store_model(self, model: MemberModel, seen: StaleMark | None) -> bool:
        """Keep a freshly trained model while what it learnt from still stands; return whether it was kept.

        `seen` is the mark read before the training read the labels. The model is thrown away when
        the member was forgotten meanwhile: their mark is gone, or a new one (a new era) stands. With
        no mark seen, it is kept only while there is still none and the member still has labels.
        The mark is cleared when nothing changed while the model trained.
        """
        values = (model.user_id, model.features, model.weights, model.intercept, model.positives, model.negatives,
                  iso_utc(model.trained_at))
        async with self._db.transaction() as conn:
            if seen is not None:
                fence = "EXISTS (SELECT 1 FROM member_models_stale WHERE user_id = ? AND era = ?)"
                fence_values: tuple[object, ...] = (model.user_id, seen.era)
            else:
                fence = ("NOT EXISTS (SELECT 1 FROM member_models_stale WHERE user_id = ?) AND ("
                         "EXISTS (SELECT 1 FROM feedback WHERE user_id = ?) OR EXISTS (SELECT 1 FROM saved_papers WHERE user_id = ?) "
                         "OR EXISTS (SELECT 1 FROM subscriptions WHERE user_id = ?))")
                fence_values = (model.user_id,) * 4
            rows = await conn.execute_fetchall(
                "INSERT INTO member_models (user_id, features, weights, intercept, positives, negatives, trained_at) "
                f"SELECT ?, ?, ?, ?, ?, ?, ? WHERE {fence} "
                "ON CONFLICT (user_id) DO UPDATE SET features = excluded.features, weights = excluded.weights, "
                "intercept = excluded.intercept, positives = excluded.positives, negatives = excluded.negatives, "
                "trained_at = excluded.trained_at RETURNING user_id",
                (*values, *fence_values))
            kept = bool(list(rows))
            if seen is not None:
                await conn.execute("DELETE FROM member_models_stale WHERE user_id = ? AND era = ? AND changes = ?",
                                   (model.user_id, seen.era, seen.changes))
        return kept

    async def clear_stale(self, user_id: int, seen: StaleMark | None) -> None:
        """Drop a stale mark that needs no model (nothing to learn from yet), unless it changed since `seen`."""
        if seen is None:
            return
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM member_models_stale WHERE user_id = ? AND era = ? AND changes = ?",
                               (user_id, seen.era, seen.changes))

    async def drop_model(self, user_id: int) -> None:
        """Forget a model that no longer has enough to learn from."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM member_models WHERE user_id = ?", (user_id,))

    async def model(self, user_id: int) -> MemberModel | None:
        """The member's stored model, if they have given enough feedback for one."""
        rows = await self._db.fetchall("SELECT * FROM member_models WHERE user_id = ?", (user_id,))
        return next((_model(r) for r in rows), None)

    async def models(self, user_ids: list[int]) -> dict[int, MemberModel]:
        """The stored models of these members (for ordering DMs)."""
        found: dict[int, MemberModel] = {}
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start:start + 500]
            rows = await self._db.fetchall(
                f"SELECT * FROM member_models WHERE user_id IN ({','.join('?' * len(chunk))})", tuple(chunk))
            found.update({int(r["user_id"]): _model(r) for r in rows})
        return found

    async def language(self, user_id: int) -> str | None:
        """The language the member chose with /language, if any."""
        rows = await self._db.fetchall("SELECT language FROM member_languages WHERE user_id = ?", (user_id,))
        return str(rows[0][0]) if rows else None

    async def set_language(self, user_id: int, language: str | None) -> None:
        """Choose a language for the member's replies and DMs (None: follow their Discord)."""
        async with self._db.transaction() as conn:
            if language is None:
                await conn.execute("DELETE FROM member_languages WHERE user_id = ?", (user_id,))
            else:
                await conn.execute("INSERT INTO member_languages (user_id, language) VALUES (?, ?) "
                                   "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language", (user_id, language))

    async def forget(self, user_id: int) -> dict[str, int]:
        """Delete everything stored about a member, in one transaction; return how many rows of each went."""
        deleted: dict[str, int] = {}
        async with self._db.transaction() as conn:
            for label, sql in (
                ("subscriptions", "DELETE FROM subscriptions WHERE user_id = ?"),
                ("settings", "DELETE FROM user_settings WHERE user_id = ?"),
                ("saved papers", "DELETE FROM saved_papers WHERE user_id = ?"),
                ("feedback", "DELETE FROM feedback WHERE user_id = ?"),
                ("model", "DELETE FROM member_models WHERE user_id = ?"),
                ("pending model", "DELETE FROM member_models_stale WHERE user_id = ?"),
                ("language", "DELETE FROM member_languages WHERE user_id = ?"),
                ("DM records", "DELETE FROM deliveries WHERE target_kind = 'dm' AND target_id = ?"),
                # The feeds stay (they belong to the server); their alerts go to the server instead.
                ("feeds set up", "UPDATE channel_feeds SET created_by = NULL WHERE created_by = ?"),
            ):
                cursor = await conn.execute(sql, (user_id,))
                deleted[label] = cursor.rowcount
            if deleted["subscriptions"]:
                await conn.execute(BUMP_SUBSCRIPTIONS[self._db.dialect])
        return deleted


def _model(row: sqlite3.Row) -> MemberModel:
    return MemberModel(row["user_id"], bytes(row["features"]), bytes(row["weights"]), float(row["intercept"]),
                       int(row["positives"]), int(row["negatives"]), dt.datetime.fromisoformat(row["trained_at"]))
