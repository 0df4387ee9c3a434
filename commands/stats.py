"""/stats: a chart of papers per day per category over a period, and the period's top title words."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import chart_data, render_chart
from bot.i18n import t
from bot.render.papers import ARXIV_RED
from commands.options import (
    BoundedInt,
    CategoryText,
    category_choices,
    known_category,
    per_user_cooldown,
    reply_locale,
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
        locale = await reply_locale(interaction)
        latest = await services.papers.latest_digest()
        if latest is None:
            await interaction.response.send_message(t("No digests are stored yet, so there is nothing to chart.", locale), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        until = latest.date
        since = until - dt.timedelta(days=days - 1)
        rows = await services.papers.daily_counts(since, until, chosen)
        titles = await services.papers.titles_between(since, until, chosen)
        data = chart_data(rows, titles, since, until)
        if data.total == 0:
            if chosen:
                message = t("No papers in {category} between {since} and {until}; try more days.", locale, category=chosen,
                            since=since, until=until)
            else:
                message = t("No papers between {since} and {until}; try more days.", locale, since=since, until=until)
            await interaction.followup.send(message, ephemeral=True)
            return
        # The picture keeps English labels: a machine without CJK fonts would draw Chinese as empty boxes.
        chart_title = f"Papers per day, {since} to {until}" + (f", {chosen}" if chosen else "")
        png = await asyncio.to_thread(render_chart, data, chart_title)
        title = t("Papers per day, {since} to {until}", locale, since=since, until=until) + (f", {chosen}" if chosen else "")
        words = " · ".join(f"{word} ({count})" for word, count in data.keywords) or t("none", locale)
        # Distinct papers, as /about counts them; a paper listed on several days is one paper.
        if data.total != len(titles):
            counted = t("**{papers} papers** ({listings} listings) in {digests} digests", locale, papers=f"{len(titles):,}",
                        listings=f"{data.total:,}", digests=data.days_with_papers)
        else:
            counted = t("**{papers} papers** in {digests} digests", locale, papers=f"{len(titles):,}", digests=data.days_with_papers)
        embed = discord.Embed(
            title=title, colour=ARXIV_RED,
            description=counted + "\n\n" + t("**Top words in titles:** {words}", locale, words=words),
        )
        embed.set_image(url="attachment://stats.png")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(png), filename="stats.png"))


async def setup(bot: commands.Bot) -> None:
    """Load /stats."""
    await bot.add_cog(Stats())
