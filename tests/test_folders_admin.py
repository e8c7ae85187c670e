"""The Folders area's administration operations: MoveFolder (and its refusals, nothing changed),
DeleteByKey, PatchNameDescription, the navigation context, and machines of folders (AssignMachines,
UpdateMachinesToFolderAssociations, RemoveMachinesFromFolder, ToggleFolderMachineInherit,
GetMachinesForFolder, GetSubfoldersWithAssignedMachine, GetMoveFolderMachinesChanges)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import user_with
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def folder(api: Api, name: str, parent: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": name}
    if parent is not None:
        body["ParentId"] = parent
    created: dict[str, Any] = api.ok(api.post("/odata/Folders", body), 201)
    return created


def paths(api: Api) -> dict[int, tuple[str, int | None]]:
    rows = api.ok(api.get("/odata/Folders"))["value"]
    return {r["Id"]: (r["FullyQualifiedName"], r["ParentId"]) for r in rows}


def test_move_folder_takes_its_subfolders_and_refuses_cycles(api: Api) -> None:
    a, b = folder(api, "A"), folder(api, "B")
    a1 = folder(api, "A1", a["Id"])
    a11 = folder(api, "A11", a1["Id"])
    before = paths(api)
    for target in (a["Id"], a1["Id"], a11["Id"]):  # itself or a descendant: 400, nothing changed
        assert_error(api.put(f"/odata/Folders({a['Id']})/{NS}.MoveFolder?targetParentId={target}"), 400)
    assert_error(api.put(f"/odata/Folders({a['Id']})/{NS}.MoveFolder?targetParentId=999999"), 400)
    assert_error(api.put(f"/odata/Folders(999999)/{NS}.MoveFolder?targetParentId={b['Id']}"), 404)
    assert_error(api.put(f"/odata/Folders({a['Id']})/{NS}.MoveFolder?targetParentId=x"), 400)
    assert paths(api) == before

    api.ok(api.put(f"/odata/Folders({a1['Id']})/{NS}.MoveFolder?targetParentId={b['Id']}"), 204)
    after = paths(api)
    assert after[a1["Id"]] == ("B/A1", b["Id"]) and after[a11["Id"]] == ("B/A1/A11", a1["Id"])
    # the folder header resolves the new path (caches forgot the old one)
    assert api.ok(api.get("/odata/Releases", folder="B/A1/A11"))["value"] == []
    assert_error(api.get("/odata/Releases", folder="A/A1/A11"), 400)
    folder(api, "A1", a["Id"])  # a name taken at the target: 409, nothing moved
    assert_error(api.put(f"/odata/Folders({a1['Id']})/{NS}.MoveFolder?targetParentId={a['Id']}"), 409)
    assert paths(api)[a11["Id"]] == ("B/A1/A11", a1["Id"])
    api.ok(api.put(f"/odata/Folders({a1['Id']})/{NS}.MoveFolder"), 204)  # to the root
    assert paths(api)[a11["Id"]] == ("A1/A11", a1["Id"])
    viewer = user_with(api, "viewer", ["Folders.View"])
    response = api.put(f"/odata/Folders({a1['Id']})/{NS}.MoveFolder?targetParentId={b['Id']}", token=viewer)
    assert_error(response, 403)


def test_patch_name_description_and_delete_by_key(api: Api) -> None:
    top = folder(api, "Top")
    child = folder(api, "Child", top["Id"])
    patched = api.client.patch(
        f"/api/Folders/PatchNameDescription?key={top['Key']}",
        json={"name": "Renamed", "description": "new text"},
        headers=api.headers(),
    )
    body = api.ok(patched)
    assert (body["DisplayName"], body["Description"], body["FullyQualifiedName"]) == (
        "Renamed",
        "new text",
        "Renamed",
    )
    assert paths(api)[child["Id"]][0] == "Renamed/Child"
    bad = api.client.patch(
        f"/api/Folders/PatchNameDescription?key={top['Key']}", json={"name": "a/b"}, headers=api.headers()
    )
    assert_error(bad, 400)
    missing = api.client.patch(
        "/api/Folders/PatchNameDescription?key=00000000-0000-0000-0000-000000000000",
        json={"name": "x"},
        headers=api.headers(),
    )
    assert_error(missing, 404)
    assert paths(api)[top["Id"]][0] == "Renamed"
    assert_error(api.delete(f"/api/Folders/DeleteByKey?key={top['Key']}"), 409)  # it has a subfolder
    api.ok(api.delete(f"/api/Folders/DeleteByKey?key={child['Key']}"), 204)
    api.ok(api.delete(f"/api/Folders/DeleteByKey?key={top['Key']}"), 204)
    assert top["Id"] not in paths(api)
    assert_error(api.delete(f"/api/Folders/DeleteByKey?key={top['Key']}"), 404)
    assert_error(api.delete("/api/Folders/DeleteByKey"), 400)


def test_navigation_context(api: Api) -> None:
    top = folder(api, "Nav")
    kids = [folder(api, f"K{n}", top["Id"]) for n in range(3)]
    folder(api, "Deep", kids[0]["Id"])
    url = "/api/FoldersNavigation/GetFolderNavigationContextForCurrentUser"
    body = api.ok(api.get(f"{url}?folderId={kids[0]['Id']}"))
    assert body["DisplayName"] == "K0" and [a["FullyQualifiedName"] for a in body["Ancestors"]] == ["Nav"]
    assert [c["DisplayName"] for c in body["ChildrenPage"]] == ["Deep"]
    page = api.ok(api.get(f"{url}?folderId={top['Id']}&skip=1&take=1"))
    assert page["ChildrenCount"] == 3 and [c["DisplayName"] for c in page["ChildrenPage"]] == ["K1"]
    assert api.ok(api.get(f"{url}?folderId={top['Id']}"))["ChildrenPage"][0]["HasChildren"] is True
    root = api.ok(api.get(url))
    assert {"Nav", "Shared"} <= {c["DisplayName"] for c in root["ChildrenPage"]}
    assert_error(api.get(f"{url}?folderId=999999"), 404)
    assert_error(api.get(f"{url}?folderId=abc"), 400)
    # a user with a role in K1 only sees K1 (not its siblings) and cannot open Nav's siblings
    token = user_with(api, "k1user", ["Jobs.View"], folder=kids[1]["Id"])
    seen = api.ok(api.get(f"{url}?folderId={top['Id']}", token=token))
    assert seen == {**seen, "ChildrenCount": 1} and seen["ChildrenPage"][0]["DisplayName"] == "K1"
    assert_error(api.get(f"{url}?folderId={kids[0]['Id']}", token=token), 404)
    assert seen["IsSelectable"] is False and seen["ChildrenPage"][0]["IsSelectable"] is True


def machine(api: Api, name: str) -> int:
    created: int = api.ok(api.post("/odata/Machines", {"Name": name}), 201)["Id"]
    return created


def test_machines_of_folders(api: Api) -> None:
    top = folder(api, "Plant")
    mid = folder(api, "Line", top["Id"])
    low = folder(api, "Cell", mid["Id"])
    m1, m2 = machine(api, "m1"), machine(api, "m2")
    assign = {"assignments": {"MachineIds": [m1, m2], "FolderIds": [top["Id"]]}}
    api.ok(api.post(f"/odata/Folders/{NS}.AssignMachines", assign), 204)
    api.ok(api.post(f"/odata/Folders/{NS}.AssignMachines", assign), 204)  # again: kept once

    def machines_of(folder_id: int) -> dict[str, dict[str, Any]]:
        url = f"/odata/Folders/{NS}.GetMachinesForFolder(key={folder_id})"
        return {m["Name"]: m for m in api.ok(api.get(url))["value"]}

    assert set(machines_of(top["Id"])) == {"m1", "m2"} and machines_of(mid["Id"]) == {}
    toggle = {"MachineId": m1, "FolderId": top["Id"], "InheritEnabled": True}
    api.ok(api.post(f"/odata/Folders/{NS}.ToggleFolderMachineInherit", toggle), 204)
    inherited = machines_of(low["Id"])
    assert set(inherited) == {"m1"}
    assert inherited["m1"]["IsInherited"] is True and inherited["m1"]["InheritedFromFolderName"] == "Plant"
    assert machines_of(top["Id"])["m1"]["PropagateToSubFolders"] is True
    # moving Line to the root: Cell would lose m1
    url = f"/odata/Folders/{NS}.GetMoveFolderMachinesChanges?folderId={mid['Id']}"
    assert api.ok(api.get(url))["value"] == [
        {
            "MachineId": m1,
            "MachineName": "m1",
            "OldMachineFolderState": "Inherited",
            "NewMachineFolderState": "NotAssigned",
        }
    ]
    # refusals: nothing changed
    for bad in (
        {"MachineId": m2, "FolderId": mid["Id"], "InheritEnabled": True},  # not assigned there
        {"MachineId": m1, "FolderId": top["Id"], "InheritEnabled": "yes"},
        {"MachineId": m1, "FolderId": 999999, "InheritEnabled": True},
    ):
        assert_error(api.post(f"/odata/Folders/{NS}.ToggleFolderMachineInherit", bad), 400)
    bad_assign = {"assignments": {"MachineIds": [m1, 999999], "FolderIds": [mid["Id"]]}}
    assert_error(api.post(f"/odata/Folders/{NS}.AssignMachines", bad_assign), 400)
    assert machines_of(mid["Id"])["m1"]["IsInherited"] is True
    # one folder's associations, then removal
    update = {"associations": {"FolderId": low["Id"], "AddedMachineIds": [m2], "RemovedMachineIds": []}}
    api.ok(api.post(f"/odata/Folders/{NS}.UpdateMachinesToFolderAssociations", update), 204)
    assert machines_of(low["Id"])["m2"]["IsAssignedToFolder"] is True
    sub_url = f"/odata/Folders/{NS}.GetSubfoldersWithAssignedMachine?rootFolderId={top['Id']}&machineId={m2}"
    assert [f["Id"] for f in api.ok(api.get(sub_url))["value"]] == [low["Id"]]
    api.ok(api.post(f"/odata/Folders({top['Id']})/{NS}.RemoveMachinesFromFolder", {"machineIds": [m1]}), 204)
    assert set(machines_of(top["Id"])) == {"m2"} and set(machines_of(low["Id"])) == {"m2"}
    viewer = user_with(api, "viewer2", ["Folders.View"])
    assert_error(api.post(f"/odata/Folders/{NS}.AssignMachines", assign, token=viewer), 403)
    nobody = user_with(api, "nobody", ["Jobs.View"])
    assert_error(api.get(f"/odata/Folders/{NS}.GetMachinesForFolder(key={top['Id']})", token=nobody), 403)
