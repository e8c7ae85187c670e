"""End to end: a project packed by the official ``uipath`` CLI (2.14.44) runs, as packed, on a real
``podium robot`` through a real ``podium serve``.

The project is the one ``uipath new`` writes, plus a second function (``probe``) that logs, prints and
answers what the robot gave its process; ``uipath init`` infers both entry points' schemas and
``uipath pack --nolock`` builds the ``.nupkg`` (offline). ``uipath publish --tenant`` uploads it; a
release of each entry point is started with StartJobs. The expected output arguments are computed by
running ``uipath run main '<json>'`` on the project itself, outside Podium.

The robot installs the package's declared dependencies (``uipath>=2.14.44, <2.15.0``) in a cached
virtual environment (``robot_support.VENVS``, shared by the e2e tests): the agent's own ``uipath``
satisfies them, so nothing is downloaded and a warm run takes a few seconds per job.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.packages import read_package
from tests.e2e.robot_support import (
    NS,
    ODATA,
    SERVER_ENV,
    VENVS,
    Orchestrator,
    robot_agent,
    wait_sessions,
)
from tests.e2e.test_cli_publish import publish, uipath
from tests.e2e.test_sdk_jobs import podium_server

pytestmark = pytest.mark.e2e

PROBE = """
import logging
import os
import sys
from dataclasses import dataclass


@dataclass
class ProbeIn:
    word: str


@dataclass
class ProbeOut:
    echo: str
    job_key: str
    folder_path: str
    prefix: str


def main(input: ProbeIn) -> ProbeOut:
    logging.getLogger("probe").warning("probing %s", input.word)
    print("printed by the probe")
    return ProbeOut(input.word, os.environ["UIPATH_JOB_KEY"], os.environ["UIPATH_FOLDER_PATH"], sys.prefix)
"""


def _project(root: Path) -> Path:
    """``uipath new myagent`` + a ``probe`` function, ``uipath init``, ``uipath pack --nolock``."""
    project = root / "myagent"
    project.mkdir()
    done = uipath(project, "new", "myagent")
    assert done.returncode == 0, done.stdout + done.stderr
    (project / "probe.py").write_text(PROBE)
    config = json.loads((project / "uipath.json").read_text())
    config["functions"]["probe"] = "probe.py:main"
    (project / "uipath.json").write_text(json.dumps(config, indent=2))
    for step in (("init",), ("pack", "--nolock")):
        done = uipath(project, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    return project


def _run_locally(project: Path, entry: str, arguments: dict[str, object]) -> dict[str, object]:
    """What ``uipath run`` answers for this input on the developer's machine."""
    output = project / "local-output.json"
    done = uipath(project, "run", entry, json.dumps(arguments), "--output-file", str(output))
    assert done.returncode == 0, done.stdout + done.stderr
    value: dict[str, object] = json.loads(output.read_text())
    return value


def test_uipath_pack_package_runs_on_a_robot(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    package = project / ".uipath" / "myagent.0.0.1.nupkg"
    info = read_package(package)
    assert info.kind == "uipath-python" and [e.path for e in info.entry_points] == ["main", "probe"]
    arguments = {"message": "hi", "repeat": 2}
    expected = _run_locally(project, "main", arguments)
    assert expected == {"message": "hi\nhi"}

    for name, value in SERVER_ENV.items():
        monkeypatch.setenv(name, value)
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        published = publish(project, base, orchestrator.token, "--tenant")
        assert published.returncode == 0, published.stdout + published.stderr
        for name, entry in (("agent", None), ("probe", "probe")):
            body = {"Name": name, "ProcessKey": "myagent", **({"EntryPointPath": entry} if entry else {})}
            release = orchestrator.ok(orchestrator.http.post(f"{ODATA}/Releases", json=body), 201)
            assert (release["ProcessVersion"], release["EntryPointPath"]) == ("0.0.1", entry or "main")
        machine = orchestrator.machine("PACK-M")

        with robot_agent(base, machine["Key"], tmp_path / "robot"):
            wait_sessions(orchestrator, 1)

            [ok_job] = orchestrator.start("agent", arguments)
            done = orchestrator.wait(ok_job, seconds=120)  # a cold cache builds the environment first
            assert done["State"] == "Successful", done["Info"]
            assert json.loads(done["OutputArguments"]) == expected

            [bad_job] = orchestrator.start("agent", {"repeat": 2})  # "message" is required
            faulted = orchestrator.wait(bad_job)
            assert faulted["State"] == "Faulted"
            assert faulted["Info"].startswith("Invalid input - Input does not match the expected schema")

            [probe_job] = orchestrator.start("probe", {"word": "podium"})
            probed = orchestrator.wait(probe_job)
            assert probed["State"] == "Successful", probed["Info"]
            output = json.loads(probed["OutputArguments"])
            assert output["echo"] == "podium" and output["job_key"] == probed["Key"]
            assert output["folder_path"] == "Shared"
            assert Path(output["prefix"]).parent == VENVS  # the package's own environment
            levels = {entry["Message"]: entry["Level"] for entry in orchestrator.logs(probed["Key"])}
            assert levels.get("probing podium") == "Warn" and levels.get("printed by the probe") == "Info"

        versions = orchestrator.ok(
            orchestrator.http.get(f"{ODATA}/Processes/{NS}.GetProcessVersions(processId='myagent')")
        )["value"]
        assert [v["Version"] for v in versions] == ["0.0.1"]
