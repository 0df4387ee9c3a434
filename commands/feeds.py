"""/feed: a server's daily digest posts, one feed per channel. Manage Server only."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.arxiv_categories import canonical_category, category_name, is_category_code
from bot.core.dates import parse_time_of_day, parse_timezone
from bot.core.errors import InvalidInput, NotFound, PermissionMissing
from bot.delivery.channels import plan_for
from bot.delivery.schedule import next_post_time
from bot.i18n.catalogs import ENGLISH, LANGUAGE_NAMES, N_, normalize, t
from bot.ranking.filters import join_filter, parse_filter
from bot.render.papers import ARXIV_RED
from bot.render.text import escape_markdown
from commands.options import (
    BoundedText,
    TimeText,
    TimezoneText,
    per_user_cooldown,
    reply_locale,
    services_of,
)
from commands.respond import answer, in_time
from storage.feeds import ChannelFeed

if TYPE_CHECKING:
    from bot.app.client import DigestBot

MAX_FEED_CATEGORIES = 20
CategoriesText = app_commands.Transform[str, BoundedText("The categories", 500)]
FilterText = app_commands.Transform[str, BoundedText("The filter", 500)]
# A feed posts in a text channel (a header and a thread) or a forum (one post per day).
FeedChannel = discord.TextChannel | discord.ForumChannel
FEED_LANGUAGES = {"English": "en", "简体中文": "zh-CN", "繁體中文": "zh-TW"}
# What the bot needs in a feed's channel, with the names people see in Discord's settings.
NEEDED = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
    ("create_public_threads", "Create Public Threads"),
    ("send_messages_in_threads", "Send Messages in Threads"),
)


def split_categories(text: str | None) -> list[str]:
    """`cs.CV, cs.lg cs.AI` -> ['cs.CV', 'cs.lg', 'cs.AI'] (duplicates dropped, order kept)."""
    if not text:
        return []
    seen: dict[str, None] = {}
    for part in re.split(r"[,\s;]+", text.strip()):
        if part:
            seen.setdefault(part, None)
    return list(seen)


async def category_list_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete the last category of a comma-separated list."""
    head, _, last = current.rpartition(",")
    prefix = f"{head.strip()}, " if head.strip() else ""
    typed = last.strip().lower()
    already = {c.lower() for c in split_categories(head)}
    choices = []
    for code, count in await services_of(interaction).categories.items():
        name = category_name(code)
        if code.lower() in already or (typed and typed not in code.lower() and typed not in name.lower()):
            continue
        value = f"{prefix}{code}"
        if len(value) > 100:
            break
        choices.append(app_commands.Choice(name=f"{value} ({name or 'category'}, {count:,} papers)"[:100], value=value))
        if len(choices) == 25:
            break
    return choices


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """The permissions the bot lacks in `channel` for posting a digest (a forum post needs no thread permission)."""
    perms = channel.permissions_for(me)
    forum = isinstance(channel, discord.ForumChannel)
    return [("Create Posts" if forum and attr == "send_messages" else label) for attr, label in NEEDED
            if not getattr(perms, attr) and not (forum and attr == "create_public_threads")]


def describe_feed(feed: ChannelFeed, now_text: str = "", locale: str = ENGLISH) -> str:
    """One feed as a line for /feed list."""
    categories = ", ".join(f"`{c}`" for c in feed.categories) or t("all categories", locale)
    state = t("paused", locale) if feed.paused else t("active", locale)
    if feed.failing_reason:
        since = feed.failing_since.strftime("%Y-%m-%d %H:%M UTC") if feed.failing_since else "?"
        state = t("**failing since {since}: {reason}**; fix it, then /feed resume", locale, since=since, reason=feed.failing_reason)
    filters = "".join(f" · {name}: {escape_markdown(value)}" for name, value in (("include", feed.include), ("exclude", feed.exclude)) if value)
    if feed.language != "en":
        filters += f" · {LANGUAGE_NAMES[feed.language]}"
    return f"<#{feed.channel_id}> · {categories}{filters} · {feed.post_time:%H:%M} {feed.timezone} · {state}{now_text}"


def require_manage_guild(interaction: discord.Interaction) -> None:
    """Refuse members without Manage Server in the server (the command is hidden from them, but be sure).

    The server-wide permission counts, not the channel's: Manage Server granted through one
    channel's overwrite does not make anyone an admin of the server's feeds.
    """
    member = interaction.user
    if interaction.guild is None or not isinstance(member, discord.Member):
        raise app_commands.NoPrivateMessage()
    if not member.guild_permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])


class Feeds(commands.Cog):
    """Configure the daily posts of a server."""

    feed = app_commands.Group(
        name="feed",
        description="Daily digest posts in this server's channels (Manage Server)",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    @feed.command(name="add", description="Post each day's digest in a channel (or change its settings)")
    @app_commands.describe(
        channel="The channel to post in: a text channel (a header and a thread each day) or a forum (a post each day)",
        categories="Categories to post, comma separated (default: all), e.g. cs.CV, cs.LG",
        time="Local time to post, HH:MM (default 09:00)",
        timezone="IANA time zone, e.g. Europe/Berlin, Asia/Shanghai (default UTC)",
        include='Post only papers matching one of these, comma separated, as in /search: diffusion, "world model"',
        exclude="Leave out papers matching any of these, comma separated, e.g. survey, benchmark",
        language="The language of the posts (default: this server's language); papers are shown as written",
    )
    @app_commands.autocomplete(categories=category_list_choices)
    @per_user_cooldown(6, 60)
    async def add(self, interaction: discord.Interaction, channel: FeedChannel,
                  categories: CategoriesText | None = None, time: TimeText | None = None,
                  timezone: TimezoneText | None = None, include: FilterText | None = None,
                  exclude: FilterText | None = None,
                  language: Literal["English", "简体中文", "繁體中文"] | None = None) -> None:
        require_manage_guild(interaction)
        services = services_of(interaction)
        settings = services.settings
        wanted = split_categories(categories)
        include_terms = parse_filter(include, "include")
        exclude_terms = parse_filter(exclude, "exclude")
        stored = {code.lower(): code for code, _ in await services.categories.items()}
        bad = [c for c in wanted if c.lower() not in stored and not is_category_code(c)]
        if bad:
            raise InvalidInput("`{value}` is not an arXiv category; use codes like cs.CV or eess.IV (see /categories).",
                               value=bad[0][:40])
        if len(wanted) > MAX_FEED_CATEGORIES:
            raise InvalidInput("A feed can follow at most {count} categories; leave it empty to get all of them.",
                               count=MAX_FEED_CATEGORIES)
        wanted = [stored.get(c.lower()) or canonical_category(c) or c for c in wanted]
        unseen = [c for c in wanted if c.lower() not in stored]
        post_time = parse_time_of_day(time) if time else settings.default_post_time
        zone = parse_timezone(timezone or settings.default_timezone)
        assert interaction.guild is not None
        me = interaction.guild.me
        if me is not None:
            lacking = missing_permissions(channel, me)
            if lacking:
                raise PermissionMissing(
                    "I cannot post digests in {channel}: I am missing {permissions} there. "
                    "Grant them to my role in the channel settings, then run /feed add again.",
                    channel=channel.mention, permissions=", ".join(lacking),
                )
        now = services.clock()
        feed, created = await in_time(interaction, services.feeds.upsert(
            guild_id=interaction.guild.id, channel_id=channel.id, categories=wanted, post_time=post_time,
            timezone=zone.key, created_by=interaction.user.id, now=now,
            include=join_filter(include_terms), exclude=join_filter(exclude_terms),
            channel_type="forum" if isinstance(channel, discord.ForumChannel) else "text",
            language=FEED_LANGUAGES[language] if language else normalize(interaction.guild_locale),
        ))
        upcoming = next_post_time(now, feed.post_time, zone).astimezone(zone)
        locale = await reply_locale(interaction)
        followed = ", ".join(f"`{c}`" for c in wanted) or t("all categories", locale)
        at = f"{feed.post_time:%H:%M} {zone.key}"
        lines = [
            t("Added the feed for {channel}: {categories}, every day at {time}.", locale, channel=channel.mention,
              categories=followed, time=at) if created else
            t("Updated the feed for {channel}: {categories}, every day at {time}.", locale, channel=channel.mention,
              categories=followed, time=at),
            t("Each new digest is posted at that time (at once if it arrives later in the day). Next post time: {next}.", locale,
              next=f"{upcoming:%Y-%m-%d %H:%M} {zone.key}"),
        ]
        if feed.language != "en":
            lines.append(t("Posts are written in {language} (papers as written).", locale, language=LANGUAGE_NAMES[feed.language]))
        if feed.include:
            lines.append(t("Only papers matching one of: {terms} (title, TL;DR or abstract).", locale, terms=escape_markdown(feed.include)))
        if feed.exclude:
            lines.append(t("Never papers matching any of: {terms}.", locale, terms=escape_markdown(feed.exclude)))
        if unseen:
            lines.append(t("No stored paper is in {categories} yet; check the spelling with /categories.", locale,
                           categories=", ".join(f"`{c}`" for c in unseen)))
        await answer(interaction, "\n".join(lines), ephemeral=True)

    @feed.command(name="list", description="Show this server's feeds, their state and last delivery")
    @per_user_cooldown(4, 30)
    async def list_feeds(self, interaction: discord.Interaction) -> None:
        require_manage_guild(interaction)
        services = services_of(interaction)
        assert interaction.guild is not None
        feeds = await services.feeds.in_guild(interaction.guild.id)
        locale = await reply_locale(interaction)
        if not feeds:
            await interaction.response.send_message(t("This server has no feeds yet. Add one with /feed add.", locale), ephemeral=True)
            return
        lines = []
        for feed in feeds:
            last = await services.ledger.latest("channel", feed.id)
            detail = ""
            if last is not None:
                detail = "\n  " + t("last post: digest of {day}, {state}", locale, day=last.date, state=last.state)
                if last.last_error and last.state != "done":
                    detail += f" ({last.last_error})"
            lines.append(describe_feed(feed, locale=locale) + detail)
        embed = discord.Embed(title=t("Feeds in {server}", locale, server=interaction.guild.name),
                              description="\n\n".join(lines)[:4000], colour=ARXIV_RED)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @feed.command(name="remove", description="Stop posting digests in a channel")
    @app_commands.describe(channel="The channel whose feed to remove")
    @per_user_cooldown(6, 60)
    async def remove(self, interaction: discord.Interaction, channel: FeedChannel) -> None:
        require_manage_guild(interaction)
        if not await in_time(interaction, services_of(interaction).feeds.remove(channel.id)):
            raise NotFound("{channel} has no feed.", channel=channel.mention)
        await answer(interaction, t("Removed the feed of {channel}; nothing more will be posted there.", await reply_locale(interaction),
                                    channel=channel.mention), ephemeral=True)

    async def _set_paused(self, interaction: discord.Interaction, channel: FeedChannel, paused: bool) -> None:
        require_manage_guild(interaction)
        services = services_of(interaction)
        feed = await in_time(interaction, services.feeds.set_paused(channel.id, paused, services.clock()))
        if feed is None:
            raise NotFound("{channel} has no feed.", channel=channel.mention)
        locale = await reply_locale(interaction)
        if paused:
            await answer(interaction, t("Paused the feed of {channel}. Resume it with /feed resume.", locale, channel=channel.mention),
                         ephemeral=True)
        else:
            await answer(interaction, t("Resumed the feed of {channel}; any post it missed while failing is retried now.", locale,
                                        channel=channel.mention), ephemeral=True)
            bot: DigestBot = interaction.client  # type: ignore[assignment]
            if bot.jobs is not None:
                bot.loop.create_task(bot.jobs.deliver())

    @feed.command(name="pause", description="Stop a channel's posts for now (settings are kept)")
    @app_commands.describe(channel="The channel whose feed to pause")
    @per_user_cooldown(4, 60)
    async def pause(self, interaction: discord.Interaction, channel: FeedChannel) -> None:
        await self._set_paused(interaction, channel, True)

    @feed.command(name="resume", description="Restart a paused or failing feed")
    @app_commands.describe(channel="The channel whose feed to resume")
    @per_user_cooldown(4, 60)
    async def resume(self, interaction: discord.Interaction, channel: FeedChannel) -> None:
        await self._set_paused(interaction, channel, False)

    @feed.command(name="preview", description="Show (only to you) how the latest digest would look in a channel")
    @app_commands.describe(channel="Use this channel's feed settings (default: all categories)")
    @per_user_cooldown(4, 30)
    async def preview(self, interaction: discord.Interaction, channel: FeedChannel | None = None) -> None:
        require_manage_guild(interaction)
        services = services_of(interaction)
        feed = await services.feeds.by_channel(channel.id) if channel else None
        categories = feed.categories if feed else []
        latest = await services.papers.latest_digest()
        if latest is None:
            raise NotFound("No digest is stored yet, so there is nothing to preview.")
        plan = await in_time(interaction, plan_for(services, categories, latest, feed.include if feed else "",
                                                   feed.exclude if feed else "", feed.language if feed else "en"))
        if plan is None:
            where = ", ".join(categories) or "any category"
            raise NotFound("The digest of {day} has no papers in {where} that pass this feed's filters: "
                           "that day would post nothing.", day=latest.date, where=where)
        first = plan.parts
        embeds = list(plan.header)
        budget = 6000 - sum(len(e) for e in embeds)
        for embed in first[0].embeds if first else []:
            if len(embeds) == 10 or len(embed) > budget:
                break
            embeds.append(embed)
            budget -= len(embed)
        text = t("Preview: the header goes in the channel, then {count} messages in a thread under it; the first one:",
                 await reply_locale(interaction), count=len(first))
        await answer(interaction, text, embeds=embeds, ephemeral=True)

    @feed.command(name="send-now", description="Post the latest digest in a feed's channel now")
    @app_commands.describe(channel="The feed's channel")
    @per_user_cooldown(2, 60)
    async def send_now(self, interaction: discord.Interaction, channel: FeedChannel) -> None:
        require_manage_guild(interaction)
        services = services_of(interaction)
        feed = await services.feeds.by_channel(channel.id)
        if feed is None:
            raise NotFound("{channel} has no feed; add one with /feed add first.", channel=channel.mention)
        latest = await services.papers.latest_digest()
        if latest is None:
            raise NotFound("No digest is stored yet, so there is nothing to send.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot: DigestBot = interaction.client  # type: ignore[assignment]
        outcome = await bot.channel_deliveries.deliver(feed, latest, now=True)
        locale = await reply_locale(interaction)
        values = {"day": latest.date, "channel": channel.mention, "detail": outcome.detail}
        sentences = {
            "done": N_("Posted the digest of {day} in {channel}."),
            "skipped": N_("The digest of {day} has no papers in this feed's categories (after its filters); nothing was posted."),
            "refused": N_("Discord refused the post: {detail}. The feed is marked failing; fix it, then /feed resume."),
            "retrying": N_("Discord had a problem ({detail}); the post will be retried automatically."),
            "failed": N_("The post failed: {detail}."),
            "sending": N_("The bot is shutting down; the post resumes when it is back."),
            "busy": N_("The digest of {day} is being posted in {channel} right now; it is never posted twice."),
        }
        if outcome.detail == "already finished" and outcome.state == "done":
            template = N_("The digest of {day} was already posted in {channel}; it is never posted twice.")
        elif outcome.detail == "already finished" and outcome.state == "failed":
            template = N_("Posting the digest of {day} failed earlier; run /feed resume to retry it.")
        else:
            template = sentences.get(outcome.state, outcome.state)
        message = t(template, locale, **{k: v for k, v in values.items() if "{" + k + "}" in template})
        await interaction.followup.send(message, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    """Load /feed."""
    await bot.add_cog(Feeds())
