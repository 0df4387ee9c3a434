"""Message catalogs: every message the code marks, and every command's help, translated in every shipped catalog."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

import discord
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from discord.ext import commands

from bot.app.client import EXTENSIONS
from bot.i18n.catalogs import CATALOGS, format_day, normalize, po_path, t

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"\{(\w*)\}")


# What marks a message for members: t() and N_(), and the errors whose sentence a member reads.
KEYWORDS = {"t": None, "N_": None, "InvalidInput": None, "NotFound": None, "LimitReached": None, "PermissionMissing": None,
            "BoundedText": None, "BoundedInt": None, "QueryTooComplex": None}


def marked_messages() -> set[str]:
    """Every message marked in bot/ and commands/ (the command line, bot/cli, speaks to operators in English)."""
    found: set[str] = set()
    for folder in ("bot", "commands", "storage"):
        for filename, _, message, _, _ in extract_from_dir(ROOT / folder, method_map=[("**.py", "python")],
                                                             keywords=KEYWORDS, comment_tags=()):
            if not filename.startswith("cli/"):
                found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def command_help() -> set[str]:
    """Every description, option description and choice name of the slash commands."""
    async def load() -> set[str]:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        strings: set[str] = set()

        def walk(command: discord.app_commands.Command | discord.app_commands.Group) -> None:  # type: ignore[type-arg]
            strings.add(command.description)
            if isinstance(command, discord.app_commands.Group):
                for child in command.commands:
                    walk(child)
            else:
                for parameter in command.parameters:
                    strings.add(parameter.description)
                    strings.update(choice.name for choice in parameter.choices)

        for command in bot.tree.get_commands():
            walk(command)  # type: ignore[arg-type]
        return {s for s in strings if s and s != "…"}

    return asyncio.run(load())


@pytest.mark.parametrize("locale", sorted(CATALOGS))
def test_every_message_and_command_help_is_translated_with_the_same_placeholders(locale: str) -> None:
    with po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=CATALOGS[locale])
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    needed = marked_messages() | command_help()
    missing = sorted(needed - set(translated))
    assert not missing, f"{po_path(locale)} has no translation for: {missing}"
    for message, text in translated.items():
        assert sorted(PLACEHOLDER.findall(str(message))) == sorted(PLACEHOLDER.findall(str(text))), (locale, message, text)


def test_lookups_fill_placeholders_and_fall_back_to_english() -> None:
    assert t("Page {page} of {pages} · /paper <id> opens one paper in full", "zh-CN", page=2, pages=9) == \
        "第 2 / 9 页 · 用 /paper <id> 查看论文详情"
    assert t("Search results", "zh-TW") == "搜尋結果"
    assert t("Search results", "en") == "Search results"
    assert t("A message no catalog has", "zh-CN") == "A message no catalog has"
    assert [normalize(c) for c in (discord.Locale.chinese, discord.Locale.taiwan_chinese, discord.Locale.german, "zh-HK", None)] == \
        ["zh-CN", "zh-TW", "en", "zh-TW", "en"]


def test_dates_are_written_as_each_reader_writes_them() -> None:
    day = dt.date(2026, 3, 2)
    assert format_day(day) == "2026-03-02 (Mon)"
    assert format_day(day, "zh-CN") == "2026年3月2日星期一"
    assert format_day(day, "zh-TW") == "2026年3月2日 星期一"
