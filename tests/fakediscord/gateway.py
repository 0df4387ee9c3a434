"""The fake gateway: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME, and event dispatch."""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord


class Gateway:
    """One session at a time (the bot is not sharded); events sent while it is away are replayed on RESUME."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.ws: web.WebSocketResponse | None = None
        self.session_id: str | None = None
        self.sequence = 0
        self.sent: list[dict[str, Any]] = []  # every op-0 event of the session, for replay
        self.identifies = 0
        self.resumes = 0
        self.ready = asyncio.Event()
        self.heartbeats = 0
        self._compress: Any = None

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._compress = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        self.ws = ws
        await self._send(ws, {"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            op = payload.get("op")
            if op == 1:
                self.heartbeats += 1
                await self._send(ws, {"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self._identify(ws, payload["d"])
            elif op == 6:
                await self._resume(ws, payload["d"])
        if self.ws is ws:
            self.ws = None
            self.ready.clear()
        return ws

    async def _send(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        data = json.dumps(payload)
        if self._compress is not None:
            chunk = self._compress.compress(data.encode()) + self._compress.flush(zlib.Z_SYNC_FLUSH)
            await ws.send_bytes(chunk)
        else:
            await ws.send_str(data)

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.fake.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies += 1
        self.session_id = uuid.uuid4().hex
        self.sequence = 0
        self.sent = []
        fake = self.fake
        ready = {
            "v": 10, "user": fake.bot_user.payload(), "session_id": self.session_id,
            "resume_gateway_url": fake.gateway_url, "session_type": "normal",
            "guilds": [{"id": str(g), "unavailable": True} for g in fake.guilds],
            "application": {"id": str(fake.app_id), "flags": 0}, "private_channels": [], "relationships": [],
            "presences": [], "geo_ordered_rtc_regions": [], "_trace": ["fake"],
        }
        await self._event(ws, "READY", ready)
        for guild in fake.guilds.values():
            await self._event(ws, "GUILD_CREATE", guild.payload(fake.users))
        self.ready.set()

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("session_id") != self.session_id or data.get("token") != self.fake.token:
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return
        self.resumes += 1
        last = int(data.get("seq") or 0)
        for event in self.sent:
            if event["s"] > last:
                await self._send(ws, event)
        await self._send(ws, {"op": 0, "t": "RESUMED", "s": self._next(), "d": {"_trace": ["fake"]}})
        self.ready.set()

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    async def _event(self, ws: web.WebSocketResponse | None, name: str, data: dict[str, Any]) -> None:
        event = {"op": 0, "t": name, "s": self._next(), "d": data}
        self.sent.append(event)
        if ws is not None and not ws.closed:
            await self._send(ws, event)

    async def dispatch(self, name: str, data: dict[str, Any]) -> None:
        """Send an event to the bot (buffered for RESUME if it is disconnected right now)."""
        await self._event(self.ws, name, data)

    async def drop(self, code: int = 4000) -> None:
        """Close the connection as Discord does on a hiccup; the bot should RESUME."""
        ws = self.ws
        self.ready.clear()
        if ws is not None:
            await ws.close(code=code, message=b"fake drop")

    async def request_reconnect(self) -> None:
        """Send op 7 (reconnect): the bot should close and RESUME."""
        if self.ws is not None:
            self.ready.clear()
            await self._send(self.ws, {"op": 7, "d": None, "s": None, "t": None})

    async def close_all(self) -> None:
        if self.ws is not None:
            await self.ws.close(code=1001)
