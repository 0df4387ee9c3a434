"""What every digest source gives and the days a poll looks at; the sources themselves are beside this module."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)


# With no digest of the last week stored, a poll looks at a whole week: a wrong URL shows itself.
PROBE_DAYS = 7

@dataclass(frozen=True, slots=True)
class FetchedDigest:
    """One digest file: its name (path, or URL without credentials), its date, and its bytes or path."""

    name: str
    date: dt.date
    data: bytes | None = None
    path: Path | None = None
    # What to remember once the file is stored: (url key, ETag, Last-Modified, content hash), or a file signature.
    validators: tuple[str, str | None, str | None, str] | None = None
    signature: tuple[float, int] | None = None


@dataclass(slots=True)
class DayResult:
    """What the source holds for one day: files fetched, files unchanged (304), files absent (404), errors."""

    day: dt.date
    files: list[FetchedDigest] = field(default_factory=list)
    unchanged: int = 0
    missing: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return bool(self.files) or self.unchanged > 0


@dataclass(slots=True)
class PollOutcome:
    """What one poll of a source found, day by day (oldest first)."""

    days: list[DayResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warning: str | None = None
    # Days of a catch-up after downtime fetched by this poll, and the range left for later polls.
    catch_up: list[dt.date] = field(default_factory=list)
    left: tuple[dt.date, dt.date] | None = None
    # The recent days asked for (always, every poll).
    recent: list[dt.date] = field(default_factory=list)

    @property
    def digests(self) -> list[FetchedDigest]:
        return [f for day in self.days for f in day.files]


class DigestSource(Protocol):
    """Anything that can be polled for new digest files."""

    def describe(self) -> str:
        """A short description for logs and /status (never with credentials)."""
        ...

    async def poll(self, today: dt.date, latest: dt.date | None, checked_through: dt.date | None) -> PollOutcome:
        """Return the digest files that are new or changed since they were last remembered."""
        ...

    async def remember(self, fetched: FetchedDigest) -> None:
        """The caller stored `fetched` (or found it broken): do not fetch it again until it changes."""
        ...


def plan_days(today: dt.date, latest: dt.date | None, checked_through: dt.date | None, *, lookback: int,
              per_poll: int) -> tuple[list[dt.date], list[dt.date], tuple[dt.date, dt.date] | None]:
    """Which days one poll asks for: (catch-up days, recent days, catch-up range left for later polls).

    Recent days (today and the `lookback - 1` before) are asked every time: a republished file is
    caught by its ETag. Without a digest of the last week, the recent window is a week, so a
    source with nothing at all is noticed. After downtime, every day after the cursor (the last
    day every earlier day was asked for; else the latest stored day) is fetched, oldest first,
    at most `per_poll` per poll.
    """
    recent_start = today - dt.timedelta(days=lookback - 1)
    if latest is None or latest < today - dt.timedelta(days=PROBE_DAYS - 1):
        recent_start = min(recent_start, today - dt.timedelta(days=PROBE_DAYS - 1))
    recent = [recent_start + dt.timedelta(days=n) for n in range((today - recent_start).days + 1)]
    # The cursor says up to where every day was asked for; without one (a first start after an
    # upgrade), the latest stored day is where the gap starts.
    known = checked_through if checked_through is not None else latest
    if known is None or known + dt.timedelta(days=1) >= recent_start:
        return [], recent, None
    first = known + dt.timedelta(days=1)
    last = recent_start - dt.timedelta(days=1)
    gap = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    taken = gap[:per_poll]
    left = (gap[len(taken)], last) if len(gap) > len(taken) else None
    return taken, recent, left
