"""Discord's message limits, and a guard that makes any embed fit them."""

from __future__ import annotations

import discord

from bot.render.text import shorten

CONTENT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL = 6000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
SELECT_LABEL = 100
SELECT_DESCRIPTION = 100
THREAD_NAME = 100


def fit_embed(embed: discord.Embed, budget: int = EMBED_TOTAL) -> discord.Embed:
    """Shorten an embed in place until every part and the total fit Discord's limits."""
    if embed.title and len(embed.title) > TITLE:
        embed.title = shorten(embed.title, TITLE)
    if embed.description and len(embed.description) > DESCRIPTION:
        embed.description = shorten(embed.description, DESCRIPTION)
    if embed.footer.text and len(embed.footer.text) > FOOTER:
        embed.set_footer(text=shorten(embed.footer.text, FOOTER), icon_url=embed.footer.icon_url)
    while len(embed.fields) > FIELDS:
        embed.remove_field(len(embed.fields) - 1)
    for index, field in enumerate(embed.fields):
        name = shorten(field.name or "\u200b", FIELD_NAME)
        value = shorten(field.value or "\u200b", FIELD_VALUE)
        if (name, value) != (field.name, field.value):
            embed.set_field_at(index, name=name, value=value, inline=field.inline)
    # Still too long in total: shorten the longest field (then the description) step by step.
    while len(embed) > budget:
        excess = len(embed) - budget
        longest = max(range(len(embed.fields)), key=lambda i: len(embed.fields[i].value or ""), default=None)
        if longest is not None and len(embed.fields[longest].value or "") > 80:
            field = embed.fields[longest]
            value = field.value or ""
            embed.set_field_at(longest, name=field.name, value=shorten(value, max(40, len(value) - excess - 1)), inline=field.inline)
        elif embed.description and len(embed.description) > 80:
            embed.description = shorten(embed.description, max(40, len(embed.description) - excess - 1))
        elif embed.fields:
            embed.remove_field(len(embed.fields) - 1)
        else:
            break
    return embed
