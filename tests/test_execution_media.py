"""Execution media (issue 15): a robot uploads a screenshot of the job it ran (robot protocol), which is
then listed in /odata/ExecutionMedia (OData options), downloaded with the same bytes and deleted;
ExecutionMedia.View/Delete in the job's folder; bad input 400/403/404/413 with nothing stored. Both
backends. The agent's side (a faulted package's screenshot) is in tests/e2e/test_robot_media.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.db.schema_jobs import execution_media
from podium.robot.runner import last_screenshot
from tests.factories import seed_machine, start_jobs, user_with
from tests.robots.helpers import RobotClient, connect
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 10
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def upload(robot: RobotClient, key: str, data: bytes, name: str | None = "screen.png") -> Any:
    params = {"name": name} if name is not None else {}
    return robot.api.client.post(
        f"/api/robot/jobs/{key}/media", params=params, content=data, headers=robot.headers()
    )


def running_job(api: Api, robot: RobotClient) -> dict[str, Any]:
    [job] = start_jobs(api)
    [assignment] = robot.next()["jobs"]
    assert assignment["id"] == job["Id"]
    api.ok(robot.report(assignment["key"], "Running", claim=assignment["claim"]))
    return job


def media_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "attachments" / "files").rglob("*") if p.is_file())


def test_uploaded_screenshot_is_listed_downloaded_and_deleted(api: Api, db: Engine, tmp_path: Path) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    job = running_job(api, robot)
    uploaded = api.ok(upload(robot, job["Key"], PNG), 201)
    api.ok(robot.report(job["Key"], "Faulted", info="It broke."))
    assert uploaded["JobId"] == job["Id"]

    listed = api.ok(api.get("/odata/ExecutionMedia"))
    [media] = listed["value"]
    assert listed["@odata.count"] == 1
    assert media["JobId"] == job["Id"] and media["Name"] == "screen.png" and media["ReleaseName"] == "proc"
    assert media["Id"] == uploaded["Id"]
    assert media["StorageLocation"].startswith(f"{api.tenant.tenant_id}/execution-media/")
    assert api.ok(api.get(f"/odata/ExecutionMedia({media['Id']})"))["Name"] == "screen.png"
    selected = api.ok(api.get(f"/odata/ExecutionMedia?$filter=JobId eq {job['Id']}&$select=Name,ReleaseName"))
    assert selected["value"] == [{"Name": "screen.png", "ReleaseName": "proc"}]
    assert api.ok(api.get("/odata/ExecutionMedia?$filter=ReleaseName eq 'other'"))["value"] == []

    download = api.get(f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId={job['Id']})")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"

    # a second screenshot: the newest is the one downloaded
    api.ok(upload(robot, job["Key"], JPEG, name="later.jpg"), 201)
    again = api.get(f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId={job['Id']})")
    assert again.content == JPEG and again.headers["content-type"] == "image/jpeg"
    assert len(media_files(tmp_path)) == 2

    api.ok(api.post(f"/odata/ExecutionMedia/{NS}.DeleteMediaByJobId", {"jobId": job["Id"]}), 204)
    assert api.ok(api.get("/odata/ExecutionMedia"))["value"] == []
    assert media_files(tmp_path) == []
    assert_error(api.get(f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId={job['Id']})"), 404)
    assert_error(api.post(f"/odata/ExecutionMedia/{NS}.DeleteMediaByJobId", {"jobId": job["Id"]}), 404)
    audit = api.ok(api.get("/odata/AuditLogs?$filter=Component eq 'ExecutionMedia'"))["value"]
    assert [entry["Action"] for entry in audit] == ["Delete"]


def test_bad_uploads_store_nothing(api: Api, db: Engine, tmp_path: Path) -> None:
    machine = seed_machine(api, db, robots=2)
    first, second = connect(api, machine)
    [pending] = start_jobs(api)
    assert_error(upload(first, pending["Key"], PNG), 403)  # not given to any robot yet
    [assignment] = first.next()["jobs"]
    api.ok(first.report(assignment["key"], "Running", claim=assignment["claim"]))
    job = {"Id": assignment["id"], "Key": assignment["key"]}
    holder, other = first, second
    assert_error(upload(other, job["Key"], PNG), 403)  # not this robot's job
    assert_error(upload(holder, "00000000-0000-0000-0000-000000000000", PNG), 404)
    assert_error(upload(holder, job["Key"], b"GIF89a not an image we take"), 400)
    assert_error(upload(holder, job["Key"], b""), 400)
    assert_error(upload(holder, job["Key"], PNG, name="../../etc/passwd"), 400)
    assert_error(upload(holder, job["Key"], PNG, name="x" * 300), 400)
    too_big = b"\x89PNG\r\n\x1a\n" + b"0" * (10 * 1024 * 1024)
    assert_error(upload(holder, job["Key"], too_big), 413)
    no_token = api.client.post(f"/api/robot/jobs/{job['Key']}/media", content=PNG)
    assert_error(no_token, 401)
    user_token = api.client.post(
        f"/api/robot/jobs/{job['Key']}/media", content=PNG, headers={"Authorization": f"Bearer {api.token}"}
    )
    assert_error(user_token, 401)
    with db.connect() as conn:
        assert conn.execute(select(execution_media.c.id)).all() == []
    assert media_files(tmp_path) == []

    for url in (
        f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId=999999)",
        f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId={job['Id']})",  # no media
        "/odata/ExecutionMedia(999999)",
    ):
        assert_error(api.get(url), 404)
    assert_error(api.get(f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId='x')"), 400)
    for body in ({"jobId": "x"}, {"jobId": 0}, {}, [1]):
        assert_error(api.post(f"/odata/ExecutionMedia/{NS}.DeleteMediaByJobId", body), 400)
    assert_error(api.post(f"/odata/ExecutionMedia/{NS}.DeleteMediaByJobId", {"jobId": 999999}), 404)
    assert_error(api.post("/odata/ExecutionMedia", {"Name": "x"}), 400)
    assert_error(api.delete("/odata/ExecutionMedia(1)"), 400)


def test_permissions_follow_the_jobs_folder(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    job = running_job(api, robot)
    api.ok(upload(robot, job["Key"], PNG), 201)
    shared = api.tenant.shared_folder_id
    other = api.ok(api.post("/odata/Folders", {"DisplayName": "Other"}), 201)["Id"]
    viewer = user_with(api, "viewer", ["ExecutionMedia.View"], folder=shared)
    jobs_only = user_with(api, "jobs-only", ["Jobs.View", "Jobs.Delete"], folder=shared)
    elsewhere = user_with(api, "elsewhere", ["ExecutionMedia.View", "ExecutionMedia.Delete"], folder=other)
    download = f"/odata/ExecutionMedia/{NS}.DownloadMediaByJobId(jobId={job['Id']})"
    delete = f"/odata/ExecutionMedia/{NS}.DeleteMediaByJobId"

    assert len(api.ok(api.get("/odata/ExecutionMedia", token=viewer))["value"]) == 1
    assert api.get(download, token=viewer).content == PNG
    assert_error(api.post(delete, {"jobId": job["Id"]}, token=viewer), 403)
    assert_error(api.get("/odata/ExecutionMedia", token=jobs_only), 403)
    assert_error(api.get(download, token=jobs_only), 403)
    assert_error(api.post(delete, {"jobId": job["Id"]}, token=jobs_only), 403)
    assert api.ok(api.get("/odata/ExecutionMedia", token=elsewhere))["value"] == []
    assert_error(api.get(download, token=elsewhere), 403)
    assert_error(api.post(delete, {"jobId": job["Id"]}, token=elsewhere), 403)
    assert len(api.ok(api.get("/odata/ExecutionMedia"))["value"]) == 1  # nothing was deleted

    folder_admin = user_with(api, "fadmin", [], folder=shared)
    role = api.ok(api.get("/odata/Roles?$filter=Name eq 'Folder Administrator'"))["value"][0]["Id"]
    user_id = api.ok(api.get("/odata/Users?$filter=UserName eq 'fadmin'"))["value"][0]["Id"]
    assignment = {"UserIds": [user_id], "RolesPerFolder": [{"FolderId": shared, "RoleIds": [role]}]}
    api.ok(api.post(f"/odata/Folders/{NS}.AssignUsers", {"assignments": assignment}), 204)
    folder_admin = api.login("fadmin", "pass-word-123")
    api.ok(api.post(delete, {"jobId": job["Id"]}, token=folder_admin), 204)  # the built-in role may


def test_the_newest_screenshot_is_the_one_uploaded(tmp_path: Path) -> None:
    folder = tmp_path / ".podium" / "screenshots"
    assert last_screenshot(folder) is None  # no folder
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("not an image")
    assert last_screenshot(folder) is None
    for index, name in enumerate(("a.png", "c.JPG", "b.jpeg")):
        path = folder / name
        path.write_bytes(PNG)
        stamp = 1_700_000_000 + index
        os.utime(path, (stamp, stamp))
    newest = last_screenshot(folder)
    assert newest is not None and newest.name == "b.jpeg"
