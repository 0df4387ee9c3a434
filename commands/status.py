"""/status: is the bot polling, what came last, and how this server's feeds are doing. Manage Server."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.papers import ARXIV_RED
from bot.render.text import shorten
from bot.services import Services
from commands.feeds import describe_feed, require_manage_guild
from commands.options import per_user_cooldown, services_of
from commands.respond import answer, in_time

if TYPE_CHECKING:
    from bot.client import DigestBot


async def database_line(services: Services) -> str:
    """Where the database is, since when, and anything wrong with its file."""
    created = await services.db.created_at()
    line = f"`{services.db.path.name}`" + (f", created {_when(created)}" if created else "")
    if services.db.created:
        line += " **by this start: it was new and empty**"
    problem = services.db_problem
    if problem:
        line += f"\n**{problem}**"
    return line


def _when(moment: dt.datetime) -> str:
    """A Discord timestamp: every reader sees it in their own time zone."""
    return f"<t:{int(moment.timestamp())}:f>"


class Status(commands.Cog):
    """Operational status."""

    @app_commands.command(name="status", description="Polling, the latest digest, and this server's feeds (Manage Server)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @per_user_cooldown(3, 30)
    async def status(self, interaction: discord.Interaction) -> None:
        require_manage_guild(interaction)
        embed = await in_time(interaction, self._status_embed(interaction), ephemeral=True)
        await answer(interaction, embed=embed, ephemeral=True)

    async def _status_embed(self, interaction: discord.Interaction) -> discord.Embed:
        services = services_of(interaction)
        bot: DigestBot = interaction.client  # type: ignore[assignment]
        assert interaction.guild is not None
        sources = services.source_state
        last = await sources.last_poll()
        last_good = await sources.last_poll(ok_only=True)
        next_poll = bot.jobs.next_poll() if bot.jobs is not None else None
        poller = bot.jobs.poller if bot.jobs is not None else None
        polling = f"{poller.source.describe()}\n" if poller is not None else ""
        if last is None:
            polling += "No poll yet." if poller is not None else "Polling is off (no source configured)."
        else:
            state = "ok" if last.ok else ("**warning**" if last.warning and "problems:" not in last.summary else "**failed**")
            polling += f"Last poll {_when(last.finished_at)}: {state}, {last.summary}"
            if last.warning:
                polling += f"\n**{last.warning}**"
            if not last.ok and last_good is not None:
                polling += f"\nLast successful poll {_when(last_good.finished_at)}."
        if next_poll is not None:
            polling += f"\nNext poll {_when(next_poll)}."
        latest = await services.papers.latest_digest()
        digest = (f"{latest.date}: {latest.paper_count} papers, arrived {_when(latest.ingested_at)}" if latest else "none yet")
        feeds = await services.feeds.in_guild(interaction.guild.id)
        lines = []
        for feed in feeds:
            line = describe_feed(feed)
            summary = await services.ledger.latest("channel", feed.id)
            if summary is not None:
                line += f"\n  last delivery: digest of {summary.date}, {summary.state}, {_when(summary.updated_at)}"
                if summary.last_error and summary.state != "done":
                    line += f": {summary.last_error}"
            lines.append(line)
        dm_failures = await services.subscriptions.dm_failure_count()
        database = await database_line(services)
        embed = discord.Embed(title="arxiv-digest-bot status", colour=ARXIV_RED)
        embed.add_field(name="Source", value=shorten(polling, 1024), inline=False)
        embed.add_field(name="Database", value=shorten(database, 1024), inline=False)
        embed.add_field(name="Latest digest", value=digest, inline=False)
        embed.add_field(name=f"Feeds in this server ({len(feeds)})", value="\n".join(lines)[:1024] or "none; add one with /feed add", inline=False)
        embed.add_field(name="Direct messages", value=f"{dm_failures} member(s) cannot receive DMs (closed DMs); they are skipped until they use a command.", inline=False)
        return embed


async def setup(bot: commands.Bot) -> None:
    """Load /status."""
    await bot.add_cog(Status())
