"""/subscribe, /unsubscribe, /subscriptions and /notify: personal subscriptions delivered by DM."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.arxiv_categories import canonical_category, category_name, is_category_code
from bot.core.dates import parse_time_of_day, parse_timezone
from bot.core.errors import InvalidInput, LimitReached, NotFound
from bot.i18n.catalogs import ENGLISH, N_, t
from bot.render.papers import ARXIV_RED
from bot.render.text import escape_markdown, one_line
from commands.options import (
    BoundedText,
    TimeText,
    TimezoneText,
    category_choices,
    per_user_cooldown,
    reply_locale,
    services_of,
)
from commands.paging import OwnedView, page_count
from commands.respond import answer, in_time, update_message
from storage.errors import QueryTimeout
from storage.fts_query import EmptyQuery, build_match
from storage.subscriptions import Subscription, SubscriptionLimit, UserSettings, subscription_key

if TYPE_CHECKING:
    from bot.app.client import DigestBot

MAX_SUBSCRIPTIONS = 50
CategoryValue = app_commands.Transform[str, BoundedText("The category", 40, 2)]
KeywordValue = app_commands.Transform[str, BoundedText("The keyword", 100, 2)]
AuthorValue = app_commands.Transform[str, BoundedText("The author's name", 100, 2)]
SubscriptionValue = app_commands.Transform[str, BoundedText("The subscription", 100)]
PER_PAGE = 10
# Usable in servers and in DMs with the bot.
ANYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)


# How each kind of subscription is named to members.
KIND_NAMES = {"category": N_("category"), "keyword": N_("keyword"), "author": N_("author"), "exclude": N_("exclude")}


def kind_label(kind: str, value: str, locale: str) -> str:
    """`keyword: diffusion`, the kind in the member's language, the value as typed (escaped)."""
    return f"{t(KIND_NAMES.get(kind, kind), locale)}: {escape_markdown(value)}"


def settings_line(settings: UserSettings | None, default: str, locale: str = ENGLISH) -> str:
    """When DMs go out, or why they do not."""
    if settings is None:
        return t("DMs: at {time} (default) once you subscribe to something.", locale, time=default)
    at = f"{settings.post_time:%H:%M} {settings.timezone}"
    line = t("DMs: each new digest at {time}", locale, time=at)
    if settings.paused:
        line = t("DMs: **paused** (at {time} when resumed with /notify resume)", locale, time=at)
    if settings.dm_failing_reason:
        since = settings.dm_failing_since.strftime("%Y-%m-%d %H:%M UTC") if settings.dm_failing_since else "?"
        line += "\n" + t("**Nothing arrived: since {since} Discord refused my DMs to you ({reason}).** Allow direct messages "
                         "from server members (Privacy Settings of a server we share). Using a command, as you just did, makes "
                         "me try again with the next DM.", locale, since=since, reason=settings.dm_failing_reason)
    return line


def list_embed(subscriptions: list[Subscription], settings: UserSettings | None, default: str, page: int,
               locale: str = ENGLISH) -> discord.Embed:
    """The caller's subscriptions, numbered, one page, with their DM settings."""
    shown = subscriptions[page * PER_PAGE:(page + 1) * PER_PAGE]
    lines = [f"**{page * PER_PAGE + i + 1}.** {kind_label(s.kind, s.value, locale)}" for i, s in enumerate(shown)]
    body = "\n".join(lines) if lines else t(
        "You follow nothing yet. Try `/subscribe keyword diffusion` or `/subscribe category cs.CV`.", locale)
    embed = discord.Embed(title=t("Your subscriptions", locale), colour=ARXIV_RED,
                          description=f"{body}\n\n{settings_line(settings, default, locale)}")
    pages = page_count(len(subscriptions), PER_PAGE)
    embed.set_footer(text=t("{count} of {most} · page {page} of {pages} · press a number to remove it", locale,
                            count=len(subscriptions), most=MAX_SUBSCRIPTIONS, page=page + 1, pages=pages))
    return embed


class SubscriptionsView(OwnedView):
    """Remove buttons for one page of subscriptions, and paging."""

    def __init__(self, owner: discord.abc.User, subscriptions: list[Subscription], settings: UserSettings | None,
                 default: str, page: int = 0, locale: str = ENGLISH) -> None:
        super().__init__(owner)
        self.locale = locale
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
                label=t("Remove {number}", self.locale, number=number), style=discord.ButtonStyle.danger, row=index // 5, custom_id=f"unsub:{subscription.id}")
            button.callback = self._remover(subscription)  # type: ignore[method-assign]
            self.add_item(button)
        pages = page_count(len(self.subscriptions), PER_PAGE)
        if pages > 1:
            for label, step in ((t("Previous", self.locale), -1), (t("Next", self.locale), 1)):
                target = self.page + step
                nav: discord.ui.Button[SubscriptionsView] = discord.ui.Button(
                    label=label, style=discord.ButtonStyle.secondary, row=2, disabled=not 0 <= target < pages)
                nav.callback = self._pager(target)  # type: ignore[method-assign]
                self.add_item(nav)

    def _pager(self, page: int) -> Any:
        async def go(interaction: discord.Interaction) -> None:
            self.page = page
            self._build()
            await interaction.response.edit_message(
                embed=list_embed(self.subscriptions, self.settings, self.default, page, self.locale), view=self)
        return go

    def _remover(self, subscription: Subscription) -> Any:
        async def remove(interaction: discord.Interaction) -> None:
            services = services_of(interaction)
            await in_time(interaction, services.subscriptions.remove(interaction.user.id, subscription.id), update=True)
            self.subscriptions = await services.subscriptions.for_user(interaction.user.id)
            self.page = min(self.page, page_count(len(self.subscriptions), PER_PAGE) - 1)
            self._build()
            embed = list_embed(self.subscriptions, self.settings, self.default, self.page, self.locale)
            removed = t("Removed {subscription}.", self.locale, subscription=kind_label(subscription.kind, subscription.value, self.locale))
            embed.description = f"{removed}\n\n{embed.description}"
            await update_message(interaction, embed=embed, view=self)
        return remove


def searchable_words(value: str, what: str) -> str:
    """Words as typed, spaces tidied; InvalidInput saying `what` when nothing in them can be searched for."""
    text = " ".join(value.split())
    try:
        build_match(text)
    except EmptyQuery:
        raise InvalidInput(what) from None
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
            raise LimitReached("You already follow {count} things, the most allowed. Remove some with /subscriptions first.",
                               count=exc.limit) from None
        user = await services.subscriptions.settings(interaction.user.id)
        locale = await reply_locale(interaction)
        if not created and kind == "exclude":
            message = t("You already exclude {value}; nothing changed.", locale, value=escape_markdown(subscription.value))
        elif not created:
            message = t("You already follow {subscription}; nothing changed.", locale,
                        subscription=kind_label(kind, subscription.value, locale))
        elif kind == "exclude":
            message = t("Excluded {value}: a paper that matches it never reaches your DMs or /digest mine, whatever else it matches.",
                        locale, value=escape_markdown(value))
        else:
            when = f"{user.post_time:%H:%M} {user.timezone}" if user else "09:00 UTC"
            message = t("Subscribed to {subscription}. Matching papers of each new digest come by DM at {time} "
                        "(change it with /notify time).", locale, subscription=kind_label(kind, value, locale), time=when)
        if note:
            message += f"\n{note}"
        if user is not None and user.dm_failing_reason:
            message += "\n" + t("Your DMs were failing; I will try again now. If nothing arrives, allow direct messages from "
                                "server members.", locale)
        await answer(interaction, message, ephemeral=True)

    @subscribe.command(name="category", description="Every new paper in an arXiv category (primary or cross-listed)")
    @app_commands.describe(value="A category code, e.g. cs.CV")
    @app_commands.autocomplete(value=category_choices)
    async def category(self, interaction: discord.Interaction, value: CategoryValue) -> None:
        code = value.strip()
        stored = {c.lower(): c for c, _ in await services_of(interaction).categories.items()}
        code = stored.get(code.lower()) or canonical_category(code) or code
        if code.lower() not in stored and not is_category_code(code):
            raise InvalidInput("`{value}` is not an arXiv category; use a code like cs.CV (see /categories).",
                               value=escape_markdown(code))
        name = category_name(code)
        note = "" if code.lower() in stored else t("No stored paper is in {category} yet; check the spelling with /categories.",
                                                    await reply_locale(interaction), category=code)
        await self._add(interaction, "category", code, note if note else (f"({name})" if name else ""))

    @subscribe.command(name="keyword", description="Papers whose title, TL;DR or abstract match words, a phrase or Chinese")
    @app_commands.describe(value='Words as in /search: diffusion policy, "large language model", 扩散模型')
    @per_user_cooldown(5, 60)
    async def keyword(self, interaction: discord.Interaction, value: KeywordValue) -> None:
        text = searchable_words(value, N_("That keyword has no letters or digits to look for; try a word or a phrase."))
        try:
            count = await in_time(interaction, services_of(interaction).search.count(text))
        except QueryTimeout:
            count = 0  # too broad to count quickly; the subscription itself is cheap to match
        note = t("{count} stored papers match it today.", await reply_locale(interaction), count=f"{count:,}") if count else ""
        await self._add(interaction, "keyword", text, note)

    @subscribe.command(name="exclude", description="Never send papers matching these words, whatever else they match")
    @app_commands.describe(value='Words as in /search: survey, "large language model", 综述')
    @per_user_cooldown(5, 60)
    async def exclude(self, interaction: discord.Interaction, value: KeywordValue) -> None:
        await self._add(interaction, "exclude", searchable_words(
            value, N_("That exclusion has no letters or digits to look for; try a word or a phrase.")))

    @subscribe.command(name="author", description="Papers by an author, as the name is written in digests")
    @app_commands.describe(value="The author's name, e.g. Yann LeCun (case and accents do not matter)")
    @per_user_cooldown(5, 60)
    async def author(self, interaction: discord.Interaction, value: AuthorValue) -> None:
        name = " ".join(value.split())
        if not subscription_key("author", name):
            raise InvalidInput("That name has no letters; type the author's name as it appears on arXiv.")
        count = await in_time(interaction, services_of(interaction).search.count_by_author(name))
        locale = await reply_locale(interaction)
        note = t("{count} stored papers are by {name}.", locale, count=f"{count:,}", name=escape_markdown(name)) if count else t(
            "No stored paper is by that name yet; digests write names in full, like `Yann LeCun`.", locale)
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
        locale = await reply_locale(interaction)
        await answer(interaction, t("Unsubscribed from {subscription}.", locale,
                                    subscription=kind_label(chosen.kind, chosen.value, locale)), ephemeral=True)

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
        locale = await reply_locale(interaction)
        await SubscriptionsView(interaction.user, mine, settings, default, locale=locale).send(
            interaction, list_embed(mine, settings, default, 0, locale), ephemeral=True)

    @notify.command(name="time", description="Set when your DMs arrive")
    @app_commands.describe(time="HH:MM, 24-hour", timezone="IANA time zone, e.g. Europe/Berlin (default: keep yours)")
    async def time(self, interaction: discord.Interaction, time: TimeText, timezone: TimezoneText | None = None) -> None:
        services = services_of(interaction)
        at = parse_time_of_day(time)
        current = await services.subscriptions.settings(interaction.user.id)
        zone = parse_timezone(timezone) if timezone else parse_timezone(current.timezone if current else services.settings.default_timezone)
        updated = await in_time(interaction, services.subscriptions.set_time(interaction.user.id, at, zone.key, services.clock()))
        await answer(interaction, t("Your DMs now arrive at {time} (at once when a digest arrives later that day).",
                                    await reply_locale(interaction), time=f"{updated.post_time:%H:%M} {updated.timezone}"),
                     ephemeral=True)

    async def _pause(self, interaction: discord.Interaction, paused: bool) -> None:
        services = services_of(interaction)
        settings = services.settings
        await in_time(interaction, services.subscriptions.set_paused(
            interaction.user.id, paused, now=services.clock(), default_time=settings.default_post_time,
            default_timezone=settings.default_timezone))
        locale = await reply_locale(interaction)
        await answer(interaction, t("Paused your DMs; /notify resume starts them again.", locale) if paused
                     else t("Resumed your DMs.", locale), ephemeral=True)

    @notify.command(name="pause", description="Stop your DMs for now (subscriptions are kept)")
    async def pause(self, interaction: discord.Interaction) -> None:
        await self._pause(interaction, True)

    @notify.command(name="resume", description="Start your DMs again")
    async def resume(self, interaction: discord.Interaction) -> None:
        await self._pause(interaction, False)


async def setup(bot: commands.Bot) -> None:
    """Load the subscription commands."""
    await bot.add_cog(Subscriptions())
