"""The answers of the robot protocol (README, "The robot protocol"), one type each, shared by both ends:
the server writes them with ``to_json``, the agent reads them with ``from_json``. The JSON names are
spelled out here, once, next to the field they carry.

This module imports nothing of Podium: the agent loads it without the server's dependencies, and the
server (``api.robot_protocol``, ``domain.robot_protocol``) builds the same types it sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Assignment:
    """A job handed to a robot by ``jobs/next``: what to run (the release's package, entry point and
    input), where (the folder), as whom (the job's own ``access_token``), and the ``claim`` token the
    robot acknowledges it with before running it (``domain.job_claims``)."""

    id: int
    key: str
    release_key: str
    release_name: str
    process_key: str
    process_version: str
    entry_point_path: str | None
    input_arguments: str | None  # a JSON object's text, as Orchestrator stores it
    folder_id: int
    folder_key: str
    folder_path: str
    robot_key: str
    robot_name: str
    access_token: str
    token_expires_at: int  # Unix time
    stop_process_expression: str | None
    kill_process_expression: str | None
    claim: str
    # a resumed job: {"version": ResumeVersion, "values": {interruptId: what fired}, "state": base64 of
    # the runtime state folder its process left, or null}; null for a first run
    resume: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "releaseKey": self.release_key,
            "releaseName": self.release_name,
            "processKey": self.process_key,
            "processVersion": self.process_version,
            "entryPointPath": self.entry_point_path,
            "inputArguments": self.input_arguments,
            "folderId": self.folder_id,
            "folderKey": self.folder_key,
            "folderPath": self.folder_path,
            "robotKey": self.robot_key,
            "robotName": self.robot_name,
            "accessToken": self.access_token,
            "tokenExpiresAt": self.token_expires_at,
            "stopProcessExpression": self.stop_process_expression,
            "killProcessExpression": self.kill_process_expression,
            "claim": self.claim,
            "resume": self.resume,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Assignment:
        return cls(
            id=body["id"],
            key=body["key"],
            release_key=body["releaseKey"],
            release_name=body["releaseName"],
            process_key=body["processKey"],
            process_version=body["processVersion"],
            entry_point_path=body.get("entryPointPath"),
            input_arguments=body.get("inputArguments"),
            folder_id=body["folderId"],
            folder_key=body["folderKey"],
            folder_path=body["folderPath"],
            robot_key=body["robotKey"],
            robot_name=body["robotName"],
            access_token=body["accessToken"],
            token_expires_at=body["tokenExpiresAt"],
            stop_process_expression=body.get("stopProcessExpression"),
            kill_process_expression=body.get("killProcessExpression"),
            claim=body["claim"],
            resume=body.get("resume"),
        )


@dataclass(frozen=True, slots=True)
class Command:
    """A stop request the agent has not seen yet: ``action`` Stop (the job is Stopping) or Kill (it is
    Terminating)."""

    job_key: str
    state: str
    action: str

    def to_json(self) -> dict[str, Any]:
        return {"jobKey": self.job_key, "state": self.state, "action": self.action}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Command:
        return cls(job_key=body["jobKey"], state=body["state"], action=body["action"])


@dataclass(frozen=True, slots=True)
class RobotGrant:
    """One robot of the connecting machine: its session and the robot token its calls carry."""

    robot_id: int
    robot_key: str
    robot_name: str
    session_id: int
    capacity: int
    token: str
    token_expires_at: int  # Unix time

    def to_json(self) -> dict[str, Any]:
        return {
            "robotId": self.robot_id,
            "robotKey": self.robot_key,
            "robotName": self.robot_name,
            "sessionId": self.session_id,
            "capacity": self.capacity,
            "token": self.token,
            "tokenExpiresAt": self.token_expires_at,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> RobotGrant:
        return cls(
            robot_id=body["robotId"],
            robot_key=body["robotKey"],
            robot_name=body["robotName"],
            session_id=body["sessionId"],
            capacity=body["capacity"],
            token=body["token"],
            token_expires_at=body["tokenExpiresAt"],
        )


@dataclass(frozen=True, slots=True)
class ConnectAnswer:
    """The answer of ``connect``: the machine's robots and how often to beat and poll."""

    machine_id: int
    machine_name: str
    robots: tuple[RobotGrant, ...]
    orchestrator_url: str  # what the jobs' processes get as UIPATH_URL
    heartbeat_seconds: float
    long_poll_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "machineId": self.machine_id,
            "machineName": self.machine_name,
            "robots": [robot.to_json() for robot in self.robots],
            "orchestratorUrl": self.orchestrator_url,
            "heartbeatSeconds": self.heartbeat_seconds,
            "longPollSeconds": self.long_poll_seconds,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ConnectAnswer:
        return cls(
            machine_id=body["machineId"],
            machine_name=body["machineName"],
            robots=tuple(RobotGrant.from_json(robot) for robot in body["robots"]),
            orchestrator_url=body["orchestratorUrl"],
            heartbeat_seconds=body["heartbeatSeconds"],
            long_poll_seconds=body["longPollSeconds"],
        )


@dataclass(frozen=True, slots=True)
class HeartbeatAnswer:
    """The answer of ``heartbeat``: the stop requests for the robot's jobs."""

    commands: tuple[Command, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"commands": [command.to_json() for command in self.commands]}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> HeartbeatAnswer:
        return cls(tuple(Command.from_json(command) for command in body["commands"]))


@dataclass(frozen=True, slots=True)
class JobsAnswer:
    """The answer of ``jobs/next``: the jobs just claimed for the robot, else the stop requests."""

    jobs: tuple[Assignment, ...] = ()
    commands: tuple[Command, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": [job.to_json() for job in self.jobs],
            "commands": [command.to_json() for command in self.commands],
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> JobsAnswer:
        return cls(
            tuple(Assignment.from_json(job) for job in body["jobs"]),
            tuple(Command.from_json(command) for command in body["commands"]),
        )
