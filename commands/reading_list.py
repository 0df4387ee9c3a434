"""/save and /saved: a member's reading list, paged with remove buttons, exported as BibTeX, CSV or markdown."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import NotFound
from bot.i18n.catalogs import ENGLISH, t
from bot.render.papers import ARXIV_RED, lines_within, paper_line
from bot.render.text import escape_markdown, one_line
from bot.worker import tasks as worker_tasks
from commands.options import (
    PaperIdText,
    arxiv_id_option,
    per_user_cooldown,
    reply_locale,
    services_of,
)
from commands.paging import PagedView, page_count
from commands.paper_actions import act_on_paper
from commands.respond import answer, in_time
from storage.reading_list import ReadingList
from storage.records import StoredPaper

if TYPE_CHECKING:
    from bot.app.client import DigestBot

PAGE_SIZE = 5


def saved_embed(papers: list[tuple[StoredPaper, Any]], total: int, page: int, locale: str = ENGLISH) -> discord.Embed:
    """One page of the reading list, newest first."""
    lines = [paper_line(paper, number=page * PAGE_SIZE + i + 1, extra=" · " + t("saved {day}", locale, day=f"{saved:%Y-%m-%d}"))
             for i, (paper, saved) in enumerate(papers)]
    body, _ = lines_within(lines, 3800)
    embed = discord.Embed(title=t("Your reading list", locale), colour=ARXIV_RED,
                          description=t("**{count} papers**, newest first", locale, count=f"{total:,}") + f"\n\n{body}" if total
                          else t("Your reading list is empty. Press 🔖 Save under a paper, or use /save id.", locale))
    embed.set_footer(text=t("Page {page} of {pages} · only you see this list · /saved export:bibtex for Zotero, JabRef or Overleaf",
                            locale, page=page + 1, pages=page_count(total, PAGE_SIZE)))
    return embed


class SavedView(PagedView):
    """Pages through the member's list, with a Remove button per paper shown."""

    def __init__(self, owner: discord.abc.User, reading: ReadingList, total: int, first: list[tuple[StoredPaper, Any]],
                 locale: str = ENGLISH) -> None:
        super().__init__(owner, pages=page_count(total, PAGE_SIZE), locale=locale)
        self.locale = locale
        self.reading = reading
        self.total = total
        self.shown = first
        self._removers: list[discord.ui.Button[Any]] = []
        for slot in range(PAGE_SIZE):
            button: discord.ui.Button[Any] = discord.ui.Button(label=f"Remove {slot + 1}", style=discord.ButtonStyle.danger, row=0)
            button.callback = self._remover(slot)  # type: ignore[method-assign]
            self._removers.append(button)
            self.add_item(button)
        self._sync_removers()

    def _sync_removers(self) -> None:
        for slot, button in enumerate(self._removers):
            button.label = t("Remove {number}", self.locale, number=self.page * PAGE_SIZE + slot + 1)
            button.disabled = slot >= len(self.shown)

    def _remover(self, slot: int) -> Any:
        async def remove(interaction: discord.Interaction) -> None:
            if slot >= len(self.shown):
                return
            paper = self.shown[slot][0]
            services = services_of(interaction)
            await in_time(interaction, self.reading.remove(interaction.user.id, paper.arxiv_id, services.clock()), update=True)
            self.total = await self.reading.count(interaction.user.id)
            self.pages = page_count(self.total, PAGE_SIZE)
            await self.show(interaction, min(self.page, self.pages - 1))
            await interaction.followup.send(t("Removed {title} from your reading list.", self.locale,
                                              title=f"“{escape_markdown(one_line(paper.title, 80))}”"), ephemeral=True)
        return remove

    async def render(self, page: int) -> discord.Embed:
        self.shown = await self.reading.page(self.owner_id, page * PAGE_SIZE, PAGE_SIZE)
        self._sync_removers()
        return saved_embed(self.shown, self.total, page, self.locale)


class ReadingListCommands(commands.Cog):
    """Save papers and take the list elsewhere."""

    @app_commands.command(name="save", description="Save a paper to your reading list")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(id="An arXiv id or link: 2601.20911, arXiv:2601.20911 or https://arxiv.org/abs/...")
    async def save(self, interaction: discord.Interaction, id: PaperIdText) -> None:
        await act_on_paper(interaction, "save", arxiv_id_option(id))

    @app_commands.command(name="saved", description="Your reading list, newest first; or export it as a file")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(export="Reply with the whole list as a file: BibTeX (Zotero, JabRef, Overleaf), CSV or markdown")
    @per_user_cooldown(10, 60)
    async def saved(self, interaction: discord.Interaction,
                    export: Literal["bibtex", "csv", "markdown"] | None = None) -> None:
        services = services_of(interaction)
        reading = ReadingList(services.db)
        user_id = interaction.user.id
        if export is not None:
            bot: DigestBot = interaction.client  # type: ignore[assignment]
            # Up to 2,000 entries read and written: in the worker, as every member's commands share the bot.
            made = await in_time(interaction, bot.worker.run(user_id, worker_tasks.export_reading_list, user_id, export))
            if made is None:
                raise NotFound("Your reading list is empty, so there is nothing to export. Press 🔖 Save under a paper first.")
            name, data, count = made
            await answer(interaction, t("Your reading list, {count} papers, as {format}.", await reply_locale(interaction),
                                        count=f"{count:,}", format=export),
                         file=discord.File(io.BytesIO(data), filename=name), ephemeral=True)
            return
        total = await reading.count(user_id)
        first = await reading.page(user_id, 0, PAGE_SIZE)
        locale = await reply_locale(interaction)
        view = SavedView(interaction.user, reading, total, first, locale)
        await view.send(interaction, saved_embed(first, total, 0, locale), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    """Load /save and /saved."""
    await bot.add_cog(ReadingListCommands())
