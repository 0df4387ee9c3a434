"""Discord's limits for the whole bot: how fast shards may start, which one serves a guild, REST pacing.

Discord lets a bot start `max_concurrency` sessions per 5 seconds (1 for most bots), shard `i`
in rate-limit bucket `i % max_concurrency`, and 1,000 sessions a day. discord.py's default
waits 5 s before every identify but the first, whatever the bucket; `IdentifyPacer` waits only
as long as Discord asks, so a bot with `max_concurrency` 16 starts 16 shards at once. Several
processes of one bot book their starts in the database instead (storage/gateway.py).

Discord also counts 50 REST requests a second per token, over every process: without a shared
proxy each of n processes keeps to its share (`pace_requests`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import discord

IDENTIFY_WINDOW = 5.0


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a guild's events (Discord's rule)."""
    return (guild_id >> 22) % shard_count if shard_count > 1 else 0


class IdentifyPacer:
    """Spaces session starts so no rate-limit bucket starts two within `IDENTIFY_WINDOW` seconds."""

    def __init__(self, max_concurrency: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self._clock = clock
        self._next_slot: dict[int, float] = {}

    def reserve(self, shard_id: int) -> float:
        """Book the shard's next identify slot; return how many seconds to wait for it."""
        bucket = shard_id % self.max_concurrency
        now = self._clock()
        slot = max(now, self._next_slot.get(bucket, now))
        # No await between reading and booking: shards identifying at once get successive slots.
        self._next_slot[bucket] = slot + IDENTIFY_WINDOW
        return slot - now

    async def wait(self, shard_id: int) -> None:
        delay = self.reserve(shard_id)
        if delay > 0:
            await asyncio.sleep(delay)


class RequestPacer:
    """At most `rate` requests a second, evenly spaced (no bursts: n processes' shares add up in any second)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Book the next request's moment; return how many seconds to wait for it."""
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        return slot - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


def pace_requests(http: discord.http.HTTPClient, rate: float) -> RequestPacer:
    """Send this client's REST requests at most `rate` a second.

    Interaction replies and follow-ups do not pass here (discord.py sends them through its
    webhook adapter) and Discord does not count them in the global limit: a member's command is
    never queued behind a day's posts.
    """
    pacer = RequestPacer(rate)
    send = http.request

    async def paced(route: discord.http.Route, **kwargs: Any) -> Any:
        await pacer.wait()
        return await send(route, **kwargs)

    http.request = paced  # type: ignore[method-assign]
    return pacer
