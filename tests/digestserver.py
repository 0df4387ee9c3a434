"""A real HTTP server on 127.0.0.1 that serves digest files as a fork's data branch does."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.utils import formatdate

from aiohttp import web


@dataclass
class DigestServer:
    """Serves `/data/<name>` from `files`, with ETag / Last-Modified and injectable failures."""

    files: dict[str, bytes] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)  # statuses to answer next, in order
    requests: list[tuple[str, int]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/data/{name}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def publish(self, name: str, data: bytes) -> None:
        self.files[name] = data

    def count(self, name: str, status: int | None = None) -> int:
        return sum(1 for n, s in self.requests if n == name and (status is None or s == status))

    async def _serve(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if self.failures:
            status = self.failures.pop(0)
            self.requests.append((name, status))
            return web.Response(status=status, text="upstream trouble")
        data = self.files.get(name)
        if data is None:
            self.requests.append((name, 404))
            return web.Response(status=404, text="404: Not Found")
        etag = '"' + hashlib.sha1(data).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            self.requests.append((name, 304))
            return web.Response(status=304, headers={"ETag": etag})
        self.requests.append((name, 200))
        return web.Response(body=data, headers={"ETag": etag, "Last-Modified": formatdate(usegmt=True),
                                                "Content-Type": "text/plain; charset=utf-8"})
