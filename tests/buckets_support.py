"""Helpers for the bucket tests: Podium in a uvicorn thread on a real socket, a moto S3 server on
loopback, stand-ins for an internal service (a listener that counts connections, a server that answers
every request with one error), and small HTTP shortcuts.

The S3 servers listen on 127.0.0.1: a test that uses one sets ``PODIUM_OUTBOUND_ALLOW_PRIVATE=1``
(``allow_private``), or Podium refuses the endpoint."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from podium.app import create_app
from podium.config import Settings
from podium.outbound import ALLOW_PRIVATE_ENV
from tests.support import ADMIN_PASSWORD, SIGNING_KEY, create_tenant_sync

ODATA = "/odata"
BUCKETS = "/odata/Buckets"
NS = "UiPath.Server.Configuration.OData"
S3_REGION = "us-east-1"
S3_ACCESS_KEY = "podium-test-access-key"
S3_SECRET_KEY = "podium-test-secret-key-0123456789"


def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """Private addresses allowed for outbound calls (this process and the servers it starts)."""
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    base: str
    settings: Settings
    http: httpx.Client  # logged in as admin, folder header Shared

    def odata(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(f"{BUCKETS}{path}", **kw)


@contextmanager
def live_podium(database_url: str, data_dir: Path, **settings_overrides: Any) -> Iterator[LiveServer]:
    """Podium served by uvicorn in a thread of this process on a free port of 127.0.0.1."""
    create_tenant_sync(database_url, "Default")
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key=SIGNING_KEY)
    for name, value in settings_overrides.items():
        setattr(settings, name, value)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
            token = http.post("/api/Account/Authenticate", json=login).json()["result"]
            http.headers.update({"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"})
            yield LiveServer(base, settings, http)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def moto_s3(bucket: str = "podium-bucket") -> Iterator[str]:
    """A moto S3 server (its own process, so it shares no memory with Podium) on a free loopback port
    with one empty bucket; yields its endpoint URL."""
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        )
        client.create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def s3_bucket_body(
    name: str, endpoint: str, container: str = "podium-bucket", **extra: Any
) -> dict[str, Any]:
    return {
        "Name": name,
        "StorageProvider": "Amazon",
        "StorageContainer": container,
        "StorageParameters": f"Endpoint={endpoint};Region={S3_REGION};AccessKeyId={S3_ACCESS_KEY}",
        "Password": S3_SECRET_KEY,
        **extra,
    }


@contextmanager
def counting_listener() -> Iterator[tuple[str, Callable[[], int]]]:
    """A socket listening on a free port of 127.0.0.1 that never answers: yields its http URL and a
    function counting the connections made to it so far (0 proves that no request was sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sock.setblocking(False)
        accepted: list[socket.socket] = []

        def count() -> int:
            while True:
                try:
                    accepted.append(sock.accept()[0])
                except BlockingIOError:
                    return len(accepted)

        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", count
        finally:
            for connection in accepted:
                connection.close()


@dataclass
class ErrorServer:
    endpoint: str
    requests: list[str] = field(default_factory=list)


@contextmanager
def error_server(status: int, body: bytes) -> Iterator[ErrorServer]:
    """An HTTP server on 127.0.0.1 answering every request with ``status`` and ``body`` (what an internal
    service, or a provider, might say)."""
    seen: list[str] = []

    class Answer(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path}")
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ErrorServer(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
