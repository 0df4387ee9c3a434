"""Chinese command help and replies end to end: the fake sends each member's Discord locale."""

from __future__ import annotations

import pytest

from tests.botworld import World

pytestmark = pytest.mark.asyncio(loop_scope="module")


def registered(world: World, name: str) -> dict[str, object]:
    for scope in world.fake.commands.values():
        for command in scope:
            if command["name"] == name:
                return command
    raise AssertionError(f"/{name} is not registered")


async def test_command_help_is_localised_and_names_stay_english(world: World) -> None:
    search = registered(world, "search")
    assert search["description_localizations"] == {"zh-CN": "搜索所有已存储的论文（支持中英文）",  # type: ignore[comparison-overlap]
                                                   "zh-TW": "搜尋所有已儲存的論文（支援中英文）"}
    assert not search.get("name_localizations")
    options = {o["name"]: o for o in search["options"]}  # type: ignore[attr-defined]
    assert options["category"]["description_localizations"]["zh-CN"] == "只看这个分类（主分类或交叉分类）"
    saved = registered(world, "saved")
    choices = {o["name"]: o for o in saved["options"]}["export"]["choices"]  # type: ignore[index]
    assert [c["name"] for c in choices] == ["bibtex", "csv", "markdown"]
    assert choices[0]["name_localizations"]["zh-CN"] == "BibTeX"


async def test_a_chinese_member_reads_replies_in_chinese_until_they_choose_english(world: World) -> None:
    li = world.fake.add_user("lihua", locale="zh-CN")
    results = await world.run(li, "search", {"query": "diffusion"})
    assert results.embeds[0]["title"] == "搜索结果"
    assert results.embeds[0]["footer"]["text"].startswith("第 1 / ")
    assert "篇论文" in results.embeds[0]["description"]
    paper = await world.run(li, "paper", {"id": "2512.22208"})
    names = [f["name"] for f in paper.embeds[0]["fields"]]
    assert names[:4] == ["研究动机", "方法", "结果", "结论"] and names[-1] == "链接"
    assert paper.button("收藏") == "paper:save:2512.22208"
    assert "Moxin 7B" in paper.embeds[0]["description"]  # the paper's own text is shown as written
    saved = await world.click(li, paper, "paper:save:2512.22208")
    assert saved.content.startswith("已将 “") and "加入你的阅读清单" in saved.content
    refused = await world.run(li, "search", {"query": "-diffusion"})
    assert refused.ephemeral and refused.content.startswith("请至少输入一个要搜索的词")
    day = await world.run(li, "digest", {"date": "2026-02-06"})
    assert day.embeds[0]["title"] == "arXiv 日报 · 2026年2月6日星期五"

    chosen = await world.run(li, "language", {"language": "English"})
    assert chosen.content == "I will reply to you and write your DMs in English. Papers are shown as written."
    again = await world.run(li, "search", {"query": "diffusion"})
    assert again.embeds[0]["title"] == "Search results"
    back = await world.run(li, "language", {"language": "auto"})
    assert back.content.startswith("回复将跟随你的 Discord 语言（简体中文）")


async def test_traditional_chinese_and_a_chosen_language_over_discords(world: World) -> None:
    mei = world.fake.add_user("mei", locale="zh-TW")
    results = await world.run(mei, "search", {"query": "diffusion"})
    assert results.embeds[0]["title"] == "搜尋結果"
    english_discord = world.fake.add_user("ann")
    await world.run(english_discord, "language", {"language": "繁體中文"})
    paper = await world.run(english_discord, "paper", {"id": "2512.22208"})
    assert paper.embeds[0]["fields"][0]["name"] == "研究動機"


async def test_sentences_built_around_values_and_subscriptions_are_translated(world: World) -> None:
    wang = world.fake.add_user("wang", locale="zh-CN")
    missing = await world.run(wang, "paper", {"id": "2601.99999"})
    assert missing.content == "论文 2601.99999 不在任何已存储的日报中。可以去 arXiv 查看：https://arxiv.org/abs/2601.99999"
    bad_day = await world.run(wang, "digest", {"date": "2024-01-01"})
    assert bad_day.content.startswith("没有 2024-01-01 的日报。最近的日报：2026-02-06")
    subscribed = await world.run(wang, "subscribe", {"value": "diffusion"}, subcommand="keyword")
    assert subscribed.content.startswith("已订阅 关键词: diffusion。每份新日报中匹配的论文会在 09:00 UTC 通过私信发送")
    assert "篇已存论文匹配" in subscribed.content
    listing = await world.run(wang, "subscriptions")
    assert listing.embeds[0]["title"] == "你的订阅"
    assert "**1.** 关键词: diffusion" in listing.embeds[0]["description"]
    assert listing.button("删除 1")
    # The same sentence in English for an English Discord.
    english = await world.run(world.fake.add_user("eve"), "paper", {"id": "2601.99999"})
    assert english.content.startswith("Paper 2601.99999 is not in any stored digest.")


async def test_the_other_commands_answer_in_the_chosen_language(world: World) -> None:
    zhao = world.fake.add_user("zhao", locale="zh-CN")
    await world.run(zhao, "save", {"id": "2512.22208"})
    saved = await world.run(zhao, "saved")
    assert saved.embeds[0]["title"] == "你的阅读清单" and saved.button("删除 1")
    about = await world.run(zhao, "about")
    assert "每日 arXiv 新论文" in about.embeds[0]["description"] and "搜索所有已存储的论文" in about.embeds[0]["description"]
    categories = await world.run(zhao, "categories")
    assert categories.embeds[0]["title"] == "分类"
    similar = await world.run(zhao, "similar", {"id": "2601.20911"})
    assert similar.embeds[0]["title"] == "相似论文" and "相似度" in similar.embeds[0]["description"]
    assert similar.button("下一页")
    forget = await world.run(zhao, "forget", subcommand="me")
    assert forget.content.startswith("这会删除我存储的所有关于你的数据") and forget.button("全部删除")
    kept = await world.click(zhao, forget, forget.button("保留我的数据"))
    assert kept.content == "没有删除任何内容。"

    # An administrator who chose Chinese reads /feed and /status in Chinese.
    await world.run(world.owner, "language", {"language": "简体中文"})
    try:
        feeds = await world.run(world.owner, "feed", subcommand="list")
        assert feeds.content == "本服务器还没有推送。用 /feed add 添加一个。" or feeds.embeds[0]["title"].endswith("的推送")
        status = await world.run(world.owner, "status")
        assert [f["name"] for f in status.embeds[0]["fields"]][:3] == ["来源", "数据库", "最新日报"]
    finally:
        await world.run(world.owner, "language", {"language": "auto"})


async def test_option_labels_and_search_budgets_read_in_chinese(world: World) -> None:
    qian = world.fake.add_user("qian", locale="zh-CN")
    too_long = await world.run(qian, "subscribe", {"value": "x" * 6000}, subcommand="keyword")
    assert too_long.content == "关键词最多 100 个字符（你输入了 6,000 个）。"
    prefix = await world.run(qian, "search", {"query": "ab*"})
    assert prefix.content.startswith("前缀搜索在 * 前至少需要 3 个字母")
