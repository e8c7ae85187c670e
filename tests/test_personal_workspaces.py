"""Personal workspaces: made on first use for their owner only, listed for administrators,
explored (StartExploring gives an administrator access, StopExploring takes it away), converted to a
standard folder; GetCurrentUserExtended reports the workspace and its feed."""

from __future__ import annotations

import pytest

from tests.factories import user_with
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
OWN = f"/odata/PersonalWorkspaces/{NS}.GetPersonalWorkspace"
EXTENDED = f"/odata/Users/{NS}.GetCurrentUserExtended?$expand=PersonalWorkspace"


def folder_names(api: Api, token: str | None = None) -> set[str]:
    rows = api.ok(api.get("/api/FoldersNavigation/GetAllFoldersForCurrentUser", token=token))
    return {row["FullyQualifiedName"] for row in rows}


def test_workspace_of_its_owner_explored_and_converted(api: Api) -> None:
    owner = user_with(api, "alice", ["Jobs.View"])
    assert api.ok(api.get(EXTENDED, token=owner))["PersonalWorkspace"] is None
    mine = api.ok(api.get(OWN, token=owner))
    assert mine["Name"] == "alice's workspace" and mine["OwnerName"] == "alice"
    assert mine["ExploringUserIds"] == [] and api.ok(api.get(OWN, token=owner))["Id"] == mine["Id"]  # once
    extended = api.ok(api.get(EXTENDED, token=owner))
    assert (
        extended["PersonalWorkspace"]["Id"] == mine["Id"]
        and extended["PersonalWorskpaceFeedId"] == mine["Key"]
    )
    assert "alice's workspace" in folder_names(api, owner)
    # the SDK's folders.get_personal_workspace selects the workspace alone; others select with it
    sdk_query = (
        f"/odata/Users/{NS}.GetCurrentUserExtended?$select=PersonalWorkspace&$expand=PersonalWorkspace"
    )
    selected = api.ok(api.get(sdk_query, token=owner))
    assert {k for k in selected if not k.startswith("@")} == {"PersonalWorkspace"}
    assert selected["PersonalWorkspace"]["Key"] == mine["Key"]
    both = api.ok(api.get(f"{EXTENDED}&$select=UserName,PersonalWorskpaceFeedId", token=owner))
    assert {k for k in both if not k.startswith("@")} == {"UserName", "PersonalWorskpaceFeedId"}
    assert both["UserName"] == "alice" and both["PersonalWorskpaceFeedId"] == mine["Key"]
    # the owner works in it (Folder Administrator there); others do not see it
    assert api.ok(api.get("/odata/Releases", folder=mine["Id"], token=owner))["value"] == []
    other = user_with(api, "bob", ["Jobs.View"])
    assert "alice's workspace" not in folder_names(api, other)
    assert_error(api.get("/odata/PersonalWorkspaces", token=other), 403)

    listed = api.ok(api.get("/odata/PersonalWorkspaces"))["value"]
    assert [(w["Id"], w["OwnerId"]) for w in listed] == [(mine["Id"], mine["OwnerId"])]
    assert "Shared" not in {w["Name"] for w in listed}
    base = f"/odata/PersonalWorkspaces({mine['Id']})/{NS}"
    # an administrator without a role there explores it, then stops
    admin = api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser"))["Id"]
    api.ok(api.post(f"{base}.StartExploring"), 204)
    assert_error(api.post(f"{base}.StartExploring"), 400)  # already
    assert api.ok(api.get(OWN, token=owner))["ExploringUserIds"] == [admin]
    api.ok(api.post(f"{base}.StopExploring"), 204)
    assert_error(api.post(f"{base}.StopExploring"), 400)
    assert api.ok(api.get(OWN, token=owner))["ExploringUserIds"] == []
    assert_error(api.post(f"{base}.StartExploring", token=owner), 403)  # not an administrator
    assert_error(api.post(f"/odata/PersonalWorkspaces(999999)/{NS}.StartExploring"), 404)
    shared = api.tenant.shared_folder_id
    assert_error(api.post(f"/odata/PersonalWorkspaces({shared})/{NS}.StartExploring"), 404)  # not one
    # a workspace cannot be moved; converting it needs a free, valid name
    assert_error(api.put(f"/odata/Folders({mine['Id']})/{NS}.MoveFolder?targetParentId={shared}"), 400)
    assert_error(api.post(f"{base}.ConvertToFolder", {"folderName": "Shared"}), 409)
    assert_error(api.post(f"{base}.ConvertToFolder", {"folderName": "a/b"}), 400)
    api.ok(api.post(f"{base}.StartExploring"), 204)
    api.ok(api.post(f"{base}.ConvertToFolder", {"folderName": "Alice Team"}), 204)
    assert api.ok(api.get("/odata/PersonalWorkspaces"))["value"] == []
    converted = api.ok(api.get(f"/odata/Folders({mine['Id']})"))
    assert (converted["FullyQualifiedName"], converted["FolderType"]) == ("Alice Team", "Standard")
    assert "Alice Team" in folder_names(api, owner)  # the owner keeps its role there
    assert api.ok(api.get(EXTENDED, token=owner))["PersonalWorkspace"] is None
    assert api.ok(api.get(OWN, token=owner))["Id"] != mine["Id"]  # a new one on demand
