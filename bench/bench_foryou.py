"""Quality and speed of /foryou, /similar and the DM order, on the real sample digests.

    .venv/bin/python bench/bench_foryou.py [--members 10000]

Simulated members, built from the real digests in tests/fixtures/digests (1,319 papers, 5 days):
each likes papers about a topic and dislikes papers about another (words in title or abstract;
the arXiv category for two of them). Each gives the bot what a member would: 👍 on 8 papers and
🔖 Save on 2 of the older days (2025-03-19 to 2026-01-22), 👎 on 5 papers of the disliked topic.
Through the project's own path (MemberStore, Recommender.train_member on a real SQLite file),
each member's model then ranks the held-out later days (2026-01-29 and 2026-02-06, 858 papers),
whose labels (about the liked topic or not) the model never saw. Printed per member and in all:
ROC AUC and precision@10, beside a simple baseline on the same features (cosine to the centroid of
the liked papers, Rocchio) and chance.

/similar: for 200 held-out papers, the share of the top 5 that share the primary category, beside
what a random pick of 5 would share.

Speed: ranking 10,000 members' DMs for one day (every member with a stored model, each DM holding
the day's papers of a category): the project (models loaded from SQLite, scored per member, off
the event loop) beside a floor (the same weights stacked in one sparse matrix, one product).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import roc_auc_score

from bench.corpus import SAMPLES
from bot.core.services import Services
from bot.core.settings import Settings
from bot.ingest.service import ingest_path
from bot.ranking.features import N_FEATURES, LinearModel
from bot.ranking.matching import Reason, UserMatches
from bot.ranking.recommender import Recommender
from storage.reading_list import ReadingList
from storage.records import StoredPaper

UNDATED = {"000_eb52096bcf26c46f.txt": dt.date(2026, 1, 29), "002_5858082daa70f9c8.txt": dt.date(2026, 2, 6),
           "004_8ce2d82a3946f536.txt": dt.date(2026, 1, 22)}
HELD_OUT_FROM = dt.date(2026, 1, 29)


@dataclass(frozen=True)
class Taste:
    """A simulated member: what they like and what they dislike."""

    name: str
    likes: str          # a regular expression on title + abstract, or `cat:<code>`
    dislikes: str

    def matches(self, pattern: str, paper: StoredPaper) -> bool:
        if pattern.startswith("cat:"):
            return paper.primary_category == pattern[4:]
        return re.search(pattern, f"{paper.title}\n{paper.abstract}", re.IGNORECASE) is not None


TASTES = [
    Taste("robots, not medicine", r"\brobot", r"\b(medical|clinical|patient)"),
    Taste("language models, not video", r"\blanguage models?\b|\bLLMs?\b", r"\bvideo"),
    Taste("diffusion, not reinforcement learning", r"\bdiffusion\b", r"\breinforcement"),
    Taste("segmentation, not language", r"\bsegmentation\b", r"\blanguage\b"),
    Taste("reinforcement learning, not diffusion", r"\breinforcement learning\b", r"\bdiffusion\b"),
    Taste("3D and point clouds, not text", r"\b3D\b|point cloud|gaussian splatting", r"\btext\b"),
    Taste("security and attacks, not generation", r"\b(adversarial|attack|jailbreak|security|privacy)", r"\bgenerat"),
    Taste("graphs, not images", r"\bgraphs?\b", r"\bimages?\b"),
    Taste("cs.CL papers, not cs.CV", "cat:cs.CL", "cat:cs.CV"),
    Taste("cs.LG papers, not cs.CV", "cat:cs.LG", "cat:cs.CV"),
]


async def build_database(path: Path) -> Services:
    settings = Settings.load({"DISCORD_TOKEN": "bench", "DIGESTBOT_DB": str(path)})
    services = await Services.open(settings)
    try:
        for path in sorted(SAMPLES.iterdir()):
            if path.name == "README.md":
                continue
            report = await ingest_path(services.papers, path, UNDATED.get(path.name))
            assert report.error is None, report.error
    except BaseException:
        await services.close()
        raise
    return services


def versus(label: str, project: float, floor: float, unit: str = "", digits: int = 3) -> str:
    """`project / floor / ratio` with more digits than bench.common.compare (scores between 0 and 1)."""
    ratio = project / floor if floor else float("nan")
    return (f"{label:<62} project {project:>8.{digits}f} {unit:<2} floor {floor:>8.{digits}f} {unit:<2} "
            f"ratio {ratio:5.2f}")


def precision_at(labels: np.ndarray, scores: np.ndarray, k: int = 10) -> float:
    order = np.argsort(-scores, kind="stable")[:k]
    return float(labels[order].mean())


async def quality(services: Services, recommender: Recommender) -> None:
    older = await services.papers.listed_between(dt.date(2000, 1, 1), HELD_OUT_FROM - dt.timedelta(days=1))
    held = await services.papers.listed_between(HELD_OUT_FROM, dt.date(2100, 1, 1))
    held_ids = {p.arxiv_id for p in held}
    older = [p for p in older if p.arxiv_id not in held_ids]
    featurizer = await recommender.featurizer()
    held_rows = featurizer.transform(held)
    print(f"papers: {len(older):,} on the feedback days, {len(held):,} held out (listed on {HELD_OUT_FROM} or later)\n")
    print(f"{'member':42} {'liked':>5} {'AUC':>6} {'base':>6} {'P@10':>6} {'base':>6}")
    aucs, bases, precisions, base_precisions = [], [], [], []
    now = dt.datetime(2026, 2, 7, tzinfo=dt.UTC)
    reading = ReadingList(services.db)
    for number, taste in enumerate(TASTES):
        user_id = 10_000 + number
        rng = random.Random(number)
        liked_pool = [p for p in older if taste.matches(taste.likes, p) and not taste.matches(taste.dislikes, p)]
        disliked_pool = [p for p in older if taste.matches(taste.dislikes, p) and not taste.matches(taste.likes, p)]
        liked = rng.sample(liked_pool, min(10, len(liked_pool)))
        disliked = rng.sample(disliked_pool, min(5, len(disliked_pool)))
        for paper in liked[:8]:
            await recommender.members.vote(user_id, paper.arxiv_id, 1, now)
        for paper in liked[8:]:
            await reading.save(user_id, paper.arxiv_id, now)
        for paper in disliked:
            await recommender.members.vote(user_id, paper.arxiv_id, -1, now)
        model = await recommender.train_member(user_id)
        assert model is not None
        labels = np.array([1 if taste.matches(taste.likes, p) else 0 for p in held])
        scores = model.score(held_rows)
        centroid = featurizer.transform(liked).mean(axis=0)
        baseline = np.asarray(held_rows @ np.asarray(centroid).ravel()).ravel()
        auc, base = roc_auc_score(labels, scores), roc_auc_score(labels, baseline)
        p10, b10 = precision_at(labels, scores), precision_at(labels, baseline)
        aucs.append(auc)
        bases.append(base)
        precisions.append(p10)
        base_precisions.append(b10)
        print(f"{taste.name:42} {len(liked):5d} {auc:6.3f} {base:6.3f} {p10:6.2f} {b10:6.2f}   "
              f"({labels.sum()} of {len(held)} held-out papers liked)")
    print()
    print(versus("/foryou ROC AUC, mean over members (higher is better)", float(np.mean(aucs)), float(np.mean(bases)), "") +
          "   chance 0.5; target >= 0.85")
    print(versus("/foryou precision@10, mean over members", float(np.mean(precisions)), float(np.mean(base_precisions)), "") +
          "   target >= 0.7")

    # /similar: does the top 5 share the query's primary category?
    rng = random.Random(7)
    queries = rng.sample(held, 200)
    shares, random_shares = [], []
    categories = [p.primary_category for p in held + older]
    for paper in queries:
        found = await recommender.similar(paper, 5)
        shares.append(sum(r.paper.primary_category == paper.primary_category for r in found) / max(1, len(found)))
        random_shares.append(sum(c == paper.primary_category for c in categories) / len(categories))
    print(versus("/similar: share of the top 5 with the query's primary category", float(np.mean(shares)),
                  float(np.mean(random_shares)), "") + "   (floor here = a random pick of 5)")


async def speed(services: Services, recommender: Recommender, members: int) -> None:
    digest = await services.papers.latest_digest()
    assert digest is not None
    entries = await services.papers.digest_entries(digest.date)
    # Twenty distinct trained models (the simulated members'), stored for `members` members.
    trained = await recommender.members.models(list(range(10_000, 10_000 + len(TASTES))))
    distinct = list(trained.values())
    stored = sum(len(m.features) + len(m.weights) for m in distinct) / len(distinct)
    print(f"\na member's stored model: {stored / 1024:.1f} KiB on average ({members:,} members: {stored * members / 2**20:.0f} MiB in the database)")
    async with services.db.transaction() as conn:
        await conn.executemany(
            "INSERT OR REPLACE INTO member_models (user_id, features, weights, intercept, positives, negatives, trained_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(1_000_000 + n, m.features, m.weights, m.intercept, m.positives, m.negatives, "2026-02-07T00:00:00+00:00")
             for n, m in ((n, distinct[n % len(distinct)]) for n in range(members))])
    sections = sorted({e.section for e in entries})
    by_section = {s: frozenset(i for i, e in enumerate(entries) if e.section == s) for s in sections}

    def fresh_matches() -> dict[int, UserMatches]:
        matches: dict[int, UserMatches] = {}
        for n in range(members):
            user = UserMatches(1_000_000 + n, entries)
            section = sections[n % min(len(sections), 4)]
            user.hits.append((Reason("category", section), by_section[section]))
            matches[user.user_id] = user
        return matches

    def positions_of(matches: dict[int, UserMatches]) -> dict[int, list[int]]:
        # What the bot sends the worker (bot.worker.tasks.order_by_models).
        return {u: sorted(frozenset().union(*(p for _, p in m.hits))) for u, m in matches.items()}

    ids = [e.paper.arxiv_id for e in entries]
    # Features of the day, cached as in the worker.
    await recommender.order_positions(digest.id, ids, positions_of(fresh_matches()))
    matches = fresh_matches()
    started = time.perf_counter()
    ordered = len(await recommender.order_positions(digest.id, ids, positions_of(matches)))
    project = time.perf_counter() - started
    assert ordered == members

    # Floor: every member's weights in one sparse matrix, one product, then each member's positions sorted.
    featurizer = await recommender.featurizer()
    rows = featurizer.transform([e.paper for e in entries])
    models = [distinct[n % len(distinct)] for n in range(members)]
    started = time.perf_counter()
    columns = [LinearModel.from_bytes(m.features, m.weights, m.intercept, m.positives, m.negatives) for m in models]
    indptr = np.cumsum([0] + [len(c.features) for c in columns])
    weights = sp.csc_matrix((np.concatenate([c.weights for c in columns]), np.concatenate([c.features for c in columns]), indptr),
                            shape=(N_FEATURES, members))
    scores = (rows @ weights).toarray()
    for n in range(members):
        positions = sorted(by_section[sections[n % min(len(sections), 4)]])
        column = scores[positions, n]
        _ = [positions[i] for i in np.argsort(-column)]
    floor = time.perf_counter() - started
    print()
    print(versus(f"ordering {members:,} members' DMs of one day ({len(entries)} papers)", project, floor, "s", 2) +
          "   target < 10 s")


async def main_async(members: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        services = await build_database(Path(folder) / "bench.sqlite3")
        try:
            recommender = Recommender(services)
            await quality(services, recommender)
            await speed(services, recommender, members)
        finally:
            await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main_async(args.members))


if __name__ == "__main__":
    main()
