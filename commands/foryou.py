"""/foryou: the recent papers ranked for the member by their own model, each with why, paged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import NotFound
from bot.i18n.catalogs import ENGLISH, t
from bot.ranking.features import MIN_POSITIVES, days_back
from bot.ranking.recommender import NotEnoughToGoOn, Ranked
from bot.render.paper_controls import paper_menus, set_menu_papers
from bot.render.papers import ARXIV_RED, lines_within, paper_line
from bot.render.text import escape_markdown
from bot.worker import tasks
from commands.options import (
    CategoryText,
    category_choices,
    known_category,
    per_user_cooldown,
    reply_locale,
    services_of,
)
from commands.paging import PagedView, page_count
from commands.respond import in_time
from storage.records import StoredPaper

if TYPE_CHECKING:
    from bot.app.client import DigestBot

PAGE_SIZE = 5
MAX_DAYS = 60


def ranked_embed(title: str, intro: str, ranked: list[Ranked], page: int, footer: str, locale: str = ENGLISH) -> discord.Embed:
    """One page of ranked papers, each with why it is there."""
    start = page * PAGE_SIZE
    lines = [paper_line(r.paper, number=start + i + 1, extra=f" · {r.paper.last_seen}") + f"\n*{escape_markdown(r.why)}*"
             for i, r in enumerate(ranked[start:start + PAGE_SIZE])]
    body, _ = lines_within(lines, 3800)
    embed = discord.Embed(title=title, colour=ARXIV_RED, description=f"{intro}\n\n{body}")
    embed.set_footer(text=t("Page {page} of {pages} · {note}", locale, page=page + 1, pages=page_count(len(ranked), PAGE_SIZE),
                            note=footer))
    return embed


class RankedView(PagedView):
    """Pages through ranked papers, with Save / 👍 / 👎 menus for the page shown."""

    def __init__(self, owner: discord.abc.User, title: str, intro: str, ranked: list[Ranked], footer: str,
                 locale: str = ENGLISH) -> None:
        super().__init__(owner, pages=page_count(len(ranked), PAGE_SIZE), locale=locale)
        self.title, self.intro, self.ranked, self.footer, self.locale = title, intro, ranked, footer, locale
        paper_menus(self._papers(0), self, first_row=2, locale=locale)

    def _papers(self, page: int) -> list[StoredPaper]:
        return [r.paper for r in self.ranked[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]

    def first_page(self) -> discord.Embed:
        return ranked_embed(self.title, self.intro, self.ranked, 0, self.footer, self.locale)

    async def render(self, page: int) -> discord.Embed:
        set_menu_papers(self, self._papers(page))
        return ranked_embed(self.title, self.intro, self.ranked, page, self.footer, self.locale)


class ForYou(commands.Cog):
    """Recent papers in the member's own order."""

    @app_commands.command(name="foryou", description="Recent papers ranked for you, from your 👍 / 👎, saved papers and subscriptions")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(days=f"How many days of digests to rank (default 7, at most {MAX_DAYS})",
                           category="Only this category (primary or cross-listed)")
    @app_commands.autocomplete(category=category_choices)
    @per_user_cooldown(4, 60)
    async def foryou(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, MAX_DAYS] = 7,
                     category: CategoryText | None = None) -> None:
        services = services_of(interaction)
        days = max(1, min(int(days), MAX_DAYS))  # checked again: a client may send anything
        chosen = await known_category(interaction, category)
        latest = await services.papers.latest_digest()
        if latest is None:
            raise NotFound("No digest is stored yet, so there is nothing to rank.")
        bot: DigestBot = interaction.client  # type: ignore[assignment]
        since = days_back(latest.date, days)
        locale = await reply_locale(interaction)
        try:
            answer = await in_time(interaction, bot.worker.run(interaction.user.id, tasks.for_you, interaction.user.id, since,
                                                               latest.date, chosen, locale), ephemeral=True)
        except NotEnoughToGoOn:
            raise NotFound("I know nothing of your taste yet. Press 👍 or 🔖 Save under papers (in /paper, /search, "
                           "/digest or your DMs), or subscribe with /subscribe, then try again.") from None
        ranked = answer.ranked
        if not ranked:
            if chosen:
                raise NotFound("No new papers in `{category}` between {since} and {until} that you have not rated already.",
                               category=chosen, since=since, until=latest.date)
            raise NotFound("No new papers between {since} and {until} that you have not rated already.", since=since,
                           until=latest.date)
        liked = answer.positives
        learnt = (t("learnt from your {count} liked or saved papers", locale, count=liked) if liked >= MIN_POSITIVES else
                  t("learnt mostly from your subscriptions ({count} liked papers so far; 👍 {needed} to sharpen it)", locale,
                    count=liked, needed=MIN_POSITIVES))
        if chosen:
            intro = t("**{count} papers** of {since} to {until} in `{category}`, best first: {learnt}.", locale, count=len(ranked),
                      since=since, until=latest.date, category=chosen, learnt=learnt)
        else:
            intro = t("**{count} papers** of {since} to {until}, best first: {learnt}.", locale, count=len(ranked), since=since,
                      until=latest.date, learnt=learnt)
        view = RankedView(interaction.user, t("For you", locale), intro, ranked,
                          t("👍 / 👎 below teach the ranking · only you see this", locale), locale)
        await view.send(interaction, view.first_page(), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    """Load /foryou."""
    await bot.add_cog(ForYou())
