"""The Processes and Libraries feeds over HTTP: upload, list, versions, download, delete, arguments,
feeds (tenant and folder), on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.db.schema_packages import package_versions
from tests.factories import UPLOAD, upload
from tests.package_builders import INPUT_SCHEMA, nupkg
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"


def feed_files(api: Api) -> list[str]:
    root = api.client.app.state.podium.settings.data_dir / "packages"  # type: ignore[attr-defined]
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def test_upload_list_versions_download_delete(api: Api, db: Engine) -> None:
    first = api.ok(upload(api, nupkg("Hello", "1.0.0"), name=".uipath/Hello.1.0.0.nupkg"))
    assert first["value"] == [
        {"Key": "Hello.1.0.0.nupkg", "Status": "OK", "Body": '{"Id":"Hello","Version":"1.0.0"}'}
    ]
    assert json.loads(first["value"][0]["Body"]) == {"Id": "Hello", "Version": "1.0.0"}
    v120 = nupkg("Hello", "1.2.0")
    api.ok(upload(api, v120))
    api.ok(upload(api, nupkg("Hello", "1.10.0-beta")))  # NuGet order: 1.10.0-beta > 1.2.0
    api.ok(
        upload(
            api, nupkg("Other", "0.1.0", kind="robotframework"), url=f"/odata/Processes/{NS}.UploadPackage()"
        )
    )

    listed = api.ok(api.get("/odata/Processes?$orderby=Id"))["value"]
    assert [(p["Id"], p["Version"], p["IsLatestVersion"]) for p in listed] == [
        ("Hello", "1.10.0-beta", True),
        ("Other", "0.1.0", True),
    ]
    hello = listed[0]
    assert hello["Key"] == "Hello:1.10.0-beta" and hello["Title"] == "Hello title"
    assert hello["Authors"] == "Podium Tests" and hello["Description"] == "Hello does things"
    assert hello["MainEntryPointPath"] == "main.py" and hello["Published"].endswith("Z")
    assert json.loads(hello["Arguments"]["Input"]) == INPUT_SCHEMA
    assert hello["EntryPoints"][0]["Path"] == "main.py"

    versions = api.ok(
        api.get(f"/odata/Processes/{NS}.GetProcessVersions(processId='hello')?$orderby=Version")
    )
    assert [v["Version"] for v in versions["value"]] == ["1.0.0", "1.10.0-beta", "1.2.0"]
    assert [v["IsLatestVersion"] for v in versions["value"]] == [False, True, False]
    assert api.ok(api.get("/odata/Processes('Hello')"))["Version"] == "1.10.0-beta"
    assert api.ok(api.get("/odata/Processes?$filter=Id eq 'Other'&$select=Id,Version"))["value"] == [
        {"Id": "Other", "Version": "0.1.0"}
    ]
    assert api.ok(api.get("/odata/Processes?searchTerm=oth"))["value"][0]["Id"] == "Other"

    download = api.get(f"/odata/Processes/{NS}.DownloadPackage(key='Hello:1.2.0')")
    assert download.status_code == 200 and download.content == v120
    assert "Hello.1.2.0.nupkg" in download.headers["content-disposition"]
    assert_error(api.get(f"/odata/Processes/{NS}.DownloadPackage(key='Hello:9.9.9')"), 404)

    assert api.delete("/odata/Processes('Hello:1.10.0-beta')").status_code == 204
    assert api.ok(api.get("/odata/Processes('Hello')"))["Version"] == "1.2.0"  # latest moves back
    assert api.delete("/odata/Processes('Hello')").status_code == 204  # every version
    assert [p["Id"] for p in api.ok(api.get("/odata/Processes"))["value"]] == ["Other"]
    with db.connect() as conn:
        assert conn.execute(select(package_versions.c.package_id)).scalars().all() == ["Other"]
    assert feed_files(api) == [f"{api.tenant.tenant_id}/processes/other/other.0.1.0.nupkg"]
    assert_error(api.delete("/odata/Processes('Hello')"), 404)


@pytest.mark.parametrize("kind", ["python", "robotframework", "uipath-python"])
def test_kinds_detected(api: Api, db: Engine, kind: str) -> None:
    api.ok(upload(api, nupkg("Pkg", "2.0", kind=kind)))
    with db.connect() as conn:
        row = conn.execute(select(package_versions)).mappings().one()
    assert row["kind"] == kind and row["version"] == "2.0" and row["version_normalized"] == "2.0.0"
    expected = {"python": "main.py", "robotframework": "suite.robot", "uipath-python": "main"}[kind]
    assert row["main_entry_point"] == expected
    assert_error(upload(api, nupkg("Pkg", "2.0.0", kind=kind)), 409)  # 2.0 == 2.0.0


def test_arguments(api: Api) -> None:
    api.ok(upload(api, nupkg("Args", "1.0.0", kind="uipath-python")))
    got = api.ok(api.get(f"/odata/Processes/{NS}.GetArguments(key='Args:1.0.0')"))
    assert json.loads(got["Input"]) == INPUT_SCHEMA and json.loads(got["Output"])["type"] == "object"
    new = {"Input": json.dumps({"type": "object", "properties": {"x": {"type": "string"}}}), "Output": None}
    assert (
        api.post(f"/odata/Processes/{NS}.SetArguments", {"key": "Args:1.0.0", "arguments": new}).status_code
        == 204
    )
    got = api.ok(api.get(f"/odata/Processes/{NS}.GetArguments(key='Args')"))
    assert got["Input"] == new["Input"] and got["Output"] is None
    assert_error(
        api.post(f"/odata/Processes/{NS}.SetArguments", {"key": "Args:1.0.0", "arguments": {"Input": "{"}}),
        400,
    )
    assert_error(api.post(f"/odata/Processes/{NS}.SetArguments", {"key": "Nope:1.0.0", "arguments": {}}), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"key": "Args:1.0.0"},  # no arguments
        {"key": "Args:1.0.0", "arguments": "{}"},
        {"key": "Args:1.0.0", "arguments": {"Input": {"type": "object"}}},  # a schema is a JSON text
        {"key": "Args:1.0.0", "arguments": {"Output": 5}},
        {"arguments": {}},  # no key
        {"key": 5, "arguments": {}},
        {"key": "  ", "arguments": {}},
        {"key": "Args\x00:1.0.0", "arguments": {}},
        {"key": "A" * 201, "arguments": {}},
    ],
)
def test_set_arguments_refuses_bad_bodies(api: Api, body: dict[str, object]) -> None:
    api.ok(upload(api, nupkg("Args", "1.0.0", kind="uipath-python")))
    assert_error(api.post(f"/odata/Processes/{NS}.SetArguments", body), 400)
    got = api.ok(api.get(f"/odata/Processes/{NS}.GetArguments(key='Args:1.0.0')"))
    assert json.loads(got["Input"]) == INPUT_SCHEMA


def test_bad_keys_are_400(api: Api) -> None:
    assert_error(api.get(f"/odata/Processes/{NS}.DownloadPackage(key=5)"), 400)
    assert_error(api.get(f"/odata/Processes/{NS}.GetArguments(key='')"), 400)
    assert_error(api.delete("/odata/Processes(5)"), 400)
    assert_error(api.get("/odata/Libraries('%20')"), 400)


def test_feeds_and_folder_feed(api: Api) -> None:
    folder = api.ok(
        api.post("/odata/Folders", {"DisplayName": "Finance", "FeedType": "FolderHierarchy"}), 201
    )
    child = api.ok(api.post("/odata/Folders", {"DisplayName": "Payroll", "ParentId": folder["Id"]}), 201)
    feeds = api.ok(api.get("/api/PackageFeeds/GetFeeds"))
    by_name = {f["name"]: f for f in feeds}
    tenant_feed = by_name["Orchestrator Tenant Processes Feed"]
    assert (
        tenant_feed["purpose"] == "Processes"
        and by_name["Orchestrator Tenant Libraries Feed"]["purpose"] == "Libraries"
    )
    assert by_name["Orchestrator Shared Feed"]["id"] == tenant_feed["id"]  # Shared uses the tenant feed
    assert by_name["Orchestrator Finance Feed"]["id"] == folder["Key"]
    assert by_name["Orchestrator Finance/Payroll Feed"]["id"] == folder["Key"]  # subfolders share it

    api.ok(upload(api, nupkg("InFolder", "1.0.0"), url=f"{UPLOAD}()?feedId={folder['Key']}"))
    assert api.ok(api.get("/odata/Processes"))["value"] == []  # not in the tenant feed
    in_folder = api.ok(api.get(f"/odata/Processes?feedId={folder['Key']}"))["value"]
    assert [p["Id"] for p in in_folder] == ["InFolder"]
    assert api.ok(api.get(f"/api/PackageFeeds/GetFolderFeed?folderId={child['Id']}")) == folder["Key"]
    # the same id and version may live in another feed
    api.ok(upload(api, nupkg("InFolder", "1.0.0"), url=f"{UPLOAD}?feedId={tenant_feed['id']}"))
    assert_error(
        upload(api, nupkg("X", "1.0.0"), url=f"{UPLOAD}?feedId=00000000-0000-0000-0000-000000000000"), 404
    )
    assert_error(api.get("/odata/Processes?feedId=nope"), 404)
    download = api.get(f"/odata/Processes/{NS}.DownloadPackage(key='InFolder:1.0.0')?feedId={folder['Key']}")
    assert download.status_code == 200


def test_libraries_feed(api: Api) -> None:
    lib = f"/odata/Libraries/{NS}.UploadPackage"
    v100 = nupkg("MyLib", "1.0.0", kind="library")
    api.ok(upload(api, v100, url=lib))
    api.ok(upload(api, nupkg("MyLib", "1.1.0-rc.1", kind="library"), url=lib + "()"))
    assert_error(upload(api, nupkg("MyLib", "1.0.0", kind="library"), url=lib), 409)
    assert_error(upload(api, nupkg("MyLib", "3.0.0", kind="library")), 400)  # no entry point: not a process
    listed = api.ok(api.get("/odata/Libraries"))["value"]
    assert [(x["Id"], x["Version"], x["IsPrerelease"], x["ProjectType"]) for x in listed] == [
        ("MyLib", "1.1.0-rc.1", True, "ProcessLibrary")
    ]
    versions = api.ok(api.get(f"/odata/Libraries/{NS}.GetVersions(packageId='MyLib')"))["value"]
    assert sorted(v["Version"] for v in versions) == ["1.0.0", "1.1.0-rc.1"]
    assert api.ok(api.get("/odata/Processes"))["value"] == []  # feeds are apart
    download = api.get(f"/odata/Libraries/{NS}.DownloadPackage(key='MyLib:1.0.0')")
    assert download.content == v100
    assert api.delete("/odata/Libraries('MyLib')").status_code == 204
    assert api.ok(api.get("/odata/Libraries"))["value"] == []


@pytest.mark.parametrize("folder_id", [0, -1, 2**63, 9400440697417504768])
def test_folder_feed_of_an_id_no_folder_can_have(api: Api, folder_id: int) -> None:
    """Past Int64 the database driver overflowed: a 500 (found by tests/test_fuzz_api.py)."""
    assert_error(api.get(f"/api/PackageFeeds/GetFolderFeed?folderId={folder_id}"), 400)
