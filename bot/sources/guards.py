"""What a remote source may do to us: redirects followed only within the source's host, never into private networks."""

from __future__ import annotations

import ipaddress
import logging
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from storage.urls import redact_url

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)


def is_private_host(host: str | None) -> bool:
    if not host:
        return True
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved \
        or address.is_multicast or address.is_unspecified


def redirect_refusal(base: URL, target: URL, allowed_hosts: frozenset[str]) -> str | None:
    """Why a redirect from the source to `target` is not followed (None when it may be)."""
    if target.scheme not in ("http", "https") or not target.host:
        return f"a redirect to {target.scheme or '?'}:// is not followed"
    host = target.host.lower()
    same_origin = (target.scheme, host, target.port) == (base.scheme, (base.host or "").lower(), base.port)
    same_host_https = host == (base.host or "").lower() and target.scheme == "https"
    listed = host in allowed_hosts and target.scheme == "https"
    if not (same_origin or same_host_https or listed):
        return (f"a redirect to {redact_url(str(target.origin()))} is not followed: only https on the same host, "
                "or a host listed in DIGESTBOT_SOURCE_REDIRECT_HOSTS")
    if is_private_host(host) and not is_private_host(base.host):
        return f"a redirect to the private address {host} is not followed"
    return None


class PublicOnlyResolver(AbstractResolver):
    """DNS that refuses private, loopback and link-local answers (for a source on the public internet)."""

    def __init__(self) -> None:
        self._inner = aiohttp.resolver.DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        public = [r for r in results if not is_private_host(r["host"])]
        if not public:
            raise OSError(f"{host} resolves only to private addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()


class Refused(Exception):
    """The source answered something we will not take (too large, a redirect we do not follow)."""
