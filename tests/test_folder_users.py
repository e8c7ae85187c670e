"""Users of folders from either side (issue 15): GetUsersForFolder (assigned and inherited roles),
GetAllRolesForUser (OData function and FoldersNavigation route), GetUserIdsForUnit, GetUsersForUnit,
OrganizationUnits SetUsers and AssignDomainUser; permissions, and bad input answered 400/404 with the
error body and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import role_id, user, user_with
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def folder(api: Api, name: str, parent: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": name, **({"ParentId": parent} if parent else {})}
    created: dict[str, Any] = api.ok(api.post("/odata/Folders", body), 201)
    return created


def assign(api: Api, user_ids: list[int], folder_id: int, roles: list[int]) -> None:
    body = {
        "assignments": {"UserIds": user_ids, "RolesPerFolder": [{"FolderId": folder_id, "RoleIds": roles}]}
    }
    api.ok(api.post(f"/odata/Folders/{NS}.AssignUsers", body), 204)


def users_for_folder(api: Api, folder_id: int, inherited: bool, **kw: Any) -> dict[str, Any]:
    flag = "true" if inherited else "false"
    url = f"/odata/Folders/{NS}.GetUsersForFolder(key={folder_id},includeInherited={flag})"
    answer: dict[str, Any] = api.ok(api.get(url, **kw))
    return answer


def test_users_of_a_folder_assigned_and_inherited(api: Api) -> None:
    top = folder(api, "Finance")
    sub = folder(api, "Payables", top["Id"])
    alice, bob = user(api, "alice"), user(api, "bob")
    admin_role, user_role = role_id(api, "Folder Administrator"), role_id(api, "Automation User")
    assign(api, [alice], top["Id"], [admin_role])
    assign(api, [bob], sub["Id"], [user_role])

    direct = users_for_folder(api, sub["Id"], inherited=False)
    assert direct["@odata.count"] == 1
    [only] = direct["value"]
    assert only["Id"] == bob and only["UserEntity"]["UserName"] == "bob"
    assert only["UserEntity"]["IsInherited"] is False and only["UserEntity"]["AssignedToFolderIds"] == [
        sub["Id"]
    ]
    assert [(r["Name"], r["Origin"], r["InheritedFromFolder"]) for r in only["Roles"]] == [
        ("Automation User", "Assigned", None)
    ]

    both = users_for_folder(api, sub["Id"], inherited=True)
    by_name = {item["UserEntity"]["UserName"]: item for item in both["value"]}
    assert set(by_name) == {"alice", "bob"} and both["@odata.count"] == 2
    alice_roles = by_name["alice"]["Roles"]
    assert by_name["alice"]["UserEntity"]["IsInherited"] is True
    assert [(r["Name"], r["Origin"], r["RoleType"]) for r in alice_roles] == [
        ("Folder Administrator", "Inherited", "Folder")
    ]
    assert alice_roles[0]["InheritedFromFolder"] == {
        "DisplayName": "Finance",
        "FullyQualifiedName": "Finance",
        "Id": top["Id"],
    }
    paged = users_for_folder(api, sub["Id"], inherited=True, params={"$top": 1, "$skip": 1})
    assert [i["UserEntity"]["UserName"] for i in paged["value"]] == ["bob"] and paged["@odata.count"] == 2
    chosen = users_for_folder(
        api, sub["Id"], inherited=True, params={"$filter": f"Id eq {bob}", "$select": "Id"}
    )
    assert chosen == {**chosen, "value": [{"Id": bob}], "@odata.count": 1}
    newest_first = users_for_folder(api, sub["Id"], inherited=True, params={"$orderby": "Id desc"})
    assert [i["Id"] for i in newest_first["value"]] == sorted([alice, bob], reverse=True)
    unfilterable = {"$filter": "UserEntity eq null"}  # an object
    assert_error(
        api.get(
            f"/odata/Folders/{NS}.GetUsersForFolder(key={sub['Id']},includeInherited=true)",
            params=unfilterable,
        ),
        400,
    )

    ids = api.ok(api.get(f"/odata/OrganizationUnits/{NS}.GetUserIdsForUnit(key={top['Id']})"))
    assert ids["value"] == [alice]
    listed = api.ok(
        api.get(f"/odata/OrganizationUnits/{NS}.GetUsersForUnit(key={sub['Id']})?$select=UserName")
    )
    assert listed["value"] == [{"UserName": "bob"}] and listed["@odata.count"] == 1

    for url in (
        f"/odata/Folders/{NS}.GetUsersForFolder(key=999999,includeInherited=true)",
        f"/odata/OrganizationUnits/{NS}.GetUserIdsForUnit(key=999999)",
        f"/odata/OrganizationUnits/{NS}.GetUsersForUnit(key=999999)",
    ):
        assert_error(api.get(url), 404)
    assert_error(api.get(f"/odata/Folders/{NS}.GetUsersForFolder(key='x',includeInherited=true)"), 400)
    assert_error(api.get(f"/odata/Folders/{NS}.GetUsersForFolder(key={sub['Id']},includeInherited=3)"), 400)

    # Folders.View in the folder is enough to read its users; nothing elsewhere, nothing without it
    reader = user_with(api, "reader", ["Folders.View"], folder=sub["Id"])
    assert users_for_folder(api, sub["Id"], inherited=False, token=reader)["@odata.count"] == 2  # reader too
    other = folder(api, "Other")
    assert_error(
        api.get(
            f"/odata/Folders/{NS}.GetUsersForFolder(key={other['Id']},includeInherited=false)", token=reader
        ),
        403,
    )


def test_all_roles_for_user(api: Api) -> None:
    top, sub = folder(api, "Sales"), folder(api, "Leads")
    carol = user(api, "carol")
    api.ok(api.post(f"/odata/Users({carol})/{NS}.AssignRoles", {"roleIds": [role_id(api, "Robot")]}), 204)
    assign(api, [carol], top["Id"], [role_id(api, "Automation User")])
    assign(api, [carol], sub["Id"], [])

    url = f"/odata/Folders/{NS}.GetAllRolesForUser(username='carol',skip=0,take=1)"
    answer = api.ok(api.get(url))
    assert answer["Id"] == carol and answer["Count"] == 2
    assert [r["Name"] for r in answer["TenantRoles"]] == ["Robot"]
    assert answer["TenantRoles"][0]["Users"][0]["UserName"] == "carol"
    [item] = answer["PageItems"]
    assert item["Folder"]["FullyQualifiedName"] == "Leads" and item["Roles"] == []

    nav = api.ok(api.get("/api/FoldersNavigation/GetAllRolesForUser?username=carol&skip=1&take=5"))
    [item] = nav["PageItems"]
    assert item["Folder"]["Id"] == top["Id"] and [r["Name"] for r in item["Roles"]] == ["Automation User"]
    searched = api.ok(api.get("/api/FoldersNavigation/GetAllRolesForUser?username=carol&searchText=Lea"))
    assert [i["Folder"]["DisplayName"] for i in searched["PageItems"]] == ["Leads"] and searched["Count"] == 1

    assert_error(api.get(f"/odata/Folders/{NS}.GetAllRolesForUser(username='nobody',skip=0,take=5)"), 404)
    assert_error(api.get("/api/FoldersNavigation/GetAllRolesForUser?username=carol&take=x"), 400)
    assert_error(api.get("/api/FoldersNavigation/GetAllRolesForUser"), 400)
    assert_error(api.get("/api/FoldersNavigation/GetAllRolesForUser?username=carol&type=DirectoryGroup"), 400)

    plain = user_with(api, "plain", [])
    assert_error(api.get("/api/FoldersNavigation/GetAllRolesForUser?username=carol", token=plain), 403)
    own = api.ok(api.get("/api/FoldersNavigation/GetAllRolesForUser?username=plain", token=plain))
    assert [r["Name"] for r in own["TenantRoles"]] == ["plain-role"] and own["Count"] == 0


def test_set_users_of_a_unit(api: Api) -> None:
    unit = folder(api, "Ops")
    dave, erin = user(api, "dave"), user(api, "erin")
    assign(api, [erin], unit["Id"], [role_id(api, "Automation User")])
    url = f"/odata/OrganizationUnits({unit['Id']})/{NS}.SetUsers"
    ids_url = f"/odata/OrganizationUnits/{NS}.GetUserIdsForUnit(key={unit['Id']})"

    for bad, status in (
        ({"addedUserIds": [dave], "removedUserIds": [dave]}, 400),
        ({"addedUserIds": [dave, 999999], "removedUserIds": [erin]}, 400),
        ({"addedUserIds": "dave"}, 400),
        ({"addedUserIds": [0]}, 400),
    ):
        assert_error(api.post(url, bad), status)
    assert_error(api.post(f"/odata/OrganizationUnits(999999)/{NS}.SetUsers", {"addedUserIds": [dave]}), 404)
    assert api.ok(api.get(ids_url))["value"] == [erin]  # nothing changed

    editor = user_with(api, "editor", ["Folders.View"])
    assert_error(api.post(url, {"addedUserIds": [dave]}, token=editor), 403)

    api.ok(api.post(url, {"addedUserIds": [dave], "removedUserIds": [erin]}), 204)
    assert api.ok(api.get(ids_url))["value"] == [dave]
    gone = users_for_folder(api, unit["Id"], inherited=False)
    assert [i["UserEntity"]["UserName"] for i in gone["value"]] == ["dave"]
    assert gone["value"][0]["Roles"] == []  # added without roles; erin's roles there went with her


def test_assign_domain_user_takes_local_users_only(api: Api) -> None:
    unit = folder(api, "Legal")
    frank = user(api, "frank")
    role = role_id(api, "Automation User")
    url = f"/odata/Folders/{NS}.AssignDomainUser"

    def body(**assignment: Any) -> dict[str, Any]:
        base = {"UserName": "frank", "RolesPerFolder": [{"FolderId": unit["Id"], "RoleIds": [role]}]}
        return {"assignment": {**base, **assignment}}

    for bad in (
        body(Domain="CORP"),
        body(UserName="ghost"),
        body(UserType="DirectoryGroup"),
        body(RolesPerFolder=[{"FolderId": unit["Id"], "RoleIds": [999999]}]),
        body(RolesPerFolder=[{"FolderId": 999999, "RoleIds": [role]}]),
        {"assignment": "frank"},
        {},
    ):
        assert_error(api.post(url, bad), 400)
    assert users_for_folder(api, unit["Id"], inherited=False)["value"] == []  # nothing changed

    viewer = user_with(api, "viewer", ["Folders.View"])
    assert_error(api.post(url, body(), token=viewer), 403)

    api.ok(api.post(url, body(Domain=None, UserType="User")), 204)
    [item] = users_for_folder(api, unit["Id"], inherited=False)["value"]
    assert item["Id"] == frank and [r["Name"] for r in item["Roles"]] == ["Automation User"]
