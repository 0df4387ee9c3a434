"""/about: version, what is stored, every command (read from the command tree), and where to get help."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.i18n.catalogs import ENGLISH, t
from bot.render.papers import ARXIV_RED
from bot.render.text import shorten
from commands.options import reply_locale, services_of


def command_lines(tree: app_commands.CommandTree[discord.Client], locale: str = ENGLISH) -> list[str]:
    """One line per command, groups with their subcommands: `/feed add|list|...` and the description (in `locale`)."""
    lines = []
    for command in sorted(tree.get_commands(type=discord.AppCommandType.chat_input), key=lambda c: c.name):
        if isinstance(command, app_commands.Group):
            subcommands = "|".join(sub.name for sub in command.commands)
            lines.append(f"`/{command.name} {subcommands}` {t(command.description, locale)}")
        else:
            lines.append(f"`/{command.name}` {t(command.description, locale)}")
    return lines


class About(commands.Cog):
    """About this bot."""

    @app_commands.command(name="about", description="What this bot is, what it stores, and how to use it")
    async def about(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        locale = await reply_locale(interaction)
        stats = await services.corpus.stats()
        latest = f"{stats.last_date}" if stats.last_date else t("none yet", locale)
        listing = "\n".join(command_lines(interaction.client.tree, locale))  # type: ignore[attr-defined]
        embed = discord.Embed(
            title=f"arxiv-digest-bot {__version__}",
            url=services.settings.help_url,
            colour=ARXIV_RED,
            description=shorten(
                t("Daily arXiv papers with LLM-written summaries, from the daily-arXiv-ai-enhanced pipeline.", locale) + "\n\n"
                + t("**{papers}** papers in **{digests}** digests · latest digest: **{latest}**", locale,
                    papers=f"{stats.papers:,}", digests=f"{stats.digests:,}", latest=latest)
                + f"\n\n{listing}\n\n[{t('Full guide', locale)}]({services.settings.help_url})", 4096),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    """Load /about."""
    await bot.add_cog(About())
