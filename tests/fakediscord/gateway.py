"""The fake gateway: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME, shards and event dispatch.

A connection is one shard of the bot (`shard: [id, count]` in IDENTIFY; none means shard 0 of
1). A guild lives on shard `(guild_id >> 22) % count` and its events go there; DMs go to shard
0 only, as on Discord. Events sent while a shard is away are replayed when it RESUMEs.

The connections may come from several bot processes (each identifying some of the shards);
what Discord counts per bot is counted over all of them here: the day's session starts
(`session_start_limit.remaining`), and identify pacing. Discord's docs (Gateway: Identifying,
Rate Limiting, Sharding/Max Concurrency): shard `i` is in rate-limit bucket `i % max_concurrency`,
a bucket may start one session per 5 seconds, and an IDENTIFY past that limit is answered with
Invalid Session (op 9). The fake records each such IDENTIFY in `identify_violations`; with
`enforce_identify_pacing` it also answers as Discord does, op 9 with `d: false` (nothing to
resume), starting no session. Enforcing is off by default: the single-process tests restart the
bot within 5 s of its last identify, and discord.py's answer to op 9 (wait 5 s, identify again)
would add those seconds to each of them; the tests of several processes turn it on.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

# Discord closes a session with 4011 when one shard would hold more guilds than this.
MAX_GUILDS_PER_SHARD = 2500
# A rate-limit bucket of identifies starts one session per this many seconds.
IDENTIFY_WINDOW = 5.0
# How much earlier than IDENTIFY_WINDOW an identify may arrive and still count as paced: the
# bot measures its 5 s when it sends, the fake when it receives, and sockets differ by a few ms.
IDENTIFY_SLACK = 0.2


def shard_of(guild_id: int | None, count: int) -> int:
    """The shard a guild's events go to (DMs, with no guild, go to shard 0)."""
    return 0 if guild_id is None or count <= 1 else (guild_id >> 22) % count


@dataclass
class Session:
    """One shard's session: its socket while connected, and every op-0 event sent, for RESUME."""

    shard_id: int
    session_id: str
    ws: web.WebSocketResponse | None = None
    sequence: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    compress: Any = None
    ready: bool = False
    peer: int = 0  # the client's TCP port: which process holds the shard


class Gateway:
    """The bot's shards' sessions; `ready` is set while every shard of the bot has a ready session."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.shard_count = 1
        self.sessions: dict[int, Session] = {}
        self.identifies = 0
        self.resumes = 0
        self.ready = asyncio.Event()
        self.heartbeats = 0
        self.identify_log: list[tuple[float, int]] = []  # (loop time, shard id) of every session started
        # (loop time, shard id, seconds since the bucket's previous start) of every IDENTIFY refused as too soon.
        self.identify_violations: list[tuple[float, int, float]] = []
        self.enforce_identify_pacing = False  # True: answer a violation with op 9, as Discord does
        # Shards identified while another connection still held a live session of the same shard
        # (Discord allows it, and then sends the shard's events to one of them: a bot split over
        # processes should never do it).
        self.doubled_shards: list[int] = []
        self.session_start_total = 1000
        self.session_limit_hits = 0  # IDENTIFYs refused because the day's session starts were used up
        self.max_concurrency = 1
        self._bucket_started: dict[int, float] = {}  # rate-limit bucket -> loop time of its last session start

    # ----- what tests look at -------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        """Shard 0's session id (set it to make the next RESUME fail)."""
        session = self.sessions.get(0)
        return session.session_id if session else None

    @session_id.setter
    def session_id(self, value: str) -> None:
        self.sessions[0].session_id = value

    @property
    def ws(self) -> web.WebSocketResponse | None:
        session = self.sessions.get(0)
        return session.ws if session else None

    def shards_ready(self, shard_ids: list[int] | range) -> bool:
        """Whether each of these shards has a ready session (whichever connection or process holds it)."""
        return all((s := self.sessions.get(i)) is not None and s.ready for i in shard_ids)

    def guilds_on(self, shard_id: int) -> list[int]:
        return [g for g in self.fake.guilds if shard_of(g, self.shard_count) == shard_id]

    def session_start_limit(self) -> dict[str, int]:
        return {"total": self.session_start_total, "remaining": max(0, self.session_start_total - self.identifies),
                "reset_after": 86_400_000, "max_concurrency": self.max_concurrency}

    # ----- the connection -----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        peername = request.transport.get_extra_info("peername") if request.transport is not None else None
        peer = int(peername[1]) if peername else 0
        connection = Session(-1, "", ws=ws, compress=compress, peer=peer)
        await self._send(connection, {"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        session: Session | None = None
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            op = payload.get("op")
            if op == 1:
                self.heartbeats += 1
                await self._send(session or connection, {"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                session = await self._identify(ws, compress, payload["d"])
            elif op == 6:
                session = await self._resume(ws, compress, payload["d"])
            if session is not None and session.ws is ws:
                session.peer = peer
        if session is not None and session.ws is ws:
            session.ws = None
            session.ready = False
            self.ready.clear()
        return ws

    async def _send(self, session: Session, payload: dict[str, Any]) -> None:
        ws = session.ws
        if ws is None or ws.closed:
            return
        data = json.dumps(payload)
        if session.compress is not None:
            await ws.send_bytes(session.compress.compress(data.encode()) + session.compress.flush(zlib.Z_SYNC_FLUSH))
        else:
            await ws.send_str(data)

    async def _identify(self, ws: web.WebSocketResponse, compress: Any, data: dict[str, Any]) -> Session | None:
        if data.get("token") != self.fake.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard_id, count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < count:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        if count != self.shard_count:
            # A new shard count: the bot restarted with other shards; old sessions are void.
            self.shard_count = count
            self.sessions = {k: v for k, v in self.sessions.items() if k < count and v.ws is not None}
        guilds = self.guilds_on(shard_id)
        if len(guilds) > MAX_GUILDS_PER_SHARD:
            await ws.close(code=4011, message=b"Sharding required.")
            return None
        if self.identifies >= self.session_start_total:
            # Discord ends every session of the bot and resets its token; the fake closes this one.
            self.session_limit_hits += 1
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        now = asyncio.get_running_loop().time()
        bucket = shard_id % max(1, self.max_concurrency)
        previous = self._bucket_started.get(bucket)
        if previous is not None and now - previous < IDENTIFY_WINDOW - IDENTIFY_SLACK:
            self.identify_violations.append((now, shard_id, now - previous))
            if self.enforce_identify_pacing:
                await self._send(Session(-1, "", ws=ws, compress=compress), {"op": 9, "d": False, "s": None, "t": None})
                return None
        self._bucket_started[bucket] = now
        self.identifies += 1
        self.identify_log.append((now, shard_id))
        held = self.sessions.get(shard_id)
        if held is not None and held.ws is not None and not held.ws.closed and held.ws is not ws:
            self.doubled_shards.append(shard_id)
        session = Session(shard_id, uuid.uuid4().hex, ws=ws, compress=compress)
        self.sessions[shard_id] = session
        fake = self.fake
        ready = {
            "v": 10, "user": fake.bot_user.payload(), "session_id": session.session_id,
            "resume_gateway_url": fake.gateway_url, "session_type": "normal",
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "application": {"id": str(fake.app_id), "flags": 0}, "private_channels": [], "relationships": [],
            "presences": [], "geo_ordered_rtc_regions": [], "_trace": ["fake"], "shard": [shard_id, count],
        }
        await self._event(session, "READY", ready)
        for guild_id in guilds:
            await self._event(session, "GUILD_CREATE", fake.guilds[guild_id].payload(fake.users))
        session.ready = True
        self._update_ready()
        return session

    async def _resume(self, ws: web.WebSocketResponse, compress: Any, data: dict[str, Any]) -> Session | None:
        session = next((s for s in self.sessions.values() if s.session_id == data.get("session_id")), None)
        if session is None or data.get("token") != self.fake.token:
            await self._send(Session(-1, "", ws=ws, compress=compress), {"op": 9, "d": False, "s": None, "t": None})
            return None
        self.resumes += 1
        session.ws, session.compress = ws, compress
        last = int(data.get("seq") or 0)
        for event in session.sent:
            if event["s"] > last:
                await self._send(session, event)
        session.sequence += 1
        await self._send(session, {"op": 0, "t": "RESUMED", "s": session.sequence, "d": {"_trace": ["fake"]}})
        session.ready = True
        self._update_ready()
        return session

    def _update_ready(self) -> None:
        if all(self.sessions.get(i) is not None and self.sessions[i].ready for i in range(self.shard_count)):
            self.ready.set()

    async def _event(self, session: Session, name: str, data: dict[str, Any]) -> None:
        session.sequence += 1
        event = {"op": 0, "t": name, "s": session.sequence, "d": data}
        session.sent.append(event)
        await self._send(session, event)

    # ----- what the fake does to the bot ----------------------------------------------------------

    async def dispatch(self, name: str, data: dict[str, Any]) -> None:
        """Send an event to the shard it belongs to (buffered for RESUME if that shard is away right now)."""
        guild = data.get("guild_id")
        shard_id = shard_of(int(guild) if guild else None, self.shard_count)
        session = self.sessions.get(shard_id)
        if session is None:
            raise AssertionError(f"no session for shard {shard_id} (of {self.shard_count}): the bot has not identified it")
        await self._event(session, name, data)

    async def drop(self, code: int = 4000, shard_id: int = 0) -> None:
        """Close a shard's connection as Discord does on a hiccup; the bot should RESUME."""
        self.ready.clear()
        session = self.sessions.get(shard_id)
        if session is not None and session.ws is not None:
            session.ready = False
            await session.ws.close(code=code, message=b"fake drop")

    async def request_reconnect(self, shard_id: int = 0) -> None:
        """Send op 7 (reconnect) to a shard: the bot should close and RESUME."""
        session = self.sessions.get(shard_id)
        if session is not None and session.ws is not None:
            self.ready.clear()
            session.ready = False
            await self._send(session, {"op": 7, "d": None, "s": None, "t": None})

    async def close_all(self) -> None:
        for session in self.sessions.values():
            if session.ws is not None:
                await session.ws.close(code=1001)
