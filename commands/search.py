"""/search and its paging view: ranked results, 5 a page, a menu to open one paper."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n.catalogs import ENGLISH, t
from bot.render.limits import SELECT_DESCRIPTION, SELECT_LABEL
from bot.render.paper_controls import paper_buttons
from bot.render.papers import ARXIV_RED, lines_within, paper_embed, paper_line
from bot.render.text import display_title, escape_markdown, one_line
from commands.options import (
    AuthorText,
    BoundedText,
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
from commands.respond import answer, in_time
from storage.records import SearchPage, StoredPaper
from storage.search import FullTextIndex, Ranking, SearchFilters

PAGE_SIZE = 5
QueryText = app_commands.Transform[str, BoundedText("The search", 300)]


def describe_search(query: str, filters: SearchFilters) -> str:
    """`**diffusion** in cs.CV by LeCun from 2026-01-01`: what was searched, for headers and misses."""
    parts = [f"**{escape_markdown(one_line(query, 100))}**"]
    if filters.category:
        parts.append(f"in `{filters.category}`")
    if filters.author:
        parts.append(f"by {escape_markdown(one_line(filters.author, 60))}")
    if filters.since and filters.until:
        parts.append(f"from {filters.since} to {filters.until}")
    elif filters.since:
        parts.append(f"since {filters.since}")
    elif filters.until:
        parts.append(f"until {filters.until}")
    return " ".join(parts)


def results_embed(query: str, filters: SearchFilters, page: SearchPage, locale: str = ENGLISH) -> discord.Embed:
    """One page of results: numbered linked titles with category, date and one-line TL;DR (frame in `locale`)."""
    pages = page_count(page.total, page.limit)
    lines = [
        paper_line(paper, number=page.offset + index + 1, extra=f" · {paper.last_seen}")
        for index, paper in enumerate(page.papers)
    ]
    body, _ = lines_within(lines, 3800)
    embed = discord.Embed(
        title=t("Search results", locale),
        description=t("{query}: {count} papers", locale, query=describe_search(query, filters), count=f"{page.total:,}") + f"\n\n{body}",
        colour=ARXIV_RED,
    )
    embed.set_footer(text=t("Page {page} of {pages} · best matches first · pick a paper below to open it", locale,
                            page=page.offset // page.limit + 1, pages=pages))
    return embed


class PaperSelect(discord.ui.Select["SearchView"]):
    """Opens one of the papers on the current page, privately for the clicker."""

    def __init__(self, papers: list[StoredPaper], locale: str = ENGLISH) -> None:
        super().__init__(placeholder=t("Open a paper…", locale), row=0, options=self.options_for(papers) or [discord.SelectOption(label="-", value="-")])

    @staticmethod
    def options_for(papers: list[StoredPaper]) -> list[discord.SelectOption]:
        # A title like `$$` reads as nothing: Discord refuses an empty label, so the id stands in.
        return [
            discord.SelectOption(
                label=display_title(paper.title, SELECT_LABEL) or f"arXiv:{paper.arxiv_id}",
                value=paper.arxiv_id,
                description=one_line(f"{paper.arxiv_id} · {paper.primary_category} · {paper.tldr}", SELECT_DESCRIPTION) or None,
            )
            for paper in papers
        ]

    async def callback(self, interaction: discord.Interaction) -> None:
        paper = await services_of(interaction).papers.get(self.values[0])
        if paper is None:
            await interaction.response.send_message("That paper is no longer stored.", ephemeral=True)
            return
        locale = await reply_locale(interaction)
        await interaction.response.send_message(embed=paper_embed(paper, locale), view=paper_buttons(paper.arxiv_id, locale=locale),
                                                ephemeral=True)


class SearchView(PagedView):
    """Previous / Next through the results and a menu to open a paper; only the searcher can use them.

    The view keeps the search's ranked ids, so a page turn reads five papers and never ranks again
    (ranking deeper only past the first pages kept).
    """

    def __init__(self, owner: discord.abc.User, index: FullTextIndex, query: str, filters: SearchFilters,
                 ranking: Ranking, first: list[StoredPaper], locale: str = ENGLISH) -> None:
        super().__init__(owner, pages=page_count(ranking.total, PAGE_SIZE), locale=locale)
        self.locale = locale
        self.index = index
        self.query = query
        self.filters = filters
        self.ranking = ranking
        self.select = PaperSelect(first, locale)
        self.add_item(self.select)

    async def render(self, page: int) -> discord.Embed:
        offset = page * PAGE_SIZE
        if offset + PAGE_SIZE > len(self.ranking.ids) and not self.ranking.complete:
            self.ranking = await self.index.rank(self.query, self.filters, depth=offset + PAGE_SIZE + self.index.depth)
        papers = await self.index.papers(self.ranking.ids[offset:offset + PAGE_SIZE])
        self.select.options = PaperSelect.options_for(papers)
        return results_embed(self.query, self.filters, SearchPage(papers, self.ranking.total, offset, PAGE_SIZE), self.locale)


class Search(commands.Cog):
    """Full-text search over every stored paper."""

    @app_commands.command(name="search", description="Search every stored paper, in English or Chinese")
    @app_commands.describe(
        query='Words to find; "a phrase", prefix*, a OR b and -word work too',
        category="Only this category (primary or cross-listed)",
        author="Only papers by this author (case and accents ignored)",
        since="Only digests on or after this day: YYYY-MM-DD, today or yesterday",
        until="Only digests on or before this day: YYYY-MM-DD, today or yesterday",
    )
    @app_commands.autocomplete(category=category_choices)
    @per_user_cooldown(6, 30)
    async def search(
        self,
        interaction: discord.Interaction,
        query: QueryText,
        category: CategoryText | None = None,
        author: AuthorText | None = None,
        since: DayText | None = None,
        until: DayText | None = None,
    ) -> None:
        services = services_of(interaction)
        filters = SearchFilters(
            category=await known_category(interaction, category),
            author=author,
            since=day_option(interaction, since),
            until=day_option(interaction, until),
        )
        ranking = await in_time(interaction, services.search.rank(query, filters), ephemeral=False)
        papers = await services.search.papers(ranking.ids[:PAGE_SIZE])
        first = SearchPage(papers, ranking.total, 0, PAGE_SIZE)
        if not first.papers:
            stored = await services.corpus.papers()
            if stored == 0:
                message = t("No papers are stored yet, so there is nothing to search. The next digest arrives with the next poll.",
                            await reply_locale(interaction))
            else:
                message = t("No papers match {query} among {count} stored papers. Try fewer or other words.",
                            await reply_locale(interaction), query=describe_search(query, filters), count=f"{stored:,}")
            await answer(interaction, message, ephemeral=True)
            return
        locale = await reply_locale(interaction)
        view = SearchView(interaction.user, services.search, query, filters, ranking, papers, locale)
        await view.send(interaction, results_embed(query, filters, first, locale))


async def setup(bot: commands.Bot) -> None:
    """Load /search."""
    await bot.add_cog(Search())

