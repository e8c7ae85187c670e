"""End to end on PostgreSQL: robots long-polling two ``podium serve`` processes.

A job started on one server wakes a robot waiting on the other (LISTEN/NOTIFY), and sixty jobs taken
by six robots spread over both servers each run exactly once (one ``job.running`` event per job).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from podium.db.schema import events, folders, jobs, releases, tenants
from podium.db.types import utcnow
from tests.conftest import sync_engine
from tests.e2e.queue_servers import ADMIN_PASSWORD, podium_servers
from tests.e2e.test_sdk_jobs import ok
from tests.factories import listen_rows

pytestmark = pytest.mark.e2e
NS = "UiPath.Server.Configuration.OData"


def _seed(base: str, database_url: str) -> tuple[str, str]:
    """Admin token and the key of a machine with six robots; release 'proc' in Shared; a webhook."""
    login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
    token = ok(httpx.post(f"{base}/api/Account/Authenticate", json=login))["result"]
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    machine = ok(httpx.post(f"{base}/odata/Machines", json={"Name": "MULTI"}, headers=headers), 201)
    for index in range(6):
        body = {"Name": f"multi-{index}", "MachineId": machine["Id"], "Type": "Unattended"}
        ok(httpx.post(f"{base}/odata/Robots", json=body, headers=headers), 201)
    engine = sync_engine(database_url)
    with engine.begin() as conn:
        tenant_id = conn.execute(select(tenants.c.id).where(tenants.c.name == "Default")).scalar_one()
        folder_id = conn.execute(select(folders.c.id).where(folders.c.tenant_id == tenant_id)).scalar_one()
        conn.execute(
            insert(releases).values(
                tenant_id=tenant_id,
                folder_id=folder_id,
                key=str(uuid.uuid4()),
                name="proc",
                process_key="proc",
                creation_time=utcnow(),
            )
        )
        listen_rows(conn, tenant_id, utcnow())  # the outbox keeps the jobs' events
    engine.dispose()
    return token, machine["Key"]


def _start(base: str, token: str, count: int) -> list[int]:
    body = {"startInfo": {"ReleaseName": "proc", "Strategy": "JobsCount", "JobsCount": count}}
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    return [
        j["Id"]
        for j in ok(httpx.post(f"{base}/odata/Jobs/{NS}.StartJobs", json=body, headers=headers))["value"]
    ]


def _robot_loop(base: str, robot: dict[str, Any], agent: str, stop: threading.Event, done: list[str]) -> None:
    headers = {"Authorization": f"Bearer {robot['token']}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        while not stop.is_set():
            answer = ok(http.post("/api/robot/jobs/next", json={"agentId": agent, "wait": 2}))
            for job in answer["jobs"]:
                ok(http.post(f"/api/robot/jobs/{job['key']}/state", json={"state": "Successful"}))
                done.append(job["key"])


def test_two_servers_share_robots(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several server processes need PostgreSQL")
    with podium_servers(database_url, tmp_path, 2, heartbeat_timeout="60") as bases:
        token, machine_key = _seed(bases[0], database_url)
        agent = str(uuid.uuid4())
        connect = {"machineKey": machine_key, "hostMachineName": "multi-host", "agentId": agent}
        robots = ok(httpx.post(f"{bases[0]}/api/robot/connect", json=connect))["robots"]

        # one robot waits on server 1; a job started on server 0 wakes it long before its poll ends
        first = robots[0]
        began = time.monotonic()
        poll: dict[str, Any] = {}
        waiting = threading.Thread(
            target=lambda: poll.update(
                ok(
                    httpx.post(
                        f"{bases[1]}/api/robot/jobs/next",
                        json={"agentId": agent, "wait": 25},
                        headers={"Authorization": f"Bearer {first['token']}"},
                        timeout=60,
                    )
                )
            )
        )
        waiting.start()
        time.sleep(1)
        [job_id] = _start(bases[0], token, 1)
        waiting.join(timeout=60)
        assert [j["id"] for j in poll["jobs"]] == [job_id] and time.monotonic() - began < 20
        ok(
            httpx.post(
                f"{bases[1]}/api/robot/jobs/{poll['jobs'][0]['key']}/state",
                json={"state": "Successful"},
                headers={"Authorization": f"Bearer {first['token']}"},
            )
        )

        stop, done = threading.Event(), []  # type: ignore[var-annotated]
        threads = [
            threading.Thread(target=_robot_loop, args=(bases[i % 2], robot, agent, stop, done))
            for i, robot in enumerate(robots)
        ]
        for thread in threads:
            thread.start()
        ids = _start(bases[0], token, 30) + _start(bases[1], token, 30)
        deadline = time.monotonic() + 90
        while len(done) < 60 and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert len(done) == 60 and len(set(done)) == 60
        engine = sync_engine(database_url)
        with engine.connect() as conn:
            states = Counter(s for (s,) in conn.execute(select(jobs.c.state).where(jobs.c.id.in_(ids))))
            running = Counter(
                k for (k,) in conn.execute(select(events.c.entity_key).where(events.c.type == "job.running"))
            )
        engine.dispose()
        assert states == {5: 60}
        assert set(running.values()) == {1} and len(running) == 61  # each job claimed once
