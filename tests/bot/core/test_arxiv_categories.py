"""arXiv's whole taxonomy: real categories are never called unknown."""

from __future__ import annotations

import pytest

from bot.core.arxiv_categories import (
    CATEGORY_NAMES,
    canonical_category,
    category_name,
    is_category_code,
)
from storage.text import is_category_shaped


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("physics.optics", "Optics"), ("econ.TH", "Theoretical Economics"), ("cond-mat.mtrl-sci", "Materials Science"),
        ("astro-ph.GA", "Astrophysics of Galaxies"), ("math.AG", "Algebraic Geometry"), ("q-bio.GN", "Genomics"),
        ("hep-th", "High Energy Physics - Theory"), ("cs.CV", "Computer Vision and Pattern Recognition"),
        ("stat.ML", "Machine Learning (Statistics)"), ("cs.LG", "Machine Learning"),
    ],
)
def test_real_categories_have_their_arxiv_names(code: str, name: str) -> None:
    assert category_name(code) == name and is_category_code(code)


def test_the_taxonomy_is_whole_and_every_code_passes_the_shape_check() -> None:
    archives = {code.split(".")[0] for code in CATEGORY_NAMES}
    assert {"astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math",
            "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio", "q-fin", "quant-ph", "stat"} <= archives
    assert len(CATEGORY_NAMES) >= 150
    assert all(is_category_shaped(code) for code in CATEGORY_NAMES)


def test_typed_case_is_forgiven_and_unknown_codes_are_refused() -> None:
    assert canonical_category("CS.cv") == "cs.CV" and canonical_category(" physics.OPTICS ") == "physics.optics"
    assert not is_category_code("cs.XX") and category_name("cs.XX") == ""
