"""A reading list as a file: BibTeX (for Zotero, JabRef, Overleaf), CSV, or markdown."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Sequence

from storage.records import StoredPaper

FORMATS = {"bibtex": "bib", "csv": "csv", "markdown": "md"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NEW_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
# Lower-case words that belong to a family name: Ludwig van Beethoven -> van Beethoven, Ludwig.
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "dos", "das", "ter", "ten", "bin", "al"}


def bibtex_name(name: str) -> str:
    """`Yann LeCun` -> `LeCun, Yann`; `Ludwig van Beethoven` -> `van Beethoven, Ludwig`; a one-word or CJK name stays whole."""
    words = name.split()
    if len(words) < 2:
        return f"{{{name.strip()}}}" if name.strip() else ""
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return f"{' '.join(words[start:])}, {' '.join(words[:start])}"


def _latex_safe(text: str) -> str:
    """Text for a BibTeX value: braces balanced, LaTeX's special characters escaped outside $math$."""
    text = " ".join(text.split())
    if text.count("{") != text.count("}"):
        text = text.replace("{", "").replace("}", "")
    pieces = re.split(r"(\$[^$]*\$)", text)
    for i, piece in enumerate(pieces):
        if not piece.startswith("$"):
            pieces[i] = re.sub(r"(?<!\\)([&%#_])", r"\\\1", piece)
    return "".join(pieces)


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
    family = _ascii_word(bibtex_name(paper.authors[0]).split(",")[0].split()[-1]) if paper.authors else ""
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
            "title": _latex_safe(paper.title),
            "author": " and ".join(n for n in (bibtex_name(_latex_safe(a)) for a in paper.authors) if n),
            "year": year,
            "month": month,
            "eprint": paper.arxiv_id,
            "archiveprefix": "arXiv",
            "primaryclass": paper.primary_category,
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
    writer = csv.writer(out)
    writer.writerow(["arxiv_id", "title", "authors", "date", "link", "tldr", "saved_at"])
    for paper, saved_at in papers:
        writer.writerow([paper.arxiv_id, " ".join(paper.title.split()), "; ".join(paper.authors), paper.first_seen.isoformat(),
                         f"https://arxiv.org/abs/{paper.arxiv_id}", " ".join(paper.tldr.split()),
                         saved_at.astimezone(dt.UTC).isoformat(timespec="seconds")])
    return out.getvalue()


def to_markdown(papers: Sequence[tuple[StoredPaper, dt.datetime]]) -> str:
    """A list of linked titles with authors, date and TL;DR."""
    lines = ["# Reading list", ""]
    for paper, _ in papers:
        title = " ".join(paper.title.split()).replace("[", "\\[").replace("]", "\\]")
        authors = ", ".join(paper.authors[:8]) + (" et al." if len(paper.authors) > 8 else "")
        lines.append(f"- [{title}](https://arxiv.org/abs/{paper.arxiv_id}) · arXiv:{paper.arxiv_id} · {paper.first_seen}")
        if authors:
            lines.append(f"  {authors}")
        if paper.tldr:
            lines.append(f"  TL;DR: {' '.join(paper.tldr.split())}")
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
