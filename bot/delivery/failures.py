"""What a failed send means: the target refuses (stop until fixed), a passing fault (retry), or a bug."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import discord

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
    if isinstance(error, discord.HTTPException):
        return Failure("bug", f"Discord rejected the message: {error.status} {error.text}")
    return Failure("bug", f"{type(error).__name__}: {error}")
