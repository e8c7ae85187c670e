"""End to end: a robot SIGKILLed mid-job (its job ends Faulted after the heartbeat timeout, it comes
back and takes new work), and two robots sharing twenty JobsCount jobs (each runs exactly once)."""

from __future__ import annotations

import collections
import json
import signal
from pathlib import Path

import pytest

from tests.e2e.robot_support import SERVER_ENV, Orchestrator, python_package, robot_agent, wait_sessions
from tests.e2e.test_robot_jobs import _stamp
from tests.e2e.test_sdk_jobs import podium_server

pytestmark = pytest.mark.e2e

SLEEPER = """
import os, time

def main(arguments):
    deadline = time.monotonic() + arguments.get("seconds", 0.2)
    while time.monotonic() < deadline:
        if os.getppid() == 1:  # the robot died: do not outlive it
            return {}
        time.sleep(0.05)
    return {"job": os.environ["UIPATH_JOB_KEY"], "robot": os.environ["UIPATH_ROBOT_KEY"]}
"""


def test_robot_killed_then_fleet(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stamp(database_url)
    for name, value in SERVER_ENV.items():
        monkeypatch.setenv(name, value)
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        first, second = orchestrator.machine("FLEET-A"), orchestrator.machine("FLEET-B")
        orchestrator.process("sleeper", python_package("sleeper", SLEEPER))

        with robot_agent(base, first["Key"], tmp_path / "a", "a1") as agent:
            wait_sessions(orchestrator, 1)
            [long_job] = orchestrator.start("sleeper", {"seconds": 60})
            orchestrator.wait(long_job, {"Running"})
            agent.send_signal(signal.SIGKILL)
            agent.wait(timeout=10)
            faulted = orchestrator.wait(long_job, seconds=30)  # heartbeat timeout 5 s
            assert faulted["State"] == "Faulted" and "stopped reporting" in faulted["Info"]
            sessions = orchestrator.ok(orchestrator.http.get("/odata/Sessions"))["value"]
            assert [s["State"] for s in sessions] == ["Disconnected"]

        with (
            robot_agent(base, first["Key"], tmp_path / "a", "a2"),
            robot_agent(base, second["Key"], tmp_path / "b", "b1"),
        ):
            wait_sessions(orchestrator, 2)
            ids = orchestrator.start("sleeper", {"seconds": 0.3}, count=20)
            assert len(ids) == 20
            finished = [orchestrator.wait(job_id, seconds=120) for job_id in ids]
            assert [job["State"] for job in finished] == ["Successful"] * 20
            outputs = [json.loads(job["OutputArguments"]) for job in finished]
            assert [o["job"] for o in outputs] == [job["Key"] for job in finished]  # each ran as itself
            started = collections.Counter(
                entry["JobKey"]
                for job in finished
                for entry in orchestrator.logs(job["Key"])
                if entry["Message"].startswith("Job started")
            )
            assert set(started.values()) == {1} and len(started) == 20  # each job ran once
            assert len({job["RobotId"] for job in finished}) == 2  # both robots took work
