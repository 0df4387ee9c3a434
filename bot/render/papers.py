"""Papers as Discord shows them: one paper in full, and papers as lines in a list."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.core.arxiv_categories import category_name
from bot.i18n.catalogs import ENGLISH, t
from bot.render.limits import DESCRIPTION, FIELD_VALUE, fit_embed
from bot.render.text import display_title, escape_markdown, one_line, shorten
from storage.records import StoredPaper
from storage.urls import link_label, safe_web_link

ARXIV_RED = discord.Colour(0xB31B1B)


def linked_title(paper: StoredPaper, width: int = 200) -> str:
    """`[Title](abs url)` with the title escaped so brackets, stars and LaTeX cannot break it."""
    return f"[{escape_markdown(display_title(paper.title, width))}]({paper.abs_url})"


def paper_line(paper: StoredPaper, *, number: int | None = None, tldr_width: int = 160, extra: str = "") -> str:
    """One paper in a list: number, linked title, category, and a one-line TL;DR."""
    head = f"**{number}.** " if number is not None else "• "
    meta = f" · `{paper.primary_category}`" if paper.primary_category else ""
    line = f"{head}{linked_title(paper, 160)}{meta}{extra}"
    if paper.tldr:
        line += "\n" + escape_markdown(one_line(paper.tldr, tldr_width))
    return line


def lines_within(lines: Sequence[str], budget: int = DESCRIPTION, separator: str = "\n\n") -> tuple[str, int]:
    """Join as many whole lines as fit in `budget` characters; return the text and how many fit."""
    out: list[str] = []
    used = 0
    for line in lines:
        cost = len(line) + (len(separator) if out else 0)
        if used + cost > budget:
            break
        out.append(line)
        used += cost
    return separator.join(out), len(out)


def _authors(authors: list[str], width: int = 300) -> str:
    if not authors:
        return "unknown authors"
    text = ", ".join(authors)
    if len(text) <= width:
        return text
    shown: list[str] = []
    for name in authors:
        if len(", ".join([*shown, name])) > width - 20:
            break
        shown.append(name)
    return ", ".join(shown) + f" and {len(authors) - len(shown)} more"


def paper_embed(paper: StoredPaper, locale: str = ENGLISH) -> discord.Embed:
    """One paper in full: linked title, authors, categories, dates, the five summaries, abstract, links (labels in `locale`)."""
    embed = discord.Embed(
        title=escape_markdown(display_title(paper.title, 250)),
        url=paper.abs_url,
        colour=ARXIV_RED,
    )
    categories = " ".join(f"`{c}`" for c in paper.categories) or f"`{paper.primary_category}`"
    name = category_name(paper.primary_category)
    seen = (t("in the digest of {day}", locale, day=paper.first_seen) if paper.first_seen == paper.last_seen
            else t("in digests from {first} to {last}", locale, first=paper.first_seen, last=paper.last_seen))
    description = [
        f"**{escape_markdown(_authors(paper.authors))}**",
        f"{categories}{f' ({name})' if name else ''} · {seen}",
    ]
    if paper.translated_title:
        description.append(f"*{escape_markdown(one_line(paper.translated_title, 250))}*")
    if paper.tldr:
        description.append(f"**TL;DR** {escape_markdown(shorten(paper.tldr.strip(), 1500))}")
    embed.description = shorten("\n".join(description), DESCRIPTION)
    for label, value in (
        (t("Motivation", locale), paper.motivation),
        (t("Method", locale), paper.method),
        (t("Result", locale), paper.result),
        (t("Conclusion", locale), paper.conclusion),
    ):
        if value:
            embed.add_field(name=label, value=escape_markdown(shorten(value.strip(), FIELD_VALUE - 24)), inline=False)
    if paper.abstract:
        embed.add_field(name=t("Abstract", locale), value=escape_markdown(shorten(one_line(paper.abstract, 5000), 700)), inline=False)
    abstract_label, code_label = t("abstract", locale), t("code", locale)
    links = [f"[{abstract_label}]({paper.abs_url})", f"[PDF]({paper.pdf_url})"]
    code = safe_web_link(paper.code_url) if paper.code_url else None
    if code:
        # Shown with its host, so nobody clicks a code link that goes somewhere it does not say.
        links.append(f"{code_label}: [{escape_markdown(link_label(code))}]({code})")
    if paper.comment:
        links.append(escape_markdown(one_line(paper.comment, 200)))
    embed.add_field(name=t("Links", locale), value=" · ".join(links), inline=False)
    embed.set_footer(text=f"arXiv:{paper.arxiv_id}")
    return fit_embed(embed)

