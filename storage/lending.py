"""How both engines' reader pools lend connections: a queue of idle readers and a gate for heavy reads.

Expensive reads (full-text searches) may hold all readers but one, so a point lookup always
finds a reader; a borrower waits at most `queue_wait` seconds (DatabaseBusy after). The pools
(storage/sqlite/readers.py, storage/postgres/readers.py) add what their engine needs around it.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

from storage.errors import DatabaseBusy

R = TypeVar("R")


class Lending(Generic[R]):
    """The idle readers of a pool and the heavy-read gate."""

    def __init__(self, readers: list[R], where: object) -> None:
        self.where = where
        self._idle: asyncio.Queue[R] = asyncio.Queue()
        for reader in readers:
            self._idle.put_nowait(reader)
        self._heavy = asyncio.Semaphore(max(1, len(readers) - 1))

    async def take(self, *, heavy: bool, queue_wait: float | None) -> R:
        """An idle reader (through the gate when `heavy`); DatabaseBusy after `queue_wait` seconds."""
        try:
            async with asyncio.timeout(queue_wait):
                if heavy:
                    await self._heavy.acquire()
                try:
                    return await self._idle.get()
                except BaseException:
                    if heavy:
                        self._heavy.release()
                    raise
        except TimeoutError:
            raise DatabaseBusy(f"every reader of {self.where} is busy") from None

    async def take_extra(self) -> R | None:
        """One more reader for a heavy read split in parts, only if one is free now (never waits)."""
        if self._heavy.locked() or self._idle.empty():
            return None
        await self._heavy.acquire()  # not locked: returns at once
        return self._idle.get_nowait()

    def give(self, reader: R, *, heavy: bool) -> None:
        """Take back a reader (and its place at the gate)."""
        self._idle.put_nowait(reader)
        if heavy:
            self._heavy.release()

    def take_all_idle(self) -> list[R]:
        """Every reader not lent out now (give each back with heavy=False)."""
        idle: list[R] = []
        while not self._idle.empty():
            idle.append(self._idle.get_nowait())
        return idle
