"""Dates and times as people type them: YYYY-MM-DD, today, yesterday; HH:MM; IANA zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import InvalidInput


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
        raise InvalidInput(f"`{text}` is not a date; use YYYY-MM-DD (for example 2026-01-29), today or yesterday.") from None


def parse_time_of_day(text: str) -> dt.time:
    """Return the time of day in `HH:MM` (24-hour)."""
    value = text.strip()
    try:
        hour, minute = value.split(":")
        return dt.time(int(hour), int(minute))
    except ValueError:
        raise InvalidInput(f"`{text}` is not a time; use HH:MM on a 24-hour clock, for example 09:00 or 18:30.") from None


def parse_timezone(text: str) -> ZoneInfo:
    """Return the IANA time zone named `text` (Europe/Berlin, America/New_York, UTC)."""
    name = text.strip()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"`{text}` is not a time zone; use an IANA name such as Europe/Berlin, Asia/Shanghai or UTC.") from None
