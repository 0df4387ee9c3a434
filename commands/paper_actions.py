"""Save, 👍 and 👎 on papers, wherever a member sees them: buttons under one paper, menus under a list.

The buttons and menus are discord.py dynamic items: what to do and to which paper is in the
custom id (`paper:save:2601.20911`, `papers:up`), so they keep working after a restart and in
DMs sent days ago. Whoever presses acts on their own reading list and feedback only.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app_errors import reply_with_error
from bot.errors import LimitReached, NotFound
from bot.i18n import ENGLISH, N_, t
from bot.ingest.paper import normalize_arxiv_id
from bot.render.limits import SELECT_DESCRIPTION, SELECT_LABEL
from bot.render.text import display_title, escape_markdown, one_line
from commands.options import reply_locale, services_of
from commands.respond import answer, in_time
from storage.members import MemberStore
from storage.reading_list import MAX_SAVED, ReadingList, ReadingListFull
from storage.records import StoredPaper

_ID = r"[0-9A-Za-z.\-/]{4,40}"
ACTIONS = {"save": (N_("Save"), "🔖"), "up": (N_("Like"), "👍"), "down": (N_("Not for me"), "👎")}
_MENU_PLACEHOLDERS = {"save": N_("🔖 Save a paper to your reading list…"), "up": N_("👍 More like this…"),
                      "down": N_("👎 Less like this…")}
MAX_MENU_PAPERS = 25
# Presses of Save / 👍 / 👎 one member may make (a DM of 25 papers rated one by one fits).
PRESSES, PRESS_WINDOW = 30, 60.0


class PressLimiter:
    """At most `rate` presses per member in any `per` seconds; members idle for a window are forgotten."""

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._presses: dict[int, deque[float]] = {}

    def check(self, user_id: int, now: float | None = None) -> None:
        """Count a press, or raise CommandOnCooldown (the error handler says how long to wait)."""
        now = time.monotonic() if now is None else now
        if len(self._presses) > 10_000:
            self._presses = {u: d for u, d in self._presses.items() if now - d[-1] < self.per}
        presses = self._presses.setdefault(user_id, deque(maxlen=self.rate))
        if len(presses) == self.rate and now - presses[0] < self.per:
            raise app_commands.CommandOnCooldown(app_commands.Cooldown(self.rate, self.per), self.per - (now - presses[0]))
        presses.append(now)


_limiters: dict[float, PressLimiter] = {}


def _press_limiter(scale: float) -> PressLimiter | None:
    """The bot's limiter for DIGESTBOT_COOLDOWN_SCALE `scale` (0: no limit)."""
    if scale <= 0:
        return None
    return _limiters.setdefault(scale, PressLimiter(PRESSES, PRESS_WINDOW * scale))


async def act_on_paper(interaction: discord.Interaction, action: str, given_id: str) -> None:
    """Save a paper or vote on it for the member who pressed, and say so privately."""
    services = services_of(interaction)
    limiter = _press_limiter(services.settings.cooldown_scale)
    if limiter is not None:
        limiter.check(interaction.user.id)
    arxiv_id = normalize_arxiv_id(given_id)
    paper = await services.papers.get(arxiv_id) if arxiv_id else None
    if paper is None:
        raise NotFound("Paper {id} is not stored any more.", id=escape_markdown(given_id[:40]))
    user_id, now = interaction.user.id, services.clock()
    locale = await reply_locale(interaction)
    title = f"“{escape_markdown(one_line(paper.title, 80))}”"
    if action == "save":
        reading = ReadingList(services.db)
        try:
            new = await in_time(interaction, reading.save(user_id, paper.arxiv_id, now))
        except ReadingListFull:
            raise LimitReached("Your reading list holds {count} papers, the most allowed; remove some with /saved first.",
                               count=f"{MAX_SAVED:,}") from None
        count = await reading.count(user_id)
        message = (t("Saved {title} to your reading list ({count} papers). /saved lists them; /saved export:bibtex exports them.",
                     locale, title=title, count=f"{count:,}")
                   if new else t("{title} is already on your reading list.", locale, title=title))
    else:
        vote = 1 if action == "up" else -1
        standing = await in_time(interaction, MemberStore(services.db).vote(user_id, paper.arxiv_id, vote, now))
        if standing is None:
            message = t("Took back your {vote} for {title}.", locale, vote="👍" if vote == 1 else "👎", title=title)
        elif standing == 1:
            message = t("👍 noted for {title}: /foryou and the order of your DMs learn from it.", locale, title=title)
        else:
            message = t("👎 noted for {title}: papers like it will rank lower for you.", locale, title=title)
    await answer(interaction, message, ephemeral=True)


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
        try:
            await act_on_paper(interaction, self.action, self.arxiv_id)
        except Exception as error:
            await reply_with_error(interaction, error)


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
        try:
            if not values or values[0] == "-":
                raise NotFound("Choose a paper from the menu.")
            await act_on_paper(interaction, self.action, str(values[0]))
        except Exception as error:
            await reply_with_error(interaction, error)


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


async def setup(bot: commands.Bot) -> None:
    """Register the buttons and menus, so presses on any message (old DMs included) reach them."""
    bot.add_dynamic_items(PaperActionButton, PaperActionMenu)
