"""A day's post: a short header message, and the paper lists split into messages within limits."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.core.arxiv_categories import category_name
from bot.i18n.catalogs import ENGLISH, format_day, t
from bot.render.limits import DESCRIPTION, EMBED_TOTAL, EMBEDS_PER_MESSAGE, THREAD_NAME, fit_embed
from bot.render.papers import ARXIV_RED, linked_title
from bot.render.text import escape_markdown, one_line, shorten
from storage.records import DigestEntry, StoredPaper
from storage.urls import has_credentials, safe_web_link

# Room kept per message for the footer (`2026-01-29 · part 22 of 22`, about 30 characters).
_MESSAGE_BUDGET = EMBED_TOTAL - 60
_EMBED_BUDGET = DESCRIPTION


def encode_embeds(embeds: Sequence[discord.Embed]) -> str:
    """The `embeds` field of a message body as JSON, encoded as discord.py encodes request bodies."""
    return json.dumps([embed.to_dict() for embed in embeds], separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class PostPart:
    """One message of a post: up to 10 embeds."""

    embeds: list[discord.Embed]

    @functools.cached_property
    def embeds_json(self) -> str:
        # Encoded once: the same part goes to every channel that follows the same categories.
        return encode_embeds(self.embeds)


def digest_title(day: dt.date, locale: str = ENGLISH) -> str:
    """The header's title; unique per day, so a resumed post can recognise its own header."""
    return t("arXiv digest · {day}", locale, day=format_day(day, locale))


def render_digest_header(day: dt.date, entries: Sequence[DigestEntry], total_in_digest: int,
                         followed: Sequence[str], source_url: str | None, left_out: int | None = None,
                         locale: str = ENGLISH) -> discord.Embed:
    """The channel message: date, how many papers, counts per followed category, the source (in the feed's `locale`).

    `left_out` is set for a feed with keyword filters: how many papers of its categories they dropped.
    """
    counts = Counter(entry.section for entry in entries)
    values = {"count": len(entries), "total": len(entries) + (left_out or 0), "all": total_in_digest}
    if left_out is not None and followed:
        head = t("**{count} papers** kept by this channel's filters, of {total} in the categories this channel follows "
                 "({all} in the whole digest)", locale, **values)
    elif left_out is not None:
        head = t("**{count} papers** kept by this channel's filters, of {total} in the digest", locale, **values)
    elif followed:
        head = t("**{count} papers** in the categories this channel follows ({all} in the whole digest)", locale, **values)
    else:
        head = t("**{count} new papers**", locale, **values)
    lines = [head, ""]
    for section, count in counts.most_common():
        name = category_name(section)
        lines.append(f"`{section}` {name} · **{count}**" if name else f"`{section}` · **{count}**")
    if source_url:
        name = escape_markdown(source_url.rsplit("/", 1)[-1].split("?", 1)[0])
        # A URL that needs credentials is never posted, not even redacted: only the file name.
        linkable = safe_web_link(source_url, named_host=False) is not None and not has_credentials(source_url)
        lines += ["", t("Source: {link}", locale, link=f"[{name}]({source_url})" if linkable else name)]
    embed = discord.Embed(title=digest_title(day, locale), description=shorten("\n".join(lines), DESCRIPTION), colour=ARXIV_RED)
    embed.set_footer(text=t("Linked titles with a one-line TL;DR are in the thread below · /digest date:{day} to browse",
                            locale, day=day))
    return fit_embed(embed)


def thread_name(day: dt.date, followed: Sequence[str]) -> str:
    """`arXiv 2026-01-29 · cs.CV, cs.LG`, at most 100 characters."""
    name = f"arXiv {day.isoformat()}"
    if followed:
        name += " · " + ", ".join(followed)
    return shorten(name, THREAD_NAME)


def forum_post_title(day: dt.date, papers: int, locale: str = ENGLISH) -> str:
    """A forum post's title: `arXiv 2026-01-23 · 213 papers`; unique per day, so a resumed post can find itself."""
    if papers == 1:
        return t("arXiv {day} · 1 paper", locale, day=day.isoformat())
    return t("arXiv {day} · {count} papers", locale, day=day.isoformat(), count=papers)


def entry_line(paper: StoredPaper, tldr_width: int = 140) -> str:
    """A linked title and a one-line TL;DR."""
    line = f"• {linked_title(paper, 150)}"
    if paper.tldr:
        line += "\n" + escape_markdown(one_line(paper.tldr, tldr_width))
    return line


def _grouped(entries: Sequence[DigestEntry]) -> list[tuple[str, list[StoredPaper]]]:
    groups: dict[str, list[StoredPaper]] = {}
    for entry in entries:
        groups.setdefault(entry.section, []).append(entry.paper)
    return list(groups.items())


class _Packer:
    """Fills messages up to Discord's limits: at most 10 embeds and 6,000 characters a message, 4,096 an embed.

    Each message is filled to the brim (an embed may end mid-category, the next one says
    "continued"), so a 456-paper day takes 22 requests instead of 32 (bench/README.md).
    """

    def __init__(self) -> None:
        self.messages: list[list[discord.Embed]] = [[]]
        self.used = 0  # characters of the message being filled
        self.title = ""
        self.lines: list[str] = []
        self.size = 0  # characters of the embed being filled (title + description)

    def _room(self) -> int:
        return min(_EMBED_BUDGET, _MESSAGE_BUDGET - self.used)

    def _close_embed(self) -> None:
        if self.lines:
            embed = discord.Embed(title=self.title, description="\n\n".join(self.lines), colour=ARXIV_RED)
            self.messages[-1].append(embed)
            self.used += len(embed)
        self.lines, self.size = [], 0

    def _next_message(self) -> None:
        self._close_embed()
        if self.messages[-1]:
            self.messages.append([])
        self.used = 0

    def start(self, title: str) -> None:
        """A new category: a new embed (in the same message while there is room for its first paper)."""
        self._close_embed()
        self.title = title

    def add(self, line: str, continued: str) -> None:
        """One paper's line; opens a new embed (and message) when this one is full."""
        cost = len(line) + (2 if self.lines else 0)
        if self.lines and self.size + cost > self._room():
            self._close_embed()
            self.title = continued
        if not self.lines:
            if len(self.messages[-1]) == EMBEDS_PER_MESSAGE or len(self.title) + len(line) > _MESSAGE_BUDGET - self.used:
                self._next_message()
            self.size = len(self.title)
            cost = len(line)
        self.lines.append(line)
        self.size += cost

    def done(self) -> list[list[discord.Embed]]:
        self._close_embed()
        return [m for m in self.messages if m]


def render_digest_parts(entries: Sequence[DigestEntry], day: dt.date, locale: str = ENGLISH) -> list[PostPart]:
    """The thread's messages: per category, linked titles with a TL;DR, packed within Discord's limits."""
    packer = _Packer()
    for section, papers in _grouped(entries):
        name = category_name(section)
        packer.start(f"{section} · {name} ({len(papers)})" if name else f"{section} ({len(papers)})")
        for paper in papers:
            packer.add(entry_line(paper), t("{section} (continued)", locale, section=section))
    return numbered_parts(packer.done(), day.isoformat(), locale)


def numbered_parts(parts: list[list[discord.Embed]], label: str, locale: str = ENGLISH) -> list[PostPart]:
    """Footers `2026-01-29 · part 3 of 22` on the last embed of each message (how a resumed post finds its parts)."""
    total = len(parts)
    for number, part in enumerate(parts, start=1):
        part[-1].set_footer(text=part_footer(label, number, total, locale))
    return [PostPart(part) for part in parts]


def part_footer(label: str, number: int, total: int, locale: str = ENGLISH) -> str:
    """`2026-01-29 · part 3 of 23`: lets a resumed post recognise a part it already sent."""
    return t("{label} · part {number} of {total}", locale, label=label, number=number, total=total)
