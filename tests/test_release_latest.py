"""A release's ``IsLatestVersion`` follows the feed: a newer upload makes it false, a move to the latest
version (or deleting the newer version) makes it true again; releases of other feeds are untouched."""

from __future__ import annotations

from typing import Any

from tests.factories import upload
from tests.package_builders import nupkg
from tests.support import Api

NS = "UiPath.Server.Configuration.OData"


def latest_flags(api: Api, folder: Any) -> dict[str, tuple[str, bool]]:
    rows = api.ok(api.get("/odata/Releases?$orderby=Name", folder=folder))["value"]
    return {r["Name"]: (r["ProcessVersion"], r["IsLatestVersion"]) for r in rows}


def test_is_latest_version_follows_uploads(api: Api) -> None:
    shared = api.tenant.shared_folder_id
    api.ok(upload(api, nupkg("Hello", "1.0.0")))
    api.ok(api.post("/odata/Releases", {"Name": "A", "ProcessKey": "Hello"}, folder=shared), 201)
    b = api.ok(api.post("/odata/Releases", {"Name": "B", "ProcessKey": "Hello"}, folder=shared), 201)
    api.ok(upload(api, nupkg("Other", "1.0.0")))
    api.ok(api.post("/odata/Releases", {"Name": "C", "ProcessKey": "Other"}, folder=shared), 201)
    own = api.ok(api.post("/odata/Folders", {"DisplayName": "Own", "FeedType": "FolderHierarchy"}), 201)
    api.ok(upload(api, nupkg("Hello", "1.0.0"), feed_id=own["Key"]))
    api.ok(api.post("/odata/Releases", {"Name": "D", "ProcessKey": "Hello"}, folder=own["Id"]), 201)
    assert latest_flags(api, shared) == {
        "A": ("1.0.0", True),
        "B": ("1.0.0", True),
        "C": ("1.0.0", True),
    }

    # the tenant feed: A and B fall behind, D (own feed) does not
    api.ok(upload(api, nupkg("Hello", "1.1.0")))
    assert latest_flags(api, shared) == {
        "A": ("1.0.0", False),
        "B": ("1.0.0", False),
        "C": ("1.0.0", True),
    }
    assert latest_flags(api, own["Id"]) == {"D": ("1.0.0", True)}
    behind = api.ok(api.get("/odata/Releases?$filter=IsLatestVersion eq false&$select=Name", folder=shared))
    assert sorted(r["Name"] for r in behind["value"]) == ["A", "B"]

    api.ok(api.post(f"/odata/Releases({b['Id']})/{NS}.UpdateToLatestPackageVersion", folder=shared))
    assert latest_flags(api, shared)["B"] == ("1.1.0", True)

    api.ok(upload(api, nupkg("Hello", "1.0.5")))  # older than the latest: nothing changes
    assert latest_flags(api, shared)["B"] == ("1.1.0", True)
    assert latest_flags(api, shared)["A"] == ("1.0.0", False)

    api.ok(api.post(f"/odata/Releases({b['Id']})/{NS}.RollbackToPreviousReleaseVersion", folder=shared))
    assert latest_flags(api, shared)["B"] == ("1.0.0", False)

    # deleting the newer versions (no release runs them) makes 1.0.0 the latest again
    api.ok(api.delete("/odata/Processes('Hello:1.1.0')"), 204)
    api.ok(api.delete("/odata/Processes('Hello:1.0.5')"), 204)
    assert latest_flags(api, shared) == {
        "A": ("1.0.0", True),
        "B": ("1.0.0", True),
        "C": ("1.0.0", True),
    }

    api.ok(upload(api, nupkg("Hello", "2.0.0"), feed_id=own["Key"]))  # the folder's own feed: only D
    assert latest_flags(api, own["Id"]) == {"D": ("1.0.0", False)}
    assert all(flag for _, flag in latest_flags(api, shared).values())
