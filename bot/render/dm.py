"""A user's DM for one digest: their matching papers, grouped by why they matched, in one message."""

from __future__ import annotations

import datetime as dt

import discord

from bot.i18n.catalogs import ENGLISH, format_day, t
from bot.ranking.matching import UserMatches
from bot.render.limits import EMBED_TOTAL, EMBEDS_PER_MESSAGE
from bot.render.papers import ARXIV_RED
from bot.render.post import entry_line
from bot.render.text import shorten
from storage.records import StoredPaper

_DESCRIPTION_BUDGET = 3900
_MESSAGE_BUDGET = EMBED_TOTAL - 200


def dm_title(day: dt.date, locale: str = ENGLISH) -> str:
    """Unique per day, so a resumed DM can recognise itself."""
    return t("Your arXiv matches · {day}", locale, day=format_day(day, locale))


def render_matches(day: dt.date, matches: UserMatches, locale: str = ENGLISH) -> list[discord.Embed]:
    """One message: a summary embed, then one embed per reason with as many papers as fit."""
    return render_matches_shown(day, matches, locale)[0]


def render_matches_shown(day: dt.date, matches: UserMatches, locale: str = ENGLISH) -> tuple[list[discord.Embed], list[StoredPaper]]:
    """`render_matches`, and the papers the message shows, in the order shown (the frame in `locale`)."""
    total = matches.count()
    head = discord.Embed(title=dm_title(day, locale), colour=ARXIV_RED)
    groups = matches.groups()
    summary = ", ".join(f"{reason} ({len(positions)})" for reason, positions in groups)
    if total == 1:
        intro = t("**1 new paper** matches your subscriptions: {summary}", locale, summary=summary)
    else:
        intro = t("**{count} new papers** match your subscriptions: {summary}", locale, count=total, summary=summary)
    head.description = shorten(intro, 1000)
    embeds = [head]
    used = len(head)
    shown = 0
    papers: list[StoredPaper] = []
    for reason, positions in groups:
        if len(embeds) == EMBEDS_PER_MESSAGE - 1 or used > _MESSAGE_BUDGET - 400:
            break
        lines: list[str] = []
        room = min(_DESCRIPTION_BUDGET, _MESSAGE_BUDGET - used - 300)
        size = 0
        for position in positions:
            line = entry_line(matches.paper(position), tldr_width=120)
            others = [str(r) for r in matches.reasons(position) if r != reason]
            if others:
                line += f"\n*also {', '.join(others)}*"
            if size + len(line) + 2 > room:
                break
            lines.append(line)
            papers.append(matches.paper(position))
            size += len(line) + 2
        if not lines:
            break
        embed = discord.Embed(title=shorten(str(reason), 250) + f" ({len(positions)})", description="\n\n".join(lines), colour=ARXIV_RED)
        embeds.append(embed)
        used += len(embed)
        shown += len(lines)
    if shown < total:
        embeds[-1].set_footer(text=t("{count} more not shown here: /digest mine:True date:{day} lists them all", locale,
                                     count=total - shown, day=day))
    else:
        embeds[-1].set_footer(text=t("Manage these with /subscriptions · change the time with /notify time", locale))
    return embeds, papers
