"""Parse a JSONL digest (`YYYY-MM-DD_AI_enhanced_<Language>.jsonl`, or the raw `YYYY-MM-DD.jsonl`) into papers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bot.core.errors import DigestError
from bot.ingest.paper import Paper, SkipLog, clean_categories, clean_code_url, normalize_arxiv_id

# A real line is a few kilobytes; a line is read at most this long (the rest is skipped).
MAX_LINE_CHARS = 1_000_000


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(_text(item) for item in value if item is not None and not isinstance(item, dict | list)).strip()
    if isinstance(value, dict):
        return ""
    return str(value).strip()


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    if isinstance(value, list):
        return [_text(name) for name in value if _text(name)]
    return []


def paper_from_record(record: dict[str, Any], notes: list[str] | None = None) -> Paper | str:
    """Build a Paper from one decoded JSONL record, or return why it cannot be one.

    Categories not shaped like arXiv's and code links that are not plain http(s) URLs are
    dropped, each with a note in `notes`.
    """
    raw_id = _text(record.get("id")) or _text(record.get("abs"))
    arxiv_id = normalize_arxiv_id(raw_id) if raw_id else None
    if arxiv_id is None:
        return f"no arXiv id (id={raw_id[:40]!r})" if raw_id else "no arXiv id"
    title = _text(record.get("title"))
    if not title:
        return f"paper {arxiv_id} has no title"
    categories = record.get("categories")
    listed = [c for c in (_text(x) for x in categories) if c] if isinstance(categories, list) else _names(categories)
    category_list, rejected = clean_categories(listed)
    if rejected and notes is not None:
        notes.append(f"paper {arxiv_id}: category {rejected[0][:40]!r} is not an arXiv category; dropped")
    ai = record.get("AI")
    summary: dict[str, Any] = ai if isinstance(ai, dict) else {}
    code_written = _text(record.get("code_url"))
    code_url = clean_code_url(code_written)
    if code_written and not code_url and notes is not None:
        notes.append(f"paper {arxiv_id}: code link {code_written[:60]!r} is not a plain http(s) URL; dropped")
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
        code_url=code_url,
    )


def parse_jsonl(lines: Iterable[str], *, max_papers: int | None = None, source: str = "digest",
                skipped: SkipLog | None = None, warnings: SkipLog | None = None) -> tuple[list[Paper], SkipLog, SkipLog]:
    """Parse JSONL lines into papers; a line that is not a paper is skipped with its reason.

    Raises DigestError when the file holds more than `max_papers` papers.
    """
    papers: list[Paper] = []
    skipped = skipped if skipped is not None else SkipLog()
    warnings = warnings if warnings is not None else SkipLog()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.add(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            skipped.add(number, "JSON nested too deeply to be a paper")
            continue
        except ValueError:
            skipped.add(number, "not valid JSON")
            continue
        if not isinstance(record, dict):
            skipped.add(number, f"expected a JSON object, found {type(record).__name__}")
            continue
        notes: list[str] = []
        paper = paper_from_record(record, notes)
        for note in notes:
            warnings.add(number, note)
        if isinstance(paper, str):
            skipped.add(number, paper)
            continue
        papers.append(paper)
        if max_papers is not None and len(papers) > max_papers:
            raise DigestError(source, too_many_papers(max_papers))
    return papers, skipped, warnings


def too_many_papers(limit: int) -> str:
    """The sentence for a digest over the paper cap."""
    return (f"holds more than {limit:,} papers, the most one digest may hold (DIGESTBOT_MAX_PAPERS_PER_DIGEST; "
            "a real day has a few hundred); nothing of it was stored")
