"""The agent's side of the robot protocol (see the README): HTTP calls and their retries. The answers
are read into the types of ``robot.messages``, the ones the server writes them from."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from podium.robot.messages import Assignment, Command, ConnectAnswer, HeartbeatAnswer, JobsAnswer

log = logging.getLogger("podium.robot")


class SessionLost(Exception):
    """The robot token expired or the session was taken over: connect again."""


@dataclass
class RobotSession:
    robot_id: int
    robot_key: str
    name: str
    token: str
    capacity: int
    running: dict[str, str] = field(default_factory=dict)  # job key -> state the agent knows


@dataclass
class Connection:
    robots: list[RobotSession]
    orchestrator_url: str
    heartbeat_seconds: float
    long_poll_seconds: float


@dataclass
class Credentials:
    machine_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class Protocol:
    def __init__(
        self,
        url: str,
        credentials: Credentials,
        agent_id: str,
        host: str,
        capacity: int,
        robot_name: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.credentials = credentials
        self.agent_id = agent_id
        self.host = host
        self.capacity = capacity
        self.robot_name = robot_name
        self.http = httpx.AsyncClient(base_url=self.url, timeout=httpx.Timeout(30, read=150))

    async def close(self) -> None:
        await self.http.aclose()

    async def _client_token(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.credentials.client_id or "",
            "client_secret": self.credentials.client_secret or "",
            "scope": "OR.Robots",
        }
        response = await self.http.post("/identity_/connect/token", data=form)
        if response.status_code != 200:
            raise PermissionError(f"Client credentials refused: {response.text}")
        token: str = response.json()["access_token"]
        return token

    async def connect(self) -> Connection:
        body: dict[str, Any] = {
            "agentId": self.agent_id,
            "hostMachineName": self.host,
            "capacity": self.capacity,
            "version": "podium-robot",
            "robotName": self.robot_name,
        }
        headers = {}
        if self.credentials.machine_key:
            body["machineKey"] = self.credentials.machine_key
        else:
            headers["Authorization"] = f"Bearer {await self._client_token()}"
        response = await self.http.post("/api/robot/connect", json=body, headers=headers)
        if response.status_code in (400, 401, 403):
            raise PermissionError(f"Podium refused the connection: {response.text}")
        response.raise_for_status()
        answer = ConnectAnswer.from_json(response.json())
        robots = [
            RobotSession(r.robot_id, r.robot_key, r.robot_name, r.token, r.capacity) for r in answer.robots
        ]
        return Connection(robots, answer.orchestrator_url, answer.heartbeat_seconds, answer.long_poll_seconds)

    async def _call(self, robot: RobotSession, path: str, body: dict[str, Any]) -> Any:
        response = await self.http.post(path, json=body, headers={"Authorization": f"Bearer {robot.token}"})
        if response.status_code in (401, 409):
            raise SessionLost(response.text)
        response.raise_for_status()
        return response.json() if response.content else None

    async def heartbeat(self, robot: RobotSession) -> tuple[Command, ...]:
        answer = await self._call(
            robot, "/api/robot/heartbeat", {"agentId": self.agent_id, "running": robot.running}
        )
        return HeartbeatAnswer.from_json(answer).commands

    async def next_jobs(self, robot: RobotSession, free: int, wait: float) -> JobsAnswer:
        body = {"agentId": self.agent_id, "running": dict(robot.running), "free": free, "wait": wait}
        return JobsAnswer.from_json(await self._call(robot, "/api/robot/jobs/next", body))

    async def report(
        self,
        robot: RobotSession,
        key: str,
        state: str,
        output: dict[str, Any] | None = None,
        info: str | None = None,
        **extra: Any,
    ) -> str | None:
        """Reports a job's state (``extra``: a Suspended job's ``resumeTriggers`` and ``runtimeState``),
        retrying while Podium cannot be reached (a result is not dropped); answers Podium's message
        when it refused the report (a 400), else None."""
        body: dict[str, Any] = {"state": state, "outputArguments": output, "info": info, **extra}
        response = await self._post_state(robot, key, body)
        if response is not None and response.status_code >= 400:
            log.warning("Podium refused the %s report of job %s: %s", state, key, response.text)
            if response.status_code == 400 or response.status_code == 404:
                try:
                    return str(response.json().get("message") or response.text)
                except ValueError:
                    return response.text
        return None

    async def acknowledge(self, robot: RobotSession, job: Assignment) -> bool:
        """Confirms the job was received (its first ``Running`` report, with the claim's token); False
        when Podium withdrew the claim meanwhile: the job must not run here. Retried while Podium cannot
        be reached (acknowledging twice is harmless)."""
        response = await self._post_state(robot, job.key, {"state": "Running", "claim": job.claim})
        if response is None or response.status_code >= 400:
            log.warning("job %s not taken: %s", job.key, "no answer" if response is None else response.text)
            return False
        return True

    async def _post_state(self, robot: RobotSession, key: str, body: dict[str, Any]) -> httpx.Response | None:
        """POSTs a job state, retried on transport errors and 5xx for about a minute; None if it never
        got a 4xx/2xx answer."""
        for attempt in range(60):
            try:
                response = await self.http.post(
                    f"/api/robot/jobs/{key}/state",
                    json=body,
                    headers={"Authorization": f"Bearer {robot.token}"},
                )
            except httpx.TransportError:
                await asyncio.sleep(min(5, 0.5 * (attempt + 1)))
                continue
            if response.status_code >= 500:
                await asyncio.sleep(1)
                continue
            return response
        return None

    async def submit_logs(self, robot: RobotSession, entries: list[dict[str, Any]]) -> None:
        try:
            response = await self.http.post(
                "/api/Logs/SubmitLogs", json=entries, headers={"Authorization": f"Bearer {robot.token}"}
            )
            if response.status_code >= 400:
                log.warning("Podium refused %d log entries: %s", len(entries), response.text[:300])
        except httpx.TransportError as error:
            log.warning("could not send %d log entries: %s", len(entries), error)

    async def upload_media(self, robot: RobotSession, key: str, path: Path) -> bool:
        """Uploads a screenshot of the job as its execution media; False (logged) when it could not."""
        content_type = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
        try:
            response = await self.http.post(
                f"/api/robot/jobs/{key}/media",
                params={"name": path.name},
                content=path.read_bytes(),
                headers={"Authorization": f"Bearer {robot.token}", "Content-Type": content_type},
            )
        except (OSError, httpx.HTTPError) as error:
            log.warning("could not upload the screenshot of job %s: %s", key, error)
            return False
        if response.status_code >= 400:
            log.warning("Podium refused the screenshot of job %s: %s", key, response.text[:300])
            return False
        return True

    async def download(self, job: Assignment, target: Path) -> None:
        """The job's package (``DownloadPackage(key='<id>:<version>')``) with the job's own token."""
        key = f"{job.process_key}:{job.process_version}"
        url = f"/odata/Processes/UiPath.Server.Configuration.OData.DownloadPackage(key='{key}')"
        headers = {"Authorization": f"Bearer {job.access_token}", "X-UIPATH-FolderKey": job.folder_key}
        async with self.http.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                await response.aread()
                raise RuntimeError(
                    f"Downloading package {key} failed ({response.status_code}): {response.text}"
                )
            with open(target, "wb") as handle:
                async for chunk in response.aiter_bytes():
                    handle.write(chunk)

    async def disconnect(self, robot: RobotSession) -> None:
        with contextlib.suppress(httpx.HTTPError, SessionLost):
            await self._call(robot, "/api/robot/disconnect", {"agentId": self.agent_id})
