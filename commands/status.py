"""/status: is the bot polling, what came last, and how this server's feeds are doing. Manage Server."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.services import Services
from bot.i18n.catalogs import ENGLISH, N_, t
from bot.render.papers import ARXIV_RED
from bot.render.text import shorten
from commands.feeds import describe_feed, require_manage_guild
from commands.options import per_user_cooldown, reply_locale, services_of
from commands.respond import answer, in_time

if TYPE_CHECKING:
    from bot.app.client import DigestBot


async def database_line(services: Services, locale: str = ENGLISH) -> str:
    """Where the database is, since when, and anything wrong with its file."""
    created = await services.db.created_at()
    line = f"`{services.db.label}`" + (t(", created {when}", locale, when=_when(created)) if created else "")
    if services.db.created:
        line += " " + t("**by this start: it was new and empty**", locale)
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
        locale = await reply_locale(interaction)
        bot: DigestBot = interaction.client  # type: ignore[assignment]
        assert interaction.guild is not None
        sources = services.source_state
        last = await sources.last_poll()
        last_good = await sources.last_poll(ok_only=True)
        next_poll = bot.jobs.next_poll() if bot.jobs is not None else None
        poller = bot.jobs.poller if bot.jobs is not None else None
        polling = f"{poller.source.describe()}\n" if poller is not None else ""
        if last is None:
            polling += t("No poll yet.", locale) if poller is not None else t("Polling is off (no source configured).", locale)
        else:
            state = N_("ok") if last.ok else (N_("**warning**") if last.warning and "problems:" not in last.summary else N_("**failed**"))
            polling += t("Last poll {when}: {state}, {summary}", locale, when=_when(last.finished_at), state=t(state, locale),
                         summary=last.summary)
            if last.warning:
                polling += f"\n**{last.warning}**"
            if not last.ok and last_good is not None:
                polling += "\n" + t("Last successful poll {when}.", locale, when=_when(last_good.finished_at))
        if next_poll is not None:
            polling += "\n" + t("Next poll {when}.", locale, when=_when(next_poll))
        latest = await services.papers.latest_digest()
        digest = (t("{day}: {count} papers, arrived {when}", locale, day=latest.date, count=latest.paper_count,
                    when=_when(latest.ingested_at)) if latest else t("none yet", locale))
        feeds = await services.feeds.in_guild(interaction.guild.id)
        lines = []
        for feed in feeds:
            line = describe_feed(feed, locale=locale)
            summary = await services.ledger.latest("channel", feed.id)
            if summary is not None:
                line += "\n  " + t("last delivery: digest of {day}, {state}, {when}", locale, day=summary.date, state=summary.state,
                                    when=_when(summary.updated_at))
                if summary.last_error and summary.state != "done":
                    line += f": {summary.last_error}"
            lines.append(line)
        dm_failures = await services.subscriptions.dm_failure_count()
        database = await database_line(services, locale)
        embed = discord.Embed(title="arxiv-digest-bot status", colour=ARXIV_RED)
        embed.add_field(name=t("Source", locale), value=shorten(polling, 1024), inline=False)
        embed.add_field(name=t("Database", locale), value=shorten(database, 1024), inline=False)
        embed.add_field(name=t("Latest digest", locale), value=digest, inline=False)
        embed.add_field(name=t("Feeds in this server ({count})", locale, count=len(feeds)),
                        value="\n".join(lines)[:1024] or t("none; add one with /feed add", locale), inline=False)
        embed.add_field(name=t("Direct messages", locale), value=t(
            "{count} member(s) cannot receive DMs (closed DMs); they are skipped until they use a command.", locale,
            count=dm_failures), inline=False)
        return embed


async def setup(bot: commands.Bot) -> None:
    """Load /status."""
    await bot.add_cog(Status())
