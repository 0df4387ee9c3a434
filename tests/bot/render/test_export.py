"""Reading-list exports: names, each format's escaping, and each file read back by its reader."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import bibtexparser
import pytest

from bot.render.export import (
    bibtex_name,
    flat_text,
    latex_text,
    markdown_text,
    spreadsheet_text,
    to_bibtex,
    to_csv,
    to_markdown,
)
from storage.records import StoredPaper
from tests.readback import bibtex_authors, latex_decoded, render_markdown, stray_backslashes

BASE = StoredPaper(
    arxiv_id="2601.20911", title="Cats & Dogs: 100% of $x_1$ in #1", authors=["Yann LeCun", "Ludwig van Beethoven", "张伟"],
    primary_category="cs.CV", categories=["cs.CV"], tldr="short", motivation="", method="", result="", conclusion="",
    abstract="", comment="", code_url="", keywords="", translated_title="", abs_url="", pdf_url="", language="en",
    first_seen=dt.date(2026, 1, 29), last_seen=dt.date(2026, 1, 29),
)
SAVED = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)
HOSTILE_TITLES = [
    "x} , note = {y",
    "Closing} } @misc{evil, title={pwn}",
    r"\input{/etc/passwd} and \write18{rm -rf ~}",
    "%#&$_^~\\",
    r"\textbraceleft{} already escaped \{ \% ",
    r"\csname x\endcsname \def\y{z} \catcode`\{=1",
    "@comment{x} @preamble{\\input{y}} @string{s = t}",
    "{{{ unbalanced",
]


@pytest.mark.parametrize(("text", "flat"), [
    ("  a\n\tb  ", "a b"),
    ("a\x0bb\x0cc\x1cd\x1de\x1ef\x1fg\x85h\u2028i\u2029j\r\nk", "a b c d e f g h i j k"),
    ("NUL\x00 BEL\x07 ESC\x1b DEL\x7f C1\x9b", "NUL BEL ESC DEL C1"),
    ("张伟 Gödel", "张伟 Gödel"),
])
def test_flat_text_joins_every_kind_of_line_and_drops_controls(text: str, flat: str) -> None:
    assert flat_text(text) == flat


@pytest.mark.parametrize(("text", "escaped"), [
    ("plain Unicode: 张伟, Gödel, α", "plain Unicode: 张伟, Gödel, α"),
    ("\\", r"\textbackslash{}"),
    ("{x}", r"\textbraceleft{}x\textbraceright{}"),
    ("%#&$_", r"\%\#\&\$\_"),
    ("^~", r"\textasciicircum{}\textasciitilde{}"),
    (r"$\alpha$", r"\$\textbackslash{}alpha\$"),  # math is printed as written, never run
    (r"\input{/etc/passwd}", r"\textbackslash{}input\textbraceleft{}/etc/passwd\textbraceright{}"),
    ("a\n\n@misc{b,", r"a @misc\textbraceleft{}b,"),
])
def test_latex_text_escapes_every_special_character(text: str, escaped: str) -> None:
    assert latex_text(text) == escaped


@pytest.mark.parametrize(("name", "written"), [
    ("Yann LeCun", "LeCun, Yann"),
    ("Ludwig van Beethoven", "van Beethoven, Ludwig"),
    ("张伟", "{张伟}"),
    ("  Ann\n Marie   Lee ", "Lee, Ann Marie"),
    ("Alice and Bob", "{Alice and Bob}"),  # one author, not two
    ("Grace AND Hopper", "{Grace AND Hopper}"),
    ("Smith, John", "{Smith, John}"),
    ("Knuth, Donald E., Jr.", "{Knuth, Donald E., Jr.}"),
    ("Anderson Band", "Band, Anderson"),
    ("{Brace} Back\\slash", r"Back\textbackslash{}slash, \textbraceleft{}Brace\textbraceright{}"),
    ("Percent 100%", r"100\%, Percent"),
    ("   ", ""),
])
def test_bibtex_name_writes_one_person_per_name(name: str, written: str) -> None:
    assert bibtex_name(name) == written


@pytest.mark.parametrize(("text", "cell"), [
    ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
    ("\t=1+1", "'=1+1"),
    ("\r\n=1+1", "'=1+1"),
    ("  +cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1)", "'@SUM(1)"),
    ("＝SUM(1)", "'＝SUM(1)"),  # full-width forms fold to ASCII
    ("＋1", "'＋1"),
    ("－1", "'－1"),
    ("＠x", "'＠x"),
    ("﹦1", "'﹦1"),
    ("a = b - c", "a = b - c"),
    ("'quoted'", "'quoted'"),
    ("", ""),
])
def test_spreadsheet_text_neutralises_every_formula_start(text: str, cell: str) -> None:
    assert spreadsheet_text(text) == cell


@pytest.mark.parametrize(("text", "inline"), [
    ("<img src=http://evil/y.png>", "&lt;img src=http://evil/y.png&gt;"),
    ("a & b &amp; &#x6A;", "a &amp; b &amp;amp; &amp;#x6A;"),
    ("![x](http://evil/x.png)", r"!\[x\]\(http://evil/x.png\)"),
    ("[click](javascript:alert(1))", r"\[click\]\(javascript:alert\(1\)\)"),
    ("one\n# Heading\n- item", "one # Heading - item"),
    ("*em* _u_ `c` ~s~ | t \\", r"\*em\* \_u\_ \`c\` \~s\~ \| t \\"),
])
def test_markdown_text_shows_markup_and_html_as_written(text: str, inline: str) -> None:
    assert markdown_text(text) == inline


def test_entries_parse_back_with_escaped_text_and_unique_keys() -> None:
    twin = dataclasses.replace(BASE, arxiv_id="2601.20912")
    parsed = bibtexparser.loads(to_bibtex([BASE, twin]))
    first, second = parsed.entries
    assert first["title"] == r"Cats \& Dogs: 100\% of \$x\_1\$ in \#1"
    assert first["author"] == "LeCun, Yann and van Beethoven, Ludwig and {张伟}"
    assert (first["year"], first["month"], first["eprint"]) == ("2026", "jan", "2601.20911")
    assert first["ID"] == "lecun2026cats" and second["ID"] == "lecun2026catsa"


def test_hostile_titles_and_names_parse_back_as_exactly_the_saved_papers() -> None:
    authors = ["Alice and Bob", "Smith, John", "{Brace} Name", "x} and {y", "=cmd"]
    papers = [dataclasses.replace(BASE, arxiv_id=f"2601.{20900 + i}", title=title, authors=authors)
              for i, title in enumerate(HOSTILE_TITLES)]
    raw = to_bibtex(papers)
    parsed = bibtexparser.loads(raw)
    # Nothing but the entries: no @comment, @preamble or @string beyond the month names it knows.
    assert not parsed.comments and not parsed.preambles
    assert parsed.strings == bibtexparser.loads("").strings
    assert [e["eprint"] for e in parsed.entries] == [p.arxiv_id for p in papers]
    assert stray_backslashes(raw) == []
    for entry, paper in zip(parsed.entries, papers, strict=True):
        assert latex_decoded(entry["title"]) == " ".join(paper.title.split())
        assert bibtex_authors(entry["author"]) == authors


def test_csv_has_a_header_and_one_row_per_paper() -> None:
    text = to_csv([(BASE, SAVED)])
    header, row = text.strip().splitlines()
    assert header == '"arxiv_id","title","authors","date","link","tldr","saved_at"'
    assert row.startswith('"2601.20911",') and "https://arxiv.org/abs/2601.20911" in row


def test_csv_split_on_semicolons_still_starts_no_cell_with_a_formula() -> None:
    # Excel in many locales opens a .csv split on `;`: every cell is quoted, so a `;` inside digest
    # text never starts a new cell, and each quoted cell is still neutralised as a whole.
    paper = dataclasses.replace(BASE, title="x;=cmd|' /C calc'!A0;y", authors=["=cmd"])
    [_, row] = list(csv.reader(io.StringIO(to_csv([(paper, SAVED)])), delimiter=";"))
    assert not any(cell.lstrip().startswith(("=", "+", "-", "@")) for cell in row), row


def test_csv_cells_of_digest_text_are_neutralised_and_the_rest_exact() -> None:
    paper = dataclasses.replace(BASE, title="\t=1+1", authors=["@SUM(1)", "Ann Lee"],
                                tldr="-2+3\n=x")
    [_, row] = list(csv.reader(io.StringIO(to_csv([(paper, SAVED)]))))
    assert row == ["2601.20911", "'=1+1", "'@SUM(1); Ann Lee", "2026-01-29",
                   "https://arxiv.org/abs/2601.20911", "'-2+3 =x", "2026-02-01T12:00:00+00:00"]


def test_markdown_links_only_arxiv_and_checked_code_links() -> None:
    code = "https://github.com/owner/repo"
    safe = dataclasses.replace(BASE, arxiv_id="2601.00001", code_url=code)
    unsafe = dataclasses.replace(BASE, arxiv_id="2601.00002", code_url="javascript:alert(1)",
                                 title="[a](javascript:x) <b>b</b>", authors=["# Evil", "- x"],
                                 tldr="![i](http://evil/i.png)\n# H\n1. x")
    text = to_markdown([(safe, SAVED), (unsafe, SAVED)])
    assert "  Code: [github.com/owner/repo](https://github.com/owner/repo)" in text.splitlines()
    rendered = render_markdown(text)
    assert {t.type for t in rendered.tokens}.isdisjoint({"image", "html_inline", "html_block"})
    assert rendered.headings == ["Reading list"]
    assert [links for _, links in rendered.items] == [
        ["https://arxiv.org/abs/2601.00001", code], ["https://arxiv.org/abs/2601.00002"]]
    assert "[a](javascript:x) <b>b</b>" in rendered.items[1][0]
    assert "Authors: # Evil, - x" in rendered.items[1][0]
