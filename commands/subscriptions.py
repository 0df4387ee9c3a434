"""/subscribe, /unsubscribe, /subscriptions and /notify: personal subscriptions delivered by DM."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.arxiv_categories import canonical_category, category_name, is_category_code
from bot.dates import parse_time_of_day, parse_timezone
from bot.errors import InvalidInput, LimitReached, NotFound
from bot.render.papers import ARXIV_RED
from bot.render.text import escape_markdown, one_line
from commands.options import (
    BoundedText,
    TimeText,
    TimezoneText,
    category_choices,
    per_user_cooldown,
    services_of,
)
from commands.paging import OwnedView, page_count
from commands.respond import answer, in_time, update_message
from storage.db import QueryTimeout
from storage.fts_query import EmptyQuery, build_match
from storage.subscriptions import Subscription, SubscriptionLimit, UserSettings, subscription_key

if TYPE_CHECKING:
    from bot.client import DigestBot

MAX_SUBSCRIPTIONS = 50
CategoryValue = app_commands.Transform[str, BoundedText("The category", 40, 2)]
KeywordValue = app_commands.Transform[str, BoundedText("The keyword", 100, 2)]
AuthorValue = app_commands.Transform[str, BoundedText("The author's name", 100, 2)]
SubscriptionValue = app_commands.Transform[str, BoundedText("The subscription", 100)]
PER_PAGE = 10
# Usable in servers and in DMs with the bot.
ANYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)


def settings_line(settings: UserSettings | None, default: str) -> str:
    """When DMs go out, or why they do not."""
    if settings is None:
        return f"DMs: at {default} (default) once you subscribe to something."
    line = f"DMs: each new digest at {settings.post_time:%H:%M} {settings.timezone}"
    if settings.paused:
        line = f"DMs: **paused** (at {settings.post_time:%H:%M} {settings.timezone} when resumed with /notify resume)"
    if settings.dm_failing_reason:
        since = settings.dm_failing_since.strftime("%Y-%m-%d %H:%M UTC") if settings.dm_failing_since else "?"
        line += (f"\n**Nothing arrived: since {since} Discord refused my DMs to you ({settings.dm_failing_reason}).** "
                 "Allow direct messages from server members (Privacy Settings of a server we share). "
                 "Using a command, as you just did, makes me try again with the next DM.")
    return line


def list_embed(subscriptions: list[Subscription], settings: UserSettings | None, default: str, page: int) -> discord.Embed:
    """The caller's subscriptions, numbered, one page, with their DM settings."""
    shown = subscriptions[page * PER_PAGE:(page + 1) * PER_PAGE]
    lines = [f"**{page * PER_PAGE + i + 1}.** {s.kind}: {escape_markdown(s.value)}" for i, s in enumerate(shown)]
    body = "\n".join(lines) if lines else "You follow nothing yet. Try `/subscribe keyword diffusion` or `/subscribe category cs.CV`."
    embed = discord.Embed(title="Your subscriptions", colour=ARXIV_RED,
                          description=f"{body}\n\n{settings_line(settings, default)}")
    pages = page_count(len(subscriptions), PER_PAGE)
    embed.set_footer(text=f"{len(subscriptions)} of {MAX_SUBSCRIPTIONS} · page {page + 1} of {pages} · press a number to remove it")
    return embed


class SubscriptionsView(OwnedView):
    """Remove buttons for one page of subscriptions, and paging."""

    def __init__(self, owner: discord.abc.User, subscriptions: list[Subscription], settings: UserSettings | None,
                 default: str, page: int = 0) -> None:
        super().__init__(owner)
        self.subscriptions = subscriptions
        self.settings = settings
        self.default = default
        self.page = page
        self._build()

    def _build(self) -> None:
        self.clear_items()
        shown = self.subscriptions[self.page * PER_PAGE:(self.page + 1) * PER_PAGE]
        for index, subscription in enumerate(shown):
            number = self.page * PER_PAGE + index + 1
            button: discord.ui.Button[SubscriptionsView] = discord.ui.Button(
                label=f"Remove {number}", style=discord.ButtonStyle.danger, row=index // 5, custom_id=f"unsub:{subscription.id}")
            button.callback = self._remover(subscription)  # type: ignore[method-assign]
            self.add_item(button)
        pages = page_count(len(self.subscriptions), PER_PAGE)
        if pages > 1:
            for label, step in (("Previous", -1), ("Next", 1)):
                target = self.page + step
                nav: discord.ui.Button[SubscriptionsView] = discord.ui.Button(
                    label=label, style=discord.ButtonStyle.secondary, row=2, disabled=not 0 <= target < pages)
                nav.callback = self._pager(target)  # type: ignore[method-assign]
                self.add_item(nav)

    def _pager(self, page: int) -> Any:
        async def go(interaction: discord.Interaction) -> None:
            self.page = page
            self._build()
            await interaction.response.edit_message(embed=list_embed(self.subscriptions, self.settings, self.default, page), view=self)
        return go

    def _remover(self, subscription: Subscription) -> Any:
        async def remove(interaction: discord.Interaction) -> None:
            services = services_of(interaction)
            await in_time(interaction, services.subscriptions.remove(interaction.user.id, subscription.id), update=True)
            self.subscriptions = await services.subscriptions.for_user(interaction.user.id)
            self.page = min(self.page, page_count(len(self.subscriptions), PER_PAGE) - 1)
            self._build()
            embed = list_embed(self.subscriptions, self.settings, self.default, self.page)
            embed.description = f"Removed {subscription.kind}: {escape_markdown(subscription.value)}.\n\n{embed.description}"
            await update_message(interaction, embed=embed, view=self)
        return remove


def searchable_words(value: str, what: str) -> str:
    """Words as typed, spaces tidied; InvalidInput when nothing in them can be searched for."""
    text = " ".join(value.split())
    try:
        build_match(text)
    except EmptyQuery:
        raise InvalidInput(f"{what} has no letters or digits to look for; try a word or a phrase.") from None
    return text


async def own_subscription_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete the caller's own subscriptions."""
    typed = current.strip().lower()
    found = await services_of(interaction).subscriptions.for_user(interaction.user.id)
    return [
        app_commands.Choice(name=one_line(s.label, 100), value=str(s.id))
        for s in found if not typed or typed in s.label.lower()
    ][:25]


class Subscriptions(commands.Cog):
    """Personal subscriptions."""

    subscribe = app_commands.Group(name="subscribe", description="Get new papers by DM: a category, keyword or author (or exclude words)",
                                   allowed_contexts=ANYWHERE)
    notify = app_commands.Group(name="notify", description="When your subscription DMs arrive", allowed_contexts=ANYWHERE)

    async def _add(self, interaction: discord.Interaction, kind: str, value: str, note: str = "") -> None:
        services = services_of(interaction)
        settings = services.settings
        try:
            subscription, created = await in_time(interaction, services.subscriptions.add(
                interaction.user.id, kind, value, now=services.clock(), limit=MAX_SUBSCRIPTIONS,
                default_time=settings.default_post_time, default_timezone=settings.default_timezone,
            ))
        except SubscriptionLimit as exc:
            raise LimitReached(f"You already follow {exc.limit} things, the most allowed. Remove some with /subscriptions first.") from None
        user = await services.subscriptions.settings(interaction.user.id)
        if not created:
            verb = "exclude" if kind == "exclude" else "follow"
            message = f"You already {verb} {'' if kind == 'exclude' else kind + ': '}{escape_markdown(subscription.value)}; nothing changed."
        elif kind == "exclude":
            message = (f"Excluded {escape_markdown(value)}: a paper that matches it never reaches your DMs or /digest mine, "
                       "whatever else it matches.")
        else:
            when = f"{user.post_time:%H:%M} {user.timezone}" if user else "09:00 UTC"
            message = (f"Subscribed to {kind}: {escape_markdown(value)}. Matching papers of each new digest come by DM at {when} "
                       "(change it with /notify time).")
        if note:
            message += f"\n{note}"
        if user is not None and user.dm_failing_reason:
            message += "\nYour DMs were failing; I will try again now. If nothing arrives, allow direct messages from server members."
        await answer(interaction, message, ephemeral=True)

    @subscribe.command(name="category", description="Every new paper in an arXiv category (primary or cross-listed)")
    @app_commands.describe(value="A category code, e.g. cs.CV")
    @app_commands.autocomplete(value=category_choices)
    async def category(self, interaction: discord.Interaction, value: CategoryValue) -> None:
        code = value.strip()
        stored = {c.lower(): c for c, _ in await services_of(interaction).categories.items()}
        code = stored.get(code.lower()) or canonical_category(code) or code
        if code.lower() not in stored and not is_category_code(code):
            raise InvalidInput(f"`{escape_markdown(code)}` is not an arXiv category; use a code like cs.CV (see /categories).")
        name = category_name(code)
        note = "" if code.lower() in stored else f"No stored paper is in {code} yet; check the spelling with /categories."
        await self._add(interaction, "category", code, note if note else (f"({name})" if name else ""))

    @subscribe.command(name="keyword", description="Papers whose title, TL;DR or abstract match words, a phrase or Chinese")
    @app_commands.describe(value='Words as in /search: diffusion policy, "large language model", 扩散模型')
    @per_user_cooldown(5, 60)
    async def keyword(self, interaction: discord.Interaction, value: KeywordValue) -> None:
        text = searchable_words(value, "That keyword")
        try:
            count = await in_time(interaction, services_of(interaction).search.count(text))
        except QueryTimeout:
            count = 0  # too broad to count quickly; the subscription itself is cheap to match
        await self._add(interaction, "keyword", text, f"{count:,} stored papers match it today." if count else "")

    @subscribe.command(name="exclude", description="Never send papers matching these words, whatever else they match")
    @app_commands.describe(value='Words as in /search: survey, "large language model", 综述')
    @per_user_cooldown(5, 60)
    async def exclude(self, interaction: discord.Interaction, value: KeywordValue) -> None:
        await self._add(interaction, "exclude", searchable_words(value, "That exclusion"))

    @subscribe.command(name="author", description="Papers by an author, as the name is written in digests")
    @app_commands.describe(value="The author's name, e.g. Yann LeCun (case and accents do not matter)")
    @per_user_cooldown(5, 60)
    async def author(self, interaction: discord.Interaction, value: AuthorValue) -> None:
        name = " ".join(value.split())
        if not subscription_key("author", name):
            raise InvalidInput("That name has no letters; type the author's name as it appears on arXiv.")
        count = await in_time(interaction, services_of(interaction).search.count_by_author(name))
        note = f"{count:,} stored papers are by {escape_markdown(name)}." if count else (
            "No stored paper is by that name yet; digests write names in full, like `Yann LeCun`.")
        await self._add(interaction, "author", name, note)

    @app_commands.command(name="unsubscribe", description="Stop following one of your subscriptions")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(subscription="One of your subscriptions")
    @app_commands.autocomplete(subscription=own_subscription_choices)
    async def unsubscribe(self, interaction: discord.Interaction, subscription: SubscriptionValue) -> None:
        services = services_of(interaction)
        mine = await services.subscriptions.for_user(interaction.user.id)
        chosen = next((s for s in mine if str(s.id) == subscription.strip() or s.label.lower() == subscription.strip().lower()), None)
        if chosen is None:
            raise NotFound("You do not follow that; pick one of yours from the list, or see /subscriptions.")
        await in_time(interaction, services.subscriptions.remove(interaction.user.id, chosen.id))
        await answer(interaction, f"Unsubscribed from {chosen.kind}: {escape_markdown(chosen.value)}.", ephemeral=True)

    @app_commands.command(name="subscriptions", description="List your subscriptions and DM settings, with remove buttons")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        mine = await services.subscriptions.for_user(interaction.user.id)
        settings = await services.subscriptions.settings(interaction.user.id)
        bot: DigestBot = interaction.client  # type: ignore[assignment]
        failed_before = bot.dm_deliveries.cleared.pop(interaction.user.id, None)
        if settings is not None and failed_before is not None and failed_before.dm_failing_reason:
            # Show why nothing arrived, even though this command already lifted the stop.
            settings = dataclasses.replace(settings, dm_failing_reason=failed_before.dm_failing_reason,
                                           dm_failing_since=failed_before.dm_failing_since)
        default = f"{services.settings.default_post_time:%H:%M} {services.settings.default_timezone}"
        await SubscriptionsView(interaction.user, mine, settings, default).send(interaction, list_embed(mine, settings, default, 0), ephemeral=True)

    @notify.command(name="time", description="Set when your DMs arrive")
    @app_commands.describe(time="HH:MM, 24-hour", timezone="IANA time zone, e.g. Europe/Berlin (default: keep yours)")
    async def time(self, interaction: discord.Interaction, time: TimeText, timezone: TimezoneText | None = None) -> None:
        services = services_of(interaction)
        at = parse_time_of_day(time)
        current = await services.subscriptions.settings(interaction.user.id)
        zone = parse_timezone(timezone) if timezone else parse_timezone(current.timezone if current else services.settings.default_timezone)
        updated = await in_time(interaction, services.subscriptions.set_time(interaction.user.id, at, zone.key, services.clock()))
        await answer(interaction,
            f"Your DMs now arrive at {updated.post_time:%H:%M} {updated.timezone} (at once when a digest arrives later that day).",
            ephemeral=True)

    async def _pause(self, interaction: discord.Interaction, paused: bool) -> None:
        services = services_of(interaction)
        settings = services.settings
        await in_time(interaction, services.subscriptions.set_paused(
            interaction.user.id, paused, now=services.clock(), default_time=settings.default_post_time,
            default_timezone=settings.default_timezone))
        await answer(interaction,
            "Paused your DMs; /notify resume starts them again." if paused else "Resumed your DMs.", ephemeral=True)

    @notify.command(name="pause", description="Stop your DMs for now (subscriptions are kept)")
    async def pause(self, interaction: discord.Interaction) -> None:
        await self._pause(interaction, True)

    @notify.command(name="resume", description="Start your DMs again")
    async def resume(self, interaction: discord.Interaction) -> None:
        await self._pause(interaction, False)


async def setup(bot: commands.Bot) -> None:
    """Load the subscription commands."""
    await bot.add_cog(Subscriptions())
