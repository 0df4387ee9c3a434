"""Read one digest file (or bytes fetched from a source): detect its format and date, parse it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bot.errors import DigestError
from bot.ingest.jsonl import parse_jsonl
from bot.ingest.markdown import parse_markdown
from bot.ingest.paper import ParsedDigest, SkippedEntry

_DATE_IN_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})")
_LANGUAGE_IN_NAME = re.compile(r"_AI_enhanced_([A-Za-z]+)\.jsonl$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
DIGEST_SUFFIXES = (".md", ".jsonl", ".txt", ".markdown", ".json")


def date_from_name(name: str) -> dt.date | None:
    """Return the digest date a pipeline file name starts with (`2025-12-31.md`), if any."""
    match = _DATE_IN_NAME.match(Path(name).name)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def detect_format(name: str, text: str) -> str:
    """Return "jsonl" or "markdown" from the file name, or the content when the name is silent."""
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".json")):
        return "jsonl"
    if lowered.endswith((".md", ".markdown")):
        return "markdown"
    return "jsonl" if text.lstrip()[:1] == "{" else "markdown"


def _decode(name: str, data: bytes) -> tuple[str, list[SkippedEntry]]:
    if b"\x00" in data[:8192]:
        raise DigestError(name, "looks like a binary file, not a digest")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        # Keep the papers: undecodable bytes become U+FFFD and the first place is reported.
        text = data.decode("utf-8-sig", errors="replace")
        return text, [SkippedEntry(line, f"invalid UTF-8 at byte {exc.start}; replaced with U+FFFD (nothing skipped)")]


def parse_digest_bytes(name: str, data: bytes) -> ParsedDigest:
    """Parse digest bytes named `name`; raise DigestError when no paper can be read from them."""
    if not data.strip():
        raise DigestError(name, "is empty")
    text, notes = _decode(name, data)
    fmt = detect_format(name, text)
    lines = text.splitlines()
    papers, skipped = parse_jsonl(lines) if fmt == "jsonl" else parse_markdown(lines)
    if not papers:
        reasons = "; ".join(str(s) for s in skipped[:3])
        detail = f" ({reasons})" if reasons else ""
        raise DigestError(name, f"holds no papers a {fmt} digest would have{detail}")
    language_match = _LANGUAGE_IN_NAME.search(name)
    if language_match is not None:
        language = language_match.group(1)
    else:
        sample = "".join(p.tldr for p in papers[:20])
        language = "Chinese" if _CJK.search(sample) else "English"
    return ParsedDigest(source=name, format=fmt, papers=papers, skipped=skipped, warnings=notes, language=language)


def parse_digest_file(path: Path) -> ParsedDigest:
    """Read and parse one digest file from disk."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DigestError(str(path), f"cannot be read: {exc.strerror or exc}") from exc
    return parse_digest_bytes(str(path), data)


def find_digest_files(paths: list[Path]) -> list[Path]:
    """Expand files and folders into the digest files they hold, sorted by name."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DIGEST_SUFFIXES and p.name.lower() != "readme.md")
            )
        else:
            found.append(path)
    return found
