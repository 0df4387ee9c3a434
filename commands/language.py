"""/language: the language of the bot's replies and DMs to one member."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n.catalogs import LANGUAGE_NAMES, normalize, t
from commands.options import services_of
from commands.respond import answer, in_time
from storage.members import MemberStore

_CHOICES = {"English": "en", "简体中文": "zh-CN", "繁體中文": "zh-TW", "auto": None}


class Language(commands.Cog):
    """Choose a language."""

    @app_commands.command(name="language", description="Choose the language of the bot's replies and DMs to you")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(language="English, 简体中文, 繁體中文, or auto (the language of your Discord)")
    async def language(self, interaction: discord.Interaction,
                       language: Literal["English", "简体中文", "繁體中文", "auto"]) -> None:
        chosen = _CHOICES[language]
        store = MemberStore(services_of(interaction).db)
        await in_time(interaction, store.set_language(interaction.user.id, chosen))
        locale = chosen or normalize(interaction.locale)
        if chosen is None:
            text = t("Replies follow the language of your Discord ({language}).", locale, language=LANGUAGE_NAMES[locale])
        else:
            text = t("I will reply to you and write your DMs in {language}.", locale, language=LANGUAGE_NAMES[locale])
        await answer(interaction, text + " " + t("Papers are shown as written.", locale), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    """Load /language."""
    await bot.add_cog(Language())
