"""At-least-once across a crash: an event committed while its subscriber is down is not lost when the
server is killed (SIGKILL) before delivering it; the next server process delivers it, signed, once the
subscriber is up (the outbox and the deliveries are rows, not memory)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from podium.db.schema_webhooks import webhook_attempts
from tests.conftest import sync_engine
from tests.e2e.queue_servers import admin_token, podium_server, prepare_database
from tests.e2e.servers import free_port, ok

pytestmark = pytest.mark.e2e
SECRET = "restart-secret"
SERVICES = {
    "webhook_fanout_enabled": "1",
    "webhook_delivery_enabled": "1",
    "outbound_allow_private": "1",
    "webhook_first_retry": "1",
    "webhook_timeout": "2",
}


class Receiver:
    """Records every POST with whether its X-UiPath-Signature is right; answers 200."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[dict[str, Any], bool]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                expected = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
                received.append((json.loads(raw), self.headers.get("X-UiPath-Signature") == expected))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def port() -> Iterator[int]:
    found = free_port()
    with socket.socket() as probe:  # nothing listens there until the test starts the receiver
        assert probe.connect_ex(("127.0.0.1", found)) != 0
    yield found


def _wait(what: str, check: Any, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {seconds} s")


def test_an_event_outlives_a_killed_server(database_url: str, tmp_path: Path, port: int) -> None:
    prepare_database(database_url)
    data = tmp_path / "data"
    engine = sync_engine(database_url)
    try:
        with podium_server(database_url, data, **SERVICES) as (base, process):
            headers = {"Authorization": f"Bearer {admin_token(base)}", "X-UIPATH-FolderPath": "Shared"}
            hook = {
                "Name": "ops",
                "Url": f"http://127.0.0.1:{port}/hook",
                "Secret": SECRET,
                "Events": [{"EventType": "queue.created"}],
            }
            ok(httpx.post(f"{base}/odata/Webhooks", json=hook, headers=headers, timeout=10), 201)
            queue = {"Name": "after-the-crash"}
            ok(httpx.post(f"{base}/odata/QueueDefinitions", json=queue, headers=headers, timeout=10), 201)

            def failed_attempts() -> int:
                with engine.connect() as conn:
                    rows = conn.execute(select(webhook_attempts.c.success)).scalars().all()
                return len(rows) if rows and not any(rows) else 0

            _wait("a failed attempt while the subscriber is down", failed_attempts)
            process.kill()  # SIGKILL: no shutdown, the event is still owed
            process.wait(timeout=10)
        receiver = Receiver(port)
        try:
            with podium_server(database_url, data, **SERVICES):

                def delivered() -> list[tuple[dict[str, Any], bool]]:
                    return [
                        (body, signed)
                        for body, signed in receiver.received
                        if body["Type"] == "queue.created"
                    ]

                [(body, signed)] = _wait("the owed event after the restart", delivered)
                assert signed
                assert [q["Name"] for q in body["Queues"]] == ["after-the-crash"]
                time.sleep(2)  # a second delivery of the same event would arrive by now
                assert [b["EventId"] for b, _ in delivered()] == [body["EventId"]]
        finally:
            receiver.server.shutdown()
            receiver.server.server_close()
    finally:
        engine.dispose()
