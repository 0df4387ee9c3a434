"""The one error path for slash commands and buttons: known errors become a short sentence."""

from __future__ import annotations

import logging
import math
from typing import Any

import discord
from discord import app_commands

from bot.errors import DigestBotError
from storage.db import DatabaseBusy, DatabaseFull, DatabaseReadOnly, QueryTimeout
from storage.fts_query import EmptyQuery, QueryTooComplex

log = logging.getLogger(__name__)

# discord.py's names where Discord's own settings screens call them something else.
_PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_channels": "Manage Channels"}
SOMETHING_WENT_WRONG = "Something went wrong on our side; it has been logged. Please try again in a minute."
TOO_BROAD = ("That search is too broad to answer quickly: add a word, a category or a date range "
             "(or use fewer prefix* words).")
BUSY = "The database is busy right now (another task is writing to it); nothing was changed. Try again in a minute."
CANNOT_SAVE = ("The bot cannot save anything right now: its disk is full or read-only. Nothing was changed; "
               "the operator sees the reason in the log. Please try again later.")


def sentence_for(error: BaseException) -> str | None:
    """Return the sentence a user should read for an expected error, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__ is not None:
        return sentence_for(error.__cause__)
    if isinstance(error, DigestBotError):
        return error.message
    if isinstance(error, EmptyQuery):
        return "Type at least one word to search for (a `-word` alone only leaves papers out)."
    if isinstance(error, QueryTooComplex):
        return error.message
    if isinstance(error, QueryTimeout):
        return TOO_BROAD
    if isinstance(error, DatabaseBusy):
        return BUSY
    if isinstance(error, DatabaseFull | DatabaseReadOnly):
        log.error("a command could not write: %s", error)
        return CANNOT_SAVE
    if isinstance(error, app_commands.MissingPermissions):
        missing = ", ".join(_PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions)
        return f"You need the {missing} permission to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command works in a server, not in direct messages."
    if isinstance(error, app_commands.CommandOnCooldown):
        wait = max(1, math.ceil(error.retry_after))
        return f"You are going a little fast: try that again in {wait} second{'s' if wait != 1 else ''}."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use that command here."
    return None


async def reply_with_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, ephemerally, whether or not the interaction was answered."""
    sentence = sentence_for(error)
    if sentence is None:
        data: dict[str, Any] = dict(interaction.data or {})
        command = interaction.command.qualified_name if interaction.command else data.get("custom_id", "?")
        log.error(
            "unexpected error in %s (interaction %s, user %s, guild %s)",
            command, interaction.id, interaction.user.id if interaction.user else "?", interaction.guild_id,
            exc_info=error,
        )
        sentence = SOMETHING_WENT_WRONG
    else:
        log.info("interaction %s refused: %s", interaction.id, sentence)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(sentence, ephemeral=True)
        else:
            await interaction.response.send_message(sentence, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver the error message for interaction %s", interaction.id, exc_info=True)
