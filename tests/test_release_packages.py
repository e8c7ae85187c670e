"""Releases and package versions: validation against the folder's feed, defaults from the package,
UpdateToSpecificPackageVersion / UpdateToLatestPackageVersion / RollbackToPreviousReleaseVersion, and
packages in use cannot be deleted."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.db.schema_packages import release_versions
from tests.factories import UPLOAD, upload
from tests.package_builders import nupkg
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"


def test_release_takes_the_package_and_its_defaults(api: Api) -> None:
    shared = api.tenant.shared_folder_id
    assert_error(api.post("/odata/Releases", {"Name": "R", "ProcessKey": "Hello"}, folder=shared), 400)
    api.ok(upload(api, nupkg("Hello", "1.0.0")))
    api.ok(upload(api, nupkg("Hello", "1.1.0")))
    release = api.ok(api.post("/odata/Releases", {"Name": "R", "ProcessKey": "hello"}, folder=shared), 201)
    assert release["ProcessKey"] == "Hello" and release["ProcessVersion"] == "1.1.0"  # latest when empty
    assert release["IsLatestVersion"] is True and release["EntryPointPath"] == "main.py"
    assert json.loads(release["InputArguments"]) == {"name": "world"}  # the schema's defaults
    pinned = api.ok(
        api.post(
            "/odata/Releases",
            {
                "Name": "Pinned",
                "ProcessKey": "Hello",
                "ProcessVersion": "1.0",
                "InputArguments": '{"name": "x"}',
            },
            folder=shared,
        ),
        201,
    )
    assert pinned["ProcessVersion"] == "1.0.0" and pinned["IsLatestVersion"] is False
    assert pinned["InputArguments"] == '{"name": "x"}'
    for bad in (
        {"Name": "B1", "ProcessKey": "Hello", "ProcessVersion": "9.9.9"},
        {"Name": "B2", "ProcessKey": "Nope"},
        {"Name": "B3", "ProcessKey": "Hello", "EntryPointPath": "other.py"},
        {"Name": "B4", "ProcessKey": "Hello", "InputArguments": "[1, 2]"},
        {"Name": "B5", "ProcessKey": "Hello", "ProcessVersion": "not-a-version!"},
    ):
        assert_error(api.post("/odata/Releases", bad, folder=shared), 400)
    assert_error(
        api.put(f"/odata/Releases({pinned['Id']})", {**pinned, "ProcessVersion": "7.0.0"}, folder=shared), 400
    )
    assert len(api.ok(api.get("/odata/Releases", folder=shared))["value"]) == 2


def test_version_actions_and_rollback(api: Api, db: Engine) -> None:
    shared = api.tenant.shared_folder_id
    api.ok(upload(api, nupkg("Hello", "1.0.0")))
    release = api.ok(api.post("/odata/Releases", {"Name": "R", "ProcessKey": "Hello"}, folder=shared), 201)
    api.ok(upload(api, nupkg("Hello", "2.0.0")))
    base = f"/odata/Releases({release['Id']})/{NS}"

    def version() -> str:
        value: str = api.ok(api.get(f"/odata/Releases({release['Id']})", folder=shared))["ProcessVersion"]
        return value

    answer = api.ok(api.post(f"{base}.UpdateToLatestPackageVersion", folder=shared))
    assert answer["value"] == release["Id"] and version() == "2.0.0"
    api.ok(upload(api, nupkg("Hello", "3.0.0")))
    api.ok(api.post(f"{base}.UpdateToSpecificPackageVersion", {"packageVersion": "3.0.0"}, folder=shared))
    assert version() == "3.0.0"
    assert_error(
        api.post(f"{base}.UpdateToSpecificPackageVersion", {"packageVersion": "4.0.0"}, folder=shared), 400
    )
    assert_error(api.post(f"{base}.UpdateToSpecificPackageVersion", {}, folder=shared), 400)
    api.ok(api.post(f"{base}.RollbackToPreviousReleaseVersion", folder=shared))
    assert version() == "2.0.0"
    api.ok(api.post(f"{base}.RollbackToPreviousReleaseVersion", folder=shared))
    assert version() == "1.0.0"
    assert_error(api.post(f"{base}.RollbackToPreviousReleaseVersion", folder=shared), 400)  # nothing before
    api.ok(
        api.put(
            f"/odata/Releases({release['Id']})",
            {"Name": "R", "ProcessKey": "Hello", "ProcessVersion": "3.0.0"},
            folder=shared,
        )
    )
    with db.connect() as conn:
        history = (
            conn.execute(select(release_versions.c.version_number).order_by(release_versions.c.id))
            .scalars()
            .all()
        )
    assert history == ["1.0.0", "3.0.0"]
    assert_error(api.post(f"/odata/Releases(999999)/{NS}.UpdateToLatestPackageVersion", folder=shared), 404)


def test_package_in_use_cannot_be_deleted(api: Api) -> None:
    shared = api.tenant.shared_folder_id
    api.ok(upload(api, nupkg("Hello", "1.0.0")))
    api.ok(upload(api, nupkg("Hello", "2.0.0")))
    release = api.ok(
        api.post(
            "/odata/Releases", {"Name": "R", "ProcessKey": "Hello", "ProcessVersion": "1.0.0"}, folder=shared
        ),
        201,
    )
    body = assert_error(api.delete("/odata/Processes('Hello')"), 409)
    assert "R (Shared)" in body["message"]
    assert_error(api.delete("/odata/Processes('Hello:1.0.0')"), 409)
    assert api.delete("/odata/Processes('Hello:2.0.0')").status_code == 204  # unused version
    assert api.delete(f"/odata/Releases({release['Id']})", folder=shared).status_code == 204
    assert api.delete("/odata/Processes('Hello')").status_code == 204


def test_folder_feed_releases(api: Api) -> None:
    finance = api.ok(
        api.post("/odata/Folders", {"DisplayName": "Finance", "FeedType": "FolderHierarchy"}), 201
    )
    api.ok(upload(api, nupkg("Tenantwide", "1.0.0")))
    assert_error(
        api.post("/odata/Releases", {"Name": "R", "ProcessKey": "Tenantwide"}, folder=finance["Id"]), 400
    )
    api.ok(upload(api, nupkg("Local", "1.0.0"), url=f"{UPLOAD}?feedId={finance['Key']}"))
    api.ok(api.post("/odata/Releases", {"Name": "R", "ProcessKey": "Local"}, folder=finance["Id"]), 201)
    assert_error(api.delete(f"/odata/Processes('Local')?feedId={finance['Key']}"), 409)
    assert api.delete("/odata/Processes('Tenantwide')").status_code == 204
