"""Backups, checks and vacuuming of the database file, safe to run beside the bot.

These use the plain sqlite3 module on their own connection (run in a worker thread by the
callers): they are one-off operator commands, not part of the bot's single writer.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from storage.errors import DatabaseBusy, StorageError
from storage.sqlite.files import ProcessLock
from storage.sqlite.schema import latest_schema_version


@dataclass(slots=True)
class CheckReport:
    """What `check` found; `ok` only when every check passed."""

    path: Path
    schema_version: int
    latest_version: int
    problems: list[str] = field(default_factory=list)
    papers: int = 0
    digests: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if not path.exists():
        raise StorageError(f"database {path} does not exist")
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    return conn


def check(path: Path, *, deep: bool = True) -> CheckReport:
    """Check schema version, page integrity, foreign keys and the full-text index of a database file."""
    conn = _connect(path, readonly=not deep)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        report = CheckReport(path, version, latest_schema_version())
        if version != report.latest_version:
            report.problems.append(f"schema version {version}, this program expects {report.latest_version} (start the bot once to migrate)")
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if integrity != ["ok"]:
            report.problems.append("integrity_check: " + "; ".join(integrity[:5]))
        foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        if foreign:
            report.problems.append(f"{len(foreign)} rows break foreign keys (first in table {foreign[0][0]})")
        if version >= 1:
            report.papers = int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])
            report.digests = int(conn.execute("SELECT count(*) FROM digests").fetchone()[0])
            mismatched = conn.execute(
                "SELECT d.date FROM digests d WHERE d.paper_count != (SELECT count(*) FROM digest_papers dp WHERE dp.digest_id = d.id)"
            ).fetchall()
            if mismatched:
                report.problems.append(f"digest paper counts disagree with their links for {len(mismatched)} days (first {mismatched[0][0]})")
            if deep:
                try:
                    # FTS5's own consistency check is an INSERT command, so it needs a writable connection.
                    conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('integrity-check')")
                    conn.commit()
                except sqlite3.DatabaseError as exc:
                    report.problems.append(f"full-text index: {exc}")
        return report
    finally:
        conn.close()


def backup(source: Path, target: Path) -> tuple[CheckReport, float]:
    """Copy a live database to `target` as one consistent snapshot, then check the copy.

    The copy is taken in a single step of SQLite's online backup API inside one read
    transaction: in WAL mode the bot keeps writing meanwhile (new writes go to the WAL and are
    not in the copy); a step-by-step backup would restart on every write and might never end.
    Returns the copy's check report and the seconds the copy took.
    """
    if target.exists():
        raise StorageError(f"{target} already exists; choose a new file name for the backup")
    if not target.parent.is_dir():
        raise StorageError(f"cannot write the backup: folder {target.parent} does not exist")
    src = _connect(source, readonly=True)
    partial = target.with_name(target.name + ".partial")
    try:
        dest = sqlite3.connect(partial)
        started = time.perf_counter()
        try:
            src.backup(dest, pages=-1)
        finally:
            dest.close()
        elapsed = time.perf_counter() - started
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"backup of {source} failed: {exc}") from exc
    finally:
        src.close()
    partial.replace(target)
    return check(target), elapsed


def vacuum(path: Path) -> tuple[int, int]:
    """Merge the full-text index and rebuild the file compactly; return sizes before and after (bytes).

    Refuses (DatabaseBusy) while another digestbot process has the database open: a vacuum beside
    the running bot would wait on it, then double the file instead of compacting it.
    """
    if not path.exists():
        raise StorageError(f"database {path} does not exist")
    lock = ProcessLock(path)
    if not lock.acquire(exclusive=True):
        raise DatabaseBusy(f"another digestbot process (the bot, an ingest or a backfill) has {path} open; "
                           "stop it first, then run `digestbot db vacuum` again")
    try:
        return _vacuum(path)
    finally:
        lock.release()


def _vacuum(path: Path) -> tuple[int, int]:
    before = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file() and not p.name.endswith(".lock"))
    conn = _connect(path, readonly=False)
    try:
        conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('optimize')")
        conn.commit()
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:
        raise StorageError(f"vacuum of {path} failed: {exc} (stop the bot and try again)") from exc
    finally:
        conn.close()
    after = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file() and not p.name.endswith(".lock"))
    return before, after
