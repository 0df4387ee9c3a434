"""Sharding: every shard in one process, each guild's commands answered on its own shard, DMs on shard 0."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app.shards import IDENTIFY_WINDOW, IdentifyPacer, shard_of
from bot.core.errors import ConfigError
from bot.core.settings import Settings
from tests.botworld import World, build_world, eventually, query
from tests.fakediscord import FakeDiscord
from tests.fakediscord.gateway import shard_of as fake_shard_of
from tests.fakediscord.model import Channel, Guild


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_shards_in_one_bucket_start_five_seconds_apart_and_other_buckets_at_once() -> None:
    clock = FakeClock()
    single = IdentifyPacer(1, clock)
    assert [single.reserve(shard) for shard in range(3)] == [0, IDENTIFY_WINDOW, 2 * IDENTIFY_WINDOW]
    clock.now += 12  # shard 0's session is lost 12 s later: its slot (at +15 s) is 3 s away
    assert single.reserve(0) == 3.0
    wide = IdentifyPacer(16, FakeClock())
    assert [wide.reserve(shard) for shard in range(16)] == [0] * 16
    assert wide.reserve(16) == IDENTIFY_WINDOW  # shard 16 shares bucket 0 with shard 0


def test_a_guild_is_on_the_shard_discord_says() -> None:
    assert shard_of(81384788765712384, 1) == 0
    # Discord's documented example: (guild_id >> 22) % num_shards
    assert shard_of(81384788765712384, 4) == (81384788765712384 >> 22) % 4 == fake_shard_of(81384788765712384, 4)


def test_digestbot_shards_takes_auto_or_a_count() -> None:
    assert Settings.load({"DIGESTBOT_SHARDS": "auto"}).shards is None
    assert Settings.load({"DIGESTBOT_SHARDS": "4"}).shards == 4
    with pytest.raises(ConfigError, match="DIGESTBOT_SHARDS must be `auto`"):
        Settings.load({"DIGESTBOT_SHARDS": "many"})


async def sharded_world(tmp_path: Path, sample_db_file: Path, shards: int,
                        env: dict[str, str]) -> tuple[World, list[tuple[Guild, Channel]]]:
    fake = FakeDiscord()
    fake.recommended_shards = 3
    await fake.start()
    db = tmp_path / "bot.sqlite3"
    shutil.copyfile(sample_db_file, db)
    world = build_world(fake, db, tmp_path / "bot.log", env)
    # One more server on every shard, each with its own member and channel.
    extra: list[tuple[Guild, Channel]] = []
    for shard in range(shards):
        guild = fake.add_guild(f"Lab {shard}", world.owner, on_shard=(shard, shards))
        fake.add_member(guild, world.member)
        extra.append((guild, fake.add_channel(guild, "papers")))
    return world, extra


async def test_auto_sharding_answers_every_server_on_its_shard_and_dms_on_shard_zero(tmp_path: Path, sample_db_file: Path) -> None:
    world, extra = await sharded_world(tmp_path, sample_db_file, 3, {"DIGESTBOT_SHARDS": "auto"})
    fake = world.fake
    fake.gateway.max_concurrency = 16  # a large bot's identify bucket: every shard starts at once
    await world.bot.start()
    try:
        gateway = fake.gateway
        assert gateway.shard_count == 3 and sorted(shard for _, shard in gateway.identify_log) == [0, 1, 2]
        for shard, (guild, channel) in enumerate(extra):
            assert guild.id in gateway.guilds_on(shard)
            record = await fake.slash(world.member, "about", channel=channel, guild=guild)
            reply = await fake.reply(record)
            assert "arXiv" in (reply.embeds[0]["title"] + reply.embeds[0]["description"])
        dm = await world.run(world.member, "paper", {"id": "2601.20911"}, in_dm=True)
        assert dm.embeds[0]["url"] == "https://arxiv.org/abs/2601.20911"
        # A feed in a server on the last shard: the admin's command needs that shard's guild cache.
        guild, channel = extra[-1]
        fake.add_member(guild, world.owner)
        record = await fake.slash(world.owner, "feed", {"channel": channel, "time": "06:00"}, channel=channel, guild=guild,
                                  subcommand="add")
        reply = await fake.reply(record)
        assert "06:00" in (reply.content or "") + str(reply.embeds), reply.content
        assert query(world.bot.db_path, "SELECT guild_id FROM channel_feeds WHERE channel_id = ?", (channel.id,)) == [(guild.id,)]
        assert "over 3 shard(s)" in world.bot.log()
    finally:
        await world.bot.stop()
        await fake.stop()


async def test_a_fixed_shard_count_is_used_and_identifies_are_paced(tmp_path: Path, sample_db_file: Path) -> None:
    world, extra = await sharded_world(tmp_path, sample_db_file, 2, {"DIGESTBOT_SHARDS": "2"})
    fake = world.fake  # max_concurrency 1, as for most bots: one session start per 5 s
    await world.bot.start(timeout=40)
    try:
        log = fake.gateway.identify_log
        assert fake.gateway.shard_count == 2 and [shard for _, shard in log] == [0, 1]
        assert log[1][0] - log[0][0] >= IDENTIFY_WINDOW - 0.2
        guild, channel = extra[1]
        reply = await fake.reply(await fake.slash(world.member, "about", channel=channel, guild=guild))
        assert reply.embeds
        await fake.gateway.drop(shard_id=1)  # shard 1 loses its connection and resumes; shard 0 is untouched
        await eventually(lambda: fake.gateway.resumes == 1, timeout=30)
        reply = await fake.reply(await fake.slash(world.member, "about", channel=channel, guild=guild))
        assert reply.embeds and fake.gateway.identifies == 2
    finally:
        await world.bot.stop()
        await fake.stop()
