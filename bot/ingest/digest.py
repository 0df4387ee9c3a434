"""Read one digest file or fetched body as a stream: its date and format, within size and paper caps.

The bytes are read line by line (never the whole file at once), hashed as they go, and decoded
line by line, so a 200 MB file costs a few megabytes of memory, and a file over the size cap or
the paper cap stops with a sentence instead of filling memory.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.core.errors import DigestError
from bot.ingest.jsonl import MAX_LINE_CHARS, parse_jsonl
from bot.ingest.markdown import parse_markdown
from bot.ingest.paper import ParsedDigest, SkipLog

_DATE_IN_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
# What the pipeline writes to its data branch: `2026-01-23.md`, `2026-01-23.jsonl`,
# `2026-01-23_AI_enhanced_Chinese.jsonl`. Only these count when walking a folder.
DIGEST_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:_AI_enhanced_[A-Za-z]+)?\.(?:md|jsonl)$")
_LANGUAGE_IN_NAME = re.compile(r"_AI_enhanced_([A-Za-z]+)\.jsonl$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class DigestLimits:
    """How much one digest may hold: bytes (after decompression) and papers."""

    max_bytes: int = 64 * 1024 * 1024
    max_papers: int = 5000

    def too_large(self) -> str:
        """The sentence for a file over the size cap."""
        return (f"is larger than {self.max_bytes / 1048576:g} MB, the most one digest may be (DIGESTBOT_MAX_DIGEST_MB; "
                "a real day is a few MB); nothing of it was stored")


def date_from_name(name: str) -> dt.date | None:
    """Return the digest date a pipeline file name starts with (`2025-12-31.md`), if any.

    Raises DigestError for a name that starts with an impossible date (`2026-02-30.md`).
    """
    match = _DATE_IN_NAME.match(name.rsplit("/", 1)[-1])
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise DigestError(name, f"is named for {match.group(0)}, which is not a real date") from None


def named_like_digest(name: str) -> bool:
    """True for the file names the pipeline writes (`2026-01-23.md`, `..._AI_enhanced_Chinese.jsonl`, `.jsonl`)."""
    return DIGEST_NAME.match(name) is not None


def day_file_order(name: str) -> tuple[str, int, str]:
    """Sort key that puts a day's files in the order of their richness: raw JSONL, markdown, AI JSONL.

    A folder ingest and a remote fetch of the same day therefore apply its files in the same order.
    """
    base = name.rsplit("/", 1)[-1]
    match = _DATE_IN_NAME.match(base)
    day = match.group(0) if match else ""
    if "_AI_enhanced_" in base:
        rank = 2
    elif base.lower().endswith((".md", ".markdown", ".txt")):
        rank = 1
    else:
        rank = 0
    return day, rank, base


def detect_format(name: str, first_line: str) -> str:
    """Return "jsonl" or "markdown" from the file name, or the first line when the name is silent."""
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".json")):
        return "jsonl"
    if lowered.endswith((".md", ".markdown")):
        return "markdown"
    return "jsonl" if first_line.lstrip()[:1] == "{" else "markdown"


class _Lines:
    """Decoded lines of a binary stream, with the byte count, the hash and the decoding repairs."""

    def __init__(self, name: str, stream: BinaryIO, limits: DigestLimits) -> None:
        self.name = name
        self.stream = stream
        self.limits = limits
        self.hasher = hashlib.sha256()
        self.size = 0
        self.visible = 0
        self.repairs = SkipLog()
        self.skipped = SkipLog()
        self._peeked: list[str] = []
        self._number = 0
        self._iterator = self._decoded()

    def _raw_lines(self) -> Iterator[bytes]:
        while True:
            chunk = self.stream.readline(MAX_LINE_CHARS)
            if not chunk:
                return
            self.size += len(chunk)
            if self.size > self.limits.max_bytes:
                raise DigestError(self.name, self.limits.too_large())
            self.hasher.update(chunk)
            if not chunk.endswith(b"\n") and len(chunk) >= MAX_LINE_CHARS:
                # A line longer than any paper: skip the rest of it instead of holding it in memory.
                while chunk and not chunk.endswith(b"\n"):
                    chunk = self.stream.readline(MAX_LINE_CHARS)
                    self.size += len(chunk)
                    if self.size > self.limits.max_bytes:
                        raise DigestError(self.name, self.limits.too_large())
                    self.hasher.update(chunk)
                self._number += 1
                self.visible += 1
                self.skipped.add(self._number, f"line longer than {MAX_LINE_CHARS:,} bytes; skipped")
                continue
            yield chunk

    def _decoded(self) -> Iterator[str]:
        first = True
        for raw in self._raw_lines():
            self._number += 1
            if first:
                first = False
                if raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
            if b"\x00" in raw and self.size <= 65536:
                raise DigestError(self.name, "looks like a binary file, not a digest")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                offset = self.size - len(raw) + exc.start
                self.repairs.add(self._number, f"invalid UTF-8 at byte {offset:,}; replaced with U+FFFD")
                text = raw.decode("utf-8", errors="replace")
            text = text.rstrip("\r\n")
            if text.strip():
                self.visible += 1
            yield text

    def peek(self) -> str:
        """The first non-blank line (kept for the parser)."""
        for line in self._iterator:
            self._peeked.append(line)
            if line.strip():
                return line
        return ""

    def __iter__(self) -> Iterator[str]:
        while self._peeked:
            yield self._peeked.pop(0)
        yield from self._iterator

    def drain(self) -> None:
        """Read (and hash) whatever the parser did not consume."""
        for _ in self._iterator:
            pass


def read_digest(name: str, stream: BinaryIO, limits: DigestLimits | None = None) -> ParsedDigest:
    """Parse a digest from a binary stream named `name`; raise DigestError when it gives no papers.

    Any failure inside one file's parse (a bug, a file crafted to crash a parser) becomes that
    file's DigestError, so the rest of a batch still lands.
    """
    limits = limits or DigestLimits()
    lines = _Lines(name, stream, limits)
    try:
        fmt = detect_format(name, lines.peek())
        parse = parse_jsonl if fmt == "jsonl" else parse_markdown
        papers, skipped, warnings = parse(lines, max_papers=limits.max_papers, source=name, skipped=lines.skipped)
        lines.drain()
    except DigestError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise DigestError(name, f"could not be parsed ({type(exc).__name__}: nested or large beyond any digest)") from exc
    except Exception as exc:  # one file's bug must not stop the batch: report it as that file's error
        raise DigestError(name, f"could not be parsed ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if lines.visible == 0:
        raise DigestError(name, "is empty")
    warnings.extend(lines.repairs)
    if not papers:
        reasons = "; ".join(str(s) for s in skipped.first[:3])
        detail = f" ({reasons})" if reasons else ""
        raise DigestError(name, f"holds no papers a {fmt} digest would have{detail}")
    language_match = _LANGUAGE_IN_NAME.search(name)
    if language_match is not None:
        language = language_match.group(1)
    else:
        sample = "".join(p.tldr for p in papers[:20])
        language = "Chinese" if _CJK.search(sample) else ("English" if sample else "")
    return ParsedDigest(source=name, format=fmt, papers=papers, skipped=skipped, warnings=warnings, language=language,
                        content_hash=lines.hasher.hexdigest(), size=lines.size)


def parse_digest_bytes(name: str, data: bytes, limits: DigestLimits | None = None) -> ParsedDigest:
    """Parse digest bytes named `name` (fetched from a source)."""
    limits = limits or DigestLimits()
    if len(data) > limits.max_bytes:
        raise DigestError(name, limits.too_large())
    return read_digest(name, io.BytesIO(data), limits)


def parse_digest_file(path: Path, limits: DigestLimits | None = None) -> ParsedDigest:
    """Read and parse one digest file from disk, streaming."""
    limits = limits or DigestLimits()
    try:
        with path.open("rb") as stream:
            return read_digest(str(path), stream, limits)
    except OSError as exc:
        raise DigestError(str(path), f"cannot be read: {describe_os_error(exc)}") from exc


def describe_os_error(exc: OSError) -> str:
    """`permission denied`, `a symbolic link loop`, ... in words."""
    import errno

    names = {
        errno.EACCES: "permission denied", errno.EPERM: "permission denied",
        errno.ELOOP: "it is a symbolic link loop", errno.ENOENT: "no such file or folder",
        errno.EISDIR: "it is a folder", errno.ENAMETOOLONG: "the name is too long",
        errno.EIO: "input/output error",
    }
    return names.get(exc.errno or 0, exc.strerror or str(exc))
