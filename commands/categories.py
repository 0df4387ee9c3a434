"""/categories: every category seen, with paper counts and arXiv names."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.arxiv_categories import category_name
from bot.i18n.catalogs import t
from bot.render.papers import ARXIV_RED, lines_within
from commands.options import reply_locale, services_of


class Categories(commands.Cog):
    """List categories."""

    @app_commands.command(name="categories", description="List the arXiv categories seen, with paper counts")
    async def categories(self, interaction: discord.Interaction) -> None:
        items = await services_of(interaction).categories.items()
        locale = await reply_locale(interaction)
        if not items:
            await interaction.response.send_message(t("No papers are stored yet, so no categories either.", locale), ephemeral=True)
            return
        unknown = t("not a known arXiv name", locale)
        lines = [f"`{code}` {category_name(code) or unknown} · **{count:,}**" for code, count in items]
        body, shown = lines_within(lines, 3900, separator="\n")
        if shown < len(lines):
            body += "\n" + t("… and {count} more", locale, count=len(lines) - shown)
        embed = discord.Embed(title=t("Categories", locale), description=body, colour=ARXIV_RED)
        embed.set_footer(text=t("Counts include cross-listed papers · use them in /search category: or /digest category:", locale))
        await interaction.response.send_message(embed=embed)


async def setup(bot: commands.Bot) -> None:
    """Load /categories."""
    await bot.add_cog(Categories())
