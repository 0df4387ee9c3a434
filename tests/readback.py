"""Read reading-list exports back as their tools would: BibTeX values decoded, Markdown rendered."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

# What LaTeX prints for each escape the BibTeX export may write; written out here, not imported,
# so the test checks the export against LaTeX's meaning rather than against itself.
LATEX_PRINTS = {
    r"\textbackslash{}": "\\", r"\textbraceleft{}": "{", r"\textbraceright{}": "}",
    r"\textasciicircum{}": "^", r"\textasciitilde{}": "~",
    r"\%": "%", r"\#": "#", r"\&": "&", r"\$": "$", r"\_": "_",
}
_LATEX_ESCAPE = re.compile("|".join(re.escape(escape) for escape in LATEX_PRINTS))
# Where a spreadsheet sees a formula (full-width forms folded as a CJK-locale spreadsheet might).
FORMULA_STARTS = "=+-@\t\r"


def flat(text: str) -> str:
    """Collapse whitespace as every export does."""
    return " ".join(text.split())


def latex_decoded(value: str) -> str:
    """Decode the export's escapes in one pass, as LaTeX would print them."""
    return _LATEX_ESCAPE.sub(lambda m: LATEX_PRINTS[m.group(0)], value)


def stray_backslashes(raw: str) -> list[str]:
    """Every `\\` in `raw` that does not start one of the export's escapes, with what follows."""
    rest = _LATEX_ESCAPE.sub("", raw)
    return [rest[i:i + 20] for i, char in enumerate(rest) if char == "\\"]


def bibtex_authors(value: str) -> list[str]:
    """Split an author field at ` and ` outside braces, as BibTeX does, into names as stored."""
    names: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(value):
        if value[i] == "{":
            depth += 1
        elif value[i] == "}":
            depth -= 1
        elif depth == 0 and value[i:i + 5].lower() == " and ":
            names.append(value[start:i])
            start = i + 5
            i += 4
        i += 1
    names.append(value[start:])
    people: list[str] = []
    for name in names:
        if name.startswith("{") and name.endswith("}"):
            people.append(latex_decoded(name[1:-1]))  # a name kept whole
        else:
            family, given = latex_decoded(name).split(", ", 1)
            people.append(f"{given} {family}")
    return people


def looks_like_formula(cell: str) -> bool:
    """True when a spreadsheet could open `cell` as a formula."""
    return bool(cell) and unicodedata.normalize("NFKC", cell[0])[:1] in FORMULA_STARTS


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


@dataclass
class RenderedMarkdown:
    """What a CommonMark preview holds: its tokens, headings, each list item's text and links."""

    tokens: list[Token]
    headings: list[str] = field(default_factory=list)
    items: list[tuple[str, list[str]]] = field(default_factory=list)


def render_markdown(text: str) -> RenderedMarkdown:
    """Parse `text` as CommonMark (raw HTML on), keeping every link so the renderer hides none."""
    renderer = MarkdownIt("commonmark")
    # markdown-it drops javascript: links by itself; a preview elsewhere may not, so see them all.
    renderer.validateLink = lambda url: True  # type: ignore[method-assign]
    top = renderer.parse(text)
    rendered = RenderedMarkdown(list(_walk(top)))
    depth, heading = 0, False
    words: list[str] = []
    links: list[str] = []
    for token in top:
        if token.type == "heading_open":
            heading = True
        elif token.type == "inline" and heading:
            rendered.headings.append(token.content)
            heading = False
        elif token.type == "list_item_open":
            depth += 1
            words, links = [], []
        elif token.type == "list_item_close":
            depth -= 1
            rendered.items.append(("".join(words), links))
        elif token.type == "inline" and depth:
            for child in _walk(token.children or []):
                if child.type in ("text", "code_inline"):
                    words.append(child.content)
                elif child.type == "softbreak":
                    words.append("\n")
                elif child.type == "link_open":
                    links.append(str(child.attrGet("href")))
    return rendered
