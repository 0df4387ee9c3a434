"""Per-member ranking over stored papers: /foryou, /similar, and the order of papers in DMs and /digest mine.

The maths is in bot.ranking; this module feeds it from storage. It runs in the bot's worker
process (bot/worker/), never in the bot's own: its work is pure Python for much of the time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.services import Services
from bot.i18n.catalogs import ENGLISH, t
from bot.ranking.features import (
    MIN_POSITIVES,
    Featurizer,
    LinearModel,
    TrainingSet,
    cosine_top,
    paper_terms,
    strongest_terms,
    subscription_terms,
    train,
)
from storage.members import MemberModel, MemberStore
from storage.records import StoredPaper

if TYPE_CHECKING:
    import scipy.sparse as sp

log = logging.getLogger(__name__)

# Papers the IDF is fitted on and negatives are sampled from: the most recent ones. Only their ids
# and feature rows (float32) are kept, about 12 MB for 10,000 papers: the bot's idle memory matters.
SAMPLE_PAPERS = 10_000
BACKGROUND_NEGATIVES = 400
# Refit the IDF when the corpus grew by this share, or after this long.
REFIT_GROWTH = 0.05
REFIT_SECONDS = 24 * 3600
# A candidate this close to a liked paper is explained by that paper.
SIMILAR_ENOUGH = 0.3
# Candidates /similar reranks: found by the paper's most telling terms through the search index.
SIMILAR_CANDIDATES = 400
# Member models loaded and applied together when ordering DMs.
MODELS_PER_BATCH = 500


@dataclass(frozen=True)
class Ranked:
    """A paper for a member, its score, and why in a few words."""

    paper: StoredPaper
    score: float
    why: str


class NotEnoughToGoOn(Exception):
    """The member has given the bot nothing to learn from yet."""


class Recommender:
    """Trains and applies member models; one per bot process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.members = MemberStore(services.db)
        self._featurizer: Featurizer | None = None
        self._sample_ids: list[str] = []
        self._sample_rows: sp.csr_matrix | None = None
        self._sample_index: dict[str, int] = {}
        self._fitted_at = 0.0
        self._fitted_count = 0
        self._fit_lock = asyncio.Lock()
        self._day_rows: dict[tuple[int, int], sp.csr_matrix] = {}

    async def featurizer(self) -> Featurizer:
        """The featurizer, fitted on recent papers; refitted when the corpus grew or a day passed."""
        count = await self.services.corpus.papers()
        stale = (self._featurizer is None or time.monotonic() - self._fitted_at > REFIT_SECONDS
                 or count > self._fitted_count * (1 + REFIT_GROWTH))
        if stale:
            async with self._fit_lock:
                if self._featurizer is None or self._fitted_count != count:
                    sample = await self.services.papers.recent(SAMPLE_PAPERS)

                    def fit() -> tuple[Featurizer, sp.csr_matrix]:
                        import numpy as np

                        featurizer = Featurizer().fit(sample)
                        return featurizer, featurizer.transform(sample).astype(np.float32)

                    started = time.monotonic()
                    self._featurizer, self._sample_rows = await asyncio.to_thread(fit)
                    self._sample_ids = [p.arxiv_id for p in sample]
                    self._sample_index = {arxiv_id: i for i, arxiv_id in enumerate(self._sample_ids)}
                    self._fitted_at, self._fitted_count = time.monotonic(), count
                    self._day_rows.clear()
                    log.info("ranking features fitted on %d recent papers (%.1f s)", len(self._sample_ids), time.monotonic() - started)
        assert self._featurizer is not None
        return self._featurizer

    # Training

    async def train_member(self, user_id: int) -> LinearModel | None:
        """Train (or retrain) a member's model from their feedback, reading list and subscriptions, and store it.

        Returns None when there is nothing to learn from, or when the member was forgotten while it
        trained (the store throws such a model away: it learnt from deleted feedback).
        """
        started_at = self.services.clock()
        # Read before the labels: a change made while this trains leaves the member marked, and a
        # /forget me made meanwhile ends the mark's era, so the model is not kept.
        seen = await self.members.stale_mark(user_id)
        featurizer = await self.featurizer()
        labels = await self.members.labels(user_id)
        liked = await self.services.papers.by_arxiv_ids(labels.liked)
        disliked = await self.services.papers.by_arxiv_ids(labels.disliked)
        subscriptions = [s for s in await self.services.subscriptions.for_user(user_id) if s.kind != "exclude"]
        labelled = {p.arxiv_id for p in liked} | {p.arxiv_id for p in disliked}
        sample_ids, sample_rows = self._sample_ids, self._sample_rows
        assert sample_rows is not None
        rng = random.Random(user_id)
        pool = [i for i, arxiv_id in enumerate(sample_ids) if arxiv_id not in labelled]
        background = sorted(rng.sample(pool, min(BACKGROUND_NEGATIVES, len(pool))))

        def fit() -> LinearModel | None:
            import scipy.sparse as sp

            data = TrainingSet(
                liked=featurizer.transform(liked), disliked=featurizer.transform(disliked),
                subscriptions=featurizer.transform_terms([t for t in (subscription_terms(s) for s in subscriptions) if t]),
                background=sample_rows[background] if background else sp.csr_matrix((0, sample_rows.shape[1])),
            )
            return train(data)

        model = await asyncio.to_thread(fit)
        if model is None:
            await self.members.drop_model(user_id)
            await self.members.clear_stale(user_id, seen)
            return None
        features, weights = model.to_bytes()
        kept = await self.members.store_model(MemberModel(user_id, features, weights, model.intercept, model.positives,
                                                          model.negatives, started_at), seen)
        if not kept:
            log.info("the model trained for member %d was thrown away: they were forgotten while it trained", user_id)
            return None
        return model

    async def model_of(self, user_id: int) -> LinearModel | None:
        """The member's model, retrained first if it is out of date."""
        if await self.members.stale_mark(user_id) is not None:
            return await self.train_member(user_id)
        stored = await self.members.model(user_id)
        if stored is None:
            return None
        return LinearModel.from_bytes(stored.features, stored.weights, stored.intercept, stored.positives, stored.negatives)

    # Uses

    async def for_you(self, user_id: int, since: dt.date, until: dt.date, category: str | None, count: int = 50,
                      locale: str = ENGLISH) -> list[Ranked]:
        """The recent papers ranked for the member, best first, each with why."""
        model = await self.model_of(user_id)
        if model is None:
            raise NotEnoughToGoOn()
        featurizer = await self.featurizer()
        candidates = await self.services.papers.listed_between(since, until, category)
        labels = await self.members.labels(user_id)
        seen = set(labels.liked) | set(labels.disliked)
        candidates = [p for p in candidates if p.arxiv_id not in seen]
        liked = await self.services.papers.by_arxiv_ids(labels.liked[:500])
        sample_rows = self._sample_rows
        in_sample = self._sample_index

        def rank() -> list[Ranked]:
            import numpy as np

            rows = self._rows_for(featurizer, candidates, sample_rows, in_sample)
            scores = model.score(rows)
            order = np.argsort(-scores, kind="stable")[:count]
            liked_rows = featurizer.transform(liked)
            names = featurizer.index_of([t for i in order for t in paper_terms(candidates[int(i)])])
            ranked = []
            for i in order:
                row = rows[int(i)]
                why = ""
                if liked_rows.shape[0]:
                    best = cosine_top(row, liked_rows, 1)
                    if best and best[0][1] >= SIMILAR_ENOUGH:
                        why = t("similar to {title}", locale, title=f"“{liked[best[0][0]].title[:60]}”")
                if not why:
                    terms = strongest_terms(model, row, names)
                    why = ", ".join(terms) if terms else t("close to what you liked", locale)
                ranked.append(Ranked(candidates[int(i)], float(scores[int(i)]), why))
            return ranked

        return await asyncio.to_thread(rank)

    async def similar(self, paper: StoredPaper, count: int = 25, locale: str = ENGLISH) -> list[Ranked]:
        """The stored papers most similar to `paper` (cosine of TF-IDF), best first."""
        featurizer = await self.featurizer()
        query_terms = [t for t in paper_terms(paper) if not t.startswith(("cat:", "au:"))]
        row = featurizer.transform([paper])
        names = featurizer.index_of(query_terms)
        # The paper's most telling words, by TF-IDF weight, find the candidates through the search index.
        weights = sorted(zip(row.data.tolist(), row.indices.tolist(), strict=True), reverse=True)
        telling = [names[i] for _, i in weights if i in names][:8]
        ids: list[int] = []
        for size in (8, 5, 3):
            if len(telling) < 1:
                break
            query = " OR ".join(f'"{t}"' for t in telling[:size])
            try:
                ranking = await self.services.search.rank(query, depth=SIMILAR_CANDIDATES)
            except Exception:  # too broad or timed out: fewer, rarer terms
                log.debug("similar: candidate query %r failed", query, exc_info=True)
                continue
            ids = ranking.ids
            break
        # Older papers come from the search index; the recent sample the features were fitted on is compared whole.
        sample_ids, sample_rows, in_sample = self._sample_ids, self._sample_rows, self._sample_index
        assert sample_rows is not None
        older = [p for p in await self.services.search.papers(ids) if p.arxiv_id not in in_sample]

        def rank() -> list[tuple[str, float]]:
            import scipy.sparse as sp

            candidates = [*sample_ids, *(p.arxiv_id for p in older)]
            rows = sp.vstack([sample_rows, featurizer.transform(older)]).tocsr() if older else sample_rows
            skip = {i for i, arxiv_id in enumerate(candidates) if arxiv_id == paper.arxiv_id}
            return [(candidates[i], score) for i, score in cosine_top(row, rows, count, skip) if score > 0]

        best = await asyncio.to_thread(rank)
        papers = {p.arxiv_id: p for p in await self.services.papers.by_arxiv_ids([arxiv_id for arxiv_id, _ in best])}
        return [Ranked(papers[arxiv_id], score, t("{percent} alike", locale, percent=f"{score:.0%}"))
                for arxiv_id, score in best if arxiv_id in papers]

    @staticmethod
    def _rows_for(featurizer: Featurizer, papers: Sequence[StoredPaper], sample_rows: sp.csr_matrix | None,
                  in_sample: dict[str, int]) -> sp.csr_matrix:
        """Feature rows of papers: taken from the fitted sample when there (recent papers), computed otherwise."""
        import scipy.sparse as sp

        if sample_rows is None or not papers:
            return featurizer.transform(papers)
        missing = [p for p in papers if p.arxiv_id not in in_sample]
        computed = featurizer.transform(missing) if missing else None
        where: list[tuple[int, int]] = []  # (0 = sample / 1 = computed, row)
        position = 0
        for paper in papers:
            found = in_sample.get(paper.arxiv_id)
            if found is None:
                where.append((1, position))
                position += 1
            else:
                where.append((0, found))
        stacked = sp.vstack([sample_rows, computed]).tocsr() if computed is not None else sample_rows
        offset = sample_rows.shape[0]
        return stacked[[row if kind == 0 else offset + row for kind, row in where]]

    async def _rows_of_day(self, digest_id: int, papers: Sequence[StoredPaper]) -> sp.csr_matrix:
        featurizer = await self.featurizer()
        key = (digest_id, len(papers))
        rows = self._day_rows.get(key)
        if rows is None:
            rows = await asyncio.to_thread(featurizer.transform, list(papers))
            if len(self._day_rows) > 8:
                self._day_rows.clear()
            self._day_rows[key] = rows
        return rows

    async def order_positions(self, digest_id: int, arxiv_ids: Sequence[str],
                              positions: dict[int, list[int]]) -> dict[int, dict[int, float]]:
        """Score each member's matched papers (positions in the digest's `arxiv_ids`) by their model.

        Only members whose model learnt from enough liked papers are scored; the others keep the
        digest's order (they are left out of the answer).
        """
        if not positions:
            return {}
        found = {p.arxiv_id: p for p in await self.services.papers.by_arxiv_ids(list(dict.fromkeys(arxiv_ids)))}
        if len(found) != len(set(arxiv_ids)):
            return {}  # the day changed under the caller: leave every DM in digest order
        rows = await self._rows_of_day(digest_id, [found[i] for i in arxiv_ids])
        scored: dict[int, dict[int, float]] = {}
        users = list(positions)
        # A few hundred models at a time: ten thousand members' weights never sit in memory together.
        for start in range(0, len(users), MODELS_PER_BATCH):
            models = await self.members.models(users[start:start + MODELS_PER_BATCH])
            usable = {u: m for u, m in models.items() if m.positives >= MIN_POSITIVES}
            if not usable:
                continue

            def score_all(usable: dict[int, MemberModel] = usable) -> None:
                for user_id, stored in usable.items():
                    model = LinearModel.from_bytes(stored.features, stored.weights, stored.intercept, stored.positives,
                                                   stored.negatives)
                    wanted = sorted(set(positions[user_id]))
                    scored[user_id] = dict(zip(wanted, model.score(rows[wanted]).tolist(), strict=True))

            await asyncio.to_thread(score_all)
        return scored
