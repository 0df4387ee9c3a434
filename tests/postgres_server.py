"""A real PostgreSQL server for the tests, and a fresh database per test cloned from a template.

The server is one of two things:
- `DIGESTBOT_TEST_POSTGRES_URL` set (for example `postgresql://me@127.0.0.1:5432/postgres`, a role
  that may create databases): that server, used as it is and never stopped;
- otherwise a private server started from the binaries in the `pgserver` wheel (the test extra
  installs it): `initdb` plus `postgres` on 127.0.0.1 and a free port, durability off, run as the
  `pgserver` system user when we are root (PostgreSQL refuses root; the user is created if missing),
  as ourselves otherwise. pgserver's own `get_server()` is not used: it has no TCP and leaves its
  server running when the Python process is killed.

The private server cannot outlive the test run: it is started with PR_SET_PDEATHSIG, so the kernel
kills it when the process that started it dies, even by SIGKILL. That signal fires when the *thread*
that forked it ends, so start it from the main thread (a session fixture is). Its files live under
`<tmp>/digestbot-test-postgres-<uid>/run-<pid>`; leftovers of runs whose process is gone are wiped at
start, the run's own folder at the end.

Databases: a template is prepared once per run by a callable (tests/engines.py has the hooks), then
closed to connections; each test gets `CREATE DATABASE ... TEMPLATE <template>` (about 20 ms) and the
database is dropped WITH (FORCE) after it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

URL_VARIABLE = "DIGESTBOT_TEST_POSTGRES_URL"
SYSTEM_USER = "pgserver"
SUPERUSER = "postgres"
# Many bot processes at once (each with its own connections), and a handful of tests' own.
MAX_CONNECTIONS = 300
SETTINGS = {
    # Test data is thrown away: no durability, no waiting for the disk.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": str(MAX_CONNECTIONS),
    "shared_buffers": "64MB",
    # A test run is short: no checkpoint or autovacuum in the middle of a timing.
    "checkpoint_timeout": "1h",
    "max_wal_size": "1GB",
    "log_min_messages": "warning",
}
START_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


class PostgresUnavailable(Exception):
    """No server can be had here: neither DIGESTBOT_TEST_POSTGRES_URL nor pgserver's binaries."""


def with_database(url: str, name: str) -> str:
    """`postgresql://u@h:1/postgres?x=y` with its database replaced by `name`."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or SUPERUSER


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


@dataclass
class Timings:
    initdb: float = 0.0
    start: float = 0.0
    clones: list[float] = field(default_factory=list)
    templates: dict[str, float] = field(default_factory=dict)

    def summary(self, external: bool) -> str:
        server = "an external server (DIGESTBOT_TEST_POSTGRES_URL)" if external else (
            f"server started in {self.initdb + self.start:.2f} s (initdb {self.initdb:.2f} s, ready {self.start:.2f} s)")
        parts = [f"postgres: {server}"]
        if self.templates:
            parts.append("templates " + ", ".join(f"{k} {v:.2f} s" for k, v in self.templates.items()))
        if self.clones:
            parts.append(f"{len(self.clones)} databases cloned, median {statistics.median(self.clones) * 1000:.0f} ms, "
                         f"slowest {max(self.clones) * 1000:.0f} ms")
        return "; ".join(parts)


@dataclass
class PostgresServer:
    """A server to make databases on: `url(name)` reaches database `name` as its superuser."""

    admin_url: str
    process: subprocess.Popen[bytes] | None = None
    run_dir: Path | None = None
    timings: Timings = field(default_factory=Timings)

    @property
    def external(self) -> bool:
        return self.process is None

    @property
    def data_dir(self) -> Path | None:
        return None if self.run_dir is None else self.run_dir / "data"

    def url(self, database: str) -> str:
        return with_database(self.admin_url, database)

    def log(self) -> str:
        if self.run_dir is None or not (self.run_dir / "postgres.log").exists():
            return ""
        return (self.run_dir / "postgres.log").read_text(errors="replace")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: sessions are ended, nothing is waited for), then the files go."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def binaries() -> Path:
    """pgserver's `pginstall/bin`, found without importing pgserver (its import has side effects)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable(
            f"no PostgreSQL for the tests: set {URL_VARIABLE}, or install the test extra "
            "(pgserver has wheels for Linux x86_64, CPython 3.9 to 3.12)")
    found = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (found / "postgres").exists():
        raise PostgresUnavailable(f"pgserver is installed but {found / 'postgres'} is missing")
    return found


def workspace() -> Path:
    """The known root of every run's files, readable by the server's user."""
    root = Path(tempfile.gettempdir()) / f"digestbot-test-postgres-{os.getuid()}"
    root.mkdir(mode=0o755, exist_ok=True)
    os.chmod(root, 0o755)
    return root


def wipe_leftovers(root: Path) -> None:
    """Remove the folders of runs whose process is gone (killed runs leave theirs behind)."""
    for folder in root.glob("run-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_as() -> dict[str, Any]:
    """subprocess arguments that run the server as `pgserver` when we are root, as ourselves otherwise."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "-M", "-s", "/usr/sbin/nologin", SYSTEM_USER],
                       check=True, capture_output=True)
        account = pwd.getpwnam(SYSTEM_USER)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _usable_binaries(bin_dir: Path, root: Path, run_as: dict[str, Any]) -> Path:
    """`bin_dir` if the server's user can run it; else a copy of the installation under `root`.

    A venv in a folder the `pgserver` user cannot enter (a 0700 home or clone folder) would make
    the server unstartable; a copy in the shared root is made once and kept.
    """
    try:
        subprocess.run([bin_dir / "postgres", "--version"], check=True, capture_output=True, **run_as)
        return bin_dir
    except (PermissionError, subprocess.CalledProcessError):
        pass
    install = bin_dir.parent
    copy = root / f"pginstall-{os.stat(bin_dir / 'postgres').st_mtime_ns}"
    if not (copy / "bin" / "postgres").exists():
        staging = root / f"pginstall-{os.getpid()}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(install, staging, symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                mode = path.stat().st_mode
                os.chmod(path, mode | (0o055 if path.is_dir() or mode & 0o100 else 0o044))
        with contextlib.suppress(OSError):
            staging.rename(copy)
        shutil.rmtree(staging, ignore_errors=True)
    return copy / "bin"


def _die_with(parent: int) -> Callable[[], None]:
    """preexec_fn: SIGKILL the child when the thread that started it dies.

    subprocess calls it after switching to the server's user (a change of user would clear the
    setting). If the parent died before the call, nobody is left to signal: exit at once.
    """
    def arm() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_private_server() -> PostgresServer:
    """initdb and start a server of our own; see the module's docstring."""
    if threading.current_thread() is not threading.main_thread():
        # PDEATHSIG is tied to the forking thread: a server started from another thread would be
        # killed when that thread ends, or survive a kill of the process if the thread outlived it.
        raise RuntimeError("start the test PostgreSQL server from the main thread")
    bin_dir = binaries()
    root = workspace()
    wipe_leftovers(root)
    run_as = _run_as()
    bin_dir = _usable_binaries(bin_dir, root, run_as)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    run_dir = root / f"run-{os.getpid()}-{worker}"
    shutil.rmtree(run_dir, ignore_errors=True)
    data = run_dir / "data"
    data.mkdir(parents=True, mode=0o755)
    os.chmod(run_dir, 0o755)
    log_path = run_dir / "postgres.log"
    if run_as:
        os.chown(data, run_as["user"], run_as["group"])
    timings = Timings()
    began = time.perf_counter()
    initdb = subprocess.run(
        [bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C",
         "--no-sync", "--no-instructions"],
        capture_output=True, **run_as,
    )
    if initdb.returncode != 0:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise RuntimeError(f"initdb failed ({initdb.returncode}): {initdb.stderr.decode(errors='replace')[-2000:]}")
    timings.initdb = time.perf_counter() - began
    settings = [arg for key, value in SETTINGS.items() for arg in ("-c", f"{key}={value}")]
    for _attempt in range(5):  # the free port may be taken between our probe and the server's bind
        port = _free_port()
        began = time.perf_counter()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                # -k '': no Unix socket (TCP only, so no socket path to get too long).
                [bin_dir / "postgres", "-D", data, "-h", "127.0.0.1", "-p", str(port), "-k", "", *settings],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with(os.getpid()), **run_as,
            )
        server = PostgresServer(f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", process, run_dir, timings)
        if _wait_ready(server):
            timings.start = time.perf_counter() - began
            return server
        if process.poll() is None or "could not bind" not in server.log():
            break
    log_text = server.log()
    server.stop()
    raise RuntimeError(f"the test PostgreSQL server did not start; its log:\n{log_text[-3000:]}")


def _wait_ready(server: PostgresServer) -> bool:
    import psycopg

    assert server.process is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            psycopg.connect(server.admin_url, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            time.sleep(0.01)
    return False


def start_server() -> PostgresServer:
    """The server of DIGESTBOT_TEST_POSTGRES_URL if set, else a private one (PostgresUnavailable if neither)."""
    try:
        import psycopg
    except ImportError:
        raise PostgresUnavailable("psycopg is not installed: install the test extra") from None
    url = os.environ.get(URL_VARIABLE)
    if url:
        try:
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.Error as exc:
            raise RuntimeError(f"{URL_VARIABLE} is set but its server cannot be reached: {exc}") from exc
        return PostgresServer(url)
    return start_private_server()


Prepare = Callable[[str], Coroutine[Any, Any, None]]


def run_coroutine(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to its end from sync code, even when called under a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


class Databases:
    """Databases on one server: templates prepared once, a clone per test, everything dropped at the end.

    Names carry a token of this run, so several runs (xdist workers, two checkouts) can share one
    external server.
    """

    def __init__(self, server: PostgresServer) -> None:
        import psycopg

        self.server = server
        self.prefix = f"digestbot_test_{secrets.token_hex(3)}"
        self._admin = psycopg.connect(server.admin_url, autocommit=True)
        self._count = 0
        self._lock = threading.Lock()
        self._templates: dict[str, str] = {}
        self._live: set[str] = set()

    def _execute(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            cursor = self._admin.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def template(self, name: str, prepare: Prepare, *, idle_timeout: float = 3.0) -> str:
        """The database name of template `name`, created and prepared (`await prepare(url)`) on first use.

        Afterwards no connection to it may remain (cloning needs it idle), and none is allowed again.
        """
        if name in self._templates:
            return self._templates[name]
        database = f"{self.prefix}_tmpl_{name}"
        began = time.perf_counter()
        # From template0 with the C locale: the same on every server, and text sorts by code point as on SQLite.
        self._execute(f'CREATE DATABASE "{database}" TEMPLATE template0 ENCODING \'UTF8\' LOCALE \'C\'')
        self._live.add(database)
        run_coroutine(prepare(self.server.url(database)))
        self._wait_idle(database, f"the template {name!r} hook left connections open", idle_timeout)
        self._execute(f'ALTER DATABASE "{database}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        self.server.timings.templates[name] = time.perf_counter() - began
        self._templates[name] = database
        return database

    def _wait_idle(self, database: str, problem: str, timeout: float = 3.0) -> None:
        """Closed connections take a moment to leave the server; open ones are a bug of whoever left them."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self._execute("SELECT pid, application_name, state, left(query, 200) FROM pg_stat_activity "
                                 "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
            if not rows:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{problem}: {rows}")
            time.sleep(0.01)

    def create(self, template: str | None = None) -> str:
        """A new database (a clone of `template`, or empty) and its URL."""
        with self._lock:
            self._count += 1
            database = f"{self.prefix}_{self._count}"
        began = time.perf_counter()
        if template is None:
            self._execute(f'CREATE DATABASE "{database}" TEMPLATE template0 ENCODING \'UTF8\' LOCALE \'C\'')
        else:
            self._execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
            self.server.timings.clones.append(time.perf_counter() - began)
        self._live.add(database)
        return self.server.url(database)

    def drop(self, url: str) -> None:
        """Drop a database, ending whatever is still connected to it (a bot that was not stopped)."""
        database = database_of(url)
        self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self._live.discard(database)

    def exists(self, url: str) -> bool:
        return bool(self._execute("SELECT 1 FROM pg_database WHERE datname = %s", (database_of(url),)))

    def close(self) -> None:
        """Drop every database of this run that is left (templates included)."""
        for database in sorted(self._live):
            if database in self._templates.values():
                self._execute(f'ALTER DATABASE "{database}" WITH IS_TEMPLATE false')
            self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self._live.clear()
        self._templates.clear()
        self._admin.close()
