"""What a careless or hostile member can send, through the real bot: every answer a short sentence, in time."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.ingest.service import ingest_bytes
from commands.paper_actions import PRESSES
from storage.papers import PaperStore
from storage.sqlite.database import Database
from tests.botworld import World, build_world, query
from tests.fakediscord import MANAGE_GUILD, FakeDiscord
from tests.fakediscord.model import Overwrite

pytestmark = pytest.mark.asyncio(loop_scope="module")

ODD_TITLES = [
    {"id": "2601.90001", "title": "$$", "categories": ["cs.CV"], "authors": ["A"], "summary": "odd title one", "AI": {"tldr": "zzyzx"}},
    {"id": "2601.90002", "title": "$\\alpha$", "categories": ["cs.CV"], "authors": ["B"], "summary": "odd title two", "AI": {"tldr": "zzyzx"}},
]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def limits_world(sample_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    folder = tmp_path_factory.mktemp("limits")
    db_path = folder / "bot.sqlite3"
    shutil.copyfile(sample_db_file, db_path)
    db = await Database.open(db_path)
    odd = "\n".join(json.dumps(r) for r in ODD_TITLES).encode()
    await ingest_bytes(PaperStore(db), "2026-02-07_AI_enhanced_English.jsonl", odd)
    await db.close()
    fake = FakeDiscord()
    await fake.start()
    world = build_world(fake, db_path, folder / "bot.log", {"DIGESTBOT_COOLDOWN_SCALE": "1", "DIGESTBOT_DB_WRITE_WAIT_SECONDS": "3"})
    await world.bot.start()
    yield world
    await world.bot.stop()
    await fake.stop()


async def test_an_expensive_command_has_a_per_member_cooldown_that_says_the_wait(limits_world: World) -> None:
    world = limits_world
    user = world.fake.add_user("eager")
    answers = [await world.run(user, "search", {"query": "diffusion"}) for _ in range(7)]
    assert all(not a.ephemeral for a in answers[:6])
    assert answers[6].ephemeral and answers[6].content.startswith("You are going a little fast: try that again in ")
    # Another member is not slowed by the first one's limit.
    other = await world.run(world.fake.add_user("calm"), "search", {"query": "diffusion"})
    assert not other.ephemeral


@pytest.mark.parametrize(
    ("command", "subcommand", "options", "says"),
    [
        ("subscribe", "keyword", {"value": "x" * 6000}, "The keyword can be at most 100 characters long (6,000 given)."),
        ("stats", None, {"days": 100000}, "The number of days must be between 1 and 365 (100,000 given)."),
        ("search", None, {"query": "q" * 301}, "The search can be at most 300 characters long"),
        ("paper", None, {"id": "2601." + "1" * 400}, "The paper id can be at most 200 characters long"),
        ("notify", "time", {"time": "09:00", "timezone": "Europe"}, "`Europe` is not a time zone; use an IANA name"),
        ("notify", "time", {"time": "09:00", "timezone": "A" * 60}, "is not a time zone"),
        ("search", None, {"query": " ".join(["a*"] * 100)}, "at least 3 letters before the *"),
    ],
)
async def test_options_past_their_limits_get_a_sentence(limits_world: World, command: str, subcommand: str | None,
                                                        options: dict[str, object], says: str) -> None:
    world = limits_world
    before = set(world.bot.log().splitlines())
    reply = await world.run(world.fake.add_user("tester"), command, options, subcommand=subcommand)
    assert reply.ephemeral and says in reply.content, reply.content
    new = [line for line in world.bot.log().splitlines() if line not in before]
    assert not any(" ERROR " in line or "Traceback" in line for line in new), new
    rows = sqlite3.connect(world.bot.db_path).execute("SELECT count(*) FROM subscriptions WHERE length(value) > 100").fetchone()
    assert rows[0] == 0


async def test_select_menus_and_autocomplete_stay_within_discords_limits(limits_world: World) -> None:
    world = limits_world
    reply = await world.run(world.member, "search", {"query": "zzyzx"})
    options = reply.message.components[0]["components"][0]["options"]  # type: ignore[union-attr]
    labels = {o["value"]: o["label"] for o in options}
    assert labels["2601.90001"] == "arXiv:2601.90001"  # `$$` reads as nothing; the id stands in
    assert labels["2601.90002"] == "α"
    # A member typing a long list into the feed categories still gets choices Discord accepts.
    long_list = ", ".join(["cs.CV", "cs.LG", "cs.CL", "cs.AI", "cs.MA", "eess.IV", "eess.SP", "cs.IT", "cs.RO", "cs.IR",
                           "cs.MM", "cs.DC", "cs.DB", "cs.SE", "cs.GR"]) + ", c"
    choices = await world.autocomplete(world.owner, "feed", {"channel": world.channel, "categories": long_list},
                                       "categories", subcommand="add")
    assert all(1 <= len(c["name"]) <= 100 and len(str(c["value"])) <= 100 for c in choices)


async def test_manage_server_granted_in_one_channel_does_not_make_an_admin(limits_world: World) -> None:
    world = limits_world
    sneaky = world.fake.add_user("sneaky")
    world.fake.add_member(world.guild, sneaky)
    await world.fake.gateway.dispatch("GUILD_MEMBER_ADD", {**world.guild.member_payload(sneaky), "guild_id": str(world.guild.id)})
    lounge = world.fake.add_channel(world.guild, "lounge")
    lounge.overwrites.append(Overwrite(sneaky.id, 1, allow=MANAGE_GUILD))
    await world.fake.gateway.dispatch("CHANNEL_CREATE", lounge.payload())
    reply = await world.run(sneaky, "feed", {"channel": lounge}, subcommand="add", channel=lounge)
    assert reply.ephemeral and reply.content == "You need the Manage Server permission to do that."
    assert sqlite3.connect(world.bot.db_path).execute("SELECT count(*) FROM channel_feeds").fetchone()[0] == 0


async def test_a_write_behind_another_process_lock_is_deferred_in_time_and_answered_busy(limits_world: World) -> None:
    world = limits_world
    blocker = sqlite3.connect(world.bot.db_path, timeout=5, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        record = await world.send(world.member, "notify", {"time": "07:30"}, subcommand="time")
        await asyncio.wait_for(record.changed.wait(), 10)
        first_answer = record.callback_type
        reply = await world.fake.reply(record, timeout=15)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # The write waited for the lock, so the bot first deferred (Discord keeps a deferred interaction
    # for 15 minutes, an unanswered one for 3 seconds), then said why nothing changed.
    assert first_answer == 5
    assert reply.content.startswith("The database is busy right now"), reply.content
    again = await world.run(world.member, "notify", {"time": "07:30"}, subcommand="time")
    assert again.content.startswith("Your DMs now arrive at 07:30")


async def test_about_lists_every_registered_command(limits_world: World) -> None:
    world = limits_world
    reply = await world.run(world.member, "about")
    registered = {c["name"] for scope in world.fake.commands.values() for c in scope}
    assert len(registered) >= 12
    for name in registered:
        assert f"`/{name}" in reply.embeds[0]["description"], name
    assert "`/feed add|list|remove|pause|resume|preview|send-now`" in reply.embeds[0]["description"]


async def test_save_and_vote_presses_have_a_per_member_limit(limits_world: World) -> None:
    world = limits_world
    presser, calm = world.fake.add_user("presser"), world.fake.add_user("calm presser")
    shown = await world.run(presser, "digest", {"date": "2025-12-31"})
    menu = next(c for row in shown.message.components for c in row["components"]  # type: ignore[union-attr]
                if c.get("custom_id") == "papers:up")
    choices = [o["value"] for o in menu["options"]]
    answers = [await world.click(presser, shown, "papers:up", [choices[n % len(choices)]]) for n in range(PRESSES)]
    assert all(a.content.startswith(("👍 noted", "Took back")) for a in answers)

    def votes() -> list[tuple[object, ...]]:
        return query(world.bot.db_path, "SELECT arxiv_id, vote FROM feedback WHERE user_id = ? ORDER BY 1", (presser.id,))

    before = votes()
    refused = await world.click(presser, shown, "papers:up", [choices[PRESSES % len(choices)]])
    assert refused.ephemeral and refused.content.startswith("You are going a little fast: try that again in ")
    assert votes() == before  # the refused press changed nothing
    # Another member's press on the same message is not limited by the first one's.
    other = await world.click(calm, shown, "papers:up", [choices[0]])
    assert other.content.startswith("👍 noted")


async def test_feed_commands_have_a_per_member_cooldown(limits_world: World) -> None:
    world = limits_world
    channel = world.fake.add_channel(world.guild, "cooled")
    answers = [await world.run(world.owner, "feed", {"channel": channel}, subcommand="resume") for _ in range(5)]
    assert not any(a.content.startswith("You are going a little fast") for a in answers[:4])
    assert answers[4].content.startswith("You are going a little fast")
