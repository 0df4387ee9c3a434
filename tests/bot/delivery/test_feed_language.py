"""A feed's language: the text around the papers in Chinese, the papers as written."""

from __future__ import annotations

from tests.bot.delivery.conftest import JSONL_DAY, DailyWorld
from tests.botworld import eventually


async def test_a_chinese_feed_posts_its_header_and_parts_in_chinese(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    channel = fake.add_channel(world.guild, "论文")
    await world.bot.start()
    reply = await world.run(world.owner, "feed", {"channel": channel, "categories": "cs.CV", "time": "06:00",
                                                  "language": "简体中文"}, subcommand="add")
    assert "Posts are written in 简体中文" in reply.content
    listing = await world.run(world.owner, "feed", subcommand="list")
    assert "简体中文" in str(listing.embeds) + listing.content
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    daily.clock.set("2026-03-02T06:00:00+00:00")
    await eventually(lambda: daily.delivery_states().get(channel.id) == "done")
    header = fake.channel_messages(channel)[0].embeds[0]
    vision = daily.papers_of_day("2026-03-02", "cs.CV")
    assert header["title"] == "arXiv 日报 · 2026年3月2日星期一"
    assert header["description"].startswith(f"本频道关注的分类中有 **{len(vision)} 篇论文**（整份日报共 213 篇）")
    assert header["description"].splitlines()[-1].startswith("来源：[2026-03-02\\_AI\\_enhanced\\_Chinese.jsonl](")
    parts = daily.thread_messages(channel)
    assert [m.embeds[-1]["footer"]["text"] for m in parts] == [
        f"2026-03-02 · 第 {n} / {len(parts)} 部分" for n in range(1, len(parts) + 1)]
    assert sorted(daily.linked_ids(parts)) == sorted(vision)
