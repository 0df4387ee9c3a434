"""The one record every digest format is parsed into, and the checks on what a digest may claim."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from storage.text import is_category_shaped
from storage.urls import safe_web_link

# New-style ids (2601.20911) and old-style ids (hep-th/9901001, math.GT/0309136).
_ARXIV_ID = re.compile(
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
)


# ACM (`I.2.10`) and MSC (`68T45`) classes, which arXiv's metadata lists beside its categories:
# not categories, dropped without a warning.
_CLASSIFICATION = re.compile(r"^(?:[A-K]\.\d{1,2}(?:\.\d{1,2})?|[A-K]\.m|\d{2}[A-Z-]\d{2}|\d{2}[A-Z]xx|\d{2}-\d{2})$")


def _is_classification(code: str) -> bool:
    parts = [p.strip() for p in re.split(r"[;,]", code) if p.strip()]
    return bool(parts) and all(_CLASSIFICATION.match(p) for p in parts)


def clean_categories(codes: list[str]) -> tuple[list[str], list[str]]:
    """Split category codes into those of arXiv's shape (order kept, duplicates dropped) and the rejected rest.

    ACM and MSC classification codes are dropped quietly: arXiv lists them beside categories.
    """
    kept: dict[str, None] = {}
    rejected: list[str] = []
    for code in codes:
        if is_category_shaped(code):
            kept.setdefault(code, None)
        elif not _is_classification(code):
            rejected.append(code)
    return list(kept), rejected


def clean_code_url(url: str) -> str:
    """A code link as digest data gives it, kept only when it is a plain http(s) URL to a named host."""
    return (safe_web_link(url) or "") if url else ""


def normalize_arxiv_id(text: str) -> str | None:
    """Return the bare arXiv id (no version) found in an id, `arXiv:` reference or URL."""
    candidate = text.strip()
    if not candidate:
        return None
    lowered = candidate.lower()
    if lowered.startswith("arxiv:"):
        candidate = candidate[6:].strip()
    # abs/pdf/html URLs: keep what follows the last /abs/, /pdf/ or /html/.
    for marker in ("/abs/", "/pdf/", "/html/"):
        pos = candidate.find(marker)
        if pos != -1:
            candidate = candidate[pos + len(marker):]
            break
    candidate = candidate.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if candidate.endswith(".pdf"):
        candidate = candidate[:-4]
    match = _ARXIV_ID.fullmatch(candidate)
    if match is None:
        return None
    return match.group("id")


@dataclass(slots=True)
class Paper:
    """One paper as a digest describes it; text fields are kept exactly as written."""

    arxiv_id: str
    title: str
    authors: list[str] = field(default_factory=list)
    primary_category: str = ""
    categories: list[str] = field(default_factory=list)
    tldr: str = ""
    motivation: str = ""
    method: str = ""
    result: str = ""
    conclusion: str = ""
    abstract: str = ""
    comment: str = ""
    code_url: str = ""
    keywords: str = ""
    translated_title: str = ""
    # The digest section the paper was listed under (markdown) or its primary category (JSONL).
    section: str = ""

    def __post_init__(self) -> None:
        if self.primary_category and self.primary_category not in self.categories:
            self.categories.insert(0, self.primary_category)
        if not self.primary_category and self.categories:
            self.primary_category = self.categories[0]
        if not self.section:
            self.section = self.primary_category


    @property
    def abs_url(self) -> str:
        """The abstract page, built from the validated id (never a URL from the digest)."""
        return f"https://arxiv.org/abs/{self.arxiv_id}"


@dataclass(slots=True)
class SkippedEntry:
    """A part of a digest that could not become a paper (or was changed to be stored), with where and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class SkipLog:
    """Skipped lines (or repairs) of one file: the first few with line numbers, then only a count.

    A broken file of 900,000 bad lines must not print 900,000 warnings.
    """

    KEEP = 5

    def __init__(self) -> None:
        self.first: list[SkippedEntry] = []
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        """Record one more; only the first few keep their detail."""
        self.count += 1
        if len(self.first) < self.KEEP:
            self.first.append(SkippedEntry(line, reason))

    def extend(self, other: SkipLog) -> None:
        """Take in another log's entries (details of the first few, the count of all)."""
        for entry in other.first:
            if len(self.first) < self.KEEP:
                self.first.append(entry)
        self.count += other.count

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __iter__(self) -> Iterator[SkippedEntry]:
        return iter(self.first)

    def lines(self) -> list[str]:
        """`line 3: not valid JSON ...` for the first few, then `... and 899,995 more`."""
        shown = [str(entry) for entry in self.first]
        if self.count > len(self.first):
            shown.append(f"... and {self.count - len(self.first):,} more")
        return shown


# Which file of a day holds the richest text: raw JSONL (no summaries) < markdown < AI JSONL.
FORMAT_RANKS = {"jsonl-raw": 0, "markdown": 1, "jsonl": 2}


@dataclass(slots=True)
class ParsedDigest:
    """Everything one digest file gave: its papers in order, and what was skipped or repaired."""

    source: str
    format: str
    papers: list[Paper]
    skipped: SkipLog = field(default_factory=SkipLog)
    # Repairs: undecodable bytes replaced by U+FFFD, categories or links that were dropped.
    warnings: SkipLog = field(default_factory=SkipLog)
    language: str = ""
    content_hash: str = ""
    size: int = 0

    @property
    def format_rank(self) -> int:
        """0 for a raw JSONL (no LLM summaries), 1 for markdown, 2 for a JSONL with summaries."""
        if self.format == "jsonl" and not any(p.tldr or p.motivation or p.method for p in self.papers):
            return FORMAT_RANKS["jsonl-raw"]
        return FORMAT_RANKS[self.format]
