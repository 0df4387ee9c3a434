"""Subscription DMs end to end: a new digest arrives, each user gets one DM at their time, with reasons."""

from __future__ import annotations

import re
import signal

from tests.bot.conftest import both_engines
from tests.bot.delivery.conftest import JSONL_DAY, MARKDOWN_DAY, DailyWorld, joined_states
from tests.botworld import eventually
from tests.fakediscord import Message, User

pytestmark = both_engines

LINK = re.compile(r"\]\(https://arxiv\.org/abs/([^)]+)\)")


def dm_states(daily: DailyWorld) -> dict[int, str]:
    """User id -> states of their DM deliveries, oldest first, joined with a comma."""
    return joined_states(daily.rows("SELECT target_id, state FROM deliveries WHERE target_kind = 'dm' ORDER BY id"))


def shown_ids(message: Message) -> list[str]:
    return [i for embed in message.embeds for i in LINK.findall(embed.get("description", ""))]


def not_shown(message: Message) -> int:
    footer = message.embeds[-1].get("footer", {}).get("text", "")
    found = re.match(r"(\d+) more not shown", footer)
    return int(found.group(1)) if found else 0


async def subscribe(daily: DailyWorld, user: User, **subs: str) -> None:
    for kind, value in subs.items():
        reply = await daily.world.run(user, "subscribe", {"value": value}, subcommand=kind.rstrip("_"))
        assert reply.content.startswith("Subscribed"), reply.content


async def test_each_user_gets_one_dm_with_exactly_their_papers_and_reasons(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    bob, closed, nobody, erin = world.member, fake.add_user("dora", dms_closed=True), fake.add_user("nils"), fake.add_user("erin")
    await world.bot.start()
    await subscribe(daily, bob, keyword="扩散模型", author="Angel Aso-Mollar", category="cs.GR")
    await subscribe(daily, closed, category="cs.CV")
    await subscribe(daily, nobody, keyword="zzyzx quokka")
    await subscribe(daily, erin, keyword='"flow matching"')
    await daily.world.run(erin, "notify", {"time": "09:00", "timezone": "Europe/Berlin"}, subcommand="time")

    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    daily.clock.set("2026-03-02T08:00:00+00:00")  # 09:00 in Berlin: erin only
    await eventually(lambda: dm_states(daily).get(erin.id) == "done")
    assert bob.id not in dm_states(daily)
    erin_dm = fake.dms_to(erin)
    assert len(erin_dm) == 1
    assert "2512.23464" in shown_ids(erin_dm[0])  # HY-Motion: "Scaling Flow Matching Models"
    assert erin_dm[0].embeds[1]["title"].startswith('keyword: "flow matching"')

    daily.clock.set("2026-03-02T09:00:00+00:00")  # 09:00 UTC: everyone else on the default time
    await eventually(lambda: dm_states(daily).get(bob.id) == "done" and dm_states(daily).get(closed.id) == "failed")
    bob_dm = fake.dms_to(bob)
    assert len(bob_dm) == 1
    message = bob_dm[0]
    assert message.embeds[0]["title"] == "Your arXiv matches · 2026-03-02 (Mon)"
    expected_graphics = daily.papers_of_day("2026-03-02", "cs.GR")
    chinese = {str(r[0]) for r in daily.rows(
        "SELECT p.arxiv_id FROM papers p JOIN digest_papers dp ON dp.paper_id = p.id "
        "WHERE p.tldr || p.motivation || p.method || p.result || p.conclusion || p.title LIKE '%扩散模型%'")}
    expected = expected_graphics | chinese | {"2512.22367"}
    shown = shown_ids(message)
    assert len(shown) == len(set(shown))  # each paper once
    assert set(shown) <= expected
    assert len(shown) + not_shown(message) == len(expected)
    titles = [e["title"] for e in message.embeds[1:]]
    assert titles[0] == "author: Angel Aso-Mollar (1)"
    assert any(t.startswith("keyword: 扩散模型") for t in titles) and any(t.startswith("category: cs.GR") for t in titles)
    assert "2512.22367" in shown  # Ángel Aso-Mollar's paper, matched without the accent
    assert message.allowed_mentions == {"parse": []}
    assert nobody.id not in dm_states(daily) and fake.dms_to(nobody) == []

    # dora's DMs are closed: marked, not retried, and /subscriptions tells her why.
    assert fake.dms_to(closed) == []
    attempts = [r for r in fake.requests if r.path == f"/channels/{fake.dm_channel(closed).id}/messages"]
    assert len(attempts) == 1
    listing = await world.run(closed, "subscriptions")
    assert "Nothing arrived: since 2026-03-02 09:00 UTC Discord refused my DMs to you" in listing.embeds[0]["description"]
    assert "does not accept direct messages" in listing.embeds[0]["description"]
    # Using a command lifted the stop: the DM is tried once more, refused again, and stopped again.
    dm_requests = f"/channels/{fake.dm_channel(closed).id}/messages"
    await eventually(lambda: len([r for r in fake.requests if r.path == dm_requests]) == 2)
    await eventually(lambda: daily.rows("SELECT dm_failing_reason IS NOT NULL FROM user_settings WHERE user_id = ?", (closed.id,)) == [(1,)])

    # The next day: one more DM each, never a repeat of the first.
    daily.clock.set("2026-03-03T09:30:00+00:00")
    daily.server.publish("2026-03-03.md", MARKDOWN_DAY)
    await eventually(lambda: dm_states(daily).get(bob.id) == "done,done")
    assert len(fake.dms_to(bob)) == 2
    assert [m.embeds[0]["title"] for m in fake.dms_to(bob)] == [
        "Your arXiv matches · 2026-03-02 (Mon)", "Your arXiv matches · 2026-03-03 (Tue)"]
    # dora's DMs are still marked closed: the new digest is not even tried.
    assert dm_states(daily).get(closed.id) == "failed"
    assert len([r for r in fake.requests if r.path == dm_requests]) == 2
    assert fake.duplicate_nonces == 0


async def test_restart_mid_delivery_sends_each_dm_once(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    users = [fake.add_user(f"reader{i}") for i in range(6)]
    await world.bot.start()
    for user in users:
        await subscribe(daily, user, category="cs.CV")
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    # The third DM is applied by Discord, then the bot dies before hearing back.
    hold = fake.hold("POST", r"^/channels/\d+/messages$", 30, skip=2)
    daily.clock.set("2026-03-02T09:00:00+00:00")
    await hold.started.wait()
    assert await world.bot.stop(signal.SIGKILL) == -signal.SIGKILL
    hold.released.set()
    fake.holds.clear()
    await world.bot.start()
    await eventually(lambda: all(dm_states(daily).get(u.id) == "done" for u in users))
    for user in users:
        assert len(fake.dms_to(user)) == 1, user.username
    assert "sent before a restart" in world.bot.log()


async def test_a_dm_has_save_and_vote_menus_and_follows_the_members_model(daily: DailyWorld) -> None:
    world, fake = daily.world, daily.fake
    bob = world.member
    await world.bot.start()
    await subscribe(daily, bob, category="cs.CV")
    daily.server.publish("2026-03-02_AI_enhanced_Chinese.jsonl", JSONL_DAY)
    await eventually(lambda: daily.digest_dates() == ["2026-03-02"])
    vision = daily.papers_of_day("2026-03-02", "cs.CV")
    texts = {str(r[0]): str(r[1]).lower() for r in daily.rows("SELECT arxiv_id, title || ' ' || abstract FROM papers")}
    segmentation = sorted(i for i in vision if "segmentation" in texts[i])
    assert len(segmentation) >= 8
    liked = segmentation[:5]
    for arxiv_id in liked:  # 👍 on five segmentation papers, before the DM is due
        shown = await world.run(bob, "paper", {"id": arxiv_id})
        await world.click(bob, shown, f"paper:up:{arxiv_id}")
    await eventually(lambda: daily.rows("SELECT positives FROM member_models WHERE user_id = ?", (bob.id,)) == [(5,)])

    daily.clock.set("2026-03-02T09:00:00+00:00")
    await eventually(lambda: dm_states(daily).get(bob.id) == "done")
    message = fake.dms_to(bob)[0]
    shown = shown_ids(message)
    digest_order = [str(r[0]) for r in daily.rows(
        "SELECT p.arxiv_id FROM digest_papers dp JOIN papers p ON p.id = dp.paper_id ORDER BY dp.position")]
    vision_in_order = [i for i in digest_order if i in vision]
    assert set(shown) <= vision and shown != vision_in_order[:len(shown)]  # the member's order, not the digest's
    # The DM has room for some of the day's cs.CV papers: the model picks those like the liked ones.
    others = [i for i in shown if i not in liked]
    first_in_digest = [i for i in vision_in_order if i not in liked][:len(others)]

    def share(ids: list[str]) -> float:
        return sum(i in segmentation for i in ids) / len(ids)

    assert share(others) >= max(0.3, 2 * share(first_in_digest)), (share(others), share(first_in_digest))
    assert set(liked) <= set(shown[:len(liked) + 3])  # what was liked itself ranks first
    assert "ordered the DMs of 1 member(s) by their ranking model" in world.bot.log()

    menus = {c["custom_id"]: c for row in message.components for c in row["components"]}
    assert set(menus) == {"papers:save", "papers:up", "papers:down"}
    assert [o["value"] for o in menus["papers:save"]["options"]] == shown[:25]
    record = await fake.click(bob, message, "papers:save", [shown[1]])
    reply = await fake.reply(record)
    assert reply.ephemeral and reply.content.startswith("Saved")
    assert daily.rows("SELECT arxiv_id FROM saved_papers WHERE user_id = ?", (bob.id,)) == [(shown[1],)]
