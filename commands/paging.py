"""A message with Previous / Next buttons that only the person who asked can press."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.app.error_replies import reply_with_error
from bot.i18n.catalogs import ENGLISH, t
from commands.respond import answer, in_time, update_message

log = logging.getLogger(__name__)

PAGE_TIMEOUT = 600.0


def page_count(items: int, per_page: int) -> int:
    """How many pages `items` fill (at least one, so an empty list still has a page)."""
    return max(1, -(-items // per_page))


class OwnedView(discord.ui.View):
    """Buttons that answer only the user who ran the command, and go grey after a timeout."""

    def __init__(self, owner: discord.abc.User, *, timeout: float = PAGE_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner.id
        self.owner_name = owner.display_name
        self.origin: discord.Interaction | None = None

    async def send(self, interaction: discord.Interaction, embed: discord.Embed, *, ephemeral: bool = False) -> None:
        """Answer `interaction` with `embed` and these buttons, remembering it so a timeout can grey them."""
        self.origin = interaction
        await answer(interaction, embed=embed, view=self, ephemeral=ephemeral)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            f"These buttons belong to {discord.utils.escape_markdown(self.owner_name)}; run the command yourself to get your own.",
            ephemeral=True,
        )
        return False

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True
        if self.origin is not None:
            try:
                await self.origin.edit_original_response(view=self)
            except discord.HTTPException:
                log.debug("could not disable buttons after timeout", exc_info=True)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await reply_with_error(interaction, error)


class PagedView(OwnedView):
    """Previous / Next over `pages` pages; subclasses render a page with `render(page)`."""

    def __init__(self, owner: discord.abc.User, pages: int, *, timeout: float = PAGE_TIMEOUT, locale: str = ENGLISH) -> None:
        super().__init__(owner, timeout=timeout)
        self.page = 0
        self.pages = max(1, pages)
        self.previous_page.label = t("Previous", locale)
        self.next_page.label = t("Next", locale)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous_page.disabled = self.page <= 0
        self.next_page.disabled = self.page >= self.pages - 1

    async def render(self, page: int) -> discord.Embed:
        raise NotImplementedError

    async def show(self, interaction: discord.Interaction, page: int) -> None:
        """Render `page` into the message the button sits on."""
        self.page = max(0, min(page, self.pages - 1))
        embed = await in_time(interaction, self.render(self.page), update=True)
        self._sync_buttons()
        await update_message(interaction, embed=embed, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, row=1)
    async def previous_page(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self.show(interaction, self.page - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary, row=1)
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self.show(interaction, self.page + 1)
