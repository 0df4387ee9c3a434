"""What storage raises, whichever engine runs beneath: each error's message names the database and the cause."""

from __future__ import annotations


class StorageError(Exception):
    """The database cannot be used; the message says which one and why."""


class DatabaseMissing(StorageError):
    """The database does not exist where it is expected (a read-only command, or it was deleted)."""


class DatabaseBusy(StorageError):
    """Another connection (often another process) held the write lock longer than we wait."""


class DatabaseFull(StorageError):
    """The disk (or the file system) holding the database is full."""


class DatabaseReadOnly(StorageError):
    """The database or its folder cannot be written (read-only file system or permissions)."""


class QueryTimeout(StorageError):
    """A read ran past its time budget and the engine stopped it."""


class RunLockHeld(StorageError):
    """Another `digestbot run` serves this database already (it holds the run lock)."""
