"""Who serves a PostgreSQL database: the run lock, a session advisory lock held by the one `digestbot run`."""

from __future__ import annotations

import os
import socket
from typing import Any

import psycopg

from storage.errors import RunLockHeld
from storage.postgres.connection import CONNECT_TIMEOUT, describe, translate_error

# The advisory lock key of `digestbot run` ("digestrun" in ASCII, as a 64-bit number).
RUN_LOCK = 0x6469676573747275


class PgRunLock:
    """Held by the one `digestbot run` serving a database, on a connection of its own for the bot's life.

    The server lets go the moment that connection ends (the bot stopped or crashed), so there is
    never a stale lock; the holder is named by its connection's application_name.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def acquire(self) -> None:
        """Take the lock without waiting, or raise RunLockHeld naming the process that holds it."""
        where = describe(self.url)
        me = f"digestbot run (PID {os.getpid()} on {socket.gethostname()})"[:63]
        try:
            conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, application_name=me,
                                                         connect_timeout=CONNECT_TIMEOUT)
            cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (RUN_LOCK,))
            row = await cursor.fetchone()
            if row and row[0]:
                self._conn = conn
                return
            cursor = await conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s", (RUN_LOCK,))
            holder = await cursor.fetchone()
            await conn.close()
        except psycopg.Error as exc:
            raise translate_error(exc, where) from exc
        who = holder[0] if holder and holder[0] else "another `digestbot run`"
        raise RunLockHeld(
            f"{who} is already serving {where}; two bots on one database would both poll and both deliver "
            "(several processes sharing PostgreSQL need part 2 of the scaling work, docs/scaling.md). Stop that one "
            "first; ingest, backfill and status work beside it."
        )

    async def release(self) -> None:
        """Let go (closing the connection releases the lock)."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
