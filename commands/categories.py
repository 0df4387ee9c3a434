"""/categories: every category seen, with paper counts and arXiv names."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.arxiv_categories import category_name
from bot.render.papers import ARXIV_RED, lines_within
from commands.options import services_of


class Categories(commands.Cog):
    """List categories."""

    @app_commands.command(name="categories", description="List the arXiv categories seen, with paper counts")
    async def categories(self, interaction: discord.Interaction) -> None:
        items = await services_of(interaction).categories.items()
        if not items:
            await interaction.response.send_message("No papers are stored yet, so no categories either.", ephemeral=True)
            return
        lines = [
            f"`{code}` {category_name(code) or 'not a known arXiv name'} · **{count:,}**"
            for code, count in items
        ]
        body, shown = lines_within(lines, 3900, separator="\n")
        if shown < len(lines):
            body += f"\n… and {len(lines) - shown} more"
        embed = discord.Embed(title="Categories", description=body, colour=ARXIV_RED)
        embed.set_footer(text="Counts include cross-listed papers · use them in /search category: or /digest category:")
        await interaction.response.send_message(embed=embed)


async def setup(bot: commands.Bot) -> None:
    """Load /categories."""
    await bot.add_cog(Categories())
