"""Whole digest files: the real samples, and broken input that must be reported, not crash."""

from __future__ import annotations

import json

import pytest

from bot.core.errors import DigestError
from bot.ingest.digest import (
    DigestLimits,
    date_from_name,
    detect_format,
    parse_digest_bytes,
    parse_digest_file,
)
from tests.conftest import DIGESTS

SAMPLE_COUNTS = {
    "000_eb52096bcf26c46f.txt": (456, "markdown", "English"),
    "002_5858082daa70f9c8.txt": (402, "markdown", "English"),
    "004_8ce2d82a3946f536.txt": (76, "markdown", "Chinese"),
    "2025-12-31.md": (213, "markdown", "Chinese"),
    "2025-12-31_AI_enhanced_Chinese.jsonl": (213, "jsonl", "Chinese"),
    "2025-03-19_AI_enhanced_Chinese.jsonl": (206, "jsonl", "Chinese"),
}


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_every_sample_gives_its_papers_complete(name: str) -> None:
    count, fmt, language = SAMPLE_COUNTS[name]
    digest = parse_digest_file(DIGESTS / name)
    assert (len(digest.papers), digest.format, digest.language) == (count, fmt, language)
    assert not digest.skipped and not digest.warnings
    for paper in digest.papers:
        assert paper.title and paper.authors and paper.primary_category, paper.arxiv_id
        assert paper.tldr and paper.abstract, paper.arxiv_id
        assert paper.primary_category in paper.categories


def test_markdown_and_jsonl_of_one_day_agree() -> None:
    markdown = {p.arxiv_id: p for p in parse_digest_file(DIGESTS / "2025-12-31.md").papers}
    jsonl = {p.arxiv_id: p for p in parse_digest_file(DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").papers}
    assert markdown.keys() == jsonl.keys()
    for arxiv_id, paper in markdown.items():
        other = jsonl[arxiv_id]
        assert (paper.title, paper.authors, paper.tldr, paper.primary_category) == (
            other.title, other.authors, other.tldr, other.primary_category,
        ), arxiv_id


def test_old_jsonl_task_field_becomes_the_tldr() -> None:
    digest = parse_digest_file(DIGESTS / "2025-03-19_AI_enhanced_Chinese.jsonl")
    first = digest.papers[0]
    assert first.arxiv_id == "2503.13531"
    assert first.tldr.startswith("使用Stable Diffusion分析500年西方绘画")


def test_summary_text_that_looks_like_html_is_kept() -> None:
    digest = parse_digest_file(DIGESTS / "002_5858082daa70f9c8.txt")
    methods = [p.method for p in digest.papers if "<event>" in p.method]
    assert methods and "Savitzky-Golay smoothing" in methods[0]


def _jsonl_line(**fields: object) -> str:
    base: dict[str, object] = {
        "id": "2601.00001", "title": "T", "authors": ["A"], "categories": ["cs.CV"],
        "summary": "Abstract.", "AI": {"tldr": "x"},
    }
    base.update(fields)
    return json.dumps(base, ensure_ascii=False)


def test_jsonl_line_without_ai_still_gives_a_paper_without_summary() -> None:
    record = json.loads(_jsonl_line())
    del record["AI"]
    digest = parse_digest_bytes("d.jsonl", (json.dumps(record) + "\n").encode())
    assert digest.papers[0].tldr == "" and digest.papers[0].abstract == "Abstract."


def test_jsonl_line_that_is_not_json_is_skipped_with_its_line_number() -> None:
    data = "\n".join([_jsonl_line(id="2601.00001"), "{not json", _jsonl_line(id="2601.00002"), "[1, 2]"]).encode()
    digest = parse_digest_bytes("d.jsonl", data)
    assert [p.arxiv_id for p in digest.papers] == ["2601.00001", "2601.00002"]
    assert [s.line for s in digest.skipped] == [2, 4]
    assert "not valid JSON" in digest.skipped.first[0].reason


def test_truncated_jsonl_keeps_every_whole_line() -> None:
    data = (DIGESTS / "2025-12-31_AI_enhanced_Chinese.jsonl").read_bytes()
    cut = data[: len(data) // 2]
    digest = parse_digest_bytes("2025-12-31.jsonl", cut)
    whole_lines = cut.count(b"\n")
    assert len(digest.papers) == whole_lines
    assert len(digest.skipped) == 1 and digest.skipped.first[0].line == whole_lines + 1


def test_truncated_markdown_keeps_the_papers_before_the_cut() -> None:
    data = (DIGESTS / "2025-12-31.md").read_bytes()
    digest = parse_digest_bytes("2025-12-31.md", data[: len(data) // 2])
    assert 90 < len(digest.papers) < 120
    assert all(p.title for p in digest.papers)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.md", b"", "is empty"),
        ("blank.md", b"\n\n   \n", "is empty"),
        ("junk.md", bytes(range(256)) * 64, "binary"),
        ("prose.md", b"# Hello\n\nJust some notes, no papers.\n", "no papers"),
        ("long.md", b"x" * (10 * 1024 * 1024), "line 1: line longer than 1,000,000 bytes; skipped"),
        ("long.jsonl", b"{" + b"a" * (10 * 1024 * 1024), "no papers"),
    ],
)
def test_unusable_input_raises_a_digest_error_naming_the_file(name: str, data: bytes, message: str) -> None:
    with pytest.raises(DigestError) as caught:
        parse_digest_bytes(name, data)
    assert caught.value.source == name
    assert message in caught.value.message


def test_invalid_utf8_is_replaced_and_reported_without_losing_the_paper() -> None:
    text = "### [1] [Bad \xff Bytes](https://arxiv.org/abs/2601.00001)\n*A*\nTL;DR: ok\n"
    data = text.encode("latin-1")
    digest = parse_digest_bytes("bad.md", data)
    assert digest.papers[0].title == "Bad \ufffd Bytes"
    assert digest.warnings.first[0].line == 1 and "invalid UTF-8 at byte 13" in digest.warnings.first[0].reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [("2025-12-31.md", "2025-12-31"), ("data/2025-03-19_AI_enhanced_Chinese.jsonl", "2025-03-19"),
     ("000_eb52096bcf26c46f.txt", None), ("http://127.0.0.1:8/data/2026-01-02.md", "2026-01-02")],
)
def test_date_comes_from_the_file_name(name: str, expected: str | None) -> None:
    found = date_from_name(name)
    assert (found.isoformat() if found else None) == expected


@pytest.mark.parametrize("name", ["2026-02-30.md", "2025-13-45_AI_enhanced_Chinese.jsonl"])
def test_an_impossible_date_in_a_name_is_called_impossible(name: str) -> None:
    with pytest.raises(DigestError) as caught:
        date_from_name(name)
    assert "which is not a real date" in caught.value.message


def test_format_is_detected_by_name_then_content() -> None:
    assert detect_format("x.jsonl", "") == "jsonl"
    assert detect_format("x.txt", '  {"id": 1}') == "jsonl"
    assert detect_format("x.txt", "### [1] [T](u)") == "markdown"


def test_a_digest_over_the_paper_cap_is_refused_whole_with_the_setting_named() -> None:
    lines = [_jsonl_line(id=f"2601.{n:05d}") for n in range(12)]
    with pytest.raises(DigestError) as caught:
        parse_digest_bytes("big.jsonl", ("\n".join(lines) + "\n").encode(), DigestLimits(max_papers=10))
    assert "holds more than 10 papers" in caught.value.message and "DIGESTBOT_MAX_PAPERS_PER_DIGEST" in caught.value.message
    markdown = "".join(f"### [{n}] [T{n}](https://arxiv.org/abs/2601.{n:05d})\n*A*\n" for n in range(12))
    with pytest.raises(DigestError, match="holds more than 10 papers"):
        parse_digest_bytes("big.md", markdown.encode(), DigestLimits(max_papers=10))
    assert len(parse_digest_bytes("ok.jsonl", ("\n".join(lines[:10]) + "\n").encode(), DigestLimits(max_papers=10)).papers) == 10


def test_categories_are_checked_and_code_links_must_be_plain_web_links() -> None:
    line = _jsonl_line(categories=["cs.CV", "q-bio.GN", "I.2.10; H.3.3", "68T45", "cs`](https://x.example)"],
                       code_url="javascript:alert(1)")
    digest = parse_digest_bytes("d.jsonl", (line + "\n").encode())
    paper = digest.papers[0]
    assert paper.categories == ["cs.CV", "q-bio.GN"] and paper.code_url == ""
    assert [w.reason for w in digest.warnings] == [
        "paper 2601.00001: category 'cs`](https://x.example)' is not an arXiv category; dropped",
        "paper 2601.00001: code link 'javascript:alert(1)' is not a plain http(s) URL; dropped",
    ]
    good = parse_digest_bytes("d.jsonl", (_jsonl_line(code_url="https://github.com/a/b") + "\n").encode())
    assert good.papers[0].code_url == "https://github.com/a/b" and not good.warnings
