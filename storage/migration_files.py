"""The numbered migration files of an engine (NNNN_name.sql in its migrations package), checked in order."""

from __future__ import annotations

import re
from importlib import resources

from storage.errors import StorageError

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def numbered_scripts(package: str) -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of each migration in `package`, in order; numbers run 1, 2, 3... without gaps."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (number, name, _) in enumerate(found, start=1):
        if number != expected:
            raise StorageError(f"migration {name} is out of sequence (expected number {expected})")
    return found
