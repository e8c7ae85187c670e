"""Releases by key and in bulk (DeleteByKey, UpdateByKey, UpdateToLatestPackageVersionBulk) and the users
of a role (GetUsersForRole), issue 15. Refusals change nothing."""

from __future__ import annotations

from typing import Any

from tests.factories import NS, release, role_id, upload, user, user_with
from tests.package_builders import nupkg
from tests.support import Api, assert_error


def get_release(api: Api, release_id: int) -> dict[str, Any]:
    return dict(api.ok(api.get(f"/odata/Releases({release_id})")))


def test_releases_by_key_and_in_bulk(api: Api) -> None:
    shared = api.tenant.shared_folder_id
    a, b = release(api, shared, "alpha"), release(api, shared, "beta")
    for name in ("alpha", "beta"):
        api.ok(upload(api, nupkg(name, "1.1.0"), name=f"{name}.1.1.0.nupkg"))

    update = f"/odata/Releases/{NS}.UpdateByKey"
    body = {
        "releaseKey": a["Key"],
        "processVersion": "1.1.0",
        "entryPointPath": "main.py",
        "inputArgs": '{"x": 1}',
    }
    viewer = user_with(api, "viewer", ["Processes.View"])
    assert_error(api.post(update, body, token=viewer), 403)
    assert_error(api.post(update, {**body, "releaseKey": "no-such-key"}), 404)
    assert_error(api.post(update, {**body, "processVersion": "9.9.9"}), 400)
    assert_error(api.post(update, {**body, "entryPointPath": 5}), 400)
    assert get_release(api, a["Id"])["ProcessVersion"] == "1.0.0"  # nothing changed
    api.ok(api.post(update, body), 204)
    moved = get_release(api, a["Id"])
    assert moved["ProcessVersion"] == "1.1.0" and moved["EntryPointPath"] == "main.py"
    assert moved["InputArguments"] == '{"x": 1}'

    bulk = f"/odata/Releases/{NS}.UpdateToLatestPackageVersionBulk"
    assert_error(api.post(bulk, {"releaseIds": "all"}), 400)
    answer = api.ok(api.post(bulk, {"releaseIds": [b["Id"], 987654], "mergePackageTags": False}))
    assert answer == {"Success": False, "Message": answer["Message"], "FailedItems": [987654]}
    assert get_release(api, b["Id"])["ProcessVersion"] == "1.1.0"
    refused = api.ok(api.post(bulk, {"releaseIds": [a["Id"]]}, token=viewer))
    assert refused["FailedItems"] == [a["Id"]]

    delete = "/api/Releases/DeleteByKey"
    assert_error(api.delete(f"{delete}?key={a['Key']}", token=viewer), 403)
    assert_error(api.delete(f"{delete}?key=unknown"), 404)
    assert_error(api.delete(delete), 400)
    get_release(api, a["Id"])  # still there
    api.ok(api.delete(f"{delete}?key={a['Key']}"), 204)
    assert_error(api.get(f"/odata/Releases({a['Id']})"), 404)
    assert [r["Name"] for r in api.ok(api.get("/odata/Releases"))["value"]] == ["beta"]


def test_users_for_role(api: Api) -> None:
    admin_role = role_id(api, "Administrator")
    ann, bob = user(api, "ann"), user(api, "bob")
    api.ok(
        api.post(f"/odata/Roles({admin_role})/{NS}.SetUsers", {"addedUserIds": [ann], "removedUserIds": []}),
        204,
    )
    url = f"/odata/Roles/{NS}.GetUsersForRole(key={admin_role})"
    names = sorted(u["UserName"] for u in api.ok(api.get(url))["value"])
    assert "ann" in names and "bob" not in names and "admin" in names
    only = api.ok(api.get(f"{url}?$filter=UserName eq 'ann'&$select=UserName,Id"))
    assert only["value"] == [{"UserName": "ann", "Id": ann}] and only["@odata.count"] == 1
    assert_error(api.get(f"/odata/Roles/{NS}.GetUsersForRole(key=987654)"), 400)  # as GetUserIdsForRole
    assert_error(api.get(f"/odata/Roles/{NS}.GetUsersForRole(key='x')"), 400)
    viewer = user_with(api, "viewer", ["Users.View"])
    assert_error(api.get(url, token=viewer), 403)
    assert bob
