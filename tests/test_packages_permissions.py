"""Who may do what in the feeds (Packages.*, Libraries.*, Processes.View for downloads), and tenant
isolation of feeds."""

from __future__ import annotations

from tests.factories import UPLOAD, upload, user_with
from tests.package_builders import nupkg
from tests.support import Api, assert_error, create_tenant_sync

NS = "UiPath.Server.Configuration.OData"
DOWNLOAD = f"/odata/Processes/{NS}.DownloadPackage(key='Hello:1.0.0')"


def test_package_permissions(api: Api) -> None:
    api.ok(upload(api, nupkg("Hello", "1.0.0")))
    viewer = user_with(api, "viewer", ["Packages.View"])
    assert [p["Id"] for p in api.ok(api.get("/odata/Processes", token=viewer))["value"]] == ["Hello"]
    assert api.get(DOWNLOAD, token=viewer).status_code == 200
    assert_error(upload(api, nupkg("Hello", "2.0.0"), token=viewer), 403)
    assert_error(api.delete("/odata/Processes('Hello')", token=viewer), 403)
    assert_error(
        api.post(f"/odata/Processes/{NS}.SetArguments", {"key": "Hello", "arguments": {}}, token=viewer), 403
    )
    assert_error(api.get("/odata/Libraries", token=viewer), 403)  # libraries have their own permissions

    publisher = user_with(api, "publisher", ["Packages.View", "Packages.Create"])
    api.ok(upload(api, nupkg("Hello", "2.0.0"), token=publisher))
    assert_error(api.delete("/odata/Processes('Hello:2.0.0')", token=publisher), 403)
    deleter = user_with(api, "deleter", ["Packages.Delete"])
    assert api.delete("/odata/Processes('Hello:2.0.0')", token=deleter).status_code == 204

    # a robot-like user with Processes.View in a folder may download what it runs, not list the feed
    runner = user_with(api, "runner", ["Processes.View"], folder=api.tenant.shared_folder_id)
    assert api.get(DOWNLOAD, token=runner).status_code == 200
    assert api.get(f"/odata/Processes/{NS}.GetArguments(key='Hello')", token=runner).status_code == 200
    assert_error(api.get("/odata/Processes", token=runner), 403)
    nobody = user_with(api, "nobody", ["Jobs.View"])
    assert_error(api.get(DOWNLOAD, token=nobody), 403)
    assert_error(upload(api, nupkg("Other", "1.0.0"), token=nobody), 403)


def test_folder_feed_permissions(api: Api) -> None:
    finance = api.ok(
        api.post("/odata/Folders", {"DisplayName": "Finance", "FeedType": "FolderHierarchy"}), 201
    )
    url = f"{UPLOAD}?feedId={finance['Key']}"
    local = user_with(api, "local", ["Packages.View", "Packages.Create"], folder=finance["Id"])
    api.ok(upload(api, nupkg("Mine", "1.0.0"), token=local, url=url))
    assert [
        p["Id"] for p in api.ok(api.get(f"/odata/Processes?feedId={finance['Key']}", token=local))["value"]
    ] == ["Mine"]
    assert_error(upload(api, nupkg("Mine", "1.0.0"), token=local), 403)  # not in the tenant feed
    assert_error(api.get("/odata/Processes", token=local), 403)
    names = {f["name"] for f in api.ok(api.get("/api/PackageFeeds/GetFeeds", token=local))}
    assert "Orchestrator Finance Feed" in names and "Orchestrator Shared Feed" not in names


def test_library_permissions(api: Api) -> None:
    lib = f"/odata/Libraries/{NS}.UploadPackage"
    packager = user_with(api, "packager", ["Packages.View", "Packages.Create", "Packages.Delete"])
    assert_error(upload(api, nupkg("Lib", "1.0.0", kind="library"), token=packager, url=lib), 403)
    librarian = user_with(api, "librarian", ["Libraries.View", "Libraries.Create"])
    api.ok(upload(api, nupkg("Lib", "1.0.0", kind="library"), token=librarian, url=lib))
    assert [x["Id"] for x in api.ok(api.get("/odata/Libraries", token=librarian))["value"]] == ["Lib"]
    assert_error(api.delete("/odata/Libraries('Lib')", token=librarian), 403)


def test_tenant_isolation(api: Api, database_url: str) -> None:
    api.ok(upload(api, nupkg("Hello", "1.0.0")))
    create_tenant_sync(database_url, "Other")
    other = api.client.post(
        "/api/Account/Authenticate",
        json={"tenancyName": "Other", "usernameOrEmailAddress": "admin", "password": "admin-password-1"},
    ).json()["result"]
    assert api.ok(api.get("/odata/Processes", token=other))["value"] == []
    assert_error(api.get(DOWNLOAD, token=other), 404)
    assert_error(api.get(f"/odata/Processes/{NS}.GetArguments(key='Hello')", token=other), 404)
    assert_error(api.delete("/odata/Processes('Hello')", token=other), 404)
    mine = {f["id"] for f in api.ok(api.get("/api/PackageFeeds/GetFeeds"))}
    theirs = {f["id"] for f in api.ok(api.get("/api/PackageFeeds/GetFeeds", token=other))}
    assert not mine & theirs
    for feed_id in mine:  # another tenant's feed ids name nothing
        assert_error(upload(api, nupkg("X", "1.0.0"), token=other, url=f"{UPLOAD}?feedId={feed_id}"), 404)
        assert_error(api.get(f"/odata/Processes?feedId={feed_id}", token=other), 404)
    own = nupkg(
        "Hello", "1.0.0", files={"content/main.py": "def main(input):\n    return {'tenant': 'other'}\n"}
    )
    api.ok(upload(api, own, token=other))  # the same id and version in its own feed
    assert api.get(DOWNLOAD, token=other).content == own
    assert api.delete("/odata/Processes('Hello')", token=other).status_code == 204
    assert api.get(DOWNLOAD).status_code == 200  # the first tenant's package is untouched
