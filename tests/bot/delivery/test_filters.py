"""Keyword filters on real digests: a feed's include / exclude, a member's /subscribe exclude."""

from __future__ import annotations

import re

from tests.bot.delivery.conftest import JSONL_DAY, DailyWorld
from tests.bot.delivery.test_dms import dm_states, not_shown, shown_ids, subscribe
from tests.botworld import eventually


def texts_of_day(daily: DailyWorld, date: str) -> dict[str, str]:
    """Each paper of the day -> the text keyword filters read (title, summaries, abstract), lower case."""
    rows = daily.rows(
        "SELECT p.arxiv_id, p.title, p.tldr, p.motivation, p.method, p.result, p.conclusion, p.abstract "
        "FROM digest_papers dp JOIN digests d ON d.id = dp.digest_id JOIN papers p ON p.id = dp.paper_id WHERE d.date = ?",
        (date,),
    )
    return {str(r[0]): "\n".join(str(x or "") for x in r[1:]).lower() for r in rows}


def has(text: str, *patterns: str) -> bool:
    return any(re.search(pattern, text) for pattern in patterns)


async def test_feed_include_and_exclude_post_exactly_what_they_keep(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    no_surveys = fake.add_channel(world.guild, "no-surveys")
    diffusion = fake.add_channel(world.guild, "diffusion")
    await world.bot.start()
    reply = await world.run(world.owner, "feed", {"channel": no_surveys, "exclude": "survey, benchmark", "time": "06:00"},
                            subcommand="add")
    assert "Never papers matching any of: survey, benchmark" in reply.content
    reply = await world.run(world.owner, "feed", {"channel": diffusion, "categories": "cs.CV",
                                                  "include": 'diffusion, "world model"', "exclude": "video"}, subcommand="add")
    assert 'Only papers matching one of: diffusion, "world model"' in reply.content
    listing = await world.run(world.owner, "feed", subcommand="list")
    assert "exclude: survey, benchmark" in listing.content or "exclude: survey, benchmark" in str(listing.embeds)

    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    texts = texts_of_day(daily, "2026-03-02")
    daily.clock.set("2026-03-02T09:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(no_surveys.id) == "done"
                     and daily.delivery_states().get(diffusion.id) == "done")

    posted = daily.linked_ids(daily.thread_messages(no_surveys))
    expected = {i for i, t in texts.items() if not has(t, r"\bsurvey\b", r"\bbenchmark\b")}
    assert len(posted) == len(set(posted))
    assert set(posted) == expected  # every paper without the words, and none with them
    assert 0 < len(expected) < len(texts)
    header = daily.headers(no_surveys)[0].embeds[0]["description"]
    assert header.startswith(f"**{len(expected)} papers** kept by this channel's filters, of {len(texts)} in the digest")

    vision = daily.papers_of_day("2026-03-02", "cs.CV")
    posted = daily.linked_ids(daily.thread_messages(diffusion))
    expected = {i for i in vision if has(texts[i], r"\bdiffusion\b", r"\bworld\s+model\b") and not has(texts[i], r"\bvideo\b")}
    assert set(posted) == expected and expected
    assert all(not has(texts[i], r"\bvideo\b") for i in posted)

    # /feed preview shows the same filtered post.
    preview = await world.run(world.owner, "feed", {"channel": diffusion}, subcommand="preview")
    assert preview.embeds[0]["description"].startswith(f"**{len(expected)} papers** kept by this channel's filters")


async def test_bad_filters_are_refused_with_the_option_named(daily: DailyWorld) -> None:
    world = daily.world
    channel = daily.fake.add_channel(world.guild, "papers")
    await world.bot.start()
    reply = await world.run(world.owner, "feed", {"channel": channel, "exclude": "survey, ***"}, subcommand="add")
    assert reply.ephemeral and "`***` in `exclude` has nothing to match" in reply.content
    assert daily.rows("SELECT count(*) FROM channel_feeds") == [(0,)]


async def test_an_excluded_paper_never_reaches_the_member(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    bob = world.member
    await world.bot.start()
    await subscribe(daily, bob, category="cs.CV", keyword="segmentation")
    reply = await world.run(bob, "subscribe", {"value": "segmentation"}, subcommand="exclude")
    assert reply.content.startswith("Excluded segmentation")
    listing = await world.run(bob, "subscriptions")
    assert "exclude: segmentation" in listing.embeds[0]["description"]

    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    texts = texts_of_day(daily, "2026-03-02")
    daily.clock.set("2026-03-02T09:00:00+00:00")
    await eventually(lambda: dm_states(daily).get(bob.id) == "done")
    message = fake.dms_to(bob)[0]
    shown = shown_ids(message)
    vision = daily.papers_of_day("2026-03-02", "cs.CV")
    expected = {i for i in vision if not has(texts[i], r"\bsegmentation\b")}
    assert set(shown) <= expected
    assert len(shown) + not_shown(message) == len(expected)
    assert any(has(texts[i], r"\bsegmentation\b") for i in vision)  # the exclusion had something to remove
    assert not any(e.get("title", "").startswith("keyword: segmentation") for e in message.embeds)

    mine = await world.run(bob, "digest", {"date": "2026-03-02", "mine": True})
    assert "segmentation" not in mine.embeds[0]["description"].lower()
