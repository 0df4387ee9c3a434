"""The delivery floor: a bare aiohttp client sending the same requests the bot sent, and nothing else.

    python bench/bare_client.py PLAN.json API_BASE TOKEN CONCURRENCY [RATE]

PLAN.json lists, per channel, the header body, the thread name and the thread's message bodies
as the bot sent them. For each channel this posts the header, starts the thread on it and posts
the parts, reading each answer's message id, `CONCURRENCY` channels at a time: no discord.py, no
rate-limit handling, no database, no ledger. It prints its own CPU seconds.

With RATE (requests per second), the requests start no closer than 1/RATE apart over the whole
client, the fastest any sender keeps to a global limit of RATE; it then prints its wall time in
seconds on the line before the CPU seconds.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

import aiohttp


class Pacer:
    """Request starts at most `rate` per second: each takes the next slot 1/rate after the last."""

    def __init__(self, rate: float | None) -> None:
        self.spacing = 1 / rate if rate else 0.0
        self.next = time.monotonic()

    async def wait(self) -> None:
        if not self.spacing:
            return
        now = time.monotonic()
        slot = max(now, self.next)
        self.next = slot + self.spacing
        if slot > now:
            await asyncio.sleep(slot - now)


PACER = Pacer(None)


async def deliver(session: aiohttp.ClientSession, base: str, plan: dict[str, object], gate: asyncio.Semaphore) -> None:
    async with gate:
        channel = plan["channel_id"]
        await PACER.wait()
        async with session.post(f"{base}/channels/{channel}/messages", json=plan["header"]) as response:
            message = await response.json()
        await PACER.wait()
        async with session.post(f"{base}/channels/{channel}/messages/{message['id']}/threads",
                                json={"name": plan["thread_name"], "auto_archive_duration": 1440}) as response:
            thread = await response.json()
        for body in plan["parts"]:  # type: ignore[attr-defined]
            await PACER.wait()
            async with session.post(f"{base}/channels/{thread['id']}/messages", json=body) as response:
                # The id of every message sent is read, as any sender that records what it posted must.
                await response.json()


async def main(plans: list[dict[str, object]], base: str, token: str, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bot {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        await asyncio.gather(*(deliver(session, base, plan, gate) for plan in plans))


if __name__ == "__main__":
    if len(sys.argv) > 5:
        PACER = Pacer(float(sys.argv[5]))
    started = time.perf_counter()
    asyncio.run(main(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")), sys.argv[2], sys.argv[3], int(sys.argv[4])))
    if len(sys.argv) > 5:
        print(time.perf_counter() - started)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(usage.ru_utime + usage.ru_stime)
