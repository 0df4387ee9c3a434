"""Ranking maths: features for English and Chinese, a member's model, its stored form."""

from __future__ import annotations

import dataclasses

import numpy as np

from bot.ranking.features import (
    Featurizer,
    LinearModel,
    TrainingSet,
    analyze,
    describe_term,
    paper_terms,
    train,
)
from tests.bot.render.test_export import BASE


def paper(arxiv_id: str, title: str, tldr: str = "", category: str = "cs.CV") -> object:
    return dataclasses.replace(BASE, arxiv_id=arxiv_id, title=title, tldr=tldr, abstract=title, primary_category=category,
                               categories=[category], authors=["Ada Lovelace"])


def test_words_and_chinese_bigrams_are_features() -> None:
    assert analyze("The Diffusion policy for 扩散模型") == ["diffusion", "policy", "扩散", "散模", "模型"]
    terms = paper_terms(paper("1", "Robot grasping", category="cs.RO"))  # type: ignore[arg-type]
    assert "cat:cs.ro" in terms and "au:ada lovelace" in terms
    assert describe_term("cat:cs.ro") == "cs.RO" and describe_term("au:ada lovelace") == "Ada Lovelace"


def test_a_model_ranks_the_liked_topic_first_and_survives_storage() -> None:
    robots = [paper(f"r{n}", f"robot grasping manipulation arm {n}", category="cs.RO") for n in range(8)]
    text = [paper(f"t{n}", f"language model translation tokens {n}", category="cs.CL") for n in range(8)]
    featurizer = Featurizer().fit(robots + text)  # type: ignore[arg-type]
    model = train(TrainingSet(
        liked=featurizer.transform(robots[:4]), disliked=featurizer.transform(text[:2]),  # type: ignore[arg-type]
        subscriptions=featurizer.transform_terms([]), background=featurizer.transform(text[2:4]),  # type: ignore[arg-type]
    ))
    assert model is not None and model.positives == 4 and model.negatives == 2
    held = featurizer.transform(robots[4:] + text[4:])  # type: ignore[arg-type]
    scores = model.score(held)
    assert scores[:4].min() > scores[4:].max()
    again = LinearModel.from_bytes(*model.to_bytes(), model.intercept, model.positives, model.negatives)
    assert np.allclose(again.score(held), scores, atol=1e-4)


def test_nothing_liked_is_no_model() -> None:
    featurizer = Featurizer().fit([])
    empty = featurizer.transform_terms([])
    assert train(TrainingSet(empty, empty, empty, empty)) is None
