"""The one error path for slash commands and buttons: known errors become a short sentence."""

from __future__ import annotations

import logging
import math
from typing import Any

import discord
from discord import app_commands

from bot.core.errors import DigestBotError
from bot.i18n.catalogs import ENGLISH, N_, has_translation, member_locale, normalize, t
from storage.errors import DatabaseBusy, DatabaseFull, DatabaseReadOnly, QueryTimeout
from storage.fts_query import EmptyQuery, QueryTooComplex

log = logging.getLogger(__name__)

# discord.py's names where Discord's own settings screens call them something else.
_PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_channels": "Manage Channels"}
SOMETHING_WENT_WRONG = N_("Something went wrong on our side; it has been logged. Please try again in a minute.")
TOO_BROAD = N_("That search is too broad to answer quickly: add a word, a category or a date range "
               "(or use fewer prefix* words).")
BUSY = N_("The database is busy right now (another task is writing to it); nothing was changed. Try again in a minute.")
CANNOT_SAVE = N_("The bot cannot save anything right now: its disk is full or read-only. Nothing was changed; "
                 "the operator sees the reason in the log. Please try again later.")


def _translated(values: dict[str, object], locale: str) -> dict[str, object]:
    """Values that are themselves catalog messages (an option's label such as `The keyword`) in `locale`; others as they are."""
    return {key: t(value, locale) if isinstance(value, str) and has_translation(value, locale) else value
            for key, value in values.items()}


def sentence_for(error: BaseException, locale: str = ENGLISH) -> str | None:
    """Return the sentence a user should read for an expected error (in `locale`), or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__ is not None:
        return sentence_for(error.__cause__, locale)
    if isinstance(error, DigestBotError):
        return t(error.template, locale, **_translated(error.values, locale))
    if isinstance(error, EmptyQuery):
        return t("Type at least one word to search for (a `-word` alone only leaves papers out).", locale)
    if isinstance(error, QueryTooComplex):
        return t(error.template, locale, **error.values)
    if isinstance(error, QueryTimeout):
        return t(TOO_BROAD, locale)
    if isinstance(error, DatabaseBusy):
        return t(BUSY, locale)
    if isinstance(error, DatabaseFull | DatabaseReadOnly):
        log.error("a command could not write: %s", error)
        return t(CANNOT_SAVE, locale)
    if isinstance(error, app_commands.MissingPermissions):
        missing = ", ".join(_PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions)
        return t("You need the {permission} permission to do that.", locale, permission=missing)
    if isinstance(error, app_commands.NoPrivateMessage):
        return t("That command works in a server, not in direct messages.", locale)
    if isinstance(error, app_commands.CommandOnCooldown):
        wait = max(1, math.ceil(error.retry_after))
        if wait == 1:
            return t("You are going a little fast: try that again in a second.", locale)
        return t("You are going a little fast: try that again in {seconds} seconds.", locale, seconds=wait)
    if isinstance(error, app_commands.CheckFailure):
        return t("You cannot use that command here.", locale)
    return None


async def _locale_of(interaction: discord.Interaction) -> str:
    """The member's language; their Discord's when the database cannot say (it may be the problem)."""
    services = getattr(interaction.client, "services", None)
    try:
        if services is not None:
            return await member_locale(services.db, interaction.user.id, interaction.locale)
    except Exception:
        log.debug("the member's language could not be read; answering in their Discord's", exc_info=True)
    return normalize(interaction.locale)


async def reply_with_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, ephemerally, whether or not the interaction was answered."""
    locale = await _locale_of(interaction)
    sentence = sentence_for(error, locale)
    if sentence is None:
        data: dict[str, Any] = dict(interaction.data or {})
        command = interaction.command.qualified_name if interaction.command else data.get("custom_id", "?")
        log.error(
            "unexpected error in %s (interaction %s, user %s, guild %s)",
            command, interaction.id, interaction.user.id if interaction.user else "?", interaction.guild_id,
            exc_info=error,
        )
        sentence = t(SOMETHING_WENT_WRONG, locale)
    else:
        log.info("interaction %s refused: %s", interaction.id, sentence)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(sentence, ephemeral=True)
        else:
            await interaction.response.send_message(sentence, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver the error message for interaction %s", interaction.id, exc_info=True)
