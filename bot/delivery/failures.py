"""What a failed send means: the target refuses (stop until fixed), a passing fault (retry), or a bug."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import discord

from bot.delivery.schedule import retry_delay
from storage.errors import StorageError
from storage.ledger import ClaimLost, DeliveryGone, DeliveryLedger

log = logging.getLogger(__name__)

# Discord error codes worth a specific sentence.
_SENTENCES = {
    10003: "the channel no longer exists",
    50001: "the bot cannot see the channel (Missing Access)",
    50013: "the bot lacks a permission there (Send Messages, Embed Links, Create Public Threads or Send Messages in Threads)",
    50007: "the user does not accept direct messages from this bot",
    50278: "the user does not accept direct messages from this bot",
}
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified failure and the sentence to show for it."""

    kind: str  # "refused", "transient" or "bug"
    sentence: str


def classify(error: BaseException) -> Failure:
    """Sort a delivery error into refused / transient / bug, with a readable reason."""
    if isinstance(error, discord.Forbidden | discord.NotFound):
        reason = _SENTENCES.get(error.code) or f"Discord refused: {error.status} {error.text or ''}".strip()
        return Failure("refused", f"{reason} (HTTP {error.status}, code {error.code})")
    if isinstance(error, discord.DiscordServerError):
        return Failure("transient", f"Discord server error {error.status}")
    if isinstance(error, discord.RateLimited):
        return Failure("transient", f"rate limited for {error.retry_after:.0f} s")
    if isinstance(error, discord.HTTPException) and error.status == 429:
        return Failure("transient", "still rate limited after retries")
    if isinstance(error, aiohttp.ClientError | TimeoutError | ConnectionError):
        return Failure("transient", f"network error: {type(error).__name__}")
    if isinstance(error, StorageError):
        # The database could not record a step (busy, a PostgreSQL connection lost): the post goes
        # on from its last recorded step later; nonces keep a message Discord took from going twice.
        return Failure("transient", f"the database could not record the post: {error}")
    if isinstance(error, discord.HTTPException):
        return Failure("bug", f"Discord rejected the message: {error.status} {error.text}")
    return Failure("bug", f"{type(error).__name__}: {error}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery attempt ended as, for logs and command replies."""

    state: str
    detail: str = ""


async def settle_failure(
    ledger: DeliveryLedger,
    delivery_id: int,
    error: BaseException,
    now: dt.datetime,
    target: str,
    on_refused: Callable[[str], Awaitable[None]],
) -> Outcome:
    """Record a failed delivery by what the failure means.

    Refused (403/404): the row fails and `on_refused` stops the target until someone fixes it.
    Passing (5xx, 429 after retries, network): retried with backoff, at most MAX_ATTEMPTS times.
    Anything else is a bug: the row fails and the traceback goes to the log.
    """
    try:
        return await _settle(ledger, delivery_id, error, now, target, on_refused)
    except (DeliveryGone, ClaimLost) as gone:
        # The row went (feed removed, member forgotten) or another process holds it now: nothing to record here.
        log.info("delivery %d to %s failed (%s), not recorded: %s", delivery_id, target, classify(error).sentence, gone)
        return Outcome("sending", str(gone))


async def _settle(ledger: DeliveryLedger, delivery_id: int, error: BaseException, now: dt.datetime, target: str,
                  on_refused: Callable[[str], Awaitable[None]]) -> Outcome:
    failure = classify(error)
    current = await ledger.get(delivery_id)
    if failure.kind == "refused":
        await ledger.fail(delivery_id, failure.sentence, now)
        await on_refused(failure.sentence)
        log.warning("delivery %d to %s refused: %s; stopped until fixed", delivery_id, target, failure.sentence)
        return Outcome("refused", failure.sentence)
    if failure.kind == "transient" and current.attempts + 1 < MAX_ATTEMPTS:
        retry_at = now + retry_delay(current.attempts + 1)
        await ledger.retry_later(delivery_id, failure.sentence, retry_at, now)
        log.warning("delivery %d to %s failed (%s), attempt %d of %d; retrying at %s", delivery_id, target,
                    failure.sentence, current.attempts + 1, MAX_ATTEMPTS, retry_at.isoformat(timespec="seconds"))
        return Outcome("retrying", failure.sentence)
    await ledger.fail(delivery_id, failure.sentence, now)
    log.error("delivery %d to %s failed for good: %s", delivery_id, target, failure.sentence,
              exc_info=error if failure.kind == "bug" else None)
    return Outcome("failed", failure.sentence)
