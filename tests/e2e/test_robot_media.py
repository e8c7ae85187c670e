"""End to end: ``podium robot`` uploads the screenshot a faulting package leaves in its screenshots folder
(``<working dir>/.podium/screenshots``, named by ``PODIUM_SCREENSHOTS_DIR``) as the job's execution media,
before the job shows Faulted; a successful job's screenshots are not uploaded. Real processes and sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.robot_support import SERVER_ENV, Orchestrator, python_package, robot_agent, wait_sessions
from tests.e2e.test_sdk_jobs import podium_server

pytestmark = pytest.mark.e2e
NS = "UiPath.Server.Configuration.OData"

SNAP_AND_FAIL = """
import os, pathlib, time

def main(arguments):
    folder = pathlib.Path(".podium/screenshots")
    assert folder.resolve() == pathlib.Path(os.environ["PODIUM_SCREENSHOTS_DIR"]).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "first.png").write_bytes(b"\\x89PNG\\r\\n\\x1a\\n" + b"old" * 100)
    time.sleep(0.05)
    (folder / "last.png").write_bytes(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(range(256)) * 64)
    if arguments.get("fail"):
        raise RuntimeError("the screen showed an error")
    return {}
"""
LAST = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64


def test_a_faulted_jobs_last_screenshot_is_uploaded(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SERVER_ENV.items():
        monkeypatch.setenv(name, value)
    with podium_server(database_url, tmp_path / "data") as base:
        orchestrator = Orchestrator(base)
        machine = orchestrator.machine("MEDIA-M")
        orchestrator.process("snap", python_package("snap", SNAP_AND_FAIL))
        with robot_agent(base, machine["Key"], tmp_path / "robot"):
            wait_sessions(orchestrator, 1)
            [ok_job] = orchestrator.start("snap", {"fail": False})
            assert orchestrator.wait(ok_job)["State"] == "Successful"
            [failed] = orchestrator.start("snap", {"fail": True})
            faulted = orchestrator.wait(failed)
            assert faulted["State"] == "Faulted" and "the screen showed an error" in faulted["Info"]

        listed = orchestrator.ok(orchestrator.http.get("/odata/ExecutionMedia"))["value"]
        assert [(m["JobId"], m["Name"], m["ReleaseName"]) for m in listed] == [(failed, "last.png", "snap")]
        download = orchestrator.http.get(f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId={failed})")
        assert download.status_code == 200 and download.content == LAST
        orchestrator.ok(
            orchestrator.http.post(f"/odata/ExecutionMedia/{NS}.DeleteMediaByJobId", json={"jobId": failed}),
            204,
        )
        assert orchestrator.ok(orchestrator.http.get("/odata/ExecutionMedia"))["value"] == []
