"""The fake Discord as several bot processes meet it: shards split over connections, one session
start count, identify pacing across connections, one global rate limit for the whole bot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakediscord import FakeDiscord
from tests.fakediscord.ratelimit import RateLimiter


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Connection:
    """One gateway connection, as one process's shard opens it."""

    def __init__(self, fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.http = http
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def identify(self, shard: int, count: int) -> dict[str, Any]:
        """Open, say HELLO back with IDENTIFY; return the first answer after HELLO (READY, op 9 or a close)."""
        self.ws = await self.http.ws_connect(self.fake.gateway_url)
        hello = await self.ws.receive_json()
        assert hello["op"] == 10
        await self.ws.send_str(json.dumps({"op": 2, "d": {"token": self.fake.token, "intents": 0, "shard": [shard, count],
                                                          "properties": {}}}))
        message = await self.ws.receive()
        if message.type == aiohttp.WSMsgType.TEXT:
            return dict(json.loads(message.data))
        return {"closed": self.ws.close_code}

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def test_shards_split_over_processes_are_one_ready_bot(fake: FakeDiscord) -> None:
    for shard in range(3):
        fake.add_guild(f"lab {shard}", fake.add_user(f"owner{shard}"), on_shard=(shard, 3))
    fake.gateway.max_concurrency = 3  # one bucket per shard: no pacing in the way
    async with aiohttp.ClientSession() as first, aiohttp.ClientSession() as second:
        one, two, three = Connection(fake, first), Connection(fake, second), Connection(fake, second)
        ready = await one.identify(0, 3)
        assert ready["t"] == "READY" and ready["d"]["shard"] == [0, 3]
        assert fake.gateway.shards_ready([0]) and not fake.gateway.ready.is_set()
        assert (await two.identify(1, 3))["t"] == "READY"
        assert not fake.gateway.ready.is_set()
        assert (await three.identify(2, 3))["t"] == "READY"
        assert fake.gateway.ready.is_set() and fake.gateway.shards_ready(range(3))
        assert fake.gateway.doubled_shards == []
        await fake.gateway.dispatch("TYPING_START", {"guild_id": str(fake.gateway.guilds_on(2)[0])})
        # The second process's session count as much as the first's: /gateway/bot counts all three.
        async with first.get(fake.api_base + "/gateway/bot", headers={"Authorization": f"Bot {fake.token}"}) as reply:
            assert (await reply.json())["session_start_limit"]["remaining"] == 997
        await three.close()
        await fake.wait_until(lambda: not fake.gateway.ready.is_set(), timeout=5)
        assert fake.gateway.shards_ready([0, 1]) and not fake.gateway.shards_ready([2])
        for connection in (one, two):
            await connection.close()


async def test_an_identify_too_soon_in_its_bucket_is_refused_whichever_process_sends_it(fake: FakeDiscord) -> None:
    gateway = fake.gateway  # max_concurrency 1: every shard is in bucket 0
    gateway.enforce_identify_pacing = True
    async with aiohttp.ClientSession() as first, aiohttp.ClientSession() as second:
        held = [Connection(fake, first), Connection(fake, second), Connection(fake, second), Connection(fake, first)]
        assert (await held[0].identify(0, 2))["t"] == "READY"
        # Another process starts shard 1 at once: Discord answers Invalid Session, nothing to resume.
        refused = await held[1].identify(1, 2)
        assert refused["op"] == 9 and refused["d"] is False
        assert [shard for _, shard, _ in gateway.identify_violations] == [1]
        assert gateway.identifies == 1 and not gateway.shards_ready([1])
        gateway._bucket_started[0] -= 5.0  # five seconds on
        assert (await held[2].identify(1, 2))["t"] == "READY"
        assert len(gateway.identify_violations) == 1 and gateway.ready.is_set()
        # A shard identified again while its session is live elsewhere is noted.
        gateway._bucket_started[0] -= 5.0
        assert (await held[3].identify(1, 2))["t"] == "READY"
        assert gateway.doubled_shards == [1]
        gateway.enforce_identify_pacing = False  # record only (the default)
        assert (await Connection(fake, first).identify(0, 2))["t"] == "READY"
        assert len(gateway.identify_violations) == 2


async def test_other_buckets_start_together_and_the_day_s_session_starts_run_out(fake: FakeDiscord) -> None:
    gateway = fake.gateway
    gateway.max_concurrency = 2
    gateway.session_start_total = 2
    async with aiohttp.ClientSession() as first, aiohttp.ClientSession() as second:
        assert (await Connection(fake, first).identify(0, 2))["t"] == "READY"
        assert (await Connection(fake, second).identify(1, 2))["t"] == "READY"
        assert gateway.identify_violations == []
        gateway._bucket_started.clear()
        assert await Connection(fake, second).identify(0, 2) == {"closed": 4004}
        assert gateway.session_limit_hits == 1 and gateway.session_start_limit()["remaining"] == 0


async def test_the_global_limit_is_one_window_for_every_process_and_spares_interactions(fake: FakeDiscord) -> None:
    fake.rate_limiter = RateLimiter(global_limit=3, global_per=60.0)
    channel = fake.add_channel(fake.add_guild("lab", fake.add_user("owner")), "papers")
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as first, aiohttp.ClientSession(headers=headers) as second:
        statuses = []
        for http in (first, second, first, second):
            async with http.get(f"{fake.api_base}/channels/{channel.id}") as reply:
                statuses.append(reply.status)
                if reply.status == 429:
                    assert reply.headers["X-RateLimit-Global"] == "true"
                    assert reply.headers["X-RateLimit-Scope"] == "global"
                    assert (await reply.json())["global"] is True
        assert statuses == [200, 200, 200, 429]
        async with first.get(f"{fake.api_base}/channels/{channel.id}") as reply:
            assert reply.status == 429  # the first process too, though it sent only two
        async with second.post(f"{fake.api_base}/interactions/1/token/callback", json={"type": 1}) as reply:
            assert reply.status == 404  # answered, not 429: an unknown interaction, past no global limit
    assert fake.rate_limiter.global_limited == 2
