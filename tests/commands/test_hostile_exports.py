"""/saved exports of a hostile digest's papers, through the real bot and the fake Discord.

Each file is read back by its format's own reader: bibtexparser, csv, a CommonMark renderer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import bibtexparser
import pytest
import pytest_asyncio

from bot.ingest.service import ingest_path
from storage.papers import PaperStore
from storage.sqlite.database import Database
from tests.botworld import World, build_world, query
from tests.conftest import FIXTURES
from tests.fakediscord import FakeDiscord, User
from tests.readback import (
    bibtex_authors,
    flat,
    latex_decoded,
    looks_like_formula,
    render_markdown,
    stray_backslashes,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOSTILE = FIXTURES / "hostile" / "2026-03-01_AI_enhanced_Chinese.jsonl"
BIBTEX_FIELDS = {"ENTRYTYPE", "ID", "title", "author", "year", "month", "eprint", "archiveprefix",
                 "primaryclass", "url"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(sample_db_file: Path,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """Run the bot over the sample digests and the hostile one (the shared world stays as it is)."""
    folder = tmp_path_factory.mktemp("hostile-world")
    db_path = folder / "bot.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    database = await Database.open(db_path)
    report = await ingest_path(PaperStore(database), HOSTILE, None)
    await database.close()
    assert report.error is None and report.entries == 12, report
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, db_path, folder / "bot.log")
    await world.bot.start()
    yield world
    await world.bot.stop()
    await fake.stop()


@dataclass(frozen=True)
class Stored:
    """A hostile paper as SQLite holds it: what the exports must give back."""

    title: str
    authors: list[str]
    tldr: str
    code_url: str
    date: str
    primary: str


def stored(world: World) -> dict[str, Stored]:
    """The hostile digest's papers as stored, by id."""
    rows = query(world.bot.db_path, "SELECT arxiv_id, title, authors, tldr, code_url, first_seen, "
                                    "primary_category FROM papers WHERE arxiv_id LIKE '2602.9%'")
    return {r[0]: Stored(r[1], json.loads(r[2]), r[3], r[4], r[5], r[6]) for r in rows}


async def reader_with_everything_saved(world: World, name: str) -> tuple[User, dict[str, Stored]]:
    papers = stored(world)
    user = world.fake.add_user(name)
    for arxiv_id in papers:
        reply = await world.run(user, "save", {"id": arxiv_id})
        assert reply.content.startswith("Saved"), reply.content
    return user, papers


async def exported(world: World, user: User, format: str) -> str:
    reply = await world.run(user, "saved", {"export": format})
    assert reply.ephemeral and reply.message is not None, reply.content
    return reply.message.files[0].decode("utf-8")


async def test_the_hostile_digest_is_stored_as_written(world: World) -> None:
    papers = stored(world)
    assert len(papers) == 12
    assert papers["2602.90001"].title == "x} , note = {y"
    assert papers["2602.90002"].title == "Closing} } @misc{evil, title={pwn}"
    assert papers["2602.90003"].title == r"\input{/etc/passwd} and \write18{rm -rf ~}"
    assert papers["2602.90004"].title == "%#&$_^~\\"
    assert "![x](http://evil/x.png)" in papers["2602.90004"].tldr
    assert "\n# Heading\n- item" in papers["2602.90004"].tldr
    assert papers["2602.90001"].authors == ["Alice and Bob", "Yann LeCun"]
    assert papers["2602.90002"].authors == ["=cmd", "Smith, John"]
    assert papers["2602.90006"].code_url == ""  # javascript: dropped on the way in
    assert papers["2602.90007"].code_url == "https://github.com/owner/repo"


async def test_bibtex_export_parses_back_into_exactly_the_saved_papers(world: World) -> None:
    user, papers = await reader_with_everything_saved(world, "bib-reader")
    raw = await exported(world, user, "bibtex")
    parsed = bibtexparser.loads(raw)
    assert not parsed.comments and not parsed.preambles
    assert parsed.strings == bibtexparser.loads("").strings  # the month names bibtexparser knows
    assert sorted(e["eprint"] for e in parsed.entries) == sorted(papers)  # 12 papers, 12 entries
    # LaTeX runs no command of the digest's: every backslash in the file starts an escape of ours.
    assert stray_backslashes(raw) == []
    for entry in parsed.entries:
        paper = papers[entry["eprint"]]
        assert set(entry) == BIBTEX_FIELDS
        assert latex_decoded(entry["title"]) == flat(paper.title)
        assert bibtex_authors(entry["author"]) == [flat(a) for a in paper.authors]
        assert entry["primaryclass"] == paper.primary == "cs.CL"
        assert entry["url"] == f"https://arxiv.org/abs/{entry['eprint']}"
        assert entry["archiveprefix"] == "arXiv"


async def test_csv_export_opens_with_no_formula_and_exact_ids_and_dates(world: World) -> None:
    user, papers = await reader_with_everything_saved(world, "csv-reader")
    header, *rows = list(csv.reader(io.StringIO(await exported(world, user, "csv"))))
    assert header == ["arxiv_id", "title", "authors", "date", "link", "tldr", "saved_at"]
    assert sorted(r[0] for r in rows) == sorted(papers)
    for arxiv_id, title, authors, date, link, tldr, saved_at in rows:
        paper = papers[arxiv_id]
        assert date == paper.date and link == f"https://arxiv.org/abs/{arxiv_id}"
        assert dt.datetime.fromisoformat(saved_at).tzinfo == dt.UTC
        for cell, text in ((title, flat(paper.title)), (tldr, flat(paper.tldr)),
                           (authors, "; ".join(flat(a) for a in paper.authors))):
            # No cell starts a formula, however the spreadsheet splits it (on `,` or `;`)...
            assert not any(looks_like_formula(piece.lstrip()) for piece in re.split(r"[;,]", cell)), cell
            # ... and taking away the quotes put in front of pieces gives back the paper's text.
            assert re.sub(r"(^|[;,]\s*)'", r"\1", cell) == re.sub(r"(^|[;,]\s*)'", r"\1", text), cell
    neutralised = {r[0]: r[1] for r in rows}
    assert neutralised["2602.90005"] == '\'=HYPERLINK("http://evil","x")'
    assert neutralised["2602.90010"] == "'＋full-width plus title"


async def test_markdown_export_previews_with_no_image_html_or_foreign_link(world: World) -> None:
    user, papers = await reader_with_everything_saved(world, "md-reader")
    rendered = render_markdown(await exported(world, user, "markdown"))
    kinds = {token.type for token in rendered.tokens}
    assert kinds.isdisjoint({"image", "html_inline", "html_block", "blockquote_open", "code_block",
                             "ordered_list_open", "fence", "hr", "em_open", "strong_open",
                             "code_inline"}), kinds
    assert rendered.headings == ["Reading list"]
    # One list item per paper: no line of digest text starts an item of its own.
    assert len(rendered.items) == len(papers)
    by_id = {links[0].removeprefix("https://arxiv.org/abs/"): (text, links)
             for text, links in rendered.items}
    assert sorted(by_id) == sorted(papers)
    for arxiv_id, (text, links) in by_id.items():
        paper = papers[arxiv_id]
        assert all(link.startswith("https://") for link in links), links
        assert links[1:] == ([paper.code_url] if paper.code_url else [])
        first_line, *rest = text.split("\n")
        assert first_line.startswith(flat(paper.title))
        assert "Authors: " + ", ".join(flat(a) for a in paper.authors) in rest
        assert "TL;DR: " + flat(paper.tldr) in rest
