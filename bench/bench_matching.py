"""Match every member's subscriptions against a digest: the project beside a plain sqlite3 + dicts floor.

    .venv/bin/python bench/bench_matching.py [--users 100000] [--per-user 5] [--rounds 3]

Users follow --per-user things drawn the way groups use the bot: categories (weighted by how
common they are), keywords (words and two-word phrases from real titles, some Chinese, popular
ones shared by many users), authors (names from the digests, some typed without accents, some
absent). They are stored in a real SQLite file. Project: what the DM delivery does per digest,
from the database to every user's papers grouped by reason (`SubscriptionStore.matching_groups`
and `match_digest`, then `groups()` for every user). Floor: the same design in plain sqlite3 and
dicts: read the rows, group equal subscriptions, look categories and authors up, run each
distinct keyword once on an in-memory FTS5 index of the day, give each user their sets.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import random
import re
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import compare
from bot.ingest.digest import parse_digest_file
from bot.ranking.matching import match_digest
from storage.fts_query import EmptyQuery, build_match
from storage.records import DigestEntry, StoredPaper
from storage.sqlite.database import Database
from storage.subscriptions import SubscriptionStore, subscription_key
from storage.text import fold_name, has_cjk, index_text

DIGESTS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "digests"
CHINESE = ["扩散模型", "强化学习", "大语言模型", "多模态", "幻觉", "机器人", "图像生成", "知识蒸馏"]
NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
_ORDER = {"author": 0, "keyword": 1, "category": 2}


def entries_of(names: list[str]) -> list[DigestEntry]:
    entries: list[DigestEntry] = []
    for name in names:
        for position, paper in enumerate(parse_digest_file(DIGESTS / name).papers):
            stored = StoredPaper(
                paper.arxiv_id + f"-{name[:3]}", paper.title, paper.authors, paper.primary_category, paper.categories,
                paper.tldr, paper.motivation, paper.method, paper.result, paper.conclusion, paper.abstract, paper.comment,
                paper.code_url, paper.keywords, paper.translated_title, paper.abs_url, "", "", NOW.date(), NOW.date(),
            )
            entries.append(DigestEntry(paper.section, position, stored))
    return entries


def subscription_rows(users: int, per_user: int, entries: list[DigestEntry], seed: int = 7) -> list[tuple[int, str, str, str]]:
    rng = random.Random(seed)
    categories = [c for e in entries for c in e.paper.categories]
    words = [w.lower() for e in entries for w in re.findall(r"[A-Za-z][A-Za-z\-]{4,}", e.paper.title)]
    phrases = [" ".join(pair) for pair in itertools.pairwise(words)]
    authors = [a for e in entries for a in e.paper.authors]
    vocabulary = list(dict.fromkeys(words))[:2000] + list(dict.fromkeys(phrases))[:500]
    rows: dict[tuple[int, str, str], tuple[int, str, str, str]] = {}
    for user in range(1, users + 1):
        for _ in range(per_user):
            roll = rng.random()
            if roll < 0.35:
                kind, value = "category", rng.choice(categories)
            elif roll < 0.75:
                kind = "keyword"
                # Half pick one of the 50 most common title words, half anything from a long tail.
                pick = rng.randrange(50) if rng.random() < 0.5 else rng.randrange(len(vocabulary))
                value = rng.choice(CHINESE) if rng.random() < 0.15 else vocabulary[pick]
            else:
                kind = "author"
                value = rng.choice(authors) if rng.random() < 0.7 else f"Unknown Person {rng.randint(1, 10**6)}"
                if rng.random() < 0.3:
                    value = "".join(ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch))
            key = subscription_key(kind, value)
            rows[(user, kind, key)] = (user, kind, value, key)
    return list(rows.values())


def floor_match(path: Path, entries: list[DigestEntry]) -> int:
    """Same design, plain sqlite3 and dicts; returns the number of papers shown over all users."""
    conn = sqlite3.connect(path)
    groups: dict[tuple[str, str], tuple[str, list[int]]] = {}
    for user, kind, value, key in conn.execute("SELECT user_id, kind, value, value_key FROM subscriptions"):
        found = groups.get((kind, key))
        if found is None:
            groups[(kind, key)] = (value, [user])
        else:
            found[1].append(user)
    conn.close()
    by_category: dict[str, set[int]] = defaultdict(set)
    by_author: dict[str, set[int]] = defaultdict(set)
    index = sqlite3.connect(":memory:")
    index.execute("CREATE VIRTUAL TABLE k USING fts5(title, tldr, abstract, content='', tokenize='unicode61 remove_diacritics 2')")
    rows = []
    for position, entry in enumerate(entries):
        paper = entry.paper
        for category in {*(c.lower() for c in paper.categories), entry.section.lower()}:
            by_category[category].add(position)
        for name in {fold_name(a) for a in paper.authors}:
            by_author[name].add(position)
        summary = paper.tldr if not has_cjk(paper.tldr) else "\n".join([paper.tldr, paper.motivation, paper.method, paper.result, paper.conclusion])
        rows.append((position, index_text(paper.title), index_text(summary), index_text(paper.abstract)))
    index.executemany("INSERT INTO k (rowid, title, tldr, abstract) VALUES (?, ?, ?, ?)", rows)
    per_user: dict[int, list[tuple[int, frozenset[int]]]] = defaultdict(list)
    for (kind, key), (value, users) in groups.items():
        if kind == "category":
            hits = frozenset(by_category.get(key, ()))
        elif kind == "author":
            hits = frozenset(by_author.get(key, ()))
        else:
            try:
                hits = frozenset(r[0] for r in index.execute("SELECT rowid FROM k WHERE k MATCH ?", (build_match(value),)))
            except EmptyQuery:
                hits = frozenset()
        if hits:
            order = _ORDER[kind]
            for user in users:
                per_user[user].append((order, hits))
    shown = 0
    for hits in per_user.values():
        taken: set[int] = set()
        for _, positions in sorted(hits, key=lambda h: h[0]):
            mine = positions - taken
            taken |= mine
            shown += len(mine)
    return shown


async def project_match(db: Database, entries: list[DigestEntry]) -> int:
    groups = await SubscriptionStore(db).matching_groups()
    matches = match_digest(entries, groups)
    return sum(sum(len(positions) for _, positions in m.groups()) for m in matches.values())


async def run(users: int, per_user: int, rounds: int) -> None:
    day = entries_of(["000_eb52096bcf26c46f.txt"])
    rows = subscription_rows(users, per_user, day)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "subs.sqlite3"
        db = await Database.open(path)
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO subscriptions (user_id, kind, value, value_key, created_at) VALUES (?, ?, ?, ?, '2026-01-01')", rows)
        kinds = {k: sum(1 for r in rows if r[1] == k) for k in ("category", "keyword", "author")}
        print(f"{users:,} users x {per_user}: {len(rows):,} subscriptions {kinds}, "
              f"{len({r[3] for r in rows if r[1] == 'keyword'}):,} distinct keywords; {len(day)}-paper digest")
        project_best = floor_best = float("inf")
        shown_project = shown_floor = 0
        for _ in range(rounds):
            start = time.perf_counter()
            shown_project = await project_match(db, day)
            project_best = min(project_best, time.perf_counter() - start)
            start = time.perf_counter()
            shown_floor = floor_match(path, day)
            floor_best = min(floor_best, time.perf_counter() - start)
        await db.close()
    assert shown_project == shown_floor, (shown_project, shown_floor)
    print(compare("match every user (database to DM groups)", project_best * 1000, floor_best * 1000, "ms"))
    print(f"  both show {shown_project:,} papers in all (best of {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.users, args.per_user, args.rounds))


if __name__ == "__main__":
    main()
