"""End to end: ``uipath pack`` processes that wait for a person or for another job, on a real ``podium
robot`` and a real ``podium serve``: the job ends its run Suspended and frees the robot, and resumes on a
robot (another one, after the first was SIGKILLed) when what it waits for is met.

Why LangGraph: in ``uipath`` 2.14.44 a plain ``functions`` entry point cannot suspend. Its runtime
(``uipath.functions.runtime.UiPathFunctionsRuntime``) always answers ``successful``, its factory has
no resumable storage (``get_storage`` is None) and does not wrap it in ``UiPathResumableRuntime``; the
runtime's interrupt model (``CreateTask``/``WaitTask``/``InvokeProcess``/``WaitJob`` in
``uipath.platform.common``) is served by the framework integrations. The one UiPath documents for it is
``uipath-langchain``: a graph node calls LangGraph's ``interrupt(CreateTask(...))`` or
``interrupt(InvokeProcess(...))`` (or any other value: an API trigger saved with ``SaveExternalTrigger``,
met by the SDK's ``jobs.resume``), the runtime creates the task / starts the job with the SDK, stores
its trigger and the graph's checkpoint in ``__uipath/state.db`` and reports ``"status": "suspended"``
with ``resumeTriggers``; ``uipath run <entry> --resume`` reads the task / job back and continues.
So the project here is a LangGraph project (written by hand: ``uipath new`` writes a functions one),
``uipath init`` + ``uipath pack --nolock`` with the official CLI, declaring ``uipath-langchain``.

The robot builds the package's environment (``robot_support.VENVS``, keyed by the requirements); the
test builds the same one first, because ``uipath init`` needs ``uipath-langchain`` to read the graphs.
Without a cached environment and without a reachable package index the tests are skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from podium.packages import read_package
from podium.robot import uipath_run
from podium.robot.cache import PackageCache
from tests.e2e.robot_support import (
    NS,
    ODATA,
    SERVER_ENV,
    VENVS,
    Orchestrator,
    package_index_unreachable,
    robot_agent,
    wait_sessions,
)
from tests.e2e.test_sdk_jobs import SDK_ENVIRONMENT, podium_server

pytestmark = pytest.mark.e2e

DEPENDENCIES = ["uipath-langchain==0.18.51", "uipath>=2.14.44, <2.15.0"]
PYPROJECT = f"""[project]
name = "hitl"
version = "0.0.1"
description = "Waits for people and for other jobs"
authors = [{{ name = "Podium e2e" }}]
requires-python = ">=3.11"
dependencies = {json.dumps(DEPENDENCIES)}
"""
GRAPHS = {
    "approval": "./graphs.py:approval",
    "parent": "./graphs.py:parent",
    "child": "./graphs.py:child",
    "question": "./graphs.py:question",
}
CODE = """
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict
from uipath.platform.common import CreateTask, InvokeProcess


def one_node(name, node, state, input_schema):
    builder = StateGraph(state, input_schema=input_schema, output_schema=state)
    builder.add_node(name, node)
    builder.add_edge(START, name)
    builder.add_edge(name, END)
    return builder.compile()


class ApprovalIn(TypedDict):
    invoice: int


class ApprovalOut(TypedDict):
    invoice: int
    decision: dict[str, Any]


def ask(state: ApprovalIn) -> ApprovalOut:
    task = CreateTask(
        title=f"Approve invoice {state['invoice']}",
        data={"invoice": state["invoice"]},
        app_key="invoice-app",
        app_folder_path="Shared",
        assignee="admin",
    )
    return {"invoice": state["invoice"], "decision": interrupt(task)}


class ParentIn(TypedDict):
    word: str


class ParentOut(TypedDict):
    word: str
    child: dict[str, Any]


def call(state: ParentIn) -> ParentOut:
    job = InvokeProcess(name="child", input_arguments={"word": state["word"]}, process_folder_path="Shared")
    return {"word": state["word"], "child": interrupt(job)}


class ChildIn(TypedDict):
    word: str


class ChildOut(TypedDict):
    word: str
    shout: str


def shout(state: ChildIn) -> ChildOut:
    return {"word": state["word"], "shout": state["word"].upper() + "!"}


class QuestionOut(TypedDict):
    word: str
    answer: Any


def wait_for_answer(state: ChildIn) -> QuestionOut:
    return {"word": state["word"], "answer": interrupt({"question": f"why {state['word']}?"})}


approval = one_node("ask", ask, ApprovalOut, ApprovalIn)
question = one_node("wait", wait_for_answer, QuestionOut, ChildIn)
parent = one_node("call", call, ParentOut, ParentIn)
child = one_node("shout", shout, ChildOut, ChildIn)
"""


def _environment(where: Path) -> str:
    """The package's environment as the robot builds it (the same cache key): its interpreter."""
    cache = PackageCache(where / "cache", VENVS)  # built once, reused by every run and by the robot
    requirements = sorted(set(DEPENDENCIES))
    ready = [p for p in VENVS.glob("*/.ready") if p.read_text() == "\n".join(requirements)]
    if not ready:
        why = package_index_unreachable("uipath-langchain", where / "probe")
        if why:
            pytest.skip(f"uipath-langchain is not cached and cannot be installed: {why}")
    return asyncio.run(cache.environment(requirements))


def _uipath(python: str, project: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SDK_ENVIRONMENT}
    env.update(UIPATH_TELEMETRY_ENABLED="false", NO_COLOR="1")
    done = subprocess.run(
        [python, "-c", uipath_run.LAUNCHER, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """``hitl.0.0.1.nupkg``: the LangGraph project packed by the official CLI, built once per module."""
    root = tmp_path_factory.mktemp("hitl")
    python = _environment(root)
    project = root / "hitl"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "langgraph.json").write_text(json.dumps({"dependencies": ["."], "graphs": GRAPHS}))
    (project / "graphs.py").write_text(CODE)
    _uipath(python, project, "init")
    _uipath(python, project, "pack", "--nolock")
    built = project / ".uipath" / "hitl.0.0.1.nupkg"
    info = read_package(built)
    assert info.kind == "uipath-python" and sorted(e.path for e in info.entry_points) == sorted(GRAPHS)
    return built.read_bytes()


def _serve(orchestrator: Orchestrator, package: bytes) -> None:
    files = {"file": ("hitl.0.0.1.nupkg", package, "application/octet-stream")}
    orchestrator.ok(orchestrator.http.post(f"{ODATA}/Processes/{NS}.UploadPackage", files=files))
    for name in GRAPHS:
        body = {"Name": name, "ProcessKey": "hitl", "ProcessVersion": "0.0.1", "EntryPointPath": name}
        orchestrator.ok(orchestrator.http.post(f"{ODATA}/Releases", json=body), 201)


def _tasks(orchestrator: Orchestrator, seconds: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found: list[dict[str, Any]] = orchestrator.ok(orchestrator.http.get(f"{ODATA}/Tasks"))["value"]
        if found:
            return found
        time.sleep(0.2)
    pytest.fail("the process created no task")


def test_a_job_waiting_for_a_task_frees_its_robot_and_outlives_it(
    database_url: str, tmp_path: Path, package: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SERVER_ENV.items():
        monkeypatch.setenv(name, value)
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        _serve(orchestrator, package)
        machine = orchestrator.machine("HITL-M")

        with robot_agent(base, machine["Key"], tmp_path / "first") as first:
            wait_sessions(orchestrator, 1)
            [job_id] = orchestrator.start("approval", {"invoice": 42})
            suspended = orchestrator.wait(job_id, {"Suspended", "Successful", "Faulted", "Stopped"}, 120)
            assert suspended["State"] == "Suspended", suspended["Info"]

            # the process made the task (assigned to admin by the SDK) and the job waits for it
            [task] = _tasks(orchestrator)
            assert (task["Title"], task["Status"], task["Type"]) == (
                "Approve invoice 42",
                "Pending",
                "AppTask",
            )
            waits = orchestrator.ok(
                orchestrator.http.get(f"{ODATA}/JobTriggers/{NS}.GetWithWaitEvents(jobId={job_id})")
            )["value"]
            assert [(w["TriggerType"], w["ItemId"]) for w in waits] == [("Task", task["Id"])]

            # the robot is free meanwhile: another job runs to its end
            [other] = orchestrator.start("child", {"word": "meanwhile"})
            ran = orchestrator.wait(other)
            assert ran["State"] == "Successful", ran["Info"]
            assert json.loads(ran["OutputArguments"]) == {"word": "meanwhile", "shout": "MEANWHILE!"}
            assert orchestrator.job(job_id)["State"] == "Suspended"

            first.kill()  # SIGKILL: the robot keeps nothing of the suspended job
            first.wait(timeout=10)

        completion = {"taskId": task["Id"], "data": {"approved": True}, "action": "Approve"}
        done = orchestrator.http.post("/tasks/AppTasks/CompleteAppTask", json=completion)
        assert done.status_code == 204, done.text
        assert orchestrator.job(job_id)["State"] == "Resumed"  # no robot is there to take it

        with robot_agent(base, machine["Key"], tmp_path / "second"):
            finished = orchestrator.wait(job_id, seconds=120)
        assert finished["State"] == "Successful", finished["Info"]
        decision = {"invoice": 42, "approved": True, "Action": "Approve"}
        assert json.loads(finished["OutputArguments"]) == {"invoice": 42, "decision": decision}
        assert finished["StartTime"] == suspended["StartTime"]  # one job, two runs


def test_jobs_waiting_for_another_job_and_for_a_payload(
    database_url: str, tmp_path: Path, package: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SERVER_ENV.items():
        monkeypatch.setenv(name, value)
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        _serve(orchestrator, package)
        machine = orchestrator.machine("INVOKE-M")  # one robot: the child runs while the parent waits

        with robot_agent(base, machine["Key"], tmp_path / "robot"):
            wait_sessions(orchestrator, 1)
            # interrupt(InvokeProcess): the runtime starts the child and the parent waits for its output
            [parent_id] = orchestrator.start("parent", {"word": "podium"})
            finished = orchestrator.wait(parent_id, seconds=120)
            assert finished["State"] == "Successful", finished["Info"]
            jobs = orchestrator.ok(orchestrator.http.get(f"{ODATA}/Jobs", params={"$orderby": "Id"}))["value"]
            [child] = [j for j in jobs if j["Id"] != parent_id]
            assert (child["ReleaseName"], child["State"]) == ("child", "Successful")
            assert json.loads(finished["OutputArguments"]) == {
                "word": "podium",
                "child": {"word": "podium", "shout": "PODIUM!"},
            }
            events = orchestrator.ok(
                orchestrator.http.get(f"{ODATA}/JobTriggers/{NS}.GetWithWaitEvents(jobId={parent_id})")
            )["value"]
            assert [(e["TriggerType"], e["ItemId"]) for e in events] == [("Job", child["Id"])]

            # interrupt(<a value>): an API trigger (SaveExternalTrigger); the SDK's jobs.resume delivers
            [asking] = orchestrator.start("question", {"word": "now"})
            waiting = orchestrator.wait(asking, {"Suspended", "Successful", "Faulted", "Stopped"}, 120)
            assert waiting["State"] == "Suspended", waiting["Info"]
            for name in SDK_ENVIRONMENT:
                monkeypatch.delenv(name, raising=False)
            monkeypatch.setenv("UIPATH_TELEMETRY_ENABLED", "false")
            monkeypatch.chdir(tmp_path)
            from uipath.platform import UiPath

            sdk = UiPath(base_url=f"{base}/podium/Default", secret=orchestrator.token)
            sdk.jobs.resume(job_id=str(asking), folder_path="Shared", payload={"because": 42})
            answered = orchestrator.wait(asking, seconds=120)
            assert answered["State"] == "Successful", answered["Info"]
            assert json.loads(answered["OutputArguments"]) == {"word": "now", "answer": {"because": 42}}
