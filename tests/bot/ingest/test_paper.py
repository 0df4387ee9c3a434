"""arXiv ids as people paste them."""

from __future__ import annotations

import pytest

from bot.ingest.paper import normalize_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2601.20911", "2601.20911"),
        ("2601.20911v2", "2601.20911"),
        ("arXiv:2601.20911", "2601.20911"),
        ("  ARXIV: 2601.20911v1 ", "2601.20911"),
        ("https://arxiv.org/abs/2601.20911", "2601.20911"),
        ("https://arxiv.org/abs/2601.20911v3", "2601.20911"),
        ("https://arxiv.org/pdf/2601.20911v3.pdf", "2601.20911"),
        ("http://arxiv.org/pdf/2601.20911", "2601.20911"),
        ("https://arxiv.org/html/2601.20911v1/", "2601.20911"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136v2", "math.GT/0309136"),
        ("1234.5678", "1234.5678"),
        ("not an id", None),
        ("", None),
        ("2601.209", None),
        ("https://example.org/abs/nothing", None),
    ],
)
def test_normalize_arxiv_id(text: str, expected: str | None) -> None:
    assert normalize_arxiv_id(text) == expected
