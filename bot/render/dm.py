"""A user's DM for one digest: their matching papers, grouped by why they matched, in one message."""

from __future__ import annotations

import datetime as dt

import discord

from bot.matching import UserMatches
from bot.render.limits import EMBED_TOTAL, EMBEDS_PER_MESSAGE
from bot.render.papers import ARXIV_RED, format_day
from bot.render.post import entry_line
from bot.render.text import shorten
from storage.records import StoredPaper

_DESCRIPTION_BUDGET = 3900
_MESSAGE_BUDGET = EMBED_TOTAL - 200


def dm_title(day: dt.date) -> str:
    """Unique per day, so a resumed DM can recognise itself."""
    return f"Your arXiv matches · {format_day(day)}"


def render_matches(day: dt.date, matches: UserMatches) -> list[discord.Embed]:
    """One message: a summary embed, then one embed per reason with as many papers as fit."""
    return render_matches_shown(day, matches)[0]


def render_matches_shown(day: dt.date, matches: UserMatches) -> tuple[list[discord.Embed], list[StoredPaper]]:
    """`render_matches`, and the papers the message shows, in the order shown."""
    total = matches.count()
    head = discord.Embed(title=dm_title(day), colour=ARXIV_RED)
    groups = matches.groups()
    summary = ", ".join(f"{reason} ({len(positions)})" for reason, positions in groups)
    head.description = shorten(f"**{total} new paper{'s' if total != 1 else ''}** match your subscriptions: {summary}", 1000)
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
        embeds[-1].set_footer(text=f"{total - shown} more not shown here: /digest mine:True date:{day} lists them all")
    else:
        embeds[-1].set_footer(text="Manage these with /subscriptions · change the time with /notify time")
    return embeds, papers
