"""Real ``podium serve`` processes for the end-to-end tests: one implementation that every e2e module
uses (through ``test_sdk_jobs.podium_server`` or ``queue_servers.podium_server``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

ADMIN_PASSWORD = "e2e-admin-password-1"
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def podium_command() -> list[str]:
    script = Path(sys.executable).with_name("podium")
    return [str(script)] if script.exists() else [sys.executable, "-m", "podium.cli"]


def ok(response: httpx.Response, status: int = 200) -> Any:
    where = f"{response.request.method} {response.request.url}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    return response.json() if response.content else None


@contextmanager
def podium_process(
    database_url: str,
    data_dir: Path,
    *,
    workers: int = 1,
    signing_key: str | None = None,
    log_name: str = "server.log",
    log_level: str = "warning",
    **settings: str,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``podium serve`` on a free port of 127.0.0.1: yields its base URL and process, always ended.

    ``settings`` become ``PODIUM_*`` variables; without ``signing_key`` the server keeps its signing key
    in the data folder, as a real installation does. The database must already be migrated (or
    stamped): the caller decides how its tables were made.
    """
    port = free_port()
    env = {**os.environ, "PODIUM_ADMIN_PASSWORD": ADMIN_PASSWORD}
    for name in ("PODIUM_DATABASE_URL", "PODIUM_DATA_DIR", "PODIUM_SECRET_KEY", "PODIUM_WORKERS"):
        env.pop(name, None)
    if signing_key is not None:
        env["PODIUM_SECRET_KEY"] = signing_key
    env.update({f"PODIUM_{name.upper()}": value for name, value in settings.items()})
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / log_name
    argv = [
        *podium_command(),
        "serve",
        "--database-url",
        database_url,
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        log_level,
        "--workers",
        str(workers),
    ]
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_ready(process, base, log_path)
            yield base, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_ready(process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"podium serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/api/status/version", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"podium serve did not answer within {STARTUP_SECONDS} s:\n{log_path.read_text()}")
