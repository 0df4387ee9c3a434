"""Answering interactions in time: defer only when the work runs long, and reply the same way either way.

Discord drops an interaction that gets no answer within 3 seconds. Work that can wait (a write
behind another process's lock, a broad search) runs as a task; if it is not done after
DEFER_AFTER seconds the interaction is deferred first, so the answer may come later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord

T = TypeVar("T")

DEFER_AFTER = 1.5


async def in_time(interaction: discord.Interaction, work: Awaitable[T], *, ephemeral: bool = True,
                  update: bool = False) -> T:
    """Await `work`, deferring the interaction if it takes longer than DEFER_AFTER seconds.

    `update` is for buttons and menus: the deferral then keeps the message as it is (the answer
    edits it) instead of showing "thinking...".
    """
    task: asyncio.Future[T] = asyncio.ensure_future(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), DEFER_AFTER)
    except TimeoutError:
        if not interaction.response.is_done():
            if update:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        return await task
    except BaseException:
        task.cancel()
        raise


async def answer(interaction: discord.Interaction, content: str | None = None, *, embed: discord.Embed | None = None,
                 embeds: list[discord.Embed] | None = None, view: discord.ui.View | None = None,
                 file: discord.File | None = None, ephemeral: bool = False) -> None:
    """Send the answer: as the response, or into the deferred "thinking" message, or as a follow-up."""
    all_embeds = embeds if embeds is not None else ([embed] if embed is not None else [])
    if not interaction.response.is_done():
        kwargs: dict[str, Any] = {"content": content, "embeds": all_embeds, "ephemeral": ephemeral}
        if view is not None:
            kwargs["view"] = view
        if file is not None:
            kwargs["file"] = file
        await interaction.response.send_message(**kwargs)
    elif interaction.response.type == discord.InteractionResponseType.deferred_channel_message:
        edit: dict[str, Any] = {"content": content, "embeds": all_embeds}
        if view is not None:
            edit["view"] = view
        if file is not None:
            edit["attachments"] = [file]
        await interaction.edit_original_response(**edit)
    else:
        follow: dict[str, Any] = {"content": content or discord.utils.MISSING, "embeds": all_embeds, "ephemeral": ephemeral}
        if view is not None:
            follow["view"] = view
        if file is not None:
            follow["file"] = file
        await interaction.followup.send(**follow)


async def update_message(interaction: discord.Interaction, *, content: str | None = None,
                         embed: discord.Embed | None = None, view: discord.ui.View | None = None) -> None:
    """Change the message a button or menu sits on (directly, or after a deferred update)."""
    kwargs: dict[str, Any] = {}
    if content is not None:
        kwargs["content"] = content
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if not interaction.response.is_done():
        await interaction.response.edit_message(**kwargs)
    else:
        await interaction.edit_original_response(**kwargs)
