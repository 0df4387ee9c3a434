"""What Save, 👍 and 👎 do, wherever a member presses them (the controls are in bot/render/paper_controls.py).

Whoever presses acts on their own reading list and feedback only, at most PRESSES times a minute.
"""

from __future__ import annotations

import time
from collections import deque

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.error_replies import reply_with_error
from bot.core.errors import LimitReached, NotFound
from bot.i18n.catalogs import t
from bot.ingest.paper import normalize_arxiv_id
from bot.render.paper_controls import PaperActionButton, PaperActionMenu, on_paper_action
from bot.render.text import escape_markdown, one_line
from commands.options import reply_locale, services_of
from commands.respond import answer, in_time
from storage.members import MemberStore
from storage.reading_list import MAX_SAVED, ReadingList, ReadingListFull

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


async def _on_press(interaction: discord.Interaction, action: str, given_id: str) -> None:
    """A Save / 👍 / 👎 button or menu was pressed: act for whoever pressed, errors as a sentence."""
    try:
        if not given_id:
            raise NotFound("Choose a paper from the menu.")
        await act_on_paper(interaction, action, given_id)
    except Exception as error:
        await reply_with_error(interaction, error)


async def setup(bot: commands.Bot) -> None:
    """Register what a press does, and the controls, so presses on any message (old DMs included) reach them."""
    on_paper_action(_on_press)
    bot.add_dynamic_items(PaperActionButton, PaperActionMenu)
