"""Discord-style per-route rate limits for the fake, with the headers discord.py honours."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

# An interaction's callback, and what its token opens: follow-ups, the original response.
INTERACTION_ROUTES = re.compile(r"^/(interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+)")


@dataclass
class _Window:
    started: float
    used: int


class RateLimiter:
    """Fixed windows per (route, channel): `limit` requests per `per` seconds, like Discord's buckets.

    Replies carry X-RateLimit-Limit / Remaining / Reset-After / Bucket, so a well-behaved client
    spaces its requests and never sees a 429; one that ignores them gets 429s.

    `global_limit` requests per `global_per` seconds is Discord's global limit: one window per
    bot token over every request, whichever process or connection sends it, so every process of
    a bot sees the 429s once together they pass it. Interaction callbacks and the webhook routes
    of an interaction token are exempt, as Discord documents ("Interaction endpoints are not
    bound to the bot's Global Rate Limit", Rate Limits: Global Rate Limit).
    """

    def __init__(self, limit: int = 5, per: float = 5.0, routes: str = r"^/channels/\d+/(messages|threads)",
                 global_limit: int | None = None, global_per: float = 1.0) -> None:
        self.limit = limit
        self.per = per
        self.routes = re.compile(routes)
        self.windows: dict[str, _Window] = {}
        self.limited = 0
        self.global_limit = global_limit
        self.global_per = global_per
        self.global_window = _Window(time.monotonic(), 0)
        self.global_limited = 0

    def check(self, method: str, path: str) -> tuple[float | None, dict[str, str]]:
        """Return (seconds to wait, headers): a wait means answer 429."""
        if self.global_limit is not None and not INTERACTION_ROUTES.search(path):
            now = time.monotonic()
            if now - self.global_window.started >= self.global_per:
                self.global_window = _Window(now, 0)
            if self.global_window.used >= self.global_limit:
                self.global_limited += 1
                wait = max(0.001, self.global_per - (now - self.global_window.started))
                return wait, {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
            self.global_window.used += 1
        if method != "POST" or not self.routes.search(path):
            return None, {}
        major = path.split("/")[2]
        key = f"channel-{major}"
        now = time.monotonic()
        window = self.windows.get(key)
        if window is None or now - window.started >= self.per:
            window = self.windows[key] = _Window(now, 0)
        reset_after = max(0.0, self.per - (now - window.started))
        if window.used >= self.limit:
            self.limited += 1
            return reset_after, self._headers(0, reset_after, key)
        window.used += 1
        return None, self._headers(self.limit - window.used, reset_after, key)

    def _headers(self, remaining: int, reset_after: float, bucket: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Bucket": "messages-" + bucket.split("-")[0],
        }
