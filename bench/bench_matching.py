"""Match many users' subscriptions against a digest.

    .venv/bin/python bench/bench_matching.py [--users 10000] [--per-user 5]

Each user follows --per-user things drawn the way groups use the bot: categories (weighted by
how common they are), keywords (words and two-word phrases from real titles, some Chinese,
popular ones shared by many users), and authors (names from the digests, some spelled without
accents, some absent). Times `match_digest` (the whole job the DM delivery does per digest:
every user's papers with reasons) for the 456-paper digest, then how it grows with users and
with papers (two and four digests concatenated).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ingest.digest import parse_digest_file  # noqa: E402
from bot.matching import match_digest  # noqa: E402
from storage.records import DigestEntry, StoredPaper  # noqa: E402
from storage.subscriptions import Subscription, subscription_key  # noqa: E402

DIGESTS = ROOT / "tests" / "fixtures" / "digests"
CHINESE = ["扩散模型", "强化学习", "大语言模型", "多模态", "幻觉", "机器人", "图像生成", "知识蒸馏"]
NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def entries_of(names: list[str]) -> list[DigestEntry]:
    entries: list[DigestEntry] = []
    for name in names:
        for position, paper in enumerate(parse_digest_file(DIGESTS / name).papers):
            stored = StoredPaper(
                paper.arxiv_id + f"-{name[:3]}", paper.title, paper.authors, paper.primary_category, paper.categories,
                paper.tldr, paper.motivation, paper.method, paper.result, paper.conclusion, paper.abstract, paper.comment,
                paper.code_url, paper.keywords, paper.translated_title, paper.abs_url, paper.pdf_url, "", NOW.date(), NOW.date(),
            )
            entries.append(DigestEntry(paper.section, position, stored))
    return entries


def subscriptions(users: int, per_user: int, entries: list[DigestEntry], seed: int = 7) -> list[Subscription]:
    rng = random.Random(seed)
    categories = [c for e in entries for c in e.paper.categories]
    words = [w.lower() for e in entries for w in re.findall(r"[A-Za-z][A-Za-z\-]{4,}", e.paper.title)]
    phrases = [" ".join(pair) for pair in itertools.pairwise(words)]
    authors = [a for e in entries for a in e.paper.authors]
    vocabulary = list(dict.fromkeys(words))[:2000] + list(dict.fromkeys(phrases))[:500]
    subs: list[Subscription] = []
    ident = 0
    for user in range(users):
        for _ in range(per_user):
            ident += 1
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
            subs.append(Subscription(ident, user, kind, value, subscription_key(kind, value), NOW))
    return subs


def timed(entries: list[DigestEntry], subs: list[Subscription], rounds: int) -> tuple[float, float, int, int]:
    """Best time to match, best time to then group every user's papers for their DM, users matched, papers grouped."""
    best = expand = float("inf")
    matched = papers = 0
    for _ in range(rounds):
        start = time.perf_counter()
        result = match_digest(entries, subs)
        best = min(best, time.perf_counter() - start)
        start = time.perf_counter()
        papers = sum(sum(len(positions) for _, positions in m.groups()) for m in result.values())
        expand = min(expand, time.perf_counter() - start)
        matched = len(result)
    return best, expand, matched, papers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    day = entries_of(["000_eb52096bcf26c46f.txt"])
    subs = subscriptions(args.users, args.per_user, day)
    kinds = {k: sum(1 for s in subs if s.kind == k) for k in ("category", "keyword", "author")}
    distinct = len({(s.kind, s.key) for s in subs if s.kind == "keyword"})
    print(f"{args.users} users x {args.per_user} = {len(subs)} subscriptions {kinds}, {distinct} distinct keywords")
    seconds, expand, matched, papers = timed(day, subs, args.rounds)
    print(f"456-paper digest: match {seconds:.2f} s (best of {args.rounds}); {matched} users get a DM, "
          f"{papers / max(1, matched):.1f} papers each on average; grouping every user's papers by reason "
          f"for their DM (done per DM when it is rendered) {expand:.2f} s more")
    print("growth with users (456 papers): match / group all")
    for users in (1_000, 5_000, 10_000, 20_000):
        seconds, expand, _, _ = timed(day, subscriptions(users, args.per_user, day), args.rounds)
        print(f"  {users:>6} users: {seconds:.2f} s / {expand:.2f} s")
    print(f"growth with papers ({args.users} users): match / group all")
    for names in (["000_eb52096bcf26c46f.txt", "002_5858082daa70f9c8.txt"],
                  ["000_eb52096bcf26c46f.txt", "002_5858082daa70f9c8.txt", "2025-12-31.md", "004_8ce2d82a3946f536.txt"]):
        entries = entries_of(names)
        seconds, expand, _, _ = timed(entries, subscriptions(args.users, args.per_user, entries), args.rounds)
        print(f"  {len(entries):>6} papers: {seconds:.2f} s / {expand:.2f} s")


if __name__ == "__main__":
    main()
