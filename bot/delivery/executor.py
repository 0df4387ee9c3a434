"""Carry one post out step by step, committing each accepted step to the ledger.

A post is a header message, and optionally a thread under it holding the parts. Each step is
sent with a nonce derived from the ledger row (Discord drops a repeated nonce), and a resumed
post first looks for its next step among recent messages, so a crash between Discord accepting
a message and the ledger recording it never shows that message twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import discord

from bot.render.post import PostPart, encode_embeds
from storage.ledger import Delivery, DeliveryLedger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostPlan:
    """What to send: the header embeds, and the parts for a thread under it (none for a DM)."""

    header: list[discord.Embed]
    parts: list[PostPart] = field(default_factory=list)
    thread_name: str = ""
    # Buttons or menus under the header (a DM's Save / 👍 / 👎 menus); channel posts have none.
    view: discord.ui.View | None = None
    # A forum post's title (`arXiv 2026-01-23 · 213 papers`) and the day's categories, most papers first (for tags).
    forum_title: str = ""
    categories: tuple[str, ...] = ()

    @property
    def header_title(self) -> str:
        return self.header[0].title or ""

    @functools.cached_property
    def header_json(self) -> str:
        # Encoded once per plan, which every feed following the same categories shares.
        return encode_embeds(self.header)


class Destination(Protocol):
    """Where a post goes: a channel (header + thread) or a DM (header only)."""

    async def send_header(self, plan: PostPlan, nonce: str) -> int: ...

    async def find_header(self, title: str) -> int | None: ...

    async def open_thread(self, header_id: int, name: str) -> int: ...

    async def send_part(self, thread_id: int, part: PostPart, nonce: str) -> int: ...

    async def find_part(self, thread_id: int, footer: str) -> int | None: ...


class ShuttingDown(Exception):
    """The bot is stopping: the post stops between two steps and resumes after the restart."""


async def carry_out(
    delivery: Delivery,
    plan: PostPlan,
    destination: Destination,
    ledger: DeliveryLedger,
    clock: Callable[[], dt.datetime],
    stopping: Callable[[], bool] = lambda: False,
) -> Delivery:
    """Send what `delivery` has not sent yet; return the finished row."""
    if stopping():
        raise ShuttingDown
    resuming = delivery.state == "sending"
    # A part can have reached Discord unrecorded only if its thread was recorded before the stop.
    parts_may_be_out = resuming and delivery.thread_id is not None
    delivery = await ledger.start(delivery.id, len(plan.parts), clock())
    if delivery.header_message_id is None:
        found = await destination.find_header(plan.header_title) if resuming else None
        if found is not None:
            log.info("delivery %d: found its header %d, sent before a restart; not sending it again", delivery.id, found)
        header_id = found or await destination.send_header(plan, nonce=f"{delivery.id}h")
        delivery = await ledger.record_header(delivery.id, header_id, clock())
    if plan.parts:
        assert delivery.header_message_id is not None
        if delivery.thread_id is None:
            thread_id = await destination.open_thread(delivery.header_message_id, plan.thread_name)
            delivery = await ledger.record_thread(delivery.id, thread_id, clock())
        assert delivery.thread_id is not None
        # Only the part that was in flight when the post stopped can have reached Discord unrecorded.
        in_flight = delivery.parts_sent
        for index in range(in_flight, len(plan.parts)):
            if stopping():
                raise ShuttingDown
            part = plan.parts[index]
            found = None
            if parts_may_be_out and index == in_flight:
                footer = part.embeds[-1].footer.text or ""
                found = await destination.find_part(delivery.thread_id, footer)
                if found is not None:
                    log.info("delivery %d: found part %d (message %d), sent before a restart; not sending it again",
                             delivery.id, index + 1, found)
            message_id = found or await destination.send_part(delivery.thread_id, part, nonce=f"{delivery.id}p{index}")
            await ledger.record_part(delivery.id, index, message_id, clock())
    return await ledger.finish(delivery.id, clock())
