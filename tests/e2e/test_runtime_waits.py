"""End to end: ``podium.runtime``'s waits in Podium's own Python packages, on a real ``podium serve``
and a real ``podium robot`` (one robot, so a waiting job must have freed it for its child to run).

One job waits, in turn, for an Action Center task the test completes, for a child job it starts
(``invoke_process``), for a time two seconds on (``wait_until``, met by the ``job-timers`` service
of ``podium serve``) and for a payload the test delivers to an inbox; between the waits the job is
Suspended, and each time it resumes its function runs again FROM THE START (as ``podium.runtime``
documents): the waits met before answer at once, code before them runs again. The package counts
its runs in a file to show that, instead of hiding it. Another job waits for a child that faults:
``wait_for_job`` raises ``JobFailed`` and the job ends Faulted with its message.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.robot_support import (
    FINAL,
    NS,
    ODATA,
    SERVER_ENV,
    Orchestrator,
    python_package,
    robot_agent,
    wait_sessions,
)
from tests.e2e.test_sdk_jobs import podium_server

pytestmark = pytest.mark.e2e

WAITER = """
import datetime as dt, json, time
from podium.runtime import invoke_process, wait_for_payload, wait_for_task, wait_until

def main(arguments):
    # not free of side effects on purpose: this line is written once per run of the job
    with open(arguments["runsFile"], "a") as runs:
        runs.write(json.dumps({"at": time.time()}) + "\\n")
    task = wait_for_task(arguments["taskId"])
    child = invoke_process("child", {"word": task["word"]})
    # on the run after the timer fired this is a later moment: a wait met before answers by its
    # order (or name), whatever its arguments are now
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
    with open(arguments["runsFile"], "a") as runs:
        runs.write(json.dumps({"until": moment.timestamp()}) + "\\n")
    wait_until(moment)
    payload = wait_for_payload(arguments["inbox"])
    return {"task": task, "child": child, "payload": payload}
"""
CHILD = """
def main(arguments):
    return {"shout": arguments["word"].upper() + "!"}
"""
FAULTY = """
def main(arguments):
    raise ValueError("the child broke on " + arguments["word"])
"""
PARENT_OF_FAULTY = """
from podium.runtime import wait_for_job

def main(arguments):
    return {"never": wait_for_job(arguments["childKey"])}
"""


def _server_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SERVER_ENV.items():
        monkeypatch.setenv(name, value)


def _suspended(orchestrator: Orchestrator, job_id: int, kind: str, seconds: float = 60) -> dict[str, Any]:
    """The job once it is Suspended waiting (a trigger not yet met) for a ``kind`` (Task, Job, ...)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = orchestrator.job(job_id)
        assert job["State"] not in FINAL, f"waiting for a {kind}: {job['State']} {job['Info']}"
        if job["State"] == "Suspended":
            waits = orchestrator.ok(
                orchestrator.http.get(f"{ODATA}/JobTriggers/{NS}.GetWithWaitEvents(jobId={job_id})")
            )["value"]
            if [w["TriggerType"] for w in waits if w["Status"] == "New"] == [kind]:
                return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not suspend waiting for a {kind}: {orchestrator.job(job_id)}")


def _child(orchestrator: Orchestrator, parent_id: int) -> dict[str, Any]:
    """The one other job, once it ended."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = orchestrator.ok(orchestrator.http.get(f"{ODATA}/Jobs"))["value"]
        others = [j for j in jobs if j["Id"] != parent_id]
        if others:
            [child] = others
            return orchestrator.wait(child["Id"], seconds=60)
        time.sleep(0.1)
    pytest.fail("no child job was started")


def _runs(path: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_one_job_waits_for_a_task_a_child_a_time_and_a_payload(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _server_env(monkeypatch)
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        orchestrator.process("waiter", python_package("waiter", WAITER))
        orchestrator.process("child", python_package("child", CHILD))
        machine = orchestrator.machine("WAITS-M")  # one robot
        created = {"type": "ExternalTask", "title": "Pick a word", "priority": "High", "data": {"word": "hi"}}
        task = orchestrator.ok(orchestrator.http.post("/tasks/GenericTasks/CreateTask", json=created), 201)
        assignment = {"taskAssignments": [{"taskId": task["id"], "UserNameOrEmail": "admin"}]}
        assigned = orchestrator.http.post(f"{ODATA}/Tasks/{NS}.AssignTasks", json=assignment)
        assert orchestrator.ok(assigned)["value"] == []  # no failures
        runs_file = tmp_path / "runs.jsonl"

        with robot_agent(base, machine["Key"], tmp_path / "robot"):
            wait_sessions(orchestrator, 1)
            arguments = {"runsFile": str(runs_file), "taskId": task["id"], "inbox": "rt-inbox-1"}
            [job_id] = orchestrator.start("waiter", arguments)

            # (1) the task: Suspended until a person completes it
            first = _suspended(orchestrator, job_id, "Task")
            completion = {"taskId": task["id"], "data": {"word": "podium"}, "action": "Approve"}
            done = orchestrator.http.post("/tasks/GenericTasks/CompleteTask", json=completion)
            assert done.status_code == 204, done.text

            # (2) the child: started by the resumed run, run by the same (only) robot, so the parent
            # had freed it (its wait on the child is too short-lived to watch reliably)
            child = _child(orchestrator, job_id)
            assert child["State"] == "Successful", child["Info"]

            # (3) the time: nobody acts, job-timers resumes it; (4) the inbox
            _suspended(orchestrator, job_id, "Inbox")
            assert len(_runs(runs_file)) == 6  # four runs so far, two of them chose a moment
            delivered = orchestrator.http.post(
                "/api/JobTriggers/DeliverPayload/rt-inbox-1", json={"payload": {"because": 42}}
            )
            assert delivered.status_code == 200, delivered.text

            finished = orchestrator.wait(job_id, seconds=60)
        assert finished["State"] == "Successful", finished["Info"]
        assert json.loads(finished["OutputArguments"]) == {
            "task": {"word": "podium", "Action": "Approve"},
            "child": {"shout": "PODIUM!"},
            "payload": {"because": 42},
        }
        assert finished["StartTime"] == first["StartTime"]  # one job, five runs

        # code before the waits ran once per run: 5 runs; the 3rd and the 5th chose a moment (the
        # 5th's is ignored), and the 4th run began only once the 3rd's moment had come
        runs = _runs(runs_file)
        assert [sorted(r) for r in runs] == [
            ["at"],
            ["at"],
            ["at"],
            ["until"],
            ["at"],
            ["until"],
            ["at"],
            ["until"],
        ]
        assert runs[4]["at"] >= runs[3]["until"]
        # the child ran once: a resumed invoke_process does not start it again
        jobs = orchestrator.ok(orchestrator.http.get(f"{ODATA}/Jobs"))["value"]
        assert sorted(j["ReleaseName"] for j in jobs) == ["child", "waiter"]
        assert len({j["HostMachineName"] for j in jobs}) == 1
        waits = orchestrator.ok(
            orchestrator.http.get(f"{ODATA}/JobTriggers/{NS}.GetWithWaitEvents(jobId={job_id})")
        )["value"]
        # each suspension replaces the job's triggers: the last one, met
        assert [(w["TriggerType"], w["Status"]) for w in waits] == [("Inbox", "Fired")]


def test_waiting_for_a_child_that_faults_faults_the_parent(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _server_env(monkeypatch)
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        orchestrator.process("faulty", python_package("faulty", FAULTY))
        orchestrator.process("parent", python_package("parent", PARENT_OF_FAULTY))
        machine = orchestrator.machine("FAULT-M")
        # both pending before the robot comes: it takes the parent first (higher priority), which
        # suspends on the child; then the child runs on the same robot and faults
        [child_id] = orchestrator.start("faulty", {"word": "purpose"}, JobPriority="Low")
        child_key = orchestrator.job(child_id)["Key"]
        [parent_id] = orchestrator.start("parent", {"childKey": child_key}, JobPriority="High")

        with robot_agent(base, machine["Key"], tmp_path / "robot"):
            child = orchestrator.wait(child_id, seconds=60)
            parent = orchestrator.wait(parent_id, seconds=60)
        assert child["State"] == "Faulted" and "ValueError: the child broke on purpose" in child["Info"]
        assert parent["State"] == "Faulted", parent["Info"]
        assert parent["Info"].startswith(
            f"JobFailed: The job {child_key} ended Faulted: ValueError: the child"
        )
        assert "Traceback" in parent["Info"]
        waits = orchestrator.ok(
            orchestrator.http.get(f"{ODATA}/JobTriggers/{NS}.GetWithWaitEvents(jobId={parent_id})")
        )["value"]
        assert [(w["TriggerType"], w["ItemId"], w["Status"]) for w in waits] == [("Job", child_id, "Fired")]
        assert parent["StartTime"] < child["StartTime"]  # the parent ran (and suspended) first
