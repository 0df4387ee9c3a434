"""Plain records storage hands back; nothing here knows about Discord."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Protocol

from storage.text import is_category_shaped
from storage.urls import safe_web_link


def iso_utc(moment: dt.datetime) -> str:
    """How every timestamp is stored: UTC, ISO 8601, whole seconds, so text order is time order."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


class PaperInput(Protocol):
    """What ingesting needs of a parsed paper (bot.ingest.paper.Paper has it); storage knows no parser."""

    arxiv_id: str
    title: str
    authors: list[str]
    primary_category: str
    categories: list[str]
    tldr: str
    motivation: str
    method: str
    result: str
    conclusion: str
    abstract: str
    comment: str
    code_url: str
    keywords: str
    translated_title: str
    section: str


@dataclass(frozen=True, slots=True)
class StoredPaper:
    """A paper as stored: the merged best knowledge of every digest that carried it."""

    arxiv_id: str
    title: str
    authors: list[str]
    primary_category: str
    categories: list[str]
    tldr: str
    motivation: str
    method: str
    result: str
    conclusion: str
    abstract: str
    comment: str
    code_url: str
    keywords: str
    translated_title: str
    abs_url: str
    pdf_url: str
    language: str
    first_seen: dt.date
    last_seen: dt.date

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredPaper:
        """Build from a `papers` row."""
        # Stored before categories were checked on the way in: show only arXiv-shaped ones.
        categories = [c for c in json.loads(row["categories"]) if is_category_shaped(c)]
        primary = row["primary_category"] if is_category_shaped(row["primary_category"]) else (categories[:1] or [""])[0]
        return cls(
            arxiv_id=row["arxiv_id"],
            title=row["title"],
            authors=json.loads(row["authors"]),
            primary_category=primary,
            categories=categories,
            tldr=row["tldr"],
            motivation=row["motivation"],
            method=row["method"],
            result=row["result"],
            conclusion=row["conclusion"],
            abstract=row["abstract"],
            comment=row["comment"],
            code_url=safe_web_link(row["code_url"]) or "",
            keywords=row["keywords"],
            translated_title=row["translated_title"],
            # Built from the validated id, never taken from digest data (which could point anywhere).
            abs_url=f"https://arxiv.org/abs/{row['arxiv_id']}",
            pdf_url=f"https://arxiv.org/pdf/{row['arxiv_id']}",
            language=row["language"],
            first_seen=dt.date.fromisoformat(row["first_seen"]),
            last_seen=dt.date.fromisoformat(row["last_seen"]),
        )


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingesting one digest file did."""

    source: str
    date: dt.date
    papers: int
    new: int
    updated: int
    unchanged: int
    already_ingested: bool = False
    merged_repeats: int = 0


@dataclass(frozen=True, slots=True)
class DigestInfo:
    """One stored day, when it first arrived, and how (poll, backfill or ingest)."""

    id: int
    date: dt.date
    source: str
    language: str
    paper_count: int
    ingested_at: dt.datetime
    arrival: str = "poll"

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> DigestInfo:
        """Build from a digests row."""
        return cls(row["id"], dt.date.fromisoformat(row["date"]), row["source"], row["language"], row["paper_count"],
                   dt.datetime.fromisoformat(row["ingested_at"]), row["arrival"])


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """A paper as listed in one day's digest, under the section it was listed in."""

    section: str
    position: int
    paper: StoredPaper


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of ranked search results and the total number of matches."""

    papers: list[StoredPaper]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class CorpusStats:
    """Counts over everything stored."""

    papers: int
    digests: int
    first_date: dt.date | None
    last_date: dt.date | None
    per_category: list[tuple[str, int]] = field(default_factory=list)
