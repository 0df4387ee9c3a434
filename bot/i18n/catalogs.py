"""Replies and command help in the member's language: gettext catalogs (Babel) for zh-CN and zh-TW.

Messages are English in the code and looked up in `bot/i18n/locales/<locale>/LC_MESSAGES/digestbot.po`
(`t("Page {page} of {pages}", locale, page=1, pages=3)`; placeholders are `str.format` names and a
test checks every catalog keeps them). An installed package carries the catalogs compiled to `.mo`
at build time (setup.py); a source checkout without them compiles the `.po` in memory at first use.
Text of the papers is never translated.
"""

from __future__ import annotations

import datetime as dt
import gettext
import hashlib
import io
import logging
from functools import cache
from pathlib import Path

import discord
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from discord import app_commands

from storage.engine import Database
from storage.members import MemberStore

log = logging.getLogger(__name__)

DOMAIN = "digestbot"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
ENGLISH = "en"
# Discord's locale codes -> the catalog folders.
CATALOGS = {"zh-CN": "zh_CN", "zh-TW": "zh_TW"}
# What /language offers, in each language's own name.
LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文", "zh-TW": "繁體中文"}


def normalize(locale: discord.Locale | str | None) -> str:
    """`zh-CN`, `zh-TW` or `en` for any Discord locale (other languages get English)."""
    code = locale.value if isinstance(locale, discord.Locale) else (locale or "")
    code = code.replace("_", "-")
    if code in CATALOGS:
        return code
    if code.lower() in ("zh-hk", "zh-mo", "zh-hant"):
        return "zh-TW"
    if code.lower().startswith("zh"):
        return "zh-CN"
    return ENGLISH


async def member_locale(db: Database, user_id: int, discord_locale: discord.Locale | str | None) -> str:
    """The language to answer a member in: their /language choice, else their Discord's."""
    return await MemberStore(db).language(user_id) or normalize(discord_locale)


def po_path(locale: str) -> Path:
    """The catalog source of a locale."""
    return LOCALE_DIR / CATALOGS[locale] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of `locale` (English: no catalog)."""
    if locale not in CATALOGS:
        return gettext.NullTranslations()
    po = po_path(locale)
    mo = po.with_suffix(".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=CATALOGS[locale])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    log.debug("compiled %s in memory (no up-to-date .mo next to it)", po)
    return gettext.GNUTranslations(buffer)


def N_(message: str) -> str:
    """Marks a message defined away from where it is translated (a constant), for the catalog test."""
    return message


def t(message: str, locale: str = ENGLISH, /, **values: object) -> str:
    """`message` in `locale`, its `{placeholders}` filled from `values`."""
    text = translations(locale).gettext(message) if locale in CATALOGS else message
    return text.format(**values) if values else text


def has_translation(message: str, locale: str) -> bool:
    """Whether the catalog of `locale` translates `message`."""
    return locale in CATALOGS and translations(locale).gettext(message) != message


def format_day(day: dt.date, locale: str = ENGLISH) -> str:
    """A day as its readers write it: `2026-01-29 (Thu)`, `2026年1月29日 星期四`."""
    if locale == ENGLISH:
        return f"{day.isoformat()} ({day:%a})"
    return format_date(day, format="full", locale=CATALOGS[locale])


def catalogs_version() -> str:
    """A hash of every catalog: commands are registered again when a translation changes."""
    digest = hashlib.sha256()
    for locale in sorted(CATALOGS):
        path = po_path(locale)
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class CatalogTranslator(app_commands.Translator):
    """Command and option descriptions and choice names in Chinese; command and option names stay English."""

    _TRANSLATED = frozenset({
        app_commands.TranslationContextLocation.command_description,
        app_commands.TranslationContextLocation.group_description,
        app_commands.TranslationContextLocation.parameter_description,
        app_commands.TranslationContextLocation.choice_name,
    })

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        code = normalize(locale)
        if code == ENGLISH or context.location not in self._TRANSLATED or locale.value not in CATALOGS:
            return None
        if not has_translation(string.message, code):
            return None
        return t(string.message, code)
