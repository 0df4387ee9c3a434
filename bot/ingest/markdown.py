"""Parse a markdown digest of daily-arXiv-ai-enhanced (and its forks) into papers.

The digest is split on its own line structure first (paper headers, category sections,
labelled fields); only whole structural HTML lines go through beautifulsoup4. Feeding the
whole digest to an HTML parser or a Markdown renderer corrupts real summaries (`<think>`,
`x<n`, `\\%`, `Name*`), so field text is kept exactly as written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from bs4 import BeautifulSoup

from bot.core.errors import DigestError
from bot.ingest.jsonl import too_many_papers
from bot.ingest.paper import Paper, SkipLog, clean_code_url, normalize_arxiv_id
from storage.text import is_category_shaped

# `### [12] [Title](https://arxiv.org/abs/2601.20911)`; also `## 12. [Title](url)` and no number.
# The title is greedy up to the last `](` so titles holding `[u,v]` survive.
_PAPER_HEADER = re.compile(
    r"^#{2,4}[ \t]+(?:\[\d+\][ \t]*|\d+[.)][ \t]*)?\[(?P<title>.+)\]\((?P<url>[^()\s]+)\)[ \t]*$"
)
# `# cs.CV [[Back]](#toc)` or `## cs.CV`: a category section.
_SECTION_HEADER = re.compile(r"^#{1,2}[ \t]+(?P<cat>[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z\-]{2,})?)\b")
# A labelled field at the start of a line: `TL;DR: x`, `**TL;DR:** x`, `**TL;DR**: x`, `- **Method**: x`.
_LABEL = re.compile(
    r"^(?:[-+][ \t]+)?(?P<open>\*\*|__)?(?P<label>[^\W\d_][\w ;/()\-]{0,30}?)[ \t]*(?:\*\*|__)?[ \t]*[:：][ \t]*(?P<vopen>\*\*|__)?[ \t]*(?P<value>.*)$"
)
_QUOTE = re.compile(r"^(?:>[ \t]?)+")
# Tags that only ever carry the digest's layout, never paper text.
_STRUCTURAL_TAGS = ("<details", "</details", "<summary", "</summary", "<div", "</div", "<br", "<hr")
_HTML_TEXT_TAGS = ("<p>", "<p ", "<b>", "<strong>", "<li>", "<span", "<em>")

# Label as written (lower case, spaces squeezed) -> Paper field.
_LABELS: dict[str, str] = {
    "tl;dr": "tldr", "tldr": "tldr", "tl; dr": "tldr", "tl;dr summary": "tldr", "summary": "tldr",
    "motivation": "motivation", "动机": "motivation",
    "method": "method", "methods": "method", "approach": "method", "方法": "method",
    "result": "result", "results": "result", "结果": "result",
    "conclusion": "conclusion", "conclusions": "conclusion", "结论": "conclusion",
    "abstract": "abstract", "摘要": "abstract",
    "main category": "primary_category", "primary category": "primary_category",
    "category": "primary_category",
    "categories": "categories", "all categories": "categories",
    "authors": "authors", "author": "authors", "作者": "authors",
    "comment": "comment", "comments": "comment", "备注": "comment",
    "keywords": "keywords", "keyword": "keywords", "关键词": "keywords",
    "code": "code_url", "code url": "code_url", "code link": "code_url", "github": "code_url",
    "translated title": "translated_title", "title (zh)": "translated_title",
    "chinese title": "translated_title", "中文标题": "translated_title", "标题": "translated_title",
    "title translation": "translated_title",
}
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_NAME_SEPARATORS = re.compile(r",|;|，|、|\s+and\s+")
_MULTILINE_FIELDS = {"tldr", "motivation", "method", "result", "conclusion", "abstract", "comment"}


def decode_entities(text: str) -> str:
    """Decode complete HTML entities (`&amp;`, `&#39;`, `&lt;`) that escaping forks write; leave any other `&` alone."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def _split_names(text: str) -> list[str]:
    names = (name.strip().strip("*_").strip() for name in _NAME_SEPARATORS.split(text))
    return [name for name in names if name]


def _strip_bold(value: str, opened: bool) -> str:
    value = value.rstrip()
    if opened and value.endswith(("**", "__")):
        value = value[:-2].rstrip()
    return value


def _html_line_text(line: str) -> str:
    """Text of one HTML-wrapped line such as `<p><b>TL;DR:</b> x &amp; y</p>`."""
    return BeautifulSoup(line, "html.parser").get_text()


def _section_from_div(line: str) -> str | None:
    tag = BeautifulSoup(line, "html.parser").find("div")
    ident = tag.get("id") if tag is not None else None
    if isinstance(ident, str) and is_category_shaped(ident) and ("." in ident or "-" in ident):
        return ident
    return None


class _PaperBuilder:
    __slots__ = ("arxiv_id", "fields", "filled", "line", "section", "title", "url")

    def __init__(self, arxiv_id: str, title: str, url: str, section: str, line: int) -> None:
        self.arxiv_id = arxiv_id
        self.title = title
        self.url = url
        self.section = section
        self.line = line
        self.fields: dict[str, list[str]] = {}
        self.filled: set[str] = set()

    def start(self, name: str, value: str) -> None:
        self.filled.add(name)
        self.fields[name] = [value]

    def build(self, warnings: SkipLog) -> Paper:
        def text(name: str) -> str:
            return decode_entities("\n".join(self.fields.get(name, ())).strip())

        primary = text("primary_category").strip("* ")
        categories = [c for c in re.split(r"[,\s]+", text("categories")) if is_category_shaped(c)]
        if primary and not is_category_shaped(primary):
            warnings.add(self.line, f"paper {self.arxiv_id}: category {primary[:40]!r} is not an arXiv category; dropped")
            primary = ""
        code = text("code_url")
        code_match = re.search(r"https?://\S+", code)
        code_url = clean_code_url(code_match.group(0).rstrip(").,>") if code_match else "")
        if code_match and not code_url:
            warnings.add(self.line, f"paper {self.arxiv_id}: code link {code_match.group(0)[:60]!r} is not a plain http(s) URL; dropped")
        return Paper(
            arxiv_id=self.arxiv_id,
            title=decode_entities(self.title.strip()),
            authors=_split_names(text("authors")),
            primary_category=primary or self.section,
            categories=categories,
            tldr=text("tldr"),
            motivation=text("motivation"),
            method=text("method"),
            result=text("result"),
            conclusion=text("conclusion"),
            abstract=text("abstract"),
            comment=text("comment"),
            code_url=code_url,
            keywords=text("keywords"),
            translated_title=text("translated_title"),
            section=self.section or primary,
        )


def parse_markdown(lines: Iterable[str], *, max_papers: int | None = None, source: str = "digest",
                   skipped: SkipLog | None = None, warnings: SkipLog | None = None) -> tuple[list[Paper], SkipLog, SkipLog]:
    """Parse digest lines (without line ends) into papers, in digest order.

    Raises DigestError when the file holds more than `max_papers` papers.
    """
    papers: list[Paper] = []
    skipped = skipped if skipped is not None else SkipLog()
    warnings = warnings if warnings is not None else SkipLog()
    section = ""
    current: _PaperBuilder | None = None
    field: str | None = None

    def flush() -> None:
        nonlocal current, field
        if current is not None:
            papers.append(current.build(warnings))
            if max_papers is not None and len(papers) > max_papers:
                raise DigestError(source, too_many_papers(max_papers))
        current = None
        field = None

    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if not line:
            if current is not None and field in _MULTILINE_FIELDS:
                current.fields[field].append("")
            continue
        first = line[0]
        if first == "#":
            header = _PAPER_HEADER.match(line)
            if header is not None:
                flush()
                arxiv_id = normalize_arxiv_id(header.group("url"))
                if arxiv_id is None:
                    skipped.add(number, f"paper header has no arXiv link: {line[:80]!r}")
                    continue
                current = _PaperBuilder(arxiv_id, header.group("title"), header.group("url"), section, number)
                continue
            section_header = _SECTION_HEADER.match(line)
            if section_header is not None:
                cat = section_header.group("cat")
                if ("." in cat or "-" in cat) and is_category_shaped(cat):
                    flush()
                    section = cat
                    continue
        elif first == "<":
            lowered = line.lower()
            if lowered.startswith(_STRUCTURAL_TAGS):
                if lowered.startswith("<div"):
                    div_section = _section_from_div(line)
                    if div_section is not None:
                        flush()
                        section = div_section
                # A layout tag ends the field being read; the paper goes on.
                field = None
                continue
            if lowered.startswith(_HTML_TEXT_TAGS):
                line = _html_line_text(line).strip()
                if not line:
                    continue
        if current is None:
            continue
        indented = first in " \t"
        if first == ">":
            line = _QUOTE.sub("", line)
            if not line:
                continue
            indented = line[0] in " \t"
        if not indented:
            if line[0] in "*_" and "authors" not in current.filled and not line.startswith(("**", "__")):
                # `*A,B,C*`, possibly followed by ` | **Main category: cs.CV**`.
                head, _, tail = line.partition(" | ")
                current.start("authors", head.strip().strip("*_"))
                field = None
                for part in tail.split(" | ") if tail else ():
                    labelled = _LABEL.match(part.strip())
                    if labelled is not None:
                        name = _LABELS.get(" ".join(labelled.group("label").lower().split()))
                        if name is not None and name not in current.filled:
                            current.start(name, _strip_bold(labelled.group("value"), bool(labelled.group("open") or labelled.group("vopen"))))
                continue
            labelled = _LABEL.match(line)
            if labelled is not None:
                name = _LABELS.get(" ".join(labelled.group("label").lower().split()))
                if name is not None and name not in current.filled:
                    opened = bool(labelled.group("open") or labelled.group("vopen"))
                    current.start(name, _strip_bold(labelled.group("value"), opened))
                    field = name
                    continue
        if field is not None and field in _MULTILINE_FIELDS:
            current.fields[field].append(line)
    flush()
    return papers, skipped, warnings
