"""A throwaway PostgreSQL server: the pgserver wheel's own initdb and postgres, over TCP.

No bench uses it any more (they start tests/postgres_server.py's server through bench/postgres.py);
it stays only while tests/storage/postgres/test_search_index.py imports it, and goes with that import.

Runs as the non-root `pgserver` user on 127.0.0.1 at a free port, with fsync off, and dies with
this process (PR_SET_PDEATHSIG); start it from the main thread. (The tests have their own fixture.)
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _bin() -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _pdeathsig() -> None:
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)


@contextlib.contextmanager
def server(root: str = "/tmp/pgbench", *settings: str) -> Iterator[str]:
    """Yield the DSN of a fresh server (its data dir removed afterwards)."""
    binary = _bin()
    Path(root).mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    base = Path(tempfile.mkdtemp(dir=root))
    os.chmod(base, 0o755)
    data = base / "data"
    data.mkdir()
    kw: dict[str, object] = {}
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("pgserver")
        except KeyError:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", "pgserver"], check=True)
            user = pwd.getpwnam("pgserver")
        os.chown(data, user.pw_uid, user.pw_gid)
        kw = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    subprocess.run([binary / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
                    "--locale=C"], check=True, stdout=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extra = [arg for setting in settings for arg in ("-c", setting)]
    log = open(base / "pg.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [binary / "postgres", "-D", data, "-h", "127.0.0.1", "-p", str(port), "-k", str(data), "-c", "fsync=off",
         "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=50", *extra],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=_pdeathsig, **kw)  # type: ignore[call-overload]
    try:
        while subprocess.run([binary / "pg_isready", "-h", "127.0.0.1", "-p", str(port), "-q"]).returncode != 0:
            if proc.poll() is not None:
                raise RuntimeError("postgres exited: " + (base / "pg.log").read_text())
            time.sleep(0.05)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)
