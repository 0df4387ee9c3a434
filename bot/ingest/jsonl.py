"""Parse a JSONL digest (`YYYY-MM-DD_AI_enhanced_<Language>.jsonl`) into papers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bot.ingest.paper import Paper, SkippedEntry, normalize_arxiv_id


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(_text(item) for item in value if item is not None).strip()
    return str(value).strip()


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    if isinstance(value, list):
        return [_text(name) for name in value if _text(name)]
    return []


def paper_from_record(record: dict[str, Any]) -> Paper | str:
    """Build a Paper from one decoded JSONL record, or return why it cannot be one."""
    raw_id = _text(record.get("id")) or _text(record.get("abs"))
    arxiv_id = normalize_arxiv_id(raw_id) if raw_id else None
    if arxiv_id is None:
        return f"no arXiv id (id={raw_id[:40]!r})" if raw_id else "no arXiv id"
    title = _text(record.get("title"))
    if not title:
        return f"paper {arxiv_id} has no title"
    categories = record.get("categories")
    category_list = [c for c in (_text(x) for x in categories) if c] if isinstance(categories, list) else _names(categories)
    ai = record.get("AI")
    summary: dict[str, Any] = ai if isinstance(ai, dict) else {}
    abs_url = _text(record.get("abs"))
    pdf_url = _text(record.get("pdf"))
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        authors=_names(record.get("authors")),
        categories=category_list,
        # Older days call the TL;DR `task`.
        tldr=_text(summary.get("tldr")) or _text(summary.get("task")),
        motivation=_text(summary.get("motivation")),
        method=_text(summary.get("method")),
        result=_text(summary.get("result")),
        conclusion=_text(summary.get("conclusion")),
        abstract=_text(record.get("summary")),
        comment=_text(record.get("comment")),
        code_url=_text(record.get("code_url")),
        abs_url=abs_url if abs_url.startswith("http") else "",
        pdf_url=pdf_url if pdf_url.startswith("http") else "",
    )


def parse_jsonl(lines: Iterable[str]) -> tuple[list[Paper], list[SkippedEntry]]:
    """Parse JSONL lines into papers; a line that is not a paper is skipped with its reason."""
    papers: list[Paper] = []
    skipped: list[SkippedEntry] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            skipped.append(SkippedEntry(number, f"not valid JSON ({exc.msg} at column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else "not valid JSON"))
            continue
        if not isinstance(record, dict):
            skipped.append(SkippedEntry(number, f"expected a JSON object, found {type(record).__name__}"))
            continue
        paper = paper_from_record(record)
        if isinstance(paper, str):
            skipped.append(SkippedEntry(number, paper))
            continue
        papers.append(paper)
    return papers, skipped
