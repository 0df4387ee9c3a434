"""Feedback, /foryou, /similar and /forget me through the real bot and the fake Discord."""

from __future__ import annotations

import json
import re

import pytest

from tests.botworld import World, query
from tests.commands.conftest import both_engines

pytestmark = [pytest.mark.asyncio(loop_scope="module"), both_engines]
LINK = re.compile(r"\]\(https://arxiv\.org/abs/([^)]+)\)")


def categories_of(world: World) -> dict[str, list[str]]:
    return {str(r[0]): json.loads(str(r[1])) for r in query(world.db, "SELECT arxiv_id, categories FROM papers")}


def listed(reply_embeds: list[dict[str, object]]) -> list[str]:
    return LINK.findall(str(reply_embeds[0]["description"]))


async def test_foryou_learns_from_likes_and_explains_itself(world: World) -> None:
    user = world.fake.add_user("linguist")
    nothing = await world.run(user, "foryou")
    assert nothing.ephemeral and "I know nothing of your taste yet" in nothing.content

    language = [str(r[0]) for r in query(world.db,
        "SELECT arxiv_id FROM papers WHERE primary_category = 'cs.CL' AND lower(title) LIKE '%language model%' ORDER BY id LIMIT 6")]
    vision = [str(r[0]) for r in query(world.db,
        "SELECT arxiv_id FROM papers WHERE primary_category = 'cs.CV' ORDER BY id LIMIT 3")]
    assert len(language) == 6
    for arxiv_id in language:
        shown = await world.run(user, "paper", {"id": arxiv_id})
        liked = await world.click(user, shown, f"paper:up:{arxiv_id}")
        assert liked.ephemeral and liked.content.startswith("👍 noted")
    for arxiv_id in vision:
        shown = await world.run(user, "paper", {"id": arxiv_id})
        await world.click(user, shown, f"paper:down:{arxiv_id}")
    votes = dict(query(world.db, "SELECT arxiv_id, vote FROM feedback WHERE user_id = ?", (user.id,)))
    assert votes == {**dict.fromkeys(language, 1), **dict.fromkeys(vision, -1)}

    ranked = await world.run(user, "foryou", {"days": 60})
    assert ranked.ephemeral
    description = ranked.embeds[0]["description"]
    assert "learnt from your 6 liked or saved papers" in description
    top = listed(ranked.embeds)
    assert len(top) == 5 and not set(top) & (set(language) | set(vision))  # what you rated is not offered again
    following = await world.click(user, ranked, ranked.button("Next"))
    top += listed(following.embeds)
    texts = {str(r[0]): str(r[1]).lower() for r in query(world.db, "SELECT arxiv_id, title || ' ' || abstract FROM papers")}

    def about_language_models(arxiv_id: str) -> bool:
        return re.search(r"language models?\b|\bllms?\b", texts[arxiv_id]) is not None

    base_rate = sum(map(about_language_models, texts)) / len(texts)
    share = sum(map(about_language_models, top)) / len(top)
    assert share >= 0.7 and share >= 2 * base_rate, (share, base_rate, top)  # the liked topic, not the average paper
    # Each paper says why: the strongest shared terms, or the liked paper it resembles.
    whys = re.findall(r"\n\*([^*]+)\*", description)
    assert len(whys) == 5 and all(w.strip() for w in whys)

    # Taking a 👍 back is a press of the same button.
    shown = await world.run(user, "paper", {"id": language[0]})
    back = await world.click(user, shown, f"paper:up:{language[0]}")
    assert back.content.startswith("Took back your 👍")


async def test_foryou_works_from_subscriptions_alone(world: World) -> None:
    user = world.fake.add_user("roboticist")
    await world.run(user, "subscribe", {"value": "cs.RO"}, subcommand="category")
    ranked = await world.run(user, "foryou", {"days": 60})
    assert "learnt mostly from your subscriptions" in ranked.embeds[0]["description"]
    cats = categories_of(world)
    top = listed(ranked.embeds)
    assert sum("cs.RO" in cats[i] for i in top) >= 4


async def test_similar_pages_papers_like_one(world: World) -> None:
    paper = "2601.20911"
    reply = await world.run(world.member, "similar", {"id": paper})
    assert not reply.ephemeral
    links = listed(reply.embeds)
    assert links[0] == paper  # the intro links the paper compared with
    top = links[1:]
    assert len(top) == 5 and paper not in top
    assert "Non-Markov Multi-Round Conversational Image Generation" in reply.embeds[0]["description"]
    cats = categories_of(world)
    assert sum(bool(set(cats[i]) & set(cats[paper])) for i in top) >= 3
    following = await world.click(world.member, reply, reply.button("Next"))
    assert len(listed(following.embeds)[1:]) == 5 and not set(listed(following.embeds)[1:]) & set(top)
    unknown = await world.run(world.member, "similar", {"id": "2601.99999"})
    assert unknown.ephemeral and "not in any stored digest" in unknown.content


async def test_forget_me_deletes_everything_about_the_member_only(world: World) -> None:
    user, bystander = world.fake.add_user("leaver"), world.fake.add_user("stayer")
    for member in (user, bystander):
        await world.run(member, "subscribe", {"value": "diffusion"}, subcommand="keyword")
        await world.run(member, "save", {"id": "2512.22208"})
        shown = await world.run(member, "paper", {"id": "2601.20911"})
        await world.click(member, shown, "paper:up:2601.20911")
    await world.run(user, "foryou")  # trains and stores a model

    def stored(user_id: int) -> dict[str, int]:
        tables = ("subscriptions", "user_settings", "saved_papers", "feedback", "member_models")
        return {t: int(query(world.db, f"SELECT count(*) FROM {t} WHERE user_id = ?", (user_id,))[0][0]) for t in tables}

    assert all(stored(user.id).values())
    asked = await world.run(user, "forget", subcommand="me")
    assert asked.ephemeral and "cannot be undone" in asked.content
    keep = await world.click(user, asked, asked.button("Keep my data"))
    assert keep.content == "Nothing was deleted." and all(stored(user.id).values())

    asked = await world.run(user, "forget", subcommand="me")
    done = await world.click(user, asked, asked.button("Delete everything"))
    assert done.content.startswith("Done. Deleted: 1 subscriptions, 1 settings, 1 saved papers, 1 feedback, 1 model")
    assert not any(stored(user.id).values())
    assert all(stored(bystander.id)[t] for t in ("subscriptions", "user_settings", "saved_papers", "feedback"))
    listing = await world.run(user, "saved")
    assert "Your reading list is empty" in listing.embeds[0]["description"]
