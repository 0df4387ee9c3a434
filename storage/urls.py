"""URLs that come from settings or from digest data, made safe to store and to show.

A source URL may carry credentials (`https://user:token@host/...`, `?token=...`): those never
reach the log, the database, a status message or a channel. A link taken from digest data is
shown only when it is a plain http(s) URL with a real host.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"
# Characters that would let a URL break out of a Markdown link or hide where it points.
_UNSAFE_IN_LINK = re.compile(r"[\s<>()\[\]\"'`\\|{}^]")
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def redact_url(url: str) -> str:
    """`https://user:secret@host/p?token=x&a=1` -> `https://***@host/p?token=***&a=***`: nothing secret survives."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(key, REDACTED) for key, _ in pairs], safe="*") if pairs else REDACTED
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def url_secrets(url: str | None) -> list[str]:
    """The secret parts of a URL (password, user, query values), for a log filter to hide."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [value for value in (parts.password, parts.username) if value]
    found += [value for _, value in parse_qsl(parts.query, keep_blank_values=False) if value]
    return [value for value in found if len(value) >= 4]


def database_url_secrets(url: str | None) -> list[str]:
    """The secret parts of a database URL: its password and password-like parameters.

    Unlike a source URL (where the user name is often the token), a database's user name is not a
    secret, and hiding a common one (`postgres`) would blank that word in every log line.
    """
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    found += [value for key, value in parse_qsl(parts.query, keep_blank_values=False)
              if value and any(word in key.lower() for word in ("pass", "secret", "token", "key"))]
    return [value for value in found if len(value) >= 4]


def has_credentials(url: str) -> bool:
    """True when showing `url` would show a user name, password or query string."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    return "@" in parts.netloc or bool(parts.query)


def safe_web_link(url: str, *, named_host: bool = True) -> str | None:
    """Return `url` if it is a plain http(s) link that Markdown cannot mangle, else None.

    With `named_host` (links taken from digest data) the host must be a domain name, not an address.
    """
    candidate = url.strip()
    if not candidate or len(candidate) > 500 or _UNSAFE_IN_LINK.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        return None
    host = parts.hostname or ""
    if not _HOST.match(host) and (named_host or not re.fullmatch(r"[0-9.:\[\]a-fA-F]+", host)):
        return None
    return candidate


def link_label(url: str) -> str:
    """What a link shows, so readers see where it goes: `github.com/owner/repo`."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    label = (parts.hostname or "") + path
    return label if len(label) <= 80 else label[:79] + "…"
