"""The one record every digest format is parsed into."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# New-style ids (2601.20911) and old-style ids (hep-th/9901001, math.GT/0309136).
_ARXIV_ID = re.compile(
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
)


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
    abs_url: str = ""
    pdf_url: str = ""
    # The digest section the paper was listed under (markdown) or its primary category (JSONL).
    section: str = ""

    def __post_init__(self) -> None:
        if not self.abs_url:
            self.abs_url = f"https://arxiv.org/abs/{self.arxiv_id}"
        if not self.pdf_url:
            self.pdf_url = f"https://arxiv.org/pdf/{self.arxiv_id}"
        if self.primary_category and self.primary_category not in self.categories:
            self.categories.insert(0, self.primary_category)
        if not self.primary_category and self.categories:
            self.primary_category = self.categories[0]
        if not self.section:
            self.section = self.primary_category


@dataclass(slots=True)
class SkippedEntry:
    """A part of a digest that could not become a paper, with where and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class ParsedDigest:
    """Everything one digest file gave: its papers in order, and what was skipped."""

    source: str
    format: str
    papers: list[Paper]
    skipped: list[SkippedEntry] = field(default_factory=list)
    # Repairs that lost nothing, such as undecodable bytes replaced by U+FFFD.
    warnings: list[SkippedEntry] = field(default_factory=list)
    language: str = ""
