"""A reading list as a file: BibTeX (for Zotero, JabRef, Overleaf), CSV, or markdown.

Titles, authors and TL;DRs come from digests anyone can write, so each format writes them as
inert text: LaTeX prints them and runs none of their commands, a spreadsheet shows them and
evaluates no formula, a Markdown preview shows them and loads no image, HTML or foreign link.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import unicodedata
from collections.abc import Sequence

from bot.render.text import escape_markdown
from storage.records import StoredPaper
from storage.urls import link_label, safe_web_link

FORMATS = {"bibtex": "bib", "csv": "csv", "markdown": "md"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NEW_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
# Lower-case words that belong to a family name: Ludwig van Beethoven -> van Beethoven, Ludwig.
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "dos", "das", "ter", "ten", "bin", "al"}
# Control characters that are not whitespace (NUL, BEL, ESC, DEL, C1): no export format wants them.
_CONTROL = re.compile(r"(?!\s)[\x00-\x1f\x7f-\x9f]")
# Every character LaTeX or BibTeX reads as markup, as text LaTeX prints. Braces become commands,
# not `\{`: BibTeX counts every brace, escaped or not, to find where a value ends.
_LATEX_ESCAPES = str.maketrans({
    "\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
    "%": r"\%", "#": r"\#", "&": r"\&", "$": r"\$", "_": r"\_",
    "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
})
# A cell starting with one of these is a formula in Excel, LibreOffice and Google Sheets (OWASP).
_FORMULA_STARTS = frozenset("=+-@\t\r")
# A separator, the spaces after it, and the first character of the piece that follows.
_SEPARATED_FORMULA = re.compile(r"([;,]\s*)(\S)")


def flat_text(text: str) -> str:
    """Put `text` on one line: each run of whitespace one space, control characters dropped."""
    # str.split() breaks at every Unicode line break too: \v, \f, \x1c-\x1f, \x85, \u2028, \u2029.
    return " ".join(_CONTROL.sub("", text).split())


def latex_text(text: str) -> str:
    """Escape digest text for a BibTeX value that LaTeX prints as written and runs nothing of."""
    return flat_text(text).translate(_LATEX_ESCAPES)


def spreadsheet_text(text: str) -> str:
    """Prefix `'` to digest text that a spreadsheet would open as a formula (the OWASP rule)."""
    cell = flat_text(text)
    # NFKC folds full-width and small forms (＝＋－＠, ﹦﹢﹣﹫) to ASCII, as spreadsheets in CJK
    # locales may do with what they are given; a `'` too many costs nothing.
    if cell and unicodedata.normalize("NFKC", cell[0])[:1] in _FORMULA_STARTS:
        cell = "'" + cell
    # A spreadsheet that splits the file on `;` (Excel in many locales) or ignores the quotes makes
    # a cell of whatever follows a `;` or `,` inside the text: such a piece is neutralised too.
    return _SEPARATED_FORMULA.sub(_quote_piece, cell)


def _quote_piece(found: re.Match[str]) -> str:
    start = found.group(2)
    if unicodedata.normalize("NFKC", start)[:1] in _FORMULA_STARTS:
        return f"{found.group(1)}'{start}"
    return found.group(0)


def markdown_text(text: str) -> str:
    """Escape digest text as one line of Markdown with no markup, HTML or entity of its own."""
    return escape_markdown(html.escape(flat_text(text), quote=False))


def _family_start(words: list[str]) -> int:
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return start


def bibtex_name(name: str) -> str:
    """Write `Yann LeCun` as `LeCun, Yann`, `Ludwig van Beethoven` as `van Beethoven, Ludwig`."""
    words = [latex_text(word) for word in flat_text(name).split()]
    # BibTeX splits authors at the word `and` (in any case) and a name's parts at commas: such a
    # name, like a one-word or CJK one (`{张伟}`), is kept whole in braces, as a corporate name.
    if len(words) < 2 or "," in name or any(word.lower() == "and" for word in words):
        return f"{{{' '.join(words)}}}" if words else ""
    start = _family_start(words)
    return f"{' '.join(words[start:])}, {' '.join(words[:start])}"


def _year_month(paper: StoredPaper) -> tuple[str, str]:
    found = _NEW_ID.match(paper.arxiv_id)
    if found:
        return f"20{found.group(1)}", _MONTHS[int(found.group(2)) - 1]
    return str(paper.first_seen.year), _MONTHS[paper.first_seen.month - 1]


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", folded).lower()


def citation_key(paper: StoredPaper, taken: set[str]) -> str:
    """`lecun2026deep`: first author's family name, year, first title word; a letter added when taken."""
    first_author = flat_text(paper.authors[0]).split(",")[0].split() if paper.authors else []
    family = _ascii_word(first_author[-1]) if first_author else ""
    year, _ = _year_month(paper)
    first = next((w for w in (_ascii_word(w) for w in paper.title.split()) if len(w) > 3), "")
    base = f"{family or 'arxiv'}{year}{first}" or f"arxiv{paper.arxiv_id}"
    key, suffix = base, 0
    while key in taken:
        suffix += 1
        key = f"{base}{chr(ord('a') + suffix - 1) if suffix <= 26 else suffix}"
    taken.add(key)
    return key


def to_bibtex(papers: Sequence[StoredPaper]) -> str:
    """@misc entries as arXiv itself exports them: eprint, archivePrefix, primaryClass, url."""
    # Imported on the first export (about 4 MB), not by every bot at start.
    from bibtexparser.bibdatabase import BibDatabase
    from bibtexparser.bwriter import BibTexWriter

    database = BibDatabase()
    taken: set[str] = set()
    for paper in papers:
        year, month = _year_month(paper)
        entry = {
            "ENTRYTYPE": "misc",
            "ID": citation_key(paper, taken),
            "title": latex_text(paper.title),
            "author": " and ".join(n for n in (bibtex_name(a) for a in paper.authors) if n),
            "year": year,
            "month": month,
            "eprint": paper.arxiv_id,
            "archiveprefix": "arXiv",
            # Checked to be arXiv-shaped when read; escaped all the same, as digest data.
            "primaryclass": latex_text(paper.primary_category),
            "url": f"https://arxiv.org/abs/{paper.arxiv_id}",
        }
        database.entries.append({k: v for k, v in entry.items() if v})
    writer = BibTexWriter()
    writer.order_entries_by = None
    writer.display_order = ["title", "author", "year", "month", "eprint", "archiveprefix", "primaryclass", "url"]
    return writer.write(database)


def to_csv(papers: Sequence[tuple[StoredPaper, dt.datetime]]) -> str:
    """One row per paper: id, title, authors, date, link, TL;DR, saved."""
    out = io.StringIO()
    # Every cell quoted: a spreadsheet that splits on `;` (Excel in many locales) keeps each cell whole.
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["arxiv_id", "title", "authors", "date", "link", "tldr", "saved_at"])
    for paper, saved_at in papers:
        # Only the cells of digest text are neutralised: ids are validated, dates and links ours.
        authors = "; ".join(n for n in (flat_text(a) for a in paper.authors) if n)
        saved = saved_at.astimezone(dt.UTC).isoformat(timespec="seconds")
        writer.writerow([paper.arxiv_id, spreadsheet_text(paper.title), spreadsheet_text(authors),
                         paper.first_seen.isoformat(), f"https://arxiv.org/abs/{paper.arxiv_id}",
                         spreadsheet_text(paper.tldr), saved])
    return out.getvalue()


def to_markdown(papers: Sequence[tuple[StoredPaper, dt.datetime]]) -> str:
    """A list of linked titles with authors, date, TL;DR and code link."""
    lines = ["# Reading list", ""]
    for paper, _ in papers:
        # Every line starts with text of ours (`- [`, a label): digest text, even `# x` or `- x`,
        # never stands where Markdown would read a heading, a list item or a quote.
        lines.append(f"- [{markdown_text(paper.title)}](https://arxiv.org/abs/{paper.arxiv_id})"
                     f" · arXiv:{paper.arxiv_id} · {paper.first_seen}")
        names = [n for n in (markdown_text(a) for a in paper.authors[:8]) if n]
        if names:
            more = " et al." if len(paper.authors) > 8 else ""
            lines.append(f"  Authors: {', '.join(names)}{more}")
        tldr = markdown_text(paper.tldr)
        if tldr:
            lines.append(f"  TL;DR: {tldr}")
        code = safe_web_link(paper.code_url) if paper.code_url else None
        if code:
            # Shown with its host, as in posts, so the link goes where it says.
            lines.append(f"  Code: [{markdown_text(link_label(code))}]({code})")
    return "\n".join(lines) + "\n"


def export_list(papers: Sequence[tuple[StoredPaper, dt.datetime]], format: str) -> tuple[str, bytes]:
    """(file name, bytes) of the list in `format` (bibtex, csv or markdown)."""
    if format == "bibtex":
        text = to_bibtex([p for p, _ in papers])
    elif format == "csv":
        text = to_csv(papers)
    elif format == "markdown":
        text = to_markdown(papers)
    else:
        raise ValueError(f"unknown export format {format!r}; use one of {', '.join(FORMATS)}")
    return f"reading-list.{FORMATS[format]}", text.encode("utf-8")
