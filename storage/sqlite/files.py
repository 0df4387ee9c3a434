"""Care of the database file: the lock files beside it, whether it can be written, whether it is still ours."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.errors import DatabaseReadOnly, RunLockHeld, StorageError


class ProcessLock:
    """A lock file beside the database: every process using the database holds it shared; `db vacuum`
    needs it alone, so it can tell that the bot (or an ingest) is running instead of waiting on it."""

    def __init__(self, path: Path) -> None:
        # Beside the real file: two spellings of one database (a symlink) share one lock.
        self.path = Path(f"{Path(path).resolve()}.lock")
        self._fd: int | None = None

    def acquire(self, *, exclusive: bool) -> bool:
        """Take the lock without waiting; False when another process holds it the other way."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return True  # a read-only folder: nothing can vacuum there either
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let go (closing the file releases the lock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class RunLock:
    """`<db>.run.lock`, held exclusively by the one `digestbot run` serving a database, with its PID inside.

    SQLite gives one database one poller and one deliverer only if one bot process uses it: a second
    `run` would fetch and post every day twice over the same delivery ledger. Only `run` takes this
    lock (ingest, backfill, status and the rest work beside a running bot: they hold ProcessLock
    shared), and only on an engine that cannot coordinate several processes itself
    (`Database.SEVERAL_PROCESSES`). flock ends with the process, so a crashed bot leaves no stale lock.
    """

    def __init__(self, path: Path) -> None:
        self.database = Path(path)
        # Beside the real file: a symlink to the database must not get a second bot.
        self.path = Path(f"{Path(path).resolve()}.run.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting, or raise RunLockHeld naming the file and the PID that holds it."""
        folder = self.database.parent
        if not folder.exists():
            raise StorageError(f"cannot open database {self.database}: folder {folder} does not exist")
        problem = write_problem(self.database)
        if problem is not None:
            raise DatabaseReadOnly(problem)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(f"cannot open the run lock {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                written = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
            pid = f" (PID {written})" if written.isdigit() else ""
            raise RunLockHeld(
                f"another `digestbot run`{pid} is already serving {self.database} (it holds {self.path}); two bots on "
                "one SQLite database would both poll and both deliver. Stop that one first; ingest, backfill and "
                "status work beside it."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        """Let go: empty the file (no PID of a bot that stopped) and close it, which releases the lock."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None


def write_problem(path: Path) -> str | None:
    """Why the database cannot be written at all (a read-only file system, no permission), or None."""
    folder = path.resolve().parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"cannot write the database: read-only file system at {path}"
    except OSError:
        return None
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"cannot write the database: no permission to write {path} (or its folder)"
    return None


def file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino
