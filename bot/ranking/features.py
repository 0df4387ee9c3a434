"""Paper features and per-member linear models: the maths of /foryou, /similar and the order of DMs.

Features are TF-IDF over hashed terms, as arxiv-sanity-lite ranks, but for English and Chinese
alike: English words (stop words dropped), Chinese as the overlapping character bigrams the
search index uses (storage.text.index_text), plus one feature per arXiv category (`cat:cs.ro`)
and per author (`au:yann lecun`). Hashing keeps the feature space fixed, so a member's stored
weights stay valid as new papers arrive; only the IDF is refitted now and then.

A member's model is a linear SVM (scikit-learn's LinearSVC) trained on what they liked (👍 or
saved), what they disliked (👎), their subscriptions as weak positives (a keyword is a short
document, a category or author its feature), and a sample of other recent papers as weak
negatives. Only the non-zero weights are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from storage.records import StoredPaper
from storage.subscriptions import Subscription
from storage.text import fold_name, has_cjk, index_text

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

# numpy, scipy and scikit-learn are imported where they are used, not here: together they weigh
# about 85 MB, which a bot whose members never use /foryou or /similar should not carry.

N_FEATURES = 2 ** 18
# A model needs this many liked papers before it orders a member's DMs.
MIN_POSITIVES = 5
# Weights kept per member (the strongest by size): 8 KiB stored, and ranking is no worse for it
# (keeping 1,000 of ~4,000 raised the simulated members' AUC from 0.884 to 0.906: it drops noise).
KEPT_WEIGHTS = 1000
# Regularisation of the SVM: with a dozen labelled papers, a strong pull towards small weights ranks best
# (bench/bench_foryou.py prints the AUC this gives on simulated members).
SVM_C = 0.5
# How much closeness to the centroid of the liked papers adds to the SVM's score.
ROCCHIO_WEIGHT = 2.0
_WORD = re.compile(r"[^\W_]+")
_MORE_STOP_WORDS = {"paper", "propose", "proposed", "approach", "method", "methods", "results", "based", "using", "novel",
                    "model", "models", "task", "tasks", "show"}


@cache
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _MORE_STOP_WORDS


def paper_text(paper: StoredPaper) -> str:
    """What a paper is about: title twice (it says the most), TL;DR, abstract and, for Chinese digests, the summaries."""
    parts = [paper.title, paper.title, paper.tldr, paper.abstract]
    if has_cjk(paper.tldr):
        parts += [paper.motivation, paper.method, paper.result, paper.conclusion]
    return "\n".join(p for p in parts if p)


def analyze(text: str) -> list[str]:
    """Words and CJK bigrams of free text, lower case, stop words and one-letter words left out."""
    stop = _stop_words()
    return [t for t in _WORD.findall(index_text(text).lower()) if t not in stop and (len(t) > 1 or has_cjk(t))
            and not t.isdigit()]


def paper_terms(paper: StoredPaper) -> list[str]:
    """Every feature of a paper: its words, its categories and its authors."""
    terms = analyze(paper_text(paper))
    terms += [f"cat:{c.lower()}" for c in {paper.primary_category, *paper.categories} if c]
    terms += [f"au:{fold_name(a)}" for a in paper.authors[:30] if a]
    return terms


def subscription_terms(subscription: Subscription) -> list[str]:
    """A subscription as a short document of the same features."""
    if subscription.kind == "category":
        return [f"cat:{subscription.value.lower()}"]
    if subscription.kind == "author":
        return [f"au:{fold_name(subscription.value)}"]
    return analyze(subscription.value)


def _identity(terms: list[str]) -> list[str]:
    return terms


def describe_term(term: str) -> str:
    """A feature as people read it: `cat:cs.ro` -> `cs.RO`, `au:yann lecun` -> `Yann Lecun`, Chinese bigrams as written."""
    if term.startswith("cat:"):
        code = term[4:]
        head, _, tail = code.partition(".")
        return f"{head}.{tail.upper()}" if tail else code
    if term.startswith("au:"):
        return term[3:].title()
    return term


class Featurizer:
    """Hashed TF-IDF features of papers; the IDF fitted on a sample of stored papers."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        self._hasher = HashingVectorizer(analyzer=_identity, n_features=N_FEATURES, alternate_sign=False, norm=None)
        self._idf = TfidfTransformer(sublinear_tf=True)

    def fit(self, papers: Sequence[StoredPaper]) -> Featurizer:
        """Fit the IDF on these papers (a recent sample of the corpus)."""
        import scipy.sparse as sp

        sample = list(papers)
        counts = self._hasher.transform(paper_terms(p) for p in sample) if sample else sp.csr_matrix((1, N_FEATURES))
        self._idf.fit(counts)
        return self

    def transform_terms(self, documents: Sequence[list[str]]) -> sp.csr_matrix:
        """Rows of L2-normalised TF-IDF for documents given as feature lists."""
        import scipy.sparse as sp

        if not documents:
            return sp.csr_matrix((0, N_FEATURES))
        return self._idf.transform(self._hasher.transform(documents)).tocsr()

    def transform(self, papers: Sequence[StoredPaper]) -> sp.csr_matrix:
        """Rows of L2-normalised TF-IDF for papers."""
        return self.transform_terms([paper_terms(p) for p in papers])

    def index_of(self, terms: Sequence[str]) -> dict[int, str]:
        """Which feature index each term hashes to (to name the features a score came from)."""
        if not terms:
            return {}
        unique = list(dict.fromkeys(terms))
        matrix = self._hasher.transform([[t] for t in unique]).tocsr()
        return {int(matrix.indices[matrix.indptr[i]]): term for i, term in enumerate(unique)
                if matrix.indptr[i + 1] > matrix.indptr[i]}


@dataclass(frozen=True)
class LinearModel:
    """Sparse weights over the hashed features, and an intercept."""

    features: np.ndarray   # int32 feature indexes, ascending
    weights: np.ndarray    # float32, same length
    intercept: float
    positives: int
    negatives: int

    def vector(self) -> sp.csc_matrix:
        """The weights as an N_FEATURES x 1 sparse column."""
        import numpy as np
        import scipy.sparse as sp

        return sp.csc_matrix((self.weights.astype(np.float64), (self.features, np.zeros(len(self.features), dtype=np.int32))),
                             shape=(N_FEATURES, 1))

    def score(self, rows: sp.csr_matrix) -> np.ndarray:
        """The model's score of each row (higher = more likely liked)."""
        import numpy as np
        import scipy.sparse as sp

        if rows.shape[0] == 0:
            return np.zeros(0)
        product = rows @ self.vector()
        dense = product.toarray() if sp.issparse(product) else np.asarray(product)
        return dense.ravel() + self.intercept

    def to_bytes(self) -> tuple[bytes, bytes]:
        """(features, weights) as stored: little-endian int32 and float32."""
        return self.features.astype("<i4").tobytes(), self.weights.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, features: bytes, weights: bytes, intercept: float, positives: int, negatives: int) -> LinearModel:
        """Rebuild a stored model."""
        import numpy as np

        return cls(np.frombuffer(features, dtype="<i4").astype(np.int32), np.frombuffer(weights, dtype="<f4").astype(np.float32),
                   intercept, positives, negatives)


@dataclass(frozen=True)
class TrainingSet:
    """Rows and labels for one member: liked, disliked, subscriptions (weak +), background (weak -)."""

    liked: sp.csr_matrix
    disliked: sp.csr_matrix
    subscriptions: sp.csr_matrix
    background: sp.csr_matrix


def train(data: TrainingSet, *, subscription_weight: float = 0.5, background_weight: float = 0.3) -> LinearModel | None:
    """Fit a member's linear SVM; None when there is nothing positive to learn from."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC

    positives = data.liked.shape[0] + data.subscriptions.shape[0]
    if positives == 0:
        return None
    rows = sp.vstack([data.liked, data.subscriptions, data.disliked, data.background]).tocsr()
    labels = np.concatenate([np.ones(positives), np.zeros(data.disliked.shape[0] + data.background.shape[0])])
    weights = np.concatenate([
        np.ones(data.liked.shape[0]), np.full(data.subscriptions.shape[0], subscription_weight),
        np.ones(data.disliked.shape[0]), np.full(data.background.shape[0], background_weight),
    ])
    if labels.min() == labels.max():
        return None  # nothing negative at all (an empty corpus): no line to draw
    classifier = LinearSVC(C=SVM_C, class_weight="balanced", loss="squared_hinge", max_iter=5000, tol=1e-4, random_state=0)
    classifier.fit(rows, labels, sample_weight=weights)
    coef = classifier.coef_.ravel().copy()
    # With a dozen liked papers an SVM alone ranks a little worse than plain closeness to what was
    # liked (Rocchio); adding the unit centroid of the liked rows keeps the model linear and
    # ranks better than either (bench/bench_foryou.py).
    liked = sp.vstack([data.liked, data.subscriptions * subscription_weight]).tocsr()
    centroid = np.asarray(liked.sum(axis=0)).ravel()
    norm = float(np.linalg.norm(centroid))
    if norm > 0 and ROCCHIO_WEIGHT:
        coef += ROCCHIO_WEIGHT * centroid / norm
    nonzero = np.flatnonzero(coef)
    if len(nonzero) > KEPT_WEIGHTS:
        nonzero = nonzero[np.argsort(-np.abs(coef[nonzero]))[:KEPT_WEIGHTS]]
        nonzero.sort()
    return LinearModel(nonzero.astype(np.int32), coef[nonzero].astype(np.float32), float(classifier.intercept_[0]),
                       int(data.liked.shape[0]), int(data.disliked.shape[0]))


def strongest_terms(model: LinearModel, row: sp.csr_matrix, names: dict[int, str], count: int = 3) -> list[str]:
    """The features that raised this paper's score the most, named."""
    weights = dict(zip(model.features.tolist(), model.weights.tolist(), strict=True))
    contributions = [(value * weights.get(int(index), 0.0), int(index)) for index, value in zip(row.indices, row.data, strict=True)]
    best = sorted((c for c in contributions if c[0] > 0), reverse=True)
    return [describe_term(names[i]) for _, i in best if i in names][:count]


def cosine_top(query: sp.csr_matrix, rows: sp.csr_matrix, count: int, skip: set[int] | None = None) -> list[tuple[int, float]]:
    """The `count` rows most similar to the single-row `query` (rows are L2-normalised): (row index, cosine)."""
    import numpy as np

    if rows.shape[0] == 0:
        return []
    similarity = np.asarray((rows @ query.T).todense()).ravel()
    order = np.argsort(-similarity, kind="stable")
    found: list[tuple[int, float]] = []
    for index in order:
        if skip and int(index) in skip:
            continue
        found.append((int(index), float(similarity[index])))
        if len(found) == count:
            break
    return found


def days_back(latest: dt.date, days: int) -> dt.date:
    """The first day of a window of `days` days ending on `latest`."""
    return latest - dt.timedelta(days=max(1, days) - 1)
