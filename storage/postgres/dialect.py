"""The one thing both engines' SQL shares by translation: placeholders.

Statements are written once with SQLite's placeholders (`?` and `:name`); for PostgreSQL they
are rewritten to psycopg's (`%s` and `%(name)s`), with every `%` doubled (psycopg reads them inside quotes too). Nothing else is
translated: where the dialects differ (INSERT OR IGNORE, json functions, group_concat, scalar
max), each engine's statement is written out beside the other's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from storage.urls import redact_url

# A quoted literal or identifier (left alone), a `::` cast (left alone), a placeholder, or a `%`.
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|\?|(?<![:\w]):([A-Za-z_]\w*)|%""")


@lru_cache(maxsize=2048)
def to_pyformat(sql: str) -> str:
    """`SELECT * FROM t WHERE a = ? AND b = :b AND c LIKE 'x%'` -> `... a = %s AND b = %(b)s AND c LIKE 'x%%'`."""
    def replace(found: re.Match[str]) -> str:
        token = found.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if found.group(1) is not None:
            return f"%({found.group(1)})s"
        # A literal or an identifier: psycopg reads `%` everywhere in the statement, quotes or not.
        return token.replace("%", "%%")

    return _TOKEN.sub(replace, sql)


def shown_url(url: str) -> str:
    """A PostgreSQL URL as it may be printed: `postgresql://bot@db.example:5432/digests`, never a password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return redact_url(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))
