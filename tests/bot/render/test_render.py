"""Rendering: the longest real texts and a 450-paper day never break a Discord limit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import discord
import pytest

from bot.render.papers import linked_title, paper_embed, paper_line
from bot.render.post import render_digest_parts
from bot.render.text import display_title, escape_markdown, one_line, readable_latex, shorten
from commands.digest import PAGE_SIZE, digest_embed
from commands.search import PaperSelect, results_embed
from storage.papers import PaperStore
from storage.records import SearchPage, StoredPaper
from storage.search import SearchFilters
from storage.sqlite.database import Database
from tests.fakediscord.rest import limit_problems


def problems(*embeds: discord.Embed, content: str = "") -> list[str]:
    return limit_problems({"content": content, "embeds": [e.to_dict() for e in embeds]})


async def all_papers(db: Database) -> list[StoredPaper]:
    rows = await db.fetchall("SELECT * FROM papers")
    return [StoredPaper.from_row(r) for r in rows]


async def test_every_sample_paper_embed_fits(sample_db: Database) -> None:
    papers = await all_papers(sample_db)
    longest = max(papers, key=lambda p: len(p.title) + len(p.tldr) + len(p.abstract) + len(p.method))
    for paper in papers:
        assert problems(paper_embed(paper)) == [], paper.arxiv_id
    embed = paper_embed(longest)
    assert len(embed) <= 6000


async def test_an_absurdly_long_paper_still_fits(sample_db: Database) -> None:
    paper = (await all_papers(sample_db))[0]
    huge = dataclasses.replace(
        paper, title="T*" * 400, tldr="x_" * 3000, motivation="m" * 5000, method="[a](b) " * 900,
        result="r" * 5000, conclusion="c" * 5000, abstract="a" * 20000,
        authors=[f"Author Number {i}" for i in range(500)], comment="c" * 3000,
    )
    embed = paper_embed(huge)
    assert problems(embed) == []
    assert "and 4" in (embed.description or "")  # "… and 4xx more" authors


async def test_a_450_paper_day_pages_within_limits(sample_db: Database) -> None:
    entries = await PaperStore(sample_db).digest_entries(dt.date(2026, 1, 29))
    assert len(entries) == 456
    pages = -(-len(entries) // PAGE_SIZE)
    seen = 0
    for page in range(pages):
        embed = digest_embed(dt.date(2026, 1, 29), None, entries, page)
        assert problems(embed) == [], page
        seen += (embed.description or "").count("](https://arxiv.org/abs/")
    assert seen == 456  # every paper appears on some page, none lost to the limits


async def test_search_pages_and_menus_fit(sample_db: Database) -> None:
    papers = await all_papers(sample_db)
    papers.sort(key=lambda p: -len(p.title) - len(p.tldr))
    for start in range(0, 100, 5):
        page = SearchPage(papers[start:start + 5], 1000, start, 5)
        embed = results_embed("a" * 300, SearchFilters(category="cs.CV", author="b" * 100), page)
        assert problems(embed) == []
        for option in PaperSelect.options_for(page.papers):
            assert len(option.label) <= 100 and len(option.description or "") <= 100


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("$\\alpha$-NeRF: Fast $O(n^2)$ Fields", "α-NeRF: Fast O(n²) Fields"),
        ("Learning with $\\mathcal{L}_2$ Loss and $\\epsilon$-greedy", "Learning with L₂ Loss and ε-greedy"),
        ("100\\% Accurate", "100% Accurate"),
        ("Plain title", "Plain title"),
    ],
)
def test_latex_in_titles_stays_readable(title: str, expected: str) -> None:
    assert readable_latex(title) == expected


def test_markdown_in_titles_is_escaped_inside_links() -> None:
    paper = StoredPaper(
        "2601.00001", "**Bold** [u,v](x) _it_ <@123> `code`", [], "cs.CV", ["cs.CV"], "", "", "", "", "", "", "", "", "",
        "", "https://arxiv.org/abs/2601.00001", "https://arxiv.org/pdf/2601.00001", "en", dt.date(2026, 1, 1), dt.date(2026, 1, 1),
    )
    link = linked_title(paper)
    assert link == "[\\*\\*Bold\\*\\* \\[u,v\\]\\(x\\) \\_it\\_ \\<@123\\> \\`code\\`](https://arxiv.org/abs/2601.00001)"
    assert paper_line(paper, number=3).startswith("**3.** [")


def test_text_helpers() -> None:
    assert one_line("a\n  b\tc", 10) == "a b c"
    assert shorten("alpha beta gamma delta", 16) == "alpha beta…"
    assert len(shorten("x" * 50, 10)) == 10
    assert display_title("A  \n title") == "A title"
    assert escape_markdown("a*b_c") == "a\\*b\\_c"
    assert json.dumps(escape_markdown("~~|>")) == json.dumps("\\~\\~\\|\\>")


async def test_a_dm_for_fifty_busy_subscriptions_fits_one_message(sample_db: Database) -> None:
    from bot.ranking.matching import match_digest
    from bot.render.dm import render_matches
    from storage.subscriptions import Subscription, subscription_key

    entries = await PaperStore(sample_db).digest_entries(dt.date(2026, 1, 29))
    words = ["learning", "model", "data", "language", "image", "graph", "agent", "robust", "diffusion", "video"]
    # 49 keywords (ten single words, then word pairs such as "model OR graph") and one busy category.
    keywords = words + [f"{a} OR {b}" for a in words for b in words if a < b][:39]
    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    subs = [Subscription(i, 1, "keyword", k, subscription_key("keyword", k), created) for i, k in enumerate(keywords)]
    subs.append(Subscription(100, 1, "category", "cs.LG", "cs.lg", created))
    matches = match_digest(entries, subs)[1]
    assert len(matches.papers) > 200
    embeds = render_matches(dt.date(2026, 1, 29), matches)
    assert problems(*embeds) == []
    assert "more not shown here: /digest mine:True date:2026-01-29" in (embeds[-1].footer.text or "")
    shown = sum((e.description or "").count("](https://arxiv.org/abs/") for e in embeds)
    assert shown + int((embeds[-1].footer.text or "").split()[0]) == len(matches.papers)


async def test_a_450_paper_day_is_packed_into_as_few_messages_as_discord_allows(sample_db: Database) -> None:
    day = dt.date(2026, 1, 29)
    entries = await PaperStore(sample_db).digest_entries(day)
    parts = render_digest_parts(entries, day)
    for part in parts:
        assert problems(*part.embeds) == []
    characters = sum(len(embed) for part in parts for embed in part.embeds)
    # Requests: the header, the thread, then the parts; the floor is full 6,000-character messages.
    floor = -(-characters // 6000) + 2
    assert len(parts) + 2 <= 1.1 * floor, (len(parts) + 2, floor)
    linked = [link for part in parts for embed in part.embeds for link in re.findall(r"\]\(https://arxiv\.org/abs/([^)]+)\)", embed.description or "")]
    assert linked == [e.paper.arxiv_id for e in sorted(entries, key=lambda e: [s for s, _ in _sections(entries)].index(e.section))]
    assert [part.embeds[-1].footer.text for part in parts] == [f"2026-01-29 · part {n} of {len(parts)}" for n in range(1, len(parts) + 1)]
    titles = [embed.title for part in parts for embed in part.embeds]
    assert titles[0].startswith("cs.CV · Computer Vision and Pattern Recognition (") and "cs.CV (continued)" in titles


def _sections(entries: list) -> list[tuple[str, None]]:  # type: ignore[type-arg]
    return list(dict.fromkeys((e.section, None) for e in entries))
