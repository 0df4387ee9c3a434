"""/about: version, what is stored, and where to get help."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.render.papers import ARXIV_RED
from commands.options import services_of

COMMAND_HELP = (
    "`/search` find papers by words, phrase, author, category or date (English or Chinese)\n"
    "`/paper` open one paper by id or link\n"
    "`/digest` browse a day's digest\n"
    "`/categories` the categories seen and their names"
)


class About(commands.Cog):
    """About this bot."""

    @app_commands.command(name="about", description="What this bot is, what it stores, and how to use it")
    async def about(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        stats = await services.papers.stats()
        latest = f"{stats.last_date}" if stats.last_date else "none yet"
        embed = discord.Embed(
            title=f"arxiv-digest-bot {__version__}",
            url=services.settings.help_url,
            colour=ARXIV_RED,
            description=(
                "Daily arXiv papers with LLM-written summaries, from the daily-arXiv-ai-enhanced pipeline.\n\n"
                f"**{stats.papers:,}** papers in **{stats.digests:,}** digests · latest digest: **{latest}**\n\n"
                f"{COMMAND_HELP}\n\n[Full guide]({services.settings.help_url})"
            ),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    """Load /about."""
    await bot.add_cog(About())
