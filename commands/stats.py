"""/stats: a chart of papers per day per category over a period, and the period's top title words."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n.catalogs import t
from bot.render.papers import ARXIV_RED
from bot.worker import tasks as worker_tasks
from commands.options import (
    BoundedInt,
    CategoryText,
    category_choices,
    known_category,
    per_user_cooldown,
    reply_locale,
    services_of,
)

if TYPE_CHECKING:
    from bot.app.client import DigestBot

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
        # The picture keeps English labels: a machine without CJK fonts would draw Chinese as empty boxes.
        chart_title = f"Papers per day, {since} to {until}" + (f", {chosen}" if chosen else "")
        bot: DigestBot = interaction.client  # type: ignore[assignment]
        # Counting a year of titles and drawing the chart is CPU work: the worker does it.
        picture = await bot.worker.run(interaction.user.id, worker_tasks.stats_picture, since, until, chosen, chart_title)
        if picture is None:
            if chosen:
                message = t("No papers in {category} between {since} and {until}; try more days.", locale, category=chosen,
                            since=since, until=until)
            else:
                message = t("No papers between {since} and {until}; try more days.", locale, since=since, until=until)
            await interaction.followup.send(message, ephemeral=True)
            return
        title = t("Papers per day, {since} to {until}", locale, since=since, until=until) + (f", {chosen}" if chosen else "")
        words = " · ".join(f"{word} ({count})" for word, count in picture.keywords) or t("none", locale)
        # Distinct papers, as /about counts them; a paper listed on several days is one paper.
        if picture.listings != picture.papers:
            counted = t("**{papers} papers** ({listings} listings) in {digests} digests", locale, papers=f"{picture.papers:,}",
                        listings=f"{picture.listings:,}", digests=picture.days_with_papers)
        else:
            counted = t("**{papers} papers** in {digests} digests", locale, papers=f"{picture.papers:,}",
                        digests=picture.days_with_papers)
        embed = discord.Embed(
            title=title, colour=ARXIV_RED,
            description=counted + "\n\n" + t("**Top words in titles:** {words}", locale, words=words),
        )
        embed.set_image(url="attachment://stats.png")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(picture.png), filename="stats.png"))


async def setup(bot: commands.Bot) -> None:
    """Load /stats."""
    await bot.add_cog(Stats())
