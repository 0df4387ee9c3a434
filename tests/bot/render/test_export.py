"""Reading-list exports: BibTeX names and escaping, parsed back with bibtexparser."""

from __future__ import annotations

import dataclasses
import datetime as dt

import bibtexparser

from bot.render.export import bibtex_name, to_bibtex, to_csv
from storage.records import StoredPaper

BASE = StoredPaper(
    arxiv_id="2601.20911", title="Cats & Dogs: 100% of $x_1$ in #1", authors=["Yann LeCun", "Ludwig van Beethoven", "张伟"],
    primary_category="cs.CV", categories=["cs.CV"], tldr="short", motivation="", method="", result="", conclusion="",
    abstract="", comment="", code_url="", keywords="", translated_title="", abs_url="", pdf_url="", language="en",
    first_seen=dt.date(2026, 1, 29), last_seen=dt.date(2026, 1, 29),
)


def test_names_are_written_last_name_first() -> None:
    assert bibtex_name("Yann LeCun") == "LeCun, Yann"
    assert bibtex_name("Ludwig van Beethoven") == "van Beethoven, Ludwig"
    assert bibtex_name("张伟") == "{张伟}"


def test_entries_parse_back_with_escaped_text_and_unique_keys() -> None:
    twin = dataclasses.replace(BASE, arxiv_id="2601.20912")
    parsed = bibtexparser.loads(to_bibtex([BASE, twin]))
    first, second = parsed.entries
    assert first["title"] == r"Cats \& Dogs: 100\% of $x_1$ in \#1"  # math kept, specials escaped
    assert first["author"] == "LeCun, Yann and van Beethoven, Ludwig and {张伟}"
    assert (first["year"], first["month"], first["eprint"]) == ("2026", "jan", "2601.20911")
    assert first["ID"] == "lecun2026cats" and second["ID"] == "lecun2026catsa"


def test_csv_has_a_header_and_one_row_per_paper() -> None:
    text = to_csv([(BASE, dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC))])
    header, row = text.strip().splitlines()
    assert header == "arxiv_id,title,authors,date,link,tldr,saved_at"
    assert row.startswith("2601.20911,") and "https://arxiv.org/abs/2601.20911" in row
