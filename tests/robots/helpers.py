"""Speaking the robot protocol (a machine with robots and release 'proc' to start jobs of:
``tests.factories.seed_machine`` and ``start_jobs``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

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


def job(api: Api, job_id: int) -> dict[str, Any]:
    return dict(api.ok(api.get(f"/odata/Jobs({job_id})", folder=FOLDER)))
