"""Seeding a machine with robots and a release over the API, and speaking the robot protocol."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from podium.db.schema import releases
from podium.db.types import utcnow
from tests.support import Api

FOLDER = "Shared"


@dataclass
class RobotClient:
    """One robot of a connected agent: its token and the protocol calls."""

    api: Api
    robot_id: int
    robot_key: str
    name: str
    token: str
    agent_id: str
    running: dict[str, str] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def heartbeat(self) -> Any:
        body = {"agentId": self.agent_id, "running": self.running}
        return self.api.client.post("/api/robot/heartbeat", json=body, headers=self.headers())

    def next(self, wait: float = 0, free: int = 1) -> Any:
        body = {"agentId": self.agent_id, "running": self.running, "wait": wait, "free": free}
        response = self.api.client.post("/api/robot/jobs/next", json=body, headers=self.headers())
        assert response.status_code == 200, response.text
        answer = response.json()
        for job in answer["jobs"]:
            self.running[job["key"]] = "Running"
        return answer

    def report(self, key: str, state: str, **extra: Any) -> Any:
        body = {"state": state, **extra}
        return self.api.client.post(f"/api/robot/jobs/{key}/state", json=body, headers=self.headers())


def seed_machine(api: Api, db: Engine, robots: int = 1, name: str = "M1") -> dict[str, Any]:
    """A machine with ``robots`` robots in the Shared folder, and release 'proc' (no environment)."""
    machine = api.ok(api.post("/odata/Machines", {"Name": name, "Type": "Standard"}), 201)
    for index in range(robots):
        body = {
            "Name": f"{name}-robot-{index}",
            "MachineId": machine["Id"],
            "Type": "Unattended",
            "Username": f"{name.lower()}\\r{index}",
        }
        api.ok(api.post("/odata/Robots", body, folder=FOLDER), 201)
    with db.begin() as conn:  # the release directly: its package is not the point here
        exists = conn.execute(select(releases.c.id).where(releases.c.name == "proc")).first()
        if exists is None:
            conn.execute(
                insert(releases).values(
                    tenant_id=api.tenant.tenant_id,
                    folder_id=api.tenant.shared_folder_id,
                    key=str(uuid.uuid4()),
                    name="proc",
                    process_key="proc",
                    process_version="1.0.0",
                    creation_time=utcnow(),
                )
            )
    return dict(machine)


def connect(
    api: Api, machine: dict[str, Any], capacity: int = 1, agent_id: str | None = None
) -> list[RobotClient]:
    agent = agent_id or str(uuid.uuid4())
    body = {
        "machineKey": machine["Key"],
        "hostMachineName": "host-" + machine["Name"],
        "agentId": agent,
        "capacity": capacity,
        "version": "test",
    }
    answer = api.ok(api.client.post("/api/robot/connect", json=body))
    return [
        RobotClient(api, r["robotId"], r["robotKey"], r["robotName"], r["token"], agent)
        for r in answer["robots"]
    ]


def start_jobs(api: Api, count: int = 1, **info: Any) -> list[dict[str, Any]]:
    body = {"startInfo": {"ReleaseName": "proc", "Strategy": "JobsCount", "JobsCount": count, **info}}
    return list(
        api.ok(api.post("/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs", body, folder=FOLDER))[
            "value"
        ]
    )


def job(api: Api, job_id: int) -> dict[str, Any]:
    return dict(api.ok(api.get(f"/odata/Jobs({job_id})", folder=FOLDER)))
