"""/stats: a chart of papers per day per category over a period, and the period's top title words."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import chart_data, render_chart
from bot.render.papers import ARXIV_RED
from commands.options import (
    BoundedInt,
    CategoryText,
    category_choices,
    known_category,
    per_user_cooldown,
    services_of,
)

DaysNumber = app_commands.Transform[int, BoundedInt("The number of days", 1, 365)]


class Stats(commands.Cog):
    """Trends over time."""

    @app_commands.command(name="stats", description="A chart of papers per day and category, with the period's top title words")
    @app_commands.describe(days="How many days back from the latest digest (default 30)", category="Only this category")
    @app_commands.autocomplete(category=category_choices)
    @per_user_cooldown(2, 60)
    async def stats(self, interaction: discord.Interaction, days: DaysNumber = 30,
                    category: CategoryText | None = None) -> None:
        services = services_of(interaction)
        chosen = await known_category(interaction, category)
        latest = await services.papers.latest_digest()
        if latest is None:
            await interaction.response.send_message("No digests are stored yet, so there is nothing to chart.", ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        until = latest.date
        since = until - dt.timedelta(days=days - 1)
        rows = await services.papers.daily_counts(since, until, chosen)
        titles = await services.papers.titles_between(since, until, chosen)
        data = chart_data(rows, titles, since, until)
        if data.total == 0:
            where = f" in {chosen}" if chosen else ""
            await interaction.followup.send(f"No papers{where} between {since} and {until}; try more days.", ephemeral=True)
            return
        title = f"Papers per day, {since} to {until}" + (f", {chosen}" if chosen else "")
        png = await asyncio.to_thread(render_chart, data, title)
        words = " · ".join(f"{word} ({count})" for word, count in data.keywords) or "none"
        # Distinct papers, as /about counts them; a paper listed on several days is one paper.
        listings = f" ({data.total:,} listings)" if data.total != len(titles) else ""
        embed = discord.Embed(
            title=title, colour=ARXIV_RED,
            description=f"**{len(titles):,} papers**{listings} in {data.days_with_papers} digests\n\n"
                        f"**Top words in titles:** {words}",
        )
        embed.set_image(url="attachment://stats.png")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(png), filename="stats.png"))


async def setup(bot: commands.Bot) -> None:
    """Load /stats."""
    await bot.add_cog(Stats())
