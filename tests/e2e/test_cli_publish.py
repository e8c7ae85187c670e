"""End to end: the official ``uipath`` CLI (2.14.44) creates, packs and publishes a Python project to a
real ``podium serve`` process, unchanged.

``uipath new`` / ``uipath init`` / ``uipath pack --nolock`` need no server and no network (``--nolock``
skips ``uv lock``, which would resolve dependencies online when uv is installed; the CLI's telemetry
is switched off). ``uipath publish`` needs only ``UIPATH_URL`` and ``UIPATH_ACCESS_TOKEN``: it asks
``GET /api/PackageFeeds/GetFeeds`` (``--folder``), ``GetCurrentUserExtended`` (any feed but the
tenant's), then posts the file to ``Processes/UploadPackage()[?feedId=]`` and expects 200.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from podium.packages import read_package
from tests.e2e.test_sdk_jobs import ADMIN_PASSWORD, ODATA, SDK_ENVIRONMENT, ok, podium_server

pytestmark = pytest.mark.e2e

NS = "UiPath.Server.Configuration.OData"


def uipath(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SDK_ENVIRONMENT}
    clean.update(UIPATH_TELEMETRY_ENABLED="false", NO_COLOR="1", **(env or {}))
    command = [str(Path(sys.executable).with_name("uipath")), *args]
    return subprocess.run(
        command, cwd=project, env=clean, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def pack(project: Path, version: str) -> Path:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        re.sub(r'version = "[^"]+"', f'version = "{version}"', pyproject.read_text(), count=1)
    )
    done = uipath(project, "pack", "--nolock")
    assert done.returncode == 0, done.stdout + done.stderr
    return project / ".uipath" / f"myagent.{version}.nupkg"


def publish(project: Path, base: str, token: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {"UIPATH_URL": f"{base}/podium/Default", "UIPATH_ACCESS_TOKEN": token}
    return uipath(project, "publish", *flags, env=env)


def versions(http: httpx.Client, feed_id: str | None = None) -> list[tuple[str, bool]]:
    query = f"?feedId={feed_id}&$orderby=Version" if feed_id else "?$orderby=Version"
    rows: list[dict[str, Any]] = ok(
        http.get(f"{ODATA}/Processes/{NS}.GetProcessVersions(processId='myagent'){query}")
    )["value"]
    return [(row["Version"], row["IsLatestVersion"]) for row in rows]


def test_cli_packs_and_publishes(database_url: str, tmp_path: Path) -> None:
    project = tmp_path / "myagent"
    project.mkdir()
    for step in (("new", "myagent"), ("init",)):
        done = uipath(project, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    first = pack(project, "0.0.1")
    info = read_package(first)
    assert (info.kind, info.id, info.main_entry_point) == ("uipath-python", "myagent", "main")
    assert info.input_arguments and info.input_arguments["required"] == ["message"]

    with (
        podium_server(database_url, tmp_path / "data") as base,
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
        token: str = ok(http.post("/api/Account/Authenticate", json=login))["result"]
        http.headers["Authorization"] = f"Bearer {token}"

        done = publish(project, base, token, "--tenant")
        assert done.returncode == 0 and "published successfully" in done.stdout, done.stdout + done.stderr
        [process] = ok(http.get(f"{ODATA}/Processes"))["value"]
        assert (process["Id"], process["Version"], process["Key"]) == ("myagent", "0.0.1", "myagent:0.0.1")
        assert process["Authors"] == "John Doe" and process["MainEntryPointPath"] == "main"
        download = http.get(f"{ODATA}/Processes/{NS}.DownloadPackage(key='myagent:0.0.1')")
        assert download.status_code == 200 and download.content == first.read_bytes()  # stored unchanged

        pack(project, "0.0.2")
        done = publish(project, base, token, "--folder", "Shared")  # Shared uses the tenant feed
        assert done.returncode == 0 and "Orchestrator Shared Feed" in done.stdout, done.stdout + done.stderr
        assert versions(http) == [("0.0.1", False), ("0.0.2", True)]

        done = publish(project, base, token, "--tenant")  # the same version again: refused, nothing changes
        assert done.returncode != 0 and "409" in done.stdout + done.stderr, done.stdout + done.stderr
        assert versions(http) == [("0.0.1", False), ("0.0.2", True)]

        finance = ok(
            http.post(f"{ODATA}/Folders", json={"DisplayName": "Finance", "FeedType": "FolderHierarchy"}), 201
        )
        pack(project, "0.0.3")
        done = publish(project, base, token, "--folder", "Finance")  # a folder with its own feed
        assert done.returncode == 0, done.stdout + done.stderr
        assert versions(http, finance["Key"]) == [("0.0.3", True)]
        assert versions(http) == [("0.0.1", False), ("0.0.2", True)]

        release = ok(
            http.post(
                f"{ODATA}/Releases",
                json={"Name": "agent", "ProcessKey": "myagent"},
                headers={"X-UIPATH-FolderPath": "Finance"},
            ),
            201,
        )
        assert (release["ProcessVersion"], release["EntryPointPath"]) == ("0.0.3", "main")
