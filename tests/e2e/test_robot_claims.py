"""End to end: a job handed to a robot whose connection drops at that moment is not lost, and runs once.

A "ghost" robot long-polls ``/api/robot/jobs/next`` over a raw socket, receives the job when it is
started, and drops the connection without acknowledging it (as a robot whose process died, or whose
network went away, right then). Podium had claimed the job for the ghost (Running); the claim is not
acknowledged within ``PODIUM_CLAIM_ACK_TIMEOUT`` (2 s here), so the job goes back to Pending and a real
``podium robot`` of another machine runs it. The package counts its runs in a file: one. The ghost's
late acknowledgement (with the token it received) is refused, so it could not have run the job too.
"""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from podium.db.schema import events, tenants
from podium.db.types import utcnow
from tests.conftest import sync_engine
from tests.e2e.robot_support import ODATA, Orchestrator, python_package, robot_agent, wait_sessions
from tests.e2e.test_sdk_jobs import podium_server
from tests.factories import listen_rows

pytestmark = pytest.mark.e2e

COUNTED = """
def main(arguments):
    with open(arguments["runs"], "a") as handle:
        handle.write("run\\n")
    with open(arguments["runs"]) as handle:
        return {"runs": len(handle.readlines())}
"""


def _long_poll_over_socket(base: str, token: str, agent_id: str) -> socket.socket:
    """Sends ``jobs/next`` (waiting up to 20 s) on a raw socket; the answer is read by ``_answer``."""
    address = urlsplit(base)
    assert address.hostname is not None and address.port is not None
    body = json.dumps({"agentId": agent_id, "running": {}, "free": 1, "wait": 20}).encode()
    head = (
        f"POST /api/robot/jobs/next HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    sock.sendall(head.encode() + body)
    return sock


def _answer(sock: socket.socket) -> dict[str, Any]:
    """The whole HTTP answer (``Connection: close``: until the server closes), then the socket dropped."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data
    answer: dict[str, Any] = json.loads(body)
    return answer


def test_unacknowledged_claim_goes_to_another_robot(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "PODIUM_CLAIM_ACK_TIMEOUT": "2",
        "PODIUM_HEARTBEAT_TIMEOUT": "30",  # the ghost sends no heartbeat: it stays connected meanwhile
        "PODIUM_HEARTBEAT_INTERVAL": "1",
    }.items():
        monkeypatch.setenv(name, value)
    runs = tmp_path / "runs.txt"
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        engine = sync_engine(database_url)
        with engine.begin() as conn:  # the outbox keeps the job's events
            tenant_id = conn.execute(select(tenants.c.id).where(tenants.c.name == "Default")).scalar_one()
            listen_rows(conn, tenant_id, utcnow())
        engine.dispose()
        orchestrator.process("counted", python_package("counted", COUNTED))
        ghost_machine = orchestrator.machine("GHOST")
        worker_machine = orchestrator.machine("WORKER")
        agent_id = str(uuid.uuid4())
        connect = {"machineKey": ghost_machine["Key"], "hostMachineName": "ghost-host", "agentId": agent_id}
        [ghost] = orchestrator.ok(orchestrator.http.post("/api/robot/connect", json=connect))["robots"]

        sock = _long_poll_over_socket(base, ghost["token"], agent_id)
        [job_id] = orchestrator.start("counted", {"runs": str(runs)})
        [handed] = _answer(sock)["jobs"]  # received, then the connection is gone: no acknowledgement
        assert handed["id"] == job_id and handed["claim"]
        claimed = orchestrator.job(job_id)
        assert (claimed["State"], claimed["RobotId"]) == ("Running", ghost["robotId"])

        with robot_agent(base, worker_machine["Key"], tmp_path / "worker"):
            wait_sessions(orchestrator, 1)
            done = orchestrator.wait(job_id, seconds=60)
        assert done["State"] == "Successful", done["Info"]
        assert json.loads(done["OutputArguments"]) == {"runs": 1}
        assert runs.read_text() == "run\n"  # it ran once
        [worker] = orchestrator.ok(
            orchestrator.http.get(f"{ODATA}/Robots", params={"$filter": "Name eq 'WORKER-r0'"})
        )["value"]
        assert done["RobotId"] == worker["Id"] and done["HostMachineName"] != "ghost-host"

        # the ghost comes back with what it received: its claim was withdrawn, it may not run the job
        ghost_headers = {"Authorization": f"Bearer {ghost['token']}"}
        late = orchestrator.http.post(
            f"/api/robot/jobs/{handed['key']}/state",
            json={"state": "Running", "claim": handed["claim"]},
            headers=ghost_headers,
        )
        assert late.status_code == 409 and set(late.json()) >= {"message", "errorCode", "traceId"}
        report = orchestrator.http.post(
            f"/api/robot/jobs/{handed['key']}/state", json={"state": "Faulted"}, headers=ghost_headers
        )
        assert report.status_code == 403
        assert orchestrator.job(job_id)["State"] == "Successful"

    engine = sync_engine(database_url)
    with engine.connect() as conn:
        history = [
            kind
            for (kind,) in conn.execute(
                select(events.c.type).where(events.c.entity_key == handed["key"]).order_by(events.c.id)
            )
            if kind in ("job.running", "job.pending", "job.successful")
        ]
    engine.dispose()
    assert history == ["job.running", "job.pending", "job.running", "job.successful"]
