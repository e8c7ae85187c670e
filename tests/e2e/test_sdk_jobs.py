"""End to end: a real ``podium serve`` process driven by the official UiPath Python SDK.

The server runs as a subprocess on a free port of 127.0.0.1, on the test database of each backend
(it creates tenant 'Default' itself). The data the SDK cannot create (environment,
robot, release) is set up over plain HTTP; then the SDK starts, reads, lists, stops and restarts jobs
and resolves the Shared folder's key exactly as it would against UiPath Orchestrator.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command

from podium.db.migrate import alembic_config
from tests.e2e.servers import ADMIN_PASSWORD, free_port, ok, podium_command, podium_process
from tests.package_builders import nupkg  # a release must name an uploaded package

__all__ = ["ADMIN_PASSWORD", "ODATA", "SDK_ENVIRONMENT", "free_port", "ok", "podium_command", "podium_server"]

pytestmark = pytest.mark.e2e

ODATA = "/podium/Default/orchestrator_/odata"
OTHER = "Équipe"
SDK_ENVIRONMENT = (  # what could leak from the caller's shell and change what the SDK sends
    "UIPATH_URL",
    "UIPATH_ACCESS_TOKEN",
    "UNATTENDED_USER_ACCESS_TOKEN",
    "UIPATH_FOLDER_PATH",
    "UIPATH_FOLDER_KEY",
    "UIPATH_ROBOT_KEY",
    "UIPATH_JOB_KEY",
    "UIPATH_JOB_ID",
    "UIPATH_TRACE_ID",
    "UIPATH_SERVICE_URL_ORCHESTRATOR",
    "UIPATH_TENANT_ID",
    "UIPATH_ORGANIZATION_ID",
)


@contextmanager
def podium_server(database_url: str, data_dir: Path) -> Iterator[str]:
    """``podium serve`` on a free port; yields its base URL; the process is always ended."""
    # The fixture builds the tables from the metadata, without Alembic's version table: mark the
    # database as migrated (tests/test_migrations.py checks both give the same schema), else
    # ``serve`` would run the initial migration on top of the existing tables.
    command.stamp(alembic_config(database_url), "head")
    with podium_process(database_url, data_dir) as (base, _process):
        yield base


def seed_process(base: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Admin token, the Shared folder and a new empty folder 'Équipe' (a non-ASCII path: the SDK sends it
    base64-encoded); creates environment, robot and release 'hello' in Shared."""
    with httpx.Client(base_url=base, timeout=10) as http:
        login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
        token: str = ok(http.post("/api/Account/Authenticate", json=login))["result"]
        http.headers.update({"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"})
        shared_filter = {"$filter": "FullyQualifiedName eq 'Shared'"}
        [shared] = ok(http.get(f"{ODATA}/Folders", params=shared_filter))["value"]
        other = ok(http.post(f"{ODATA}/Folders", json={"DisplayName": OTHER}), 201)
        environment = ok(http.post(f"{ODATA}/Environments", json={"Name": "e2e-env", "Type": "Dev"}), 201)
        robot = ok(
            http.post(
                f"{ODATA}/Robots",
                json={
                    "Name": "e2e-robot",
                    "MachineName": "E2E-MACHINE",
                    "Username": "e2e\\robot",
                    "Type": "Unattended",
                },
            ),
            201,
        )
        ok(
            http.post(
                f"{ODATA}/Environments({environment['Id']})/UiPath.Server.Configuration.OData.AddRobot",
                json={"robotId": robot["Id"]},
            ),
            204,
        )
        package = {"file": ("hello.1.0.0.nupkg", nupkg("hello", "1.0.0"), "application/octet-stream")}
        ok(http.post(f"{ODATA}/Processes/UiPath.Server.Configuration.OData.UploadPackage", files=package))
        release = {
            "Name": "hello",
            "ProcessKey": "hello",
            "ProcessVersion": "1.0.0",
            "EnvironmentId": environment["Id"],
        }
        ok(http.post(f"{ODATA}/Releases", json=release), 201)
    return token, shared, other


def test_sdk_drives_jobs(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with podium_server(database_url, tmp_path / "data") as base:
        token, shared, other_folder = seed_process(base)

        for name in SDK_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("UIPATH_URL", f"{base}/podium/Default")
        monkeypatch.setenv("UIPATH_ACCESS_TOKEN", token)
        monkeypatch.setenv("UIPATH_FOLDER_PATH", "Shared")
        monkeypatch.setenv("UIPATH_TELEMETRY_ENABLED", "false")
        monkeypatch.chdir(tmp_path)  # no stray uipath.json / .env from the working directory

        from uipath.platform import UiPath
        from uipath.platform.errors import EnrichedException

        sdk = UiPath(base_url=f"{base}/podium/Default", secret=token)

        # processes.invoke → StartJobs by ReleaseName: one Pending job echoing the input as a JSON string
        arguments = {"name": "world", "count": 3, "flags": [True, False]}
        job = sdk.processes.invoke(name="hello", input_arguments=arguments)
        assert job.state == "Pending"
        assert job.key is not None and str(uuid.UUID(job.key)) == job.key
        assert isinstance(job.id, int)
        assert job.input_arguments is not None and json.loads(job.input_arguments) == arguments

        # jobs.retrieve / exists → GetByKey(identifier=<guid>); an unknown key is a 404
        fetched = sdk.jobs.retrieve(job.key)
        assert (fetched.id, fetched.key, fetched.state) == (job.id, job.key, "Pending")
        assert fetched.input_arguments == job.input_arguments
        assert sdk.jobs.exists(job.key) is True
        assert sdk.jobs.exists(str(uuid.uuid4())) is False
        with pytest.raises(LookupError):
            sdk.jobs.retrieve(str(uuid.uuid4()))

        # an async call: a second job through invoke_async, read back with retrieve_async
        async def second_job() -> Any:
            started = await sdk.processes.invoke_async(name="hello", input_arguments={"n": 2})
            return started, await sdk.jobs.retrieve_async(started.key)

        other, other_fetched = asyncio.run(second_job())
        assert other.state == "Pending" and other.id != job.id and other_fetched.id == other.id

        # jobs.list → $filter / $orderby / $top / $skip, with has_more = (len(value) == $top)
        page = sdk.jobs.list(filter="State eq 'Pending'", orderby="Id desc", top=10)
        assert [j.id for j in page.items] == [other.id, job.id] and page.has_more is False
        first = sdk.jobs.list(orderby="Id asc", top=1)
        assert [j.id for j in first.items] == [job.id] and first.has_more is True
        second = sdk.jobs.list(orderby="Id asc", skip=1, top=1)
        assert [j.id for j in second.items] == [other.id]
        assert sdk.jobs.list(filter=f"Key eq '{job.key}'", top=5).items[0].id == job.id
        assert sdk.jobs.list(filter="State eq 'Running'", top=5).items == []

        # jobs.stop → lookup by Key in (…) with $select=Id,Key, then StopJobs: a Pending job stops at once
        sdk.jobs.stop(job_keys=[job.key])
        assert sdk.jobs.retrieve(job.key).state == "Stopped"
        assert sdk.jobs.retrieve(other.key).state == "Pending"
        with pytest.raises(LookupError):
            sdk.jobs.stop(job_keys=[str(uuid.uuid4())])

        # jobs.restart → same lookup, then RestartJob: a new Pending job with the same input
        restarted = sdk.jobs.restart(job_key=job.key)
        assert restarted.state == "Pending"
        assert restarted.id not in (job.id, other.id) and restarted.key != job.key
        assert restarted.input_arguments is not None and json.loads(restarted.input_arguments) == arguments
        assert sdk.jobs.retrieve(restarted.key).id == restarted.id

        # only a finished job can be restarted; Kill stops a Pending job at once too
        with pytest.raises(EnrichedException) as unfinished:
            sdk.jobs.restart(job_key=other.key)
        assert unfinished.value.status_code == 400
        sdk.jobs.stop(job_keys=[other.key], strategy="Kill")
        assert sdk.jobs.retrieve(other.key).state == "Stopped"

        # per-call folder arguments go on top of the env's folder path header and win over it:
        # x-uipath-folderkey, and x-uipath-folderpath-encoded for a non-ASCII path
        assert sdk.jobs.retrieve(job.key, folder_key=shared["Key"]).id == job.id
        assert sdk.jobs.exists(job.key, folder_key=other_folder["Key"]) is False
        assert sdk.jobs.exists(job.key, folder_path=OTHER) is False
        assert sdk.jobs.list(folder_path=OTHER, top=5).items == []
        assert len(sdk.jobs.list(folder_path="Shared", top=5).items) == 3
        with pytest.raises(EnrichedException) as missing:
            sdk.processes.invoke(name="hello", folder_path=OTHER)  # no such process in that folder
        assert missing.value.status_code == 404

        # folders.retrieve_key → FoldersNavigation/GetFoldersForCurrentUser (no folder header)
        assert sdk.folders.retrieve_key(folder_path="Shared") == shared["Key"]
        assert sdk.folders.retrieve_key(folder_path=OTHER) == other_folder["Key"]
        assert sdk.folders.retrieve_key(folder_path="No/Such/Folder") is None

        # processes.invoke with input past the SDK's 10,000 characters: it uploads the JSON as an
        # attachment and sends InputFile; with attachments it sends Attachments, and the job is linked
        from uipath.platform.attachments import Attachment

        scan = sdk.attachments.upload(name="scan.txt", content="scanned page")
        large = {"lines": ["x" * 90] * 150, "count": 150}  # about 14,000 characters as JSON
        given = [Attachment(ID=scan, FullName="scan.txt", MimeType="text/plain")]
        started = sdk.processes.invoke(name="hello", input_arguments=large, attachments=given)
        assert started.input_arguments is not None and json.loads(started.input_arguments) == large
        assert sdk.jobs.list_attachments(job_key=uuid.UUID(started.key)) == [str(scan)]

        # folders.get_personal_workspace → GetCurrentUserExtended?$select=PersonalWorkspace&$expand=…
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            workspace = ok(
                http.get(f"{ODATA}/PersonalWorkspaces/UiPath.Server.Configuration.OData.GetPersonalWorkspace")
            )
        mine = sdk.folders.get_personal_workspace()
        assert (mine.id, mine.key) == (workspace["Id"], workspace["Key"])
