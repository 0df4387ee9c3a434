"""The reading list through the real bot and the fake Discord: Save buttons and menus, /save, /saved, exports."""

from __future__ import annotations

import csv
import io

import bibtexparser
import pytest

from tests.botworld import World, query
from tests.commands.conftest import both_engines
from tests.readback import latex_decoded

pytestmark = [pytest.mark.asyncio(loop_scope="module"), both_engines]


def saved_ids(world: World, user_id: int) -> list[str]:
    """The member's saved papers, oldest first; those saved in the same second by arXiv id."""
    rows = query(world.db, "SELECT arxiv_id FROM saved_papers WHERE user_id = ? ORDER BY saved_at, arxiv_id", (user_id,))
    return [str(r[0]) for r in rows]


async def test_save_button_under_a_paper_saves_for_whoever_presses(world: World) -> None:
    user, other = world.fake.add_user("saver"), world.fake.add_user("reader")
    shown = await world.run(user, "paper", {"id": "2601.20911"})
    assert shown.button("Save") == "paper:save:2601.20911"
    assert shown.button("Like") == "paper:up:2601.20911" and shown.button("Not for me") == "paper:down:2601.20911"
    saved = await world.click(user, shown, "paper:save:2601.20911")
    assert saved.ephemeral and saved.content.startswith("Saved “Non-Markov Multi-Round Conversational Image Generation")
    again = await world.click(user, shown, "paper:save:2601.20911")
    assert "already on your reading list" in again.content
    # The message is public: another member's press saves to their own list, not the first member's.
    await world.click(other, shown, "paper:save:2601.20911")
    assert saved_ids(world, user.id) == ["2601.20911"] and saved_ids(world, other.id) == ["2601.20911"]


async def test_save_from_a_search_answer_and_a_digest_page_menu(world: World) -> None:
    user = world.fake.add_user("browser")
    results = await world.run(user, "search", {"query": "diffusion"})
    first = results.message.components[0]["components"][0]["options"][0]["value"]  # type: ignore[union-attr]
    opened = await world.click(user, results, results.custom_ids()[0], [first])
    await world.click(user, opened, f"paper:save:{first}")
    page = await world.run(user, "digest", {"date": "2025-12-31"})
    menu = next(c for row in page.message.components for c in row["components"]  # type: ignore[union-attr]
                if c.get("custom_id") == "papers:save")
    choice = menu["options"][2]["value"]
    answer = await world.click(user, page, "papers:save", [choice])
    assert answer.ephemeral and answer.content.startswith("Saved")
    # Both saved, usually within one second (saved_at has seconds): which came first is not stored.
    assert sorted(saved_ids(world, user.id)) == sorted([first, choice])


async def test_save_saved_pages_remove_and_exports_round_trip(world: World) -> None:
    user = world.fake.add_user("scholar")
    ids = [str(r[0]) for r in query(world.db, "SELECT arxiv_id FROM papers ORDER BY id LIMIT 7")]
    for arxiv_id in ids:
        reply = await world.run(user, "save", {"id": f"arXiv:{arxiv_id}"})
        assert reply.ephemeral and reply.content.startswith("Saved"), reply.content
    bad = await world.run(user, "save", {"id": "not a paper"})
    assert bad.ephemeral and "is not an arXiv id" in bad.content

    listing = await world.run(user, "saved")
    assert listing.ephemeral
    text = listing.embeds[0]["description"]
    assert text.startswith("**7 papers**, newest first")
    assert listing.embeds[0]["footer"]["text"].startswith("Page 1 of 2")
    newest = ids[-1]
    assert text.index(newest) < text.index(ids[-2])  # newest first
    removed = await world.click(user, listing, listing.button("Remove 1"))
    assert "**6 papers**" in removed.embeds[0]["description"]
    assert newest not in saved_ids(world, user.id)
    kept = ids[:-1]

    bib = await world.run(user, "saved", {"export": "bibtex"})
    assert bib.ephemeral and bib.message is not None and bib.message.attachments[0]["filename"] == "reading-list.bib"
    parsed = bibtexparser.loads(bib.message.files[0].decode("utf-8"))
    papers = {str(r[0]): r for r in query(world.db, "SELECT arxiv_id, title, authors, primary_category FROM papers")}
    assert sorted(e["eprint"] for e in parsed.entries) == sorted(kept)
    assert len({e["ID"] for e in parsed.entries}) == len(kept)  # citation keys are unique
    for entry in parsed.entries:
        arxiv_id, title, authors, primary = papers[entry["eprint"]]
        assert entry["ENTRYTYPE"] == "misc" and entry["archiveprefix"] == "arXiv"
        assert entry["primaryclass"] == primary and entry["url"] == f"https://arxiv.org/abs/{arxiv_id}"
        assert entry["year"] == f"20{arxiv_id[:2]}"
        assert entry["month"] == ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")[int(arxiv_id[2:4]) - 1]
        assert latex_decoded(entry["title"]) == " ".join(str(title).split())
        first_author = __import__("json").loads(authors)[0].split()
        assert entry["author"].startswith(f"{first_author[-1]}, ")  # `Last, First and ...`
        assert entry["author"].count(" and ") == len(__import__("json").loads(authors)) - 1

    table = await world.run(user, "saved", {"export": "csv"})
    assert table.message is not None
    rows = list(csv.DictReader(io.StringIO(table.message.files[0].decode("utf-8"))))
    assert sorted(r["arxiv_id"] for r in rows) == sorted(kept)
    assert all(r["link"] == f"https://arxiv.org/abs/{r['arxiv_id']}" and r["title"] for r in rows)

    notes = await world.run(user, "saved", {"export": "markdown"})
    assert notes.message is not None
    markdown = notes.message.files[0].decode("utf-8")
    assert all(f"](https://arxiv.org/abs/{i})" in markdown for i in kept)

    # Another member sees only their own (empty) list, and gets a sentence for an empty export.
    stranger = world.fake.add_user("newcomer")
    empty = await world.run(stranger, "saved")
    assert "Your reading list is empty" in empty.embeds[0]["description"]
    nothing = await world.run(stranger, "saved", {"export": "csv"})
    assert nothing.ephemeral and "nothing to export" in nothing.content


async def test_the_reading_list_works_in_direct_messages(world: World) -> None:
    user = world.fake.add_user("dm-reader")
    saved = await world.run(user, "save", {"id": "2512.22208"}, in_dm=True)
    assert saved.content.startswith("Saved")
    listing = await world.run(user, "saved", in_dm=True)
    assert "2512.22208" in listing.embeds[0]["description"]
