"""A real HTTP server on 127.0.0.1 that serves digest files as a fork's data branch does."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from email.utils import formatdate

from aiohttp import web


@dataclass
class DigestServer:
    """Serves `/data/<name>` from `files`, with ETag / Last-Modified and injectable failures.

    A name holding a slash is served at that path from the root instead (`mirror/x.md`).
    """

    files: dict[str, bytes] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)  # statuses to answer next, in order
    delay: float = 0.0  # seconds before every answer (a slow mirror)
    requests: list[tuple[str, int]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/{path:.+}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
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

    def publish_raw(self, name: str, body: bytes, headers: dict[str, str]) -> None:
        """Serve `body` as is with extra headers (e.g. a gzip body with Content-Encoding)."""
        self.files[name] = body
        self.headers[name] = headers

    def redirect(self, name: str, location: str) -> None:
        self.redirects[name] = location

    def remove(self, name: str) -> None:
        self.files.pop(name, None)

    def count(self, name: str, status: int | None = None) -> int:
        return sum(1 for n, s in self.requests if n == name and (status is None or s == status))

    async def _serve(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        path = request.match_info["path"]
        name = path.removeprefix("data/") if path.startswith("data/") and "/" not in path[5:] else path
        if self.failures:
            status = self.failures.pop(0)
            self.requests.append((name, status))
            return web.Response(status=status, text="upstream trouble")
        if name in self.redirects:
            self.requests.append((name, 302))
            return web.Response(status=302, headers={"Location": self.redirects[name]})
        data = self.files.get(name)
        if data is None:
            self.requests.append((name, 404))
            return web.Response(status=404, text="404: Not Found")
        etag = '"' + hashlib.sha1(data).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            self.requests.append((name, 304))
            return web.Response(status=304, headers={"ETag": etag})
        self.requests.append((name, 200))
        headers = {"ETag": etag, "Last-Modified": formatdate(usegmt=True), "Content-Type": "text/plain; charset=utf-8",
                   **self.headers.get(name, {})}
        return web.Response(body=data, headers=headers)
