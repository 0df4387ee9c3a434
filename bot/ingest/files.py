"""Find the digest files in paths a person typed: files as given, folders walked for digest names.

Walking a folder takes only the names the pipeline writes (`2026-01-23.md`, `2026-01-23.jsonl`,
`2026-01-23_AI_enhanced_Chinese.jsonl`), so a clone of the data branch can be given whole.
Anything that cannot be read (a folder without permission, a symbolic link loop) is reported,
never skipped without a word.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from bot.ingest.digest import day_file_order, describe_os_error, named_like_digest


@dataclass(slots=True)
class FoundFiles:
    """Digest files to ingest (in a day's canonical file order), problems met, and files passed over."""

    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ignored: int = 0


def _walk(folder: Path, found: FoundFiles, visited: set[tuple[int, int]]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        found.problems.append(f"{folder}: cannot be read: {describe_os_error(exc)}")
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            info = entry.stat()  # follows symbolic links: a loop raises ELOOP here
        except OSError as exc:
            found.problems.append(f"{path}: cannot be read: {describe_os_error(exc)}")
            continue
        if stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key in visited:
                found.problems.append(f"{path}: a symbolic link loop (it leads back to a folder already read); skipped")
                continue
            visited.add(key)
            _walk(path, found, visited)
        elif stat.S_ISREG(info.st_mode) and named_like_digest(entry.name):
            found.files.append(path)
        else:
            found.ignored += 1


def find_digest_files(paths: list[Path]) -> FoundFiles:
    """Expand files and folders into the digest files they hold, each day's files in canonical order."""
    found = FoundFiles()
    for path in paths:
        try:
            info = path.stat()
        except OSError as exc:
            found.problems.append(f"{path}: cannot be read: {describe_os_error(exc)}")
            continue
        if stat.S_ISDIR(info.st_mode):
            _walk(path, found, {(info.st_dev, info.st_ino)})
        else:
            found.files.append(path)
    unique = list(dict.fromkeys(found.files))
    found.files = sorted(unique, key=lambda p: day_file_order(p.name))
    return found
