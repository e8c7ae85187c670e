"""End to end: ``podium serve`` and ``podium robot`` as real processes run real packages.

One robot runs, one after the other: a Python package with output arguments (and log lines), one
that raises (Faulted with the message and traceback), one that honours a SoftStop through
``podium.runtime.should_stop()``, one that ignores it and is killed with its child process, one that
uses the official ``uipath`` SDK with its job token (its own job, an asset, a queue item), a Robot
Framework suite, and a package laid out as ``uipath pack`` does, run as ``uipath run`` runs it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from podium.db.migrate import alembic_config
from tests.e2e.robot_support import (
    SERVER_ENV,
    Orchestrator,
    package_index_unreachable,
    process_alive,
    python_package,
    robot_agent,
    robot_package,
    wait_sessions,
)
from tests.e2e.test_sdk_jobs import podium_server
from tests.package_builders import nupkg

pytestmark = pytest.mark.e2e

HELLO = """
import logging, sys
from podium.runtime import should_stop

def main(arguments):
    print("hello from the job", flush=True)
    logging.basicConfig(stream=sys.stderr, format="%(levelname)s:%(name)s:%(message)s")
    logging.getLogger("job").warning("careful")
    return {"greeting": "Hello " + arguments["name"], "sum": sum(arguments["numbers"]), "stop": should_stop()}
"""
BOOM = """
def main(arguments):
    raise ValueError("boom " + str(arguments["code"]))
"""
STOPPABLE = """
import time
from podium.runtime import should_stop

def main(arguments):
    print("waiting for a stop", flush=True)
    while not should_stop():
        time.sleep(0.1)
    print("saw the stop request", flush=True)
    return {"stopped": True}
"""
STUBBORN = """
import os, subprocess, sys, time

def main(arguments):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(arguments["pidFile"], "w") as handle:
        handle.write(f"{os.getpid()} {child.pid}")
    while True:  # never looks at should_stop()
        time.sleep(0.1)
"""
SDK_CHECK = """
import os
from uipath.platform import UiPath

def main(arguments):
    sdk = UiPath()
    me = sdk.jobs.retrieve(os.environ["UIPATH_JOB_KEY"])
    listed = sdk.jobs.list(top=50)
    asset = sdk.assets.retrieve("greeting")
    item = sdk.queues.create_item({"SpecificContent": {"from": "job"}, "Reference": "from-job"},
                                  queue_name="work")
    return {"state": me.state, "listed": len(listed.items), "asset": asset.value,
            "queueItem": item["Reference"], "robotKey": os.environ["UIPATH_ROBOT_KEY"],
            "folder": os.environ["UIPATH_FOLDER_PATH"]}
"""
SUITE = """*** Settings ***
Library    OperatingSystem

*** Variables ***
${a}    0
${b}    0

*** Test Cases ***
Add
    ${sum}=    Evaluate    int(${a}) + int(${b})
    Log    the sum is ${sum}
    Create File    ${PODIUM_OUTPUT_FILE}    {"sum": ${sum}}
"""


def _stamp(database_url: str) -> None:
    from alembic import command

    command.stamp(alembic_config(database_url), "head")


def test_robot_runs_jobs(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stamp(database_url)
    for name, value in SERVER_ENV.items():
        monkeypatch.setenv(name, value)
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        machine = orchestrator.machine("E2E-M")
        for name, code in (
            ("hello", HELLO),
            ("boom", BOOM),
            ("stoppable", STOPPABLE),
            ("stubborn", STUBBORN),
            ("sdkcheck", SDK_CHECK),
        ):
            orchestrator.process(name, python_package(name, code))
        orchestrator.process("rf", robot_package("rf", SUITE))
        orchestrator.process("uip", nupkg("uip", "1.0.0", "uipath-python"))
        orchestrator.ok(
            orchestrator.http.post(
                "/odata/Assets",
                json={"Name": "greeting", "ValueScope": "Global", "ValueType": "Text", "StringValue": "hi"},
            ),
            201,
        )
        orchestrator.ok(orchestrator.http.post("/odata/QueueDefinitions", json={"Name": "work"}), 201)

        with robot_agent(base, machine["Key"], tmp_path / "robot"):
            wait_sessions(orchestrator, 1)

            [hello] = orchestrator.start("hello", {"name": "Ada", "numbers": [1, 2, 3]})
            done = orchestrator.wait(hello)
            assert done["State"] == "Successful", done
            assert json.loads(done["OutputArguments"]) == {"greeting": "Hello Ada", "sum": 6, "stop": False}
            assert done["StartTime"] and done["EndTime"] and done["HostMachineName"]
            logs = orchestrator.logs(done["Key"])
            levels = {entry["Message"]: entry["Level"] for entry in logs}
            assert levels["hello from the job"] == "Info" and levels["WARNING:job:careful"] == "Warn"
            assert all(entry["ProcessName"] == "hello" and entry["RobotName"] == "E2E-M-r0" for entry in logs)

            [boom] = orchestrator.start("boom", {"code": 42})
            faulted = orchestrator.wait(boom)
            assert faulted["State"] == "Faulted"
            assert faulted["Info"].startswith("ValueError: boom 42") and "Traceback" in faulted["Info"]

            [stoppable] = orchestrator.start("stoppable")
            orchestrator.wait(stoppable, {"Running"})
            time.sleep(0.5)
            orchestrator.stop(stoppable, "SoftStop")
            stopped = orchestrator.wait(stoppable)
            assert stopped["State"] == "Stopped"
            assert "saw the stop request" in [e["Message"] for e in orchestrator.logs(stopped["Key"])]

            pid_file = tmp_path / "stubborn.pid"
            [stubborn] = orchestrator.start("stubborn", {"pidFile": str(pid_file)})
            orchestrator.wait(stubborn, {"Running"})
            deadline = time.monotonic() + 30
            while not pid_file.exists() or " " not in pid_file.read_text():
                assert time.monotonic() < deadline, "the stubborn job did not start its child"
                time.sleep(0.1)
            pids = [int(p) for p in pid_file.read_text().split()]
            orchestrator.stop(stubborn, "SoftStop")  # ignored
            time.sleep(1)
            assert orchestrator.job(stubborn)["State"] == "Stopping"
            orchestrator.stop(stubborn, "Kill")
            killed = orchestrator.wait(stubborn, seconds=10)
            assert killed["State"] == "Stopped"
            deadline = time.monotonic() + 2
            while any(process_alive(p) for p in pids) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not any(process_alive(p) for p in pids), "the job's process tree survived the Kill"

            [sdk_job] = orchestrator.start("sdkcheck")
            checked = orchestrator.wait(sdk_job)
            assert checked["State"] == "Successful", checked["Info"]
            output = json.loads(checked["OutputArguments"])
            assert output["state"] == "Running" and output["listed"] >= 5 and output["asset"] == "hi"
            assert output["queueItem"] == "from-job" and output["folder"] == "Shared"

            [uip] = orchestrator.start("uip", {"name": "pack"})
            packed = orchestrator.wait(uip, seconds=120)
            assert packed["State"] == "Successful", packed["Info"]
            assert json.loads(packed["OutputArguments"]) == {"name": "pack"}

            # last: the job's robotframework comes from the package index, which CI always reaches
            offline = not os.environ.get("CI") and package_index_unreachable("robotframework>=6", tmp_path)
            if offline:
                pytest.skip(f"robotframework cannot be installed without the package index ({offline})")
            [rf] = orchestrator.start("rf", {"a": 2, "b": 3})
            suite = orchestrator.wait(rf, seconds=180)  # the first run installs robotframework
            assert suite["State"] == "Successful", suite["Info"]
            assert json.loads(suite["OutputArguments"]) == {"sum": 5}
