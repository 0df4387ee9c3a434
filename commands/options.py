"""What several commands share: the services, bounded options, category autocomplete, date options.

Every string option declares its longest length to Discord, and every number its range; both are
checked again here, because a client (or anyone holding the bot's interactions) can send more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

from bot.core.arxiv_categories import category_name
from bot.core.dates import parse_day
from bot.core.errors import InvalidInput
from bot.core.services import Services
from bot.i18n.catalogs import member_locale
from bot.ingest.paper import normalize_arxiv_id
from bot.render.text import escape_markdown, one_line

if TYPE_CHECKING:
    from bot.app.client import DigestBot

T = TypeVar("T")


class BoundedText(app_commands.Transformer):
    """A string option with a declared length, enforced on arrival too."""

    def __init__(self, label: str, max_length: int, min_length: int = 1) -> None:
        self.label = label
        self._min = min_length
        self._max = max_length

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def min_value(self) -> int:
        return self._min

    @property
    def max_value(self) -> int:
        return self._max

    async def transform(self, interaction: discord.Interaction, value: object, /) -> str:
        text = str(value)
        if len(text) > self._max:
            raise InvalidInput("{label} can be at most {count} characters long ({given} given).", label=self.label,
                               count=self._max, given=f"{len(text):,}")
        if len(text.strip()) < self._min:
            if self._min == 1:
                raise InvalidInput("{label} needs at least one character.", label=self.label)
            raise InvalidInput("{label} needs at least {count} characters.", label=self.label, count=self._min)
        return text


class BoundedInt(app_commands.Transformer):
    """A whole-number option with a declared range, enforced on arrival too."""

    def __init__(self, label: str, low: int, high: int) -> None:
        self.label = label
        self._low = low
        self._high = high

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.integer

    @property
    def min_value(self) -> int:
        return self._low

    @property
    def max_value(self) -> int:
        return self._high

    async def transform(self, interaction: discord.Interaction, value: object, /) -> int:
        try:
            number = int(str(value))
        except ValueError:
            raise InvalidInput("{label} must be a whole number.", label=self.label) from None
        if not self._low <= number <= self._high:
            raise InvalidInput("{label} must be between {low} and {high} ({given} given).", label=self.label, low=self._low,
                               high=self._high, given=f"{number:,}")
        return number


# The options commands share, with their limits.
CategoryText = app_commands.Transform[str, BoundedText("The category", 40)]
DayText = app_commands.Transform[str, BoundedText("The date", 20)]
TimeText = app_commands.Transform[str, BoundedText("The time", 5)]
TimezoneText = app_commands.Transform[str, BoundedText("The time zone", 64)]
AuthorText = app_commands.Transform[str, BoundedText("The author", 100)]
PaperIdText = app_commands.Transform[str, BoundedText("The paper id", 200)]


def arxiv_id_option(text: str) -> str:
    """The bare arXiv id in what a member typed (an id, `arXiv:` reference or abs/pdf URL), or InvalidInput saying the forms."""
    arxiv_id = normalize_arxiv_id(text)
    if arxiv_id is None:
        raise InvalidInput(
            "`{value}` is not an arXiv id. Use a form like 2601.20911, arXiv:2601.20911 or https://arxiv.org/abs/2601.20911.",
            value=escape_markdown(one_line(text, 60)),
        )
    return arxiv_id


def per_user_cooldown(rate: int, seconds: float) -> Callable[[T], T]:
    """At most `rate` uses per `seconds` for each member (expensive commands); the wait is said in the reply.

    DIGESTBOT_COOLDOWN_SCALE stretches or shrinks the window (0 turns the limit off).
    """
    def window(interaction: discord.Interaction) -> app_commands.Cooldown | None:
        scale = services_of(interaction).settings.cooldown_scale
        return app_commands.Cooldown(rate, seconds * scale) if scale > 0 else None

    return app_commands.checks.dynamic_cooldown(window, key=lambda interaction: interaction.user.id)


async def reply_locale(interaction: discord.Interaction) -> str:
    """The language to answer in: the member's /language choice, else their Discord's (zh-CN, zh-TW or en)."""
    return await member_locale(services_of(interaction).db, interaction.user.id, interaction.locale)


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
    raise InvalidInput("No papers in category `{category}` are stored. Stored categories include {sample}; see /categories.",
                       category=wanted[:40], sample=sample)
