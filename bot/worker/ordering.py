"""Ordering members' DM papers by their models: the bot-side half, which sends the work to the worker."""

from __future__ import annotations

from collections.abc import Sequence

from bot.ranking.matching import UserMatches
from bot.worker.pool import BOT, WorkerPool
from bot.worker.tasks import order_positions
from storage.records import DigestEntry


async def order_by_models(pool: WorkerPool, digest_id: int, entries: Sequence[DigestEntry],
                          matches: dict[int, UserMatches], owner: int = BOT) -> int:
    """Order each member's matched papers by their model, in the worker; return how many were ordered.

    `owner` is whose slot the work waits in: the bot's for DMs, the member's for /digest mine.
    """
    if not matches:
        return 0
    positions = {user_id: sorted(frozenset().union(*(p for _, p in user.hits))) for user_id, user in matches.items()}
    scored = await pool.run(owner, order_positions, digest_id, [e.paper.arxiv_id for e in entries], positions)
    for user_id, order in scored.items():
        matches[user_id].order = order
    return len(scored)
