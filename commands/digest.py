"""/digest: one day's digest, counts per category, then its papers as linked titles, paged."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.arxiv_categories import category_name
from bot.core.errors import NotFound
from bot.i18n.catalogs import ENGLISH, format_day, t
from bot.ranking.matching import UserMatches, match_digest
from bot.render.paper_controls import paper_menus, set_menu_papers
from bot.render.papers import ARXIV_RED, lines_within, paper_line
from bot.render.text import escape_markdown
from bot.worker.ordering import order_by_models
from commands.options import (
    CategoryText,
    DayText,
    category_choices,
    day_option,
    known_category,
    per_user_cooldown,
    reply_locale,
    services_of,
)
from commands.paging import PagedView, page_count
from commands.respond import in_time
from storage.records import DigestEntry, StoredPaper

if TYPE_CHECKING:
    from bot.app.client import DigestBot

PAGE_SIZE = 8


def category_counts(entries: list[DigestEntry]) -> str:
    """`cs.CV 88 · cs.CL 69 · ...` in digest order."""
    counts = Counter(entry.section for entry in entries)
    return " · ".join(f"`{section}` {count}" for section, count in counts.items())


def digest_embed(day: dt.date, category: str | None, entries: list[DigestEntry], page: int, locale: str = ENGLISH) -> discord.Embed:
    """One page of a day's digest (its frame in `locale`)."""
    pages = page_count(len(entries), PAGE_SIZE)
    start = page * PAGE_SIZE
    lines = [paper_line(e.paper, number=start + i + 1) for i, e in enumerate(entries[start:start + PAGE_SIZE])]
    body, _ = lines_within(lines, 3300)
    title = t("arXiv digest of {day}", locale, day=format_day(day, locale))
    if category:
        name = category_name(category)
        title += f" · {category}" + (f" ({name})" if name else "")
    embed = discord.Embed(title=title, colour=ARXIV_RED,
                          description=t("**{count} papers**: {counts}", locale, count=len(entries), counts=category_counts(entries))
                          + f"\n\n{body}")
    embed.set_footer(text=t("Page {page} of {pages} · /paper <id> opens one paper in full", locale, page=page + 1, pages=pages))
    return embed


class DigestView(PagedView):
    """Pages through one day's papers."""

    def __init__(self, owner: discord.abc.User, day: dt.date, category: str | None, entries: list[DigestEntry],
                 locale: str = ENGLISH) -> None:
        super().__init__(owner, pages=page_count(len(entries), PAGE_SIZE), locale=locale)
        self.day = day
        self.category = category
        self.entries = entries
        self.locale = locale
        paper_menus(self._page_papers(0), self, first_row=2, locale=locale)

    def _page_papers(self, page: int) -> list[StoredPaper]:
        return [e.paper for e in self.entries[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]

    async def render(self, page: int) -> discord.Embed:
        set_menu_papers(self, self._page_papers(page))
        return digest_embed(self.day, self.category, self.entries, page, self.locale)


def mine_embed(day: dt.date, matches: UserMatches, page: int, locale: str = ENGLISH) -> discord.Embed:
    """One page of the caller's matches of a day, each paper with the reasons it matched."""
    pages = page_count(len(matches.papers), PAGE_SIZE)
    start = page * PAGE_SIZE
    lines = [
        paper_line(paper, number=start + i + 1) + "\n*"
        + ", ".join(f"{t(r.kind, locale)}: {escape_markdown(r.value)}" for r in reasons) + "*"
        for i, (paper, reasons) in enumerate(matches.papers[start:start + PAGE_SIZE])
    ]
    body, _ = lines_within(lines, 3500)
    embed = discord.Embed(title=t("Your matches in the digest of {day}", locale, day=format_day(day, locale)), colour=ARXIV_RED,
                          description=t("**{count} papers** match your subscriptions", locale, count=len(matches.papers))
                          + f"\n\n{body}")
    embed.set_footer(text=t("Page {page} of {pages} · /subscriptions to change what you follow", locale, page=page + 1,
                            pages=pages))
    return embed


class MineView(PagedView):
    """Pages through the caller's matches of one day."""

    def __init__(self, owner: discord.abc.User, day: dt.date, matches: UserMatches, locale: str = ENGLISH) -> None:
        super().__init__(owner, pages=page_count(matches.count(), PAGE_SIZE), locale=locale)
        self.day = day
        self.matches = matches
        self.locale = locale
        paper_menus(self._page_papers(0), self, first_row=2, locale=locale)

    def _page_papers(self, page: int) -> list[StoredPaper]:
        return [paper for paper, _ in self.matches.papers[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]

    async def render(self, page: int) -> discord.Embed:
        set_menu_papers(self, self._page_papers(page))
        return mine_embed(self.day, self.matches, page, self.locale)


class Digest(commands.Cog):
    """Browse one day."""

    @app_commands.command(name="digest", description="Browse one day's digest (the latest by default)")
    @app_commands.describe(
        date="YYYY-MM-DD, today or yesterday (default: the latest digest)",
        category="Only this category",
        mine="Only the papers matching your /subscribe subscriptions, with why they match",
    )
    @app_commands.autocomplete(category=category_choices)
    @per_user_cooldown(6, 30)
    async def digest(self, interaction: discord.Interaction, date: DayText | None = None, category: CategoryText | None = None,
                     mine: bool = False) -> None:
        services = services_of(interaction)
        chosen = await known_category(interaction, category)
        day = day_option(interaction, date)
        if day is None:
            latest = await services.papers.latest_digest()
            if latest is None:
                raise NotFound("No digests are stored yet. The first one arrives with the next poll of the source.")
            day = latest.date
        if mine:
            await self._mine(interaction, day, chosen)
            return
        entries = await services.papers.digest_entries(day, [chosen] if chosen else [])
        if not entries:
            info = await services.papers.digest_info(day)
            if info is None:
                dates = await services.papers.digest_dates()
                nearby = ", ".join(str(d) for d in dates[:5]) or "none yet"
                raise NotFound("There is no digest for {day}. Latest digests: {days}.", day=day, days=nearby)
            raise NotFound("The digest of {day} has no papers in `{category}`.", day=day, category=chosen)
        locale = await reply_locale(interaction)
        await DigestView(interaction.user, day, chosen, entries, locale).send(interaction, digest_embed(day, chosen, entries, 0, locale))

    async def _mine(self, interaction: discord.Interaction, day: dt.date, category: str | None) -> None:
        services = services_of(interaction)
        subscriptions = await services.subscriptions.for_user(interaction.user.id)
        if not subscriptions:
            raise NotFound("You follow nothing yet. Subscribe with /subscribe category, /subscribe keyword or /subscribe author.")
        entries = await services.papers.digest_entries(day, [category] if category else [])
        if not entries:
            if category is None:
                raise NotFound("There is no digest for {day}.", day=day)
            raise NotFound("The digest of {day} has no papers in `{category}`.", day=day, category=category)
        found = await in_time(interaction, asyncio.to_thread(match_digest, entries, subscriptions), ephemeral=True)
        matches = found.get(interaction.user.id)
        if matches is None:
            raise NotFound("None of the {count} papers of {day} match your {subscriptions} subscriptions.", count=len(entries),
                           day=day, subscriptions=len(subscriptions))
        digest = await services.papers.digest_info(day)
        if digest is not None and not category:
            # Best first for a member whose model has learnt enough (the order their DM uses).
            bot: DigestBot = interaction.client  # type: ignore[assignment]
            await in_time(interaction, order_by_models(bot.worker, digest.id, entries, {interaction.user.id: matches},
                                                       owner=interaction.user.id), ephemeral=True)
        locale = await reply_locale(interaction)
        await MineView(interaction.user, day, matches, locale).send(interaction, mine_embed(day, matches, 0, locale), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    """Load /digest."""
    await bot.add_cog(Digest())
