"""Save / 👍 / 👎 controls under papers: what they are (custom ids, labels, menus), wherever a paper is shown.

They are discord.py dynamic items: what to do and to which paper is in the custom id
(`paper:save:2601.20911`, `papers:up`), so they keep working after a restart and in DMs sent
days ago. Commands and DMs both show them, so they live here, below both; what a press does is
registered by commands/paper_actions.py (`on_paper_action`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.i18n.catalogs import ENGLISH, N_, t
from bot.render.limits import SELECT_DESCRIPTION, SELECT_LABEL
from bot.render.text import display_title, one_line
from storage.records import StoredPaper

log = logging.getLogger(__name__)

_ID = r"[0-9A-Za-z.\-/]{4,40}"
ACTIONS = {"save": (N_("Save"), "🔖"), "up": (N_("Like"), "👍"), "down": (N_("Not for me"), "👎")}
_MENU_PLACEHOLDERS = {"save": N_("🔖 Save a paper to your reading list…"), "up": N_("👍 More like this…"),
                      "down": N_("👎 Less like this…")}
MAX_MENU_PAPERS = 25

# What a press does: (interaction, action, arXiv id as given, "" when a menu had no paper).
PaperActionHandler = Callable[[discord.Interaction, str, str], Awaitable[None]]
_handler: PaperActionHandler | None = None


def on_paper_action(handler: PaperActionHandler) -> None:
    """Say what a press of any Save / 👍 / 👎 control does (the commands register it when they load)."""
    global _handler
    _handler = handler


async def _pressed(interaction: discord.Interaction, action: str, arxiv_id: str) -> None:
    if _handler is None:
        log.error("a %s press arrived but no paper action handler is registered", action)
        return
    await _handler(interaction, action, arxiv_id)


class PaperActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"paper:(?P<action>save|up|down):(?P<id>{_ID})"):
    """One of Save / 👍 / 👎 under a single paper."""

    def __init__(self, action: str, arxiv_id: str, locale: str = ENGLISH) -> None:
        label, emoji = ACTIONS[action]
        style = discord.ButtonStyle.primary if action == "save" else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=t(label, locale), emoji=emoji, style=style, custom_id=f"paper:{action}:{arxiv_id}"))
        self.action = action
        self.arxiv_id = arxiv_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PaperActionButton:
        return cls(match["action"], match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _pressed(interaction, self.action, self.arxiv_id)


class PaperActionMenu(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"papers:(?P<action>save|up|down)"):
    """A menu of the papers in a list (a DM, a /digest page): choosing one saves it or votes on it."""

    def __init__(self, action: str, papers: Sequence[StoredPaper] = (), locale: str = ENGLISH) -> None:
        options = [
            discord.SelectOption(
                label=display_title(p.title, SELECT_LABEL) or f"arXiv:{p.arxiv_id}", value=p.arxiv_id,
                description=one_line(f"arXiv:{p.arxiv_id} · {p.primary_category}", SELECT_DESCRIPTION),
            )
            for p in list({p.arxiv_id: p for p in papers}.values())[:MAX_MENU_PAPERS]
        ] or [discord.SelectOption(label="-", value="-")]
        super().__init__(discord.ui.Select(custom_id=f"papers:{action}", placeholder=t(_MENU_PLACEHOLDERS[action], locale),
                                           options=options))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PaperActionMenu:
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        values: list[str] = list(data.get("values") or [])
        # "-" is the placeholder option of an empty menu: no paper chosen.
        await _pressed(interaction, self.action, str(values[0]) if values and values[0] != "-" else "")


def paper_buttons(arxiv_id: str, view: discord.ui.View | None = None, row: int | None = None,
                  locale: str = ENGLISH) -> discord.ui.View:
    """Save / 👍 / 👎 for one paper, added to `view` (a new view that never times out when none is given)."""
    target = view if view is not None else discord.ui.View(timeout=None)
    for action in ACTIONS:
        button = PaperActionButton(action, arxiv_id, locale)
        if row is not None:
            button.item.row = row
        target.add_item(button)
    return target


def paper_menus(papers: Sequence[StoredPaper], view: discord.ui.View | None = None, *, first_row: int = 0,
                actions: Sequence[str] = ("save", "up", "down"), locale: str = ENGLISH) -> discord.ui.View:
    """A Save menu and 👍 / 👎 menus over `papers` (at most 25), one row each."""
    target = view if view is not None else discord.ui.View(timeout=None)
    for offset, action in enumerate(actions):
        menu = PaperActionMenu(action, papers, locale)
        menu.item.row = first_row + offset
        target.add_item(menu)
    return target


def set_menu_papers(view: discord.ui.View, papers: Sequence[StoredPaper]) -> None:
    """Point a view's paper menus at another page of papers."""
    for child in view.children:
        if isinstance(child, PaperActionMenu):
            fresh = PaperActionMenu(child.action, papers)
            child.item.options = fresh.item.options
