"""Dates and times as people type them: YYYY-MM-DD, today, yesterday; HH:MM; IANA zones."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import InvalidInput
from bot.render.text import escape_markdown, one_line


def parse_day(text: str, today: dt.date | None = None) -> dt.date:
    """Return the date meant by `YYYY-MM-DD`, `today` or `yesterday`."""
    value = text.strip().lower()
    base = today or dt.datetime.now(dt.UTC).date()
    if value == "today":
        return base
    if value == "yesterday":
        return base - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        shown = escape_markdown(one_line(text, 20))
        raise InvalidInput("`{value}` is not a date; use YYYY-MM-DD (for example 2026-01-29), today or yesterday.",
                           value=shown) from None


def parse_time_of_day(text: str) -> dt.time:
    """Return the time of day in `HH:MM` (24-hour)."""
    value = text.strip()
    try:
        hour, minute = value.split(":")
        if not (hour.isdigit() and minute.isdigit() and len(minute) == 2):
            raise ValueError(value)
        return dt.time(int(hour), int(minute))
    except ValueError:
        shown = escape_markdown(one_line(text, 20))
        raise InvalidInput("`{value}` is not a time; use HH:MM on a 24-hour clock, for example 09:00 or 18:30.",
                           value=shown) from None


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Every IANA zone name this machine knows, by its lower-case spelling."""
    return {name.lower(): name for name in available_timezones()}


def known_zone(text: str) -> str | None:
    """The IANA spelling of the zone `text` names (case ignored), or None when no such zone exists."""
    name = text.strip()
    return _zone_names().get(name.lower()) if 0 < len(name) <= 64 else None


def parse_timezone(text: str) -> ZoneInfo:
    """Return the IANA time zone named `text` (Europe/Berlin, America/New_York, UTC), case ignored.

    Only names of real zones are accepted: a region alone (`Europe`), a path or a name of any
    length is answered with a sentence, never a file-system error.
    """
    found = known_zone(text)
    if found is None:
        shown = escape_markdown(one_line(text, 40))
        raise InvalidInput("`{value}` is not a time zone; use an IANA name such as Europe/Berlin, Asia/Shanghai or UTC.",
                           value=shown)
    try:
        return ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput("`{value}` is not a time zone this machine knows; use another such as UTC.", value=found) from None
