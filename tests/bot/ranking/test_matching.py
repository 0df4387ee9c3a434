"""Matching subscriptions against a real digest: categories, keywords (English, Chinese), authors."""

from __future__ import annotations

import datetime as dt

from bot.ranking.matching import Reason, match_digest
from storage.papers import PaperStore
from storage.sqlite.database import Database
from storage.subscriptions import Subscription, SubscriptionStore, subscription_key

NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def sub(user: int, kind: str, value: str, ident: int = 0) -> Subscription:
    return Subscription(ident or hash((user, kind, value)) % 10_000, user, kind, value, subscription_key(kind, value), NOW)


async def test_each_kind_matches_what_it_says(sample_db: Database) -> None:
    entries = await PaperStore(sample_db).digest_entries(dt.date(2025, 12, 31))
    result = match_digest(entries, [
        sub(1, "author", "Angel Aso-Mollar"),      # written Ángel Aso-Mollar
        sub(1, "author", "gustav sir"),            # written Gustav Šíř
        sub(2, "category", "cs.GR"),               # primary or cross-listed
        sub(3, "keyword", "扩散模型"),
        sub(4, "keyword", '"flow matching"'),
        sub(5, "keyword", "zzyzx quokka"),
    ])
    assert [p.arxiv_id for p, _ in result[1].papers] == sorted(
        ["2512.22367", "2512.23036"], key=lambda a: [e.paper.arxiv_id for e in entries].index(a))
    assert result[1].papers[0][1] in ([Reason("author", "Angel Aso-Mollar")], [Reason("author", "gustav sir")])
    graphics = {e.paper.arxiv_id for e in entries if "cs.GR" in e.paper.categories}
    assert {p.arxiv_id for p, _ in result[2].papers} == graphics and len(graphics) == 3  # 1 primary, 2 cross-listed
    chinese = {e.paper.arxiv_id for e in entries if "扩散模型" in e.paper.tldr + e.paper.motivation + e.paper.method + e.paper.result + e.paper.conclusion + e.paper.title}
    assert {p.arxiv_id for p, _ in result[3].papers} == chinese and chinese
    flow = {p.arxiv_id for p, _ in result[4].papers}
    assert "2512.23464" in flow  # HY-Motion: "Scaling Flow Matching Models"
    assert 5 not in result  # no match, no entry, no DM


async def test_a_paper_matching_several_subscriptions_comes_once_with_every_reason(sample_db: Database) -> None:
    entries = await PaperStore(sample_db).digest_entries(dt.date(2025, 12, 31))
    result = match_digest(entries, [sub(7, "category", "cs.CV"), sub(7, "keyword", "motion"), sub(7, "author", "Linchao Bao")])
    papers = {p.arxiv_id: reasons for p, reasons in result[7].papers}
    assert len(papers) == len(result[7].papers)  # each paper once
    assert papers["2512.23464"] == [Reason("author", "Linchao Bao"), Reason("keyword", "motion"), Reason("category", "cs.CV")]
    grouped = result[7].grouped()
    assert str(grouped[0][0]) == "author: Linchao Bao"
    assert sum(len(items) for _, items in grouped) == len(papers)


async def test_ten_thousand_users_share_the_work_of_equal_subscriptions(sample_db: Database) -> None:
    entries = await PaperStore(sample_db).digest_entries(dt.date(2025, 12, 31))
    subs = [sub(u, "keyword", "transformer", ident=u) for u in range(10_000)]
    result = match_digest(entries, subs)
    assert len(result) == 10_000
    assert len({tuple(p.arxiv_id for p, _ in m.papers) for m in result.values()}) == 1


async def test_groups_read_from_the_database_match_as_each_subscription_would(sample_db: Database) -> None:
    entries = await PaperStore(sample_db).digest_entries(dt.date(2025, 12, 31))
    store = SubscriptionStore(sample_db)
    wanted = [(1, "keyword", "Diffusion"), (2, "keyword", "diffusion"), (3, "category", "cs.GR"), (3, "author", "Linchao Bao"),
              (4, "category", "cs.GR"), (5, "keyword", "zzyzx")]
    for user, kind, value in wanted:
        await store.add(user, kind, value, now=NOW, limit=50, default_time=dt.time(9), default_timezone="UTC")
    groups = await store.matching_groups()
    assert sorted((g.kind, g.value, sorted(g.user_ids)) for g in groups) == sorted(
        [("keyword", "Diffusion", [1]), ("keyword", "diffusion", [2]), ("category", "cs.GR", [3, 4]),
         ("author", "Linchao Bao", [3]), ("keyword", "zzyzx", [5])])
    from_groups = match_digest(entries, groups)
    one_by_one = match_digest(entries, [sub(u, k, v) for u, k, v in wanted])
    assert set(from_groups) == set(one_by_one) == {1, 2, 3, 4}
    for user in from_groups:
        assert from_groups[user].papers == one_by_one[user].papers
    assert [str(r) for r in from_groups[1].papers[0][1]] == ["keyword: Diffusion"]  # each as they wrote it
