"""A local folder of digest files (a clone of the data branch, or files dropped in by hand), watched for changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

from bot.core.errors import DigestError
from bot.ingest.digest import DigestLimits, date_from_name, describe_os_error
from bot.ingest.files import find_digest_files
from bot.sources.base import DayResult, FetchedDigest, PollOutcome

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)


class LocalFolderSource:
    """A folder where `YYYY-MM-DD*.md|jsonl` files appear (a clone of the data branch, a mount)."""

    def __init__(self, folder: Path, limits: DigestLimits | None = None) -> None:
        self.folder = folder
        self.limits = limits or DigestLimits()
        self._seen: dict[Path, tuple[float, int]] = {}

    def describe(self) -> str:
        return f"folder {self.folder}"

    def _scan(self) -> tuple[list[tuple[Path, tuple[float, int]]], list[str]]:
        found = find_digest_files([self.folder])
        files: list[tuple[Path, tuple[float, int]]] = []
        problems = list(found.problems)
        for path in found.files:
            try:
                stat = path.stat()
            except OSError as exc:
                problems.append(f"{path}: cannot be read: {describe_os_error(exc)}")
                continue
            files.append((path, (stat.st_mtime, stat.st_size)))
        return files, problems

    async def poll(self, today: dt.date, latest: dt.date | None, checked_through: dt.date | None) -> PollOutcome:
        outcome = PollOutcome()
        if not self.folder.is_dir():
            outcome.errors.append(f"digest folder {self.folder} (DIGESTBOT_SOURCE_DIR) does not exist")
            return outcome
        files, problems = await asyncio.to_thread(self._scan)
        outcome.errors += problems
        if not files and not problems:
            outcome.warning = (f"folder {self.folder} (DIGESTBOT_SOURCE_DIR) holds no digest files "
                               "(names like 2026-01-23.md or 2026-01-23_AI_enhanced_Chinese.jsonl)")
        by_day: dict[dt.date, DayResult] = {}
        for path, signature in files:
            if self._seen.get(path) == signature:
                continue
            try:
                day = date_from_name(path.name)
            except DigestError as exc:
                outcome.errors.append(exc.message)
                self._seen[path] = signature
                continue
            if day is None:
                continue
            if signature[1] > self.limits.max_bytes:
                outcome.errors.append(f"{path}: {self.limits.too_large()}")
                self._seen[path] = signature
                continue
            result = by_day.setdefault(day, DayResult(day))
            result.files.append(FetchedDigest(str(path), day, path=path, signature=signature))
        outcome.days = [by_day[d] for d in sorted(by_day)]
        return outcome

    async def remember(self, fetched: FetchedDigest) -> None:
        if fetched.path is not None and fetched.signature is not None:
            self._seen[fetched.path] = fetched.signature
