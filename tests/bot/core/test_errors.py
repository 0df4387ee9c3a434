"""Domain errors cross into and out of the worker process whole: template, values and fields."""

from __future__ import annotations

import pickle

from bot.core.errors import DigestError, LimitReached


def test_errors_survive_pickling_with_their_template_and_values() -> None:
    limit = pickle.loads(pickle.dumps(LimitReached("You have {count} requests still running.", count=3)))
    assert (type(limit), limit.template, limit.values, limit.message) == (
        LimitReached, "You have {count} requests still running.", {"count": 3}, "You have 3 requests still running.")
    digest = pickle.loads(pickle.dumps(DigestError("2026-01-01.md", "is not a digest")))
    assert (digest.source, digest.problem, digest.message) == ("2026-01-01.md", "is not a digest", "2026-01-01.md: is not a digest")
