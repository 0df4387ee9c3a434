"""What several commands share: the services, category autocomplete, date options."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.arxiv_categories import category_name
from bot.dates import parse_day
from bot.errors import InvalidInput
from bot.services import Services

if TYPE_CHECKING:
    from bot.client import DigestBot


def services_of(interaction: discord.Interaction) -> Services:
    """The services of the bot handling this interaction."""
    bot: DigestBot = interaction.client  # type: ignore[assignment]
    return bot.services


def today(interaction: discord.Interaction) -> dt.date:
    """Today's date by the bot's clock (UTC)."""
    return services_of(interaction).clock().date()


def day_option(interaction: discord.Interaction, value: str | None) -> dt.date | None:
    """Parse a date option: YYYY-MM-DD, today or yesterday."""
    return parse_day(value, today(interaction)) if value else None


async def category_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete stored categories by code or name, largest first, at most 25."""
    typed = current.strip().lower()
    choices: list[app_commands.Choice[str]] = []
    for code, count in await services_of(interaction).categories.items():
        name = category_name(code)
        if typed and typed not in code.lower() and typed not in name.lower():
            continue
        label = f"{code} · {name} ({count:,})" if name else f"{code} ({count:,})"
        choices.append(app_commands.Choice(name=label[:100], value=code))
        if len(choices) == 25:
            break
    return choices


async def known_category(interaction: discord.Interaction, value: str | None) -> str | None:
    """Return the stored category matching `value` (case-insensitive), or explain which exist."""
    if not value:
        return None
    wanted = value.strip()
    stored = [code for code, _ in await services_of(interaction).categories.items()]
    for code in stored:
        if code.lower() == wanted.lower():
            return code
    sample = ", ".join(f"`{c}`" for c in stored[:8]) or "none yet"
    raise InvalidInput(f"No papers in category `{wanted[:40]}` are stored. Stored categories include {sample}; see /categories.")
