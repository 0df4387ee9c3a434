"""Who serves a PostgreSQL database: each `digestbot run` process's locks, and the one poller among them.

Every lock is a session advisory lock on one connection the process keeps for its life, so the
server lets go the moment the process stops or dies: there is never a stale lock to clean up.
- RUN_LOCK, held shared by every bot process (exclusively by `db migrate-to`, which must not
  copy under a running bot);
- the topology, held shared: every process of one bot runs with the same n and shard count
  (DIGESTBOT_PROCESS=k/n, DIGESTBOT_SHARDS), a process started with another is refused;
- its own index k, held exclusively: the same k started twice is refused;
- the poller's lease, taken by the first process to try and kept while it lives.
A holder is named by its connection's application_name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

import psycopg

from storage.errors import RunLockHeld, StorageError
from storage.postgres.connection import CONNECT_TIMEOUT, describe, translate_error

log = logging.getLogger(__name__)

# The advisory lock key of `digestbot run` ("digestru" in ASCII, as a 64-bit number).
RUN_LOCK = 0x6469676573747275
# Two-key locks (class, id) of the processes of one bot; the classes spell "dbst", "dbtp", "dbpr", "dbpl".
_START = (0x64627374, 0)
_TOPOLOGY = 0x64627470
_PROCESS = 0x64627072
_POLLER = (0x6462706C, 0)

_HOLDERS = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND a.pid <> pg_backend_pid() AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
)

# A host that vanishes (power, network) closes no socket: without keepalives the server would keep
# its session, and every lock with it, for hours. Both ends probe within about half a minute.
_KEEPALIVE: dict[str, Any] = {
    "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
    "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 -c tcp_user_timeout=30000",
}
# How long a check of the lock connection may take before the locks count as lost.
_CHECK_SECONDS = 10.0
# A process of this bot holding another topology than the one asked for.
_OTHER_TOPOLOGY = (_HOLDERS.replace("SELECT a.application_name", "SELECT a.application_name, l.objid", 1)
                   + "AND l.classid = %s AND l.objsubid = 2 AND l.objid <> %s LIMIT 1")


def topology_key(processes: int, shards: int | None) -> int:
    """The topology lock's id: n and the shard count (0 for `auto`, allowed with one process only)."""
    return processes << 16 | (shards or 0)


class PgRunLock:
    """The locks of one `digestbot run` process (k of n) on its own connection; also its poller lease."""

    def __init__(self, url: str, process: tuple[int, int] = (0, 1), shards: int | None = None) -> None:
        self.url = url
        self.index, self.processes = process
        self.shards = shards
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self.polling = False

    @property
    def name(self) -> str:
        """This process as its locks name it (`process 1/3`, or `digestbot run` alone)."""
        return f"process {self.index}/{self.processes}" if self.processes > 1 else "digestbot run"

    async def acquire(self) -> None:
        """Take the locks without waiting, or raise RunLockHeld naming who holds the one in the way."""
        where = describe(self.url)
        me = f"digestbot run {self.index}/{self.processes} (PID {os.getpid()} on {socket.gethostname()})"[:63]
        try:
            conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, application_name=me,
                                                         connect_timeout=CONNECT_TIMEOUT, **_KEEPALIVE)
        except psycopg.Error as exc:
            raise translate_error(exc, where) from exc
        try:
            refusal = await self._take(conn)
        except psycopg.Error as exc:
            await conn.close()
            raise translate_error(exc, where) from exc
        if refusal is not None:
            await conn.close()
            raise RunLockHeld(f"{refusal} ({where}). Stop that one first; ingest, backfill and status work beside a running bot.")
        self._conn = conn

    async def _take(self, conn: psycopg.AsyncConnection[Any]) -> str | None:
        """Take every lock of this process in one transaction (starts one at a time); a sentence when refused."""
        topology = topology_key(self.processes, self.shards)
        async with conn.transaction():
            # Starts queue here, so two processes starting at once never both see the other absent.
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _START)
            if not await self._try(conn, "SELECT pg_try_advisory_lock_shared(%s)", (RUN_LOCK,)):
                who = await self._holder(conn, "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s AND l.objsubid = 1",
                                         (RUN_LOCK,))
                return f"{who or 'a `digestbot db migrate-to`'} holds the database"
            other = await conn.execute(_OTHER_TOPOLOGY, (_TOPOLOGY, topology))
            row = await other.fetchone()
            if row is not None:
                processes, shards = int(row[1]) >> 16, int(row[1]) & 0xFFFF
                return (f"{row[0]} serves this database as one of {processes} process(es) with "
                        f"{shards or 'auto'} shard(s); every process of one bot needs the same DIGESTBOT_PROCESS count and "
                        f"DIGESTBOT_SHARDS (this one: {self.processes} and {self.shards or 'auto'})")
            await conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", (_TOPOLOGY, topology))
            if not await self._try(conn, "SELECT pg_try_advisory_lock(%s, %s)", (_PROCESS, self.index)):
                who = await self._holder(conn, "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2", (_PROCESS, self.index))
                what = f"process {self.index}/{self.processes}" if self.processes > 1 else "a `digestbot run`"
                return (f"{who or 'another `digestbot run`'} is already running as {what}; two bots with one index would "
                        "both run the same shards")
        return None

    @staticmethod
    async def _try(conn: psycopg.AsyncConnection[Any], sql: str, params: tuple[int, ...]) -> bool:
        row = await (await conn.execute(sql, params)).fetchone()
        return bool(row and row[0])

    @staticmethod
    async def _holder(conn: psycopg.AsyncConnection[Any], where: str, params: tuple[int, ...]) -> str | None:
        row = await (await conn.execute(_HOLDERS + where + " LIMIT 1", params)).fetchone()
        return str(row[0]) if row and row[0] else None

    async def poll_turn(self) -> bool:
        """True when this process is the poller: it holds the lease, or has just taken it.

        Once taken the lease is kept for the process's life (nothing else polls meanwhile); when
        its process ends, its connection does, and the next process to try takes over.
        """
        conn = self._conn
        if conn is None:
            return False
        try:
            async with asyncio.timeout(_CHECK_SECONDS):
                if self.polling:
                    await conn.execute("SELECT 1")  # the lease lives as long as this connection does
                    return True
                if await self._try(conn, "SELECT pg_try_advisory_lock(%s, %s)", _POLLER):
                    self.polling = True
                    log.info("%s polls the digest source from now on", self.name)
                    return True
                return False
        except (psycopg.Error, TimeoutError) as exc:
            self.polling = False
            raise StorageError(f"the connection holding {self.name}'s locks failed ({exc or 'no answer'}); not polling: "
                               "restart this process") from exc

    async def held(self) -> bool:
        """False once the connection holding the locks has ended: another process may hold this index now."""
        conn = self._conn
        if conn is None:
            return False
        try:
            async with asyncio.timeout(_CHECK_SECONDS):
                await conn.execute("SELECT 1")
        except (psycopg.Error, TimeoutError):
            self.polling = False
            return False
        return True

    async def release(self) -> None:
        """Let go (closing the connection releases every lock)."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
            self.polling = False
